"""A hand-over written and recorded: the copy carries the share's symbols and its canaries, says
the same as the master everywhere else, and is in the ledger under the secret's key id."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from python_calamine import CalamineWorkbook

from leaktrace import pii
from leaktrace.errors import InputError
from leaktrace.synth.people import draw_people
from leaktrace.trace import canary, code, token, variants
from leaktrace.trace.ledger import MAX_CUSTOMER, Ledger
from leaktrace.trace.secret import Secret
from leaktrace.trace.share import SLOT_NUMBERS, file_format, share

AS_OF = dt.date(2026, 6, 30)
WHEN = dt.datetime(2026, 7, 1, 2, 0, tzinfo=dt.UTC)
SECRET = Secret(bytes(range(100, 140)))
HEADERS = {
    "name": "姓名",
    "resident_id": "身份证号",
    "mobile": "手机号码",
    "card_no": "银行卡号",
    "address": "联系地址",
}
ROLES = {
    "姓名": "person_name",
    "身份证号": "resident_id",
    "手机号码": "mobile",
    "银行卡号": "bank_card",
    "联系地址": "address",
}
MARKED = {
    "身份证号": "resident_id",
    "手机号码": "mobile",
    "银行卡号": "bank_card",
    "联系地址": "address",
}


@pytest.fixture(scope="module")
def master() -> pl.DataFrame:
    people = draw_people(np.random.default_rng(16), 3_000, AS_OF)
    return people.select(
        pl.int_range(100_000, 100_000 + people.height, dtype=pl.Int64).alias("客户号"),
        *(pl.col(k).alias(v) for k, v in HEADERS.items()),
    )


def _cell(v: object) -> str | None:
    """A cell as text, as a spreadsheet shows it (whole numbers without a decimal point)."""
    if v == "":
        return None
    return str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)


def _read(path: Path, fmt: str) -> pl.DataFrame:
    if fmt == "parquet":
        return pl.read_parquet(path)
    if fmt == "xlsx":
        rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
        return pl.DataFrame(
            [[_cell(v) for v in r] for r in rows[1:]],
            schema=[str(h) for h in rows[0]],
            orient="row",
        )
    return pl.read_csv(path, encoding="utf8-lossy" if fmt == "utf-8" else "gbk", infer_schema=False)


@pytest.mark.parametrize(
    ("suffix", "encoding"),
    [(".csv", "gbk"), (".csv", "utf-8"), (".xlsx", "utf-8"), (".parquet", "utf-8")],
)
def test_a_share_is_marked_and_recorded(
    master: pl.DataFrame, tmp_path: Path, suffix: str, encoding: str
) -> None:
    book = Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    chosen = np.arange(100_500, 101_700, 3)
    columns = ["客户号", *HEADERS.values()]
    out = tmp_path / f"给合作方{suffix}"
    s = share(
        master, "合作保险公司", chosen, columns, out, SECRET, book,
        customer_column="客户号", roles=ROLES, purpose="联合营销", encoding=encoding,
        canaries=4, shared_at=WHEN,
    )  # fmt: skip
    assert book.show(s.id) == s and s.gaps == ("basis",) and s.key_id == SECRET.key_id
    assert s.file_format == file_format(out, encoding) and len(s.canaries) == 4
    np.testing.assert_array_equal(book.customers(s.id), chosen)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([out.name, "ledger.sqlite"])

    copy = _read(out, suffix.strip(".") if suffix != ".csv" else encoding)
    copy = copy.with_columns(pl.col("客户号").cast(pl.String))
    assert copy.height == chosen.size + 4 and copy.columns == columns
    # The customer numbers are the share's tokens, the canaries' too; none is a real number.
    held = master["客户号"].to_numpy()
    canary_numbers = [MAX_CUSTOMER - i for i in range(4)]
    by_token = dict(
        zip(
            token.tokens(SECRET.derive("token"), s.id, [*chosen, *canary_numbers], 12, held),
            [*chosen.tolist(), *canary_numbers],
            strict=True,
        )
    )
    assert set(copy["客户号"]) == set(by_token)
    assert not copy["客户号"].is_in([str(n) for n in held.tolist()]).any()
    copy = copy.with_columns(pl.col("客户号").replace_strict(by_token, return_dtype=pl.Int64))
    fakes = copy.filter(pl.col("客户号").is_in(canary_numbers))
    real = copy.filter(~pl.col("客户号").is_in(canary_numbers))
    assert fakes.height == 4
    # The canaries are those the ledger rebuilds from the key, share id, date and attempts.
    rebuilt = [
        canary.canary(SECRET.derive("canary"), s.id, i, WHEN.date(), a)
        for i, a in enumerate(s.canaries)
    ]
    assert sorted(pii.normalize("resident_id", v) for v in fakes["身份证号"]) == sorted(
        c.resident_id for c in rebuilt
    )

    # Every real record means what the master says, and carries the share's symbols.
    originals = master.filter(pl.col("客户号").is_in(chosen.tolist())).sort("客户号")
    real = real.sort("客户号")
    key = SECRET.derive("code")
    changed = positions = 0
    for column, kind in MARKED.items():
        for number, before, after in zip(
            originals["客户号"], originals[column], real[column], strict=True
        ):
            if kind != "address":
                assert pii.normalize(kind, after) == pii.normalize(kind, before)
            offered = variants.slots(kind, before)
            found = variants.read(kind, after)
            wanted = code.symbols(
                key,
                s.id,
                code.position_ids(
                    [number] * len(offered), [SLOT_NUMBERS[(kind, n)] for n in offered]
                ),
            )
            assert [found[n] for n in offered] == wanted.astype(int).tolist()
            positions += len(offered)
            changed += after != before
    assert positions >= 5 * chosen.size and changed > 0


def test_another_share_carries_other_symbols(master: pl.DataFrame, tmp_path: Path) -> None:
    book = Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    chosen = np.arange(100_000, 100_400)
    copies = []
    for hours, who in enumerate(("甲公司", "乙公司")):
        out = tmp_path / f"{who}.parquet"
        share(master, who, chosen, ["联系地址"], out, SECRET, book, customer_column="客户号",
              roles=ROLES, canaries=0, shared_at=WHEN + dt.timedelta(hours=hours))  # fmt: skip
        copies.append(pl.read_parquet(out)["联系地址"])
    assert (copies[0] != copies[1]).sum() > 50
    assert [s.recipient for s in book.shares()] == ["甲公司", "乙公司"]


def test_a_failed_share_leaves_nothing(master: pl.DataFrame, tmp_path: Path) -> None:
    book = Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    out = tmp_path / "copy.csv"
    with pytest.raises(InputError, match="1 of 2 not there, 0 there more than once"):
        share(master, "丙", [5, 100_001], ["姓名"], out, SECRET, book, customer_column="客户号",
              roles=ROLES)  # fmt: skip
    with pytest.raises(InputError, match=r"copy.txt: expected a file name ending in \.csv"):
        share(master, "丙", [100_001], ["姓名"], tmp_path / "copy.txt", SECRET, book,
              customer_column="客户号", roles=ROLES)  # fmt: skip
    twice = pl.concat([master, master.filter(pl.col("客户号") == 100_001)])
    with pytest.raises(InputError, match="0 of 1 not there, 1 there more than once"):
        share(twice, "丙", [100_001], ["姓名"], out, SECRET, book, customer_column="客户号",
              roles=ROLES, place="客户主表.csv")  # fmt: skip
    with pytest.raises(InputError, match="at most one column of each kind"):
        share(master.with_columns(pl.col("手机号码").alias("备用手机")), "丙", [100_001],
              ["手机号码", "备用手机"], out, SECRET, book, customer_column="客户号",
              roles={**ROLES, "备用手机": "mobile"})  # fmt: skip
    with pytest.raises(InputError, match="found no column 电话"):
        share(master, "丙", [100_001], ["电话"], out, SECRET, book, customer_column="客户号",
              roles=ROLES)  # fmt: skip
    # A name GBK cannot write (a character of CJK extension B) in a GBK copy.
    rare = master.with_columns(
        pl.when(pl.col("客户号") == 100_002)
        .then(pl.lit("王𠀾"))
        .otherwise(pl.col("姓名"))
        .alias("姓名")
    )
    with pytest.raises(InputError, match=r"copy.csv line \d+: expected characters GBK can hold"):
        share(rare, "丙", [100_001, 100_002], ["姓名"], out, SECRET, book,
              customer_column="客户号", roles=ROLES, encoding="gbk")  # fmt: skip
    assert book.shares() == [] and sorted(p.name for p in tmp_path.iterdir()) == ["ledger.sqlite"]
    # Canaries' sex is written as the master writes it.
    words = rare.with_columns(性别=pl.col("身份证号").str.slice(16, 1).cast(pl.Int8).mod(2) == 1)
    words = words.with_columns(
        pl.when("性别").then(pl.lit("男")).otherwise(pl.lit("女")).alias("性别")
    )
    share(words, "丁", [100_003], ["姓名", "性别"], tmp_path / "sex.parquet", SECRET, book,
          customer_column="客户号", roles={**ROLES, "性别": "sex"}, canaries=6)  # fmt: skip
    assert set(pl.read_parquet(tmp_path / "sex.parquet")["性别"]) <= {"男", "女"}
    (tmp_path / "sex.parquet").unlink()
    share(rare, "丙", [100_001, 100_002], ["姓名"], out, SECRET, book,
          customer_column="客户号", roles=ROLES)  # fmt: skip
    assert "王𠀾" in out.read_text(encoding="utf-8")


def test_a_new_share_s_canaries_avoid_every_earlier_share_s(
    master: pl.DataFrame, tmp_path: Path
) -> None:
    """What a new share's canaries must not take holds the master's identifiers and every
    canary of the shares already in the ledger (rebuilt from the key)."""
    from leaktrace.trace.share import _earlier_canaries, _taken

    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    ids = master["客户号"].head(50).to_list()
    share(
        master,
        "甲",
        ids,
        list(HEADERS.values()),
        tmp_path / "a.csv",
        SECRET,
        ledger,
        customer_column="客户号",
        roles=ROLES,
        shared_at=WHEN,
    )
    [first] = ledger.shares()
    earlier = _earlier_canaries(SECRET.derive("canary"), ledger)
    assert earlier.height == len(first.canaries) == 3
    taken = _taken(master, ROLES, earlier)
    for i, attempt in enumerate(first.canaries):
        day = first.shared_at.date()
        assert taken.clashes(canary.canary(SECRET.derive("canary"), first.id, i, day, attempt))
    stranger = canary.canary(SECRET.derive("canary"), "another", 0, AS_OF)
    assert not _taken(master, ROLES, earlier.head(0)).clashes(stranger)
