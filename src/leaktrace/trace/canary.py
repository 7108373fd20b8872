"""Canary records: synthetic customers planted in one share's copy, regenerable from the key.

Each canary is a keyed, deterministic function of (secret key, share id, index, attempt, share
date): keyed BLAKE2b in counter mode supplies every draw, so the data owner can rebuild a
share's canaries from the key and the ledger (which keeps the attempt numbers, usually all 0);
only the given name also needs the master. Fields follow the reference tables, not synth's
person generator: provinces, ages and surnames by the 2020 census and 公安部 shares
(``synth/data``), a county code in force in the birth year (GB/T 2260), the MOD 11-2 check
character, allocated mobile segments, real BINs with a Luhn digit, an address in a current
county, usually that of the ID, and a given name as often as the master's customers bear it
(:class:`GivenNames`; else from the list of the most common ones, 伟, 芳, 秀英 …, that Faker's
zh_CN provider keeps). A canary that meets a real customer's resident ID, card or mobile (or a
mobile next to one) is redrawn with the next attempt.

Canaries are written in the master's canonical form; the share's format variants are applied
to them as to any record. They are unique to one share: pass the canaries of earlier shares in
``taken`` to keep them apart (coding canaries across shares, each copy carrying a code word of
shared canaries, is not built here). A paid name+ID check (二要素) can still filter them out.
"""

from __future__ import annotations

import bisect
import csv
import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from functools import cache
from importlib import resources

import numpy as np
import polars as pl
from faker.providers.person.zh_CN import Provider as Person

from leaktrace import pii
from leaktrace.pii.bank_card import luhn_ok
from leaktrace.pii.resident_id import check_char
from leaktrace.pii.tables import card_bins, divisions, mobile_segments, surnames

KEY_BYTES = (16, 64)  # BLAKE2b takes keys up to 64 bytes; fewer than 16 is too weak a secret
# Redraws per index before giving up: against a 10M-customer master about 1% of draws clash
# (mostly a mobile next to a customer's), so 64 are never used up in practice.
MAX_ATTEMPTS = 64
MIN_AGE, MAX_AGE = 18, 90  # adult customers
MALE_SHARE = 105.07 / 205.07  # 2020 census, 公报（第四号）
# Share of people living outside the county of their ID: the number never changes when a
# household registration moves, and the 2020 census counted 492.76M people (35%) living away
# from theirs. The shares below it are assumptions no table gives; a bank can check them
# against its master.
AWAY_SHARE = 0.30
SINGLE_GIVEN_SHARE = 0.15  # given names of one character among adults
CREDIT_SHARE = 0.15  # customers whose card on file is a credit card (16 digits)
FLAT_SHARE = 0.80  # addresses with building, unit and room
# Older mobile blocks (13x, 15x, 18x) hold most subscribers, newer ones fewer.
BLOCK_WEIGHTS = {"13": 3.0, "15": 3.0, "18": 3.0, "17": 1.0, "19": 1.0, "14": 0.3, "16": 0.3}
# Provinces created after 1949 whose older people hold the codes of the province split from.
PARENT_PROVINCE = {"46": "44", "50": "51"}
# Words common in Chinese street names; place names of the division table are added.
STREET_WORDS = (
    "中山",
    "人民",
    "解放",
    "建设",
    "和平",
    "胜利",
    "新华",
    "文化",
    "青年",
    "朝阳",
    "光明",
    "工业",
    "友谊",
    "东风",
    "健康",
    "民主",
    "复兴",
    "团结",
    "长安",
    "振兴",
    "红旗",
    "育才",
    "劳动",
    "府前",
)
_GENERIC_COUNTIES = {"市辖区"}
_PREFIX_SUFFIXES = ("市", "地区", "盟")


@dataclass(frozen=True)
class Canary:
    """One synthetic customer planted in share ``share`` at position ``index``."""

    share: str
    index: int
    attempt: int
    name: str
    sex: str  # M / F
    birth_date: dt.date
    resident_id: str
    mobile: str
    card_no: str
    card_issuer: str
    address: str
    province: str
    city: str
    county: str


_KIND_OF = {"resident_id": "resident_id", "mobile": "mobile", "card_no": "bank_card"}


def _as_int(field: str, values: pl.Expr) -> pl.Expr:
    """Canonical identifiers as UInt64 (a resident ID as its 17 digits * 11 + its check value,
    X = 10; a card of up to 19 digits fits), so a master's millions take 8 bytes each."""
    if field == "resident_id":
        check = values.str.slice(17, 1).replace("X", "10").cast(pl.UInt64)
        return values.str.slice(0, 17).cast(pl.UInt64) * 11 + check
    return values.cast(pl.UInt64)


class Taken:
    """Identifiers a canary must not take: the master's customers (and other shares' canaries,
    e.g. ``Taken.of(frame(earlier))``), kept as sorted integers."""

    def __init__(
        self,
        resident_ids: Iterable[str] = (),
        mobiles: Iterable[str] = (),
        cards: Iterable[str] = (),
    ) -> None:
        """From canonical values (as :func:`leaktrace.pii.normalize` gives them)."""
        given = {"resident_id": resident_ids, "mobile": mobiles, "card_no": cards}
        self._sorted = {
            f: _sorted(pl.select(_as_int(f, pl.lit(pl.Series(list(v), dtype=pl.String)))))
            for f, v in given.items()
        }

    @classmethod
    def of(cls, frame: pl.DataFrame | pl.LazyFrame) -> Taken:
        """From a frame with any of the columns resident_id, mobile, card_no (or bank_card),
        written in any form the kinds normalise (separators, +86, a lower-case x)."""
        cols = set(frame.collect_schema().names())
        taken = cls()
        for f, kind in _KIND_OF.items():
            parts = [
                _as_int(f, pii.KINDS[kind].normalize_expr(pl.col(n).cast(pl.String)))
                for n in dict.fromkeys((f, kind))
                if n in cols
            ]
            if parts:
                found = frame.lazy().select(pl.concat_list(parts).alias("v")).explode("v")
                taken._sorted[f] = _sorted(found.collect())
        return taken

    def clashes(self, c: Canary) -> bool:
        """True when ``c`` repeats an identifier here or sits next to a mobile here (±1)."""
        m = int(c.mobile)
        rid = int(c.resident_id[:17]) * 11 + (
            10 if c.resident_id[17] == "X" else int(c.resident_id[17])
        )
        return (
            self._has("resident_id", rid)
            or self._has("card_no", int(c.card_no))
            or any(self._has("mobile", m + d) for d in (-1, 0, 1))
        )

    def _has(self, field: str, value: int) -> bool:
        values = self._sorted[field]
        i = int(np.searchsorted(values, np.uint64(value)))
        return i < len(values) and int(values[i]) == value


def _sorted(column: pl.DataFrame) -> np.ndarray:
    """The distinct non-null values of a one-column frame, sorted, as a uint64 array."""
    return np.sort(column.to_series().drop_nulls().unique().to_numpy().astype(np.uint64))


class _Stream:
    """Uniform draws from keyed BLAKE2b in counter mode over (share, index, attempt, part):
    each part (identity, given name) its own stream, so one never shifts the other's draws."""

    def __init__(self, key: bytes, share: str, index: int, attempt: int, part: bytes) -> None:
        self._key = key
        sid = share.encode("utf-8")  # length-prefixed: no two inputs share a label
        self._label = (
            len(sid).to_bytes(4, "big")
            + sid
            + index.to_bytes(8, "big")
            + attempt.to_bytes(4, "big")
            + part
        )
        self._counter = 0
        self._buf = b""

    def _word(self) -> int:
        if len(self._buf) < 8:
            h = hashlib.blake2b(
                self._label + self._counter.to_bytes(8, "big"),
                key=self._key,
                person=b"leaktrace-canary",
            )
            self._counter += 1
            self._buf = h.digest()
        w, self._buf = self._buf[:8], self._buf[8:]
        return int.from_bytes(w, "big")

    def uniform(self) -> float:
        return (self._word() >> 11) / float(1 << 53)

    def below(self, n: int) -> int:
        """An integer in [0, n); bias at most n / 2**64."""
        return self._word() % n

    def weighted(self, cumulative: list[float]) -> int:
        """An index drawn by the cumulative weights ``cumulative``."""
        return bisect.bisect_right(cumulative, self.uniform() * cumulative[-1])


def _cumulative(weights: Iterable[float]) -> list[float]:
    out, total = [], 0.0
    for w in weights:
        total += w
        out.append(total)
    return out


def _read(package: str, name: str) -> list[dict[str, str]]:
    text = resources.files(package).joinpath("data").joinpath(name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


@dataclass(frozen=True)
class _County:
    """A county in force today, with the names an address writes for it."""

    code: str
    province: str
    city: str
    county: str
    prefix: str  # 广东省广州市天河区; 北京市朝阳区 (no repeated municipality)


@dataclass
class _Tables:
    """The reference tables as draw-ready lists and cumulative weights."""

    provinces: list[str]  # two-digit codes
    province_cum: list[float]
    ages: list[int]
    age_cum: list[float]
    surnames: list[str]
    surname_cum: list[float]
    given: dict[str, tuple[list[str], list[str]]]  # per sex: one-character, two-character
    current: dict[str, list[_County]]  # per province, counties in force today
    current_by_code: dict[str, _County]
    spans: dict[str, list[tuple[str, int, int]]]  # per province: (code, first, last year)
    streets: list[str]
    segments: list[str]
    segment_cum: list[float]
    bins: dict[bool, list[list[str]]]  # credit? -> per bank, its BINs
    bank: dict[str, str]
    by_year: dict[tuple[str, int], list[str]] = field(default_factory=dict)

    def codes_in_force(self, province: str, year: int) -> list[str]:
        """County codes of ``province`` in force in ``year`` (the parent's for new provinces)."""
        got = self.by_year.get((province, year))
        if got is None:
            got = [c for c, a, b in self.spans[province] if a <= year <= b]
            if not got and province in PARENT_PROVINCE:
                got = self.codes_in_force(PARENT_PROVINCE[province], year)
            self.by_year[(province, year)] = got
        return got


def _stem(name: str) -> str | None:
    """A prefecture's name without its suffix, as streets are named (广州市 -> 广州路), when
    2-4 characters remain; None for autonomous prefectures (their names run long)."""
    for s in _PREFIX_SUFFIXES:
        if name.endswith(s) and 2 <= len(name) - len(s) <= 4 and "族" not in name:
            return name[: -len(s)]
    return None


@cache
def _tables() -> _Tables:
    """Load the census, surname, division, mobile segment and BIN tables once."""
    prov_rows = _read("leaktrace.synth", "provinces.csv")
    provinces = [f"{int(r['code']):02d}" for r in prov_rows]
    prov_names = {f"{int(r['code']):02d}": r["name"] for r in prov_rows}

    age_rows = _read("leaktrace.synth", "age_bands.csv")
    ages = list(range(MIN_AGE, MAX_AGE + 1))
    age_w = []
    for a in ages:
        band = next(r for r in age_rows if int(r["age_from"]) <= a <= int(r["age_to"]))
        width = int(band["age_to"]) - int(band["age_from"]) + 1
        age_w.append(float(band["population"]) / width)

    sn = _read("leaktrace.synth", "surnames.csv")
    given: dict[str, tuple[list[str], list[str]]] = {}
    for sex, names in (("M", Person.first_names_male), ("F", Person.first_names_female)):
        unique = list(dict.fromkeys(names))
        singles = [n for n in unique if len(n) == 1]
        pairs = [n for n in unique if len(n) == 2]
        pairs += [a + b for a in singles for b in singles if a != b and a + b not in pairs]
        given[sex] = (singles, pairs)

    spans: dict[str, list[tuple[str, int, int]]] = {p: [] for p in provinces}
    current: dict[str, list[_County]] = {p: [] for p in provinces}
    by_code: dict[str, _County] = {}
    streets = list(STREET_WORDS)
    table = divisions()
    for code, names in table.items():
        prov = code[:2]
        if prov not in spans:
            continue
        for n in names:
            if n.level == "prefecture" and n.end is None and (stem := _stem(n.name)):
                streets.append(stem)
            if n.level != "county" or n.name in _GENERIC_COUNTIES:
                continue
            spans[prov].append((code, n.start or 1900, n.end or 2100))
            if n.end is None:
                pref = next((p.name for p in table.get(code[:4] + "00", ()) if p.end is None), "")
                pname = prov_names[prov]
                if pref in ("市辖区", "县"):
                    city, prefix = pname, pname + n.name
                elif "直辖" in pref or not pref:
                    city, prefix = n.name, pname + n.name
                else:
                    city, prefix = pref, pname + pref + n.name
                county = _County(code, pname, city, n.name, prefix)
                current[prov].append(county)
                by_code[code] = county
    streets = sorted(set(streets))

    segs = [p for p, (en, _) in mobile_segments().items() if en]
    per_block: dict[str, int] = {}
    for p in segs:
        per_block[p[:3]] = per_block.get(p[:3], 0) + 1
    seg_w = [BLOCK_WEIGHTS[p[:2]] / per_block[p[:3]] for p in segs]

    bins: dict[bool, dict[str, list[str]]] = {False: {}, True: {}}
    bank = {}
    for b, (bank_zh, _, kind) in card_bins().items():
        if len(b) in (5, 6):
            bins[kind == "credit"].setdefault(bank_zh, []).append(b)
            bank[b] = bank_zh

    return _Tables(
        provinces=provinces,
        province_cum=_cumulative(float(r["population"]) for r in prov_rows),
        ages=ages,
        age_cum=_cumulative(age_w),
        surnames=[r["surname"] for r in sn],
        surname_cum=_cumulative(float(r["share_pct"]) for r in sn),
        given=given,
        current={p: sorted(cs, key=lambda c: c.code) for p, cs in current.items()},
        current_by_code=by_code,
        spans={p: sorted(s) for p, s in spans.items()},
        streets=streets,
        segments=segs,
        segment_cum=_cumulative(seg_w),
        bins={k: [sorted(v[b]) for b in sorted(v)] for k, v in bins.items()},
        bank=bank,
    )


def _birth_date(s: _Stream, t: _Tables, as_of: dt.date) -> dt.date:
    """A birth date giving an age drawn from the census bands, uniform within the year of age."""
    age = t.ages[s.weighted(t.age_cum)]
    latest = _years_before(as_of, age)
    earliest = _years_before(as_of, age + 1) + dt.timedelta(days=1)
    return earliest + dt.timedelta(days=s.below((latest - earliest).days + 1))


def _years_before(d: dt.date, years: int) -> dt.date:
    try:
        return d.replace(year=d.year - years)
    except ValueError:  # 29 February
        return d.replace(year=d.year - years, day=28)


def _home(s: _Stream, t: _Tables, province: str, code: str) -> _County:
    """The current county a holder of ``code`` lives in: the same county, else one of its
    prefecture or province today (older Hainan and Chongqing people live where they always did)."""
    if code in t.current_by_code:
        return t.current_by_code[code]
    if code[:2] != province:
        pool = t.current[province]
    else:
        pool = [c for c in t.current[province] if c.code[:4] == code[:4]] or t.current[province]
    return pool[s.below(len(pool))]


def _name(s: _Stream, t: _Tables, sex: str, given: GivenNames | None) -> str:
    """Surname by its share; a given name as often as the master's customers of that sex bear
    it, or without a master one of one listed character or two (a listed two-character name
    or two distinct listed characters), all equally likely: no per-name shares are published."""
    surname = t.surnames[s.weighted(t.surname_cum)]
    if given is not None and given.names[sex]:
        return surname + given.names[sex][s.weighted(given.cumulative[sex])]
    singles, pairs = t.given[sex]
    pool = singles if s.uniform() < SINGLE_GIVEN_SHARE else pairs
    return surname + pool[s.below(len(pool))]


@dataclass(frozen=True)
class GivenNames:
    """The given names of a master's customers per sex, with how many bear each: canaries
    named from them show the institution's own mix (a given name alone identifies no one)."""

    names: dict[str, list[str]]
    cumulative: dict[str, list[float]]

    @classmethod
    def of(cls, frame: pl.DataFrame | pl.LazyFrame) -> GivenNames:
        """From a frame with columns name and resident_id (the sex from the ID's sequence);
        names that are not 2-4 Han characters or whose ID is not readable are left out."""
        compound = "|".join(sorted(surnames()[1]))
        counts = (
            frame.lazy()
            .select(
                name=pl.col("name").cast(pl.String).str.strip_chars(),
                sex=pl.col("resident_id").cast(pl.String).str.slice(16, 1),
            )
            .filter(pl.col("name").str.contains("^[一-鿿]{2,4}$"))
            .filter(pl.col("sex").str.contains("^[0-9]$"))
            .select(
                given=pl.col("name").str.replace(f"^({compound}|.)", ""),
                sex=pl.when(pl.col("sex").cast(pl.Int32) % 2 == 1)
                .then(pl.lit("M"))
                .otherwise(pl.lit("F")),
            )
            .filter(pl.col("given").str.len_chars() >= 1)
            .group_by("sex", "given")
            .len()
            .sort("sex", "given")
            .collect()
        )
        names: dict[str, list[str]] = {}
        cumulative: dict[str, list[float]] = {}
        for sex in ("M", "F"):
            rows = counts.filter(pl.col("sex") == sex)
            names[sex] = rows["given"].to_list()
            cumulative[sex] = _cumulative(rows["len"].cast(pl.Float64).to_list())
        return cls(names, cumulative)


def _address(s: _Stream, t: _Tables, county: _County) -> str:
    street = t.streets[s.below(len(t.streets))]
    street += ("", "东", "西", "南", "北", "中")[s.below(6)] + ("路", "街", "大道")[s.below(3)]
    out = f"{county.prefix}{street}{1 + s.below(399)}号"
    if s.uniform() < FLAT_SHARE:
        room = (1 + s.below(32)) * 100 + 1 + s.below(4)
        out += f"{1 + s.below(29)}栋{1 + s.below(6)}单元{room}室"
    return out


def _mobile(s: _Stream, t: _Tables) -> str:
    seg = t.segments[s.weighted(t.segment_cum)]
    free = 11 - len(seg)
    return seg + str(s.below(10**free)).zfill(free)


def _card(s: _Stream, t: _Tables) -> tuple[str, str]:
    """A card number on a real BIN with its Luhn digit, and its bank."""
    credit = s.uniform() < CREDIT_SHARE
    banks = t.bins[credit]
    bins = banks[s.below(len(banks))]
    bin_ = bins[s.below(len(bins))]
    length = 16 if credit else 19
    body = bin_ + "".join(str(s.below(10)) for _ in range(length - 1 - len(bin_)))
    check = next(d for d in "0123456789" if luhn_ok(body + d))
    return body + check, t.bank[bin_]


def canary(
    key: bytes,
    share: str,
    index: int,
    as_of: dt.date,
    attempt: int = 0,
    given: GivenNames | None = None,
) -> Canary:
    """Canary ``index`` of ``share`` (dated ``as_of``, for the ages), draw number ``attempt``;
    its given name from ``given`` when passed (only the name depends on it)."""
    if not KEY_BYTES[0] <= len(key) <= KEY_BYTES[1]:
        raise ValueError(f"the key must be {KEY_BYTES[0]} to {KEY_BYTES[1]} bytes")
    if index < 0 or attempt < 0:
        raise ValueError("index and attempt must not be negative")
    s = _Stream(key, share, index, attempt, b"identity")
    t = _tables()
    sex = "M" if s.uniform() < MALE_SHARE else "F"
    birth = _birth_date(s, t, as_of)
    province = t.provinces[s.weighted(t.province_cum)]
    codes = t.codes_in_force(province, birth.year)
    code = codes[s.below(len(codes))]
    seq = 2 * s.below(499) + (3 if sex == "M" else 2)  # odd for men, even for women; never 000
    body = f"{code}{birth:%Y%m%d}{seq:03d}"
    county = _home(s, t, province, code)
    if s.uniform() < AWAY_SHARE:
        moved = t.current[t.provinces[s.weighted(t.province_cum)]]
        county = moved[s.below(len(moved))]
    card, bank = _card(s, t)
    return Canary(
        share=share,
        index=index,
        attempt=attempt,
        name=_name(_Stream(key, share, index, attempt, b"name"), t, sex, given),
        sex=sex,
        birth_date=birth,
        resident_id=body + check_char(body),
        mobile=_mobile(s, t),
        card_no=card,
        card_issuer=bank,
        address=_address(s, t, county),
        province=county.province,
        city=county.city,
        county=county.county,
    )


def plant(
    key: bytes,
    share: str,
    count: int,
    as_of: dt.date,
    taken: Taken | None = None,
    given: GivenNames | None = None,
) -> list[Canary]:
    """The ``count`` canaries of ``share``, each redrawn until it clashes with nothing in
    ``taken`` (the master's identifiers, other shares' canaries) nor with an earlier one;
    given names from ``given`` (the master's) when passed."""
    if count < 0:
        raise ValueError("count must not be negative")
    taken = taken or Taken()
    ids: set[str] = set()
    cards: set[str] = set()
    mobiles: set[int] = set()
    out: list[Canary] = []
    for index in range(count):
        for attempt in range(MAX_ATTEMPTS):
            c = canary(key, share, index, as_of, attempt, given)
            m = int(c.mobile)
            repeats = (
                c.resident_id in ids
                or c.card_no in cards
                or not mobiles.isdisjoint((m - 1, m, m + 1))
            )
            if not (repeats or taken.clashes(c)):
                break
        else:
            raise ValueError(f"canary {index} clashes in {MAX_ATTEMPTS} draws")
        ids.add(c.resident_id)
        cards.add(c.card_no)
        mobiles.add(m)
        out.append(c)
    return out


def frame(canaries: Iterable[Canary]) -> pl.DataFrame:
    """Canaries as rows in the master's customer columns (name, resident_id, sex, ...)."""
    rows = list(canaries)
    cols = [f.name for f in fields(Canary) if f.name not in ("share", "index", "attempt")]
    return pl.DataFrame(
        {c: [getattr(r, c) for r in rows] for c in cols},
        schema={c: (pl.Date if c == "birth_date" else pl.String) for c in cols},
    )


@dataclass(frozen=True)
class PlantedShare:
    """What the ledger keeps to rebuild a share's canaries: its id, date and each attempt."""

    share: str
    as_of: dt.date
    attempts: tuple[int, ...]

    @classmethod
    def of(cls, share: str, as_of: dt.date, canaries: Iterable[Canary]) -> PlantedShare:
        """The ledger's record of ``canaries`` as :func:`plant` returned them for ``share``."""
        return cls(share, as_of, tuple(c.attempt for c in canaries))


@dataclass(frozen=True)
class CanaryHit:
    """A leaked record that carries canary ``index`` of ``share``: which identifiers matched."""

    share: str
    index: int
    fields: tuple[str, ...]


class CanaryIndex:
    """Reverse lookup from a canary's identifiers to its share and index (no personal data:
    canaries are synthetic)."""

    def __init__(self, canaries: Iterable[Canary]) -> None:
        rows = [(f, getattr(c, f), c.share, c.index) for c in canaries for f in _KIND_OF]
        self._frame = pl.DataFrame(
            rows,
            schema={"field": pl.String, "value": pl.String, "share": pl.String, "index": pl.Int64},
            orient="row",
        )

    @classmethod
    def regenerate(cls, key: bytes, shares: Iterable[PlantedShare]) -> CanaryIndex:
        """The index of every share's canaries, rebuilt from the key and the ledger (the given
        names, which need the master, are not indexed: they name no one)."""
        return cls(
            canary(key, p.share, i, p.as_of, a) for p in shares for i, a in enumerate(p.attempts)
        )

    def hits(self, leak: pl.DataFrame) -> pl.DataFrame:
        """Rows of ``leak`` that carry a canary's resident ID, mobile or card number (columns
        resident_id, mobile, card_no or bank_card, written as leaks write them: separators,
        +86, a lower-case x; masked values match nothing): row, share, index, field."""
        parts = []
        for f, kind in _KIND_OF.items():
            col = next((c for c in (f, kind) if c in leak.columns), None)
            if col is None:
                continue
            value = pii.KINDS[kind].normalize_expr(pl.col(col).cast(pl.String))
            found = (
                leak.select(
                    pl.int_range(pl.len(), dtype=pl.Int64).alias("row"), value.alias("value")
                )
                .filter(pl.col("value").is_not_null())
                .filter(~pl.col("value").str.contains("*", literal=True))
                .join(self._frame.filter(pl.col("field") == f), on="value")
            )
            parts.append(found.select("row", "share", "index", "field"))
        empty = pl.DataFrame(
            schema={"row": pl.Int64, "share": pl.String, "index": pl.Int64, "field": pl.String}
        )
        return pl.concat([empty, *parts]).sort("row", "share", "index", "field")

    def lookup(self, record: Mapping[str, str | None]) -> list[CanaryHit]:
        """The canaries one leaked record carries, with the identifiers that matched."""
        ids = {k: record[k] for k in (*_KIND_OF, *_KIND_OF.values()) if k in record}
        leak = pl.DataFrame({k: [v] for k, v in ids.items()}, schema=dict.fromkeys(ids, pl.String))
        found = self.hits(leak).group_by("share", "index", maintain_order=True).agg("field")
        return [CanaryHit(s, i, tuple(fs)) for s, i, fs in found.iter_rows()]
