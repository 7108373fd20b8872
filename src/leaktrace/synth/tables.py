"""Reference tables the generator draws from, loaded once and cached as numpy arrays.

Population shares come from ``synth/data`` (see its SOURCES.md); division codes, mobile segments
and card BINs come from ``leaktrace.pii``'s data files, so generated identifiers obey the same
reference data the product validates against.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parent / "data"
PII_DATA = Path(__file__).resolve().parent.parent / "pii" / "data"

# Open ends of a division's years in force.
YEAR_MIN, YEAR_MAX = 1900, 2030
# Birth years for which division codes are tabulated (covers ages 18-90 for as-of dates to 2030).
FIRST_YEAR, LAST_YEAR = 1930, 2012
# Division codes that name no place a person lives in (stand-in entries of GB/T 2260 such as 市辖区).
_PLACEHOLDER_COUNTIES = {"市辖区"}
_MUNICIPALITY_PREFECTURES = {"市辖区", "县"}


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@dataclass(frozen=True)
class Groups:
    """Items stored contiguously per group: group g owns values[offsets[g]:offsets[g]+sizes[g]]."""

    values: np.ndarray
    offsets: np.ndarray
    sizes: np.ndarray

    def pick(self, rng: np.random.Generator, group: np.ndarray) -> np.ndarray:
        """One uniformly chosen value per entry of ``group`` (every group must be non-empty)."""
        pos = self.offsets[group] + (rng.random(len(group)) * self.sizes[group]).astype(np.int64)
        return self.values[pos]


def make_groups(buckets: list[list[int]], dtype: type = np.int64) -> Groups:
    sizes = np.array([len(b) for b in buckets], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    values = np.array([v for b in buckets for v in b], dtype=dtype)
    return Groups(values, offsets, sizes)


@dataclass(frozen=True)
class Places:
    """Provinces with census weights, current counties, and the counties in force per birth year."""

    province_codes: np.ndarray  # two-digit codes, census order
    province_names: list[str]
    province_weights: np.ndarray  # census 2020 population shares
    county_codes: np.ndarray  # current (in force today) county codes
    county_province: np.ndarray  # index into province_codes, per current county
    county_province_name: list[str]
    county_city_name: list[str]
    county_name: list[str]
    address_prefix: list[str]  # 广东省广州市天河区, 北京市朝阳区 (no repeated municipality)
    current_by_province: Groups  # current county indices per province index
    # county codes in force per (birth year, province): group (year - FIRST_YEAR) * 31 + province
    id_codes: Groups
    successor_codes: np.ndarray  # every county code, sorted
    successor_index: np.ndarray  # the current county a holder of that code lives in


@cache
def places() -> Places:
    """Load provinces (census 2020) and GB/T 2260 divisions with their years in force."""
    prov_rows = _read(DATA / "provinces.csv")
    prov_codes = np.array([int(r["code"]) for r in prov_rows])
    prov_index = {int(c): i for i, c in enumerate(prov_codes)}
    pop = np.array([float(r["population"]) for r in prov_rows])

    spans: dict[int, list[tuple[int, int, str]]] = {}
    prefecture_now: dict[int, str] = {}
    for r in _read(PII_DATA / "divisions.csv"):
        code = int(r["code"])
        start = int(r["start_year"]) if r["start_year"] else YEAR_MIN
        end = int(r["end_year"]) if r["end_year"] else YEAR_MAX
        if r["level"] == "prefecture" and not r["end_year"]:
            prefecture_now[code] = r["name"]
        if r["level"] != "county" or r["name"] in _PLACEHOLDER_COUNTIES:
            continue
        if code // 10000 not in prov_index:
            continue
        spans.setdefault(code, []).append((start, end, r["name"]))

    current = sorted(c for c, s in spans.items() if any(e == YEAR_MAX for _, e, _ in s))
    names = [next(n for _, e, n in spans[c] if e == YEAR_MAX) for c in current]
    c_prov = np.array([prov_index[c // 10000] for c in current])
    prov_name = [prov_rows[i]["name"] for i in c_prov]
    city, prefix = [], []
    for code, pi, name in zip(current, c_prov, names, strict=True):
        pref = prefecture_now.get(code // 100 * 100, "")
        pname = prov_rows[pi]["name"]
        if pref in _MUNICIPALITY_PREFECTURES:
            city.append(pname)
            prefix.append(pname + name)
        elif "直辖" in pref or not pref:
            city.append(name)
            prefix.append(pname + name)
        else:
            city.append(pref)
            prefix.append(pname + pref + name)

    by_prov: list[list[int]] = [[] for _ in prov_codes]
    for i, pi in enumerate(c_prov):
        by_prov[pi].append(i)

    all_buckets: list[list[int]] = []
    for year in range(FIRST_YEAR, LAST_YEAR + 1):
        buckets: list[list[int]] = [[] for _ in prov_codes]
        for code, s in spans.items():
            if any(a <= year <= b for a, b, _ in s):
                buckets[prov_index[code // 10000]].append(code)
        # A province created later (Hainan 1988, Chongqing 1997) has no codes for earlier years;
        # its older residents hold the codes of the province it was split from.
        for pi, code in enumerate(prov_codes):
            if not buckets[pi]:
                parent = {46: 44, 50: 51}.get(int(code))
                buckets[pi] = list(buckets[prov_index[parent]]) if parent else []
        all_buckets += buckets

    current_index = {c: i for i, c in enumerate(current)}
    first_in_pref: dict[int, int] = {}
    first_in_prov: dict[int, int] = {}
    for c, i in current_index.items():
        first_in_pref.setdefault(c // 100, i)
        first_in_prov.setdefault(c // 10000, i)
    succ_codes = np.array(sorted(spans), dtype=np.int64)
    succ_index = np.array(
        [
            current_index.get(c, first_in_pref.get(c // 100, first_in_prov[c // 10000]))
            for c in succ_codes.tolist()
        ],
        dtype=np.int64,
    )

    return Places(
        province_codes=prov_codes,
        province_names=[r["name"] for r in prov_rows],
        province_weights=pop / pop.sum(),
        county_codes=np.array(current, dtype=np.int64),
        county_province=c_prov,
        county_province_name=prov_name,
        county_city_name=city,
        county_name=names,
        address_prefix=prefix,
        current_by_province=make_groups(by_prov),
        id_codes=make_groups(all_buckets),
        successor_codes=succ_codes,
        successor_index=succ_index,
    )


@dataclass(frozen=True)
class Population:
    """Census age bands and sex ratio, and the surname frequency table."""

    age_from: np.ndarray
    age_to: np.ndarray
    age_weights: np.ndarray  # share of the population per band (all ages)
    male_share: float  # 105.07 males per 100 females
    surnames: list[str]
    surname_weights: np.ndarray


SEX_RATIO = 105.07  # males per 100 females, 2020 census communique no. 4


@cache
def population() -> Population:
    """Load age bands (census 2020) and the surname table."""
    ages = _read(DATA / "age_bands.csv")
    w = np.array([float(r["population"]) for r in ages])
    sn = _read(DATA / "surnames.csv")
    sw = np.array([float(r["share_pct"]) for r in sn])
    return Population(
        age_from=np.array([int(r["age_from"]) for r in ages]),
        age_to=np.array([int(r["age_to"]) for r in ages]),
        age_weights=w / w.sum(),
        male_share=SEX_RATIO / (100.0 + SEX_RATIO),
        surnames=[r["surname"] for r in sn],
        surname_weights=sw / sw.sum(),
    )


@dataclass(frozen=True)
class Segments:
    """Allocated mobile prefixes (3-5 digits) with draw weights."""

    prefixes: np.ndarray
    lengths: np.ndarray
    weights: np.ndarray


@cache
def segments() -> Segments:
    """Carrier-allocated mobile prefixes from pii's table; each 3-digit block weighs the same."""
    rows = [r for r in _read(PII_DATA / "mobile_segments.csv") if r["carrier_en"]]
    blocks: dict[str, int] = {}
    for r in rows:
        blocks[r["prefix"][:3]] = blocks.get(r["prefix"][:3], 0) + 1
    prefixes = np.array([int(r["prefix"]) for r in rows], dtype=np.int64)
    lengths = np.array([len(r["prefix"]) for r in rows], dtype=np.int64)
    # Older blocks (13x, 15x, 18x) hold most subscribers; newer ones (14x, 16x, 17x, 19x) fewer.
    block_w = {"13": 3.0, "15": 3.0, "18": 3.0, "17": 1.0, "19": 1.0, "14": 0.3, "16": 0.3}
    w = np.array([block_w[r["prefix"][:2]] / blocks[r["prefix"][:3]] for r in rows])
    return Segments(prefixes, lengths, w / w.sum())


@dataclass(frozen=True)
class Bins:
    """Card issuer BINs as a digit matrix (6 columns, unused trailing digits random)."""

    digits: np.ndarray  # (n, 6) uint8
    lengths: np.ndarray  # 5 or 6
    bank: list[str]
    credit: np.ndarray  # bool: credit card BIN (16 digits), else debit (19 digits)
    by_kind: tuple[Groups, Groups]  # (debit, credit): BIN indices per bank, banks uniform


@cache
def bins() -> Bins:
    """Card BINs of Chinese banks from pii's curated table."""
    rows = [r for r in _read(PII_DATA / "card_bins.csv") if len(r["bin"]) in (5, 6)]
    digits = np.zeros((len(rows), 6), dtype=np.uint8)
    for i, r in enumerate(rows):
        digits[i, : len(r["bin"])] = [int(c) for c in r["bin"]]
    credit = np.array([r["card_type"] == "credit" for r in rows])
    banks = sorted({r["bank_zh"] for r in rows})
    kinds = []
    for want in (False, True):
        buckets = [
            [i for i, r in enumerate(rows) if r["bank_zh"] == b and credit[i] == want]
            for b in banks
        ]
        kinds.append(make_groups([b for b in buckets if b]))
    return Bins(
        digits=digits,
        lengths=np.array([len(r["bin"]) for r in rows]),
        bank=[r["bank_zh"] for r in rows],
        credit=credit,
        by_kind=(kinds[0], kinds[1]),
    )
