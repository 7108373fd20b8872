"""E-mail, passport, plate, person name and address: shapes, masks, reasons, derive."""

from __future__ import annotations

import pytest

from leaktrace import pii


def reasons(kind: str, raw: str) -> tuple[str, ...]:
    value = pii.normalize(kind, raw)
    assert value is not None
    return pii.validate(kind, value).reasons


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        (" Zhang.San@QQ.com ", "zhang.san@qq.com"),
        ("ｌｉｓｉ＠１６３．ｃｏｍ", "lisi@163.com"),
        ("ab***@163.com", "ab***@163.com"),
    ],
)
def test_email_normalise(raw: str, value: str) -> None:
    assert pii.normalize("email", raw) == value


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("zhang.san@qq.com", ()),
        ("ab***@163.com", ("masked",)),
        ("a..b@qq.com", ("bad_local_part",)),
        ("a@qq", ("bad_domain",)),
        ("a@-qq.com", ("bad_domain",)),
        ("a" * 65 + "@qq.com", ("bad_length",)),
    ],
)
def test_email_reasons(raw: str, expected: tuple[str, ...]) -> None:
    assert reasons("email", raw) == expected


def test_email_shape_derive_and_mask() -> None:
    assert pii.normalize("email", "a@@b.com") is None
    assert pii.normalize("email", "张三@qq.com") is None
    assert pii.validate("email", "A@qq.com").reasons == ("bad_format",)
    assert pii.derive("email", "zhang.san@qq.com") == {"domain": "qq.com"}
    assert pii.mask("email", "zhang.san@qq.com") == "z********@qq.com"


@pytest.mark.parametrize(
    ("raw", "value", "kind"),
    [
        ("E12345678", "E12345678", "ordinary"),
        ("ea1234567", "EA1234567", "ordinary"),
        ("G 1234 5678", "G12345678", "ordinary"),
        ("DE1234567", "DE1234567", "diplomatic"),
        ("SE1234567", "SE1234567", "service"),
        ("ＰＥ１２３４５６７", "PE1234567", "public affairs"),
    ],
)
def test_passports(raw: str, value: str, kind: str) -> None:
    assert pii.normalize("passport", raw) == value
    assert pii.validate("passport", value).valid
    assert pii.derive("passport", value)["type"] == kind


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("E1234****", ("masked",)), ("X12345678", ("bad_format",)), ("E1234567", ("bad_length",))],
)
def test_passport_reasons(raw: str, expected: tuple[str, ...]) -> None:
    assert reasons("passport", raw) == expected


@pytest.mark.parametrize(
    ("raw", "value", "new_energy"),
    [
        ("京A·12345", "京A12345", False),
        ("粤B D12345", "粤BD12345", True),
        ("沪a12345d", "沪A12345D", True),
        ("京Ａ１２３４学", "京A1234学", False),
    ],
)
def test_plates(raw: str, value: str, new_energy: bool) -> None:
    assert pii.normalize("plate", raw) == value
    assert pii.validate("plate", value).valid
    assert pii.derive("plate", value)["new_energy"] is new_energy


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("京I12345", ("bad_format",)),
        ("京AD1234F", ("bad_format",)),
        ("中A12345", ("unknown_province",)),
        ("京A1**45", ("masked",)),
    ],
)
def test_plate_reasons(raw: str, expected: tuple[str, ...]) -> None:
    assert reasons("plate", raw) == expected


def test_plate_derive_and_shape() -> None:
    assert pii.derive("plate", "粤BD12345")["province"] == "广东省"
    assert pii.normalize("plate", "A12345") is None
    assert pii.validate("plate", "京A123").reasons == ("bad_length",)


@pytest.mark.parametrize(
    ("raw", "value", "surname"),
    [
        ("张三", "张三", "张"),
        ("欧阳娜娜", "欧阳娜娜", "欧阳"),
        ("诸葛亮", "诸葛亮", "诸葛"),
        ("王 小 明", "王小明", "王"),
        ("司马光", "司马光", "司马"),
    ],
)
def test_han_names(raw: str, value: str, surname: str) -> None:
    assert pii.normalize("person_name", raw) == value
    assert pii.validate("person_name", value).valid
    assert pii.derive("person_name", value)["surname"] == surname


def test_minority_name_forms() -> None:
    for raw in ("阿依古丽·买买提", "阿依古丽•买买提", "阿依古丽.买买提", "阿依古丽・买买提"):
        assert pii.normalize("person_name", raw) == "阿依古丽·买买提"
    assert pii.validate("person_name", "阿依古丽·买买提").valid
    assert pii.derive("person_name", "阿依古丽·买买提")["minority_form"] is True


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("张*", ("masked",)),
        ("张某", ("masked",)),
        ("王xx", ("masked",)),
        ("丙丁", ("unknown_surname",)),
        ("张三丰四五", ("bad_length",)),
        ("·买买提", ("bad_format",)),
    ],
)
def test_name_reasons(raw: str, expected: tuple[str, ...]) -> None:
    assert reasons("person_name", raw) == expected


def test_name_mask_and_non_names() -> None:
    assert pii.mask("person_name", "欧阳娜娜") == "欧阳**"
    assert pii.normalize("person_name", "Zhang San") is None
    assert pii.normalize("person_name", "某某") is None


def test_address_derive() -> None:
    assert pii.derive("address", "北京市朝阳区建国路88号") == {
        "province": "北京市",
        "city": "北京市",
        "county": "朝阳区",
        "division_code": "110105",
    }
    # Province left out: inferred from the city; short names are recognised.
    facts = pii.derive("address", "深圳南山区科技园科苑路15号")
    assert (facts["province"], facts["city"], facts["county"]) == ("广东省", "深圳市", "南山区")
    # The same county name exists in two provinces: the one named wins.
    assert pii.derive("address", "吉林省长春市朝阳区红旗街1号")["division_code"] == "220104"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("北京市朝阳区建国路88号", ()),
        ("浙江省杭州市西湖区文三路***号", ("masked",)),
        ("广东深圳南山区科技园", ("no_detail",)),
        ("某某路某某小区3号楼", ("no_division",)),
        ("北京路1号", ("bad_length",)),
    ],
)
def test_address_reasons(raw: str, expected: tuple[str, ...]) -> None:
    assert reasons("address", raw) == expected


def test_address_shape_and_mask() -> None:
    assert pii.normalize("address", "abc def") is None
    assert pii.mask("address", "北京市朝阳区建国路88号") == "北京市朝阳区******"


def test_pattern_province_names_match_the_division_table() -> None:
    from leaktrace.pii.address import PROVINCE_SHORT_NAMES, names
    from leaktrace.pii.tables import divisions

    short = {
        n
        for n, codes in names().items()
        if any(divisions()[c][-1].level == "province" and c != "830000" for c in codes)
        and n != divisions()[codes[0]][-1].name
    }
    assert short == set(PROVINCE_SHORT_NAMES)
