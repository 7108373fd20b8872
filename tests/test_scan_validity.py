"""Validity is the standard's, plausibility is separate: IDs of holders over 110 are valid and
flagged; an ID-shaped token after an ID context word counts (invalid when it fails a check);
legacy 15-digit IDs in prose are validated as in tables."""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from rich.console import Console
from stdnum import luhn
from typer.testing import CliRunner

from leaktrace.cli import app
from leaktrace.pii import normalize, validate
from leaktrace.pii.resident_id import PLAUSIBLE_AGE
from leaktrace.report.scan_html import render_scan_html
from leaktrace.report.terminal import render_scan
from leaktrace.scan import find_spans, scan
from leaktrace.synth.corpus import counties, id_check_char

TODAY = dt.date.today()
# Counties whose code is in use today and was by 1950, as python-stdnum's table has them.
CODES = sorted(c.code for c in counties() if c.since <= 1950)[:400]
ID_WORDS = (
    "身份证",
    "身份证号",
    "身份证号码",
    "证件号",
    "证件号码",
    "公民身份号码",
    "ID",
    "ID No.",
)
SEPARATORS = ("", "：", ":", " ", "： ", "=", "是", "为", "#", "　")


def make_id(code: str, birth: dt.date, seq: int) -> str:
    body = f"{code}{birth:%Y%m%d}{seq:03d}"
    return body + id_check_char(body)


def to_full_width(s: str) -> str:
    """ASCII letters, digits and punctuation to their full-width forms."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in s)


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def ids_of(text: str) -> list[tuple[str, str]]:
    return [(s.value, s.status) for s in find_spans(text) if s.kind == "resident_id"]


# --- holders over 110: valid, flagged ----------------------------------------------------------

old_births = st.dates(dt.date(1850, 1, 1), dt.date(TODAY.year - PLAUSIBLE_AGE - 1, 12, 31))


@settings(max_examples=100, deadline=None)
@given(code=st.sampled_from(CODES), birth=old_births, seq=st.integers(0, 999))
def test_an_id_of_a_holder_over_110_is_valid_and_flagged_in_prose(
    code: str, birth: dt.date, seq: int
) -> None:
    value = make_id(code, birth, seq)
    assume(validate("resident_id", value).valid)  # the code in force at birth
    (span,) = [s for s in find_spans(f"客户 {value} 已开户") if s.kind == "resident_id"]
    assert (span.value, span.status, span.reason, span.flag) == (
        value,
        "valid",
        None,
        "implausible_age",
    )


def old_and_young_ids(n_old: int, n_young: int) -> tuple[list[str], list[str]]:
    rng = random.Random(7)
    old, young = [], []
    while len(old) < n_old:
        v = make_id(rng.choice(CODES), dt.date(rng.randint(1880, 1905), 5, 17), rng.randrange(1000))
        if validate("resident_id", v).valid:
            old.append(v)
    while len(young) < n_young:
        v = make_id(rng.choice(CODES), dt.date(rng.randint(1950, 2000), 3, 9), rng.randrange(1000))
        if validate("resident_id", v).valid:
            young.append(v)
    return old, young


@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
def test_a_table_of_old_customers_is_valid_with_its_flags_shown(
    tmp_path: Path, encoding: str
) -> None:
    old, young = old_and_young_ids(7, 33)
    rows = [f"客户{i},{v},1380013{i:04d}" for i, v in enumerate(old + young)]
    path = write(tmp_path / "客户.csv", "姓名,身份证号码,手机\n" + "\n".join(rows) + "\n", encoding)
    res = scan([path])
    st_ = res.kinds["resident_id"]
    assert (st_.found, st_.valid, st_.invalid, st_.masked) == (40, 40, 0, 0)
    assert st_.validity == 1.0
    assert st_.flags == {"implausible_age": 7}
    assert "implausible_age" not in st_.reasons

    doc = json.loads(CliRunner().invoke(app, ["scan", str(path), "--json"]).stdout)
    assert doc["kinds"]["resident_id"]["flags"] == {"implausible_age": 7}
    assert doc["kinds"]["resident_id"]["invalid"] == 0
    assert doc["kinds"]["mobile"]["flags"] == {}

    console = Console(width=200, record=True)
    render_scan(res, console, "en")
    table = console.export_text()
    assert "flagged (valid)" in table and "holder over 110 years old: 7" in table
    page = render_scan_html(res, lang="en")
    assert "flagged (valid)" in page and "holder over 110 years old: 7" in page
    zh = render_scan_html(res, lang="zh")
    assert "存疑（有效）" in zh and "持证人年龄超过 110 岁：7 个" in zh
    assert not any(v in page or v in table for v in old)  # samples stay masked


def test_the_flag_column_is_shown_only_when_something_is_flagged(tmp_path: Path) -> None:
    _, young = old_and_young_ids(0, 5)
    res = scan([write(tmp_path / "a.txt", "\n".join(f"身份证：{v}" for v in young))])
    console = Console(width=200, record=True)
    render_scan(res, console, "en")
    assert res.kinds["resident_id"].flags == {}
    assert "flagged" not in console.export_text()


# --- ID-shaped tokens after an ID context word -------------------------------------------------

token18 = st.tuples(st.text("0123456789", min_size=17, max_size=17), st.sampled_from("0123456789X"))


@settings(max_examples=300, deadline=None)
@given(
    token=token18.map("".join),
    word=st.sampled_from(ID_WORDS),
    sep=st.sampled_from(SEPARATORS),
    full_width=st.booleans(),
    before=st.sampled_from(["", "客户", "他的", "Name: 张伟, ", "，"]),
)
def test_an_id_shaped_token_after_an_id_word_failing_its_check_is_an_invalid_id(
    token: str, word: str, sep: str, full_width: bool, before: str
) -> None:
    assume(not validate("resident_id", token).valid)
    phrase = f"{word}{sep}{token}"
    text = f"{before}{to_full_width(phrase) if full_width else phrase}，已核实"
    assert ids_of(text) == [(token, "invalid")]


@settings(max_examples=300, deadline=None)
@given(token=token18.map("".join), word=st.sampled_from(["订单号", "流水号", "userID:", "单号 "]))
def test_without_an_id_word_only_a_near_miss_counts(token: str, word: str) -> None:
    """Order and account numbers are no IDs: a token failing other checks than the check
    character stays uncounted (a wrong check character beside a real division and date is a
    forger's or typist's slip, counted as before)."""
    reasons = validate("resident_id", token).reasons
    assume(reasons)
    want = [(token, "invalid")] if reasons == ("bad_checksum",) else []
    assert ids_of(f"{word}{token} 已发货") == want


def test_a_context_word_claims_a_number_another_kind_would_take() -> None:
    card = "62220210011234567" + luhn.calc_check_digit("62220210011234567")  # an ICBC BIN
    assert [s.kind for s in find_spans(f"卡号 {card}")] == ["bank_card"]
    assert [(s.kind, s.status) for s in find_spans(f"身份证号：{card}")] == [
        ("resident_id", "invalid")
    ]


@pytest.mark.parametrize(
    "text",
    [
        "userID: 990105194912310021",  # part of a longer word
        "paid 990105194912310021",
        "order_ID 990105194912310021",
        "Order ID: 990105194912310021",  # a word before: a label of something else
        "Transaction ID 990105194912310021",
        "身份证号：9901051949123100211",  # 19 digits: no ID's length
        "身份证号：9901051949",
    ],
)
def test_id_words_inside_other_words_or_wrong_lengths_claim_nothing(text: str) -> None:
    assert ids_of(text) == []


# --- a forged forum post ----------------------------------------------------------------------


def forged(rng: random.Random) -> str:
    """An ID a forger made up: an unknown division, an impossible date or a wrong check."""
    v = make_id(rng.choice(CODES), dt.date(rng.randint(1960, 2000), 1, 1), rng.randrange(1000))
    how = rng.randrange(3)
    if how == 0:
        body = "99" + v[2:17]
    elif how == 1:
        body = v[:10] + "1332" + v[14:17]
    else:
        return v[:17] + ("0" if v[17] != "0" else "1")
    return body + id_check_char(body)


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
def test_a_forged_forum_post_shows_its_invalid_rate(tmp_path: Path, encoding: str) -> None:
    rng = random.Random(13)
    _, genuine = old_and_young_ids(0, 12)
    fakes = [forged(rng) for _ in range(8)]
    people = genuine + fakes
    rng.shuffle(people)
    lines = ["出售某银行客户资料，包真，样本如下："]
    for i, v in enumerate(people):
        word = rng.choice(ID_WORDS[:6])
        lines.append(f"{i + 1}. 客户{'张王李赵'[i % 4]}某，{word}：{v}，手机1391234{i:04d}")
    lines.append("需要的私聊，QQ：12345678，1000条起出。")
    post = write(tmp_path / "post.txt", "\n".join(lines) + "\n", encoding)
    st_ = scan([post]).kinds["resident_id"]
    assert (st_.found, st_.valid, st_.invalid) == (20, 12, 8)
    assert st_.validity == pytest.approx(0.6)
    assert sum(st_.reasons.values()) == 8
    assert set(st_.reasons) <= {"unknown_division", "impossible_birth_date", "bad_checksum"}


# --- legacy 15-digit IDs in prose, as in tables ---------------------------------------------------

legacy = st.tuples(
    st.sampled_from(CODES),
    st.dates(dt.date(1930, 1, 1), dt.date(1984, 12, 31)),
    st.integers(0, 999),
).map(lambda t: f"{t[0]}{t[1]:%y%m%d}{t[2]:03d}")


@settings(max_examples=100, deadline=None)
@given(value=legacy, word=st.sampled_from(["", "身份证 ", "证件号码："]))
def test_a_legacy_id_in_prose_is_found_and_widened(value: str, word: str) -> None:
    wide = normalize("resident_id", value)
    assert wide is not None
    want_status = validate("resident_id", wide).status.value
    assume(want_status == "valid" or word)  # without a word only valid ones are IDs
    assert ids_of(f"老系统导出：{word}{value} 张三") == [(wide, want_status)]


def test_legacy_ids_are_counted_in_prose_as_in_a_table(tmp_path: Path) -> None:
    rng = random.Random(5)
    values: list[str] = []
    for _ in range(30):
        code = rng.choice(CODES)
        values.append(
            f"{code}{rng.randint(30, 84):02d}{rng.randint(1, 12):02d}15{rng.randrange(1000):03d}"
        )
    values += ["990101800101123", "110105801301123", "110105800230123"]  # forged or impossible
    table = write(
        tmp_path / "t.csv",
        "姓名,身份证\n" + "".join(f"某{i},{v}\n" for i, v in enumerate(values)),
        "gbk",
    )
    text = write(
        tmp_path / "t.txt", "".join(f"客户某{i}，身份证号：{v}\n" for i, v in enumerate(values))
    )
    in_table, in_text = (scan([p]).kinds["resident_id"] for p in (table, text))
    assert in_table.invalid >= 3
    assert (in_text.found, in_text.valid, in_text.invalid) == (
        in_table.found,
        in_table.valid,
        in_table.invalid,
    )
    assert in_text.reasons == in_table.reasons


def test_fifteen_digit_order_numbers_and_cards_are_no_ids() -> None:
    text = "订单号 202312011234567，运通卡 378282246310005，流水 100000000000001"
    assert ids_of(text) == []
