"""The key process: the only holder of the registry's OPRF key (or of one share of it). It answers
blinded elements on a unix socket that only its user can open, after charging the caller's limits
(token buckets per API key and per network, a daily budget per class), and keeps the day's
counters in a state file so that a restart does not reset them.

``python -m leaktrace.registry.keyd --key-file F --socket S`` (or ``leaktrace registry keyd``);
``leaktrace serve`` starts one. The key is read from its file once and never written anywhere
else, logged or sent; a request or a refusal is logged by class, API key and network only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import grp
import ipaddress
import logging
import os
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import msgspec

from leaktrace.errors import LeaktraceError
from leaktrace.i18n import _
from leaktrace.registry import oprf
from leaktrace.registry.keyd_client import MAX_FRAME, Reply, Request, frame
from leaktrace.registry.limits import (
    CLASSES,
    DEFAULT_LIMITS,
    Caller,
    CallerClass,
    ClassLimits,
    Limiter,
    Rate,
)

log = logging.getLogger("leaktrace.registry.keyd")

#: How often the day's counters are written to the state file (and at shutdown).
FLUSH_SECONDS = 1.0
#: How often buckets that are full again are forgotten.
PRUNE_SECONDS = 60.0
#: Elements per task handed to the pool, so that a large batch runs on every core.
CHUNK = 256
#: Requests of at most this many elements (a person's check sends one) are evaluated on the
#: event loop: a thread's hand-off costs more than the multiplication.
INLINE = 4
_PRIVATE = 0o077  # group and other permission bits


class KeydError(LeaktraceError):
    """The key process cannot start: its key file, state file or socket is refused."""


def _read_key(path: Path) -> bytes:
    """The key in ``path`` (32 raw bytes or 64 hex digits): the file must be the process user's
    and readable by it alone, the scalar reduced and non-zero."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as e:
        raise KeydError(
            _("{path}: the key file cannot be opened ({reason})").format(
                path=path, reason=e.strerror
            )
        ) from e
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if info.st_uid != os.geteuid():
            raise KeydError(_("{path}: the key file belongs to another user").format(path=path))
        if info.st_mode & _PRIVATE:
            raise KeydError(
                _(
                    "{path}: the key file can be read or written by its group or by others; "
                    "make it its owner's alone (chmod 600)"
                ).format(path=path)
            )
        raw = f.read(oprf.SCALAR_BYTES * 2 + 3)
    key = raw if len(raw) == oprf.SCALAR_BYTES else _hex_key(raw.strip())
    if key is None:
        raise KeydError(_("{path}: expected 32 bytes or 64 hexadecimal digits").format(path=path))
    try:  # evaluating the generator checks the scalar as every evaluation will
        oprf.blind_evaluate(key, oprf.hash_to_group(b"leaktrace keyd"))
    except oprf.InvalidInputError as e:
        raise KeydError(
            _("{path}: not a reduced, non-zero ristretto255 scalar").format(path=path)
        ) from e
    return key


def _hex_key(text: bytes) -> bytes | None:
    """64 hexadecimal digits as 32 bytes, else None."""
    if len(text) != oprf.SCALAR_BYTES * 2:
        return None
    try:
        return bytes.fromhex(text.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        return None


def _write_private(path: Path, data: bytes, *, replace: bool) -> None:
    """Writes ``data`` to ``path`` with mode 0600, atomically (a temporary file renamed); refuses
    an existing ``path`` unless ``replace``."""
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if replace:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)  # fails if path exists, unlike a rename
            os.unlink(tmp)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def new_key(path: Path) -> None:
    """Writes a fresh random key to ``path`` (64 hex digits, mode 0600); refuses to overwrite."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        _write_private(path, oprf.random_scalar().hex().encode() + b"\n", replace=False)
    except FileExistsError as e:
        raise KeydError(
            _("{path}: a key file is already there; it is never overwritten").format(path=path)
        ) from e


_state_decoder = msgspec.json.Decoder(dict[str, dict[str, str | int]])


def load_state(path: Path, limiter: Limiter) -> None:
    """Takes the day's counters back from ``path`` (nothing if it does not exist yet)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return
    try:
        limiter.restore(_state_decoder.decode(data))  # type: ignore[arg-type]
    except (msgspec.DecodeError, KeyError, ValueError) as e:
        raise KeydError(
            _(
                "{path}: the state file is damaged; the key process will not start with its "
                "budget unknown"
            ).format(path=path)
        ) from e


def save_state(path: Path, snapshot: dict[str, dict[str, object]]) -> None:
    """Writes the day's counters to ``path`` atomically."""
    _write_private(path, msgspec.json.encode(snapshot), replace=True)


def _bind(path: Path, group: str | None = None) -> socket.socket:
    """A unix socket listening at ``path`` with mode 0600 (0660 and that group's with ``group``:
    for a web process running as another user); a stale socket file is replaced, a live one
    refused."""
    try:
        gid = None if group is None else grp.getgrnam(group).gr_gid
    except KeyError as e:
        raise KeydError(_("--socket-group: no group is named {name}").format(name=group)) from e
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)
    try:
        try:
            sock.bind(os.fspath(path))
        except OSError as e:
            if e.errno != errno.EADDRINUSE or not stat.S_ISSOCK(path.lstat().st_mode):
                raise
            probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            with probe, contextlib.suppress(ConnectionRefusedError):
                probe.connect(os.fspath(path))
                raise KeydError(
                    _("{path}: a key process already answers on this socket").format(path=path)
                ) from e
            path.unlink()
            sock.bind(os.fspath(path))
    except BaseException:
        sock.close()
        raise
    finally:
        os.umask(old)
    try:
        if gid is not None:
            os.chown(path, -1, gid)
        os.chmod(path, 0o600 if gid is None else 0o660)
    except OSError:
        sock.close()
        path.unlink()
        raise
    sock.listen(128)
    return sock


@dataclass
class KeyServer:
    """Answers evaluation requests with ``key``, within ``limiter``'s limits."""

    key: bytes
    limiter: Limiter
    state_path: Path
    workers: int
    clock: Callable[[], float] = time.time

    def __post_init__(self) -> None:
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="leaktrace-keyd")
        self._decoder = msgspec.msgpack.Decoder(Request)
        self._encoder = msgspec.msgpack.Encoder()
        self._dirty = False
        self._writers: set[asyncio.StreamWriter] = set()

    async def answer(self, body: bytes) -> Reply:
        """The reply to one frame's payload."""
        try:
            request = self._decoder.decode(body)
            net = request.caller.net
            if net is not None:
                net = str(ipaddress.ip_network(net))
        except (msgspec.DecodeError, ValueError):
            return Reply(ok=False, error="invalid")
        caller = Caller(request.caller.cls, request.caller.key_id, net)
        refusal = self.limiter.charge(caller, len(request.elements), self.clock())
        if refusal is not None:
            log.warning(
                _("refused ({error}): class {cls}, API key {key_id}, network {net}").format(
                    error=refusal.error, cls=caller.cls, key_id=caller.key_id, net=caller.net
                )
            )
            return Reply(
                ok=False, error=refusal.error, retry_after=refusal.retry_after, limit=refusal.limit
            )
        self._dirty = True
        loop = asyncio.get_running_loop()
        elements = request.elements
        chunks = [elements[i : i + CHUNK] for i in range(0, len(elements), CHUNK)]
        try:
            if len(elements) <= INLINE:
                parts = [self._evaluate(elements)]
            else:
                parts = await asyncio.gather(
                    *(loop.run_in_executor(self._pool, self._evaluate, c) for c in chunks)
                )
        except oprf.InvalidInputError:
            return Reply(ok=False, error="invalid")
        return Reply(ok=True, elements=[e for part in parts for e in part])

    def _evaluate(self, elements: list[bytes]) -> list[bytes]:
        return [oprf.blind_evaluate(self.key, e) for e in elements]

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Answers a connection's frames in turn until it closes; an oversized frame is refused
        and the connection closed (its end cannot be found)."""
        self._writers.add(writer)
        try:
            while True:
                size = int.from_bytes(await reader.readexactly(4), "big")
                if size > MAX_FRAME:
                    writer.write(frame(self._encoder.encode(Reply(ok=False, error="invalid"))))
                    await writer.drain()
                    return
                reply = await self.answer(await reader.readexactly(size))
                writer.write(frame(self._encoder.encode(reply)))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            self._writers.discard(writer)
            writer.close()

    async def _housekeeping(self, stop: asyncio.Event) -> None:
        """Until ``stop``: every second the counters to disk (written by another thread), every
        minute the full buckets forgotten."""
        loop = asyncio.get_running_loop()
        last_prune = self.clock()
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), FLUSH_SECONDS)
            if self._dirty:
                self._dirty = False
                try:
                    await loop.run_in_executor(
                        None, save_state, self.state_path, self.limiter.snapshot()
                    )
                except OSError as e:  # tried again next second
                    self._dirty = True
                    log.error(
                        _("{path}: the counters cannot be written ({reason})").format(
                            path=self.state_path, reason=e.strerror
                        )
                    )
            if self.clock() - last_prune >= PRUNE_SECONDS:
                last_prune = self.clock()
                self.limiter.prune(last_prune)

    async def serve(self, sock: socket.socket, *, until_stdin_closes: bool = False) -> None:
        """Serves on ``sock`` until SIGTERM or SIGINT (or the end of stdin, when asked: the
        parent's pipe, closed however the parent ends), then writes the counters."""
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        if until_stdin_closes:
            fd = sys.stdin.fileno()

            def read_stdin() -> None:
                if not os.read(fd, 4096):
                    loop.remove_reader(fd)
                    stop.set()

            loop.add_reader(fd, read_stdin)
        server = await asyncio.start_unix_server(self.handle, sock=sock, limit=MAX_FRAME)
        housekeeping = asyncio.create_task(self._housekeeping(stop))
        try:
            await stop.wait()
        finally:
            stop.set()
            server.close()
            for writer in list(self._writers):  # an idle connection's reader sees its end
                writer.close()
            while self._writers:
                await asyncio.sleep(0.01)
            self._pool.shutdown(wait=True)
            await housekeeping  # its last write done before the final one
            save_state(self.state_path, self.limiter.snapshot())


def _limits_arguments(parser: argparse.ArgumentParser) -> None:
    """One option per class and limit, its default from the environment or DEFAULT_LIMITS."""
    for cls in CLASSES:
        d = DEFAULT_LIMITS[cls]
        for scope, rate in (("key", d.per_key), ("net", d.per_net)):
            where = _("per API key") if scope == "key" else _("per client network")
            for unit, value, text in (
                ("per-hour", rate.per_second * 3600 if rate else 0, _("evaluations an hour")),
                ("burst", rate.burst if rate else 0, _("the largest burst (0: no such limit)")),
            ):
                _option(parser, f"--{cls}-{scope}-{unit}", value, f"{cls}, {where}: {text}")
        _option(parser, f"--{cls}-daily", d.daily, f"{cls}: " + _("evaluations a day, all told"))


def _option(parser: argparse.ArgumentParser, flag: str, default: float, text: str) -> None:
    env = "LEAKTRACE_KEYD_" + flag[2:].upper().replace("-", "_")
    parser.add_argument(
        flag,
        metavar="N",
        type=float,
        default=float(os.environ.get(env, default)),
        help=text + f" ({env}; {default:g})",
    )


def _limits(args: argparse.Namespace) -> dict[CallerClass, ClassLimits]:
    """The limits the options ask for; a bucket with a burst of 0 is none."""

    def rate(cls: str, scope: str) -> Rate | None:
        burst = int(getattr(args, f"{cls}_{scope}_burst"))
        per_hour = getattr(args, f"{cls}_{scope}_per_hour")
        if burst <= 0:
            return None
        if per_hour <= 0:
            raise ValueError(
                _("--{cls}-{scope}-per-hour: expected a positive rate").format(cls=cls, scope=scope)
            )
        return Rate(per_hour / 3600, burst)

    return {
        cls: ClassLimits(rate(cls, "key"), rate(cls, "net"), int(getattr(args, f"{cls}_daily")))
        for cls in CLASSES
    }


def parser() -> argparse.ArgumentParser:
    """The key process's command line."""
    p = argparse.ArgumentParser(
        prog="leaktrace registry keyd",
        description=_(
            "The registry's key process: holds the OPRF key (or one share of it) and evaluates "
            "blinded elements on a unix socket, within its limits."
        ),
    )
    p.add_argument("--new-key", metavar="FILE", type=Path, help=_("Write a new key and exit."))
    p.add_argument(
        "--key-file",
        metavar="FILE",
        type=Path,
        default=os.environ.get("LEAKTRACE_KEY_FILE"),
        help=_("The key file (LEAKTRACE_KEY_FILE): 32 bytes or 64 hex digits, mode 0600."),
    )
    p.add_argument(
        "--create-key",
        action="store_true",
        help=_("Write a new key to the key file first if there is none."),
    )
    p.add_argument("--socket", metavar="PATH", type=Path, help=_("The unix socket to answer on."))
    p.add_argument(
        "--socket-group",
        metavar="GROUP",
        help=_(
            "Let this group use the socket too (mode 0660), for a web process running as "
            "another user; by default the socket is its owner's alone (0600)."
        ),
    )
    p.add_argument(
        "--state-file",
        metavar="FILE",
        type=Path,
        help=_("Where the day's counters are kept (default: the key file's name + .state)."),
    )
    p.add_argument(
        "--until-stdin-closes",
        action="store_true",
        help=_(
            "Stop when stdin closes (how a parent process ties the key process's life to its own)."
        ),
    )
    p.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help=_("Threads evaluating in parallel (default: the number of cores)."),
    )
    _limits_arguments(p)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the key process (or writes a new key with ``--new-key``); 1 on a refusal."""
    p = parser()
    args = p.parse_args(argv)
    try:
        limits = _limits(args)
    except ValueError as e:
        p.error(str(e))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        if args.new_key is not None:
            new_key(args.new_key)
            return 0
        if args.key_file is None or args.socket is None:
            p.error(_("expected --key-file (or LEAKTRACE_KEY_FILE) and --socket"))
        if args.create_key and not args.key_file.exists():
            new_key(args.key_file)
        key = _read_key(args.key_file)
        state = args.state_file or args.key_file.with_name(args.key_file.name + ".state")
        limiter = Limiter(limits)
        load_state(state, limiter)
        sock = _bind(args.socket, args.socket_group)
    except (KeydError, OSError) as e:
        sys.stderr.write(_("error: {problem}").format(problem=e) + "\n")
        return 1
    server = KeyServer(key, limiter, state, max(1, args.workers))
    log.info(_("key process answering on {path}").format(path=args.socket))
    try:
        asyncio.run(server.serve(sock, until_stdin_closes=args.until_stdin_closes))
    finally:
        with contextlib.suppress(FileNotFoundError):
            args.socket.unlink()
    return 0


#: How long :func:`running` waits for a new key process to answer.
START_SECONDS = 30.0


@contextlib.contextmanager
def running(key_file: Path, socket_path: Path, *args: str) -> Iterator[subprocess.Popen[bytes]]:
    """A key process started (``--create-key``: a new key if the file is missing) and answering
    on ``socket_path`` inside the block, stopped (SIGTERM: its counters written) after it. It
    also stops when this process ends without stopping it (its stdin, our pipe, closes)."""
    command = [sys.executable, "-m", "leaktrace.registry.keyd", "--create-key"]
    command += ["--until-stdin-closes", "--key-file", os.fspath(key_file)]
    command += ["--socket", os.fspath(socket_path), *args]
    process = subprocess.Popen(command, stdin=subprocess.PIPE)
    try:
        _wait_answering(process, socket_path)
        yield process
    finally:
        process.terminate()
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(timeout=START_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_answering(process: subprocess.Popen[bytes], socket_path: Path) -> None:
    """Returns once ``socket_path`` accepts a connection; KeydError if the process ends first
    (it said why on stderr) or does not answer in START_SECONDS."""
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            try:
                probe.connect(os.fspath(socket_path))
                return
            except OSError:
                time.sleep(0.05)
    raise KeydError(_("{path}: the key process did not start").format(path=socket_path))


if __name__ == "__main__":
    sys.exit(main())
