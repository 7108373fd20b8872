"""Cut a SQL dump into byte ranges that start at a statement (an INSERT or COPY line after a
line ending in ';') or at a row of a COPY block, each told what is in force there (dialect,
CREATE TABLE columns, the open COPY block), so that each range can be read by its own process.

The places are found without parsing: one pass in C over the mapped file's lines, and a
search from each target for the next statement. A dump without such places (one huge
statement, statements that do not end their lines) is left whole and read in one process.
The ranges number each table's rows from 1; the scan adds the rows of the ranges before."""

from __future__ import annotations

import dataclasses
import mmap
import re
from collections.abc import Iterator

from leaktrace.ingest import _sql
from leaktrace.ingest.files import release_pages
from leaktrace.ingest.limits import HEAD, SQL_TUPLE_MAX
from leaktrace.ingest.source import Batch, Part, Source
from leaktrace.ingest.sql_dump import (
    COPY_HEAD,
    CREATE_HEAD,
    INSERT_HEAD,
    SqlStart,
    column_list,
    create_body_end,
    definition_names,
    dialect_of,
    unquote,
)

_STATEMENT = re.compile(rb"\n(?=(?:INSERT|REPLACE|COPY|insert|replace|copy)\s)")
_HEADS = (b"COPY ", b"copy ", b"\\.", b"CREATE", b"create")  # the lines _Survey notes


@dataclasses.dataclass(frozen=True)
class _Start:
    offset: int
    copy: tuple[str, list[str] | None] | None  # the COPY block the range starts inside
    table_at: int | None  # where the table in force began, if before the range


def split_sql(source: Source, parts: int) -> list[Source]:
    """``source`` cut into about ``parts`` ranges; fewer (or one) where no place to cut is found."""
    encoding = source.encoding or "utf-8"
    with open(source.path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        size = len(mm)
        dialect = dialect_of(_utf8(mm[:HEAD], encoding) or b"")
        survey = _Survey(mm)
        starts, lines = [_Start(0, None, None)], [0]
        for i in range(1, parts):
            target = max(size * i // parts, starts[-1].offset + 1)
            if target >= size:
                break
            survey.upto(target)
            found = _start_after(mm, target, survey, encoding)
            if found is None or found.offset >= size:
                break
            survey.upto(found.offset)
            starts.append(found)
            lines.append(survey.newlines)
        created = survey.created(encoding)
    out = []
    ends = [s.offset for s in starts[1:]] + [size]
    for start, end, line in zip(starts, ends, lines, strict=True):
        tables = {t: cols for at, t, cols in created if at < start.offset}
        context = SqlStart(dialect, tables, start.copy, start.table_at)
        part = Part(start.offset, end, first_line=line + 1, first_row=1, context=context)
        out.append(dataclasses.replace(source, problems=[], part=part))
    return out


class _Survey:
    """One pass over the dump from its start, in steps: newlines counted, and the lines that
    open a COPY block, close one (``\\.``) or create a table noted (in C, at memchr speed)."""

    def __init__(self, mm: mmap.mmap) -> None:
        self.mm = mm
        self.pos = 0
        self.newlines = 0
        self.copy = -1  # the last COPY line
        self.copy_end = -1  # the last line '\\.'
        self.creates: list[int] = []

    def upto(self, stop: int) -> None:
        count, heads = _sql.lines(self.mm, self.pos, stop, _HEADS)
        self.newlines += count
        release_pages(self.mm, self.pos, stop)
        for at, kind in heads:
            if kind <= 1:
                self.copy = at
            elif kind == 2:
                if self.mm[at + 2 : at + 3] in (b"\n", b"") or self.mm[at + 2 : at + 4] == b"\r\n":
                    self.copy_end = at
            else:
                self.creates.append(at)
        self.pos = max(self.pos, stop)

    def created(self, encoding: str) -> list[tuple[int, str, list[str]]]:
        """The CREATE TABLE statements seen: offset, table, column names."""
        out = []
        for at in self.creates:
            if m := CREATE_HEAD.match(self.mm, at):
                end = create_body_end(self.mm, m.end(), m.end() + SQL_TUPLE_MAX)
                if end is not None:
                    body = _utf8(self.mm[m.end() : end], encoding)
                    out.append((at, unquote(_utf8(m.group(1), encoding)), definition_names(body)))
        return out


def first_batches(parts: list[Source]) -> Iterator[Batch]:
    """For each table a range starts inside, its first batch, read from where the table began
    (the rows a scan in one process types the table by)."""
    seen: set[int] = set()
    for src in parts:
        assert src.part is not None
        start = src.part.context
        if not isinstance(start, SqlStart) or start.table_at is None or start.table_at in seen:
            continue
        seen.add(start.table_at)
        context = dataclasses.replace(start, copy=None, table_at=None)
        part = Part(start.table_at, src.part.end, 1, 1, context)
        batches = dataclasses.replace(src, problems=[], part=part).batches()
        try:
            first = next(batches, None)
        finally:
            batches.close()  # type: ignore[attr-defined]
        if first is not None:
            yield first


def _start_after(mm: mmap.mmap, target: int, survey: _Survey, encoding: str) -> _Start | None:
    """The first place at or after ``target`` where a range can start, or None; ``survey``
    has seen the lines before ``target``."""
    if survey.copy > survey.copy_end and (m := COPY_HEAD.match(mm, survey.copy)):
        if target <= m.end():
            return _Start(survey.copy, None, None)
        row = target if mm[target - 1] == 0x0A else mm.find(b"\n", target) + 1
        if row <= 0:
            return None
        cols = column_list(_utf8(m.group(2), encoding))
        return _Start(row, (unquote(_utf8(m.group(1), encoding)), cols), survey.copy)
    pos = target - 1
    while (m := _STATEMENT.search(mm, pos)) is not None:
        at = pos = m.end()
        if not _ends_statement(mm, m.start()):
            continue
        if COPY_HEAD.match(mm, at):
            return _Start(at, None, None)
        if head := INSERT_HEAD.match(mm, at):
            first = _first_line_with(mm, head.group(0), at)
            return _Start(at, None, first if first < at else None)
    return None


def _ends_statement(mm: mmap.mmap, newline: int) -> bool:
    """Whether the line ending at ``newline`` ends a statement (';', then spaces or a CR)."""
    i = newline - 1
    while i >= 0 and mm[i] in b" \t\r":
        i -= 1
    return i >= 0 and mm[i] == 0x3B


def _first_line_with(mm: mmap.mmap, head: bytes, before: int) -> int:
    """The offset of the first line that starts with ``head`` (``before`` if none does)."""
    if mm[: len(head)] == head:
        return 0
    found = mm.find(b"\n" + head, 0, before)
    return found + 1 if found >= 0 else before


def _utf8(raw: bytes | None, encoding: str) -> bytes | None:
    """Names found in the file's bytes, as the reader sees them (it reads UTF-8)."""
    if raw is None or encoding in ("utf-8", "utf-8-sig", "ascii"):
        return raw
    return raw.decode(encoding, "replace").encode()
