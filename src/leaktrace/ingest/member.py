"""What a container (archive, e-mail, document) holds: members read one at a time as chunks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from leaktrace.errors import Message, as_message, expected_found


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


@dataclass
class MemberDigest:
    """One member of an archive as read: its name inside it, bytes and SHA-256 of its content,
    or why it was not read (a Message: encrypted without a password, over a limit ...)."""

    name: str
    size: int | None  # bytes read (the declared size when not read)
    sha256: str | None
    not_hashed: Message | None = None


class MemberError(Exception):
    """A member that cannot be read (encrypted, wrong password, damaged): what was expected."""

    def __init__(
        self, expected: str | Message, found: str | Message | None = None, **params: Any
    ) -> None:
        self.expected = as_message(expected, **params)
        self.found = None if found is None else as_message(found, **params)
        super().__init__(self.expected, self.found)

    def what(self) -> Message:
        """What was expected and found (the Problem names the member)."""
        return expected_found(self.expected, self.found)
