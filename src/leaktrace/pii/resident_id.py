"""Resident identity number (GB 11643-1999): division, birth date, sequence, MOD 11-2 check;
the legacy 15-digit form is converted to 18 digits (century 19)."""

from __future__ import annotations

import datetime as dt
import re
from functools import cache
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa

from . import _checks
from .base import Kind, Validation, first_reason, full
from .columns import arrow_args, normalised
from .tables import division_last_year, division_name, divisions
from .text import CharMap, enough_unmasked, enough_unmasked_expr

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
# A holder older than this today is flagged as implausible, not invalid: the standard sets no
# age limit, leaks can be decades old, and an old customer's ID is real. 110: verified
# supercentenarians are a handful, so genuine lists hold such IDs only as old records or as
# filler birth dates (1900-01-01 and the like), each worth a look (verify counts them as a
# forgery signal).
PLAUSIBLE_AGE = 110
# Separators dropped, masks to '*', x to X (a check character, or a mask elsewhere).
_CHARS = CharMap(drop=" \t\r\n-", to_star="●#", extra={"x": "X"})
_SHAPE18 = "[0-9*]{17}[0-9X*]"
_SHAPE15 = "[0-9*]{15}"
_YEAR = "(18|19|20)"
# Municipalities, whose prefecture-level entries are stand-ins such as 市辖区.
_MUNICIPALITIES = ("11", "12", "31", "50")


def check_char(body: str) -> str:
    """MOD 11-2 check character of the first 17 digits."""
    return CHECK_CHARS[sum(int(c) * w for c, w in zip(body, WEIGHTS, strict=False)) % 11]


def _check_char_expr(body: pl.Expr) -> pl.Expr:
    """Vectorised :func:`check_char` (null unless all 17 characters are digits).

    The weights are 2**(17-i) mod 11 and 13 = 2 (mod 11), so the weighted sum is twice the
    digits read in base 13, mod 11: one integer parse instead of 17 digit extractions.
    """
    total = body.str.to_integer(base=13, strict=False).mod(11) * 2  # mod first: no overflow
    return total.mod(11).replace_strict(list(range(11)), list(CHECK_CHARS), return_dtype=pl.String)


@cache
def _division_codes() -> list[str]:
    """Every known division code."""
    return list(divisions())


@cache
def _last_years() -> tuple[pl.Series, pl.Series]:
    """Retired division codes and the last year each was in force."""
    last = division_last_year()
    return pl.Series("code", list(last), pl.String), pl.Series(
        "year", list(last.values()), pl.Int32
    )


@cache
def _last_year_table() -> np.ndarray:
    """Per 6-digit code: -1 unknown, 0 in force, else the last year it was in force."""
    table = np.full(1_000_000, -1, np.int16)
    for code in divisions():
        table[int(code)] = 0
    for code, year in division_last_year().items():
        table[int(code)] = year
    return table


def _ymd(d: dt.date) -> int:
    return d.year * 10000 + d.month * 100 + d.day


def _age_bounds(today: dt.date) -> tuple[dt.date, dt.date]:
    """(earliest plausible birth date, today)."""
    try:
        return today.replace(year=today.year - PLAUSIBLE_AGE), today
    except ValueError:  # 29 February
        return today.replace(year=today.year - PLAUSIBLE_AGE, day=28), today


def _birth_expr(digits: pl.Expr) -> pl.Expr:
    """Vectorised :func:`_birth_date` of the eight date digits (null when no real date)."""
    return pl.when(digits.str.contains(f"^{_YEAR}")).then(
        digits.str.to_date("%Y%m%d", strict=False)
    )


def _birth_date(digits: str) -> dt.date | None:
    if not re.match(_YEAR, digits):
        return None
    try:
        return dt.date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return None


class ResidentId(Kind):
    """Mainland resident identity number (居民身份证号码)."""

    name = "resident_id"
    label = "Resident ID"
    strong = True
    canonical = r"[0-9]{17}[0-9X]"
    header_words = (
        "身份证",
        "身份证号",
        "身份证号码",
        "证件号",
        "证件号码",
        "公民身份号码",
        "sfz",
        "sfzh",
        "id_card",
        "idcard",
        "id_no",
        "resident_id",
        "national_id",
    )
    # Words that introduce an ID in prose ("身份证号：…", "ID No. …"); after one, an ID-shaped
    # token that fails a check is still an (invalid) ID. Latin ones, in any case, only label
    # an ID at a line's start or after punctuation or a Chinese character (not "Order ID").
    context_words = (
        *("公民身份号码", "身份证号码", "身份证号", "身份证", "证件号码", "证件号", "证件"),
        *("ID card number", "ID card No.", "ID card", "ID number", "ID No.", "ID No", "ID"),
        *("sfzh", "sfz"),
    )
    pattern = "[0-9０-９][0-9０-９*＊xX●#]{13,}[0-9０-９Xx*＊]"
    run_lengths = frozenset({15, 18})
    FAST_REASONS = (
        "unknown_division",
        "impossible_birth_date",
        "future_birth_date",
        "division_not_in_force_at_birth",
        "bad_checksum",
        "masked",
    )
    FLAGS = ("implausible_age",)

    def normalize(self, raw: str) -> str | None:
        s = _CHARS.apply(raw)
        s = s[:17].replace("X", "*") + s[17:]  # X is a check character only in position 18
        if not enough_unmasked(s):
            return None
        if re.fullmatch(_SHAPE18, s):
            return s
        if re.fullmatch(_SHAPE15, s):
            body = s[:6] + "19" + s[6:]
            return body + ("*" if "*" in body else check_char(body))
        return None

    def normalize_expr(self, e: pl.Expr) -> pl.Expr:
        s = _CHARS.expr(e)
        s = s.str.slice(0, 17).str.replace_all("X", "*", literal=True) + s.str.slice(17)
        body = s.str.slice(0, 6) + pl.lit("19") + s.str.slice(6)
        converted = body + _check_char_expr(body).fill_null("*")
        return (
            pl.when(~enough_unmasked_expr(s))
            .then(pl.lit(None, dtype=pl.String))
            .when(s.str.contains(full(_SHAPE18)))
            .then(s)
            .when(s.str.contains(full(_SHAPE15)))
            .then(converted)
        )

    def validate(self, value: str) -> Validation:
        if len(value) != 18:
            return Validation.of(["bad_length"])
        if not re.fullmatch(_SHAPE18, value):
            return Validation.of(["bad_format"])
        reasons = []
        masked = "*" in value
        code, digits = value[:6], value[6:14]
        known = "*" not in code and code in divisions()
        if "*" not in code and not known:
            reasons.append("unknown_division")
        birth = None
        earliest, today = _age_bounds(dt.date.today())
        if "*" not in digits:
            birth = _birth_date(digits)
            if birth is None:
                reasons.append("impossible_birth_date")
            elif birth > today:
                reasons.append("future_birth_date")
        last = division_last_year().get(code)
        if known and birth is not None and last is not None and birth.year > last:
            reasons.append("division_not_in_force_at_birth")
        # The check digit last: a wrong one beside a real division and date is a forger's or a
        # typist's slip, which scanning reports as a near miss.
        if not masked and value[17] != check_char(value[:17]):
            reasons.append("bad_checksum")
        if masked:
            reasons.append("masked")
        old = not reasons and birth is not None and birth < earliest
        return Validation.of(reasons, ("implausible_age",) if old else ())

    def column_codes(self, values: pa.Array) -> tuple[np.ndarray, pa.Array]:
        earliest, today = _age_bounds(dt.date.today())
        args = (_last_year_table(), _ymd(earliest), _ymd(today))
        return normalised(_checks.resident_id(*arrow_args(values), *args))

    def reason_expr(self, e: pl.Expr) -> pl.Expr:
        masked = e.str.contains("*", literal=True)
        code, digits = e.str.slice(0, 6), e.str.slice(6, 8)
        code_visible = ~code.str.contains("*", literal=True)
        known = code_visible & code.is_in(_division_codes())
        date_visible = ~digits.str.contains("*", literal=True)
        birth = _birth_expr(digits)
        today = _age_bounds(dt.date.today())[1]
        codes, years = _last_years()
        last_year = code.replace_strict(codes, years, default=None, return_dtype=pl.Int32)
        return first_reason(
            [
                ("bad_length", e.str.len_chars() != 18),
                ("bad_format", ~e.str.contains(full(_SHAPE18))),
                ("unknown_division", code_visible & ~known),
                ("impossible_birth_date", date_visible & birth.is_null()),
                ("future_birth_date", date_visible & (birth > today)),
                ("division_not_in_force_at_birth", known & (birth.dt.year() > last_year)),
                (
                    "bad_checksum",
                    ~masked & (_check_char_expr(e.str.slice(0, 17)) != e.str.slice(17)),
                ),
                ("masked", masked),
            ]
        )

    def flag_expr(self, e: pl.Expr) -> pl.Expr:
        earliest = _age_bounds(dt.date.today())[0]
        old = _birth_expr(e.str.slice(6, 8)) < earliest
        return pl.when(old).then(pl.lit("implausible_age"))

    def derive(self, value: str) -> dict[str, Any]:
        """Province, city and county names (as in force at birth), birth date and sex."""
        code = value[:6] if len(value) == 18 and "*" not in value[:6] else None
        birth = _birth_date(value[6:14]) if len(value) == 18 and "*" not in value[6:14] else None
        year = birth.year if birth else None
        out: dict[str, Any] = {
            "province": None,
            "city": None,
            "county": None,
            "birth_date": birth,
            "sex": None,
        }
        if len(value) == 18 and value[16].isdigit():
            out["sex"] = "male" if int(value[16]) % 2 else "female"
        if code is None or code not in divisions():
            return out
        out["province"] = division_name(code[:2] + "0000", year)
        city = division_name(code[:4] + "00", year) if code[2:] != "0000" else None
        if city is not None and divisions()[code[:4] + "00"][0].level == "prefecture":
            out["city"] = None if _not_a_city(city) else city
        if out["city"] is None and code[:2] in _MUNICIPALITIES:
            out["city"] = out["province"]
        if not code.endswith("00"):
            out["county"] = division_name(code, year)
        return out

    def mask(self, value: str) -> str:
        return (
            value[:6] + "*" * (len(value) - 10) + value[-4:]
            if len(value) > 10
            else super().mask(value)
        )


def _not_a_city(name: str) -> bool:
    """Prefecture-level entries that are not cities (市辖区, 县, 省直辖县级行政单位…)."""
    return name in ("市辖区", "县") or "直辖" in name
