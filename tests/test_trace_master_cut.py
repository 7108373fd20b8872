"""A small leak against a large master is linked against the master's candidate rows and a
random sample: every leak customer's row is kept (also when its ID was mistyped), each row at
most once, and verify links the leak exactly as it does against the whole master."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from leaktrace.scan import scan
from leaktrace.synth.people import draw_people
from leaktrace.trace import master_cut
from leaktrace.trace.share_input import open_master
from leaktrace.verify import verify


@pytest.fixture(scope="module")
def master(tmp_path_factory: pytest.TempPathFactory) -> Path:
    people = draw_people(np.random.default_rng(31), 30_000, dt.date(2026, 6, 30))
    path = tmp_path_factory.mktemp("cut") / "master.parquet"
    people.select(
        pl.int_range(1, people.height + 1, dtype=pl.Int64).alias("客户号"),
        pl.col("name").alias("姓名"),
        pl.col("resident_id").alias("身份证号"),
        pl.col("mobile").alias("手机号"),
        pl.col("address").alias("地址"),
    ).write_parquet(path)
    return path


def test_the_cut_keeps_every_leak_customer_once_and_links_alike(
    master: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(master_cut, "SAMPLE_ROWS", 2_000)
    whole = pl.read_parquet(master)
    picked = whole.sample(60, seed=2)
    # a third of the IDs mistyped in one digit: found through the name and mobile
    typo = picked.with_row_index("i").with_columns(
        pl.when(pl.col("i") % 3 == 0)
        .then(
            pl.col("身份证号").str.slice(0, 10)
            + ((pl.col("身份证号").str.slice(10, 1).cast(pl.Int64) + 1) % 10).cast(pl.String)
            + pl.col("身份证号").str.slice(11)
        )
        .otherwise(pl.col("身份证号"))
        .alias("身份证号")
    )
    leak = tmp_path / "leak.csv"
    typo.drop("i", "客户号").write_csv(leak)
    scanned = tmp_path / "leak.parquet"
    scan([leak], out=scanned, evidence=False)
    opened = open_master(master, tmp_path)
    assert master_cut.worth_cutting(master, 60)
    assert not master_cut.worth_cutting(master, 2_000)  # under 20 master rows a record
    cut = pl.read_parquet(master_cut.cut_master(opened, scanned, tmp_path / "cut.parquet"))
    assert set(picked["客户号"]) <= set(cut["客户号"])
    assert cut["客户号"].is_unique().all()
    assert 1_000 < cut.height < 0.2 * whole.height
    on_cut = verify(scanned, tmp_path / "cut.parquet", master_columns=opened.found)
    on_whole = verify(scanned, master, master_columns=opened.found)
    assert on_cut.matches is not None and on_whole.matches is not None
    pairs = {tuple(r) for r in on_cut.matches.select("rid", "mid").iter_rows()}
    assert pairs == {tuple(r) for r in on_whole.matches.select("rid", "mid").iter_rows()}
    assert len(pairs) == 60
