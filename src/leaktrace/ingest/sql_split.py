"""Cut a SQL dump into byte ranges that start at a statement (an INSERT or COPY line after a
line ending in ';') or at a row of a COPY block, each told what is in force there (dialect,
CREATE TABLE columns, the open COPY block), so that each range can be read by its own process.

The places are found with a few searches of the mapped file, not by parsing it. A dump
without such places (one huge statement, statements that do not end their lines) is left
whole, and is read in one process as before."""

from __future__ import annotations

import dataclasses
import mmap
import re
from collections.abc import Iterator

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
_COPY_LINE = (b"\nCOPY ", b"\ncopy ")
_CREATE_WORD = (b"CREATE", b"create")
_STEP = 16 << 20  # bytes counted at a time


@dataclasses.dataclass(frozen=True)
class _Start:
    offset: int
    copy: tuple[str, list[str] | None] | None  # the COPY block the range starts inside
    table_at: int | None  # where the table in force began, if before the range


def split_sql(source: Source, parts: int) -> list[Source]:
    """``source`` cut into about ``parts`` ranges; fewer (or one) where no place to cut is found."""
    with open(source.path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        size = len(mm)
        encoding = source.encoding or "utf-8"
        dialect = dialect_of(mm[:HEAD])
        starts = [_Start(0, None, None)]
        for i in range(1, parts):
            found = _start_after(mm, max(size * i // parts, starts[-1].offset + 1), encoding)
            if found is not None and found.offset < size:
                starts.append(found)
        created = _creates(mm, starts[-1].offset, encoding)
        lines = _lines_before(mm, [s.offset for s in starts])
    out = []
    ends = [s.offset for s in starts[1:]] + [size]
    for start, end, line in zip(starts, ends, lines, strict=True):
        tables = {t: cols for at, t, cols in created if at < start.offset}
        context = SqlStart(dialect, tables, start.copy, start.table_at)
        part = Part(start.offset, end, first_line=line + 1, first_row=1, context=context)
        out.append(dataclasses.replace(source, problems=[], part=part))
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


def _start_after(mm: mmap.mmap, target: int, encoding: str) -> _Start | None:
    """The first place at or after ``target`` where a range can start, or None."""
    copy = _open_copy(mm, target)
    if copy is not None:
        head, m = copy
        if target <= m.end():
            return _Start(head, None, None)
        row = target if mm[target - 1] == 0x0A else mm.find(b"\n", target) + 1
        if row <= 0:
            return None
        cols = column_list(_utf8(m.group(2), encoding))
        return _Start(row, (unquote(_utf8(m.group(1), encoding)), cols), head)
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


def _open_copy(mm: mmap.mmap, target: int) -> tuple[int, re.Match[bytes]] | None:
    """The COPY statement whose block is still open at ``target`` (its offset and head)."""
    head = max(mm.rfind(word, 0, target) for word in _COPY_LINE) + 1
    if head == 0 and mm[:5] not in (b"COPY ", b"copy "):
        return None
    end = target
    while (end := mm.rfind(b"\n\\.", head, end)) >= 0:  # a '\\.' line after it closes it
        after = mm[end + 3 : end + 5]
        if after[:1] == b"\n" or after == b"\r\n" or end + 3 >= len(mm):
            return None
    m = COPY_HEAD.match(mm, head)
    return (head, m) if m else None


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


def _creates(mm: mmap.mmap, upto: int, encoding: str) -> list[tuple[int, str, list[str]]]:
    """The CREATE TABLE statements that start a line before ``upto``: offset, table, columns."""
    out = []
    for word in _CREATE_WORD:
        pos = 0
        while 0 <= (pos := mm.find(word, pos, upto)):
            at, pos = pos, pos + len(word)
            if at and mm[at - 1] != 0x0A or not (m := CREATE_HEAD.match(mm, at)):
                continue
            end = create_body_end(mm, m.end(), m.end() + SQL_TUPLE_MAX)
            if end is not None:
                body = _utf8(mm[m.end() : end], encoding)
                out.append((at, unquote(_utf8(m.group(1), encoding)), definition_names(body)))
    return sorted(out)


def _lines_before(mm: mmap.mmap, offsets: list[int]) -> list[int]:
    """The number of newlines before each of ``offsets`` (ascending)."""
    out, pos, lines = [], 0, 0
    for offset in offsets:
        while pos < offset:
            stop = min(offset, pos + _STEP)
            lines += mm[pos:stop].count(b"\n")
            pos = stop
        out.append(lines)
    return out


def _utf8(raw: bytes | None, encoding: str) -> bytes | None:
    """Names found in the file's bytes, as the reader sees them (it reads UTF-8)."""
    if raw is None or encoding in ("utf-8", "utf-8-sig", "ascii"):
        return raw
    return raw.decode(encoding, "replace").encode()
