"""E-mail addresses (ASCII, as found in leaks): lower-cased, with '*' kept as a mask."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa

from . import _checks
from .base import Kind, Validation, first_reason, full
from .columns import arrow_args, codes_only
from .text import CharMap

_STRIP = " \t\r\n"
_CHARS = CharMap(to_star="●")
_SHAPE = "[!-?A-~]+@[!-?A-~]+"  # printable ASCII with exactly one '@'
_LOCAL = r"[a-z0-9_%+*\-]+(?:\.[a-z0-9_%+*\-]+)*"
_DOMAIN = r"(?:[a-z0-9*](?:[a-z0-9*\-]*[a-z0-9*])?\.)+[a-z*]{2,}"
_W = "A-Za-zＡ-Ｚａ-ｚ0-9０-９"


def _parts(value: str) -> tuple[str, str]:
    local, _, domain = value.partition("@")
    return local, domain


class Email(Kind):
    """E-mail address (邮箱)."""

    name = "email"
    label = "E-mail address"
    strong = False
    canonical = r"[a-z0-9._%+\-]+@[a-z0-9.\-]+"
    header_words = ("邮箱", "电子邮箱", "电子邮件", "邮件", "email", "e-mail", "mail")
    context_words = ("邮箱", "邮件", "email", "mail", "@")
    FAST_REASONS = ("bad_length", "bad_local_part", "bad_domain")
    pattern = rf"[{_W}._%+\-*＊]+[@＠][{_W}\-]+(?:[.．][{_W}\-]+)*[.．][A-Za-zＡ-Ｚａ-ｚ]{{2,}}"

    def normalize(self, raw: str) -> str | None:
        s = _CHARS.apply(raw).strip(_STRIP)
        return s.lower() if re.fullmatch(_SHAPE, s) else None

    def normalize_expr(self, e: pl.Expr) -> pl.Expr:
        s = _CHARS.expr(e).str.strip_chars(_STRIP)
        return pl.when(s.str.contains(full(_SHAPE))).then(s.str.to_lowercase())

    def validate(self, value: str) -> Validation:
        if not re.fullmatch(_SHAPE, value) or value != value.lower():
            return Validation.of(["bad_format"])
        local, domain = _parts(value)
        reasons = []
        if len(value) > 254 or len(local) > 64:
            reasons.append("bad_length")
        if not re.fullmatch(_LOCAL, local):
            reasons.append("bad_local_part")
        if not re.fullmatch(_DOMAIN, domain):
            reasons.append("bad_domain")
        if "*" in value:
            reasons.append("masked")
        return Validation.of(reasons)

    def column_codes(self, values: pa.Array) -> tuple[np.ndarray, None]:
        return codes_only(_checks.email(*arrow_args(values)))

    def reason_expr(self, e: pl.Expr) -> pl.Expr:
        local = e.str.extract("^([^@]*)@", 1)
        domain = e.str.extract("@(.*)$", 1)
        return first_reason(
            [
                ("bad_format", ~e.str.contains(full(_SHAPE)) | e.str.contains("[A-Z]")),
                ("bad_length", (e.str.len_chars() > 254) | (local.str.len_chars() > 64)),
                ("bad_local_part", ~local.str.contains(full(_LOCAL))),
                ("bad_domain", ~domain.str.contains(full(_DOMAIN))),
                ("masked", e.str.contains("*", literal=True)),
            ]
        )

    def derive(self, value: str) -> dict[str, Any]:
        """The domain, where mail for the address goes."""
        return {"domain": _parts(value)[1] or None}

    def mask(self, value: str) -> str:
        local, domain = _parts(value)
        if not domain or not local:
            return super().mask(value)
        return local[0] + "*" * max(3, len(local) - 1) + "@" + domain
