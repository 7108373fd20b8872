"""The registry, module functions, width folding and the free-text patterns."""

from __future__ import annotations

import re

import polars as pl
import pytest

from leaktrace import pii
from leaktrace.pii.base import Kind

ORDER = [
    "resident_id",
    "mobile",
    "bank_card",
    "landline",
    "email",
    "passport",
    "plate",
    "person_name",
    "address",
]


def test_registry_order_and_contract() -> None:
    assert list(pii.KINDS) == ORDER
    for name, kind in pii.KINDS.items():
        assert kind.name == name
        assert kind.label and kind.header_words and kind.context_words
        assert isinstance(kind.strong, bool)


def test_register_replaces_a_kind_by_name() -> None:
    original = pii.KINDS["passport"]

    class Strict(type(original)):  # type: ignore[misc]
        def validate(self, value: str) -> pii.Validation:
            return pii.Validation(pii.Status.INVALID, ("strict",))

    try:
        pii.register(Strict())
        assert pii.validate("passport", "E12345678").reasons == ("strict",)
    finally:
        pii.register(original)
    assert pii.validate("passport", "E12345678").valid


def test_unknown_kind_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="resident_id"):
        pii.normalize("ssn", "123")


def test_module_functions_accept_a_kind_object() -> None:
    kind = pii.KINDS["mobile"]
    assert isinstance(kind, Kind)
    assert pii.normalize(kind, "138 1234 5678") == "13812345678"


def test_fold_width() -> None:
    assert pii.fold_width("ＡＢＣ１２３＠ｑｑ．ｃｏｍ　＋８６") == "ABC123@qq.com +86"
    assert pii.fold_width("张三") == "张三"


def test_digit_run_lengths() -> None:
    assert pii.KINDS["resident_id"].run_lengths == {15, 18}
    assert pii.KINDS["bank_card"].run_lengths == {16, 17, 18, 19}
    assert pii.KINDS["mobile"].run_lengths >= {11}
    assert pii.KINDS["email"].run_lengths == frozenset()


TEXT = (
    "客户张三，身份证11010519491231002X，手机 +86 138-1234-5678，座机(0755)8888-8888，"
    "卡号6222 **** **** 1234，邮箱Zhang.San@QQ.com，护照E12345678，车牌粤B·D12345，"
    "住址北京市朝阳区建国路88号。"
)
FOUND = {
    "resident_id": "11010519491231002X",
    "mobile": "13812345678",
    "landline": "075588888888",
    "bank_card": "6222********1234",
    "email": "zhang.san@qq.com",
    "passport": "E12345678",
    "plate": "粤BD12345",
    "address": "北京市朝阳区建国路88号",
}


@pytest.mark.parametrize("name", ORDER)
def test_patterns_match_alike_in_python_and_polars(name: str) -> None:
    pattern = pii.KINDS[name].pattern
    python = re.findall(pattern, TEXT)
    polars = pl.Series([TEXT]).str.extract_all(pattern).to_list()[0]
    assert python == polars


@pytest.mark.parametrize("name", sorted(FOUND))
def test_patterns_find_the_identifier_in_text(name: str) -> None:
    kind = pii.KINDS[name]
    found = [kind.normalize(m) for m in re.findall(kind.pattern, TEXT)]
    assert FOUND[name] in found


def test_digit_patterns_match_whole_runs() -> None:
    run = "1" + "3812345678" + "99"  # 13 digits: not a mobile inside a longer number
    assert re.findall(pii.KINDS["mobile"].pattern, run) == [run]
    assert re.findall(pii.KINDS["resident_id"].pattern, "9" + "11010519491231002X") == [
        "911010519491231002X"
    ]


def test_fold_width_expr_matches_scalar() -> None:
    from leaktrace.pii.text import fold_width_expr

    raw = ["ＡＢＣ１２３＠ｑｑ．ｃｏｍ　＋８６", "张三（１）", "plain"]
    folded = pl.Series(raw).to_frame("s").select(fold_width_expr(pl.col("s"))).to_series()
    assert folded.to_list() == [pii.fold_width(s) for s in raw]
