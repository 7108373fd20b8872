"""The members of a 7z archive (py7zr), one at a time: py7zr pushes each file's bytes to a writer,
so it runs in a thread whose writer hands the bytes over through a small queue."""

from __future__ import annotations

import lzma
import queue
import re
import threading
import zlib
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import py7zr
import py7zr.io

from leaktrace.errors import InputError
from leaktrace.i18n import N_
from leaktrace.ingest.archives import NEED_PASSWORD
from leaktrace.ingest.member import Member, MemberError

_QUEUED = 8  # pieces of a member held between py7zr and the reader (py7zr's blocks, ~1 MiB)
_ERRORS = (
    py7zr.exceptions.ArchiveError,
    lzma.LZMAError,
    zlib.error,
    OSError,
    EOFError,
    ValueError,
    TypeError,  # py7zr, on headers decrypted with a wrong password
    KeyError,
    IndexError,
)


_DUPLICATE = re.compile(r"_\d+$")


class _Stop(Exception):
    """Raised in py7zr's thread when the reader has gone (an error or Ctrl-C)."""


def sevenzip_members(path: Path, name: str, password: str | None) -> Generator[Member, None, None]:
    """The members of a 7z archive, encrypted ones opened with ``password``; a member's bytes
    must be read (or left) before the next member is asked for."""
    try:
        szf = py7zr.SevenZipFile(path, password=password or None)
    except (py7zr.exceptions.PasswordRequired, *_ERRORS) as exc:
        raise _error(name, exc, password) from None
    with szf:
        if szf.needs_password() and not password:
            raise InputError(name, NEED_PASSWORD, N_("an encrypted 7z archive"))
        infos = {i.filename: i for i in szf.list()}
        for info in infos.values():  # py7zr writes no directories and links are not followed
            if info.is_directory or info.is_symlink:
                kind = "dir" if info.is_directory else "link"
                yield Member(info.filename, _nothing, kind=kind)
        pipe = _Pipe(password is not None)
        worker = threading.Thread(target=pipe.run, args=(szf,), daemon=True)
        worker.start()
        try:
            while (item := pipe.get())[0] == "start":
                # py7zr names the second of two same-named members NAME_0, the third NAME_1...
                info = infos.get(item[1]) or infos.get(_DUPLICATE.sub("", item[1]))
                if info is None:
                    yield Member(item[1], pipe.chunks)
                elif not info.is_symlink:
                    yield Member(info.filename, pipe.chunks, size=info.uncompressed)
                pipe.skip()  # what the reader left of it
            if item[0] == "error" and not pipe.member_failed:
                raise _error(name, item[1], password)
        finally:
            pipe.stopped.set()
            worker.join(5)


def _nothing() -> Iterator[bytes]:
    """The content of a member that has none (a directory or a link)."""
    return iter(())


def _error(name: str, exc: BaseException, password: str | None) -> InputError:
    if isinstance(exc, py7zr.exceptions.PasswordRequired):
        return InputError(name, NEED_PASSWORD, N_("an encrypted 7z archive"))
    if password:
        return InputError(
            name, N_("the password that opens it (or an undamaged archive); the one given does not")
        )
    return InputError(name, N_("an undamaged 7z archive"), N_("a damaged one"))


class _Pipe(py7zr.io.WriterFactory):
    """py7zr's writer factory: every file becomes ("start", name), ("data", bytes)..., ("end",)
    in a bounded queue; the archive's end is ("done",) or ("error", exception)."""

    def __init__(self, with_password: bool) -> None:
        self.with_password = with_password
        self.items: queue.Queue[tuple[Any, ...]] = queue.Queue(_QUEUED)
        self.stopped = threading.Event()
        self._pending: tuple[Any, ...] | None = None
        self._in_member = False
        self.member_failed = False  # py7zr's failure was reported on a member already

    def run(self, szf: py7zr.SevenZipFile) -> None:
        try:
            szf.extractall(factory=self)
            self.put(("done",))
        except _Stop:
            return
        except Exception as exc:  # handed to the reader, who maps it to a clear error
            try:
                self.put(("error", exc))
            except _Stop:
                return

    def put(self, item: tuple[Any, ...]) -> None:
        while True:
            if self.stopped.is_set():
                raise _Stop
            try:
                self.items.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def get(self) -> tuple[Any, ...]:
        if self._pending is not None:
            item, self._pending = self._pending, None
            return item
        item = self.items.get()
        self._in_member = item[0] in ("start", "data")
        return item

    def create(self, filename: str) -> py7zr.io.Py7zIO:
        self.put(("start", filename))
        return _Writer(self)

    def chunks(self) -> Iterator[bytes]:
        """The current member's bytes, up to its end; py7zr's failure on it is a MemberError."""
        while (item := self.get())[0] == "data":
            yield item[1]
        if item[0] != "end":
            self._pending = item  # the archive's end or failure, for the member loop
        if item[0] == "error":
            self.member_failed = True
            if isinstance(item[1], py7zr.exceptions.PasswordRequired):
                raise MemberError(NEED_PASSWORD, N_("an encrypted member"))
            if self.with_password:
                raise MemberError(
                    N_(
                        "the password that opens it (or an undamaged member); the one given does not"
                    )
                )
            raise MemberError(N_("an undamaged member"), N_("a damaged one"))

    def skip(self) -> None:
        """Skip the rest of the current member (all of it if the reader took none)."""
        if self._in_member:
            while (item := self.get())[0] == "data":
                pass
            if item[0] != "end":
                self._pending = item


class _Writer(py7zr.io.Py7zIO):
    """Receives one file's bytes from py7zr and queues them."""

    def __init__(self, pipe: _Pipe) -> None:
        self.pipe = pipe
        self.length = 0

    def write(self, s: bytes | bytearray) -> int:
        self.pipe.put(("data", bytes(s)))
        self.length += len(s)
        return len(s)

    def read(self, size: int | None = None) -> bytes:
        return b""

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.length

    def flush(self) -> None:
        return None

    def size(self) -> int:
        return self.length

    def close(self) -> None:
        self.pipe.put(("end",))
