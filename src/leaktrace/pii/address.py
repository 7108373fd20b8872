"""Chinese postal addresses: recognised by division names (GB/T 2260, current names) and
street-level markers; derive gives the province, city and county named."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa

from . import _checks
from .base import Kind, Validation, first_reason
from .columns import arrow_args, codes_only
from .tables import divisions
from .text import CharMap

_CHARS = CharMap(drop=" \t\r\n", to_star="●○")
_HAN = "一-鿿"
DETAIL_MARKERS = (
    "路",
    "街",
    "道",
    "巷",
    "弄",
    "号",
    "村",
    "组",
    "镇",
    "乡",
    "室",
    "楼",
    "栋",
    "幢",
    "单元",
    "小区",
    "大厦",
    "花园",
    "公寓",
)
_PROVINCE_SUFFIXES = (
    "特别行政区",
    "维吾尔自治区",
    "壮族自治区",
    "回族自治区",
    "自治区",
    "省",
    "市",
)
_CITY_SUFFIXES = ("地区", "市", "盟")
# Names of stand-in or generic entries (市辖区, 县) that would match ordinary words.
_GENERIC = ("市辖区", "县", "郊区", "矿区", "城区", "新区", "开发区")
MIN_LENGTH, MAX_LENGTH = 6, 200
# Where a free-text address candidate may end, tried in this order (街道 before 街).
STREET_MARKERS = (
    "号",
    "室",
    "座",
    "村",
    "组",
    "楼",
    "栋",
    "幢",
    "单元",
    "弄",
    "巷",
    "街道",
    "路",
    "街",
    "镇",
    "乡",
)
PROVINCE_SHORT_NAMES = (
    "北京",
    "天津",
    "河北",
    "山西",
    "内蒙古",
    "辽宁",
    "吉林",
    "黑龙江",
    "上海",
    "江苏",
    "浙江",
    "安徽",
    "福建",
    "江西",
    "山东",
    "河南",
    "湖北",
    "湖南",
    "广东",
    "广西",
    "海南",
    "重庆",
    "四川",
    "贵州",
    "云南",
    "西藏",
    "陕西",
    "甘肃",
    "青海",
    "宁夏",
    "新疆",
    "台湾",
    "香港",
    "澳门",
)


def _short(name: str, suffixes: tuple[str, ...]) -> str | None:
    for suffix in suffixes:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return None


@cache
def names() -> dict[str, tuple[str, ...]]:
    """Searchable name (full, or short for provinces and cities) -> codes currently named so."""
    out: dict[str, list[str]] = {}
    for code, history in divisions().items():
        current = history[-1]
        if current.end is not None or current.name in _GENERIC or "直辖" in current.name:
            continue
        found = [current.name]
        if current.level == "province":
            found.append(_short(current.name, _PROVINCE_SUFFIXES))
        elif current.level == "prefecture":
            found.append(_short(current.name, _CITY_SUFFIXES))
        for name in found:
            if name and len(name) >= 2:
                out.setdefault(name, []).append(code)
    return {name: tuple(codes) for name, codes in out.items()}


@cache
def _names_re() -> re.Pattern[str]:
    return re.compile("|".join(sorted(names(), key=len, reverse=True)))


@cache
def _search_sets() -> tuple[bytes, bytes]:
    """Division names and detail markers as newline-ended UTF-8, for the compiled check."""
    return (
        "".join(f"{n}\n" for n in names()).encode(),
        "".join(f"{m}\n" for m in DETAIL_MARKERS).encode(),
    )


def _pick(codes: list[str], level: str, prefix: str) -> str | None:
    for code in codes:
        if divisions()[code][-1].level == level and code.startswith(prefix):
            return code
    return None


class Address(Kind):
    """Postal address in Chinese (地址)."""

    name = "address"
    label = "Address"
    strong = False
    header_words = (
        "地址",
        "住址",
        "家庭住址",
        "联系地址",
        "通讯地址",
        "收货地址",
        "户籍地址",
        "居住地址",
        "单位地址",
        "address",
        "addr",
        "home_address",
    )
    FAST_REASONS = ("bad_length", "no_division", "no_detail")
    context_words = ("地址", "住址", "住在", "位于", "收货", "address")
    # Free-text candidates start at a province-level name (left context such as 住址 would
    # otherwise be swallowed) and run to the last street-level marker within 60 characters.
    pattern = (
        f"(?:{'|'.join(PROVINCE_SHORT_NAMES)})[{_HAN}0-9０-９A-Za-z\\-－#＃*＊()（）]{{0,60}}"
        f"(?:{'|'.join(STREET_MARKERS)})"
    )

    def normalize(self, raw: str) -> str | None:
        s = _CHARS.apply(raw)
        return s if len(s) >= 4 and re.search(f"[{_HAN}]", s) else None

    def normalize_expr(self, e: pl.Expr) -> pl.Expr:
        s = _CHARS.expr(e)
        return pl.when((s.str.len_chars() >= 4) & s.str.contains(f"[{_HAN}]")).then(s)

    def validate(self, value: str) -> Validation:
        if not MIN_LENGTH <= len(value) <= MAX_LENGTH:
            return Validation.of(["bad_length"])
        reasons = []
        if not _names_re().search(value):
            reasons.append("no_division")
        if not any(m in value for m in DETAIL_MARKERS):
            reasons.append("no_detail")
        if "*" in value:
            reasons.append("masked")
        return Validation.of(reasons)

    def column_codes(self, values: pa.Array) -> tuple[np.ndarray, None]:
        return codes_only(_checks.address(*arrow_args(values), *_search_sets()))

    def reason_expr(self, e: pl.Expr) -> pl.Expr:
        n = e.str.len_chars()
        return first_reason(
            [
                ("bad_length", (n < MIN_LENGTH) | (n > MAX_LENGTH)),
                ("no_division", ~e.str.contains_any(list(names()))),
                ("no_detail", ~e.str.contains_any(list(DETAIL_MARKERS))),
                ("masked", e.str.contains("*", literal=True)),
            ]
        )

    def derive(self, value: str) -> dict[str, Any]:
        """Province, city and county named in the address (inferred upwards from the most
        specific one when higher levels are left out), with the most specific code."""
        found = [code for m in _names_re().finditer(value) for code in names()[m.group()]]
        province = _pick(found, "province", "")
        city = _pick(found, "prefecture", province[:2] if province else "")
        county = _pick(found, "county", city[:4] if city else province[:2] if province else "")
        code = county or city or province
        if code is None:
            return {"province": None, "city": None, "county": None, "division_code": None}
        city = city or (code[:4] + "00" if code[:4] + "00" in divisions() else None)
        return {
            "province": divisions()[code[:2] + "0000"][-1].name,
            "city": _city_name(city, code),
            "county": divisions()[county][-1].name if county else None,
            "division_code": code,
        }

    def mask(self, value: str) -> str:
        keep = min(6, len(value) // 2)
        return value[:keep] + "*" * (len(value) - keep)


def _city_name(city: str | None, code: str) -> str | None:
    """Name of the prefecture, or the municipality itself for Beijing, Shanghai and the like."""
    if city and city in divisions():
        name = divisions()[city][-1].name
        if name not in _GENERIC and "直辖" not in name:
            return name
    if code[:2] in ("11", "12", "31", "50"):
        return divisions()[code[:2] + "0000"][-1].name
    return None
