"""The key process's limits: token buckets per API key and per client network, and a daily budget
per class of caller, days counted in Asia/Shanghai. Pure: every call takes the time, so tests run
on a fake clock.

Identifier spaces are small (about 10⁹ mobiles, 10¹¹ resident IDs), so what bounds their
enumeration through the registry is not the OPRF but how many evaluations anyone may ask for.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal
from zoneinfo import ZoneInfo

CallerClass = Literal["person", "institution", "operator"]
CLASSES: tuple[CallerClass, ...] = ("person", "institution", "operator")
SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class Rate:
    """A token bucket's refill rate (evaluations per second) and its size (the largest burst)."""

    per_second: float
    burst: int


@dataclass(frozen=True)
class ClassLimits:
    """One class's limits: a bucket per API key, a bucket per network, a daily budget."""

    per_key: Rate | None
    per_net: Rate | None
    daily: int


#: The defaults (see docs/registry-keyd.md): a person checks a few identifiers an hour from one
#: network; an institution enrols up to a frame a second per key; the operator ingests leaks.
DEFAULT_LIMITS: dict[CallerClass, ClassLimits] = {
    "person": ClassLimits(Rate(20 / 3600, 20), Rate(20 / 3600, 20), 1_000_000),
    "institution": ClassLimits(Rate(10_000, 100_000), Rate(10_000, 100_000), 100_000_000),
    "operator": ClassLimits(None, None, 50_000_000),
}


@dataclass(frozen=True)
class Caller:
    """Who asks: a class, an API key's id (None when anonymous), a network (None when local)."""

    cls: CallerClass
    key_id: int | None = None
    net: str | None = None


@dataclass(frozen=True)
class Refusal:
    """Why a request was refused: ``rate_limited``, ``budget`` (the class's day is spent) or
    ``too_large`` (more than a bucket or a day can ever hold: ``limit`` is the most there is)."""

    error: Literal["rate_limited", "budget", "too_large"]
    retry_after: float | None = None
    limit: int | None = None


def shanghai_day(now: float) -> dt.date:
    """The date in Asia/Shanghai at the POSIX time ``now``."""
    return dt.datetime.fromtimestamp(now, SHANGHAI).date()


def seconds_to_next_day(now: float) -> float:
    """Seconds from ``now`` to the next midnight in Asia/Shanghai."""
    day = shanghai_day(now) + dt.timedelta(days=1)
    midnight = dt.datetime.combine(day, dt.time(), SHANGHAI)
    return midnight.timestamp() - now


@dataclass
class _Bucket:
    rate: Rate
    tokens: float
    stamp: float

    def refill(self, now: float) -> None:
        """Adds what the rate gave since the last refill (nothing if the clock went back)."""
        elapsed = max(0.0, now - self.stamp)
        self.tokens = min(self.rate.burst, self.tokens + elapsed * self.rate.per_second)
        self.stamp = max(self.stamp, now)


@dataclass
class _Day:
    day: dt.date
    used: int = 0


@dataclass
class Limiter:
    """The buckets and the day's counters; :meth:`charge` takes a request whole or refuses it."""

    limits: dict[CallerClass, ClassLimits] = field(default_factory=lambda: dict(DEFAULT_LIMITS))
    _buckets: dict[tuple[CallerClass, str, object], _Bucket] = field(
        default_factory=dict, init=False
    )
    _days: dict[CallerClass, _Day] = field(default_factory=dict, init=False)

    def charge(self, caller: Caller, n: int, now: float) -> Refusal | None:
        """Counts ``n`` evaluations for ``caller`` at ``now``, or refuses them all and counts none."""
        limits = self.limits[caller.cls]
        buckets: list[_Bucket] = []
        for kind, who, rate in (
            ("key", caller.key_id, limits.per_key),
            ("net", caller.net, limits.per_net),
        ):
            if who is None or rate is None:
                continue
            if n > rate.burst:
                return Refusal("too_large", limit=rate.burst)
            bucket = self._buckets.get((caller.cls, kind, who))
            if bucket is None:
                bucket = self._buckets[(caller.cls, kind, who)] = _Bucket(rate, rate.burst, now)
            bucket.refill(now)
            buckets.append(bucket)
        if n > limits.daily:
            return Refusal("too_large", limit=limits.daily)
        short = [(n - b.tokens) / b.rate.per_second for b in buckets if b.tokens < n]
        if short:
            return Refusal("rate_limited", retry_after=max(short))
        today = self._today(caller.cls, now)
        if today.used + n > limits.daily:
            return Refusal("budget", retry_after=seconds_to_next_day(now))
        for bucket in buckets:
            bucket.tokens -= n
        today.used += n
        return None

    def _today(self, cls: CallerClass, now: float) -> _Day:
        """The class's counter for today, started afresh when the day in Shanghai has changed."""
        day = shanghai_day(now)
        current = self._days.get(cls)
        if current is None or current.day != day:
            current = self._days[cls] = _Day(day)
        return current

    def used_today(self, cls: CallerClass, now: float) -> int:
        """How many evaluations ``cls`` has had today."""
        return self._today(cls, now).used

    def prune(self, now: float) -> None:
        """Forgets the buckets that are full again: a full bucket is the same as none."""
        for key, bucket in list(self._buckets.items()):
            bucket.refill(now)
            if bucket.tokens >= bucket.rate.burst:
                del self._buckets[key]

    def snapshot(self) -> dict[str, dict[str, object]]:
        """The day's counters, for the state file: no API key or network, only class totals."""
        return {cls: {"day": d.day.isoformat(), "used": d.used} for cls, d in self._days.items()}

    def restore(self, state: dict[str, dict[str, object]]) -> None:
        """Takes back the counters of :meth:`snapshot` (a past day's are dropped when next used)."""
        for cls, entry in state.items():
            if cls in CLASSES:
                day = dt.date.fromisoformat(str(entry["day"]))
                self._days[cls] = _Day(day, int(entry["used"]))  # type: ignore[arg-type]
