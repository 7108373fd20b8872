"""Cut a large plain file into byte ranges that start and end between rows, so that each can be
read (and scanned) by its own process."""

from __future__ import annotations

import dataclasses
import mmap
import re

import numpy as np

from leaktrace.ingest.files import release_pages
from leaktrace.ingest.quote_rows import Layout, layout_of, resync, settle
from leaktrace.ingest.source import Part, Source
from leaktrace.ingest.sql_split import split_sql

# Encodings in which a newline or a double quote byte is always that character (never part of
# a multi-byte one): UTF-8 and the GB family.
_BYTE_SAFE = {"utf-8", "utf-8-sig", "ascii", "gb18030"}
_FORMATS = {"csv", "tsv", "text", "sql"}
_STEP = 16 << 20  # bytes counted at a time
_RESYNC_SPANS = (1 << 20, 4 << 20)  # bytes before a target searched for a certain row start


def splittable(source: Source) -> bool:
    """Whether ``source`` can be read in byte ranges: an uncompressed CSV, TSV, plain text or
    SQL dump in an encoding where newlines and quotes are single bytes."""
    return (
        source.format in _FORMATS
        and source.encoding in _BYTE_SAFE
        and source.part is None
        and source.compression is None
    )


def row_starts(
    path: str, targets: list[int], quoted: bool, layout: Layout = Layout()
) -> list[tuple[int, int]]:
    """For each target offset (ascending), the first row start at or after it, with the number
    of newlines before that start: ``(offset, lines_before)``.

    A row starts after a newline; with ``quoted``, only after a row as ``quote_rows.settle``
    groups lines, counted from the file's start: a newline inside a quoted field does not end
    the row, and a quote that never closes is an ordinary character, as the reader takes it."""
    out: list[tuple[int, int]] = []
    with open(path, "rb") as f:
        size = f.seek(0, 2)
        if size == 0:
            return [(0, 0) for _ in targets]
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            pos = lines = 0  # a row start, and the newlines before it
            for target in targets:
                target = min(max(target, 0), size)
                near = _certain_start(mm, pos, target, quoted, layout)
                lines += _count_lines(mm, pos, near)
                pos, lines = _next_row_start(mm, size, near, lines, target, quoted, layout)
                out.append((pos, lines))
    return out


def _count_lines(mm: mmap.mmap, start: int, stop: int) -> int:
    """The newlines in ``mm[start:stop]``, read a step at a time and released after."""
    lines = 0
    for i in range(start, stop, _STEP):
        end = min(i + _STEP, stop)
        lines += mm[i:end].count(b"\n")
        release_pages(mm, i, end)
    return lines


def _certain_start(mm: mmap.mmap, pos: int, target: int, quoted: bool, layout: Layout) -> int:
    """A row start at or before ``target`` and at or after the row start ``pos``, found near
    the target where the lines before it leave no doubt (``quote_rows.resync``), so the file
    is not walked from its start (else ``pos``, to walk from)."""
    if not quoted:
        return max(pos, mm.rfind(b"\n", pos, target) + 1)
    for span in _RESYNC_SPANS:
        lo = max(pos, target - span)
        if lo > pos:  # from a line start
            lo = mm.find(b"\n", lo, target) + 1 or target
        found = resync(mm[lo:target], layout)
        if found is not None:
            return lo + found
        if lo == pos:
            break
    return pos


def _next_row_start(
    mm: mmap.mmap, size: int, pos: int, lines: int, target: int, quoted: bool, layout: Layout
) -> tuple[int, int]:
    """The first row start at or after ``target``, walking on from the row start ``pos``."""
    step = _STEP
    while pos < target:
        stop = min(size, pos + step)
        final = stop == size
        data = mm[pos:stop]
        release_pages(mm, pos, stop)
        if not final:
            data = data[: data.rfind(b"\n") + 1]
        rows = settle(data, final, quoted, layout)
        if rows.done == 0 and not final:  # no row settled yet: look further
            step *= 2
            continue
        offsets = np.concatenate(([0], rows.ends[: rows.done]))
        begins = np.append(rows.starts(), rows.done)  # the line after the last settled row too
        after = np.flatnonzero(pos + offsets[begins] >= target)
        if after.size:
            line = int(begins[after[0]])
            return pos + int(offsets[line]), lines + line
        pos, lines = pos + int(offsets[rows.done]), lines + rows.done
        step = _STEP
    return pos, lines


def split(source: Source, parts: int) -> list[Source]:
    """``source`` cut into about ``parts`` ranges of whole rows (fewer when rows are long).
    A CSV's quoting and header come from its sniffed dialect."""
    if source.format == "sql":
        return split_sql(source, parts)
    size = source.size
    skip_lines = source.dialect.skip_lines if source.dialect else 0
    dialect = source.dialect
    quoted = bool(dialect and dialect.quoted)
    layout = (
        layout_of(dialect.delimiter, len(dialect.names), source.encoding) if dialect else Layout()
    )
    targets = [size * i // parts for i in range(1, parts)]
    starts = [(0, 0), *row_starts(str(source.path), targets, quoted, layout), (size, -1)]
    out = []
    for (start, before), (end, _) in zip(starts, starts[1:], strict=False):
        if end <= start:
            continue
        part = Part(start, end, first_line=before + 1, first_row=max(1, before + 1 - skip_lines))
        out.append(dataclasses.replace(source, problems=[], part=part))
    return out


_JSON_FORMATS = {"json", "jsonl"}
_JSON_HEAD = 1 << 16  # bytes read to find where a JSON array's first element starts
_JSON_WS = rb"[ \t\r\n]*"


def json_splittable(source: Source) -> bool:
    """Whether ``source`` can be read in byte ranges: uncompressed JSON Lines, or a JSON array
    whose first element starts within the head, in an encoding where brackets, quotes and
    newlines are single bytes."""
    return (
        source.format in _JSON_FORMATS
        and source.encoding in _BYTE_SAFE
        and source.part is None
        and source.compression is None
        and (source.format == "jsonl" or _element_start(str(source.path)) is not None)
    )


def split_json(source: Source, parts: int) -> list[Source]:
    """``source`` cut into about ``parts`` ranges: JSON Lines at line starts; a JSON array
    where an element seems to start (after '},' or '],', opening as the first element does).

    A JSON string never holds a raw newline, so line starts are sound. An array's cut may
    fall inside an element (in a string or a nested list): then the range before it ends in
    a cut-off element, which its reader reports as a problem, and the caller reads the file
    whole instead. Rows are numbered from the range's first byte + 1 (a record takes two
    bytes at least, so numbers stay unique and increasing across ranges)."""
    size = source.size
    targets = [size * i // parts for i in range(1, parts)]
    if source.format == "jsonl":
        starts = [(0, 0), *row_starts(str(source.path), targets, quoted=False), (size, -1)]
    else:
        starts = [(0, 0), *_element_starts(str(source.path), targets), (size, -1)]
    out = []
    for (start, before), (end, _) in zip(starts, starts[1:], strict=False):
        if end <= start:
            continue
        part = Part(start, end, first_line=before + 1, first_row=start + 1)
        out.append(dataclasses.replace(source, problems=[], part=part))
    return out


def _element_start(path: str) -> bytes | None:
    """How the first element of the JSON array in ``path`` opens: '[' for a row, or '{' up to
    its first key's colon (with the layout between); None if the file is not such an array."""
    with open(path, "rb") as f:
        head = f.read(_JSON_HEAD)
    m = re.match(
        rb"(?:\xef\xbb\xbf)?"
        + _JSON_WS
        + rb"\["
        + _JSON_WS
        + rb'(\[|\{[ \t\r\n]*"[^"\\]*"[ \t\r\n]*:)',
        head,
    )
    return m[1] if m else None


def _element_starts(path: str, targets: list[int]) -> list[tuple[int, int]]:
    """For each target offset (ascending), the first place at or after it where an element of
    the array seems to start (see ``split_json``), with the newlines before it."""
    opening = _element_start(path)
    assert opening is not None
    boundary = re.compile(
        rb"[}\]]" + _JSON_WS + rb"," + _JSON_WS + rb"(?=" + re.escape(opening) + rb")"
    )
    out: list[tuple[int, int]] = []
    with open(path, "rb") as f:
        size = f.seek(0, 2)
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            pos = lines = 0
            for target in targets:
                found = boundary.search(mm, max(target, pos))
                start = found.end() if found else size
                while pos < start:
                    stop = min(start, pos + _STEP)
                    lines += mm[pos:stop].count(b"\n")
                    pos = stop
                out.append((pos, lines))
    return out
