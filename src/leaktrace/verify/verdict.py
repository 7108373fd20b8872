"""The verdict: is the leak ours, real, fabricated, mixed or stale, with a confidence interval
on the share of records behind it, and the reasons as codes with their parameters (the
reports word them in the language in use; ``--json`` keeps the codes).

Shares get Wilson score intervals (95%). The verdict is only as strong as its evidence: too few
records, or no decisive forgery signal measurable on the unmatched part, gives
``inconclusive`` rather than a confident guess.

A leak of our customers whose values were altered (:mod:`leaktrace.verify.tampering`: linked
records' values failing checks ours pass, in sequences, or another customer's) is ``tampered``
rather than ours, stale or mixed, whenever a part of it is ours: the breach is real but the list
was worked on, and what else the verdict found (stale values, unlinked records) stays in the
reasons. The altered share of the linked records is given with its interval.

Stale or current is decided on the snapshot estimate's posterior: the leak is stale when the
chance that it is older than ``STALE_DAYS`` before the master's date reaches ``STALE_CALL``,
whether or not a later value bounded it. The two mistakes do not cost the same: a live leak
called stale is played down while its customers are still exposed, so "stale" needs twice the
odds of "current" (a chance of 2/3), not just the likelier side. The chance is kept in
``stale_chance`` and, when the window of likely dates reaches both sides of that line, said in
the reasons: a list of a few records can often be dated only to a span of years.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from leaktrace.verify.forgery import MIN_N, Signal
from leaktrace.verify.snapshot import SnapshotEstimate
from leaktrace.verify.tampering import Tampering

OURS_MIN = 0.95  # linked share from which the leak is "ours" (below it, "mixed")
OTHER_MAX = 0.05  # linked share up to which the leak is "not ours"
STALE_DAYS = 365  # snapshot older than this before the master's date: stale
STALE_CALL = 2 / 3  # stale chance from which the leak is called stale (odds of 2 to 1)
SURE = 0.95  # a stale chance outside (1 - SURE, SURE) is stated as uncertain


class Label(StrEnum):
    AUTHENTIC_OURS = "authentic_ours"
    AUTHENTIC_NOT_OURS = "authentic_not_ours"
    FABRICATED = "fabricated"
    MIXED = "mixed"
    STALE = "stale"
    TAMPERED = "tampered"  # our customers' records with values altered
    PLAUSIBLE = "plausible"  # no master data given; nothing suggests forgery
    INCONCLUSIVE = "inconclusive"


@dataclass
class Share:
    """A share of the leak's records with its 95% Wilson interval."""

    value: float
    low: float
    high: float
    records: int


# Every reason code :func:`decide` gives (the reports word each one).
REASONS = (
    "linked",  # matched, records
    "unlinked_forged",  # signals: names of the decisive signals the unlinked records trip
    "unlinked_genuine",
    "unlinked_uncheckable",
    "forgery_signals",  # signals (no master data)
    "no_forgery_no_master",
    "too_few_checkable",
    "stale",  # date, days (before the master), low, high
    "stale_uncertain",  # chance, days (STALE_DAYS), low, high
    "values_altered",  # altered, compared, share, low, high, signals
)


@dataclass
class Reason:
    """Why the verdict is what it is: a stable ``code`` and its parameters (counts, shares,
    dates, signal names), worded by the reports (:mod:`leaktrace.report.verify_words`)."""

    code: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class Verdict:
    label: Label
    shares: dict[str, Share] = field(default_factory=dict)  # ours / not_ours / fabricated
    stale_as_of: dt.date | None = None
    reasons: list[Reason] = field(default_factory=list)
    stale_chance: float | None = None  # chance the snapshot is older than STALE_DAYS
    tampered: Share | None = None  # linked records with altered values, when called out


def wilson(k: int, n: int, z: float = 1.96) -> Share:
    """Share ``k/n`` with its Wilson score interval."""
    if n == 0:
        return Share(0.0, 0.0, 1.0, 0)
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return Share(p, max(0.0, c - h), min(1.0, c + h), k)


def _forged(signals: list[Signal]) -> list[Signal]:
    return [s for s in signals if s.decisive and s.flagged]


def _measured(signals: list[Signal]) -> bool:
    return any(s.decisive and s.n >= MIN_N for s in signals)


def _names(signals: list[Signal]) -> list[str]:
    return [s.name for s in signals]


def decide(
    records: int,
    matched: int | None,
    signals_rest: list[Signal],
    snapshot: SnapshotEstimate | None,
    as_of: dt.date | None,
    tampering: Tampering | None = None,
) -> Verdict:
    """The verdict from the linked count (None without master data), the forgery signals of
    the records not linked (all records without master data), the snapshot estimate and the
    linked records' tampering signals."""
    v = _decide(records, matched, signals_rest, snapshot, as_of)
    if matched and tampering is not None and tampering.flagged:
        _tampered(v, tampering)
    return v


def _tampered(v: Verdict, t: Tampering) -> None:
    """Call out altered linked records in ``v``: a reason with their share and interval, and
    the label ``tampered`` unless the leak is not ours."""
    v.tampered = wilson(t.altered, t.compared)
    s = v.tampered
    v.reasons.append(
        Reason(
            "values_altered",
            {
                "altered": t.altered,
                "compared": t.compared,
                "share": s.value,
                "low": s.low,
                "high": s.high,
                "signals": _names(t.flagged),
            },
        )
    )
    if v.label not in (Label.AUTHENTIC_NOT_OURS, Label.FABRICATED, Label.INCONCLUSIVE):
        v.label = Label.TAMPERED


def _decide(
    records: int,
    matched: int | None,
    signals_rest: list[Signal],
    snapshot: SnapshotEstimate | None,
    as_of: dt.date | None,
) -> Verdict:
    """The verdict without tampering (see :func:`decide`)."""
    if matched is None:
        forged = _forged(signals_rest)
        if forged:
            reason = Reason("forgery_signals", {"signals": _names(forged)})
            return Verdict(Label.FABRICATED, reasons=[reason])
        if _measured(signals_rest):
            return Verdict(Label.PLAUSIBLE, reasons=[Reason("no_forgery_no_master")])
        return Verdict(Label.INCONCLUSIVE, reasons=[Reason("too_few_checkable")])
    ours = wilson(matched, records)
    rest = wilson(records - matched, records)
    forged = _forged(signals_rest)
    other = "fabricated" if forged else "not_ours"
    reasons = [Reason("linked", {"matched": matched, "records": records})]
    if forged:
        reasons.append(Reason("unlinked_forged", {"signals": _names(forged)}))
    if ours.value >= OURS_MIN:
        v = Verdict(Label.AUTHENTIC_OURS, {"ours": ours, other: rest}, reasons=reasons)
        if snapshot is not None and as_of is not None:
            _staleness(v, snapshot, as_of)
        return v
    if ours.value <= OTHER_MAX:
        if forged:
            return Verdict(Label.FABRICATED, {"ours": ours, "fabricated": rest}, reasons=reasons)
        if _measured(signals_rest):
            reasons.append(Reason("unlinked_genuine"))
            return Verdict(
                Label.AUTHENTIC_NOT_OURS, {"ours": ours, "not_ours": rest}, reasons=reasons
            )
        reasons.append(Reason("unlinked_uncheckable"))
        return Verdict(Label.INCONCLUSIVE, {"ours": ours, "unknown": rest}, reasons=reasons)
    return Verdict(Label.MIXED, {"ours": ours, other: rest}, reasons=reasons)


def _staleness(v: Verdict, snapshot: SnapshotEstimate, as_of: dt.date) -> None:
    """Mark ``v`` stale when the snapshot is older than STALE_DAYS with a chance of at least
    STALE_CALL."""
    line = as_of - dt.timedelta(days=STALE_DAYS)
    chance = snapshot.chance_before(line)
    v.stale_chance = chance
    age = (as_of - snapshot.date).days
    if chance >= STALE_CALL and age > STALE_DAYS:
        v.label = Label.STALE
        v.stale_as_of = snapshot.date
        v.reasons.append(
            Reason(
                "stale",
                {"date": snapshot.date, "days": age, "low": snapshot.low, "high": snapshot.high},
            )
        )
    if 1 - SURE < chance < SURE:
        v.reasons.append(
            Reason(
                "stale_uncertain",
                {"chance": chance, "days": STALE_DAYS, "low": snapshot.low, "high": snapshot.high},
            )
        )
