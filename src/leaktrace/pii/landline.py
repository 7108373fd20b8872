"""Mainland fixed-line numbers: trunk 0, area code (010, 02x or 0xxx) and a 7-8 digit local
number; area codes, local lengths and the number ranges come from phonenumbers' number plan."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import numpy as np
import phonenumbers
import polars as pl
import pyarrow as pa

from . import _checks
from .base import Kind, Validation, first_reason, full
from .columns import arrow_args, normalised
from .tables import area_codes
from .text import CharMap, enough_unmasked, enough_unmasked_expr

_CHARS = CharMap(drop=" \t\r\n-.()", to_star="●#xX")
_SHAPE = "0[0-9*]{10,11}"
_PREFIXED = r"(?:(?:\+86|0086|86)0?|0)([1-9*][0-9*]{9,10})"
_D = "[0-9０-９]"
_DM = "[0-9０-９*＊xX]"
_AREA = rf"(?:[(（]0{_D}{{2,3}}[)）]|0{_D}{{2,3}})"
_INTL_AREA = rf"(?:[(（]0?{_D}{{2,3}}[)）]|0?{_D}{{2,3}})"


def split(value: str) -> tuple[str, str] | None:
    """(area code with its 0, local number), or None when the area code is hidden."""
    if len(value) < 2 or value[1] == "*":
        return None
    n = 3 if value[1] in "12" else 4
    return value[:n], value[n:]


@cache
def fixed_line_pattern() -> str:
    """phonenumbers' pattern of China's fixed-line national numbers (no trunk 0), ASCII digits."""
    meta = phonenumbers.PhoneMetadata.metadata_for_region("CN")
    return meta.fixed_line.national_number_pattern.replace(r"\d", "[0-9]")


@cache
def _length_table() -> np.ndarray:
    """Per area code (4 digits with its 0 at the code's value, 3 digits at 10000 + value):
    1 known, 2 local numbers of 7 digits accepted, 4 of 8 digits."""
    table = np.zeros(11_000, np.uint8)
    for code, (lengths, _, _) in area_codes().items():
        at = int(code) + (10_000 if len(code) == 3 else 0)
        table[at] = 1 | (2 if 7 in lengths else 0) | (4 if 8 in lengths else 0)
    return table


def _lengths(local_length: int) -> list[str]:
    return sorted(code for code, (lengths, _, _) in area_codes().items() if local_length in lengths)


class Landline(Kind):
    """Mainland fixed-line telephone number (座机)."""

    name = "landline"
    label = "Landline number"
    strong = False
    canonical = r"0[1-9][0-9]{9,10}"
    header_words = (
        "座机",
        "固话",
        "固定电话",
        "电话",
        "办公电话",
        "家庭电话",
        "单位电话",
        "landline",
        "tel",
        "telephone",
        "phone",
        "office_phone",
    )
    context_words = ("座机", "固话", "电话", "办公", "tel", "fax", "传真")
    pattern = (
        rf"(?:(?:[+＋]|00)86[ \-]?{_INTL_AREA}|{_D}*{_AREA})[ \-]?{_DM}{{3,4}}[ \-]?{_DM}{{4}}{_D}*"
    )
    run_lengths = frozenset({11, 12, 13, 14, 15, 16})  # with 86 / 0086 before the 0-less area code
    FAST_REASONS = ("unknown_area_code", "bad_local_length", "masked")

    def normalize(self, raw: str) -> str | None:
        s = _CHARS.apply(raw)
        m = re.fullmatch(_PREFIXED, s)
        if m is None or not enough_unmasked(m.group(1)):
            return None
        return "0" + m.group(1)

    def normalize_expr(self, e: pl.Expr) -> pl.Expr:
        s = _CHARS.expr(e)
        n = s.str.extract(full(_PREFIXED), 1)
        return pl.when(enough_unmasked_expr(n)).then(pl.lit("0") + n)

    def validate(self, value: str) -> Validation:
        if len(value) not in (11, 12):
            return Validation.of(["bad_length"])
        if not re.fullmatch(_SHAPE, value):
            return Validation.of(["bad_format"])
        reasons = []
        parts = split(value)
        if parts and "*" not in parts[0]:
            area, local = parts
            if area not in area_codes():
                reasons.append("unknown_area_code")
            elif len(local) not in area_codes()[area][0]:
                reasons.append("bad_local_length")
        if "*" not in value and not re.fullmatch(fixed_line_pattern(), value[1:]):
            reasons.append("bad_local_number")
        if "*" in value:
            reasons.append("masked")
        return Validation.of(reasons)

    def column_codes(self, values: pa.Array) -> tuple[np.ndarray, pa.Array]:
        return normalised(_checks.landline(*arrow_args(values), _length_table()))

    def finish_expr(self, e: pl.Expr) -> pl.Expr:
        return pl.when(~e.str.slice(1).str.contains(full(fixed_line_pattern()))).then(
            pl.lit("bad_local_number")
        )

    def reason_expr(self, e: pl.Expr) -> pl.Expr:
        masked = e.str.contains("*", literal=True)
        two = e.str.slice(1, 1).is_in(["1", "2"])
        visible = e.str.slice(1, 1) != "*"
        area = pl.when(two).then(e.str.slice(0, 3)).otherwise(e.str.slice(0, 4))
        local = pl.when(two).then(e.str.slice(3)).otherwise(e.str.slice(4))
        area_visible = visible & ~area.str.contains("*", literal=True)
        known = area.is_in(list(area_codes()))
        n_local = local.str.len_chars()
        length_ok = ((n_local == 7) & area.is_in(_lengths(7))) | (
            (n_local == 8) & area.is_in(_lengths(8))
        )
        n = e.str.len_chars()
        return first_reason(
            [
                ("bad_length", (n != 11) & (n != 12)),
                ("bad_format", ~e.str.contains(full(_SHAPE))),
                ("unknown_area_code", area_visible & ~known),
                ("bad_local_length", area_visible & ~length_ok),
                (
                    "bad_local_number",
                    ~masked & ~e.str.slice(1).str.contains(full(fixed_line_pattern())),
                ),
                ("masked", masked),
            ]
        )

    def derive(self, value: str) -> dict[str, Any]:
        """Area code, local number and the region the area code serves."""
        parts = split(value)
        if not parts:
            return {"area_code": None, "local_number": None, "region": None, "region_zh": None}
        known = area_codes().get(parts[0])
        return {
            "area_code": parts[0],
            "local_number": parts[1],
            "region": known[2] if known else None,
            "region_zh": known[1] if known else None,
        }

    def mask(self, value: str) -> str:
        parts = split(value)
        if not parts or len(parts[1]) <= 4:
            return super().mask(value)
        return parts[0] + "*" * (len(parts[1]) - 4) + parts[1][-4:]
