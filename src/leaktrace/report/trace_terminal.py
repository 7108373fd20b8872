"""Terminal summary of a trace (rich; no personal data): the finding, what it rests on, the
suspects ranked with their evidence, in the language in use."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from leaktrace.i18n import _, using
from leaktrace.report.trace_words import (
    actions_text,
    alternatives,
    headline,
    insider_p,
    insiders_headline,
    probability,
    scope,
    why,
)
from leaktrace.report.verdict_words import shown
from leaktrace.trace.api import TraceReport

#: Suspects listed in the terminal; the rest are in --json and the HTML report.
SHOWN = 10


def render_trace(report: TraceReport, console: Console, lang: str | None = None) -> None:
    """Print the finding, the leak's verdict, each accused share's evidence and the ranking."""
    with using(lang):
        _render(report, console)


def _render(report: TraceReport, console: Console) -> None:
    a = report.attribution
    style = "bold red" if a.accused else "bold"
    console.print(f"[{style}]{escape(headline(report))}[/]")
    v = report.verification.verdict
    console.print(
        escape(_("The leak: {verdict}").format(verdict=shown(v.label, v.stale_as_of).title)),
        highlight=False,
    )
    console.print(escape(scope(report)), highlight=False)
    if a.flat_slots:
        console.print(
            escape(
                _("Written one way throughout (canonicalised by the leaker), not read: {slots}")
            ).format(slots=", ".join(a.flat_slots)),
            highlight=False,
        )
    for s in a.suspects:
        if not s.accused:
            continue
        console.print(
            f"[bold red]✖ {escape(s.recipient)}[/] "
            + escape(
                _("(share {share}, {date})").format(
                    share=s.share_id, date=s.shared_at.date().isoformat()
                )
            )
        )
        for line in (*why(s, report), *alternatives(s, report)):
            console.print("  · " + escape(line), highlight=False)
    t = Table(title=_("Shares ranked by the evidence"), title_justify="left")
    t.add_column("#", justify="right")
    for col in (_("recipient"), _("share"), _("date")):
        t.add_column(col, overflow="fold")
    for col in (_("leaked customers"), _("marks matched"), _("canaries"), _("FAP")):
        t.add_column(col, justify="right", overflow="fold")
    t.add_column(_("verdict"), overflow="fold")
    for i, s in enumerate(a.suspects[:SHOWN], 1):
        t.add_row(
            str(i),
            escape(s.recipient),
            s.share_id,
            s.shared_at.date().isoformat(),
            f"{s.overlap:,}",
            f"{s.matched:,}/{s.received:,}",
            str(len(s.canaries)),
            probability(s.corrected_fap),
            "[red]" + escape(_("accused")) + "[/]" if s.accused else "",
        )
    console.print(t)
    if len(a.suspects) > SHOWN:
        console.print(
            escape(_("{count} more shares in --json and the HTML report.")).format(
                count=len(a.suspects) - SHOWN
            )
        )
    _render_insiders(report, console)


def _render_insiders(report: TraceReport, console: Console) -> None:
    """The employees ranked by how well their accesses explain the leak (with --access-log)."""
    r = report.insiders
    line = insiders_headline(report)
    if r is None or line is None:
        return
    console.print(f"[bold]{escape(line)}[/]")
    t = Table(
        title=_("Employees ranked by the accesses that explain the leak"), title_justify="left"
    )
    t.add_column("#", justify="right")
    t.add_column(_("employee"), overflow="fold")
    for col in (_("leaked customers accessed"), _("corrected p")):
        t.add_column(col, justify="right", overflow="fold")
    t.add_column(_("accesses"), overflow="fold")
    t.add_column(_("verdict"), overflow="fold")
    for s in r.suspects[:SHOWN]:
        t.add_row(
            str(s.rank),
            escape(s.employee),
            f"{s.covered:,}",
            insider_p(s.corrected_p, s.log10_p, r.employees),
            escape(actions_text(s.evidence.actions)),
            "[red]" + escape(_("flagged")) + "[/]" if s.flagged else "",
        )
    console.print(t)
