"""What a container (archive, e-mail, document) holds: members read one at a time as chunks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass


@dataclass
class Member:
    """One file inside a container, not read until ``chunks()`` is called.

    ``format`` and ``encoding`` are hints the container knows (a DOCX table is CSV in UTF-8, a
    mail body has a declared charset); None lets the content decide."""

    name: str  # its path inside the container, as stored (may be absolute or hold '..')
    chunks: Callable[[], Iterator[bytes]]
    kind: str = "file"  # file, dir, link (symbolic or hard), special (device, FIFO)
    size: int | None = None  # expanded size as declared, when known
    compressed: int | None = None  # compressed size, when the container stores it per member
    format: str | None = None
    encoding: str | None = None


class MemberError(Exception):
    """A member that cannot be read (encrypted, wrong password, damaged): what was expected."""

    def __init__(self, expected: str, found: str | None = None) -> None:
        self.expected = expected
        self.found = found
        super().__init__(f"expected {expected}" + (f", found {found}" if found else ""))
