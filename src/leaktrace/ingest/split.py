"""Cut a large plain file into byte ranges that start and end between rows, so that each can be
read (and scanned) by its own process."""

from __future__ import annotations

import dataclasses
import os

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
    number of double quotes (a newline inside a quoted field does not end the row). The file
    is read in steps of _STEP bytes, not mapped: pages of a mapping stay in this process's
    memory (RSS) until it is unmapped, which made the parent grow with the file."""
    out: list[tuple[int, int]] = []
    with open(path, "rb", buffering=0) as f:
        size = os.fstat(f.fileno()).st_size
        pos = lines = quotes = 0
        data, base = b"", 0  # the step read last: bytes [base, base + len(data)) of the file
        after_newline = True  # whether the byte before pos is a newline (or pos is 0)
        for target in targets:
            target = min(max(target, 0), size)
            # count up to the target, then on to the next row start: after a newline,
            # outside quotes
            while pos < target or (
                pos < size and (not after_newline or (quoted and quotes % 2 == 1))
            ):
                if pos == base + len(data):
                    data, base = f.read(_STEP), pos
                    if not data:  # the file shrank since it was sized
                        break
                i = pos - base
                if pos < target:
                    stop = min(target - base, len(data))
                else:
                    newline = data.find(b"\n", i)
                    stop = len(data) if newline < 0 else newline + 1
                lines += data.count(b"\n", i, stop)
                quotes += data.count(b'"', i, stop) if quoted else 0
                after_newline = data[stop - 1] == 0x0A
                pos = base + stop
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
