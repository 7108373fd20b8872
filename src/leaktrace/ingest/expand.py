"""Files, folders and archives given to ``scan``, expanded lazily into the Sources to scan.

A folder is walked (hidden and binary files reported, not scanned); an archive, e-mail or Word/PDF
document is a container whose members are spooled one at a time to a private temporary directory,
opened as sources named ``archive.zip!path/inside.csv`` (nested: ``a.zip!b.tar.gz!c.csv``), and
removed when the next is asked for. Limits (ingest.limits) bound bombs, nesting and member counts;
what they stop is reported on the container, and the other members still scan."""

from __future__ import annotations

import os
import zipfile
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath

from leaktrace.errors import InputError, Message, Verbatim
from leaktrace.i18n import N_
from leaktrace.ingest import limits
from leaktrace.ingest.archives import rar_members, tar_members, zip_members
from leaktrace.ingest.docx_reader import docx_members
from leaktrace.ingest.files import check_file, compression_in, read_head
from leaktrace.ingest.mail_reader import eml_members, mbox_members
from leaktrace.ingest.member import Member, MemberDigest, MemberError
from leaktrace.ingest.opener import open_source
from leaktrace.ingest.pdf_reader import pdf_members
from leaktrace.ingest.problems import ProblemLog
from leaktrace.ingest.sevenzip import sevenzip_members
from leaktrace.ingest.sniff import sniff_container, sniff_zip
from leaktrace.ingest.source import Problem, Source
from leaktrace.ingest.spool import Meter, OverLimit, Spool

BINARY = N_("text, a table, a document or an archive, found binary data (not scanned)")
# what a member that is no regular file was found to be
_LINKS = {
    "link": N_("a regular file, found a link; not followed"),
    "special": N_("a regular file, found a device or FIFO; not followed"),
}
_OPENERS: dict[str, Callable[..., Generator[Member, None, None]]] = {
    "zip": zip_members,
    "tar": tar_members,
    "7z": sevenzip_members,
    "rar": rar_members,
    "eml": eml_members,
    "mbox": mbox_members,
    "docx": docx_members,
}


@dataclass
class Container:
    """A folder, archive, e-mail or document whose members are scanned as sources of their own;
    its own problems (hidden files, bombs, passwords, members not read) are listed under it.
    ``problems`` fills as its members are read: it is complete once they all have been."""

    name: str
    format: str  # folder, zip, tar, 7z, rar, eml, mbox, docx, pdf, binary
    size: int
    problems: list[Problem] = field(default_factory=list)
    # its files as read (SHA-256 taken while spooling them) and, when not all could be, why
    members: list[MemberDigest] = field(default_factory=list)
    members_note: Message | None = None


def expand(
    paths: Iterable[Path], spool: Spool, password: str | None = None
) -> Generator[Source | Container, None, None]:
    """The sources to scan under ``paths``, each container before its members. A path that is
    unusable itself raises InputError; trouble inside a folder or container is a Problem."""
    for path in paths:
        if path.is_dir():
            yield from _folder(path, spool, password)
        else:
            check_file(path)
            yield from _entry(path, str(path), _Context(spool, password), 0, None, None)


ARCHIVES = ("zip", "tar", "7z", "rar")  # containers of files (a mail or a document is not one)


def archive_members(path: Path, password: str | None) -> Generator[Member, None, None] | None:
    """The members of ``path`` when it is an archive (zip, tar, 7z, rar), else None (a mail or a
    document is not one): what the evidence trail hashes one by one."""
    kind = _kind(path, path.name)
    return _OPENERS[kind](path, str(path), password) if kind in ARCHIVES else None


def is_container(path: Path) -> bool:
    """Whether ``path`` is a folder or a container (its scanned size is not its size on disk)."""
    return path.is_dir() or _kind(path, path.name) not in (None, "xlsx", "ods")


@dataclass
class _Context:
    spool: Spool
    password: str | None


def _folder(root: Path, spool: Spool, password: str | None) -> Iterator[Source | Container]:
    container = Container(str(root), "folder", 0)
    yield container
    log = ProblemLog(str(root), container.problems)
    context = _Context(spool, password)

    def unreadable(error: OSError) -> None:
        log.add("unreadable", str(error.filename), N_("a readable folder, found it unreadable"))

    try:
        for folder, dirs, files in os.walk(root, onerror=unreadable):
            here = Path(folder)
            for d in sorted(dirs):
                if d.startswith(".") or (here / d).is_symlink():
                    log.add(
                        "hidden",
                        f"{here / d}/",
                        N_("a visible folder, found a link (not followed)")
                        if (here / d).is_symlink()
                        else N_("a visible folder, found a hidden one; not scanned"),
                    )
                    dirs.remove(d)
            dirs.sort()
            for f in sorted(files):
                path = here / f
                if f.startswith("."):
                    log.add(
                        "hidden", str(path), N_("a visible file, found a hidden one; not scanned")
                    )
                elif not path.is_file():
                    log.add(
                        "special", str(path), N_("a regular file, found a broken link or device")
                    )
                else:
                    yield from _entry(path, str(path), context, 0, log, None)
    finally:
        log.finish()


def _kind(path: Path, name: str) -> str | None:
    """What ``path`` holds: a container format, xlsx/ods, "binary", or None (text, tables)."""
    with path.open("rb") as f:
        head = f.read(limits.HEAD)
    compression = compression_in(head)
    tar_head = read_head(path, compression, 1024)[0] if compression else None
    kind = sniff_container(head, tar_head, name)
    if kind == "zip":
        try:
            with zipfile.ZipFile(path) as zf:
                kind = sniff_zip(zf.namelist())
        except (zipfile.BadZipFile, OSError, ValueError):
            pass  # zip_members reports the damage
    elif kind is None and name.lower().endswith(".pdf") and b"%PDF-" in head:
        kind = "pdf"
    return kind


def _entry(
    path: Path,
    name: str,
    context: _Context,
    depth: int,
    log: ProblemLog | None,
    meter: Meter | None,
    member: Member | None = None,
) -> Iterator[Source | Container]:
    """The source(s) in one file: itself, or a container and its members. ``log`` is the
    enclosing folder's or container's (None for a file the user named: its errors raise)."""
    try:
        # a member whose container knows its format (a mail's headers, a DOCX table) is that
        kind = None if member is not None and member.format else _kind(path, name)
        if kind not in _OPENERS and kind not in ("pdf", "binary"):
            source = open_source(
                path,
                format=(member.format if member else None) or kind,
                encoding=member.encoding if member else None,
                name=name,
            )
            source.inside = log is not None
    except (InputError, OSError) as e:
        if log is None:
            raise
        log.add("unreadable", name, expected_text(e))
        return
    if kind == "binary":
        if log is None:
            yield Container(
                name, "binary", path.stat().st_size, [Problem(name, Message(BINARY), kind="binary")]
            )
        else:
            log.add("binary", name, BINARY)
    elif kind in _OPENERS or kind == "pdf":
        yield from _container(path, name, kind, context, depth, meter, log)
    else:
        yield source


def _container(
    path: Path,
    name: str,
    kind: str,
    context: _Context,
    depth: int,
    meter: Meter | None,
    log: ProblemLog | None,
) -> Iterator[Source | Container]:
    """The container first (its problems fill as its members are read), then its members."""
    if depth >= limits.ARCHIVE_DEPTH_MAX and log is not None:
        log.add(
            "depth",
            name,
            N_("archives nested at most {depth} deep, found a deeper one; not opened"),
            depth=limits.ARCHIVE_DEPTH_MAX,
        )
        return
    container = Container(name, kind, path.stat().st_size)
    yield container
    own = ProblemLog(name, container.problems)
    own_meter = Meter(container.size, budget=meter)
    members = (
        pdf_members(path, name, context.password, own)
        if kind == "pdf"
        else _OPENERS[kind](path, name, context.password)
    )
    try:
        for count, member in enumerate(members, 1):
            if count > limits.ARCHIVE_MEMBERS_MAX:
                container.members_note = Message(
                    N_("at most {members:,} members, found more; the rest not read"),
                    members=limits.ARCHIVE_MEMBERS_MAX,
                )
                own.add("members", name, container.members_note)
                break
            yield from _member(member, name, context, depth, own, own_meter, container.members)
    except (InputError, OSError) as e:  # the container itself is damaged: the rest is lost
        container.members_note = expected_text(e)
        own.add("archive", name, container.members_note)
    finally:
        members.close()
        own.finish()


def _member(
    member: Member,
    parent: str,
    context: _Context,
    depth: int,
    log: ProblemLog,
    meter: Meter,
    read: list[MemberDigest],
) -> Iterator[Source | Container]:
    """Spool one member (its digest, or why it could not be read, added to ``read``), scan what
    it holds, remove it."""
    name = f"{parent}!{member.name}"
    if member.kind == "dir":
        return
    if member.kind != "file":
        log.add("link", name, _LINKS.get(member.kind, _LINKS["special"]))
        return
    inner = PurePosixPath(member.name.replace("\\", "/"))
    if inner.is_absolute() or ".." in inner.parts or PureWindowsPath(member.name).drive:
        log.add(
            "path",
            name,
            N_(
                "a path inside the archive, found one that leaves it (absolute or '..'); "
                "read without extracting it there"
            ),
        )
    try:
        spooled = context.spool.write(member.chunks(), inner.suffix, meter, member.compressed)
    except OverLimit as e:
        log.add("limit", name, N_("{limit}; not scanned"), limit=e.what)
        read.append(MemberDigest(member.name, member.size, None, e.what))
        return
    except MemberError as e:
        log.add("member", name, e.what())
        read.append(MemberDigest(member.name, member.size, None, e.what()))
        return
    except OSError as e:  # the temporary directory is full or gone
        room = Message(
            N_("room to unpack it in {folder}, found {error}"),
            folder=str(context.spool.dir.parent),
            error=Verbatim(e.strerror or ""),
        )
        log.add("spool", name, room)
        read.append(MemberDigest(member.name, member.size, None, room))
        return
    read.append(MemberDigest(member.name, spooled.size, spooled.sha256))
    try:
        yield from _entry(spooled.path, name, context, depth + 1, log, meter, member)
    finally:
        spooled.path.unlink(missing_ok=True)


def expected_text(error: InputError | OSError) -> Message:
    """What an error says was expected, without its place (the Problem names it)."""
    if isinstance(error, InputError):
        return error.what()
    if error.strerror:
        return Message(N_("a readable file, found {error}"), error=Verbatim(error.strerror))
    return Message(N_("a readable file, found an error"))
