"""The verdict's stale-or-current call from the snapshot estimate."""

from __future__ import annotations

import datetime as dt

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from leaktrace.verify.snapshot import SnapshotEstimate, estimate_snapshot
from leaktrace.verify.verdict import STALE_DAYS, Label, decide

AS_OF = dt.date(2025, 6, 30)
EPOCH = dt.date(1970, 1, 1)


def _estimate(latest: dt.date, n: int, until: dt.date | None = None) -> SnapshotEstimate:
    """``n`` records opened every 90 days up to ``latest``; with ``until``, one record's
    mobile is an earlier one that was replaced on that day."""
    last = (latest - EPOCH).days
    rows = [(r, last - 90 * r, None) for r in range(n)]
    if until is not None:
        rows.append((n, last - 1000, (until - EPOCH).days))
    df = pl.DataFrame(
        {
            "rid": [r[0] for r in rows],
            "lo": pl.Series([r[1] for r in rows], dtype=pl.Int32).cast(pl.Date),
            "hi": pl.Series([r[2] for r in rows], dtype=pl.Int32).cast(pl.Date),
        }
    )
    est = estimate_snapshot(df, AS_OF)
    assert est is not None
    return est


def test_a_list_dated_years_back_is_stale() -> None:
    est = _estimate(dt.date(2022, 3, 1), 200, until=dt.date(2022, 4, 1))
    v = decide(200, 200, [], est, AS_OF)
    assert v.label == Label.STALE
    assert v.stale_as_of == est.date and dt.date(2022, 3, 1) <= est.date < dt.date(2022, 4, 1)
    assert v.stale_chance is not None and v.stale_chance > 0.99
    assert any("current around" in r for r in v.reasons)
    assert not any("chance" in r for r in v.reasons)  # sure: no hedge


def test_a_recent_list_is_ours() -> None:
    est = _estimate(dt.date(2025, 5, 1), 200, until=dt.date(2025, 6, 1))
    v = decide(200, 198, [], est, AS_OF)
    assert v.label == Label.AUTHENTIC_OURS and v.stale_as_of is None
    assert v.stale_chance is not None and v.stale_chance < 0.01


def test_no_later_bound_does_not_keep_an_old_list_current() -> None:
    """Only current values agree, but nothing in the list is younger than four years: with
    hundreds of records, a list taken later would hold later customers."""
    est = _estimate(dt.date(2021, 6, 1), 300)
    assert not est.bounded
    v = decide(300, 300, [], est, AS_OF)
    assert v.label == Label.STALE


def test_a_few_records_near_the_line_are_called_with_their_chance() -> None:
    est = _estimate(AS_OF - dt.timedelta(days=STALE_DAYS + 200), 9)
    v = decide(9, 9, [], est, AS_OF)
    assert v.stale_chance is not None and 0.05 < v.stale_chance < 0.95
    assert v.label == (Label.STALE if v.stale_chance > 0.5 else Label.AUTHENTIC_OURS)
    assert any("chance" in r and str(est.low) in r for r in v.reasons)


@settings(max_examples=40, deadline=None)
@given(days_back=st.integers(10, 6 * 365), n=st.integers(5, 300))
def test_label_follows_the_likelier_side(days_back: int, n: int) -> None:
    est = _estimate(AS_OF - dt.timedelta(days=days_back), n)
    v = decide(n, n, [], est, AS_OF)
    assert v.stale_chance is not None
    if v.stale_chance > 0.55:
        assert v.label == Label.STALE
    if v.stale_chance < 0.45:
        assert v.label == Label.AUTHENTIC_OURS
    if v.label == Label.STALE:
        assert (AS_OF - est.date).days > STALE_DAYS


def test_staleness_needs_a_master_date_and_a_linked_leak() -> None:
    est = _estimate(dt.date(2020, 1, 1), 200, until=dt.date(2020, 2, 1))
    assert decide(200, 200, [], est, None).label == Label.AUTHENTIC_OURS
    assert decide(200, 120, [], est, AS_OF).label == Label.MIXED
    assert decide(200, 200, [], None, AS_OF).label == Label.AUTHENTIC_OURS
