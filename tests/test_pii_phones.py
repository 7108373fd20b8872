"""Mobile and landline numbers: phonenumbers' own examples, prefixes, separators, masks, reasons."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given
from hypothesis import strategies as st
from phonenumbers import PhoneNumberType

from leaktrace import pii
from leaktrace.pii.tables import area_codes, mobile_segments


def example(kind: PhoneNumberType) -> phonenumbers.PhoneNumber:
    number = phonenumbers.example_number_for_type("CN", kind)
    assert number is not None
    return number


def test_phonenumbers_example_mobile_in_its_own_formats() -> None:
    number = example(PhoneNumberType.MOBILE)
    expected = str(number.national_number)
    for fmt in (
        phonenumbers.PhoneNumberFormat.E164,
        phonenumbers.PhoneNumberFormat.INTERNATIONAL,
        phonenumbers.PhoneNumberFormat.NATIONAL,
    ):
        assert pii.normalize("mobile", phonenumbers.format_number(number, fmt)) == expected
    assert pii.validate("mobile", expected).valid


@pytest.mark.parametrize(
    "raw",
    [
        "13812345678",
        "138 1234 5678",
        "138-1234-5678",
        "138.1234.5678",
        "+86 13812345678",
        "+86-138-1234-5678",
        "0086 13812345678",
        "8613812345678",
        "(+86)13812345678",
        "１３８１２３４５６７８",
        "＋８６ １３８ １２３４ ５６７８",
    ],
)
def test_mobile_writings_normalise_alike(raw: str) -> None:
    assert pii.normalize("mobile", raw) == "13812345678"


def test_mobile_derives_carrier() -> None:
    assert pii.derive("mobile", "13812345678")["carrier"] == "China Mobile"
    assert pii.derive("mobile", "18912345678")["carrier_zh"] == "中国电信"
    assert pii.derive("mobile", "13012345678")["carrier"] == "China Unicom"


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("138****5678", "138****5678"),
        ("138xxxx5678", "138****5678"),
        ("138＊＊＊＊5678", "138****5678"),
    ],
)
def test_masked_mobile(raw: str, masked: str) -> None:
    assert pii.normalize("mobile", raw) == masked
    assert pii.validate("mobile", masked).status is pii.Status.MASKED
    assert pii.mask("mobile", "13812345678") == "138****5678"


@pytest.mark.parametrize(
    ("value", "reasons"),
    [
        ("10012345678", ("unallocated_segment",)),
        ("14012345678", ("unallocated_segment",)),
        ("100****5678", ("unallocated_segment", "masked")),
        ("1381234567", ("bad_length",)),
        ("1381234567a", ("bad_format",)),
    ],
)
def test_mobile_reasons(value: str, reasons: tuple[str, ...]) -> None:
    assert pii.validate("mobile", value).reasons == reasons


def test_mobile_rejects_other_shapes() -> None:
    for raw in ("23812345678", "138123456789", "+1 13812345678", "1*********8"):
        assert pii.normalize("mobile", raw) is None


@given(
    prefix=st.sampled_from(sorted(mobile_segments())),
    rest=st.text("0123456789", min_size=8, max_size=8),
)
def test_every_segment_agrees_with_phonenumbers(prefix: str, rest: str) -> None:
    national = (prefix + rest)[:11]
    number = phonenumbers.parse("+86" + national)
    assert phonenumbers.is_valid_number(number)
    assert pii.validate("mobile", national).valid


def test_phonenumbers_example_landline() -> None:
    number = example(PhoneNumberType.FIXED_LINE)
    national = "0" + str(number.national_number)
    formatted = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    assert pii.normalize("landline", formatted) == national
    assert pii.validate("landline", national).valid


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("010-62345678", "01062345678"),
        ("(0755)8888-8888", "075588888888"),
        ("+86 755 88888888", "075588888888"),
        ("0086-10-62345678", "01062345678"),
        ("０２１－６２３４５６７８", "02162345678"),
        ("0755-8888****", "07558888****"),
    ],
)
def test_landline_writings(raw: str, value: str) -> None:
    assert pii.normalize("landline", raw) == value


def test_landline_derive_and_mask() -> None:
    facts = pii.derive("landline", "075588888888")
    assert facts == {
        "area_code": "0755",
        "local_number": "88888888",
        "region": "Shenzhen, Guangdong",
        "region_zh": "广东省深圳市",
    }
    assert pii.mask("landline", "075588888888") == "0755****8888"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("0101234567", "bad_length"),
        ("0101234567a", "bad_format"),
        ("01a12345678", "bad_format"),
        ("01162345678", "unknown_area_code"),
        ("07558888888", "bad_local_length"),
        ("01010001234", "bad_local_number"),
        ("0755****8888", "masked"),
    ],
)
def test_landline_reasons(value: str, reason: str) -> None:
    assert pii.validate("landline", value).reasons[0] == reason


@given(
    area=st.sampled_from(sorted(area_codes())), digits=st.text("0123456789", min_size=8, max_size=8)
)
def test_landline_validity_matches_phonenumbers(area: str, digits: str) -> None:
    for length in area_codes()[area][0]:
        value = area + digits[:length]
        number = phonenumbers.parse("+86" + value[1:])
        expected = phonenumbers.number_type(number) == PhoneNumberType.FIXED_LINE
        assert pii.validate("landline", value).valid == expected
