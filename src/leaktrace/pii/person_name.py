"""Chinese personal names: 2-4 Han characters starting with a known surname (compound surnames
such as 欧阳 included), or the 'A·B' form of ethnic-minority names."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa

from . import _checks
from .base import Kind, Validation, first_reason, full
from .columns import arrow_args, codes_only
from .tables import surnames
from .text import CharMap

# Dots written for the middle dot U+00B7 of 'A·B' names; 某 (as in 张某) is the customary way
# to hide a given name, so it counts as a mask.
_DOTS = ".•・\u2022\u2027\u30fb\uff65"
_CHARS = CharMap(drop=" \t\r\n", to_star="●○xX#某", extra={c: "·" for c in _DOTS})
_HAN = "一-鿿㐀-䶿"
_SHAPE = f"[{_HAN}*·]+"
_HAN_NAME = f"[{_HAN}*]+"
_MINORITY = f"[{_HAN}*]+(?:·[{_HAN}*]+)+"


@cache
def _surname_tables() -> tuple[np.ndarray, np.ndarray]:
    """One-character surnames as a flag per code point from U+3400, two-character ones as
    sorted (first << 32 | second) code point pairs: the compiled check's tables."""
    single, compound = surnames()
    flags = np.zeros(0x9FFF - 0x3400 + 1, np.uint8)
    for s in single:
        if 0x3400 <= ord(s) <= 0x9FFF:
            flags[ord(s) - 0x3400] = 1
    pairs = sorted((ord(c[0]) << 32) | ord(c[1]) for c in compound if len(c) == 2)
    return flags, np.array(pairs, np.uint64)


def _known_surname(value: str) -> bool:
    single, compound = surnames()
    return value[:2] in compound or value[:1] in single


class PersonName(Kind):
    """Personal name in Chinese characters (姓名)."""

    name = "person_name"
    label = "Person name"
    strong = False
    header_words = (
        "姓名",
        "名字",
        "客户姓名",
        "户名",
        "持卡人",
        "联系人",
        "收件人",
        "投保人",
        "被保险人",
        "借款人",
        "name",
        "full_name",
        "customer_name",
        "realname",
    )
    context_words = (
        "姓名",
        "名字",
        "本人",
        "客户",
        "联系人",
        "联系",
        "收件人",
        "收货人",
        "持卡人",
        "户名",
        "借款人",
        "投保人",
        "被保险人",
        "申请人",
        "机主",
        "户主",
        "认识",
        "接到",
        # roles that records name a person by: owners, payees, travellers, guests, patients
        "紧急联系人",
        "车主",
        "业主",
        "法人",
        "开户人",
        "收款人",
        "付款人",
        "乘客",
        "同行人",
        "入住人",
        "患者",
        "name",
        "customer",
    )
    FAST_REASONS = ("unknown_surname",)
    pattern = f"[{_HAN}]{{1,8}}[·•・.][{_HAN}]{{1,8}}|[{_HAN}]{{2}}[{_HAN}*＊某]{{0,2}}"

    def normalize(self, raw: str) -> str | None:
        s = _CHARS.apply(raw)
        return s if re.fullmatch(_SHAPE, s) and re.search(f"[{_HAN}]", s) else None

    def normalize_expr(self, e: pl.Expr) -> pl.Expr:
        s = _CHARS.expr(e)
        return pl.when(s.str.contains(full(_SHAPE)) & s.str.contains(f"[{_HAN}]")).then(s)

    def validate(self, value: str) -> Validation:
        minority = "·" in value
        n = len(value)
        if (minority and not 3 <= n <= 20) or (not minority and not 2 <= n <= 4):
            return Validation.of(["bad_length"])
        if not re.fullmatch(_MINORITY if minority else _HAN_NAME, value):
            return Validation.of(["bad_format"])
        reasons = []
        if not minority and value[0] != "*" and not _known_surname(value):
            reasons.append("unknown_surname")
        if "*" in value:
            reasons.append("masked")
        return Validation.of(reasons)

    def column_codes(self, values: pa.Array) -> tuple[np.ndarray, None]:
        return codes_only(_checks.person_name(*arrow_args(values), *_surname_tables()))

    def reason_expr(self, e: pl.Expr) -> pl.Expr:
        single, compound = surnames()
        minority = e.str.contains("·", literal=True)
        n = e.str.len_chars()
        first = e.str.slice(0, 1)
        known = e.str.slice(0, 2).is_in(sorted(compound)) | first.is_in(sorted(single))
        return first_reason(
            [
                (
                    "bad_length",
                    pl.when(minority).then((n < 3) | (n > 20)).otherwise((n < 2) | (n > 4)),
                ),
                (
                    "bad_format",
                    pl.when(minority)
                    .then(~e.str.contains(full(_MINORITY)))
                    .otherwise(~e.str.contains(full(_HAN_NAME))),
                ),
                ("unknown_surname", ~minority & (first != "*") & ~known),
                ("masked", e.str.contains("*", literal=True)),
            ]
        )

    def derive(self, value: str) -> dict[str, Any]:
        """Surname and given name ('A·B' names have no surname: A is the person's own name)."""
        if "·" in value:
            return {
                "surname": None,
                "given_name": value.partition("·")[0] or None,
                "compound_surname": False,
                "minority_form": True,
            }
        compound = value[:2] in surnames()[1] and len(value) > 2
        cut = 2 if compound else 1
        return {
            "surname": value[:cut] if value[:1] != "*" else None,
            "given_name": value[cut:] or None,
            "compound_surname": compound,
            "minority_form": False,
        }

    def mask(self, value: str) -> str:
        if "·" in value:
            given, _, rest = value.partition("·")
            return given[:1] + "*" * (len(given) - 1) + "·" + "*" * len(rest)
        cut = 2 if value[:2] in surnames()[1] and len(value) > 2 else 1
        return value[:cut] + "*" * (len(value) - cut)
