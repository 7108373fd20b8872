"""A sliding window over decoded text for readers that parse across chunk boundaries (JSON, SQL)."""

from __future__ import annotations

import re
from collections.abc import Iterator


class TextWindow:
    """Text read chunk by chunk; ``pos`` is the parse position in ``buf``.

    ``more`` drops the text before ``pos`` and appends the next chunk, so memory holds only
    the unparsed rest; ``line`` gives the file line number of a position in ``buf``."""

    newline = "\n"  # (a window of bytes counts b"\n")

    def __init__(self, chunks: Iterator[bytes], first_line: int = 1) -> None:
        self.chunks = chunks
        self.buf = ""
        self.pos = 0
        self.eof = False
        self._base_line = first_line  # line number of buf[0]
        self._line_pos = 0  # a position in buf whose line number is known: _line_no
        self._line_no = first_line

    def more(self) -> bool:
        """Append the next chunk (dropping parsed text); False at the end of the input."""
        chunk = next(self.chunks, None)
        if chunk is None:
            self.eof = True
            return False
        self._base_line = self.line(self.pos)
        self.buf = self.buf[self.pos :] + self.decode(chunk)
        self.pos = 0
        self._line_pos, self._line_no = 0, self._base_line
        return True

    def decode(self, chunk: bytes) -> str:
        """The text of a chunk (a window of bytes keeps them as they are)."""
        return chunk.decode()

    def ensure(self, size: int) -> None:
        """Read until ``size`` characters follow ``pos`` or the input ends."""
        while len(self.buf) - self.pos < size and self.more():
            pass

    def skip(self, pattern: re.Pattern[str]) -> None:
        """Advance past what ``pattern`` matches (whitespace, comments), reading more as needed."""
        while True:
            self.pos = pattern.match(self.buf, self.pos).end()  # type: ignore[union-attr]
            if self.pos < len(self.buf) or not self.more():
                return

    def peek(self) -> str:
        return self.buf[self.pos : self.pos + 1]

    def peek_past(self, pattern: re.Pattern[str], offset: int) -> str:
        """The character after what ``pattern`` matches from ``pos + offset`` ('' at the end),
        reading more as needed without moving ``pos``."""
        while True:
            end = pattern.match(self.buf, self.pos + offset).end()  # type: ignore[union-attr]
            if end < len(self.buf) or not self.more():
                return self.buf[end : end + 1]

    def line(self, pos: int) -> int:
        """1-based line number of ``buf[pos]``; cheap for increasing positions."""
        if pos < self._line_pos:
            self._line_pos, self._line_no = 0, self._base_line
        self._line_no += self.buf.count(self.newline, self._line_pos, pos)
        self._line_pos = pos
        return self._line_no
