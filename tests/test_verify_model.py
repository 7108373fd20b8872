"""The linkage model: the address typo level, EM with vetoed patterns, and strangers who share
a masked ID's visible digits and a district with a customer."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pytest

from bench.measure import write_scanned
from leaktrace.synth.world import make_world
from leaktrace.verify import verify
from leaktrace.verify.em import run_em
from leaktrace.verify.profile import near_long

ADDR = "广西壮族自治区南宁市兴宁区迎宾南大道48号10栋4单元902室"


def _near(left: str, right: str) -> bool:
    expr = near_long("l", "m")
    return duckdb.sql(f"SELECT {expr} FROM (SELECT '{left}' AS l, '{right}' AS m)").fetchall()[0][0]


def test_near_long_is_one_typo_anywhere() -> None:
    for i in range(len(ADDR)):
        changed = ADDR[:i] + "某" + ADDR[i + 1 :]
        dropped = ADDR[:i] + ADDR[i + 1 :]
        assert _near(changed, ADDR) and _near(ADDR, changed), i
        assert _near(dropped, ADDR) and _near(ADDR, dropped), i


def test_near_long_rejects_another_address_in_the_district() -> None:
    # The same 13-character province/city/district, another street, building and flat.
    other = "广西壮族自治区南宁市兴宁区惠州西路201号1栋4单元1803室"
    assert not _near(other, ADDR)
    # Two changes far apart are not one typo.
    assert not _near(ADDR.replace("迎宾", "迎春").replace("902", "903"), ADDR)


def test_em_keeps_vetoed_patterns_out_of_the_matches() -> None:
    # Columns: id (0 no, 1 yes), name (0 no, 1 yes). 1000 true matches agree on both; 5000
    # pairs blocked on the name agree on it alone, which the veto rules out as links.
    patterns = np.array([[1, 1], [0, 1], [0, 0]])
    counts = np.array([1000, 5000, 20000])
    u = [np.array([1 - 1e-6, 1e-6]), np.array([0.999, 0.001])]
    free = run_em(patterns, counts, u)
    vetoed = run_em(patterns, counts, u, can_match=np.array([True, False, False]))
    # Left free, EM calls the name-only pairs matches, so disagreeing IDs look ordinary.
    assert free.m[0][0] > 0.5
    assert vetoed.m[0][0] < 0.01
    assert vetoed.lam * counts.sum() == pytest.approx(1000, rel=0.01)
    assert free.probability(patterns[1:2])[0] > 0.9
    assert vetoed.probability(patterns[1:2])[0] < 0.5


def _one_off(name: str) -> str:
    """``name`` with its last character replaced (a typo's distance from it)."""
    return name[:-1] + ("伟" if name[-1] != "伟" else "芳")


def test_strangers_near_a_customer_are_not_linked(tmp_path: Path) -> None:
    """Strangers who look a little like customers, next to 600 customers: 2,400 namesakes
    living in a customer's district, their IDs masked (blocking pairs them with that customer
    on name and area; EM must not take them for matches), 300 carrying a customer's masked ID digits and a name one character
    off, and 300 carrying the masked ID digits and an address in the same district, on
    another street. Their mobiles and cards are their own. None may be linked."""
    world = make_world(4000, seed=3, out=tmp_path / "world")
    cols = ["name", "resident_id", "mobile", "card_no", "address"]
    cust = world.customers.select("customer_id", *cols).collect()
    ours = cust.head(600)
    others = make_world(3000, seed=99).customers.select(cols).collect()
    donors = cust.sample(3000, seed=1, with_replacement=True)
    d, o = donors.to_dict(as_series=False), others.to_dict(as_series=False)
    masked = [v[:6] + "*" * 8 + v[14:] for v in d["resident_id"]]
    rows = []
    for i in range(3000):
        row = {c: o[c][i] for c in cols}
        if i < 2400:  # namesake in the customer's district
            row["name"] = d["name"][i]
            row["resident_id"] = row["resident_id"][:6] + "*" * 8 + row["resident_id"][14:]
            row["address"] = d["address"][i][:6] + o["address"][i][6:]
        elif i < 2700:  # masked ID digits and a name one character off
            row["resident_id"], row["name"] = masked[i], _one_off(d["name"][i])
        else:  # masked ID digits and an address in the same district, another street
            row["resident_id"] = masked[i]
            row["address"] = d["address"][i][:13] + o["address"][i][13:]
        rows.append(row)
    strangers = pl.DataFrame(rows, schema={c: pl.String for c in cols})
    leak = pl.concat([ours.select(cols), strangers])
    report = verify(write_scanned(leak, tmp_path / "leak.parquet"), world.path)
    assert report.matches is not None
    got = dict(report.matches.select("rid", "mid").iter_rows())
    truth = ours["customer_id"].to_list()
    wrong = {r: m for r, m in got.items() if r >= len(truth) or truth[r] != m}
    assert not wrong, list(wrong.items())[:5]
    assert len(got) == len(truth)


def test_u_from_a_master_sample_is_close_to_the_whole_master(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Exact u read from a sample of the master (as for big masters) stays near the value the
    whole master gives, and the links stay the same."""
    from leaktrace.synth.leaks import make_leak
    from leaktrace.synth.writers import write_leak
    from leaktrace.verify import linkage

    world = make_world(6000, seed=5, out=tmp_path / "world")
    leak = make_leak(world, "share", seed=2, size=0.5)
    path = write_leak(leak, tmp_path / "leak.csv", "csv")
    whole = verify(path, world.path)
    monkeypatch.setattr(linkage, "EXACT_ROWS", 1500)
    monkeypatch.setattr(linkage, "EXACT_PAIRS", 1.0)
    sampled = verify(path, world.path)
    assert whole.linkage is not None and sampled.linkage is not None
    for a, b in zip(whole.linkage.weights, sampled.linkage.weights, strict=True):
        if a.name in ("id", "name", "mobile"):
            assert b.u[-1] != a.u[-1]  # a quarter of the master, so not the same count
            assert 0.5 < b.u[-1] / a.u[-1] < 2, (a.name, a.u[-1], b.u[-1])
    assert whole.matches is not None and sampled.matches is not None
    assert whole.matches.select("rid", "mid").equals(sampled.matches.select("rid", "mid"))
