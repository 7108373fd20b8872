"""Bank cards: Luhn vectors, BIN lookup, masks and reasons."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum import luhn

from leaktrace import pii
from leaktrace.pii.bank_card import luhn_ok
from leaktrace.pii.tables import card_bins


@pytest.mark.parametrize(
    ("digits", "ok"),
    [
        ("79927398713", True),
        ("79927398710", False),
        ("4111111111111111", True),
        ("4111111111111112", False),
    ],
)
def test_luhn_vectors(digits: str, ok: bool) -> None:
    assert luhn_ok(digits) is ok


@given(st.text("0123456789", min_size=1, max_size=19))
def test_luhn_agrees_with_python_stdnum(digits: str) -> None:
    assert luhn_ok(digits) == luhn.is_valid(digits)


@pytest.mark.parametrize(
    "number",
    # UnionPay test numbers of card-payment providers (16 and 19 digits) and Visa's test number.
    ["6200000000000005", "6200000000000047", "6205500000000000004", "4111111111111111"],
)
def test_published_test_cards_are_valid(number: str) -> None:
    assert pii.validate("bank_card", pii.normalize("bank_card", number)).valid


def test_known_bin_derives_issuer() -> None:
    number = "622848" + "0402564890" + "01"
    number += luhn.calc_check_digit(number)
    assert pii.validate("bank_card", number).valid
    facts = pii.derive("bank_card", number)
    assert facts["bank_zh"] == "中国农业银行"
    assert (facts["bin"], facts["card_type"], facts["network"]) == ("622848", "debit", "UnionPay")


def test_unknown_bin_is_a_note_not_a_failure() -> None:
    result = pii.validate("bank_card", "6200000000000005")
    assert result.valid
    assert result.notes == ("unknown_bin",)
    assert pii.validate("bank_card", "6222021234567890128").notes == ()


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("6222 **** **** 1234", "6222********1234"),
        ("622202******1234", "622202******1234"),
        ("6222-0212-3456-7890-12x", "622202123456789012*"),
        ("**** **** **** 1234", "************1234"),
    ],
)
def test_masked_cards(raw: str, value: str) -> None:
    assert pii.normalize("bank_card", raw) == value
    assert pii.validate("bank_card", value).status is pii.Status.MASKED


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("4111111111111112", "bad_checksum"),
        ("411111111111111", "bad_length"),
        ("41111111111111a1", "bad_format"),
    ],
)
def test_reasons(value: str, reason: str) -> None:
    assert pii.validate("bank_card", value).reasons == (reason,)


def test_full_width_and_mask_for_reports() -> None:
    assert (
        pii.normalize("bank_card", "６２２２　０２１２　３４５６　７８９０") == "6222021234567890"
    )
    assert pii.mask("bank_card", "6222021234567890") == "6222********7890"


@given(
    bin_=st.sampled_from(sorted(card_bins())),
    body=st.text("0123456789", min_size=18, max_size=18),
    length=st.integers(16, 19),
)
def test_generated_cards_validate_and_find_their_bank(bin_: str, body: str, length: int) -> None:
    number = (bin_ + body)[: length - 1]
    number += luhn.calc_check_digit(number)
    assert pii.validate("bank_card", number).valid
    assert pii.derive("bank_card", number)["bank_zh"] == card_bins()[bin_][0]
