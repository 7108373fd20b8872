"""Format variants carry code symbols: written by apply, read back from raw strings after GBK,
masking and canonicalisation, never changing what leaktrace's checks make of a value."""

from __future__ import annotations

import datetime as dt
import unicodedata

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum import luhn

from leaktrace import pii
from leaktrace.pii.resident_id import check_char
from leaktrace.pii.tables import card_bins, divisions, mobile_segments
from leaktrace.synth.people import draw_people
from leaktrace.trace import variants

MAINLAND = sorted(
    c
    for c, h in divisions().items()
    if h[-1].level == "province" and h[-1].end is None and c[:2] not in ("71", "81", "82", "83")
)
SHORT = {"内蒙古自治区": "内蒙古", "广西壮族自治区": "广西", "西藏自治区": "西藏"}
SHORT |= {"宁夏回族自治区": "宁夏", "新疆维吾尔自治区": "新疆"}
STREET_WORDS = "中山人民解放建设和平文三幸福朝阳新华长江青年东西南北"
ESTATES = ["", "华星小区", "阳光花园", "金都大厦", "和平公寓"]


def current(code: str) -> bool:
    return divisions()[code][-1].end is None


def under(prefix: str, level: str) -> list[str]:
    return sorted(
        c
        for c, h in divisions().items()
        if c.startswith(prefix) and h[-1].level == level and current(c)
    )


def short_of(full: str) -> str:
    return SHORT.get(full, full[:-1])


@st.composite
def addresses(draw: st.DrawFn) -> str:
    """Addresses as typed in bank systems: province, city and county from the division table in
    either writing (or left out), a street and number, an estate, building, unit and room."""
    province = draw(st.sampled_from(MAINLAND))
    pname = divisions()[province][-1].name
    cities = [c for c in under(province[:2], "prefecture") if c != province]
    city = draw(st.sampled_from(cities)) if cities else province
    counties = [
        c
        for c in under(city[:4], "county") or under(province[:2], "county")
        if divisions()[c][-1].name not in ("市辖区", "县")
    ]
    county = divisions()[draw(st.sampled_from(counties))][-1].name
    cname = divisions()[city][-1].name
    head = draw(st.sampled_from([pname, short_of(pname), ""]))
    if cname.endswith("市") and city != province:
        head += draw(st.sampled_from([cname, cname[:-1], ""]))
    elif cname not in ("市辖区", "县") and "直辖" not in cname:
        head += cname
    street = draw(st.text(STREET_WORDS, min_size=1, max_size=3)) + draw(
        st.sampled_from(["路", "街", "大道", "巷"])
    )
    number = str(draw(st.integers(1, 999)))
    estate = draw(st.sampled_from(ESTATES))
    tail = ""
    if draw(st.booleans()):
        building = draw(st.sampled_from([str(draw(st.integers(1, 40))), "A", "B"]))
        tail = building + draw(st.sampled_from(["栋", "幢", "号楼", "座"]))
        unit = draw(st.one_of(st.none(), st.integers(1, 8)))
        room = str(draw(st.integers(1, 33)) * 100 + draw(st.integers(1, 4)))
        if unit is not None:
            tail += f"{unit}" + draw(st.sampled_from(["单元", "-"]))
        tail += room + draw(st.sampled_from(["室", ""]))
    # A number running into a building number keeps its 号 (as everyone writes it).
    number += "号" if tail else draw(st.sampled_from(["号", ""]))
    return head + county + street + number + estate + tail


# County codes with the years (within 1935-2005) they were in force, for births there.
ID_CODES = sorted(
    (code, max(n.start or 1935, 1935), min(n.end or 2005, 2005))
    for code, history in divisions().items()
    for n in history[-1:]
    if code[4:] != "00" and max(n.start or 1935, 1935) <= min(n.end or 2005, 2005)
)


@st.composite
def resident_ids(draw: st.DrawFn) -> str:
    """Valid 18-digit IDs, half of them ending in the check character X."""
    code, first, last = draw(st.sampled_from(ID_CODES))
    birth = draw(st.dates(min_value=dt.date(first, 1, 1), max_value=dt.date(last, 12, 31)))
    seq = draw(st.integers(0, 999))
    want_x = draw(st.booleans())
    for step in range(1000):
        body = f"{code}{birth:%Y%m%d}{(seq + step) % 1000:03d}"
        if not want_x or check_char(body) == "X":
            break
    return body + check_char(body)


@st.composite
def cards(draw: st.DrawFn) -> str:
    """Luhn-valid card numbers of 16 to 19 digits on real BINs."""
    bin_ = draw(st.sampled_from(sorted(card_bins())))
    length = draw(st.integers(16, 19))
    body = bin_ + "".join(draw(st.lists(st.sampled_from("0123456789"), min_size=19, max_size=19)))
    body = body[: length - 1]
    return body + luhn.calc_check_digit(body)


@st.composite
def mobiles(draw: st.DrawFn) -> str:
    prefix = draw(st.sampled_from(sorted(mobile_segments())))
    rest = "".join(draw(st.lists(st.sampled_from("0123456789"), min_size=10, max_size=10)))
    return (prefix + rest)[:11]


VALUES = {
    "address": addresses(),
    "resident_id": resident_ids(),
    "bank_card": cards(),
    "mobile": mobiles(),
}


@st.composite
def marked(draw: st.DrawFn, column: str) -> tuple[str, dict[str, int], str]:
    """(master value, symbols for every slot it offers, the value written with them)."""
    value = draw(VALUES[column])
    symbols = {name: draw(st.integers(0, 1)) for name in variants.slots(column, value)}
    return value, symbols, variants.apply(column, value, symbols)


def same_checks(column: str, a: str, b: str) -> None:
    """leaktrace's checks make the same of ``a`` and ``b``."""
    na, nb = pii.normalize(column, a), pii.normalize(column, b)
    assert na is not None and nb is not None
    if column == "address":
        assert pii.validate(column, na) == pii.validate(column, nb)
        assert pii.derive(column, na) == pii.derive(column, nb)
    else:
        assert na == nb
        assert pii.validate(column, na).valid


@pytest.mark.parametrize("column", sorted(VALUES))
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_read_gives_back_the_symbols_written(column: str, data: st.DataObject) -> None:
    value, symbols, out = data.draw(marked(column))
    assert variants.slots(column, out) == variants.slots(column, value)
    found = variants.read(column, out)
    assert set(found) == {slot.name for slot in variants.SLOTS[column]}
    assert {k: found[k] for k in symbols} == symbols
    assert all(v is None for k, v in found.items() if k not in symbols)
    same_checks(column, value, out)
    for encoding in ("gbk", "gb18030"):
        assert out.encode(encoding).decode(encoding) == out
    assert out.isprintable()
    assert unicodedata.normalize("NFKC", out) == out


def test_generated_values_offer_every_slot() -> None:
    """The generators above reach every slot in both writings (else the round trip proves
    little)."""
    seen: set[tuple[str, str, int | None]] = set()

    @settings(max_examples=500, deadline=None, database=None, derandomize=True)
    @given(data=st.data())
    def collect(data: st.DataObject) -> None:
        for column, strategy in VALUES.items():
            value = data.draw(strategy)
            seen.update((column, k, v) for k, v in variants.natural(column, value).items())

    collect()
    for column, slots in variants.SLOTS.items():
        for slot in slots:
            if column == "address":
                assert {(column, slot.name, 0), (column, slot.name, 1)} <= seen, slot.name
            else:
                assert (column, slot.name, 0) in seen, slot.name


@pytest.mark.parametrize("column", sorted(VALUES))
@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_masking_erases_or_keeps_never_flips(column: str, data: st.DataObject) -> None:
    value, symbols, out = data.draw(marked(column))
    found = variants.read(column, pii.mask(column, out))
    assert all(found[k] in (v, None) for k, v in symbols.items())
    if column == "address":  # the mask keeps six characters: only the province can show
        kept = {"province_suffix", "city_suffix"}
        assert all(found[k] is None for k in symbols if k not in kept)


def test_masks_that_keep_the_writing_keep_the_symbol() -> None:
    assert variants.read("bank_card", "6222 **** **** **** 123") == {"grouping": 1}
    # A masked plain card may be a grouped one masked character by character: erased.
    assert variants.read("bank_card", "6222********0123") == {"grouping": None}
    assert variants.read("bank_card", "6222020200001234") == {"grouping": 0}
    assert variants.read("mobile", "+86 138 **** 5678") == {"country_code": 1, "grouping": 1}
    assert variants.read("mobile", "138****5678") == {"country_code": 0, "grouping": 0}
    assert variants.read("resident_id", "110105********123x") == {"check_case": 1}
    assert variants.read("resident_id", "11010519900101****") == {"check_case": None}
    assert variants.read("mobile", "+86**********5678") == {"country_code": None, "grouping": None}


@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_canonicalisation_gives_one_fixed_symbol_or_erasures(data: st.DataObject) -> None:
    _, _, card = data.draw(marked("bank_card"))
    assert variants.read("bank_card", card.replace(" ", "")) == {"grouping": 0}
    _, symbols, mobile = data.draw(marked("mobile"))
    assert variants.read("mobile", mobile.replace(" ", "")) == {
        "country_code": symbols["country_code"],
        "grouping": 0,
    }
    assert variants.read("mobile", mobile.replace(" ", "-"))["grouping"] == symbols["grouping"]
    _, symbols, rid = data.draw(marked("resident_id"))
    if symbols:
        assert variants.read("resident_id", rid.upper()) == {"check_case": 0}
        assert variants.read("resident_id", rid.lower()) == {"check_case": 1}
    _, symbols, address = data.draw(marked("address"))
    if "building" in symbols:
        assert variants.read("address", address.replace("幢", "栋"))["building"] == 0
        assert (
            variants.read("address", address.replace("栋", "号楼").replace("幢", "号楼"))[
                "building"
            ]
            is None
        )
    if "room" in symbols:
        assert variants.read("address", address.replace("室", ""))["room"] == 1


@pytest.mark.parametrize("column", sorted(VALUES))
@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_full_width_digits_and_spaces_around_read_the_same(
    column: str, data: st.DataObject
) -> None:
    _, _, out = data.draw(marked(column))
    wide = "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isdigit() else c for c in out)
    assert variants.read(column, f"  {wide}\t") == variants.read(column, out)


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_natural_is_what_the_master_already_has(data: st.DataObject) -> None:
    value = data.draw(addresses())
    nat = variants.natural("address", value)
    assert set(nat) == set(variants.slots("address", value))
    if None not in nat.values():
        assert variants.apply("address", value, nat) == value  # confirming changes nothing


def test_examples_from_real_writing() -> None:
    assert variants.natural("address", "浙江杭州市西湖区文三路100号华星小区3幢2-301") == {
        "province_suffix": 1,
        "city_suffix": 0,
        "building": 1,
        "unit": 1,
        "room": 1,
        "street_number": 0,
    }
    assert variants.apply("address", "浙江省杭州市西湖区文三路100号", {"street_number": 1}) == (
        "浙江省杭州市西湖区文三路100"
    )
    # 吉林 names the province and the city 吉林市: neither offers its suffix.
    assert variants.slots("address", "吉林省吉林市船营区中山路5号") == ("street_number",)
    assert variants.read("address", "吉林长春市朝阳区中山路5号")["province_suffix"] is None
    # 济南市市中区: the county starts with 市, so 济南 + 市中区 would read as 济南市 + 中区.
    assert "city_suffix" not in variants.slots("address", "山东省济南市市中区经四路8号")
    assert variants.read("address", "山东济南市中区经四路8号")["city_suffix"] is None
    # 号楼 is neither 栋 nor 幢; a street number running into a building number offers nothing.
    assert variants.slots("address", "北京市朝阳区建国路88号3号楼2单元501") == (
        "province_suffix",
        "unit",
        "room",
    )
    # A standardising geocoder: full names and 室 read 0; without the province, None.
    geocoded = variants.read("address", "浙江省杭州市西湖区文三路100号3幢2-301室")
    assert geocoded == {
        "province_suffix": 0,
        "city_suffix": 0,
        "building": 1,
        "unit": 1,
        "room": 0,
        "street_number": None,
    }
    dropped = variants.read("address", "杭州市西湖区文三路100号3幢2-301室")
    assert dropped["province_suffix"] is None and dropped["city_suffix"] is None
    # A master typed with full-width digits is edited in place, not folded.
    wide = "浙江省杭州市西湖区文三路１００号３栋２单元３０１室"
    assert variants.apply("address", wide, {"building": 1, "room": 1}) == wide.replace(
        "栋", "幢"
    ).removesuffix("室")
    assert variants.natural("resident_id", "11010519491231002x") == {"check_case": 1}
    assert variants.slots("resident_id", "110105194912310021") == ()
    assert variants.natural("mobile", "+86 138 0013 8000") == {"country_code": 1, "grouping": 1}
    assert variants.natural("bank_card", "6222-0202-0000-1234") == {"grouping": None}


def test_misuse_is_a_clear_error_and_garbage_reads_as_erasures() -> None:
    with pytest.raises(ValueError, match="does not offer slot 'building'"):
        variants.apply("address", "浙江省杭州市西湖区文三路100号", {"building": 1})
    with pytest.raises(ValueError, match="must be 0 or 1"):
        variants.apply("bank_card", "6222020200001234", {"grouping": 2})
    with pytest.raises(ValueError, match="no format variants"):
        variants.read("email", "a@b.cn")
    assert variants.slots("bank_card", "6222********1234") == ()
    for column, slots in variants.SLOTS.items():
        assert variants.read(column, "无 N/A") == {slot.name: None for slot in slots}
        assert variants.read(column, "") == {slot.name: None for slot in slots}


def test_every_county_reads_back_in_both_writings() -> None:
    """Every current mainland county under its province and city, written full and short:
    the writing reads back and the divisions named stay the same."""
    offered = 0
    for code, history in divisions().items():
        county = history[-1]
        if county.level != "county" or not current(code) or county.name in ("市辖区", "县"):
            continue
        if code[:2] + "0000" not in MAINLAND:
            continue
        city = divisions().get(code[:4] + "00", (county,))[-1]
        city_name = city.name if city.level == "prefecture" and city.name.endswith("市") else ""
        value = divisions()[code[:2] + "0000"][-1].name + city_name + county.name + "人民路5号"
        names = variants.slots("address", value)[:-1]  # street_number last
        offered += len(names)
        for bit in (0, 1):
            out = variants.apply("address", value, dict.fromkeys(names, bit))
            found = variants.read("address", out)
            assert {k: found[k] for k in names} == dict.fromkeys(names, bit)
            assert pii.derive("address", out) == pii.derive("address", value)
    assert offered > 4500  # about 2,200 of 2,800 counties offer both


def test_slots_per_customer() -> None:
    """Capacity over 10,000 synth customers (address + ID + card + mobile): mean about 7.5,
    quartiles 7 / 8 / 8 (the module docstring's figures), so about 14 customers give 100
    positions."""
    people = draw_people(np.random.default_rng(16), 10_000, dt.date(2025, 6, 30))
    columns = {"address": "address", "resident_id": "resident_id"}
    columns |= {"card_no": "bank_card", "mobile": "mobile"}
    counts = np.array(
        [
            sum(len(variants.slots(kind, row[col])) for col, kind in columns.items())
            for row in people.select(list(columns)).iter_rows(named=True)
        ]
    )
    assert counts.mean() >= 7.0
    assert np.percentile(counts, 25) >= 7
    assert counts.min() >= 4


FRAGMENTS = [
    "浙江省",
    "浙江",
    "杭州市",
    "杭州",
    "西湖区",
    "吉林",
    "市",
    "省",
    "中山路",
    "大道",
    "街",
]
FRAGMENTS += ["1", "23", "456", "号", "栋", "幢", "号楼", "座", "单元", "-", "室", "A", "华星小区"]
FRAGMENTS += ["０", "＊", "*", " ", "x", "X", "+86", "楼", "组"]


@pytest.mark.parametrize("column", sorted(VALUES))
@settings(max_examples=200, deadline=None)
@given(parts=st.lists(st.sampled_from(FRAGMENTS), max_size=12), bits=st.lists(st.booleans()))
def test_any_string_reads_and_round_trips(column: str, parts: list[str], bits: list[bool]) -> None:
    """Odd writings never raise, and whatever a string offers reads back as written."""
    value = "".join(parts)
    offered = variants.slots(column, value)
    symbols = {name: int(b) for name, b in zip(offered, bits + [False] * 6, strict=False)}
    out = variants.apply(column, value, symbols)
    assert variants.slots(column, out) == offered
    found = variants.read(column, out)
    assert {k: found[k] for k in offered} == symbols
