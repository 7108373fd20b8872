"""Turn a byte stream in any encoding into valid UTF-8 chunks, counting (never failing on) bad bytes."""

from __future__ import annotations

import codecs
import threading
from collections.abc import Iterator

import numpy as np
import pyarrow as pa

from leaktrace.i18n import N_
from leaktrace.ingest.files import ByteStream
from leaktrace.ingest.problems import ProblemLog

_UTF8 = {"utf-8", "utf-8-sig", "ascii"}
_BOM = "\ufeff"
_errors = threading.local()


def _count_and_replace(exc: UnicodeError) -> tuple[str, int]:
    """Codec error handler: note where the bad bytes were, replace them with U+FFFD."""
    assert isinstance(exc, UnicodeDecodeError)
    _errors.sink.append((exc.start, exc.end))
    return "\ufffd", exc.end


codecs.register_error("leaktrace-count", _count_and_replace)


def utf8_chunks(
    stream: ByteStream, encoding: str, log: ProblemLog, first_line: int = 1
) -> Iterator[bytes]:
    """Yield the stream's text re-encoded as valid UTF-8, in chunks, without a leading BOM.

    Undecodable bytes become U+FFFD; each line holding some is recorded in ``log`` with its
    line number (``first_line`` is that of the stream's first byte) and byte offset. UTF-8
    input is only validated (fast, in Arrow), not decoded."""
    decoder = _Decoder(encoding, log, first_line, stream.start)
    first = stream.start == 0  # a BOM only opens the file, not a range read from its middle
    for raw in stream.chunks():
        out = decoder.feed(raw, final=False)
        if first and out:
            out = out.removeprefix(_BOM.encode())
            first = False
        if out:
            yield out
    tail = decoder.feed(b"", final=True)
    if first:
        tail = tail.removeprefix(_BOM.encode())
    if tail:
        yield tail


class _Decoder:
    """Incremental decoding with error bookkeeping: byte offsets and line numbers of bad bytes."""

    def __init__(self, encoding: str, log: ProblemLog, first_line: int, first_byte: int) -> None:
        self.encoding = encoding
        self.log = log
        self.utf8 = encoding in _UTF8
        self.newline = "\n".encode(encoding) if not self.utf8 else b"\n"
        self.carry = b""  # UTF-8: an incomplete last character kept for the next chunk
        self.inc = codecs.getincrementaldecoder("utf-8" if self.utf8 else encoding)(
            "leaktrace-count"
        )
        self.fed = first_byte  # file offset after the raw bytes fed so far
        self.lines = first_line - 1  # newlines before the bytes decoded so far

    def feed(self, raw: bytes, final: bool) -> bytes:
        """Decode one chunk; return valid UTF-8 bytes."""
        base = self.fed - len(self.carry)  # file offset of the first byte decoded now
        self.fed += len(raw)
        if self.utf8:
            # Cutting after the last newline lets line_chunks pass chunks on without copying;
            # the carried start of a line and the rest are joined in one copy.
            cut = raw.rfind(b"\n") + 1
            if final:
                data, self.carry = self.carry + raw, b""
            elif cut:
                data = b"".join((self.carry, memoryview(raw)[:cut]))
                self.carry = raw[cut:]
            else:  # no newline in this chunk: keep whole characters only
                data = self.carry + raw
                cut = _complete_utf8_end(data)
                data, self.carry = data[:cut], data[cut:]
            out = data if _valid_utf8(data) else self._decode(data, final, base).encode()
        else:
            data = raw
            out = self._decode(raw, final, base).encode()
        self.lines += data.count(self.newline)
        return out

    def _decode(self, data: bytes, final: bool, base: int) -> str:
        """Decode with the counting handler and record a Problem per line holding bad bytes."""
        _errors.sink = []
        try:
            text = self.inc.decode(data, final)
            found = _errors.sink
        finally:
            _errors.sink = []
        last_line = -1
        for start, end in found:
            start = max(0, min(start, len(data)))
            line = self.lines + data.count(self.newline, 0, start) + 1
            if line == last_line:
                continue
            last_line = line
            self.log.add(
                "encoding",
                f"{self.log.name} line {line} (byte {base + start})",
                N_("text in {encoding}, found {count} undecodable byte(s); replaced with U+FFFD"),
                encoding=self.encoding,
                count=max(end - start, 1),
            )
        return text


def _complete_utf8_end(data: bytes) -> int:
    """Index after the last complete UTF-8 character (an incomplete one at the end is left out)."""
    n = len(data)
    for back in range(1, min(4, n) + 1):
        b = data[n - back]
        if b < 0x80:
            return n
        if b >= 0xC0:  # a lead byte: is its sequence complete?
            need = 2 if b < 0xE0 else 3 if b < 0xF0 else 4
            return n if back >= need else n - back
    return n


def _valid_utf8(data: bytes) -> bool:
    """Validate UTF-8 in Arrow (several GB/s) over the bytes in place: no copy, no str."""
    offsets = pa.py_buffer(np.array([0, len(data)], np.int64))
    text = pa.Array.from_buffers(pa.large_string(), 1, [None, offsets, pa.py_buffer(data)])
    try:
        text.validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True
