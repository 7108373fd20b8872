"""When was the leak taken? Each agreeing value holds over a date interval (an earlier mobile
from its first to its last day, the current one since it replaced the last); the snapshot date
is where the most of these intervals overlap.

A few intervals may be wrong (a typo that happens to agree, a wrong link), so the window is
where the most intervals hold, not their strict intersection. Within it the date is not uniform:
interval ends fall at some rate on each side (openings and changes before, changes after), and
no end fell inside the window, so the date lies nearer the side where ends are denser. The
estimate is the mean of that truncated-exponential position, with the rates measured in the
year on each side of the window.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

EPOCH = dt.date(1970, 1, 1)
MIN_CONSTRAINTS = 5  # fewer agreeing dated values than this: no estimate


@dataclass
class SnapshotEstimate:
    """The estimated snapshot date, the window of dates about as consistent, and the evidence.

    ``bounded`` is False when no value bounded the date from above (only current values agreed):
    then the data is at least as recent as ``low``, and ``high`` is the latest date at which the
    absence of later openings and changes is still plausible (chance above 1%)."""

    date: dt.date
    low: dt.date
    high: dt.date
    constraints: int
    consistent: int
    bounded: bool

    @property
    def support(self) -> float:
        """Share of dated agreements consistent with the estimate."""
        return self.consistent / self.constraints if self.constraints else 0.0


def _day(d: dt.date) -> int:
    return (d - EPOCH).days


def _date(n: int) -> dt.date:
    return EPOCH + dt.timedelta(days=int(n))


UNBOUNDED_Z = 5.0  # see estimate_snapshot: e^-5 < 1%
RATE_WINDOW = 365  # days on each side of the window over which interval ends are counted


def _offset(lo: np.ndarray, hi: np.ndarray, a: int, b: int, bounded: bool) -> int:
    """Expected position in [a, b] when lower ends arrive at one rate and upper at another."""
    width = b - a
    if width <= 0:
        return 0
    rate_lo = float(((lo > a - RATE_WINDOW) & (lo <= a)).sum()) / RATE_WINDOW
    rate_hi = float(((hi >= b) & (hi < b + RATE_WINDOW)).sum()) / RATE_WINDOW if bounded else 0.0
    k = rate_lo - rate_hi
    if abs(k * width) < 1e-6:
        return width // 2
    # mean of density ∝ exp(-k x) on [0, width]
    mean = 1 / k - width / np.expm1(k * width)
    return int(round(min(max(mean, 0.0), width)))


def estimate_snapshot(constraints: pl.DataFrame, as_of: dt.date | None) -> SnapshotEstimate | None:
    """Estimate from ``lo``/``hi`` date columns (either may be null: unbounded on that side)."""
    if constraints.height < MIN_CONSTRAINTS:
        return None
    days = constraints.select(
        pl.col("lo").cast(pl.Int32).alias("lo"), pl.col("hi").cast(pl.Int32).alias("hi")
    )
    neg, pos = np.iinfo(np.int32).min, np.iinfo(np.int32).max
    lo = np.sort(days["lo"].fill_null(neg).to_numpy().astype(np.int64))
    hi = np.sort(days["hi"].fill_null(pos).to_numpy().astype(np.int64))
    end = _day(as_of) if as_of else int(min(hi.max(), lo.max() + 3650))
    cand = np.unique(
        np.concatenate([lo[lo > neg], [int(lo[lo > neg].min()) if (lo > neg).any() else end]])
    )
    cand = cand[cand <= end] if (cand <= end).any() else np.array([end])
    count = np.searchsorted(lo, cand, "right") - np.searchsorted(hi, cand, "right")
    best = int(count.max())
    tol = max(1, int(0.01 * best))
    at = int(cand[np.flatnonzero(count == best)[-1]])
    after = hi[hi > at]
    stop = int(after[0]) if len(after) else pos
    bounded = stop < pos
    top = min(stop - 1, end)
    near = cand[count >= best - tol]
    near_hi = hi[(hi > near.max())]
    win_hi = min(int(near_hi[0]) - 1 if len(near_hi) else end, end)
    if not bounded:
        # Only lower ends: the latest date at which seeing no later opening or change still
        # has a chance of e^-UNBOUNDED_Z (the gap is exponential at the lower-end rate).
        rate = float(((lo > at - RATE_WINDOW) & (lo <= at)).sum()) / RATE_WINDOW
        win_hi = min(end, at + int(UNBOUNDED_Z / rate)) if rate > 0 else end
    mid = at + _offset(lo, hi, at, max(at, top), bounded)
    return SnapshotEstimate(
        date=_date(mid),
        low=_date(int(near.min())),
        high=_date(max(win_hi, mid)),
        constraints=constraints.height,
        consistent=best,
        bounded=bounded,
    )
