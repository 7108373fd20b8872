"""Cut a large plain file into byte ranges that start and end between rows, so that each can be
read (and scanned) by its own process."""

from __future__ import annotations

import dataclasses
import mmap
import re

from leaktrace.ingest.source import Part, Source

# Encodings in which a newline or a double quote byte is always that character (never part of
# a multi-byte one): UTF-8 and the GB family.
_BYTE_SAFE = {"utf-8", "utf-8-sig", "ascii", "gb18030"}
_FORMATS = {"csv", "tsv", "text"}
_STEP = 16 << 20  # bytes counted at a time


def splittable(source: Source) -> bool:
    """Whether ``source`` can be read in byte ranges: an uncompressed CSV, TSV or plain text in
    an encoding where newlines and quotes are single bytes."""
    return (
        source.format in _FORMATS
        and source.encoding in _BYTE_SAFE
        and source.part is None
        and source.compression is None
    )


def row_starts(path: str, targets: list[int], quoted: bool) -> list[tuple[int, int]]:
    """For each target offset (ascending), the first row start at or after it, with the number
    of newlines before that start: ``(offset, lines_before)``.

    A row starts after a newline; with ``quoted``, only after a newline preceded by an even
    number of double quotes (a newline inside a quoted field does not end the row)."""
    out: list[tuple[int, int]] = []
    with open(path, "rb") as f:
        size = f.seek(0, 2)
        if size == 0:
            return [(0, 0) for _ in targets]
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            pos = lines = quotes = 0
            for target in targets:
                target = min(max(target, 0), size)
                # count up to the target, then on to the next row start: after a newline,
                # outside quotes
                while pos < target or (
                    0 < pos < size and (mm[pos - 1] != 0x0A or (quoted and quotes % 2))
                ):
                    if pos < target:
                        stop = min(target, pos + _STEP)
                    else:
                        newline = mm.find(b"\n", pos)
                        stop = size if newline < 0 else newline + 1
                    piece = mm[pos:stop]
                    lines += piece.count(b"\n")
                    quotes += piece.count(b'"') if quoted else 0
                    pos = stop
                out.append((pos, lines))
    return out


def split(source: Source, parts: int) -> list[Source]:
    """``source`` cut into about ``parts`` ranges of whole rows (fewer when rows are long).
    A CSV's quoting and header come from its sniffed dialect."""
    size = source.size
    skip_lines = source.dialect.skip_lines if source.dialect else 0
    quoted = bool(source.dialect and source.dialect.quoted)
    targets = [size * i // parts for i in range(1, parts)]
    starts = [(0, 0), *row_starts(str(source.path), targets, quoted), (size, -1)]
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
