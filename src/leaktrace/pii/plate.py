"""Vehicle registration plates (GA 36): province abbreviation, issuing-office letter and five
characters, or six for new-energy vehicles (D/F marks electric or hybrid)."""

from __future__ import annotations

import re
from typing import Any

import polars as pl

from .base import Kind, Validation, first_reason, full
from .text import CharMap, upper_ascii

PROVINCES = {
    "京": "北京市",
    "津": "天津市",
    "沪": "上海市",
    "渝": "重庆市",
    "冀": "河北省",
    "豫": "河南省",
    "云": "云南省",
    "辽": "辽宁省",
    "黑": "黑龙江省",
    "湘": "湖南省",
    "皖": "安徽省",
    "鲁": "山东省",
    "新": "新疆维吾尔自治区",
    "苏": "江苏省",
    "浙": "浙江省",
    "赣": "江西省",
    "鄂": "湖北省",
    "桂": "广西壮族自治区",
    "甘": "甘肃省",
    "晋": "山西省",
    "蒙": "内蒙古自治区",
    "陕": "陕西省",
    "吉": "吉林省",
    "闽": "福建省",
    "贵": "贵州省",
    "粤": "广东省",
    "青": "青海省",
    "藏": "西藏自治区",
    "川": "四川省",
    "宁": "宁夏回族自治区",
    "琼": "海南省",
}
_CHARS = CharMap(drop=" \t\r\n·•・-.", to_star="●#", extra=upper_ascii())
SUFFIX = "挂学警港澳"
_SHAPE = f"[一-鿿][A-Z*][A-Z0-9*{SUFFIX}]{{5,6}}"
_L = "[A-HJ-NP-Z*]"  # letters I and O are not used
_LD = "[A-HJ-NP-Z0-9*]"
_FORMS = (
    f"[一-鿿*]{_L}{_LD}{{4}}[A-HJ-NP-Z0-9*{SUFFIX}]"
    f"|[一-鿿*]{_L}(?:[DF*]{_LD}[0-9*]{{4}}|[0-9*]{{5}}[DF*])"
)


class Plate(Kind):
    """Mainland vehicle licence plate (车牌号)."""

    name = "plate"
    label = "Vehicle plate"
    strong = False
    header_words = (
        "车牌",
        "车牌号",
        "车牌号码",
        "号牌",
        "号牌号码",
        "plate",
        "license_plate",
        "plate_no",
    )
    context_words = ("车牌", "号牌", "车辆", "机动车", "plate")
    pattern = (
        f"[{''.join(PROVINCES)}][A-Za-zＡ-Ｚ][ ·•・\\-]?"
        f"[A-Za-z0-9Ａ-Ｚ０-９*＊]{{4,5}}[A-Za-z0-9Ａ-Ｚ０-９*＊{SUFFIX}]"
    )

    def normalize(self, raw: str) -> str | None:
        s = _CHARS.apply(raw)
        return s if re.fullmatch(_SHAPE, s) else None

    def normalize_expr(self, e: pl.Expr) -> pl.Expr:
        s = _CHARS.expr(e)
        return pl.when(s.str.contains(full(_SHAPE))).then(s)

    def validate(self, value: str) -> Validation:
        if len(value) not in (7, 8):
            return Validation.of(["bad_length"])
        if value[0] not in PROVINCES and value[0] != "*":
            return Validation.of(["unknown_province"])
        if not re.fullmatch(_FORMS, value):
            return Validation.of(["bad_format"])
        return Validation.of(["masked"] if "*" in value else [])

    def reason_expr(self, e: pl.Expr) -> pl.Expr:
        n = e.str.len_chars()
        return first_reason(
            [
                ("bad_length", (n != 7) & (n != 8)),
                ("unknown_province", ~e.str.slice(0, 1).is_in([*PROVINCES, "*"])),
                ("bad_format", ~e.str.contains(full(_FORMS))),
                ("masked", e.str.contains("*", literal=True)),
            ]
        )

    def derive(self, value: str) -> dict[str, Any]:
        """Province of registration and whether it is a new-energy plate."""
        return {"province": PROVINCES.get(value[:1]), "new_energy": len(value) == 8}

    def mask(self, value: str) -> str:
        return (
            value[:2] + "*" * (len(value) - 4) + value[-2:]
            if len(value) > 4
            else super().mask(value)
        )
