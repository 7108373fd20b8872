"""The grade computed from a report's counts, at each threshold of the CAC grading guide, never
lowered by a larger count or raised by an unknown one, and overridden only with a reason."""

from __future__ import annotations

from dataclasses import fields, replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leaktrace import i18n
from leaktrace.registry.grade import (
    GRADES,
    MIN_REASON,
    Counts,
    effective_grade,
    grade,
    label,
    rank,
)

NONE = Counts(people_affected=None)


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        # 《网络安全事件分级指南》: personal information of 1M / 10M / 100M people ("以上" includes).
        ("people_affected", 999_999, "general"),
        ("people_affected", 1_000_000, "relatively_major"),
        ("people_affected", 1_000_001, "relatively_major"),
        ("people_affected", 9_999_999, "relatively_major"),
        ("people_affected", 10_000_000, "major"),
        ("people_affected", 10_000_001, "major"),
        ("people_affected", 99_999_999, "major"),
        ("people_affected", 100_000_000, "particularly_major"),
        ("people_affected", 100_000_001, "particularly_major"),
        ("direct_loss_yuan", 99_999_999, "general"),
        ("direct_loss_yuan", 100_000_000, "particularly_major"),
        ("direct_loss_yuan", 100_000_001, "particularly_major"),
        ("people_disrupted", 9_999_999, "general"),
        ("people_disrupted", 10_000_000, "particularly_major"),
        ("people_disrupted", 10_000_001, "particularly_major"),
        ("cii_outage_hours", 5, "general"),
        ("cii_outage_hours", 6, "particularly_major"),
        ("cii_outage_hours", 7, "particularly_major"),
        ("cii_main_function_outage_hours", 23, "general"),
        ("cii_main_function_outage_hours", 24, "particularly_major"),
        ("cii_main_function_outage_hours", 25, "particularly_major"),
        ("records_affected", 10**12, "general"),  # the guide counts people, not records
    ],
)
def test_grade_at_each_threshold_and_one_either_side(field: str, value: int, expected: str) -> None:
    assert grade(replace(NONE, **{field: value})).code == expected


def test_reasons_name_the_threshold_reached_in_both_languages() -> None:
    result = grade(Counts(people_affected=12_345_678, direct_loss_yuan=5))
    assert result.code == "major"
    assert result.reasons == ("personal information of 10,000,000 people or more leaked: major",)
    with i18n.using("zh"):
        (reason,) = grade(Counts(people_affected=12_345_678)).reasons
    assert "10,000,000" in reason and "重大" in reason


def test_every_threshold_of_the_top_grade_is_a_reason() -> None:
    result = grade(Counts(people_affected=200_000_000, direct_loss_yuan=200_000_000))
    assert result.code == "particularly_major"
    assert len(result.reasons) == 2


def test_unknown_counts_give_general_with_a_reason() -> None:
    result = grade(NONE)
    assert result.code == "general"
    assert result.reasons == ("no grading threshold reached",)


def test_negative_counts_are_refused() -> None:
    with pytest.raises(ValueError, match="people_affected"):
        Counts(people_affected=-1)


COUNT = st.one_of(st.none(), st.integers(min_value=0, max_value=10**9))
HOURS = st.one_of(st.none(), st.floats(min_value=0, max_value=100, allow_nan=False))
COUNTS = st.builds(
    Counts,
    people_affected=COUNT,
    records_affected=COUNT,
    direct_loss_yuan=COUNT,
    people_disrupted=COUNT,
    cii_outage_hours=HOURS,
    cii_main_function_outage_hours=HOURS,
)


@given(counts=COUNTS, field=st.sampled_from([f.name for f in fields(Counts)]), more=COUNT)
def test_a_larger_or_newly_known_count_never_lowers_the_grade(
    counts: Counts, field: str, more: int | None
) -> None:
    before = getattr(counts, field)
    after = more if before is None else before + (more or 0)
    larger = replace(counts, **{field: after})
    assert grade(counts).code in GRADES
    assert rank(grade(larger).code) >= rank(grade(counts).code)


@given(counts=COUNTS)
def test_forgetting_a_count_never_raises_the_grade(counts: Counts) -> None:
    for f in fields(Counts):
        assert rank(grade(replace(counts, **{f.name: None})).code) <= rank(grade(counts).code)


def test_labels_in_both_languages() -> None:
    assert [label(g, "zh") for g in GRADES] == ["一般", "较大", "重大", "特别重大"]
    assert [label(g, "en") for g in GRADES] == [
        "general",
        "relatively major",
        "major",
        "particularly major",
    ]
    with pytest.raises(ValueError, match="particularly_major"):
        label("severe", "en")


def test_an_override_needs_a_reason() -> None:
    assert effective_grade("major", None, None) == "major"
    reason = "leaked set is a copy of an earlier reported breach"
    assert effective_grade("major", "relatively_major", reason) == "relatively_major"
    for missing in (None, "", "   ", "x" * (MIN_REASON - 1)):
        with pytest.raises(ValueError, match="reason"):
            effective_grade("major", "general", missing)
    with i18n.using("zh"), pytest.raises(ValueError, match="理由"):
        effective_grade("major", "general", None)
    with pytest.raises(ValueError, match="unknown grade"):
        effective_grade("major", "minor", reason)
