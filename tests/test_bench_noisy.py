"""The verify benchmark's noisy data generator: valid IDs where no noise says otherwise, each
noise at its stated rate, a truth that holds, the same files for the same seed."""

from __future__ import annotations

import math
import re
from pathlib import Path

import polars as pl
import pytest

from bench.noisy_bench import recall_by_noise
from bench.noisy_world import LEAK_COLUMNS, MASTER_COLUMNS, MOBILE_PREFIXES, Noise, generate
from bench.verify_bench import _cluster_pairs
from leaktrace.pii.resident_id import check_char

N_MASTER, N_LEAK = 30_000, 12_000
ID_BROKEN = ("id_digit_typo", "id_transposed")  # check character not recomputed


def _valid_id(v: str | None) -> bool:
    return v is not None and len(v) == 18 and v[:17].isdigit() and check_char(v[:17]) == v[17]


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pl.DataFrame]:
    d = generate(N_MASTER, N_LEAK, seed=3, out=tmp_path_factory.mktemp("noisy"))
    leak = pl.read_parquet(d.leak)
    assert pl.read_csv(d.leak_csv, infer_schema=False).equals(leak)
    return {
        "master": pl.read_parquet(d.master),
        "leak": leak,
        "truth": pl.read_parquet(d.truth),
        "joined": pl.concat([pl.read_parquet(d.truth), leak], how="horizontal"),
    }


def test_master_ids_valid_and_unique(data: dict[str, pl.DataFrame]) -> None:
    m = data["master"]
    assert tuple(m.columns) == MASTER_COLUMNS and m.height == N_MASTER
    assert all(_valid_id(v) for v in m["身份证号"])
    assert m["身份证号"].n_unique() == N_MASTER and m["手机号"].n_unique() == N_MASTER
    assert m["客户号"].n_unique() == N_MASTER
    births = m["出生日期"].dt.strftime("%Y%m%d")
    assert (m["身份证号"].str.slice(6, 8) == births).all()
    assert m["手机号"].str.slice(0, 3).is_in(MOBILE_PREFIXES).all()
    assert (m["开户日期"] > m["出生日期"]).all()


def test_leak_ids_valid_unless_noise_says_not(data: dict[str, pl.DataFrame]) -> None:
    j = data["joined"]
    assert tuple(data["leak"].columns) == LEAK_COLUMNS
    for row in j.iter_rows(named=True):
        v = row["身份证号"]
        if row["id_missing"]:
            assert v is None
        elif row["id_masked"]:
            assert re.fullmatch(r"\d{6}\*{8}\d{3}[\dX]|\d{10}\*{6}\d[\dX]", v)
        elif any(row[k] for k in ID_BROKEN):
            assert len(v) == 18 and not _valid_id(v)
        else:
            assert _valid_id(v)


def test_truth_links_customers_to_their_master_rows(data: dict[str, pl.DataFrame]) -> None:
    m = data["master"].select(
        "客户号", pl.col("身份证号").alias("m_id"), pl.col("姓名").alias("m_name")
    )
    j = data["joined"].join(m, left_on="customer_id", right_on="客户号", how="left")
    clean = j.filter(pl.col("customer_id").is_not_null())
    no_id_noise = ~pl.any_horizontal([pl.col(c) for c in clean.columns if c.startswith("id_")])
    assert (clean.filter(no_id_noise)["身份证号"] == clean.filter(no_id_noise)["m_id"]).all()
    birth = clean.filter(pl.col("id_birth_typo"))
    assert (birth["身份证号"].str.slice(0, 6) == birth["m_id"].str.slice(0, 6)).all()
    assert (birth["身份证号"].str.slice(14, 3) == birth["m_id"].str.slice(14, 3)).all()
    assert (birth["身份证号"] != birth["m_id"]).all()
    typo = clean.filter(pl.col("name_typo"))
    assert (typo["姓名"] != typo["m_name"]).all()
    no_name_noise = clean.filter(~pl.col("name_typo") & ~pl.col("name_missing"))
    assert (no_name_noise["姓名"] == no_name_noise["m_name"]).all()
    # people not in the master hold none of its IDs; namesakes share a customer's name and birth
    out = data["joined"].filter(pl.col("customer_id").is_null())
    assert not out["身份证号"].is_in(data["master"]["身份证号"].implode()).any()
    keys = data["master"].select(
        pl.concat_str("姓名", pl.col("出生日期").dt.strftime("%Y%m%d")).alias("k")
    )["k"]
    untouched = ~pl.any_horizontal(
        [pl.col(c) for c in out.columns if c.startswith(("id_", "name_"))]
    )
    twins = out.filter(pl.col("namesake") & untouched)
    assert twins.height > 50
    twin_keys = twins.select(pl.concat_str("姓名", pl.col("身份证号").str.slice(6, 8)))
    assert twin_keys.to_series().is_in(keys.implode()).all()


def test_noise_rates_as_stated(data: dict[str, pl.DataFrame]) -> None:
    t = data["truth"]
    noise = Noise()
    assert t["customer_id"].is_not_null().sum() == round(N_LEAK * noise.customers)
    for field in ("name", "id", "mobile", "addr"):
        for kind, rate in noise.field_kinds(field):
            sd = math.sqrt(rate * (1 - rate) / N_LEAK)
            assert abs(t[kind].mean() - rate) < 4 * sd + 1e-9, kind
    outsiders = t.filter(pl.col("customer_id").is_null())
    sd = math.sqrt(noise.namesakes * (1 - noise.namesakes) / outsiders.height)
    assert abs(outsiders["namesake"].mean() - noise.namesakes) < 4 * sd


def test_masked_and_changed_mobiles(data: dict[str, pl.DataFrame]) -> None:
    j = data["joined"].join(
        data["master"].select("客户号", pl.col("手机号").alias("m_mobile")),
        left_on="customer_id",
        right_on="客户号",
    )
    masked = j.filter(pl.col("mobile_masked"))
    assert masked["手机号"].str.contains(r"^1\d{2}\*{4}\d{4}$").all()
    assert (masked["手机号"].str.slice(7) == masked["m_mobile"].str.slice(7)).all()
    changed = j.filter(pl.col("mobile_changed"))
    assert (changed["手机号"] != changed["m_mobile"]).all()
    typo = j.filter(pl.col("mobile_typo"))
    assert (typo["手机号"].str.slice(0, 3) == typo["m_mobile"].str.slice(0, 3)).all()
    assert (typo["手机号"] != typo["m_mobile"]).all()


def test_same_seed_same_files_other_seed_other_data(tmp_path: Path) -> None:
    a = generate(3_000, 1_000, seed=9, out=tmp_path / "a")
    b = generate(3_000, 1_000, seed=9, out=tmp_path / "b")
    c = generate(3_000, 1_000, seed=10, out=tmp_path / "c")
    for name in ("master", "leak", "truth"):
        assert pl.read_parquet(getattr(a, name)).equals(pl.read_parquet(getattr(b, name)))
    assert a.leak_csv.read_bytes() == b.leak_csv.read_bytes()
    assert not pl.read_parquet(a.master).equals(pl.read_parquet(c.master))


def test_recall_by_noise_counts_right_links_per_noise(tmp_path: Path) -> None:
    truth = pl.DataFrame(
        {
            "rid": [0, 1, 2, 3, 4],
            "customer_id": [10, 11, 12, 13, None],
            "namesake": [False, False, False, False, True],
            "id_masked": [True, True, False, False, False],
            "addr_moved": [False, False, True, False, False],
        }
    )
    truth.write_parquet(tmp_path / "truth.parquet")
    # rid 1 linked to the wrong customer, rid 2 not linked, rid 4 (no customer) linked
    pl.DataFrame({"rid": [0, 1, 3, 4], "mid": [10, 99, 13, 12]}).write_parquet(
        tmp_path / "m.parquet"
    )
    got = recall_by_noise(tmp_path / "m.parquet", tmp_path / "truth.parquet")
    assert got == {"none": 1.0, "id_masked": 0.5, "addr_moved": 0.0}


def test_cluster_pairs_joins_chains_into_groups() -> None:
    links = [("a", "b"), ("c", "b"), ("d", "e"), ("e", "d")]
    assert _cluster_pairs(links) == {("a", "b"), ("a", "c"), ("b", "c"), ("d", "e")}
