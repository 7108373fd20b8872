"""Resident ID: published vectors, every reason code, masks, width folding, the legacy form."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leaktrace import pii
from leaktrace.pii.resident_id import PLAUSIBLE_AGE, check_char
from leaktrace.pii.tables import division_name, divisions

KIND = pii.KINDS["resident_id"]
TODAY = dt.date.today()


def make_id(code: str, birth: dt.date, seq: int) -> str:
    body = f"{code}{birth:%Y%m%d}{seq:03d}"
    return body + check_char(body)


def first_reason(raw: str) -> str | None:
    value = pii.normalize("resident_id", raw)
    assert value is not None
    reasons = pii.validate("resident_id", value).reasons
    return reasons[0] if reasons else None


@pytest.mark.parametrize(
    "number",
    [
        "360426199101010071",  # python-stdnum cn.ric doctest
        "11010519491231002X",  # GB 11643-1999 example, check character X
    ],
)
def test_published_vectors_are_valid(number: str) -> None:
    assert pii.normalize("resident_id", number) == number
    assert pii.validate("resident_id", number).valid


def test_check_character_matches_python_stdnum() -> None:
    from stdnum.cn import ric

    for body in ("36042619910101007", "11010519491231002", "44030419850611331"):
        assert check_char(body) == ric.calc_check_digit(body + "0")


def test_derive_gives_region_birth_date_and_sex() -> None:
    facts = pii.derive("resident_id", "360426199101010071")
    assert facts == {
        "province": "江西省",
        "city": "九江市",
        "county": "德安县",
        "birth_date": dt.date(1991, 1, 1),
        "sex": "male",
    }
    beijing = pii.derive("resident_id", "11010519491231002X")
    assert (beijing["city"], beijing["county"], beijing["sex"]) == ("北京市", "朝阳区", "female")


def test_legacy_15_digit_number_is_converted_with_century_19() -> None:
    assert pii.normalize("resident_id", "110105491231002") == "11010519491231002X"
    assert pii.validate("resident_id", "11010519491231002X").valid


@pytest.mark.parametrize(
    "raw",
    ["１１０１０５１９４９１２３１００２Ｘ", "110105 19491231 002x", "110105-19491231-002X"],
)
def test_width_case_and_separators_are_folded(raw: str) -> None:
    assert pii.normalize("resident_id", raw) == "11010519491231002X"


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("110105********1234", "110105********1234"),
        ("110105＊＊＊＊＊＊＊＊1234", "110105********1234"),
        ("110105xxxxxxxx1234", "110105********1234"),
        ("110105●●●●●●●●123X", "110105********123X"),
        ("110105########1234", "110105********1234"),
        ("1101054912****2", "110105194912****2*"),  # legacy form, check character unknown
    ],
)
def test_masked_values_keep_their_masks(raw: str, normalised: str) -> None:
    assert pii.normalize("resident_id", raw) == normalised
    result = pii.validate("resident_id", normalised)
    assert result.status is pii.Status.MASKED
    assert result.reasons == ("masked",)


def test_a_visible_part_can_still_fail_a_masked_value() -> None:
    result = pii.validate("resident_id", "999999********1234")
    assert result.status is pii.Status.INVALID
    assert result.reasons == ("unknown_division", "masked")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("360426199101010072", "bad_checksum"),
        (make_id("999999", dt.date(1990, 1, 1), 11), "unknown_division"),
        ("11010519900230001" + check_char("11010519900230001"), "impossible_birth_date"),
        (make_id("110105", TODAY + dt.timedelta(days=1), 11), "future_birth_date"),
        # 崇文区 (110103) was merged away after 2010: nobody born in 2015 can carry it.
        (make_id("110103", dt.date(2015, 1, 1), 11), "division_not_in_force_at_birth"),
    ],
)
def test_each_reason_code(raw: str, reason: str) -> None:
    assert first_reason(raw) == reason


@settings(max_examples=200)
@given(
    birth=st.dates(dt.date(1800, 1, 1), dt.date(TODAY.year - PLAUSIBLE_AGE - 1, 12, 31)),
    seq=st.integers(0, 999),
)
def test_a_holder_over_110_is_valid_and_flagged(birth: dt.date, seq: int) -> None:
    """The standard sets no age limit: an old holder's ID is valid, with a plausibility flag."""
    result = pii.validate("resident_id", make_id("110105", birth, seq))
    assert result.valid
    assert result.notes == ("implausible_age",)


@settings(max_examples=200)
@given(birth=st.dates(dt.date(TODAY.year - PLAUSIBLE_AGE + 1, 1, 1), TODAY))
def test_a_holder_under_110_is_not_flagged(birth: dt.date) -> None:
    assert pii.validate("resident_id", make_id("110105", birth, 1)).notes == ()


def test_an_old_id_failing_a_rule_is_invalid_not_flagged() -> None:
    body = "11010518800101001"
    wrong = body + ("0" if check_char(body) != "0" else "1")
    result = pii.validate("resident_id", wrong)
    assert result.reasons == ("bad_checksum",)
    assert result.notes == ()
    assert pii.validate("resident_id", "110105188001010***").notes == ()


def test_a_code_created_after_birth_is_accepted() -> None:
    # 通州区 (110112) dates from 1997; IDs are assigned at registration, not at birth.
    assert pii.validate("resident_id", make_id("110112", dt.date(1980, 5, 5), 21)).valid


@pytest.mark.parametrize(
    ("value", "reason"), [("1101051949123100", "bad_length"), ("11010519491231002A", "bad_format")]
)
def test_shape_failures(value: str, reason: str) -> None:
    assert pii.validate("resident_id", value).reasons == (reason,)


@pytest.mark.parametrize("raw", ["12345", "1101051949123100212", "******************", "abc"])
def test_values_without_the_shape_do_not_normalise(raw: str) -> None:
    assert pii.normalize("resident_id", raw) is None


def test_mask_keeps_division_and_last_four() -> None:
    assert pii.mask("resident_id", "11010519491231002X") == "110105********002X"


OPEN_COUNTIES = sorted(
    code
    for code, names in divisions().items()
    if names[-1].level == "county" and names[-1].end is None
)


@given(
    code=st.sampled_from(OPEN_COUNTIES),
    birth=st.dates(min_value=TODAY.replace(year=TODAY.year - 100), max_value=TODAY),
    seq=st.integers(0, 999),
)
def test_generated_ids_validate_and_derive_their_parts(code: str, birth: dt.date, seq: int) -> None:
    number = make_id(code, birth, seq)
    assert pii.validate("resident_id", pii.normalize("resident_id", number)).valid
    facts = pii.derive("resident_id", number)
    assert facts["birth_date"] == birth
    assert facts["sex"] == ("male" if seq % 2 else "female")
    assert facts["county"] == division_name(code, birth.year)
    assert facts["province"] == division_name(code[:2] + "0000", birth.year)


@given(
    code=st.sampled_from(OPEN_COUNTIES),
    birth=st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(1999, 12, 31)),
    seq=st.integers(0, 999),
    sep=st.sampled_from(["", " ", "-"]),
    wide=st.booleans(),
)
def test_formatting_variations_normalise_to_the_same_value(
    code: str, birth: dt.date, seq: int, sep: str, wide: bool
) -> None:
    number = make_id(code, birth, seq)
    raw = sep.join((number[:6], number[6:14], number[14:])).lower()
    if wide:
        raw = "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in raw)
    assert pii.normalize("resident_id", raw) == number
    legacy = number[:6] + number[8:17]
    assert pii.normalize("resident_id", legacy) == make_id(code, birth, seq)
