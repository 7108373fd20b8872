"""Mainland mobile numbers: 11 digits from 1, carrier segment from phonenumbers' data; written
with +86/0086/86 prefixes, spaces, dashes, dots, parentheses or full-width digits."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa

from . import _checks
from .base import Kind, Validation, first_reason, full
from .columns import arrow_args, normalised
from .tables import by_length, mobile_segments
from .text import CharMap, enough_unmasked, enough_unmasked_expr

_CHARS = CharMap(drop=" \t\r\n-.()", to_star="●#xX")
_SHAPE = "1[0-9*]{10}"
_PREFIXED = r"(?:\+86|0086|86)?(1[0-9*]{10})"
_D = "[0-9０-９]"
_DM = "[0-9０-９*＊xX]"


def segment(value: str) -> str | None:
    """The longest segment prefix of ``value`` in the table, or None."""
    table = mobile_segments()
    for _, keys in by_length(table):
        if value[: len(keys[0])] in table:
            return value[: len(keys[0])]
    return None


@cache
def _allocated_table() -> np.ndarray:
    """1 at 10**k + p for each allocated k-digit segment p (k = 3, 4, 5), and at 200000 + h
    for each three-digit head h some segment starts with."""
    table = np.zeros(201_000, np.uint8)
    for prefix in mobile_segments():
        table[10 ** len(prefix) + int(prefix)] = 1
    for head in _allocated_heads():
        table[200_000 + int(head)] = 1
    return table


def _allocated_heads() -> list[str]:
    """First three digits of every allocated segment (all a masked number lets us check)."""
    return sorted({p[:3] for p in mobile_segments()})


class Mobile(Kind):
    """Mainland China mobile number (手机号)."""

    name = "mobile"
    label = "Mobile number"
    strong = True
    canonical = r"1[3-9][0-9]{9}"
    header_words = (
        "手机",
        "手机号",
        "手机号码",
        "电话",
        "联系电话",
        "联系方式",
        "移动电话",
        "mobile",
        "phone",
        "cell",
        "tel",
        "telephone",
        "msisdn",
    )
    context_words = ("手机", "电话", "联系", "致电", "tel", "mobile", "phone", "微信")
    # The leading and trailing digit runs make a match span the whole digit run it sits in.
    pattern = (
        rf"(?:(?:[+＋]|00)86[ \-]?|86[ \-])?{_D}*1{_DM}{{2}}[ \-.]?{_DM}{{4}}[ \-.]?{_DM}{{4}}{_D}*"
    )
    run_lengths = frozenset({11, 13, 15})
    FAST_REASONS = ("unallocated_segment", "masked")

    def normalize(self, raw: str) -> str | None:
        s = _CHARS.apply(raw)
        m = re.fullmatch(_PREFIXED, s)
        if m is None or not enough_unmasked(m.group(1)):
            return None
        return m.group(1)

    def normalize_expr(self, e: pl.Expr) -> pl.Expr:
        s = _CHARS.expr(e)
        n = s.str.extract(full(_PREFIXED), 1)
        return pl.when(enough_unmasked_expr(n)).then(n)

    def validate(self, value: str) -> Validation:
        if len(value) != 11:
            return Validation.of(["bad_length"])
        if not re.fullmatch(_SHAPE, value):
            return Validation.of(["bad_format"])
        if "*" in value:
            head = value[:3]
            if "*" not in head and head not in _allocated_heads():
                return Validation.of(["unallocated_segment", "masked"])
            return Validation.of(["masked"])
        return Validation.of([] if segment(value) else ["unallocated_segment"])

    def column_codes(self, values: pa.Array) -> tuple[np.ndarray, pa.Array]:
        return normalised(_checks.mobile(*arrow_args(values), _allocated_table()))

    def reason_expr(self, e: pl.Expr) -> pl.Expr:
        masked = e.str.contains("*", literal=True)
        head = e.str.slice(0, 3)
        allocated = pl.any_horizontal(
            [e.str.slice(0, n).is_in(keys) for n, keys in by_length(mobile_segments())]
        )
        return first_reason(
            [
                ("bad_length", e.str.len_chars() != 11),
                ("bad_format", ~e.str.contains(full(_SHAPE))),
                ("unallocated_segment", ~masked & ~allocated),
                (
                    "unallocated_segment",
                    ~head.str.contains("*", literal=True) & ~head.is_in(_allocated_heads()),
                ),
                ("masked", masked),
            ]
        )

    def derive(self, value: str) -> dict[str, Any]:
        """Segment prefix and carrier (English and Chinese) when the prefix is visible."""
        prefix = segment(value)
        en, zh = mobile_segments()[prefix] if prefix else ("", "")
        return {"segment": prefix, "carrier": en or None, "carrier_zh": zh or None}

    def mask(self, value: str) -> str:
        return (
            value[:3] + "*" * (len(value) - 7) + value[-4:]
            if len(value) > 7
            else super().mask(value)
        )
