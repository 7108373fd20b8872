"""Snapshot dating: the estimate from the intervals over which agreeing values held.

The simulated lists below are made the way the estimator assumes nothing about: customers open
accounts at a steady rate, change mobiles at random, a list is taken on a random day from the
customers open by then, and each listed value's interval is what the master's history gives.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leaktrace.verify.snapshot import MIN_CONSTRAINTS, SnapshotEstimate, estimate_snapshot

EPOCH = dt.date(1970, 1, 1)
END = dt.date(2025, 6, 30)
E = (END - EPOCH).days
YEAR = 365


def _frame(rows: list[tuple[int, int | None, int | None]]) -> pl.DataFrame:
    """(rid, lo, hi) with days since the epoch; None is an open end."""
    return pl.DataFrame(
        {
            "rid": [r for r, _, _ in rows],
            "lo": pl.Series([lo for _, lo, _ in rows], dtype=pl.Int32).cast(pl.Date),
            "hi": pl.Series([hi for _, _, hi in rows], dtype=pl.Int32).cast(pl.Date),
        }
    )


def _day(d: dt.date) -> int:
    return (d - EPOCH).days


def simulate_list(
    rng: np.random.Generator, n: int, snapshot: int, fields: int = 3, change_years: float = 15.0
) -> list[tuple[int, int | None, int | None]]:
    """Constraints of a list of ``n`` customers taken on day ``snapshot``: each record's
    identifiers say "opened on d" (``fields`` times, as name, ID and card do), and its mobile
    holds from its last change (or opening) before the snapshot to its next change, if any."""
    rows: list[tuple[int, int | None, int | None]] = []
    for rid in range(n):
        opened = int(rng.integers(E - 30 * YEAR, snapshot))
        k = rng.poisson((E - opened) / (change_years * YEAR))
        changes = np.sort(rng.integers(opened + 1, E + 1, size=k))
        before, after = changes[changes <= snapshot], changes[changes > snapshot]
        rows += [(rid, opened, None)] * fields
        lo = int(before[-1]) if len(before) else opened
        rows.append((rid, lo, int(after[0]) if len(after) else None))
    return rows


def test_too_few_distinct_intervals_give_no_estimate() -> None:
    # One record's name, ID and card all carry its opening: one interval, not three.
    rows = [(0, 18000, None)] * 3 + [(1, 18100, None)] * 3
    assert estimate_snapshot(_frame(rows), END) is None
    assert MIN_CONSTRAINTS > 2


def test_intervals_are_counted_once_per_record() -> None:
    rows = [(r, 18000 + r, None) for r in range(8) for _ in range(3)]
    est = estimate_snapshot(_frame(rows), END)
    assert est is not None and est.constraints == 8 and est.consistent == 8


def test_bounded_estimate_lies_in_the_overlap() -> None:
    # Latest opening 2022-01-01; an earlier mobile that held until 2022-03-01.
    lo, hi = _day(dt.date(2022, 1, 1)), _day(dt.date(2022, 3, 1))
    rows = [(r, lo - 400 * r, None) for r in range(40)] + [(40, lo - 900, hi)]
    est = estimate_snapshot(_frame(rows), END)
    assert est is not None and est.bounded
    assert dt.date(2022, 1, 1) <= est.date < dt.date(2022, 3, 1)
    assert est.low <= est.date <= est.high
    assert est.consistent == est.constraints == 41


def test_one_wrong_interval_does_not_move_a_well_dated_list() -> None:
    rng = np.random.default_rng(3)
    snap = _day(dt.date(2023, 1, 15))
    rows = simulate_list(rng, 300, snap)
    good = estimate_snapshot(_frame(rows), END)
    # A typo that happened to agree with a value current only since 2024.
    bad = estimate_snapshot(_frame(rows + [(999, _day(dt.date(2024, 5, 1)), None)]), END)
    assert good is not None and bad is not None
    assert abs((bad.date - good.date).days) <= 10
    assert bad.consistent == bad.constraints - 1


def test_only_current_values_leave_the_estimate_unbounded() -> None:
    rows = [(r, _day(dt.date(2010, 1, 1)) + 200 * r, None) for r in range(10)]
    est = estimate_snapshot(_frame(rows), END)
    assert est is not None and not est.bounded
    latest = dt.date(2010, 1, 1) + dt.timedelta(days=200 * 9)
    assert est.low >= latest - dt.timedelta(days=1) and est.date > latest
    assert est.high > est.date


def test_a_large_list_is_dated_near_its_latest_opening_a_small_one_is_not() -> None:
    """Who can be in a list: with hundreds of records opened each month, a list taken long
    after the last of them would very likely hold a later one; with ten records, it would not."""
    rng = np.random.default_rng(5)
    last = _day(dt.date(2021, 6, 1))
    big = [(r, last - int(rng.integers(0, 20 * YEAR)), None) for r in range(600)]
    big.append((600, last, None))
    small = [(r, last - int(rng.integers(0, 20 * YEAR)), None) for r in range(9)]
    small.append((9, last, None))
    e_big, e_small = estimate_snapshot(_frame(big), END), estimate_snapshot(_frame(small), END)
    assert e_big is not None and e_small is not None
    assert (e_big.date - dt.date(2021, 6, 1)).days < 60
    assert (e_small.date - dt.date(2021, 6, 1)).days > 300
    assert e_small.high - e_small.low > e_big.high - e_big.low


def test_without_record_ids_it_still_dates() -> None:
    rng = np.random.default_rng(9)
    rows = simulate_list(rng, 200, _day(dt.date(2024, 2, 1)), fields=1)
    est = estimate_snapshot(_frame(rows).drop("rid"), END)
    assert est is not None and abs((est.date - dt.date(2024, 2, 1)).days) <= 90


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(5, 120),
    back=st.integers(30, 6 * YEAR),
    seed=st.integers(0, 2**32 - 1),
)
def test_consistent_lists_are_dated_inside_their_overlap(n: int, back: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    snap = E - back
    rows = simulate_list(rng, n, snap)
    est = estimate_snapshot(_frame(rows), END)
    assert est is not None
    lo = max(r[1] for r in rows)
    his = [r[2] for r in rows if r[2] is not None]
    hi = min(his) if his else E + 1
    assert lo <= _day(est.date) < hi  # every interval holds at the estimate
    assert est.consistent == est.constraints
    assert est.bounded == bool(his)
    assert est.low <= est.date <= est.high <= END
    _check_chance(est)


def _check_chance(est: SnapshotEstimate) -> None:
    days = [est.low - dt.timedelta(days=1), est.date, est.high + dt.timedelta(days=2)]
    chances = [est.chance_before(d) for d in days]
    assert chances == sorted(chances)
    assert chances[0] <= 0.05 and chances[-1] >= 0.95
    assert 0.4 <= est.chance_before(est.date + dt.timedelta(days=1)) <= 1.0


@pytest.mark.parametrize("n", [9, 60, 400])
def test_windows_are_calibrated(n: int) -> None:
    """Over many simulated lists the snapshot falls in the 95% window about 95% of the time,
    and before the median about half of the time: the stale call on a few-record list is a fair
    bet, not a lean to one side."""
    rng = np.random.default_rng(n)
    inside = before = 0
    runs = 250
    for _ in range(runs):
        snap = E - int(rng.integers(30, 4 * YEAR))
        est = estimate_snapshot(_frame(simulate_list(rng, n, snap)), END)
        assert est is not None
        truth = EPOCH + dt.timedelta(days=snap)
        inside += est.low <= truth <= est.high
        before += truth < est.date
    assert inside / runs >= 0.9
    assert 0.38 <= before / runs <= 0.62


def test_stale_calls_on_small_lists_beat_both_fixed_guesses() -> None:
    """Nine-record lists taken uniformly over four years: three in four are more than a year
    old. Calling by the estimate must beat always saying "stale"."""
    rng = np.random.default_rng(11)
    right = stale = 0
    runs = 400
    line = E - YEAR
    for _ in range(runs):
        snap = E - int(rng.integers(30, 4 * YEAR))
        est = estimate_snapshot(_frame(simulate_list(rng, 9, snap)), END)
        assert est is not None
        truth_stale = snap < line
        stale += truth_stale
        right += (_day(est.date) < line) == truth_stale
    assert right / runs > max(stale, runs - stale) / runs + 0.03
