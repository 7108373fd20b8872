"""A private temporary directory (mode 0700) holding the archive members being scanned, and the
bounded copy of a member into it: a zip bomb stops at a limit instead of filling the disk. The
copy hashes what it writes (SHA-256), so the evidence trail names each member without
inflating the archive a second time."""

from __future__ import annotations

import hashlib
import itertools
import os
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from leaktrace.errors import Message
from leaktrace.i18n import N_
from leaktrace.ingest import limits


class OverLimit(Exception):
    """A member expanded past a limit of ``ingest.limits``; ``what`` says which was expected."""

    def __init__(self, what: Message) -> None:
        self.what = what
        super().__init__(what)


@dataclass(frozen=True)
class Spooled:
    """A member copied into the spool: its file there, its bytes and their SHA-256."""

    path: Path
    size: int
    sha256: str


@dataclass
class Meter:
    """Expanded bytes counted against a container's compressed size and an overall budget
    (shared by an archive given by the user and everything nested in it)."""

    compressed: int  # the container's size on disk (or as a member of its parent)
    expanded: int = 0
    budget: Meter | None = None

    def add(self, n: int) -> None:
        """Count ``n`` more expanded bytes; OverLimit past the ratio or the total."""
        self.expanded += n
        if self.budget is not None:
            self.budget.add(n)
        elif self.expanded > limits.EXPANDED_BYTES_MAX:
            raise OverLimit(
                Message(
                    N_("at most {gib} GiB expanded in all"), gib=limits.EXPANDED_BYTES_MAX >> 30
                )
            )
        _check_ratio(
            self.expanded,
            self.compressed,
            N_("the archive to expand at most {ratio} times its compressed size (a zip bomb?)"),
        )


def _check_ratio(expanded: int, compressed: int, what: str) -> None:
    """OverLimit(``what``, a message id with ``{ratio}``) past the expansion ratio."""
    if expanded > limits.RATIO_FLOOR and expanded > limits.EXPANSION_RATIO_MAX * max(compressed, 1):
        raise OverLimit(Message(what, ratio=limits.EXPANSION_RATIO_MAX))


class Spool:
    """The temporary directory; removed with everything in it by ``close`` (also on errors and
    Ctrl-C, as a context manager)."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="leaktrace-"))  # mkdtemp makes it 0700
        self._names = itertools.count(1)

    def __enter__(self) -> Spool:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    def write(
        self,
        chunks: Iterable[bytes],
        suffix: str,
        meter: Meter,
        compressed: int | None = None,
    ) -> Spooled:
        """Copy ``chunks`` to a new private file (its suffix kept, for readers that look at it),
        hashing them on the way; OverLimit past a member's size or ratio (``compressed``: its
        own compressed size) or the container's ``meter``, the partial file removed."""
        path = self.dir / f"{next(self._names)}{suffix[:16]}"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        size = 0
        digest = hashlib.sha256()
        try:
            with os.fdopen(fd, "wb") as f:
                for chunk in chunks:
                    size += len(chunk)
                    if size > limits.MEMBER_BYTES_MAX:
                        raise OverLimit(
                            Message(
                                N_("members of at most {gib} GiB"),
                                gib=limits.MEMBER_BYTES_MAX >> 30,
                            )
                        )
                    if compressed is not None:
                        _check_ratio(
                            size,
                            compressed,
                            N_(
                                "a member to expand at most {ratio} times its compressed size "
                                "(a zip bomb?)"
                            ),
                        )
                    meter.add(len(chunk))
                    f.write(chunk)
                    digest.update(chunk)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return Spooled(path, size, digest.hexdigest())
