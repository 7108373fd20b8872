"""The evidence trail of a run, for filing with a regulator or the police: what was analysed
(each input's size and SHA-256, each archive member's too), against which master and history,
by which tool, version, parameters and engine, when and on which machine.

The inputs are hashed in a thread beside the work (hashlib leaves the GIL while it hashes, and
the file is in the page cache the work reads it through), so the trail costs little extra time.
No password appears in it: a URL's password is dropped and a ``password`` parameter is "given".
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import platform
import socket
import threading
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from leaktrace.errors import InputError, Message, Verbatim
from leaktrace.extras import MissingExtraError
from leaktrace.i18n import N_
from leaktrace.ingest import limits
from leaktrace.ingest.expand import ARCHIVES, Container, archive_members, expected_text
from leaktrace.ingest.member import MemberDigest, MemberError
from leaktrace.ingest.postgres import is_postgres_url, postgres_place
from leaktrace.ingest.spool import Meter, OverLimit
from leaktrace.plain import plain

BLOCK = 1 << 20  # bytes hashed at a time
# China Standard Time: UTC+8 all year since 1991, so a fixed offset is exact for any run.
CHINA = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")
GIVEN = "given"  # what the trail shows for a password that was given
_SECRET_KEYS = {"password", "passwd", "pwd", "pass"}  # query parameters dropped from URLs


@dataclass
class FileDigest:
    """One input file: its name, the path as given, its size and SHA-256; an archive's
    members too (``members_note`` says why some or all are missing)."""

    name: str
    path: str
    size: int
    sha256: str | None
    members: list[MemberDigest] = field(default_factory=list)
    members_note: Message | None = None


@dataclass
class SourceEvidence:
    """The master or history: where it was read (a path, or a URL without password, with the
    table), its rows, its as-of date and how that was decided, and its file's digest if local."""

    place: str
    rows: int | None = None
    as_of: dt.date | None = None
    as_of_source: str | None = None  # given, latest_opening, latest_change or none
    file: FileDigest | None = None


@dataclass
class Machine:
    """Where the run ran."""

    hostname: str
    os: str
    python: str
    cpus: int | None


@dataclass
class Evidence:
    """The evidence trail of one run (``to_dict`` is JSON-ready). Times are ISO 8601 with their
    UTC offset: in UTC, and in China Standard Time (Asia/Shanghai), the time an officer reads."""

    tool: str
    version: str
    command: str
    parameters: dict[str, Any]
    engine: str | None
    started: str
    ended: str
    started_china: str
    ended_china: str
    machine: Machine
    inputs: list[FileDigest]
    master: SourceEvidence | None = None
    history: SourceEvidence | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (dates as ISO strings)."""
        return plain(self)


def without_password(text: str) -> str:
    """``text`` with the password of a URL in it removed (user and host kept); other text as
    it is. A PostgreSQL URL is shown as libpq reads it (a password in its query too)."""
    if "://" not in text:
        return text
    if is_postgres_url(text):
        try:
            return postgres_place(text)
        except MissingExtraError:  # psycopg absent: the generic rules below still apply
            pass
    try:
        parts = urlsplit(text)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:  # not a URL after all (a bad port): shown without what follows "//"
        return text.split("://", 1)[0] + "://…"
    user = f"{parts.username}@" if parts.username else ""
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if k.lower() not in _SECRET_KEYS])
    return urlunsplit((parts.scheme, f"{user}{host}{port}", parts.path, query, parts.fragment))


def safe_parameters(parameters: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters of a call as the trail shows them: paths and dates as text, URLs
    without their password, a password as "given" (or None when none was)."""
    return {
        k: (GIVEN if v else None) if k.lower() in _SECRET_KEYS else _safe_value(v)
        for k, v in parameters.items()
    }


def _safe_value(v: Any) -> Any:
    if isinstance(v, Mapping):
        return {str(k): _safe_value(x) for k, x in v.items()}
    if isinstance(v, list | tuple | set | frozenset):
        items = sorted(v, key=str) if isinstance(v, set | frozenset) else v
        return [_safe_value(x) for x in items]
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, str | Path):
        return without_password(str(v))
    return v


def machine() -> Machine:
    """This machine: host name, operating system, Python version and CPU count."""
    return Machine(
        socket.gethostname(), platform.platform(), platform.python_version(), os.cpu_count()
    )


def tool_version() -> str:
    """leaktrace's installed version (``unknown`` when run from an uninstalled tree)."""
    try:
        return metadata.version("leaktrace")
    except metadata.PackageNotFoundError:
        return "unknown"


def input_files(paths: Sequence[Path]) -> list[Path]:
    """The files under ``paths``: a file itself, a folder's visible regular files (sorted, links
    not followed, as the scan walks it)."""
    out: list[Path] = []
    for path in paths:
        if not path.is_dir():
            out.append(path)
            continue
        for folder, dirs, files in os.walk(path):
            here = Path(folder)
            dirs[:] = sorted(
                d for d in dirs if not d.startswith(".") and not (here / d).is_symlink()
            )
            out += [
                here / f
                for f in sorted(files)
                if not f.startswith(".") and (here / f).is_file() and not (here / f).is_symlink()
            ]
    return out


class _Stopped(Exception):
    """The run ended before its inputs were hashed (it failed): hashing stops."""


def _blocks(chunks: Iterator[bytes], stop: threading.Event) -> Iterator[bytes]:
    for chunk in chunks:
        if stop.is_set():
            raise _Stopped
        yield chunk


def _file_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as f:
        while block := f.read(BLOCK):
            yield block


def file_digest(
    path: Path,
    password: str | None = None,
    members: bool = True,
    stop: threading.Event | None = None,
) -> FileDigest:
    """``path``'s size and SHA-256, streamed in 1 MiB blocks; with ``members``, an archive's
    members' too (encrypted ones opened with ``password``), bounded as the scan bounds them."""
    stop = stop or threading.Event()
    h = hashlib.sha256()
    size = 0
    for block in _blocks(_file_chunks(path), stop):
        h.update(block)
        size += len(block)
    digest = FileDigest(path.name, str(path), size, h.hexdigest())
    if members:
        _member_digests(path, password, digest, stop)
    return digest


def _member_digests(
    path: Path, password: str | None, digest: FileDigest, stop: threading.Event
) -> None:
    """Fill ``digest.members`` with the archive's members (a file not an archive has none).
    Nested archives are hashed as members, their own members not listed."""
    try:
        found = archive_members(path, password)
    except (InputError, OSError):
        return  # not readable as a container: the file's own digest stands
    if found is None:
        return
    meter = Meter(digest.size)
    try:
        for count, member in enumerate(found, 1):
            if count > limits.ARCHIVE_MEMBERS_MAX:
                digest.members_note = Message(
                    N_("at most {members:,} members, found more; the rest not read"),
                    members=limits.ARCHIVE_MEMBERS_MAX,
                )
                break
            if member.kind != "file":
                continue
            h = hashlib.sha256()
            size = 0
            try:
                for block in _blocks(member.chunks(), stop):
                    size += len(block)
                    if size > limits.MEMBER_BYTES_MAX:
                        raise OverLimit(
                            Message(
                                N_("members of at most {gib} GiB"),
                                gib=limits.MEMBER_BYTES_MAX >> 30,
                            )
                        )
                    meter.add(len(block))
                    h.update(block)
            except MemberError as e:
                digest.members.append(MemberDigest(member.name, member.size, None, e.what()))
                continue
            except OverLimit as e:
                digest.members.append(MemberDigest(member.name, member.size, None, e.what))
                digest.members_note = e.what
                break
            digest.members.append(MemberDigest(member.name, size, h.hexdigest()))
    except (InputError, OSError) as e:  # damaged part way: what was listed stands
        digest.members_note = expected_text(e)
    finally:
        found.close()


class Trail:
    """The trail of one run, started with it: hashes the inputs in a thread while the run
    works; ``finish`` waits for them and gives the Evidence. As a context manager, a run that
    fails stops the hashing."""

    def __init__(
        self,
        command: str,
        parameters: Mapping[str, Any],
        inputs: Sequence[Path],
        *,
        engine: str | None = None,
        password: str | None = None,
        sources: Mapping[str, Path | None] | None = None,
        members: bool = True,
    ) -> None:
        """``inputs`` are hashed, with their archive members unless the run reads them itself
        (``members=False``: a scan hashes them as it spools them, and ``finish`` takes them
        from its containers); ``sources`` (master, history: local files or None) whole."""
        self.command = command
        self.parameters = safe_parameters(parameters)
        self.engine = engine
        self.started = dt.datetime.now(dt.UTC)
        self._stop = threading.Event()
        files = input_files(inputs)
        extra = {k: p for k, p in (sources or {}).items() if p is not None}
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="leaktrace-evidence")
        self._inputs: Future[list[FileDigest]] = pool.submit(
            lambda: [file_digest(p, password, members, self._stop) for p in files]
        )
        self._sources: Future[dict[str, FileDigest]] = pool.submit(
            lambda: {k: file_digest(p, members=False, stop=self._stop) for k, p in extra.items()}
        )
        pool.shutdown(wait=False)

    def __enter__(self) -> Trail:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        for job in (self._inputs, self._sources):
            job.exception()  # waits for the thread to notice and end

    def finish(
        self,
        master: SourceEvidence | None = None,
        history: SourceEvidence | None = None,
        containers: Sequence[Container] = (),
    ) -> Evidence:
        """The trail, once the inputs are hashed; ``master`` and ``history`` get their files'
        digests, inputs that are archives their members as the scan's ``containers`` read them.
        A file that cannot be read raises InputError naming it."""
        try:
            inputs = self._inputs.result()
            sources = self._sources.result()
        except OSError as e:
            raise InputError(
                str(e.filename), N_("a readable file to hash"), Verbatim(e.strerror or "EIO")
            ) from None
        for name, src in (("master", master), ("history", history)):
            if src is not None:
                src.file = sources.get(name)
        read = {c.name: c for c in containers if c.format in ARCHIVES}
        for digest in inputs:
            if digest.path in read:
                digest.members = read[digest.path].members
                digest.members_note = read[digest.path].members_note
        ended = dt.datetime.now(dt.UTC)
        return Evidence(
            tool="leaktrace",
            version=tool_version(),
            command=self.command,
            parameters=self.parameters,
            engine=self.engine,
            started=self.started.isoformat(timespec="seconds"),
            ended=ended.isoformat(timespec="seconds"),
            started_china=self.started.astimezone(CHINA).isoformat(timespec="seconds"),
            ended_china=ended.astimezone(CHINA).isoformat(timespec="seconds"),
            machine=machine(),
            inputs=inputs,
            master=master,
            history=history,
        )


def local_file(source: str | Path | None) -> Path | None:
    """``source`` as a path when it is an existing regular file (not a URL or a folder)."""
    if source is None or is_postgres_url(source):
        return None
    path = Path(source)
    return path if path.is_file() else None
