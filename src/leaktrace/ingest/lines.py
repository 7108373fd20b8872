"""Cut a stream of UTF-8 chunks at line ends, so readers get whole lines and over-long lines in pieces."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class LineChunk:
    """Whole lines (``data`` ends with a newline except at the end of the file), or one piece.

    A line longer than the limit arrives as pieces of at most the limit, cut between UTF-8
    characters; ``last`` marks its final piece and ``length`` is then the whole line's length."""

    data: bytes
    first_line: int  # 1-based number of the first line in data (for a piece: its line)
    piece: bool = False
    last: bool = False
    length: int = 0


def line_chunks(chunks: Iterable[bytes], max_line: int, first_line: int = 1) -> Iterator[LineChunk]:
    """Regroup UTF-8 ``chunks`` into whole lines; lines over ``max_line`` bytes come in pieces.

    ``chunks`` must each end between characters. Memory stays within one chunk plus
    ``max_line``, whatever the lines' lengths."""
    pending = b""
    line = first_line
    long_length = 0  # >0 while inside an over-long line: its length so far
    for chunk in chunks:
        if long_length:
            end = chunk.find(b"\n")
            if end < 0:
                long_length += len(chunk)
                yield from _pieces(chunk, line, max_line)
                continue
            long_length += end
            yield from _pieces(chunk[:end], line, max_line, last_length=long_length)
            long_length = 0
            line += 1
            chunk = chunk[end + 1 :]
        data = pending + chunk
        end = data.rfind(b"\n") + 1
        if end:
            yield LineChunk(data[:end], line)
            line += data.count(b"\n", 0, end)
        pending = data[end:]
        if len(pending) > max_line:
            long_length = len(pending)
            yield from _pieces(pending, line, max_line)
            pending = b""
    if long_length:
        yield LineChunk(b"", line, piece=True, last=True, length=long_length)
    elif pending:
        yield LineChunk(pending, line)


def _pieces(data: bytes, line: int, max_line: int, last_length: int = 0) -> Iterator[LineChunk]:
    """Split part of a long line into pieces of at most ``max_line`` bytes at character boundaries.

    With ``last_length`` set, the final piece is marked last and carries the line's length."""
    start = 0
    while len(data) - start > max_line:
        cut = start + max_line
        while cut > start and 0x80 <= data[cut] < 0xC0:  # not inside a UTF-8 character
            cut -= 1
        yield LineChunk(data[start:cut], line, piece=True)
        start = cut
    if last_length:
        yield LineChunk(data[start:], line, piece=True, last=True, length=last_length)
    elif start < len(data):
        yield LineChunk(data[start:], line, piece=True)
