"""Consistent synthetic identities, drawn as whole arrays: no Python loop per person.

A person's resident ID carries a county code in force in their birth year, their birth date and
a sequence whose parity is their sex; most live in the county of their ID. Mobiles come from
allocated segments, cards from real issuer BINs with a Luhn check digit, names from the
published surname frequencies. Everything is reproducible from the numpy Generator passed in.
"""

from __future__ import annotations

import datetime as dt
from functools import cache

import numpy as np
import polars as pl
import pyarrow as pa
from faker import Faker
from faker.providers.person.zh_CN import Provider as Person

from leaktrace.synth.tables import FIRST_YEAR, bins, places, population, segments

ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
ID_CHECK = np.frombuffer(b"10X98765432", dtype=np.uint8)
STAY_SHARE = 0.70  # share of people living in the region of their ID (the rest moved)
EMAIL_SHARE = 0.65  # share of customers who gave an email address
MIN_AGE, MAX_AGE = 18, 90
# Words common in Chinese street names, combined with Faker's city names into a street pool.
STREET_WORDS = (
    "中山",
    "人民",
    "解放",
    "建设",
    "和平",
    "胜利",
    "新华",
    "文化",
    "长江",
    "黄河",
    "青年",
    "朝阳",
    "幸福",
    "光明",
    "工业",
    "科技",
    "学院",
    "滨江",
    "环城",
    "迎宾",
    "东风",
    "友谊",
)


def to_strings(digits: np.ndarray) -> pl.Series:
    """Rows of an (n, k) uint8 matrix of ASCII codes as a String series, without a Python loop."""
    n, k = digits.shape
    data = pa.py_buffer(np.ascontiguousarray(digits).tobytes())
    offsets = pa.py_buffer(np.arange(0, (n + 1) * k, k, dtype=np.int32).tobytes())
    return pl.Series(pa.StringArray.from_buffers(n, offsets, data))


def _digit_matrix(values: np.ndarray, width: int) -> np.ndarray:
    """Decimal digits of non-negative int64 ``values``, most significant first, as (n, width)."""
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return (values[:, None] // powers[None, :]) % 10


def resident_id_strings(
    codes: np.ndarray, births: np.ndarray, male: np.ndarray, rng: np.random.Generator
) -> pl.Series:
    """18-character resident IDs (GB 11643-1999) for county codes, birth dates and sexes."""
    ymd = _ymd(births)
    half = rng.integers(1, 500, size=len(codes))
    seq = 2 * half + male.astype(np.int64)  # odd = male, even = female; never 000
    body = codes.astype(np.int64) * 10**11 + ymd * 1000 + seq
    digits = _digit_matrix(body, 17)
    check = ID_CHECK[(digits @ ID_WEIGHTS) % 11]
    out = np.empty((len(codes), 18), dtype=np.uint8)
    out[:, :17] = digits + 48
    out[:, 17] = check
    return to_strings(out)


def _ymd(days: np.ndarray) -> np.ndarray:
    """YYYYMMDD integers of datetime64[D] values."""
    d = days.astype("datetime64[D]")
    y = d.astype("datetime64[Y]")
    m = d.astype("datetime64[M]")
    year = y.astype(np.int64) + 1970
    month = (m - y.astype("datetime64[M]")).astype(np.int64) + 1
    day = (d - m.astype("datetime64[D]")).astype(np.int64) + 1
    return year * 10000 + month * 100 + day


def luhn_digits(body: np.ndarray) -> np.ndarray:
    """Luhn check digit for each row of an (n, k) digit matrix."""
    k = body.shape[1]
    double = ((k - 1 - np.arange(k)) % 2) == 0  # rightmost body digit is doubled
    d = body.astype(np.int64)
    d = np.where(double, d * 2, d)
    d = np.where(d > 9, d - 9, d)
    return (10 - d.sum(axis=1) % 10) % 10


def card_numbers(rng: np.random.Generator, credit: np.ndarray) -> tuple[pl.Series, pl.Series]:
    """Card numbers (debit 19 digits, credit 16) from real BINs with Luhn check, and their bank."""
    table = bins()
    n = len(credit)
    bank_idx = np.empty(n, dtype=np.int64)
    out = np.zeros((n, 19), dtype=np.uint8)
    lengths = np.where(credit, 16, 19)
    for kind, length in ((False, 19), (True, 16)):
        rows = np.flatnonzero(credit == kind)
        if not len(rows):
            continue
        groups = table.by_kind[int(kind)]
        bank = rng.integers(0, len(groups.sizes), size=len(rows))
        b = groups.pick(rng, bank)
        bank_idx[rows] = b
        body = rng.integers(0, 10, size=(len(rows), length - 1), dtype=np.uint8)
        fixed = np.arange(6)[None, :] < table.lengths[b][:, None]
        body[:, :6] = np.where(fixed, table.digits[b], body[:, :6])
        check = luhn_digits(body)
        out[rows, : length - 1] = body + 48
        out[rows, length - 1] = check + 48
    strings = to_strings(out)
    # Credit card rows carry 3 unused trailing columns; cut every row to its own length.
    cards = pl.select(pl.lit(strings).str.slice(0, pl.lit(pl.Series(lengths)))).to_series()
    issuers = pl.Series(table.bank, dtype=pl.String).gather(bank_idx)
    return cards.alias("card_no"), issuers.alias("card_issuer")


def mobile_numbers(rng: np.random.Generator, n: int) -> pl.Series:
    """11-digit mainland mobiles in carrier-allocated segments."""
    seg = segments()
    i = rng.choice(len(seg.prefixes), size=n, p=seg.weights)
    free = 11 - seg.lengths[i]
    scale = 10**free
    number = seg.prefixes[i] * scale + (rng.random(n) * scale).astype(np.int64)
    return pl.Series("mobile", number).cast(pl.String)


@cache
def _pools() -> dict[str, pl.Series]:
    """Given names, streets and email words, built once with a fixed-seed Faker."""
    fake = Faker("zh_CN")
    fake.seed_instance(2260)
    pools: dict[str, pl.Series] = {}
    for sex, chars in (("M", Person.first_names_male), ("F", Person.first_names_female)):
        singles = [c for c in dict.fromkeys(chars) if len(c) == 1]
        doubles = [c for c in dict.fromkeys(chars) if len(c) == 2]
        doubles += [a + b for a in singles for b in singles if a != b and a + b not in doubles]
        order = np.random.default_rng(11 if sex == "M" else 13).permutation(len(doubles))
        pools[sex] = pl.Series(singles + [doubles[i] for i in order])
        pools[sex + "1"] = pl.Series([len(singles)])
    words = list(dict.fromkeys([fake.city_name() for _ in range(400)] + list(STREET_WORDS)))
    pools["street"] = pl.Series(
        [
            w + d + s
            for w in words
            for d in ("", "东", "西", "南", "北", "中")
            for s in ("路", "街", "大道")
        ]
    )
    pools["roman"] = pl.Series(
        [
            a.lower() + b.lower()
            for a in Person.last_romanized_names
            for b in Person.first_romanized_names
        ]
    )
    return pools


def _given_weights(size: int, singles: int) -> np.ndarray:
    """Single-character given names take 15% of people; two-character ones a Zipf-like rest."""
    w = np.empty(size)
    w[:singles] = 0.15 / singles
    rank = np.arange(size - singles)
    tail = 1.0 / (rank + 20.0)
    w[singles:] = 0.85 * tail / tail.sum()
    return w


def person_names(rng: np.random.Generator, male: np.ndarray) -> pl.Series:
    """Surname (published frequencies) plus a sex-appropriate given name; duplicates are common."""
    pop = population()
    sur = rng.choice(len(pop.surnames), size=len(male), p=pop.surname_weights)
    given = pl.Series([""] * len(male))
    for sex, flag in (("M", True), ("F", False)):
        rows = np.flatnonzero(male == flag)
        singles = int(_pools()[sex + "1"][0])
        pool = _pools()[sex]
        g = rng.choice(len(pool), size=len(rows), p=_given_weights(len(pool), singles))
        given = given.scatter(rows, pool.gather(g))
    surnames = pl.Series(pop.surnames).gather(sur)
    return (surnames + given).alias("name")


def address_strings(rng: np.random.Generator, county: np.ndarray) -> pl.Series:
    """Street addresses inside current counties: prefix + street + number (+ building/unit/room)."""
    pl_ = places()
    n = len(county)
    street = _pools()["street"].gather(rng.integers(0, len(_pools()["street"]), size=n))
    prefix = pl.Series(pl_.address_prefix).gather(county)
    num = pl.Series(rng.integers(1, 400, size=n)).cast(pl.String)
    flat = rng.random(n) < 0.8
    bldg = pl.Series(rng.integers(1, 30, size=n)).cast(pl.String)
    unit = pl.Series(rng.integers(1, 7, size=n)).cast(pl.String)
    room = pl.Series(rng.integers(1, 33, size=n) * 100 + rng.integers(1, 5, size=n)).cast(pl.String)
    df = pl.DataFrame(
        {"p": prefix, "s": street, "n": num, "b": bldg, "u": unit, "r": room, "f": flat}
    )
    return df.select(
        pl.when(pl.col("f"))
        .then(
            pl.concat_str(
                "p",
                "s",
                "n",
                pl.lit("号"),
                "b",
                pl.lit("栋"),
                "u",
                pl.lit("单元"),
                "r",
                pl.lit("室"),
            )
        )
        .otherwise(pl.concat_str("p", "s", "n", pl.lit("号")))
        .alias("address")
    ).to_series()


def email_strings(
    rng: np.random.Generator, mobile: pl.Series, share: float = EMAIL_SHARE
) -> pl.Series:
    """QQ-number, mobile-number and pinyin-word emails in Chinese providers' domains; a
    ``share`` of people have one, the others null."""
    n = len(mobile)
    roman = _pools()["roman"]
    word = roman.gather(rng.integers(0, len(roman), size=n))
    qq = pl.Series(rng.integers(10_000, 3_000_000_000, size=n)).cast(pl.String)
    num = pl.Series(rng.integers(1, 9999, size=n)).cast(pl.String)
    domains = pl.Series(["163.com", "126.com", "sina.com", "gmail.com", "foxmail.com", "139.com"])
    dom = domains.gather(rng.integers(0, len(domains), size=n))
    style = rng.random(n)
    has = rng.random(n) < share
    df = pl.DataFrame({"w": word, "q": qq, "m": mobile, "n": num, "d": dom, "s": style, "h": has})
    return df.select(
        pl.when(~pl.col("h"))
        .then(None)
        .when(pl.col("s") < 0.45)
        .then(pl.concat_str("q", pl.lit("@qq.com")))
        .when(pl.col("s") < 0.65)
        .then(pl.concat_str("m", pl.lit("@"), "d"))
        .otherwise(pl.concat_str("w", "n", pl.lit("@"), "d"))
        .alias("email")
    ).to_series()


def birth_dates(rng: np.random.Generator, n: int, as_of: dt.date) -> np.ndarray:
    """Birth dates (datetime64[D]) of adults 18-90 following census 2020 single-year weights."""
    pop = population()
    ages = np.arange(MIN_AGE, MAX_AGE + 1)
    band = np.searchsorted(pop.age_to, ages)
    width = pop.age_to[band] - pop.age_from[band] + 1
    w = pop.age_weights[band] / width
    age = rng.choice(ages, size=n, p=w / w.sum())
    end = np.datetime64(as_of, "D")
    # Born between (age + 1) years and age years before as_of, minus a day, so age is exact.
    days_lo = np.floor((age + 1) * 365.2425).astype(np.int64) - 1
    days_hi = np.ceil(age * 365.2425).astype(np.int64) + 1
    back = days_hi + (rng.random(n) * (days_lo - days_hi)).astype(np.int64)
    return end - back.astype("timedelta64[D]")


def draw_people(rng: np.random.Generator, n: int, as_of: dt.date) -> pl.DataFrame:
    """``n`` adults with consistent identities, addresses, mobiles, emails and a bank card.

    Columns: name, resident_id, sex (M/F), birth_date, mobile, email, address, province, city,
    county, card_no, card_issuer, and county_idx (index of the address county, for movers).
    """
    pl_ = places()
    pop = population()
    male = rng.random(n) < pop.male_share
    birth = birth_dates(rng, n, as_of)
    year = birth.astype("datetime64[Y]").astype(np.int64) + 1970
    n_prov = len(pl_.province_codes)
    id_prov = rng.choice(n_prov, size=n, p=pl_.province_weights)
    codes = pl_.id_codes.pick(rng, (year - FIRST_YEAR) * n_prov + id_prov)
    rid = resident_id_strings(codes, birth, male, rng)

    home = pl_.successor_index[np.searchsorted(pl_.successor_codes, codes)]
    # Older people of Hainan and Chongqing hold codes of the province they were split from,
    # but live where they always did.
    split = codes // 10000 != pl_.province_codes[id_prov]
    home = np.where(split, pl_.current_by_province.pick(rng, id_prov), home)
    moved_prov = rng.choice(n_prov, size=n, p=pl_.province_weights)
    elsewhere = pl_.current_by_province.pick(rng, moved_prov)
    county = np.where(rng.random(n) < STAY_SHARE, home, elsewhere)

    mobile = mobile_numbers(rng, n)
    card, issuer = card_numbers(rng, rng.random(n) < 0.15)
    return pl.DataFrame(
        {
            "name": person_names(rng, male),
            "resident_id": rid.alias("resident_id"),
            "sex": pl.Series(np.where(male, "M", "F")),
            "birth_date": pl.Series(birth).cast(pl.Date),
            "mobile": mobile,
            "email": email_strings(rng, mobile),
            "address": address_strings(rng, county),
            "province": pl.Series(pl_.county_province_name).gather(county),
            "city": pl.Series(pl_.county_city_name).gather(county),
            "county": pl.Series(pl_.county_name).gather(county),
            "card_no": card,
            "card_issuer": issuer,
            "county_idx": pl.Series(county, dtype=pl.Int32),
        }
    )
