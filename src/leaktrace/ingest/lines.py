"""Cut a stream of UTF-8 chunks at line ends, so readers get whole lines and over-long lines in pieces."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class LineChunk:
    """Whole lines (``data`` ends with a newline except at the end of the file), or one piece.

    A line longer than the limit arrives as pieces of at most the limit, cut between UTF-8
    characters; ``last`` marks its final piece and ``length`` is then the whole line's length.
    Pieces may overlap: a piece's first ``lead`` bytes end the piece before it and its last
    ``ahead`` bytes begin the one after it; the bytes between are its own."""

    data: bytes
    first_line: int  # 1-based number of the first line in data (for a piece: its line)
    piece: bool = False
    last: bool = False
    length: int = 0
    lead: int = 0
    ahead: int = 0


def line_chunks(
    chunks: Iterable[bytes], max_line: int, first_line: int = 1, overlap: int = 0
) -> Iterator[LineChunk]:
    """Regroup UTF-8 ``chunks`` into whole lines; lines over ``max_line`` bytes come in pieces,
    each with up to ``overlap`` bytes of its neighbours on either side (so a value cut by a
    piece's end is whole in one of them).

    ``chunks`` must each end between characters. Memory stays within one chunk plus
    ``max_line`` and twice ``overlap``, whatever the lines' lengths."""
    pending = b""
    line = first_line
    long: _LongLine | None = None  # the over-long line being cut into pieces
    for chunk in chunks:
        if long is not None:
            end = chunk.find(b"\n")
            if end < 0:
                yield from long.feed(chunk)
                continue
            yield from long.feed(chunk[:end])
            yield from long.finish()
            long = None
            line += 1
            chunk = chunk[end + 1 :]
        data = pending + chunk
        end = data.rfind(b"\n") + 1
        if end:
            yield LineChunk(data[:end], line)
            line += data.count(b"\n", 0, end)
        pending = data[end:]
        if len(pending) > max_line:
            long = _LongLine(line, max_line, overlap)
            yield from long.feed(pending)
            pending = b""
    if long is not None:
        yield from long.finish()
    elif pending:
        yield LineChunk(pending, line)


class _LongLine:
    """One over-long line cut into pieces of at most ``max_line`` own bytes, each carrying the
    ``overlap`` bytes before and after it (cut between characters)."""

    def __init__(self, line: int, max_line: int, overlap: int) -> None:
        self.line = line
        self.max_line = max_line
        self.overlap = overlap
        self.lead = b""  # the last bytes the pieces so far own: the next piece's lead
        self.rest = b""  # bytes of the line no piece owns yet
        self.length = 0

    def feed(self, data: bytes) -> Iterator[LineChunk]:
        """Take more of the line; yield the pieces whose own bytes and overlap are complete.
        Without overlap, pieces go as the data comes (nothing is held back)."""
        self.length += len(data)
        buf = self.rest + data if self.rest else data
        hold = self.max_line + self.overlap if self.overlap else 0
        at = 0
        while len(buf) - at > hold:
            piece, at = self._piece(buf, at)
            yield piece
        self.rest = buf[at:]

    def finish(self) -> Iterator[LineChunk]:
        """The line has ended: yield what is left, the final piece marked ``last``."""
        buf, at = self.rest, 0
        while len(buf) - at > self.max_line:
            piece, at = self._piece(buf, at)
            yield piece
        if at == len(buf):  # the pieces so far hold the whole line
            yield LineChunk(b"", self.line, piece=True, last=True, length=self.length)
            return
        yield LineChunk(
            self.lead + buf[at:],
            self.line,
            piece=True,
            last=True,
            length=self.length,
            lead=len(self.lead),
        )

    def _piece(self, buf: bytes, at: int) -> tuple[LineChunk, int]:
        """The piece owning ``buf[at:]`` up to max_line bytes, and where the next one starts."""
        cut = _char_start(buf, at + self.max_line)
        ahead = buf[cut : _char_start(buf, cut + self.overlap)]
        own = buf[at:cut]
        piece = LineChunk(
            self.lead + own + ahead, self.line, piece=True, lead=len(self.lead), ahead=len(ahead)
        )
        if self.overlap:
            done = own if len(own) >= self.overlap else self.lead + own
            start = len(done) - min(len(done), self.overlap)
            while start < len(done) and 0x80 <= done[start] < 0xC0:  # a whole first character
                start += 1
            self.lead = done[start:]
        return piece, cut


def _char_start(data: bytes, at: int) -> int:
    """``at`` (or the end of ``data``, if sooner), moved back to the start of a UTF-8 character."""
    if at >= len(data):
        return len(data)
    while at > 0 and 0x80 <= data[at] < 0xC0:  # not inside a UTF-8 character
        at -= 1
    return at
