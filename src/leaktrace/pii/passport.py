"""Chinese passport numbers: ordinary E+8 digits, E+letter+7 digits (after the E digits ran
out), older G+8 digits; diplomatic DE, service SE and public-affairs PE + 7 digits."""

from __future__ import annotations

import re
from typing import Any

import polars as pl

from .base import Kind, Validation, first_reason, full
from .text import CharMap, shaped, shaped_expr, upper_ascii

_CHARS = CharMap(drop=" \t\r\n-", to_star="●#", extra=upper_ascii())
_SHAPE = "[A-Z][A-Z0-9*]{7,9}"
_FORMS = "E[0-9*]{8}|E[A-Z*][0-9*]{7}|G[0-9*]{8}|[DSP]E[0-9*]{7}"
_SERIES = {
    "DE": "diplomatic",
    "SE": "service",
    "PE": "public affairs",
    "E": "ordinary",
    "G": "ordinary",
}


class Passport(Kind):
    """People's Republic of China passport number (护照号)."""

    name = "passport"
    label = "Passport number"
    strong = False
    header_words = ("护照", "护照号", "护照号码", "证件号", "passport", "passport_no")
    context_words = ("护照", "passport", "出入境", "签证")
    pattern = "(?:[EeGg][0-9０-９*＊]{8}|[Ee][A-Za-z][0-9０-９*＊]{7}|[DdSsPp][Ee][0-9０-９*＊]{7})"

    def normalize(self, raw: str) -> str | None:
        return shaped(_CHARS, _SHAPE, raw)

    def normalize_expr(self, e: pl.Expr) -> pl.Expr:
        return shaped_expr(_CHARS, _SHAPE, e)

    def validate(self, value: str) -> Validation:
        if len(value) != 9:
            return Validation.of(["bad_length"])
        if not re.fullmatch(_FORMS, value):
            return Validation.of(["bad_format"])
        return Validation.of(["masked"] if "*" in value else [])

    def reason_expr(self, e: pl.Expr) -> pl.Expr:
        return first_reason(
            [
                ("bad_length", e.str.len_chars() != 9),
                ("bad_format", ~e.str.contains(full(_FORMS))),
                ("masked", e.str.contains("*", literal=True)),
            ]
        )

    def derive(self, value: str) -> dict[str, Any]:
        """The passport type its series letters stand for."""
        series = value[:2] if value[:2] in _SERIES else value[:1]
        return {"series": series if series in _SERIES else None, "type": _SERIES.get(series)}

    def mask(self, value: str) -> str:
        return (
            value[:2] + "*" * (len(value) - 4) + value[-2:]
            if len(value) > 4
            else super().mask(value)
        )
