"""The client of the key process, and the protocol both speak: length-prefixed msgpack frames on
a unix socket. With a split key, the client sends the elements through each key process in turn,
so the effective key is the product of the shares and no process holds it whole.
"""

from __future__ import annotations

import itertools
import os
import queue
import socket
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Literal

import msgspec

from leaktrace.errors import LeaktraceError
from leaktrace.i18n import _
from leaktrace.registry.limits import Caller, CallerClass
from leaktrace.registry.oprf import ELEMENT_BYTES

#: The environment variable naming the key processes' sockets: comma-separated in chain order,
#: each link's replicas separated by ``|``.
KEYD_ENV = "LEAKTRACE_KEYD"
#: The most elements in one frame.
MAX_BATCH = 10_000
#: The largest frame either side accepts: a full batch (each element with its 2-byte msgpack
#: header) and room for the rest of the request.
MAX_FRAME = MAX_BATCH * (ELEMENT_BYTES + 2) + 4096
_HEADER = 4

Socket = str | os.PathLike[str]
Element = Annotated[bytes, msgspec.Meta(min_length=ELEMENT_BYTES, max_length=ELEMENT_BYTES)]


class CallerWire(msgspec.Struct, forbid_unknown_fields=True):
    """The caller as the frame carries it."""

    cls: CallerClass = msgspec.field(name="class")
    key_id: int | None = None
    net: Annotated[str, msgspec.Meta(max_length=64)] | None = None


class Request(msgspec.Struct, forbid_unknown_fields=True):
    """``{"op": "evaluate", "elements": [...], "caller": {...}}``."""

    op: Literal["evaluate"]
    elements: Annotated[list[Element], msgspec.Meta(max_length=MAX_BATCH)]
    caller: CallerWire


class Reply(msgspec.Struct, omit_defaults=True):
    """``{"ok": true, "elements": [...]}`` or ``{"ok": false, "error": ..., "retry_after": ...}``;
    ``limit`` is the largest batch there is, with ``too_large``."""

    ok: bool
    elements: list[bytes] = []
    error: str | None = None
    retry_after: float | None = None
    limit: int | None = None


def frame(payload: bytes) -> bytes:
    """``payload`` after its 4-byte big-endian length."""
    return len(payload).to_bytes(_HEADER, "big") + payload


class KeyServiceError(LeaktraceError):
    """Base of the key process's refusals and failures, as the client raises them."""


class TryLater(KeyServiceError):
    """A refusal that ends with time: ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RateLimited(TryLater):
    """A bucket of the caller's API key or network is empty; try again after ``retry_after`` s."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(
            _("the key process refused: too many evaluations; try again in {s:.0f} s").format(
                s=retry_after
            ),
            retry_after,
        )


class BudgetSpent(TryLater):
    """The caller's class has spent its daily budget; it comes back at midnight in Shanghai."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(
            _("the key process refused: today's budget is spent; try again in {s:.0f} s").format(
                s=retry_after
            ),
            retry_after,
        )


class BatchTooLarge(KeyServiceError):
    """More elements in one request than a bucket or a day can ever hold; ``limit`` is the most."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            _("the key process refused: at most {limit} evaluations in one request").format(
                limit=limit
            )
        )
        self.limit = limit


class InvalidElement(KeyServiceError):
    """An element was not a valid ristretto255 element other than the identity, or the frame
    was malformed."""

    def __init__(self) -> None:
        super().__init__(
            _("the key process refused: an element is not a valid ristretto255 element")
        )


class KeyUnavailable(KeyServiceError):
    """No key process answers on the socket, or its answer was not the protocol's."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        super().__init__(
            _("{path}: no key process answers on this socket").format(path=os.fspath(path))
        )
        self.path = os.fspath(path)


_encoder = msgspec.msgpack.Encoder()
_reply = msgspec.msgpack.Decoder(Reply)


def _recv_exactly(sock: socket.socket, size: int) -> bytes:
    """``size`` bytes from ``sock``; ConnectionError if it closes first."""
    chunks = bytearray()
    while len(chunks) < size:
        chunk = sock.recv(size - len(chunks))
        if not chunk:
            raise ConnectionError
        chunks += chunk
    return bytes(chunks)


class _Link:
    """The connections to one key process or to replicas of it (the same key or share behind
    several sockets): idle ones are kept for the next call, from any thread; new ones go to the
    replicas in turn, and to the next when one does not answer."""

    def __init__(self, paths: Sequence[Path], timeout: float) -> None:
        self.paths = list(paths)
        self.path = self.paths[0]  # the one named when none answers
        self.timeout = timeout
        self._turn = itertools.count()
        self._idle: queue.SimpleQueue[socket.socket] = queue.SimpleQueue()

    def _connect(self) -> socket.socket:
        start = next(self._turn)
        for i in range(len(self.paths)):
            path = self.paths[(start + i) % len(self.paths)]
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(self.timeout)
            try:
                sock.connect(os.fspath(path))
            except OSError:
                sock.close()
                self.path = path
                continue
            return sock
        raise KeyUnavailable(self.path)

    def ask(self, request: bytes) -> Reply:
        """Sends one frame and reads the reply, on an idle connection when there is one (once
        more on a fresh one if that fails: the key process may have restarted)."""
        try:
            sock, reused = self._idle.get_nowait(), True
        except queue.Empty:
            sock, reused = self._connect(), False
        try:
            sock.sendall(request)
            size = int.from_bytes(_recv_exactly(sock, _HEADER), "big")
            if size > MAX_FRAME:
                raise ConnectionError
            reply = _reply.decode(_recv_exactly(sock, size))
        except (OSError, msgspec.DecodeError) as e:
            sock.close()
            if reused:
                return self.ask(request)
            raise KeyUnavailable(self.path) from e
        self._idle.put(sock)
        return reply

    def close(self) -> None:
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return


class KeyClient:
    """Evaluates blinded elements through the key processes at ``paths`` (one, or the chain of a
    split key; each may be a list of replicas holding the same key or share), for ``caller``;
    safe to share between threads."""

    def __init__(self, paths: str | os.PathLike[str] | Sequence[Socket | Sequence[Socket]]) -> None:
        if isinstance(paths, str | os.PathLike):
            paths = [paths]
        if not paths:
            raise ValueError(_("expected at least one key process socket"))
        self._links = [
            _Link([Path(r) for r in ([p] if isinstance(p, str | os.PathLike) else p)], 60.0)
            for p in paths
        ]
        if not all(link.paths for link in self._links):
            raise ValueError(_("expected at least one key process socket"))

    @classmethod
    def from_env(cls) -> KeyClient:
        """The client of the sockets named by ``LEAKTRACE_KEYD``: the chain's links separated by
        commas, a link's replicas by ``|`` (``/run/a1.sock|/run/a2.sock,/run/b.sock``)."""
        links = [
            [r.strip() for r in link.split("|") if r.strip()]
            for link in os.environ.get(KEYD_ENV, "").split(",")
            if link.strip()
        ]
        if not links or not all(links):
            raise KeyUnavailable(KEYD_ENV)
        return cls(links)

    def evaluate(self, elements: Sequence[bytes], caller: Caller) -> list[bytes]:
        """Each element multiplied by the key (by every share in turn), in order; raises
        RateLimited, BudgetSpent, BatchTooLarge, InvalidElement or KeyUnavailable."""
        wire = CallerWire(caller.cls, caller.key_id, caller.net)
        out = list(elements)
        for link in self._links:
            evaluated: list[bytes] = []
            for start in range(0, len(out), MAX_BATCH):
                batch = out[start : start + MAX_BATCH]
                request = frame(_encoder.encode(Request("evaluate", batch, wire)))
                evaluated.extend(_answer(link, link.ask(request), len(batch)))
            out = evaluated
        return out

    def close(self) -> None:
        """Closes the idle connections."""
        for link in self._links:
            link.close()


def _answer(link: _Link, reply: Reply, expected: int) -> list[bytes]:
    """The reply's elements, or its refusal raised."""
    if reply.ok:
        if len(reply.elements) != expected:
            raise KeyUnavailable(link.path)
        return reply.elements
    if reply.error == "rate_limited" and reply.retry_after is not None:
        raise RateLimited(reply.retry_after)
    if reply.error == "budget" and reply.retry_after is not None:
        raise BudgetSpent(reply.retry_after)
    if reply.error == "too_large" and reply.limit is not None:
        raise BatchTooLarge(reply.limit)
    if reply.error == "invalid":
        raise InvalidElement
    raise KeyUnavailable(link.path)
