"""The Polars expressions agree with the scalar rules: same normalised values, same status and
the same first reason, on random strings and on realistic near-valid values."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st
from stdnum import luhn

from leaktrace import pii
from leaktrace.pii.plate import PROVINCES
from leaktrace.pii.resident_id import check_char
from leaktrace.pii.tables import area_codes, card_bins, divisions, mobile_segments, surnames

NOISE = "0123456789０１２３４５６７８９*＊xX●#○ -.()（）+＋@＠·•・aAzZＥｅ张王欧阳某路号市区\t\n"
DIGITS = "0123456789"


def digits(n: int) -> st.SearchStrategy[str]:
    return st.text(DIGITS, min_size=n, max_size=n)


@st.composite
def resident_ids(draw: st.DrawFn) -> str:
    code = draw(st.sampled_from(sorted(divisions())) | digits(6))
    birth = draw(st.dates(min_value=dt.date(1850, 1, 1), max_value=dt.date(2100, 12, 31)))
    date = f"{birth:%Y%m%d}" if draw(st.booleans()) else draw(digits(8))
    body = code + date + draw(digits(3))
    number = body + (
        check_char(body) if draw(st.booleans()) else draw(st.sampled_from("0123456789X"))
    )
    return number[:6] + number[8:17] if draw(st.integers(0, 4)) == 0 else number


@st.composite
def mobiles(draw: st.DrawFn) -> str:
    prefix = draw(st.sampled_from(sorted(mobile_segments())) | st.just("1") | digits(3))
    number = (prefix + draw(digits(10)))[:11]
    return draw(st.sampled_from(["", "+86 ", "0086", "86", "+86-"])) + number


@st.composite
def bank_cards(draw: st.DrawFn) -> str:
    bin_ = draw(st.sampled_from(sorted(card_bins())) | digits(6))
    number = (bin_ + draw(digits(18)))[: draw(st.integers(15, 20)) - 1]
    return number + (luhn.calc_check_digit(number) if draw(st.booleans()) else draw(digits(1)))


@st.composite
def landlines(draw: st.DrawFn) -> str:
    area = draw(st.sampled_from(sorted(area_codes())) | st.just("0") | digits(4))
    local = draw(digits(draw(st.integers(6, 9))))
    sep = draw(st.sampled_from(["", "-", " "]))
    if draw(st.booleans()):
        return f"({area}){sep}{local}"
    return draw(st.sampled_from(["", "+86 ", "0086-"])) + area + sep + local


@st.composite
def plates(draw: st.DrawFn) -> str:
    head = draw(st.sampled_from(sorted(PROVINCES)) | st.sampled_from("中使X"))
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789学警挂"
    return head + draw(st.text(letters, min_size=5, max_size=8))


@st.composite
def names(draw: st.DrawFn) -> str:
    single, compound = surnames()
    surname = draw(st.sampled_from(sorted(single | compound)) | st.sampled_from("丙丁"))
    given = draw(st.text("伟芳娜敏静丽强磊军洋艳勇杰*某x", min_size=0, max_size=3))
    if draw(st.integers(0, 5)) == 0:
        return given + draw(st.sampled_from("·•.")) + surname
    return surname + given


ADDRESS_PARTS = [
    "北京市",
    "广东",
    "深圳",
    "南山区",
    "朝阳区",
    "建国路",
    "88号",
    "***",
    "小区",
    "3栋",
    "某某",
    "村",
    "路",
    "1",
]

REALISTIC: dict[str, st.SearchStrategy[str]] = {
    "resident_id": resident_ids(),
    "mobile": mobiles(),
    "bank_card": bank_cards(),
    "landline": landlines(),
    "email": st.emails() | st.from_regex(r"[a-z*.]{0,6}@[a-z0-9*.\-]{0,8}", fullmatch=True),
    "passport": st.from_regex(r"(?:[EGDSPX][EA0-9]?|[eg])[0-9*]{6,9}", fullmatch=True),
    "plate": plates(),
    "person_name": names(),
    "address": st.lists(st.sampled_from(ADDRESS_PARTS), max_size=6).map("".join),
}


@st.composite
def mutated(draw: st.DrawFn, base: st.SearchStrategy[str]) -> str:
    """A realistic value, sometimes damaged: masked span, wide digits, a changed character."""
    s = draw(base)
    op = draw(st.integers(0, 5))
    if op == 1 and s:
        i = draw(st.integers(0, len(s) - 1))
        j = draw(st.integers(i, len(s)))
        s = s[:i] + draw(st.sampled_from("*＊xX●#")) * (j - i) + s[j:]
    elif op == 2:
        s = "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in s)
    elif op == 3 and s:
        i = draw(st.integers(0, len(s) - 1))
        s = s[:i] + draw(st.sampled_from(NOISE)) + s[i + 1 :]
    elif op == 4:
        s = s.lower()
    return s


def values(kind: str) -> st.SearchStrategy[list[str]]:
    one = st.text(NOISE, max_size=22) | mutated(REALISTIC[kind]) | st.text(max_size=12)
    return st.lists(one, min_size=1, max_size=40)


def first(validation: pii.Validation) -> str | None:
    return validation.reasons[0] if validation.reasons else None


@pytest.mark.parametrize("name", list(pii.KINDS))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_vector_rules_agree_with_scalar_rules(name: str, data: st.DataObject) -> None:
    kind = pii.KINDS[name]
    raw = data.draw(values(name))
    frame = pl.DataFrame({"raw": raw}, schema={"raw": pl.String})
    normalised = frame.select(kind.normalize_expr(pl.col("raw"))).to_series().to_list()
    assert normalised == [kind.normalize(v) for v in raw]

    # Validate the normalised values and, for robustness, the raw strings themselves.
    checked = [v for v in normalised if v is not None] + raw
    vector = (
        pl.DataFrame({"v": checked}, schema={"v": pl.String})
        .select(kind.reason_expr(pl.col("v")))
        .to_series()
        .to_list()
    )
    scalar = [first(kind.validate(v)) for v in checked]
    assert vector == scalar
    valid = [v for v, r in zip(checked, vector, strict=True) if r is None]
    flags = (
        pl.DataFrame({"v": valid}, schema={"v": pl.String})
        .select("v", kind.flag_expr(pl.col("v")).alias("flag"))
        .get_column("flag")
        .to_list()
    )
    notes = [[n for n in kind.validate(v).notes if n in kind.FLAGS] for v in valid]
    assert flags == [n[0] if n else None for n in notes]
    statuses = [kind.validate(v).status for v in checked]
    assert [s is pii.Status.MASKED for s in statuses] == [r == "masked" for r in vector]


@pytest.mark.parametrize("name", list(pii.KINDS))
@pytest.mark.parametrize("status", list(pii.Status))
def test_realistic_values_reach_every_status(name: str, status: pii.Status) -> None:
    """Guards the agreement test: its generators must produce valid, invalid and masked values."""

    def has_status(raw: str) -> bool:
        value = pii.normalize(name, raw)
        return value is not None and pii.validate(name, value).status is status

    find(mutated(REALISTIC[name]), has_status, settings=settings(database=None, max_examples=2000))


@pytest.mark.parametrize("name", [k for k, kind in pii.KINDS.items() if kind.canonical])
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_canonical_values_are_left_as_they_are(name: str, data: st.DataObject) -> None:
    """Bulk scans skip normalising columns whose values all match ``canonical``: that is only
    right if normalize really leaves every such value unchanged."""
    kind = pii.KINDS[name]
    value = data.draw(st.from_regex(kind.canonical, fullmatch=True))
    assert kind.normalize(value) == value
