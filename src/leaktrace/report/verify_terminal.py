"""Terminal summary of a verification a person reads in ten seconds (rich; no personal data)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from leaktrace.report.verify_words import tampered_lines
from leaktrace.verify.forgery import Signal
from leaktrace.verify.result import VerifyReport

COLOURS = {
    "authentic_ours": "red",
    "stale": "yellow",
    "mixed": "yellow",
    "tampered": "magenta",
    "fabricated": "green",
    "authentic_not_ours": "cyan",
    "plausible": "cyan",
    "inconclusive": "white",
}


# How the report words where the master's date came from (VerifyReport.master_as_of_source).
AS_OF_SOURCES = {
    "given": "given with --master-date",
    "latest_opening": "the latest opening date in the master; state it with --master-date",
    "latest_change": "the latest change in the history; state it with --master-date",
}


def as_of_line(report: VerifyReport) -> str | None:
    """The master's date and why it was taken; None when verification had no master."""
    if report.master is None:
        return None
    if report.master_as_of is None:
        return (
            "Master data as of: unknown (no opening dates or history; state it with --master-date)"
        )
    why = AS_OF_SOURCES.get(report.master_as_of_source or "", "")
    return f"Master data as of {report.master_as_of.isoformat()}" + (f" ({why})" if why else "")


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f}%"


def render_verify(report: VerifyReport, console: Console) -> None:
    """Print the verdict with its intervals, the linkage, field agreement, snapshot, signals."""
    v = report.verdict
    colour = COLOURS.get(v.label.value, "white")
    console.print(f"[bold {colour}]Verdict: {v.label.value.replace('_', ' ')}[/]")
    for name, s in v.shares.items():
        console.print(
            f"  {name.replace('_', ' ')}: {_pct(s.value)} "
            f"(95% CI {_pct(s.low)}–{_pct(s.high)}, {s.records:,} records)"
        )
    if v.tampered:
        for line in tampered_lines(v.tampered):
            console.print(f"  [bold magenta]{line}[/]")
    if v.stale_as_of:
        console.print(f"  values as of about {v.stale_as_of.isoformat()}")
    for r in v.reasons:
        console.print(f"  · {r}")
    if report.linkage:
        lk = report.linkage
        console.print(
            f"[bold]Linked[/] {lk.linked:,} of {report.records:,} records "
            f"({lk.exact:,} exact on a strong identifier, {lk.probabilistic:,} probabilistic; "
            f"{lk.candidate_pairs:,} pairs compared) → {len(report.customers):,} customers"
        )
    if report.fields:
        t = Table(title="Field agreement of linked records", title_justify="left")
        for col in ("field", "current", "earlier value", "disagrees", "agree rate"):
            t.add_column(col, justify="left" if col == "field" else "right")
        for f in report.fields:
            t.add_row(
                f.label,
                f"{f.current:,}",
                f"{f.historical:,}",
                f"{f.disagrees:,}",
                _pct(f.agree_rate),
            )
        console.print(t)
    if line := as_of_line(report):
        console.print(line, highlight=False)
    if report.snapshot:
        s = report.snapshot
        bound = "" if s.bounded else " (no later bound: values still current)"
        console.print(
            f"[bold]Snapshot[/] about {s.date.isoformat()} (window {s.low.isoformat()} – "
            f"{s.high.isoformat()}; {s.consistent:,} of {s.constraints:,} dated values consistent){bound}"
        )
    if v.tampered:
        console.print(
            _signal_table("Tampering: linked records against our values", report.tamper_signals)
        )
    if report.signals:
        console.print(_signal_table("Forgery signals", report.signals))


def _signal_table(title: str, signals: list[Signal]) -> Table:
    """Signals with their values against the genuine ranges, flagged ones marked."""
    t = Table(title=title, title_justify="left")
    for col in ("signal", "value", "genuine range", "p-value", "n", ""):
        t.add_column(col, justify="left" if col == "signal" else "right")
    for s in signals:
        t.add_row(
            s.label,
            _pct(s.value),
            f"{_pct(s.expected_low)}–{_pct(s.expected_high)}",
            "—" if s.p_value is None else f"{s.p_value:.2g}",
            f"{s.n:,}",
            "[red]FLAG[/]" if s.flagged else "",
        )
    return t
