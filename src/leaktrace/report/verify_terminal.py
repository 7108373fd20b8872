"""Terminal summary of a verification a person reads in ten seconds (rich; no personal data),
in the language in use: the verdict with its meaning and next step, coloured by severity and
marked with its icon, then the evidence behind it."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from leaktrace.i18n import _, using
from leaktrace.report.verdict_words import shown
from leaktrace.report.verify_words import (
    as_of_line,
    field_label,
    interval,
    linkage_counts,
    pct,
    reason_text,
    share_label,
    signal_label,
    tampered_line,
)
from leaktrace.verify.forgery import Signal
from leaktrace.verify.result import VerifyReport


def render_verify(report: VerifyReport, console: Console, lang: str | None = None) -> None:
    """Print the verdict with its intervals, the linkage, field agreement, snapshot, signals."""
    with using(lang):
        _render_verify(report, console)


def _indented(console: Console, markup: str, indent: int = 2) -> None:
    """Print rich ``markup`` indented, wrapped lines too."""
    console.print(Padding(Text.from_markup(markup), (0, 0, 0, indent), expand=False))


def _render_verdict(report: VerifyReport, console: Console) -> None:
    """The verdict with its icon and severity, what it means, what to do, its shares, the
    altered share and the reasons as sentences."""
    v = report.verdict
    w = shown(v.label, v.stale_as_of)
    style = w.look.term
    # the space before the bracket is the message's: Chinese brackets take none
    severity = _(" ({code}; severity: {severity})").format(
        code=v.label.value, severity=w.severity_name
    )
    title = escape(_("Verdict: {title}").format(title=w.title))
    _indented(console, f"[{style}]{w.look.symbol} {title}[/]{escape(severity)}", 0)
    _indented(console, escape(w.definition))
    # the arrow and its space are the message's: a Chinese line keeps them together, as it
    # has no space to break at after them
    step = _("→ Next step: {step}").format(step=w.next_step)
    _indented(console, f"[{style}]{escape(step[0])}[/]{escape(step[1:])}")
    for name, s in v.shares.items():
        share = _("{what}: {share} ({ci}, {n} records)").format(
            what=share_label(name), share=pct(s.value), ci=interval(s), n=f"{s.records:,}"
        )
        _indented(console, escape(share))
    if v.tampered:
        _indented(console, f"[bold magenta]{escape(tampered_line(v.tampered))}[/]")
    for r in v.reasons:
        _indented(console, f"· {escape(reason_text(r))}")


def _render_verify(report: VerifyReport, console: Console) -> None:
    _render_verdict(report, console)
    if report.linkage:
        console.print(
            _(
                "[bold]Linked[/] {linked} of {records} records ({exact} exact on a strong "
                "identifier, {prob} probabilistic; {pairs} pairs compared) → {customers} customers"
            ).format(**linkage_counts(report))
        )
    if report.fields:
        t = Table(title=_("Field agreement of linked records"), title_justify="left")
        t.add_column(_("field"), overflow="fold")
        for col in (_("current"), _("earlier value"), _("disagrees"), _("agree rate")):
            t.add_column(col, justify="right", overflow="fold")
        for f in report.fields:
            t.add_row(
                field_label(f.field),
                f"{f.current:,}",
                f"{f.historical:,}",
                f"{f.disagrees:,}",
                pct(f.agree_rate),
            )
        console.print(t)
    if line := as_of_line(report):
        console.print(line, highlight=False, markup=False)
    if report.snapshot:
        s = report.snapshot
        text = _(
            "[bold]Snapshot[/] about {date} (window {low} – {high}; {consistent} of "
            "{constraints} dated values consistent)"
        ).format(
            date=s.date.isoformat(),
            low=s.low.isoformat(),
            high=s.high.isoformat(),
            consistent=f"{s.consistent:,}",
            constraints=f"{s.constraints:,}",
        )
        if not s.bounded:
            text += _(" (no later bound: values still current)")
        console.print(text)
    if report.verdict.tampered:
        title = _("Tampering: linked records against our values")
        console.print(signal_table(title, report.tamper_signals))
    if report.signals:
        console.print(signal_table(_("Forgery signals"), report.signals))


def signal_table(title: str, signals: list[Signal]) -> Table:
    """Signals with their values against the genuine ranges, flagged ones marked; a signal
    with nothing to measure says so."""
    t = Table(title=title, title_justify="left")
    t.add_column(_("signal"), overflow="fold")
    for col in (_("value"), _("genuine range"), _("p-value"), _("n")):
        t.add_column(col, justify="right", overflow="fold")
    t.add_column(_("flag"), overflow="fold")
    for s in signals:
        t.add_row(
            escape(signal_label(s)),
            pct(s.value) if s.n else _("not measurable"),
            f"{pct(s.expected_low)}–{pct(s.expected_high)}",
            "—" if s.p_value is None else f"{s.p_value:.2g}",
            f"{s.n:,}",
            "[red]" + _("FLAG") + "[/]" if s.flagged else "",
        )
    return t
