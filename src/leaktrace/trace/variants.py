"""Format variants as code symbols: two writings of the same value, both found in real Chinese
bank exports, chosen per (customer, slot) to carry a share's code and read back from a leak.

A *slot* is one binary choice in one column's value (:data:`SLOTS` names them, with the evidence
that both writings are ordinary). Symbol 0 is the first writing listed, 1 the second. A value
offers a slot only where its own text allows the choice (:func:`slots`, computed from the value
alone, so the owner who holds the master knows which positions each customer's record carries,
and unchanged by :func:`apply`); a slot a value does not offer is absent, not an erasure.

Every writing is printable GBK/GB18030 text (no zero-width characters, no NBSP) and keeps the
value what leaktrace's checks make of it: IDs, cards and mobiles normalise to the same value,
addresses keep their validation and the divisions they name. Full-width digits are *not* a slot:
``pii.fold_width``, NFKC and Excel's ASC() fold them, and an ID, card or mobile column with
full-width digits does not look like an ordinary export; :func:`read` reads through them.

What leakers do, slot by slot (the tests pin each case):

- masking hides the characters of a slot: :func:`read` gives None (erasure). ``pii.mask`` keeps
  an ID's last four characters, so ``check_case`` survives it; a masked mobile keeps its writing
  when the masker kept the separators, a masked card only when spaces show its groups (masking
  4-4-4-4 character by character leaves 19 plain characters, so a masked plain card is None).
  Masking never turns one symbol into the other.
- canonicalisation turns a slot into one fixed symbol in every record: removing spaces gives
  ``grouping`` 0 and ``country_code`` stays as written; upper-casing gives ``check_case`` 0;
  replacing 幢 by 栋 gives ``building`` 0; replacing both by 号楼 gives None; a standardising
  geocoder (full division names, 室 added) gives ``province_suffix``, ``city_suffix`` and
  ``room`` 0, and one that drops the province leaves its slots None. Trace must treat a
  slot whose symbol is the same in every leaked record as suspect (a canonicalised column) and
  count it as erasures, unless the code's biases make that agreement likely.

Natural variation: a master's own values already use one writing or the other (customers and
staff type addresses by hand). :func:`natural` gives the symbol a master value has at each slot
it offers, or None where it has neither writing. Trace should write every offered slot of a
shared record (:func:`apply` with a symbol for each), so that the copy's symbol is always the
owner's choice, *confirmed* (equal to the natural one) or *changed*. A leak taken from the
master itself (an insider, an export made before marking) shows the natural symbols: scoring
stays sound (an innocent's symbols are drawn independently of the leak), but the evidence shown
to a person should count changed positions apart, since only a marked copy explains those, and a
leak whose symbols equal the natural ones almost everywhere points at the master, not a share.

Capacity, measured over 10,000 customers of ``synth.people.draw_people`` (address + ID + card +
mobile; ``tests/test_trace_variants.py::test_slots_per_customer`` asserts the lower bounds):
mean 7.5 slots, quartiles 7 / 8 / 8, minimum 4 (addresses offer 1-5, mean 4.4, mobiles 2, cards 1,
IDs ending in X one more), so a leak needs about 14 customers for 100 positions.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache

from leaktrace import pii
from leaktrace.pii.address import PROVINCE_SHORT_NAMES, names
from leaktrace.pii.tables import divisions

Symbols = dict[str, int | None]


@dataclass(frozen=True)
class Slot:
    """One binary choice: the column (a ``leaktrace.pii`` kind), its two writings and why both
    are ordinary in Chinese bank data."""

    column: str
    name: str
    writings: tuple[str, str]
    evidence: str


SLOTS: dict[str, tuple[Slot, ...]] = {
    "resident_id": (
        Slot(
            "resident_id",
            "check_case",
            ("check character X", "check character x"),
            "GB 11643-1999 prescribes X; lower-case x is common where IDs are typed, and ID "
            "checks (12306, bank KYC forms, leaktrace.pii) accept both.",
        ),
    ),
    "bank_card": (
        Slot(
            "bank_card",
            "grouping",
            ("digits plain", "digits in groups of four separated by spaces"),
            "Core-system exports write the PAN plain; card faces (ISO/IEC 7812), statements and "
            "online banking of Chinese banks group it 4-4-4-4(-3).",
        ),
    ),
    "mobile": (
        Slot(
            "mobile",
            "country_code",
            ("no country code", "+86 before the number"),
            "Domestic exports write 11 digits; CRM and SMS-platform exports and the E.164/E.123 "
            "international form write +86.",
        ),
        Slot(
            "mobile",
            "grouping",
            ("11 digits plain", "grouped 3-4-4 with spaces"),
            "3-4-4 is the customary Chinese grouping (libphonenumber's national format for CN "
            "mobiles, carriers' own writing, e.g. 138 0013 8000).",
        ),
    ),
    "address": (
        Slot(
            "address",
            "province_suffix",
            ("province written in full (浙江省, 北京市)", "province short (浙江, 北京)"),
            "ID cards and registries write the full name; customer-typed and e-commerce "
            "addresses often drop 省/市/自治区. Only where the next name is a division of it and "
            "the short name names nothing else (not 吉林, which also names 吉林市).",
        ),
        Slot(
            "address",
            "city_suffix",
            ("city with 市 (杭州市)", "city without 市 (杭州)"),
            "Both in typed addresses; only right after a written province, where a county of "
            "that city follows and the short name names nothing else.",
        ),
        Slot(
            "address",
            "building",
            ("栋", "幢"),
            "栋 is everyday usage, 幢 the real-estate register's word (幢号); both common in "
            "residential addresses.",
        ),
        Slot(
            "address",
            "unit",
            ("单元 between unit and room", "'-' between unit and room"),
            "3栋2单元301室 and 3栋2-301室 are both ordinary in typed addresses.",
        ),
        Slot(
            "address",
            "room",
            ("室 after the room number", "room number alone"),
            "2单元301室 and 2单元301 both occur; only after a building or unit.",
        ),
        Slot(
            "address",
            "street_number",
            ("号 after the street number", "number alone"),
            "中山路100号 and 中山路100 both occur; only where the number ends the address or a "
            "name follows (never digits, which would run into it).",
        ),
    ),
}

# A place in a string where a slot lives: the span of its writing and its two writings there.
_Place = tuple[int, int, tuple[str, str]]
_Finder = Callable[[str], "_Place | None"]
_MAINLAND = tuple(
    f"{p}0000"
    for p in (
        "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 "
        "44 45 46 50 51 52 53 54 61 62 63 64 65"
    ).split()
)


@cache
def _provinces() -> dict[str, tuple[str, str]]:
    """Short name -> (two-digit prefix, full name) of the mainland provinces."""
    out = {}
    for code in _MAINLAND:
        full = divisions()[code][-1].name
        short = next(s for s in PROVINCE_SHORT_NAMES if full.startswith(s))
        out[short] = (code[:2], full)
    return out


@cache
def _cities() -> dict[str, dict[str, tuple[str, str]]]:
    """Two-digit province prefix -> short name -> (four-digit prefix, full name) of its current
    prefecture-level cities named ...市."""
    out: dict[str, dict[str, tuple[str, str]]] = {}
    for code, history in divisions().items():
        current = history[-1]
        name = current.name
        if current.level == "prefecture" and current.end is None and name.endswith("市"):
            if len(name) >= 3:
                out.setdefault(code[:2], {})[name[:-1]] = (code[:4], name)
    return out


@cache
def _longest_name() -> int:
    return max(len(n) for n in names())


def _names_a_division(rest: str, prefix: str, exclude: str) -> bool:
    """Whether ``rest`` starts with the name of a division under ``prefix`` other than
    ``exclude`` (the division just written)."""
    for n in range(min(len(rest), _longest_name()), 1, -1):
        codes = names().get(rest[:n], ())
        if any(c.startswith(prefix) and c != exclude for c in codes):
            return True
    return False


def _written(
    s: str, start: int, table: Mapping[str, tuple[str, str]], suffix: str
) -> tuple[_Place, str] | None:
    """The division of ``table`` (short name -> (code prefix, full name)) written in full or
    short at ``start`` of ``s`` and followed by a division under it, with its code prefix."""
    for n in range(2, 6):
        found = table.get(s[start : start + n])
        if found is None:
            continue
        prefix, full = found
        short = s[start : start + n]
        if len(names().get(short, ())) > 1:
            return None  # 吉林 also names 吉林市: the short writing would change what it names
        for written in (full, short):
            end = start + len(written)
            if not s.startswith(written, start):
                continue
            if s.startswith(full[len(short) :], end):
                return None  # 济南市市中区: the short writing would read as 济南市 + 中区
            if _names_a_division(s[end:], prefix, prefix + suffix):
                return (start, end, (full, short)), prefix
    return None


def _province(s: str) -> tuple[_Place, str] | None:
    """The province written at the start of ``s`` (before one of its divisions), with its
    two-digit prefix."""
    return _written(s, 0, _provinces(), "0000")


def _province_place(s: str) -> _Place | None:
    found = _province(s)
    return found[0] if found else None


def _city_place(s: str) -> _Place | None:
    """A city written right after a written province, followed by one of its counties."""
    found = _province(s)
    if found is None:
        return None
    (_, start, _), prefix = found
    city = _written(s, start, _cities().get(prefix, {}), "00")
    return city[0] if city else None


def _regex(pattern: str, writings: tuple[str, str]) -> _Finder:
    """A finder for the first match of ``pattern``, whose group 'w' holds the writing."""
    compiled = re.compile(pattern)

    def find(s: str) -> _Place | None:
        m = compiled.search(s)
        return (m.start("w"), m.end("w"), writings) if m else None

    return find


# Digits half- or full-width, so that the master's own writing is edited in place, unfolded.
_D = "[0-9０-９]"
_BUILDING = "(?:栋|幢|号楼|座)"
_ADDRESS_FINDERS: dict[str, _Finder] = {
    "province_suffix": _province_place,
    "city_suffix": _city_place,
    "building": _regex(f"(?<![0-9０-９A-Za-z])(?:{_D}{{1,3}}|[A-Za-z])(?P<w>栋|幢)", ("栋", "幢")),
    "unit": _regex(f"{_BUILDING}{_D}{{1,2}}(?P<w>单元|-)(?={_D}{{2,4}})", ("单元", "-")),
    "room": _regex(
        f"(?:单元|{_BUILDING}{_D}{{1,2}}-|{_BUILDING}){_D}{{2,4}}(?P<w>室|)(?=\\s*$)",
        ("室", ""),
    ),
    "street_number": _regex(
        f"(?:路|街|道|巷){_D}{{1,4}}(?P<w>号|)(?=\\s*$|(?![楼院弄栋幢室单组层座期区号])[一-鿿])",
        ("号", ""),
    ),
}


def _address_read(s: str) -> Symbols:
    out: Symbols = {}
    for name, find in _ADDRESS_FINDERS.items():
        place = find(s)
        out[name] = None if place is None else _symbol(s[place[0] : place[1]], place[2])
    return out


def _symbol(written: str, writings: tuple[str, str]) -> int | None:
    return writings.index(written) if written in writings else None


def _address_apply(s: str, symbols: Mapping[str, int]) -> str:
    for name, find in _ADDRESS_FINDERS.items():
        if name in symbols:
            place = find(s)
            if place is None:
                raise ValueError(f"the address does not offer slot {name!r}")
            start, end, writings = place
            s = s[:start] + writings[symbols[name]] + s[end:]
    return s


_ID = re.compile(r"[0-9*]{17}([xX])")
_CARD_PLAIN = re.compile(r"[0-9*]{16,19}")
_CARD_GROUPED = re.compile(r"[0-9*]{4}(?: [0-9*]{4}){3}(?: [0-9*]{1,3})?")
_MOBILE = re.compile(
    r"(?P<cc>(?:\+|00)?86[ -]?)?1[0-9*]{2}(?P<sep>[ -]?)[0-9*]{4}(?P=sep)[0-9*]{4}"
)


def _id_read(s: str) -> Symbols:
    m = _ID.fullmatch(s)
    return {"check_case": None if m is None else "Xx".index(m.group(1))}


def _card_read(s: str) -> Symbols:
    """Plain only when unmasked: masking 4-4-4-4 character by character leaves 19 plain ones."""
    plain = "*" not in s and _CARD_PLAIN.fullmatch(s)
    return {"grouping": 0 if plain else 1 if _CARD_GROUPED.fullmatch(s) else None}


def _mobile_read(s: str) -> Symbols:
    m = _MOBILE.fullmatch(s)
    if m is None:
        return {"country_code": None, "grouping": None}
    return {"country_code": int(m.group("cc") is not None), "grouping": int(bool(m.group("sep")))}


_READERS: dict[str, Callable[[str], Symbols]] = {
    "resident_id": _id_read,
    "bank_card": _card_read,
    "mobile": _mobile_read,
    "address": _address_read,
}


def _check_column(column: str) -> None:
    if column not in SLOTS:
        raise ValueError(f"no format variants for column {column!r}; known: {', '.join(SLOTS)}")


def read(column: str, raw: str) -> Symbols:
    """The symbol written at each slot of ``column`` in a leaked raw string: 0 or 1, None
    (erasure) where the slot is masked, missing or written neither way. Only the slots the
    master's value offers (:func:`slots`) are positions of the code; ignore the others."""
    _check_column(column)
    s = raw.strip()
    return _READERS[column](s if column == "address" else pii.fold_width(s))


def _full(column: str, value: str) -> str | None:
    """The normalised value of a digit column when it is complete (not masked), else None."""
    normal = pii.normalize(column, value)
    return normal if normal is not None and "*" not in normal else None


def slots(column: str, value: str) -> tuple[str, ...]:
    """The slots a master ``value`` offers, in :data:`SLOTS` order; the same for every variant
    :func:`apply` writes."""
    _check_column(column)
    if column == "address":
        return tuple(name for name, find in _ADDRESS_FINDERS.items() if find(value) is not None)
    normal = _full(column, value)
    if normal is None:
        return ()
    if column == "resident_id":
        return ("check_case",) if len(normal) == 18 and normal.endswith("X") else ()
    return tuple(slot.name for slot in SLOTS[column])


def natural(column: str, value: str) -> Symbols:
    """The symbol a master ``value`` already has at each slot it offers (None where it is
    written neither way): the caller tells confirmed marks from changed ones with it."""
    found = read(column, value)
    return {name: found[name] for name in slots(column, value)}


def apply(column: str, value: str, symbols: Mapping[str, int]) -> str:
    """``value`` written with ``symbols`` at the named slots. An address is edited in place and
    changes nowhere else; an ID, card or mobile is rewritten from its normalised digits, its
    other slots keeping their writing (writing 0 where it has neither). Raises ValueError for a
    slot the value does not offer or a symbol other than 0 or 1."""
    offered = slots(column, value)
    for name, symbol in symbols.items():
        if name not in offered:
            raise ValueError(f"the {column} value does not offer slot {name!r}")
        if symbol not in (0, 1):
            raise ValueError(f"symbol for slot {name!r} must be 0 or 1")
    if column == "address":
        return _address_apply(value, symbols)
    normal = _full(column, value)
    if normal is None or not symbols:
        return value
    chosen = {name: symbols.get(name, found) or 0 for name, found in read(column, value).items()}
    if column == "resident_id":
        return normal[:17] + "Xx"[chosen["check_case"]]
    if column == "bank_card":
        if not chosen["grouping"]:
            return normal
        return " ".join(normal[i : i + 4] for i in range(0, len(normal), 4))
    number = f"{normal[:3]} {normal[3:7]} {normal[7:]}" if chosen["grouping"] else normal
    return ("+86 " if chosen["country_code"] else "") + number
