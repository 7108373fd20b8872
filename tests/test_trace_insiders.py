"""Insider ranking: the stealthy leaker found among heavy legitimate users, a mixed leak
explained by its leakers, nobody flagged for a leak no employee made, and p-values that are
rigorous bounds (never below the exact tail)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from scipy.stats import hypergeom

from leaktrace.synth.insiders import innocent_leak, leak_by, make_world
from leaktrace.trace.access_log import EXPORT, VIEW, read_access_log
from leaktrace.trace.insiders import index_accesses, rank_index, rank_insiders


@pytest.fixture(scope="module")
def world():
    return make_world(np.random.default_rng(11), 400, 40_000, 120_000)


@pytest.mark.parametrize("kind", ["branch", "cross", "call_centre", "batch_overlap"])
def test_the_stealthy_leaker_is_ranked_first(world, kind: str) -> None:
    case = leak_by(np.random.default_rng(3), world, 100, kind, padding=0.2)
    ranking = rank_insiders(case.log, case.leaked, case.snapshot)
    first = ranking.suspects[0]
    assert first.employee == case.leakers[0]
    assert first.flagged and first.cover_step == 1 and first.corrected_p <= 1e-3
    assert [s.employee for s in ranking.flagged] == [first.employee]
    assert first.covered == 80 and first.explains == 80 and ranking.explained == 80
    assert sum(first.evidence.actions.values()) >= 80
    assert first.evidence.last_access.date() <= case.snapshot[1]
    role = world.employees.filter(pl.col("employee") == first.employee)
    assert first.evidence.branches == tuple(role["branch"])
    if kind == "batch_overlap":  # the batch account touched them all, legitimately
        batch = [s for s in ranking.suspects if s.employee.startswith("SYS")]
        assert batch and batch[0].covered >= 40 and not batch[0].flagged


def test_a_mixed_leak_is_explained_by_its_leakers(world) -> None:
    case = leak_by(np.random.default_rng(4), world, 300, "cross", leakers=2, padding=0.3)
    ranking = rank_insiders(case.log, case.leaked, case.snapshot)
    assert {s.employee for s in ranking.flagged} == set(case.leakers)
    assert [s.cover_step for s in ranking.flagged] == [1, 2]
    assert sum(s.explains for s in ranking.flagged) == ranking.explained == 210
    assert all(s.corrected_p <= ranking.alpha for s in ranking.flagged)


@pytest.mark.parametrize("size", [100, 1000])
def test_a_leak_no_employee_made_flags_nobody(world, size: int) -> None:
    index = index_accesses(world.log, innocent_leak(np.random.default_rng(0), world, 1).snapshot)
    for seed in range(20):
        case = innocent_leak(np.random.default_rng([size, seed]), world, size)
        ranking = rank_index(index, case.leaked)
        assert ranking.flagged == ()
        assert ranking.employees == world.employees.height
        assert all(s.corrected_p > ranking.alpha for s in ranking.suspects)
        assert ranking.leaked == size and 0 < ranking.leaked_in_log <= size


def test_accesses_after_the_snapshot_explain_nothing(world) -> None:
    case = leak_by(np.random.default_rng(5), world, 100, "cross", leak_day=300)
    early = (world.start, world.start + dt.timedelta(days=60))
    ranking = rank_insiders(case.log, case.leaked, early)
    assert case.leakers[0] not in {s.employee for s in ranking.flagged}


def test_the_ranking_read_from_a_gbk_file(tmp_path: Path, world) -> None:
    case = leak_by(np.random.default_rng(6), world, 100, "branch", padding=0.1)
    written = case.log.select(
        pl.col("employee").alias("柜员号"),
        pl.col("customer").alias("客户号"),
        pl.col("action").replace_strict({0: "查询", 1: "打印", 2: "导出"}).alias("操作类型"),
        pl.col("time").dt.strftime("%Y/%m/%d %H:%M:%S").alias("操作时间"),
        pl.col("employee_branch").alias("所属机构"),
    )
    path = tmp_path / "日志.csv"
    path.write_bytes(written.write_csv().encode("gbk"))
    log = read_access_log(path, tmp_path)
    ranking = rank_insiders(log, case.leaked, case.snapshot)
    direct = rank_insiders(case.log, case.leaked, case.snapshot)
    assert ranking.suspects[0].employee == case.leakers[0]
    assert [s.employee for s in ranking.suspects[:5]] == [s.employee for s in direct.suspects[:5]]


def two_strata_log(sizes, accessed, leaked) -> tuple[pl.DataFrame, np.ndarray]:
    """A log of two customer branches: a batch account views every customer, employee X views
    ``accessed[s]`` customers of branch s; ``leaked[s]`` customers of each leak, of which
    X accessed as many as ``leaked`` says as (count, overlap)."""
    rows, leak, start = [], [], 1
    for s, (n, a, (k, x)) in enumerate(zip(sizes, accessed, leaked, strict=True)):
        ids = np.arange(start, start + n)
        start += n
        rows += [("SYS", c, EXPORT, f"B{s}") for c in ids]
        rows += [("X", c, VIEW, f"B{s}") for c in ids[:a]]
        leak += list(ids[:x]) + list(ids[a : a + k - x])
    frame = pl.DataFrame(
        {
            "employee": [r[0] for r in rows],
            "customer": [int(r[1]) for r in rows],
            "action": pl.Series([r[2] for r in rows], dtype=pl.Int8),
            "time": pl.Series([dt.datetime(2025, 3, 1)] * len(rows), dtype=pl.Datetime("ms")),
            "employee_branch": ["系统" for _ in rows],
            "customer_branch": [r[3] for r in rows],
        }
    )
    return frame, np.array(leak, dtype=np.int64)


@pytest.mark.parametrize(
    ("sizes", "accessed", "leaked"),
    [
        ((400,), (40,), ((30, 8),)),
        ((400,), (40,), ((30, 12),)),
        ((300, 500), (30, 100), ((20, 6), (10, 5))),
        ((1000, 200), (5, 150), ((50, 3), (40, 35))),
        ((2000, 2000), (300, 10), ((100, 40), (100, 3))),
    ],
)
def test_the_bound_is_never_below_the_exact_tail(sizes, accessed, leaked) -> None:
    frame, leak = two_strata_log(sizes, accessed, leaked)
    ranking = rank_insiders(frame, leak, cohorts=1, top=None)
    x = next(s for s in ranking.suspects if s.employee == "X")
    pmf = np.ones(1)
    for n, a, (k, _) in zip(sizes, accessed, leaked, strict=True):
        pmf = np.convolve(pmf, hypergeom(n, k, a).pmf(np.arange(min(a, k) + 1)))
    observed = sum(ov for _, ov in leaked)
    exact = pmf[observed:].sum()
    assert x.covered == observed
    assert exact <= x.p <= max(np.sqrt(exact) * 10, 1e-300)
    sys_account = next(s for s in ranking.suspects if s.employee == "SYS")
    assert sys_account.p == pytest.approx(
        1.0
    )  # it accessed everyone: covering the leak means nothing
