"""What each verdict means and what to do about it: a short title, a one-line definition and
the suggested next step (English message ids, translated where shown), and a severity with its
colour and icon, so the verdict is read the same in the terminal, the HTML report and the
README, and colour is never the only cue."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from leaktrace.i18n import N_, _
from leaktrace.verify.verdict import Label


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"


@dataclass(frozen=True)
class Look:
    """How a severity shows: its name, a colour for HTML and one for the terminal (rich), a
    Unicode symbol and the path of a 16-pixel SVG icon of the same shape."""

    name: str
    colour: str
    term: str
    symbol: str
    icon: str


LOOKS = {
    Severity.CRITICAL: Look(
        N_("critical"), "#b71c1c", "bold red", "✖", "M8 1 15 8 8 15 1 8Z M5 5l6 6M11 5l-6 6"
    ),
    Severity.HIGH: Look(N_("high"), "#d84315", "bold dark_orange", "▲", "M8 1 15 15H1Z M8 6v4"),
    Severity.MEDIUM: Look(N_("medium"), "#8d6e00", "yellow", "◆", "M8 1 15 8 8 15 1 8Z"),
    Severity.LOW: Look(N_("low"), "#1565c0", "blue", "■", "M2 2h12v12H2Z"),
    Severity.INFO: Look(N_("info"), "#555555", "white", "○", "M8 2a6 6 0 1 0 .01 0Z"),
}


@dataclass(frozen=True)
class VerdictWords:
    """A verdict's title, definition and next step (English; ``{date}`` is the stale date)."""

    title: str
    definition: str
    next_step: str
    severity: Severity


VERDICTS = {
    Label.AUTHENTIC_OURS: VerdictWords(
        N_("Our data, current"),
        N_("The records are our customers' and their values are the ones we hold today."),
        N_(
            "Treat it as a live breach of our data: contain the source, notify the affected "
            "customers (see the list) and report to the regulator."
        ),
        Severity.CRITICAL,
    ),
    Label.TAMPERED: VerdictWords(
        N_("Our data, altered"),
        N_(
            "The records are our customers', but some of their values were changed after they "
            "left us (invalid numbers, sequences, values of other customers)."
        ),
        N_(
            "Treat it as a breach of our data that someone worked on: notify the affected "
            "customers (see the list), keep the altered records as evidence of intent and "
            "report to the regulator and the police."
        ),
        Severity.CRITICAL,
    ),
    Label.STALE: VerdictWords(
        N_("Our data, an old copy"),
        N_("A copy of our data as of about {date}; many values have changed since."),
        N_(
            "Customers whose values were current then are exposed: see the list. Look for "
            "the copy or system that held our data at that date."
        ),
        Severity.HIGH,
    ),
    Label.MIXED: VerdictWords(
        N_("Partly our data"),
        N_("Part of the records are our customers', the rest are someone else's or made up."),
        N_(
            "Notify the customers of the linked part (see the list) and report the breach; "
            "the rest is not ours to notify."
        ),
        Severity.HIGH,
    ),
    Label.PLAUSIBLE: VerdictWords(
        N_("Possibly real, not checked against our data"),
        N_("No sign of forgery, but without master data we cannot tell whose data it is."),
        N_("Verify again against our master data (--against) to see whether it is ours."),
        Severity.MEDIUM,
    ),
    Label.AUTHENTIC_NOT_OURS: VerdictWords(
        N_("Real data, not ours"),
        N_("The records look genuine but almost none of them are our customers."),
        N_(
            "Do not notify our customers; pass the finding to the regulator or to the "
            "institution the data belongs to, if it is known."
        ),
        Severity.LOW,
    ),
    Label.FABRICATED: VerdictWords(
        N_("Fabricated"),
        N_("The records that are not ours fail checks that genuine data passes: made up."),
        N_(
            "Do not notify customers; keep the file and this report as evidence of a possible "
            "fraud or extortion attempt and report it to the police."
        ),
        Severity.LOW,
    ),
    Label.INCONCLUSIVE: VerdictWords(
        N_("Inconclusive"),
        N_("Too few records or checkable values to tell whose data it is or whether it is real."),
        N_(
            "Get more of the leak (the full file or more samples) or our history of values, "
            "then verify again."
        ),
        Severity.INFO,
    ),
}


@dataclass(frozen=True)
class Shown:
    """A verdict's words in the language in use, with its severity's look."""

    label: Label
    title: str
    definition: str
    next_step: str
    severity: Severity
    look: Look
    severity_name: str


def shown(label: Label, stale_as_of: dt.date | None = None) -> Shown:
    """The words of verdict ``label`` in the language in use (``stale_as_of`` fills the stale
    verdict's date; "unknown" when it is not known)."""
    w = VERDICTS[label]
    date = stale_as_of.isoformat() if stale_as_of else _("an unknown date")
    look = LOOKS[w.severity]
    return Shown(
        label,
        _(w.title),
        _(w.definition).format(date=date),
        _(w.next_step).format(date=date),
        w.severity,
        look,
        _(look.name),
    )


def icon_svg(severity: Severity) -> str:
    """The severity's icon as inline SVG (16 px, its colour, hidden from screen readers: the
    title and severity name beside it say the same)."""
    look = LOOKS[severity]
    return (
        f'<svg width="20" height="20" viewBox="0 0 16 16" aria-hidden="true">'
        f'<path d="{look.icon}" fill="none" stroke="{look.colour}" stroke-width="1.8" '
        f'stroke-linejoin="round"/></svg>'
    )
