"""Guess a file's text encoding from its head: BOMs, NUL patterns, UTF-8, GB18030, then charset-normalizer."""

from __future__ import annotations

import codecs

from charset_normalizer import from_bytes

from leaktrace.errors import InputError, Verbatim
from leaktrace.i18n import N_

# Chinese single/double-byte encodings all decode as GB18030, their superset.
_GB_FAMILY = {"gb2312", "gbk", "cp936", "gb18030", "hz"}
_MIXED_UTF8_TOLERANCE = 0.2  # share of bad bytes among non-ASCII ones still read as UTF-8


def normalize_encoding(name: str) -> str:
    """Canonical codec name for a user-given encoding; GBK and GB2312 become gb18030."""
    try:
        canonical = codecs.lookup(name).name
    except LookupError:
        raise InputError("encoding", N_("a known text encoding"), Verbatim(name)) from None
    return "gb18030" if canonical in _GB_FAMILY else canonical


def detect_encoding(head: bytes, at_eof: bool = False) -> str:
    """Name the encoding of ``head`` (a file's first bytes): utf-8, utf-8-sig, utf-16-le/-be, gb18030, …

    A BOM decides; otherwise NULs at odd/even offsets mean UTF-16; then text that is (nearly
    all) valid UTF-8 is UTF-8, text valid as GB18030 is GB18030, and charset-normalizer decides
    the rest. UTF-8 with a few bad bytes stays UTF-8, so mixed files lose only those bytes."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith(codecs.BOM_UTF16_LE):
        return "utf-16-le"
    if head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16-be"
    utf16 = _utf16_by_nuls(head)
    if utf16:
        return utf16
    if _is_mostly_utf8(head, at_eof):
        return "utf-8"
    if _decodes(head, "gb18030", at_eof):
        return "gb18030"
    best = from_bytes(head).best()
    if best is None:
        return "gb18030"
    return normalize_encoding(best.encoding)


def _utf16_by_nuls(head: bytes) -> str | None:
    """UTF-16 without BOM: ASCII characters put a NUL in every other byte."""
    sample = head[: len(head) - len(head) % 2]
    if len(sample) < 4:
        return None
    half = len(sample) // 2
    even = sample[0::2].count(0) / half
    odd = sample[1::2].count(0) / half
    if odd > 0.2 and even < 0.05 and _decodes(sample, "utf-16-le", True):
        return "utf-16-le"
    if even > 0.2 and odd < 0.05 and _decodes(sample, "utf-16-be", True):
        return "utf-16-be"
    return None


def _is_mostly_utf8(head: bytes, at_eof: bool) -> bool:
    """True if ``head`` is valid UTF-8, or has multibyte UTF-8 with only a few bad bytes."""
    if _decodes(head, "utf-8", at_eof):
        return True
    non_ascii = sum(1 for b in head if b >= 0x80)
    text = codecs.getincrementaldecoder("utf-8")("replace").decode(head, at_eof)
    bad = text.count("\ufffd")
    return bad <= non_ascii * _MIXED_UTF8_TOLERANCE


def _decodes(data: bytes, encoding: str, at_eof: bool) -> bool:
    """Whether ``data`` decodes strictly; an incomplete last character is fine unless at EOF."""
    try:
        codecs.getincrementaldecoder(encoding)("strict").decode(data, at_eof)
    except UnicodeDecodeError:
        return False
    return True
