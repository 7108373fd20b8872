"""Bank card numbers: 16-19 digits with the Luhn check; issuer from the BIN table (an unknown
BIN is a note, not a failure, since the table covers only the main banks)."""

from __future__ import annotations

import itertools
import re
from functools import cache
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa

from . import _checks
from .base import Kind, Validation, first_reason, full
from .columns import arrow_args, normalised
from .tables import by_length, card_bins
from .text import CharMap, shaped, shaped_expr

_CHARS = CharMap(drop=" \t\r\n-", to_star="●#xX")
_SHAPE = "[0-9*]{16,19}"
_DM = "[0-9０-９*＊xX]"


def luhn_ok(digits: str) -> bool:
    """Luhn (ISO/IEC 7812) check over a string of digits."""
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c)
        total += d if i % 2 == 0 else (2 * d - 9 if d >= 5 else 2 * d)
    return total % 10 == 0


def _doubled(d: int) -> int:
    return 2 * d - 9 if d >= 5 else 2 * d


@cache
def _luhn_table() -> pl.Series:
    """Luhn contribution (mod 10) of every 4-digit group whose 1st and 3rd digits are doubled,
    indexed by the group's value."""
    groups = itertools.product(range(10), repeat=4)
    return pl.Series(
        "luhn4", [(_doubled(a) + b + _doubled(c) + d) % 10 for a, b, c, d in groups], pl.UInt8
    )


def _luhn_expr(e: pl.Expr) -> pl.Expr:
    """Vectorised :func:`luhn_ok` for up to 20 digits: zero-fill to 20 (so the doubled digits
    are the odd positions from the left), look each 4-digit group's contribution up by its
    value, and sum. Null where a character is not a digit."""
    s = e.str.zfill(20)
    table = pl.lit(_luhn_table())
    groups = [
        table.gather(s.str.slice(4 * i, 4).cast(pl.UInt16, strict=False)).cast(pl.UInt16)
        for i in range(5)
    ]
    return sum(groups[1:], groups[0]) % 10 == 0  # '+' keeps nulls, unlike sum_horizontal


def issuer(value: str) -> tuple[str, tuple[str, str, str]] | None:
    """(BIN, (bank_zh, bank_en, card_type)) of the longest known prefix of ``value``."""
    table = card_bins()
    for n, _ in by_length(table):
        if value[:n] in table:
            return value[:n], table[value[:n]]
    return None


def network(value: str) -> str | None:
    """Card scheme from the leading digits (ISO/IEC 7812 ranges of the schemes)."""
    if value.startswith("62"):
        return "UnionPay"
    if value.startswith("4"):
        return "Visa"
    if value[:2] in ("51", "52", "53", "54", "55"):
        return "Mastercard"
    if value[:2] == "35":
        return "JCB"
    return None


class BankCard(Kind):
    """Debit or credit card number (银行卡号)."""

    name = "bank_card"
    label = "Bank card number"
    strong = True
    canonical = r"[0-9]{16,19}"
    header_words = (
        "银行卡",
        "银行卡号",
        "卡号",
        "账号",
        "银行账号",
        "借记卡",
        "信用卡",
        "card",
        "card_no",
        "cardno",
        "bank_card",
        "account",
        "pan",
    )
    context_words = ("银行卡", "卡号", "账号", "开户行", "银行", "card", "account")
    pattern = (
        rf"[0-9０-９*＊]{_DM}{{3}}(?:[ \-]?{_DM}{{4}}){{2}}[ \-]?{_DM}{{4,}}(?:[ \-]{_DM}{{1,4}})?"
    )
    run_lengths = frozenset({16, 17, 18, 19})
    FAST_REASONS = ("bad_checksum", "masked")

    def normalize(self, raw: str) -> str | None:
        return shaped(_CHARS, _SHAPE, raw)

    def normalize_expr(self, e: pl.Expr) -> pl.Expr:
        return shaped_expr(_CHARS, _SHAPE, e)

    def validate(self, value: str) -> Validation:
        if not 16 <= len(value) <= 19:
            return Validation.of(["bad_length"])
        if not re.fullmatch(_SHAPE, value):
            return Validation.of(["bad_format"])
        notes = () if "*" in value[:6] or issuer(value) else ("unknown_bin",)
        if "*" in value:
            return Validation.of(["masked"], notes)
        return Validation.of([] if luhn_ok(value) else ["bad_checksum"], notes)

    def column_codes(self, values: pa.Array) -> tuple[np.ndarray, pa.Array]:
        return normalised(_checks.bank_card(*arrow_args(values)))

    def reason_expr(self, e: pl.Expr) -> pl.Expr:
        masked = e.str.contains("*", literal=True)
        n = e.str.len_chars()
        return first_reason(
            [
                ("bad_length", (n < 16) | (n > 19)),
                ("bad_format", ~e.str.contains(full(_SHAPE))),
                ("bad_checksum", ~masked & ~_luhn_expr(e)),
                ("masked", masked),
            ]
        )

    def derive(self, value: str) -> dict[str, Any]:
        """BIN, issuing bank, card type and scheme, when the leading digits are visible."""
        found = issuer(value)
        bank_zh, bank_en, card_type = found[1] if found else (None, None, None)
        return {
            "bin": found[0] if found else None,
            "bank": bank_en,
            "bank_zh": bank_zh,
            "card_type": card_type,
            "network": network(value),
        }

    def mask(self, value: str) -> str:
        return (
            value[:4] + "*" * (len(value) - 8) + value[-4:]
            if len(value) > 8
            else super().mask(value)
        )
