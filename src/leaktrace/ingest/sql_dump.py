"""Read MySQL and PostgreSQL dumps: INSERT statements and COPY blocks, one table per name."""

from __future__ import annotations

import re
from collections.abc import Iterator

from leaktrace.ingest.files import ByteStream
from leaktrace.ingest.limits import BATCH_ROWS, SQL_TUPLE_MAX
from leaktrace.ingest.problems import ProblemLog
from leaktrace.ingest.sniff import column_names
from leaktrace.ingest.source import Batch, Source, string_batch
from leaktrace.ingest.sql_values import MYSQL, POSTGRES, Row, SqlDialect, copy_row, scan_tuples
from leaktrace.ingest.textbuf import TextWindow
from leaktrace.ingest.transcode import utf8_chunks

_NAME = r"(?:`[^`]+`|\"[^\"]+\"|\[[^\]]+\]|[\w$]+)(?:\s*\.\s*(?:`[^`]+`|\"[^\"]+\"|[\w$]+))*"
_INSERT = re.compile(
    rf"(?:INSERT|REPLACE)\s+(?:(?:LOW_PRIORITY|DELAYED|HIGH_PRIORITY|IGNORE)\s+)*INTO\s+({_NAME})"
    r"\s*(?:\(([^)]*)\)\s*)?VALUES?\b",
    re.IGNORECASE,
)
_CREATE = re.compile(
    rf"CREATE\s+(?:(?:TEMPORARY|TEMP|UNLOGGED|GLOBAL|LOCAL)\s+)*TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?"
    rf"({_NAME})\s*\(",
    re.IGNORECASE,
)
_COPY = re.compile(rf"COPY\s+({_NAME})\s*(?:\(([^)]*)\)\s*)?FROM\s+stdin\b[^\n]*\n", re.IGNORECASE)
_SPACE = re.compile(r"(?:\s++|--[^\n]*+(?:\n|\Z)|#[^\n]*+(?:\n|\Z)|/\*.*?\*/|;)*+", re.DOTALL)
_STATEMENT_END = re.compile(r";[ \t]*(?:\r?\n|\Z)")
_COPY_END = re.compile(r"^\\\.\r?$", re.MULTILINE)
_DEFINITION = re.compile(r"'(?:[^'\\]|\\.|'')*'|\"[^\"]*\"|`[^`]*`|[(),]|[^'\"`(),]+", re.DOTALL)
_IDENT = re.compile(r"\s*(`[^`]+`|\"[^\"]+\"|\[[^\]]+\]|[\w$]+)")
_NOT_COLUMNS = {
    "PRIMARY", "KEY", "UNIQUE", "CONSTRAINT", "INDEX", "FULLTEXT", "SPATIAL", "CHECK",
    "FOREIGN", "EXCLUDE", "LIKE", "PERIOD",
}  # fmt: skip
_POSTGRES_HINTS = re.compile(
    r"PostgreSQL database dump|standard_conforming_strings|\bCOPY\s+\S+.*FROM\s+stdin|pg_catalog",
    re.IGNORECASE,
)
_LOOKAHEAD = 64 << 10  # characters kept ahead so statement heads match whole


def read_sql(source: Source, name: str, table: str) -> Iterator[Batch]:
    """Yield the rows of every table in a SQL dump; a broken statement is skipped and counted.

    Column names come from the INSERT's column list, else the table's CREATE TABLE, else
    col_N. Extended INSERTs of any length stream: tuples are parsed as the text arrives."""
    assert source.encoding is not None
    log = ProblemLog(name, source.problems)
    stream = ByteStream(source.path, source.compression, log)
    try:
        text = TextWindow(utf8_chunks(stream, source.encoding, log))
        text.ensure(_LOOKAHEAD)
        dialect = POSTGRES if _POSTGRES_HINTS.search(text.buf) else MYSQL
        yield from _Dump(text, dialect, log, stream).statements()
    finally:
        stream.close()
        log.finish()


class _Dump:
    """The statement loop: INSERT, COPY and CREATE TABLE are read, any other statement skipped."""

    def __init__(self, text: TextWindow, dialect: SqlDialect, log: ProblemLog, stream: ByteStream):
        self.text = text
        self.dialect = dialect
        self.log = log
        self.stream = stream
        self.created: dict[str, list[str]] = {}  # table -> columns from CREATE TABLE
        self.pending: dict[str, tuple[list[str], list[Row]]] = {}
        self.pending_rows = 0
        self.next_row: dict[str, int] = {}

    def statements(self) -> Iterator[Batch]:
        text = self.text
        while True:
            text.skip(_SPACE)
            text.ensure(_LOOKAHEAD)
            if text.pos >= len(text.buf):
                break
            if m := _INSERT.match(text.buf, text.pos):
                yield from self._insert(m)
            elif m := _COPY.match(text.buf, text.pos):
                yield from self._copy(m)
            elif m := _CREATE.match(text.buf, text.pos):
                self._create(m)
            elif text.peek() == "\\":  # a psql meta-command such as \connect
                self._skip_line()
            else:
                self._skip_statement()
        yield from self._flush_all()

    def _insert(self, m: re.Match[str]) -> Iterator[Batch]:
        text = self.text
        table = _unquote(m.group(1))
        line = text.line(text.pos)
        listed = [_unquote(c) for c in m.group(2).split(",")] if m.group(2) else None
        columns = listed or self.created.get(table)
        text.pos = m.end()
        while True:
            rows, text.pos, state = scan_tuples(text.buf, text.pos, self.dialect, text.eof)
            for row in rows:
                columns = columns or column_names([], len(row))
                yield from self._add(table, columns, row, line)
            if state == "more" and len(text.buf) - text.pos < SQL_TUPLE_MAX:
                text.more()  # at the end of the input, the next scan is final
                continue
            if state in ("error", "more"):
                self.log.add(
                    "sql",
                    f"{self.log.name} line {text.line(text.pos)} (INSERT into {table} from line {line})",
                    "a VALUES tuple; rest of the statement skipped",
                    rows_skipped=1,
                )
            if state != "end":
                self._skip_statement()
            return

    def _copy(self, m: re.Match[str]) -> Iterator[Batch]:
        text = self.text
        table = _unquote(m.group(1))
        columns = [_unquote(c) for c in m.group(2).split(",")] if m.group(2) else None
        columns = columns or self.created.get(table)
        text.pos = m.end()
        while True:
            end = _COPY_END.search(text.buf, text.pos)
            stop = end.start() if end else text.buf.rfind("\n", text.pos) + 1
            first_line = text.line(text.pos)
            block = text.buf[text.pos : stop]
            for i, line in enumerate(block.split("\n")[:-1] if block else []):
                row = copy_row(line.removesuffix("\r"))
                columns = columns or column_names([], len(row))
                yield from self._add(table, columns, row, first_line + i)
            if end:
                text.pos = end.end()
                return
            text.pos = max(stop, text.pos)
            if len(text.buf) - text.pos > SQL_TUPLE_MAX:
                self.log.add(
                    "sql",
                    f"{self.log.name} line {text.line(text.pos)} (COPY {table})",
                    f"COPY rows under {SQL_TUPLE_MAX >> 20} MB; row skipped",
                    rows_skipped=1,
                )
                self._skip_line()
                continue
            if not text.more():
                if text.pos < len(text.buf):
                    self.log.add(
                        "sql",
                        f"{self.log.name} line {text.line(text.pos)} (COPY {table})",
                        "a COPY block ended by a line '\\.'; the file ends inside it",
                        rows_skipped=1,
                    )
                text.pos = len(text.buf)
                return

    def _create(self, m: re.Match[str]) -> None:
        """Remember a table's column names; the statement must fit in the size cap."""
        text = self.text
        table = _unquote(m.group(1))
        body_start = m.end()
        depth, end = 1, None
        while end is None:
            for tok in _DEFINITION.finditer(text.buf, body_start):
                t = tok.group(0)
                depth += (t == "(") - (t == ")")
                if depth == 0:
                    end = tok.start()
                    break
            if end is None:
                if len(text.buf) - text.pos > SQL_TUPLE_MAX or not text.more():
                    break
                body_start, depth = text.pos + (m.end() - m.start()), 1
        if end is not None:
            self.created[table] = _definition_names(text.buf[body_start:end])
            text.pos = end + 1
        self._skip_statement()

    def _add(self, table: str, columns: list[str], row: Row, line: int) -> Iterator[Batch]:
        if len(row) != len(columns):
            self.log.add(
                "sql",
                f"{self.log.name} line {line} (table {table})",
                f"{len(columns)} values, found {len(row)}; row skipped",
                rows_skipped=1,
            )
            return
        held = self.pending.get(table)
        if held is not None and held[0] != columns:
            yield from self._flush(table)
            held = None
        if held is None:
            held = self.pending[table] = (columns, [])
        held[1].append(row)
        self.pending_rows += 1
        if len(held[1]) >= BATCH_ROWS:
            yield from self._flush(table)
        elif self.pending_rows >= 2 * BATCH_ROWS:
            yield from self._flush_all()

    def _flush(self, table: str) -> Iterator[Batch]:
        held = self.pending.pop(table, None)
        if not held or not held[1]:
            return
        columns, rows = held
        self.pending_rows -= len(rows)
        data = string_batch(
            {c: list(v) for c, v in zip(columns, zip(*rows, strict=False), strict=True)}
        )
        first = self.next_row.get(table, 1)
        self.next_row[table] = first + len(rows)
        yield Batch(table, data, first, self.stream.bytes_done)

    def _flush_all(self) -> Iterator[Batch]:
        for table in list(self.pending):
            yield from self._flush(table)

    def _skip_statement(self) -> None:
        """Move past the next ';' at a line end (or to the end of the input)."""
        text = self.text
        while True:
            end = _STATEMENT_END.search(text.buf, text.pos)
            if end:
                text.pos = end.end()
                return
            text.pos = max(text.pos, len(text.buf) - 8)
            if not text.more():
                text.pos = len(text.buf)
                return

    def _skip_line(self) -> None:
        text = self.text
        while (end := text.buf.find("\n", text.pos)) < 0:
            text.pos = len(text.buf)
            if not text.more():
                return
        text.pos = end + 1


def _definition_names(body: str) -> list[str]:
    """Column names from the inside of CREATE TABLE ( … ): the first word of each definition."""
    parts, depth, current = [], 0, []
    for tok in _DEFINITION.finditer(body):
        t = tok.group(0)
        if t == "," and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        depth += (t == "(") - (t == ")")
        current.append(t)
    parts.append("".join(current))
    names = []
    for part in parts:
        m = _IDENT.match(part)
        if m and (m.group(1)[0] in '`"[' or m.group(1).upper() not in _NOT_COLUMNS):
            names.append(_unquote(m.group(1)))
    return names


def _unquote(name: str) -> str:
    """`db`.`t` -> db.t; "public"."users" -> public.users; surrounding spaces dropped."""
    parts = re.findall(r"`([^`]+)`|\"([^\"]+)\"|\[([^\]]+)\]|([^\s.`\"\[\]]+)", name)
    return ".".join(next(p for p in groups if p) for groups in parts)
