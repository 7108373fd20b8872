"""Words the verify reports (terminal and HTML) share, in the language in use: the verdict's
reasons as sentences (from their codes and parameters), the names of signals, fields and
shares, the tampering call-out and where the master's date came from."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from leaktrace.i18n import N_, _, language
from leaktrace.verify import forgery, tampering
from leaktrace.verify.fields import LABELS as FIELD_LABELS
from leaktrace.verify.forgery import Signal
from leaktrace.verify.result import VerifyReport
from leaktrace.verify.verdict import Reason, Share

SIGNAL_LABELS = forgery.SIGNAL_LABELS | tampering.SIGNAL_LABELS

# The verdict's shares (Verdict.shares keys).
SHARES = {
    "ours": N_("our customers"),
    "not_ours": N_("not our customers"),
    "fabricated": N_("fabricated"),
    "unknown": N_("undetermined"),
}

# How the report words where the master's date came from (VerifyReport.master_as_of_source).
AS_OF_SOURCES = {
    "given": N_("given with --master-date"),
    "latest_opening": N_("the latest opening date in the master; state it with --master-date"),
    "latest_change": N_("the latest change in the history; state it with --master-date"),
}


def pct(x: float | None) -> str:
    """``x`` as a percentage with one decimal; a share short of all (or above none) never
    shows as 100.0% (0.0%), so a bar with a sliver of another colour is not read as whole."""
    if x is None:
        return "—"
    shown = round(100 * x, 1)
    if shown >= 100 and x < 1:
        shown = 99.9
    elif shown <= 0 < x:
        shown = 0.1
    return f"{shown:.1f}%"


def interval(s: Share) -> str:
    """The 95% interval of a share, e.g. ``95% CI 10.1%–12.3%``."""
    return _("95% CI {low}–{high}").format(low=pct(s.low), high=pct(s.high))


def sep() -> str:
    """The list separator of the language in use."""
    return "；" if language() == "zh" else "; "


def field_label(code: str) -> str:
    """A field's name (``resident_id`` ...) in the language in use."""
    return _(FIELD_LABELS[code]) if code in FIELD_LABELS else code


class _Unknown(dict):
    """Parameters of a label; one not known (a signal named without its values) shows "…"."""

    def __missing__(self, key: str) -> str:
        return "…"


def signal_label(s: Signal | str) -> str:
    """What a signal (or a signal's name) measures, in the language in use."""
    name = s if isinstance(s, str) else s.name
    params = _Unknown() if isinstance(s, str) else _Unknown(s.params)
    if name not in SIGNAL_LABELS:
        return name if isinstance(s, str) else s.label
    if "field" in params:
        params["field"] = _(params["field"])
    return _(SIGNAL_LABELS[name]).format_map(params)


def signal_note(s: Signal) -> str:
    """The signal's note in the language in use (none for "not measurable": the value says
    so)."""
    return _(s.note) if s.note and s.note != forgery.NOT_MEASURABLE else ""


def share_label(key: str) -> str:
    return _(SHARES[key]) if key in SHARES else key


def _date(x: Any) -> str:
    return x.isoformat() if isinstance(x, dt.date) else str(x)


def _signals(p: dict[str, Any]) -> str:
    return sep().join(signal_label(n) for n in p.get("signals", []))


# Per reason code, its sentence and how its parameters are shown.
REASON_WORDS: dict[str, tuple[str, Callable[[dict[str, Any]], dict[str, str]]]] = {
    "linked": (
        N_("{matched} of {records} records are linked to our customers"),
        lambda p: {"matched": f"{p['matched']:,}", "records": f"{p['records']:,}"},
    ),
    "unlinked_forged": (
        N_("the records not linked to our customers trip forgery signals: {signals}"),
        lambda p: {"signals": _signals(p)},
    ),
    "unlinked_genuine": (
        N_("the records not linked to our customers show no sign of forgery"),
        lambda p: {},
    ),
    "unlinked_uncheckable": (
        N_("too few checkable values to tell whether the unlinked records are real or made up"),
        lambda p: {},
    ),
    "forgery_signals": (
        N_("the records trip forgery signals: {signals}"),
        lambda p: {"signals": _signals(p)},
    ),
    "no_forgery_no_master": (
        N_("no forgery signal trips; no master data was given to link the records to"),
        lambda p: {},
    ),
    "too_few_checkable": (
        N_("too few checkable values to measure the forgery signals"),
        lambda p: {},
    ),
    "stale": (
        N_(
            "the values were current around {date}, {days} days before the master data "
            "(likely between {low} and {high})"
        ),
        lambda p: {
            "date": _date(p["date"]),
            "days": f"{p['days']:,}",
            "low": _date(p["low"]),
            "high": _date(p["high"]),
        },
    ),
    "stale_uncertain": (
        N_(
            "{chance} chance that the values are more than {days} days older than the master "
            "data: the dated values allow anything from {low} to {high}"
        ),
        lambda p: {
            "chance": f"{100 * p['chance']:.0f}%",
            "days": f"{p['days']:,}",
            "low": _date(p["low"]),
            "high": _date(p["high"]),
        },
    ),
    "values_altered": (
        N_(
            "values altered in {altered} of {compared} linked records ({share}, 95% CI "
            "{low}–{high}): {signals}"
        ),
        lambda p: {
            "altered": f"{p['altered']:,}",
            "compared": f"{p['compared']:,}",
            "share": pct(p["share"]),
            "low": pct(p["low"]),
            "high": pct(p["high"]),
            "signals": _signals(p),
        },
    ),
}


def reason_text(r: Reason) -> str:
    """A verdict reason as a sentence in the language in use (its code if unknown)."""
    if r.code not in REASON_WORDS:
        return r.code
    template, shown = REASON_WORDS[r.code]
    return _(template).format(**shown(r.params))


def linkage_counts(report: VerifyReport) -> dict[str, str]:
    """The linkage's counts as the reports' sentences fill them (thousands separated)."""
    lk = report.linkage
    assert lk is not None, "a report without linkage has no linkage counts"
    return {
        "linked": f"{lk.linked:,}",
        "records": f"{report.records:,}",
        "customers": f"{len(report.customers):,}",
        "exact": f"{lk.exact:,}",
        "prob": f"{lk.probabilistic:,}",
        "pairs": f"{lk.candidate_pairs:,}",
    }


def tampered_line(s: Share) -> str:
    """The altered share of the linked records with its interval."""
    return _("altered values: {share} of the linked records ({ci}, {n} records)").format(
        share=pct(s.value), ci=interval(s), n=f"{s.records:,}"
    )


def as_of_line(report: VerifyReport) -> str | None:
    """The master's date and why it was taken; None when verification had no master."""
    if report.master is None:
        return None
    if report.master_as_of is None:
        return _(
            "Master data as of: unknown (no opening dates or history; state it with --master-date)"
        )
    why = AS_OF_SOURCES.get(report.master_as_of_source or "")
    if why:
        return _("Master data as of {date} ({why})").format(
            date=report.master_as_of.isoformat(), why=_(why)
        )
    return _("Master data as of {date}").format(date=report.master_as_of.isoformat())
