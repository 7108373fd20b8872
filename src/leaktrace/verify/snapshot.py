"""When was the leak taken? Each agreeing value holds over a date interval (an earlier mobile
from its first to its last day, the current one since it replaced the last, every value of a
record no earlier than its account's opening); the snapshot date is where these intervals
overlap.

The estimate is a posterior over days, made of three parts:

- **Constraints.** Each distinct interval (one per record and interval: a record's name, ID and
  card all say "opened on d", which is one fact) holds or is violated on a day. A few are wrong
  (a typo that happens to agree with another value, a wrong link), so a violated interval costs
  a factor ``eps`` instead of ruling the day out. ``eps`` is the share of wrong intervals: one in
  a hundred a priori, updated by how many the best day violates.
- **Who can be in the list.** A list taken on day ``s`` holds only customers open by ``s``. The
  later ``s``, the more customers could have been drawn, so the chance of drawing exactly these
  falls as ``N(s)^-n``: near the latest opening or change ``L`` this is ``exp(-rho (s - L))``,
  ``rho`` being the rate at which the listed records' accounts were opened just before ``L``
  (measured on their own opening days: a merged list of old and new shares gets its own rate).
  Changes of values do not enter the rate: a change after ``s`` would show as an earlier value,
  so not seeing one tells as much about early days as about late ones.
- **A flat prior** over the days between the earliest interval end and the master's date.

The reported date is the posterior median (the date is older than it with even chance), the
window the 95% highest-density days. With few records the window is wide and the median can sit
on either side of a line such as one year before the master: ``chance_before`` says how sure.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import polars as pl

EPOCH = dt.date(1970, 1, 1)
MIN_CONSTRAINTS = 5  # fewer distinct dated agreements than this: no estimate
PRIOR_WRONG = (1.0, 99.0)  # Beta prior on the share of wrong intervals: mean 1%
RATE_OPENINGS = 20  # openings before L that measure the opening rate (fewer if fewer records)
MIN_RATE_SPAN = 30  # days: the rate is never measured over a shorter span
MASS = 0.95  # posterior mass of the window
MAX_SPAN = 100 * 365  # days before the end the grid may reach back
QUANTILES = tuple(range(1, 100))  # percentiles kept for chance_before


@dataclass
class SnapshotEstimate:
    """The estimated snapshot date (posterior median), the window holding 95% of the posterior,
    and the evidence.

    ``bounded`` is False when no value consistent with the date bounded it from above (only
    current values agreed): the data is then at least as recent as ``low`` and the window's upper
    end comes from how fast the listed records' accounts were being opened. ``percentiles``
    (1st to 99th, as dates) give ``chance_before``."""

    date: dt.date
    low: dt.date
    high: dt.date
    constraints: int
    consistent: int
    bounded: bool
    percentiles: tuple[dt.date, ...] = field(default=(), repr=False)

    @property
    def support(self) -> float:
        """Share of dated agreements consistent with the estimate."""
        return self.consistent / self.constraints if self.constraints else 0.0

    def chance_before(self, day: dt.date) -> float:
        """Posterior chance that the snapshot was taken before ``day`` (to about 1%)."""
        if not self.percentiles:
            return 1.0 if self.date < day else 0.0
        q = np.array([_day(d) for d in self.percentiles], dtype=np.float64)
        p = np.array(QUANTILES, dtype=np.float64) / 100
        # Below the 1st percentile and above the 99th the chance is taken as 0 and 1.
        return float(np.interp(_day(day) - 0.5, q, p, left=0.0, right=1.0))


def _day(d: dt.date) -> int:
    return (d - EPOCH).days


def _date(n: int) -> dt.date:
    return EPOCH + dt.timedelta(days=int(n))


_NEG, _POS = -(1 << 40), 1 << 40


def _columns(constraints: pl.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Distinct (record, lo, hi) as day numbers; null ends become -inf/+inf sentinels."""
    has_rid = "rid" in constraints.columns
    c = constraints.select(
        *(["rid"] if has_rid else []),
        pl.col("lo").cast(pl.Date).cast(pl.Int64),
        pl.col("hi").cast(pl.Date).cast(pl.Int64),
    )
    if has_rid:
        c = c.unique()
    lo = c["lo"].fill_null(_NEG).to_numpy()
    hi = c["hi"].fill_null(_POS).to_numpy()
    rid = c["rid"].to_numpy() if has_rid else None
    return lo, hi, rid


def _openings(lo: np.ndarray, hi: np.ndarray, rid: np.ndarray | None) -> np.ndarray:
    """One opening day per record: its earliest lower end (the opening, which its name, ID
    or a never-changed value carries). Without record ids, every lower end of a value still
    current stands for a record."""
    if rid is None:
        return lo[(lo > _NEG) & (hi == _POS)]
    ok = lo > _NEG
    df = pl.DataFrame({"rid": rid[ok], "lo": lo[ok]}).group_by("rid").agg(pl.col("lo").min())
    return df["lo"].to_numpy()


def _opening_rate(openings: np.ndarray, at: int) -> float:
    """Openings per day among the listed records just before ``at``: the k latest openings
    (k = RATE_OPENINGS, or all there are) over the span they cover."""
    before = np.sort(openings[openings <= at])[::-1]
    if not len(before):
        return 0.0
    k = min(RATE_OPENINGS, len(before))
    return k / max(at - int(before[k - 1]), MIN_RATE_SPAN)


def _hpd(grid: np.ndarray, p: np.ndarray, mass: float) -> tuple[int, int]:
    """First and last day of the smallest set of days holding ``mass`` of ``p``."""
    order = np.argsort(-p, kind="stable")
    k = int(np.searchsorted(np.cumsum(p[order]), mass)) + 1
    days = grid[order[: min(k, len(order))]]
    return int(days.min()), int(days.max())


def estimate_snapshot(constraints: pl.DataFrame, as_of: dt.date | None) -> SnapshotEstimate | None:
    """Estimate from ``lo``/``hi`` date columns (either may be null: unbounded on that side)
    and, when given, ``rid`` (the leak record each interval comes from)."""
    lo, hi, rid = _columns(constraints)
    n = len(lo)
    if n < MIN_CONSTRAINTS:
        return None
    finite = np.concatenate([lo[lo > _NEG], hi[hi < _POS] - 1])
    if not len(finite):
        return None
    end = _day(as_of) if as_of else int(finite.max())
    start = max(min(int(finite.min()), end), end - MAX_SPAN)
    grid = np.arange(start, end + 1, dtype=np.int64)
    los, his = np.sort(lo), np.sort(hi)
    # violated on day s: lower end after s, or upper end (exclusive) on or before s
    violated = (n - np.searchsorted(los, grid, "right")) + np.searchsorted(his, grid, "right")
    fewest = int(violated.min())
    a, b = PRIOR_WRONG
    eps = (fewest + a) / (n + a + b)
    logp = violated * np.log(eps / (1 - eps))
    at = int(grid[np.flatnonzero(violated == fewest)[0]])  # first day of the best region
    rate = _opening_rate(_openings(lo, hi, rid), at)
    logp -= rate * np.maximum(grid - at, 0)
    p = np.exp(logp - logp.max())
    p /= p.sum()
    cdf = np.cumsum(p)
    mid = int(grid[min(int(np.searchsorted(cdf, 0.5)), len(grid) - 1)])
    low, high = _hpd(grid, p, MASS)
    holds = (lo <= mid) & (hi > mid)
    qs = np.searchsorted(cdf, np.array(QUANTILES) / 100).clip(0, len(grid) - 1)
    return SnapshotEstimate(
        date=_date(mid),
        low=_date(min(low, mid)),
        high=_date(max(high, mid)),
        constraints=n,
        consistent=int(holds.sum()),
        bounded=bool((holds & (hi < _POS)).any()),
        percentiles=tuple(_date(int(grid[i])) for i in qs),
    )
