"""The keyed customer-number token: the same for a (share, customer), another in another share,
a plain number of the master's shape that is never a real customer number, and found back in the
copies ``share`` writes, however the leaker re-saved them, with where and how likely by chance."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from python_calamine import CalamineWorkbook

from leaktrace.synth.people import draw_people
from leaktrace.trace.ledger import MAX_CUSTOMER, Ledger
from leaktrace.trace.secret import Secret
from leaktrace.trace.share import share
from leaktrace.trace.token import (
    MIN_DIGITS,
    TokenIndex,
    chance_of_hits,
    find,
    token_digits,
    token_values,
    tokens,
)

SECRET = Secret(bytes(range(60, 100)))
KEY = SECRET.derive("token")
WHEN = dt.datetime(2026, 7, 1, 2, 0, tzinfo=dt.UTC)
FIRST = 6_201_000_000_000  # thirteen-digit customer numbers, as some banks' core systems have
ROLES = {"姓名": "person_name", "身份证号": "resident_id", "手机号码": "mobile"}
COLUMNS = ["客户号", "姓名", "身份证号", "手机号码"]


@pytest.fixture(scope="module")
def master() -> pl.DataFrame:
    people = draw_people(np.random.default_rng(7), 2_000, dt.date(2026, 6, 30))
    return people.select(
        pl.int_range(FIRST, FIRST + 3 * people.height, 3, dtype=pl.Int64).alias("客户号"),
        pl.col("name").alias("姓名"),
        pl.col("resident_id").alias("身份证号"),
        pl.col("mobile").alias("手机号码"),
    )


def test_a_token_is_the_same_for_a_share_and_customer_and_another_elsewhere() -> None:
    customers = np.arange(1_000, 6_000)
    first = tokens(KEY, "a1b2c3d4e5f60718", customers)
    assert first == tokens(KEY, "a1b2c3d4e5f60718", customers)
    assert first[10:20] == tokens(KEY, "a1b2c3d4e5f60718", customers[10:20])
    other = tokens(KEY, "0f1e2d3c4b5a6978", customers)
    assert sum(a == b for a, b in zip(first, other, strict=True)) == 0
    assert tokens(SECRET.derive("code"), "a1b2c3d4e5f60718", customers[:50]) != first[:50]
    assert len(set(first)) == customers.size  # 5,000 of 9·10¹¹: no two alike
    # the digits are spread evenly (a leading digit 1-9, the others 0-9)
    lead = np.bincount([int(t[0]) for t in first], minlength=10)
    assert lead[0] == 0 and lead[1:].min() > 450


@settings(max_examples=60, deadline=None)
@given(
    customers=st.lists(st.integers(0, MAX_CUSTOMER), min_size=1, max_size=40),
    digits=st.integers(MIN_DIGITS, 17),
    share_id=st.text("0123456789abcdef", min_size=16, max_size=16),
)
def test_tokens_have_the_masters_shape(customers: list[int], digits: int, share_id: str) -> None:
    written = tokens(KEY, share_id, customers, digits, taken=customers)
    assert len(written) == len(customers)
    for t in written:
        assert len(t) == digits and t.isascii() and t.isdigit() and t[0] != "0"
    assert not set(written) & {str(c) for c in customers}


def test_a_token_that_would_be_a_real_number_is_drawn_again() -> None:
    customers = np.arange(500, 700)
    plain = token_values(KEY, "5a5a5a5a5a5a5a5a", customers)
    taken = plain[::7].astype(np.int64)  # as though the master held these numbers
    moved = token_values(KEY, "5a5a5a5a5a5a5a5a", customers, taken=taken)
    assert not np.isin(moved, taken.astype(np.uint64)).any()
    assert (moved != plain).sum() == taken.size


def test_the_width_follows_the_longest_customer_number() -> None:
    assert token_digits([1, 99_999]) == MIN_DIGITS
    assert token_digits([5, FIRST]) == 13
    assert token_digits([]) == MIN_DIGITS


def test_chance_of_hits_bounds_a_poisson_count() -> None:
    assert chance_of_hits(0, 3.0) == 1.0 and chance_of_hits(1, 0.0) == 0.0
    assert chance_of_hits(1, 1e-6) == pytest.approx(1e-6)
    assert chance_of_hits(3, 1e-4) == pytest.approx(1e-12 / 6)
    assert chance_of_hits(2, 5.0) == 1.0


def _share(
    master: pl.DataFrame, book: Ledger, who: str, chosen: np.ndarray, out: Path, **kw: object
) -> str:
    made = share(master, who, chosen, COLUMNS, out, SECRET, book, customer_column="客户号",
                 roles=ROLES, shared_at=WHEN, **kw)  # fmt: skip
    return made.id


def _index(book: Ledger, master: pl.DataFrame) -> TokenIndex:
    return TokenIndex.from_ledger(book, KEY, "客户号", master["客户号"].to_numpy())


def test_tokens_are_found_back_in_each_copy_and_only_there(
    master: pl.DataFrame, tmp_path: Path
) -> None:
    book = Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    rng = np.random.default_rng(3)
    numbers = master["客户号"].to_numpy()
    picks = [np.sort(rng.choice(numbers, 300, replace=False)) for _ in range(3)]
    gbk = _share(master, book, "甲保险代理", picks[0], tmp_path / "甲.csv", encoding="gbk")
    xlsx = _share(master, book, "乙科技公司", picks[1], tmp_path / "乙.xlsx")
    other = _share(master, book, "丙数据公司", picks[2], tmp_path / "丙.parquet")
    # a share without the customer number column carries no token
    share(master, "丁", picks[0], ["姓名"], tmp_path / "丁.csv", SECRET, book,
          customer_column="客户号", roles=ROLES)  # fmt: skip
    index = _index(book, master)
    assert sorted(index.share_ids) == sorted([gbk, xlsx, other]) and index.digits == 13
    assert index.sizes.tolist() == [303, 303, 303]  # customers and three canaries each

    for path, share_id, chosen in ((tmp_path / "甲.csv", gbk, picks[0]),
                                   (tmp_path / "乙.xlsx", xlsx, picks[1])):  # fmt: skip
        got = find([path], index)
        assert set(got.hits["share"]) == {share_id}
        found = set(got.hits["customer"].to_list())
        assert found == {*chosen.tolist(), *(MAX_CUSTOMER - i for i in range(3))}
        assert set(got.hits["column"]) == {"客户号"}
        assert got.hits["row"].sort().to_list() == list(range(1, 304))  # as scan numbers rows
        assert got.shares.row(0, named=True)["tokens_found"] == 303
        assert got.shares["false_hit_probability"][0] < 1e-300
        assert got.chance_per_value < 1.2e-12 and got.digits == 13

    # the plain master and a copy without tokens name no share
    master.write_csv(tmp_path / "master.csv")
    assert find([tmp_path / "master.csv", tmp_path / "丁.csv"], index).hits.is_empty()


def test_a_reworked_leak_is_traced_to_its_copy(master: pl.DataFrame, tmp_path: Path) -> None:
    book = Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    numbers = master["客户号"].to_numpy()
    mine = _share(master, book, "甲", numbers[:400], tmp_path / "甲.csv", encoding="gbk")
    theirs = _share(master, book, "乙", numbers[200:600], tmp_path / "乙.csv")
    copy = pl.read_csv(tmp_path / "甲.csv", encoding="gbk", infer_schema=False)
    # 60 records, the customer number under another header and written with words around it,
    # mixed with real customers' numbers from elsewhere, saved as GBK inside a zip
    leak = (
        copy.sample(60, seed=1)
        .select(
            ("编号:" + pl.col("客户号")).alias("会员编号"),
            pl.col("手机号码").alias("电话"),
        )
        .vstack(
            master.head(40).select(
                pl.col("客户号").cast(pl.String).alias("会员编号"),
                pl.col("手机号码").alias("电话"),
            )
        )
    )
    text = leak.write_csv().encode("gbk")
    with zipfile.ZipFile(tmp_path / "出售.zip", "w") as z:
        z.writestr("客户资料/名单.csv", text)
    got = find([tmp_path / "出售.zip"], _index(book, master))
    assert set(got.hits["share"]) == {mine} and theirs not in got.shares["share"].to_list()
    assert got.hits.height == 60 and set(got.hits["column"]) == {"会员编号"}
    assert set(got.hits["source"]) == {f"{tmp_path / '出售.zip'}!客户资料/名单.csv"}
    rows = got.hits.sort("row")
    assert [leak["会员编号"][r - 1] for r in rows["row"]] == [
        "编号:" + t for t in tokens(KEY, mine, rows["customer"], 13, numbers)
    ]
    assert got.values_read == 100 and got.distinct_values == 100


def test_a_token_two_shares_drew_alike_names_neither() -> None:
    index = TokenIndex.build(KEY, [("aa11", [1, 2, 3]), ("aa11", [3, 4])], 12)
    assert index.ambiguous == 2 and index.values.size == 3
    assert sorted(index.customers.tolist()) == [1, 2, 4]
    assert (np.diff(index.values.astype(np.float64)) > 0).all()
    assert index.lookup([index.values[1], 7]).tolist() == [1, -1]


def test_long_tokens_are_text_in_a_workbook_and_found_back(
    master: pl.DataFrame, tmp_path: Path
) -> None:
    """Seventeen-digit customer numbers: a spreadsheet's number would round the token."""
    long = master.with_columns(pl.col("客户号") + 40_000_000_000_000_000)
    book = Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    chosen = long["客户号"].to_numpy()[:50]
    made = _share(long, book, "甲", chosen, tmp_path / "甲.xlsx", canaries=0)
    cells = CalamineWorkbook.from_path(str(tmp_path / "甲.xlsx")).get_sheet_by_index(0)
    written = [row[0] for row in cells.to_python()[1:]]
    assert all(isinstance(t, str) and len(t) == 17 for t in written)
    assert sorted(written) == sorted(tokens(KEY, made, chosen, 17, long["客户号"].to_numpy()))
    got = find([tmp_path / "甲.xlsx"], _index(book, long))
    assert got.hits["customer"].sort().to_list() == sorted(chosen.tolist())
