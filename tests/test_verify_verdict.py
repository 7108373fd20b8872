"""The verdict's stale-or-current call from the snapshot estimate, and its tampered call."""

from __future__ import annotations

import datetime as dt

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from leaktrace.verify.forgery import rate_signal
from leaktrace.verify.snapshot import SnapshotEstimate, estimate_snapshot
from leaktrace.verify.tampering import Tampering
from leaktrace.verify.verdict import STALE_CALL, STALE_DAYS, Label, Verdict, decide

AS_OF = dt.date(2025, 6, 30)
EPOCH = dt.date(1970, 1, 1)


def _codes(v: Verdict) -> set[str]:
    return {r.code for r in v.reasons}


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
    stale = next(r for r in v.reasons if r.code == "stale")
    assert stale.params["date"] == est.date and stale.params["days"] == (AS_OF - est.date).days
    assert "stale_uncertain" not in _codes(v)  # sure: no hedge


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
    assert v.label == (Label.STALE if v.stale_chance >= STALE_CALL else Label.AUTHENTIC_OURS)
    hedge = next(r for r in v.reasons if r.code == "stale_uncertain")
    assert hedge.params["low"] == est.low and hedge.params["chance"] == v.stale_chance


def test_a_likelier_but_unsure_stale_stays_current_with_its_chance() -> None:
    """Nine records, the latest opened 440 days back and nothing bounding the date: stale is
    the likelier side (about 60%) but short of 2:1, so the leak is called current and the
    chance is given."""
    est = _estimate(AS_OF - dt.timedelta(days=440), 9)
    v = decide(9, 9, [], est, AS_OF)
    assert v.stale_chance is not None and 0.5 < v.stale_chance < STALE_CALL
    assert (AS_OF - est.date).days > STALE_DAYS  # the median date is past the line
    assert v.label == Label.AUTHENTIC_OURS and v.stale_as_of is None
    assert "stale_uncertain" in _codes(v)


@settings(max_examples=40, deadline=None)
@given(days_back=st.integers(10, 6 * 365), n=st.integers(5, 300))
def test_stale_needs_two_to_one_odds(days_back: int, n: int) -> None:
    """A live leak called stale is the costlier mistake: between even odds and 2:1 the leak
    stays current, with its chance stated."""
    est = _estimate(AS_OF - dt.timedelta(days=days_back), n)
    v = decide(n, n, [], est, AS_OF)
    assert v.stale_chance is not None
    if v.stale_chance > STALE_CALL + 0.02:
        assert v.label == Label.STALE
    if v.stale_chance < STALE_CALL - 0.02:
        assert v.label == Label.AUTHENTIC_OURS
    if 1 - 0.95 < v.stale_chance < 0.95:
        assert "stale_uncertain" in _codes(v)
    if v.label == Label.STALE:
        assert (AS_OF - est.date).days > STALE_DAYS


def test_staleness_needs_a_master_date_and_a_linked_leak() -> None:
    est = _estimate(dt.date(2020, 1, 1), 200, until=dt.date(2020, 2, 1))
    assert decide(200, 200, [], est, None).label == Label.AUTHENTIC_OURS
    assert decide(200, 120, [], est, AS_OF).label == Label.MIXED
    assert decide(200, 200, [], None, AS_OF).label == Label.AUTHENTIC_OURS


def _tampering(altered: int, compared: int) -> Tampering:
    """Tampering of ``altered`` of ``compared`` linked records, measured as forgery.py does."""
    sig = rate_signal(
        "linked_resident_id_invalid", "IDs", altered, compared, 0.0, 0.05, 0.05, "upper", True
    )
    return Tampering([sig], altered if sig.flagged else 0, compared)


def test_tampering_turns_ours_stale_or_mixed_into_tampered_with_its_share() -> None:
    est = _estimate(dt.date(2022, 3, 1), 200, until=dt.date(2022, 4, 1))
    t = _tampering(60, 200)
    for matched, before in ((200, Label.STALE), (120, Label.MIXED)):
        assert decide(200, matched, [], est, AS_OF).label == before
        v = decide(200, matched, [], est, AS_OF, t)
        assert v.label == Label.TAMPERED and v.shares["ours"].records == matched
        assert v.tampered is not None and v.tampered.value == 0.3
        assert 0.24 < v.tampered.low < 0.3 < v.tampered.high < 0.37  # Wilson, 95%
        altered = next(r for r in v.reasons if r.code == "values_altered")
        assert (altered.params["altered"], altered.params["compared"]) == (60, 200)
        assert altered.params["low"] == v.tampered.low


def test_a_few_altered_values_or_a_leak_not_ours_keep_their_label() -> None:
    """Typing errors stay under the tolerance: no reason, no label; a leak that is not ours
    keeps its label, the altered linked records said in the reasons."""
    v = decide(400, 400, [], None, AS_OF, _tampering(10, 400))
    assert v.label == Label.AUTHENTIC_OURS and v.tampered is None
    assert "values_altered" not in _codes(v)
    fab = [rate_signal("id_checksum", "IDs", 700, 960, 0.0, 0.01, 0.01, "upper", True)]
    v = decide(1000, 40, fab, None, AS_OF, _tampering(30, 40))
    assert v.label == Label.FABRICATED and v.tampered is not None
    assert "values_altered" in _codes(v)
