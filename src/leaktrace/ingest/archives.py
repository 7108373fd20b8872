"""The members of zip, tar and rar archives, one at a time, with their declared sizes.

Zip (stored, deflated, bzip2, lzma; ZipCrypto and AES) through pyzipper; tar (plain, gzip, bzip2,
xz) through tarfile in stream mode; rar through rarfile, which needs an unpacking tool."""

from __future__ import annotations

import functools
import lzma
import stat
import tarfile
import zlib
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import BinaryIO

import pyzipper
import rarfile
from pyzipper.zipfile_aes import WZ_AES_COMPRESS_TYPE

from leaktrace.errors import InputError
from leaktrace.i18n import N_
from leaktrace.ingest.limits import CHUNK
from leaktrace.ingest.member import Member, MemberError

NEED_PASSWORD = N_("a password (--password or LEAKTRACE_PASSWORD)")
WRONG_PASSWORD = N_("the password that opens it; the one given does not")
RAR_TOOL = N_(
    "a tool to unpack rar archives on this machine (Debian: apt-get install unar, or "
    "libarchive-tools; scripts/ensure_unar.sh installs unar)"
)
_UTF8_NAME = 0x800  # zip flag: the member's name is UTF-8
#: The compression methods zipfile decodes (AES members name 99 until pyzipper decrypts them);
#: any other (Deflate64, PPMd, ...) is refused by name before a member is opened.
_ZIP_METHODS = frozenset(
    {
        pyzipper.ZIP_STORED,
        pyzipper.ZIP_DEFLATED,
        pyzipper.ZIP_BZIP2,
        pyzipper.ZIP_LZMA,
        WZ_AES_COMPRESS_TYPE,
    }
)


def zip_members(path: Path, name: str, password: str | None) -> Generator[Member, None, None]:
    """The members of a zip archive; encrypted ones are opened with ``password`` (tried as UTF-8,
    then as GB18030, the code page older Chinese tools encrypt with)."""
    try:
        zf = pyzipper.AESZipFile(path)
    except (pyzipper.BadZipFile, OSError, ValueError):
        raise InputError(
            name, N_("a readable zip archive"), N_("a damaged or truncated one")
        ) from None
    with zf:
        for info in zf.infolist():
            kind = "dir" if info.is_dir() else _unix_kind(info.external_attr >> 16)
            yield Member(
                _zip_name(info),
                functools.partial(_zip_chunks, zf, info, password),
                kind=kind,
                size=info.file_size,
                compressed=info.compress_size,
            )


def _unix_kind(mode: int) -> str:
    """file, link or special, from a member's Unix mode (0 or no type bits: a file)."""
    if stat.S_ISLNK(mode):
        return "link"
    return "special" if stat.S_IFMT(mode) not in (0, stat.S_IFREG) else "file"


def _zip_name(info: pyzipper.ZipInfo) -> str:
    """A member's name as its maker wrote it: names without the UTF-8 flag are UTF-8 (Linux and
    macOS tools) or GBK (Chinese Windows), which zipfile shows as cp437 mojibake."""
    if info.flag_bits & _UTF8_NAME or info.filename.isascii():
        return info.filename
    raw = info.filename.encode("cp437")
    for encoding in ("utf-8", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return info.filename


def _zip_chunks(
    zf: pyzipper.AESZipFile, info: pyzipper.ZipInfo, password: str | None
) -> Iterator[bytes]:
    if info.compress_type not in _ZIP_METHODS:
        raise MemberError(
            N_("a compression method leaktrace reads (stored, deflate, bzip2, lzma)"),
            N_("zip method {method}"),
            method=info.compress_type,
        )
    encrypted = bool(info.flag_bits & 0x1)
    if encrypted and not password:
        raise MemberError(NEED_PASSWORD, N_("an encrypted member"))
    f: BinaryIO | None = None
    for pwd in _password_bytes(password) if encrypted else [None]:
        try:
            f = zf.open(info, pwd=pwd)
            break
        except RuntimeError:  # "Bad password for file"
            continue
    if f is None:
        raise MemberError(WRONG_PASSWORD)
    with f:
        try:
            while data := f.read(CHUNK):
                yield data
        except (pyzipper.BadZipFile, zlib.error, lzma.LZMAError, EOFError, OSError, RuntimeError):
            raise MemberError(
                N_("an undamaged member"), N_("a damaged one (or the password is wrong)")
            ) from None


def _password_bytes(password: str | None) -> list[bytes]:
    candidates = [password.encode("utf-8")] if password else []
    if password and not password.isascii():
        candidates.append(password.encode("gb18030", "replace"))
    return candidates


def tar_members(path: Path, name: str, password: str | None) -> Generator[Member, None, None]:
    """The members of a tar archive (compressed or not), read in one pass."""
    del password  # tar has no encryption
    try:
        tf = tarfile.open(path, "r|*")
    except (tarfile.TarError, OSError, EOFError, zlib.error, lzma.LZMAError):
        raise InputError(name, N_("a readable tar archive"), N_("a damaged one")) from None
    with tf:
        try:
            for info in tf:
                kind = (
                    "file"
                    if info.isreg()
                    else "dir"
                    if info.isdir()
                    else "link"
                    if info.issym() or info.islnk()
                    else "special"
                )
                yield Member(
                    info.name, functools.partial(_tar_chunks, tf, info), kind=kind, size=info.size
                )
        except (tarfile.TarError, OSError, EOFError, zlib.error, lzma.LZMAError):
            raise InputError(
                name, N_("a complete tar archive"), N_("it truncated or damaged; the rest is lost")
            ) from None


def _tar_chunks(tf: tarfile.TarFile, info: tarfile.TarInfo) -> Iterator[bytes]:
    f = tf.extractfile(info)
    assert f is not None  # a regular file
    try:
        while data := f.read(CHUNK):
            yield data
    except (tarfile.TarError, OSError, EOFError, zlib.error, lzma.LZMAError):
        raise MemberError(N_("a complete member"), N_("it truncated or damaged")) from None


def rar_members(path: Path, name: str, password: str | None) -> Generator[Member, None, None]:
    """The members of a rar archive; compressed members need an unpacking tool (see RAR_TOOL)."""
    try:
        rf = rarfile.RarFile(str(path))
        if rf.needs_password() and password:
            rf.setpassword(password)
        elif rf.needs_password() and not rf.infolist():  # names encrypted: nothing listed
            raise rarfile.PasswordRequired
    except rarfile.PasswordRequired:
        raise InputError(name, NEED_PASSWORD, N_("a rar archive with encrypted names")) from None
    except rarfile.RarWrongPassword:
        raise InputError(name, WRONG_PASSWORD) from None
    except (rarfile.Error, OSError):
        raise InputError(name, N_("a readable rar archive"), N_("a damaged one")) from None
    with rf:
        for info in rf.infolist():
            kind = "dir" if info.is_dir() else "link" if info.is_symlink() else "file"
            yield Member(
                info.filename,
                functools.partial(_rar_chunks, rf, info, password),
                kind=kind,
                size=info.file_size,
                compressed=info.compress_size,
            )


def _rar_chunks(
    rf: rarfile.RarFile, info: rarfile.RarInfo, password: str | None
) -> Iterator[bytes]:
    if info.needs_password() and not password:
        raise MemberError(NEED_PASSWORD, N_("an encrypted member"))
    try:
        with rf.open(info) as f:
            while data := f.read(CHUNK):
                yield data
    except rarfile.RarCannotExec:
        raise MemberError(RAR_TOOL, N_("none installed")) from None
    except (rarfile.RarWrongPassword, rarfile.PasswordRequired):
        raise MemberError(WRONG_PASSWORD) from None
    except (rarfile.Error, OSError, EOFError):
        raise MemberError(
            N_("an undamaged member"), N_("a damaged one (or the password is wrong)")
        ) from None
