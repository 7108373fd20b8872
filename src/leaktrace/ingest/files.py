"""Open a path as a stream of bytes, undoing gzip/bzip2/xz, counting the bytes taken from disk."""

from __future__ import annotations

import bz2
import gzip
import lzma
import mmap
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from leaktrace.errors import InputError
from leaktrace.i18n import N_
from leaktrace.ingest.limits import CHUNK
from leaktrace.ingest.problems import ProblemLog

_MAGIC = ((b"\x1f\x8b", "gzip"), (b"BZh", "bz2"), (b"\xfd7zXZ\x00", "xz"))
_SUFFIXES = {"gzip": ".gz", "bz2": ".bz2", "xz": ".xz"}


def check_file(path: Path) -> int:
    """Return the size of ``path``, or raise InputError if it is missing or not a regular file."""
    if not path.exists():
        raise InputError(str(path), N_("an existing file"), N_("nothing at that path"))
    if path.is_dir():
        raise InputError(str(path), N_("a file"), N_("a directory"))
    return path.stat().st_size


def compression_of(path: Path) -> str | None:
    """Name the compression of ``path`` from its magic bytes (gzip, bz2, xz), or None."""
    with path.open("rb") as f:
        return compression_in(f.read(6))


def compression_in(head: bytes) -> str | None:
    """The compression whose magic bytes ``head`` (a file's first bytes) starts with, or None."""
    return next((name for sig, name in _MAGIC if head.startswith(sig)), None)


def inner_name(path: Path, compression: str | None) -> str:
    """The file name with a compression suffix removed: ``leak.csv.gz`` -> ``leak.csv``."""
    suffix = _SUFFIXES.get(compression or "")
    if suffix and path.name.lower().endswith(suffix):
        return path.name[: -len(suffix)]
    return path.name


class ByteStream:
    """The decompressed bytes of a file, read in chunks.

    ``bytes_done`` counts bytes taken from disk (compressed bytes for compressed files), for
    progress. A truncated or damaged compressed stream ends the data and is recorded in ``log``."""

    def __init__(
        self,
        path: Path,
        compression: str | None,
        log: ProblemLog | None = None,
        span: tuple[int, int] | None = None,
    ):
        self.path = path
        self.log = log
        self._disk: BinaryIO = path.open("rb")
        # span: read only bytes [start, end) of an uncompressed file
        self.start = 0  # file offset of the first byte read
        self._left = -1  # bytes of the span still to read (-1: no span)
        if span is not None:
            assert compression is None, "byte ranges of compressed files are not supported"
            self.start = span[0]
            self._disk.seek(span[0])
            self._left = span[1] - span[0]
        self._stream: BinaryIO = self._disk
        if compression == "gzip":
            self._stream = gzip.GzipFile(fileobj=self._disk, mode="rb")
        elif compression == "bz2":
            self._stream = bz2.BZ2File(self._disk, mode="rb")
        elif compression == "xz":
            self._stream = lzma.LZMAFile(self._disk, mode="rb")
        self.compression = compression
        self.offset = 0  # decompressed bytes returned so far
        self._ended = False

    @property
    def bytes_done(self) -> int:
        return self._disk.tell() - self.start if not self._disk.closed else 0

    def read(self, size: int = CHUNK) -> bytes:
        """Up to ``size`` bytes; b'' at the end (also at a damaged compressed stream's end)."""
        if self._ended:
            return b""
        if self._left >= 0:
            data = self._disk.read(min(size, self._left))
            self._left -= len(data)
        elif self.compression is None:
            data = self._disk.read(size)
        else:
            data = self._read_compressed(size)
        if not data:
            self._ended = True
        self.offset += len(data)
        return data

    def _read_compressed(self, size: int) -> bytes:
        """Decompress in small steps, so a damaged end loses only the last step's bytes."""
        parts: list[bytes] = []
        have = 0
        try:
            while have < size and (part := self._stream.read1(min(size - have, 1 << 16))):  # type: ignore[attr-defined]
                parts.append(part)
                have += len(part)
        except (EOFError, OSError, zlib.error, lzma.LZMAError) as exc:
            self._ended = True
            if self.log is not None:
                self.log.add(
                    "compression",
                    f"{self.path.name} after {self.offset + have} uncompressed bytes",
                    N_("a complete {compression} stream, found it truncated; the rest is lost")
                    if isinstance(exc, EOFError)
                    else N_("a complete {compression} stream, found it damaged; the rest is lost"),
                    compression=self.compression,
                )
        return b"".join(parts)

    def chunks(self, size: int = CHUNK) -> Iterator[bytes]:
        """Iterate the remaining bytes in chunks of about ``size``."""
        while data := self.read(size):
            yield data

    def close(self) -> None:
        self._stream.close()
        self._disk.close()


def read_head(path: Path, compression: str | None, size: int) -> tuple[bytes, bool]:
    """The first ``size`` bytes after decompression, and whether they are the whole content."""
    stream = ByteStream(path, compression)
    try:
        head = stream.read(size)
        while len(head) < size and (more := stream.read(size - len(head))):
            head += more
        at_eof = len(head) < size or not stream.read(1)
    finally:
        stream.close()
    return head, at_eof


def release_pages(mm: mmap.mmap, start: int, stop: int) -> None:
    """Let go of the mapped pages of ``[start, stop)`` once read: pages of a mapping stay in
    the process's memory until released, which made a scan's parent grow with the file."""
    page = start - start % mmap.PAGESIZE
    if stop > page:
        mm.madvise(mmap.MADV_DONTNEED, page, stop - page)
