"""The compiled free-text extractors find exactly what their regexes find on folded text
(Polars' Rust regex, leftmost-first, non-overlapping), on random messy text in both widths and
on the labelled corpus."""

from __future__ import annotations

import numpy as np
import polars as pl
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leaktrace.pii import KINDS
from leaktrace.pii.address import PROVINCE_SHORT_NAMES, STREET_MARKERS
from leaktrace.pii.columns import arrow_args
from leaktrace.pii.plate import PROVINCES, SUFFIX
from leaktrace.scan import _extract, text
from leaktrace.synth.corpus import make_documents


def compiled(lines: list[str]) -> dict[str, list[tuple[int, str]]]:
    arr = pa.array(lines, pa.large_string())
    found = _extract.extract(*arrow_args(arr), *text._extract_args(), False)
    out = {}
    for name, (rows, _starts, offsets, data) in zip(_extract.EXTRACTORS, found, strict=True):
        raw = pa.Array.from_buffers(
            pa.large_string(), len(rows) // 8, [None, pa.py_buffer(offsets), pa.py_buffer(data)]
        )
        out[name] = list(zip(np.frombuffer(rows, np.int64).tolist(), raw.to_pylist(), strict=True))
    return out


def by_regex(lines: list[str]) -> dict[str, list[tuple[int, str]]]:
    """Each extractor's regex over every line, with the two filters the compiled pass applies
    (digit runs too short for any digit kind, tokens that are not name-shaped)."""
    min_digits = text._extract_args()[8]
    frame = pl.DataFrame({"text": [text.fold_text(line) for line in lines]}).with_row_index("line")
    out = {}
    for ex in text.extractors():
        got = (
            frame.select("line", pl.col("text").str.extract_all(ex.pattern).alias("raw"))
            .explode("raw")
            .drop_nulls("raw")
        )
        if ex.name == "digits":
            got = got.filter(pl.col("raw").str.len_bytes() >= min_digits)
        if ex.shape:
            got = got.filter(pl.col("raw").str.contains(ex.shape))
        out[ex.name] = [(int(r), s) for r, s in got.iter_rows()]
    return out


def test_the_compiled_extractors_are_the_regex_extractors_in_the_same_order() -> None:
    assert _extract.EXTRACTORS == tuple(ex.name for ex in text.extractors())


# The characters every pattern turns on, the words they are built from, and some that no
# pattern holds, so that random lines reach every alternative and every give-back.
_WORDS = (
    *KINDS["resident_id"].context_words,
    "ｉｄ ｎｏ．",
    "ſfz",
    "_ID",
    "是",
    "为",
    "110105 19491231 002x",
    *KINDS["person_name"].context_words,
    *KINDS["address"].context_words,
    *PROVINCE_SHORT_NAMES,
    *STREET_MARKERS,
    "+86",
    "0086",
    "+ 86",
    "(010)",
    "138",
    "1380013",
    "110105199003071234",
    "6222021234567890",
    "@qq.com",
    "example.com.cn",
    ".c1",
    "E1234",
    "DE123",
    "粤B",
    "京A·",
    "12345",
    "王芳",
    "欧阳·娜",
    "收",
    "先生",
)
_CHARS = (
    "0123456789" * 3
    + "０１８Ｘｘ＋（）＠．＊－：　ＥＤ"
    + " -*Xx+()@._%:=;,|/[]<>?!\"'\t#"
    + "aAbcEeGgDdSsPpmnoKIiz\u017f\u212a"
    + "·•・，、：；。！？（）【】《》“”…\u3000\u00a0\u2003"
    + "".join(PROVINCES)
    + SUFFIX
    + "张王李赵某人的了号路街道单元室一龥鿿㐀"
    + "é😀"
)
_lines = st.lists(
    st.lists(st.one_of(st.sampled_from(_WORDS), st.sampled_from(_CHARS)), max_size=40).map("".join),
    min_size=1,
    max_size=8,
)


@settings(max_examples=800, deadline=None)
@given(_lines)
def test_compiled_extractors_match_the_regexes_on_random_text(lines: list[str]) -> None:
    assert compiled(lines) == by_regex(lines)


@pytest.mark.parametrize("name", ["digits", "addr_ctx", "email"])
def test_long_runs_give_back_as_the_regex_does(name: str) -> None:
    """Quantifier limits and give-back far into a line: 80-character addresses, separators
    that the value class also holds, many labels of an e-mail domain, long digit runs."""
    lines = {
        "digits": ["1" * 300, "0086-138 1234 5678 9", "(010)1234567 (0755)12345678", "12" * 90],
        "addr_ctx": ["地址" + "::" * 40 + "abc", "住址=" * 30 + "北京市" * 40, "address ：：ab"],
        "email": ["a@" + "b." * 100 + "cn", "x@y.1a.bc9.d", "a@b@c.com", "@@a.bc"],
    }[name]
    assert compiled(lines)[name] == by_regex(lines)[name]


def test_compiled_extractors_match_the_regexes_on_the_labelled_corpus() -> None:
    lines = [line for doc in make_documents(400, 5) for line in doc.text.split("\n")]
    got, want = compiled(lines), by_regex(lines)
    assert sum(len(v) for v in want.values()) > 1000
    assert got == want


def test_null_and_empty_lines_give_nothing() -> None:
    arr = pa.array([None, "", "13800138000"], pa.string())
    found = _extract.extract(*arrow_args(arr), *text._extract_args(), False)
    rows = np.frombuffer(found[_extract.EXTRACTORS.index("digits")][0], np.int64).tolist()
    assert rows == [2]
    with pytest.raises(TypeError):
        _extract.extract(*arrow_args(arr))
    with pytest.raises(ValueError, match="shorter than two"):
        _extract.extract(*arrow_args(arr), *text._extract_args()[:-1], 1, False)


def test_id_context_words_as_the_regex_has_them() -> None:
    """Chinese words anywhere; Latin ones only as labels: at the line's start or after a
    character that is no letter, digit, '_' or space (spaces between allowed), so not in
    "userID" or "Order ID"; separators, 是/为, both value shapes, full width."""
    lines = [
        "身份证号：110105 19491231 002x 证件号码为12345",
        "客户身份证件号码是 ＝11010519491231002X",
        "ID No.#990105194912310021",
        "id:1234 userID:1234 user_id 1234 9ID 1234 ＩＤ １２３４",
        "ſfz 123 sfzh:: 是 456 ID card number 789",
        "ID ID 12",
        "身份证 是 是 12 身份证号码 号 12",
        "Order ID: 1234, Zhang San ID 5678 | \tID 9012 \u3000 ID:3456 ，ＩＤ 7",
    ]
    got, want = compiled(lines)["id_ctx"], by_regex(lines)["id_ctx"]
    assert got == want
    assert got == [  # folded to half width, as the extractors see the line
        (0, "身份证号:110105 19491231 002x"),
        (0, "证件号码为12345"),
        (1, "证件号码是 =11010519491231002X"),
        (2, "ID No.#990105194912310021"),
        (3, "id:1234"),
        (4, "ſfz 123"),
        (7, "| \tID 9012"),
        (7, ",ID 7"),
    ]
