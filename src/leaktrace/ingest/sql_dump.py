"""Read MySQL and PostgreSQL dumps: INSERT statements and COPY blocks, one table per name.

The statements are found here, on the dump's UTF-8 bytes; their rows are parsed in C
(``sql_values``). A dump can be read from a byte range that starts at a statement or at a
row of a COPY block, given what was in force there (``SqlStart``), so it can be split."""

from __future__ import annotations

import mmap
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pyarrow as pa

from leaktrace.i18n import N_
from leaktrace.ingest.files import ByteStream
from leaktrace.ingest.limits import BATCH_ROWS, HEAD, SQL_TUPLE_MAX
from leaktrace.ingest.problems import ProblemLog
from leaktrace.ingest.sniff import column_names
from leaktrace.ingest.source import Batch, Source
from leaktrace.ingest.sql_values import (
    END,
    ERROR,
    FULL,
    MORE,
    MYSQL,
    POSTGRES,
    Rows,
    copy_rows,
    insert_rows,
)
from leaktrace.ingest.textbuf import TextWindow
from leaktrace.ingest.transcode import utf8_chunks

_NAME = (
    rb"(?:`[^`]+`|\"[^\"]+\"|\[[^\]]+\]|[\w$\x80-\xff]+)"
    rb"(?:\s*\.\s*(?:`[^`]+`|\"[^\"]+\"|[\w$\x80-\xff]+))*"
)
INSERT_HEAD = re.compile(
    rb"(?:INSERT|REPLACE)\s+(?:(?:LOW_PRIORITY|DELAYED|HIGH_PRIORITY|IGNORE)\s+)*INTO\s+("
    + _NAME
    + rb")\s*(?:\(([^)]*)\)\s*)?VALUES?\b",
    re.IGNORECASE,
)
CREATE_HEAD = re.compile(
    rb"CREATE\s+(?:(?:TEMPORARY|TEMP|UNLOGGED|GLOBAL|LOCAL)\s+)*TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?("
    + _NAME
    + rb")\s*\(",
    re.IGNORECASE,
)
COPY_HEAD = re.compile(
    rb"COPY\s+(" + _NAME + rb")\s*(?:\(([^)]*)\)\s*)?FROM\s+stdin\b[^\n]*\n", re.IGNORECASE
)
_SPACE = re.compile(rb"(?:\s++|--[^\n]*+(?:\n|\Z)|#[^\n]*+(?:\n|\Z)|/\*.*?\*/|;)*+", re.DOTALL)
_STATEMENT_END = re.compile(rb";[ \t]*(?:\r?\n|\Z)")
_DEFINITION = re.compile(rb"'(?:[^'\\]|\\.|'')*'|\"[^\"]*\"|`[^`]*`|[(),]|[^'\"`(),]+", re.DOTALL)
_IDENT = re.compile(rb"\s*(`[^`]+`|\"[^\"]+\"|\[[^\]]+\]|[\w$\x80-\xff]+)")
_NOT_COLUMNS = {
    b"PRIMARY", b"KEY", b"UNIQUE", b"CONSTRAINT", b"INDEX", b"FULLTEXT", b"SPATIAL", b"CHECK",
    b"FOREIGN", b"EXCLUDE", b"LIKE", b"PERIOD",
}  # fmt: skip
_POSTGRES_HINTS = re.compile(
    rb"PostgreSQL database dump|standard_conforming_strings|\bCOPY\s+\S+.*FROM\s+stdin|pg_catalog",
    re.IGNORECASE,
)
_LOOKAHEAD = 64 << 10  # bytes kept ahead so statement heads match whole


@dataclass(frozen=True)
class SqlStart:
    """What is in force where a byte range of a dump starts: the dialect, the column names of
    the tables created before it, and the COPY block (table, columns) it starts inside."""

    dialect: int
    created: dict[str, list[str]]
    copy: tuple[str, list[str] | None] | None = None
    table_at: int | None = None  # where the table in force began, when before the range


def dialect_of(head: bytes) -> int:
    """PostgreSQL if the first HEAD bytes of the dump say so (pg_dump's banner, a COPY,
    settings), else MySQL."""
    return POSTGRES if _POSTGRES_HINTS.search(head) else MYSQL


def read_sql(source: Source, name: str, table: str) -> Iterator[Batch]:
    """Yield the rows of every table in a SQL dump; a broken statement is skipped and counted.

    Column names come from the INSERT's column list, else the table's CREATE TABLE, else
    col_N. Extended INSERTs of any length stream: tuples are parsed as the bytes arrive."""
    assert source.encoding is not None
    log = ProblemLog(name, source.problems)
    part = source.part
    stream = ByteStream(
        source.path, source.compression, log, (part.start, part.end) if part else None
    )
    first_line = part.first_line if part else 1
    try:
        text = _ByteWindow(utf8_chunks(stream, source.encoding, log, first_line), first_line)
        text.ensure(_LOOKAHEAD)
        start = part.context if part else None
        if not isinstance(start, SqlStart):
            start = SqlStart(dialect_of(text.buf[:HEAD]), {})
        yield from _Dump(text, start, log, stream).statements()
    finally:
        stream.close()
        log.finish()


class _ByteWindow(TextWindow):
    """A TextWindow over the UTF-8 bytes themselves: the C parser reads them in place."""

    newline = b"\n"  # type: ignore[assignment]

    def __init__(self, chunks: Iterator[bytes], first_line: int) -> None:
        super().__init__(chunks)
        self.buf = b""  # type: ignore[assignment]
        self._base_line = self._line_no = first_line

    def decode(self, chunk: bytes) -> bytes:  # type: ignore[override]
        return chunk


class _Dump:
    """The statement loop: INSERT, COPY and CREATE TABLE are read, any other statement skipped."""

    def __init__(self, text: _ByteWindow, start: SqlStart, log: ProblemLog, stream: ByteStream):
        self.text = text
        self.dialect = start.dialect
        self.log = log
        self.stream = stream
        self.start = start
        self.created: dict[str, list[str]] = dict(start.created)
        self.pending: dict[str, tuple[list[str], list[pa.RecordBatch]]] = {}
        self.pending_rows: dict[str, int] = {}
        self.next_row: dict[str, int] = {}

    def statements(self) -> Iterator[Batch]:
        text = self.text
        if self.start.copy is not None:  # the range starts among a COPY block's rows
            yield from self._copy(*self.start.copy)
        while True:
            text.skip(_SPACE)
            text.ensure(_LOOKAHEAD)
            if text.pos >= len(text.buf):
                break
            if m := INSERT_HEAD.match(text.buf, text.pos):
                yield from self._insert(m)
            elif m := COPY_HEAD.match(text.buf, text.pos):
                text.pos = m.end()
                yield from self._copy(unquote(m.group(1)), column_list(m.group(2)))
            elif m := CREATE_HEAD.match(text.buf, text.pos):
                self._create(m)
            elif text.buf[text.pos : text.pos + 1] == b"\\":  # a psql meta-command: \connect
                self._skip_line()
            else:
                self._skip_statement()
        yield from self._flush_all()

    def _insert(self, m: re.Match[bytes]) -> Iterator[Batch]:
        text = self.text
        table = unquote(m.group(1))
        columns = column_list(m.group(2)) or self.created.get(table)
        head = m.group(0)
        stmt = text.pos
        stmt_line = text.line(stmt)
        width = len(columns) if columns else -1
        text.pos = m.end()
        while True:
            rows = insert_rows(
                text.buf,
                text.pos,
                self.dialect,
                head=head,
                width=width,
                fixed=columns is not None,
                stmt=stmt,
                max_rows=BATCH_ROWS - self.pending_rows.get(table, 0),
                final=text.eof,
            )
            if rows.stmt != stmt and rows.stmt >= 0:
                stmt, stmt_line = rows.stmt, text.line(rows.stmt)
            yield from self._rows(table, columns, rows)
            width = rows.width if columns or rows.count else width
            text.pos = rows.pos
            if rows.state == FULL:
                continue
            if rows.state == MORE and len(text.buf) - text.pos < SQL_TUPLE_MAX:
                if stmt >= 0:
                    stmt_line = text.line(stmt)
                stmt = -1  # the window drops what is before pos
                text.more()  # at the end of the input, the next parse is final
                continue
            if rows.state in (ERROR, MORE):
                self.log.add(
                    "sql",
                    f"{self.log.name} line {text.line(text.pos)} "
                    f"(INSERT into {table} from line {stmt_line})",
                    N_("a VALUES tuple; rest of the statement skipped"),
                    rows_skipped=1,
                )
            if rows.state != END:
                self._skip_statement()
            return

    def _copy(self, table: str, columns: list[str] | None) -> Iterator[Batch]:
        text = self.text
        columns = columns or self.created.get(table)
        width = len(columns) if columns else -1
        while True:
            rows = copy_rows(
                text.buf,
                text.pos,
                width=width,
                max_rows=BATCH_ROWS - self.pending_rows.get(table, 0),
                final=text.eof,
            )
            yield from self._rows(table, columns, rows)
            width = rows.width if columns or rows.count else width
            text.pos = rows.pos
            if rows.state in (END, FULL):
                if rows.state == END:
                    return
                continue
            if len(text.buf) - text.pos > SQL_TUPLE_MAX:
                self.log.add(
                    "sql",
                    f"{self.log.name} line {text.line(text.pos)} (COPY {table})",
                    N_("COPY rows under {limit} MB; row skipped"),
                    rows_skipped=1,
                    limit=SQL_TUPLE_MAX >> 20,
                )
                self._skip_line()
                continue
            if not text.more():
                if text.pos < len(text.buf):
                    self.log.add(
                        "sql",
                        f"{self.log.name} line {text.line(text.pos)} (COPY {table})",
                        N_("a COPY block ended by a line '\\.'; the file ends inside it"),
                        rows_skipped=1,
                    )
                text.pos = len(text.buf)
                return

    def _create(self, m: re.Match[bytes]) -> None:
        """Remember a table's column names; the statement must fit in the size cap."""
        text = self.text
        table = unquote(m.group(1))
        body_start = m.end()
        while (end := create_body_end(text.buf, body_start)) is None:
            if len(text.buf) - text.pos > SQL_TUPLE_MAX or not text.more():
                break
            body_start = text.pos + (m.end() - m.start())
        if end is not None:
            self.created[table] = definition_names(text.buf[body_start:end])
            text.pos = end + 1
        self._skip_statement()

    def _rows(self, table: str, columns: list[str] | None, rows: Rows) -> Iterator[Batch]:
        """Count the rows left out for their width; hold the rest for the table's next batch."""
        text = self.text
        for offset, found in rows.bad:
            self.log.add(
                "sql",
                f"{self.log.name} line {text.line(offset)} (table {table})",
                N_("{width} values, found {found}; row skipped")
                if found >= 0
                else N_("a VALUES tuple; this one skipped, the statement read on"),
                rows_skipped=1,
                width=rows.width,
                found=found,
            )
        if not rows.count:
            return
        names = columns or column_names([], rows.width)
        held = self.pending.get(table)
        if held is not None and held[0] != names:
            yield from self._flush(table)
            held = None
        if held is None:
            held = self.pending[table] = (names, [])
        held[1].append(pa.record_batch(rows.columns, names=names))
        self.pending_rows[table] = self.pending_rows.get(table, 0) + rows.count
        if self.pending_rows[table] >= BATCH_ROWS:
            yield from self._flush(table)
        elif sum(self.pending_rows.values()) >= 2 * BATCH_ROWS:
            yield from self._flush_all()

    def _flush(self, table: str) -> Iterator[Batch]:
        held = self.pending.pop(table, None)
        count = self.pending_rows.pop(table, 0)
        if not held or not count:
            return
        data = held[1][0] if len(held[1]) == 1 else pa.concat_batches(held[1])
        first = self.next_row.get(table, 1)
        self.next_row[table] = first + count
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
        while (end := text.buf.find(b"\n", text.pos)) < 0:
            text.pos = len(text.buf)
            if not text.more():
                return
        text.pos = end + 1


def create_body_end(buf: bytes | mmap.mmap, body_start: int, stop: int = -1) -> int | None:
    """The offset of the ')' that closes a CREATE TABLE's definitions (before ``stop``), or None
    if it is not in ``buf``."""
    depth = 1
    for tok in _DEFINITION.finditer(buf, body_start, stop if stop >= 0 else len(buf)):
        t = tok.group(0)
        depth += (t == b"(") - (t == b")")
        if depth == 0:
            return tok.start()
    return None


def definition_names(body: bytes) -> list[str]:
    """Column names from the inside of CREATE TABLE ( … ): the first word of each definition."""
    parts: list[bytes] = []
    depth, current = 0, []
    for tok in _DEFINITION.finditer(body):
        t = tok.group(0)
        if t == b"," and depth == 0:
            parts.append(b"".join(current))
            current = []
            continue
        depth += (t == b"(") - (t == b")")
        current.append(t)
    parts.append(b"".join(current))
    names = []
    for part in parts:
        m = _IDENT.match(part)
        if m and (m.group(1)[:1] in (b"`", b'"', b"[") or m.group(1).upper() not in _NOT_COLUMNS):
            names.append(unquote(m.group(1)))
    return names


def column_list(names: bytes | None) -> list[str] | None:
    """The names of an INSERT's or COPY's column list, or None without one."""
    return [unquote(c) for c in names.split(b",")] if names else None


def unquote(name: bytes) -> str:
    """`db`.`t` -> db.t; "public"."users" -> public.users; surrounding spaces dropped."""
    parts = re.findall(
        r"`([^`]+)`|\"([^\"]+)\"|\[([^\]]+)\]|([^\s.`\"\[\]]+)", name.decode("utf-8", "replace")
    )
    return ".".join(next(p for p in groups if p) for groups in parts)
