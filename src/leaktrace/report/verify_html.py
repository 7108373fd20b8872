"""A self-contained HTML report of a verification, read in a minute, in the language in use:
the verdict with its meaning and next step, the match rate by field, the snapshot-date estimate
and the forgery signals against their genuine ranges, as inline SVG (no scripts, no external
files). Only counts, dates and customer ids appear, never personal values. Written to a
temporary file and renamed, so no half report is left behind.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from leaktrace.i18n import _, using
from leaktrace.report.evidence_html import evidence_section
from leaktrace.report.files import write_atomic
from leaktrace.report.records_html import CSS as RECORDS_CSS
from leaktrace.report.records_html import customers_section, not_ours_section
from leaktrace.report.style import BASE_CSS, lang_tag
from leaktrace.report.svg import el, esc
from leaktrace.report.verdict_words import icon_svg, shown
from leaktrace.report.verify_plots import field_bars, signals_plot, timeline
from leaktrace.report.verify_words import (
    as_of_line,
    interval,
    linkage_counts,
    pct,
    reason_text,
    share_label,
    signal_label,
    signal_note,
    tampered_line,
)
from leaktrace.verify.forgery import Signal
from leaktrace.verify.result import VerifyReport


def verdict_block(report: VerifyReport) -> str:
    """The ``#verdict`` block: icon, title and severity, what it means, what to do next, the
    shares with their intervals and the reasons as sentences."""
    v = report.verdict
    w = shown(v.label, v.stale_as_of)
    why, means, step = _("Why"), _("What it means"), _("Next step")
    shares = "".join(
        "<li>"
        + esc(
            _("{what}: {share} ({ci}, {n} records)").format(
                what=share_label(k), share=pct(s.value), ci=interval(s), n=f"{s.records:,}"
            )
        )
        + "</li>"
        for k, s in v.shares.items()
    )
    tampered = el("p", tampered_line(v.tampered), "class=flag") if v.tampered else ""
    reasons = "".join(el("li", reason_text(r)) for r in v.reasons)
    title = _("Verdict: {title}").format(title=w.title)
    severity = _("severity: {severity}").format(severity=w.severity_name)
    return (
        f'<section id="verdict" class="sev-{w.severity.value}" data-label="{v.label.value}" '
        f'style="--sev:{w.look.colour}">'
        f'<div class="title">{icon_svg(w.severity)}{el("span", title)}'
        f'<span class="sev">{esc(severity)} · <code>{v.label.value}</code></span></div>'
        f"<dl>{el('dt', means)}{el('dd', w.definition)}"
        f"{el('dt', step)}{el('dd', w.next_step)}</dl>"
        + (f"<ul>{shares}</ul>" if shares else "")
        + tampered
        + (f"<p><b>{esc(why)}</b></p><ul>{reasons}</ul>" if reasons else "")
        + "</section>"
    )


def signal_table(signals: list[Signal]) -> str:
    """The signals as a table (each with its note), flagged ones marked in words."""
    head = "".join(
        f"<th{cls}>{esc(h)}</th>"
        for h, cls in (
            (_("signal"), ""),
            (_("value"), " class=n"),
            (_("genuine range"), " class=n"),
            (_("p-value"), " class=n"),
            (_("n"), " class=n"),
            (_("flag"), ""),
        )
    )

    def note(s: Signal) -> str:
        text = signal_note(s)
        return f"<br><small class=muted>{esc(text)}</small>" if text else ""

    unmeasured, flag = _("not measurable"), _("FLAG")
    rows = "".join(
        f"<tr><td>{esc(signal_label(s))}{note(s)}</td>"
        f"<td class=n>{pct(s.value) if s.n else esc(unmeasured)}</td>"
        f"<td class=n>{pct(s.expected_low)}–{pct(s.expected_high)}</td>"
        f"<td class=n>{'—' if s.p_value is None else f'{s.p_value:.2g}'}</td>"
        f"<td class=n>{s.n:,}</td>"
        f"<td class=flag>{esc(flag) if s.flagged else ''}</td></tr>"
        for s in signals
    )
    return f"<table><tr>{head}</tr>{rows}</table>"


def render_html(report: VerifyReport, lang: str | None = None) -> str:
    """The report as one HTML document in ``lang`` (the language in use when None)."""
    with using(lang) as now:
        return _render(report, now)


def _render(report: VerifyReport, lang: str) -> str:
    name = Path(report.leak).name
    linked = ""
    if report.linkage:
        linked = (
            "<p>"
            + esc(
                _(
                    "{linked} of {records} records linked to {customers} customers ({exact} exact "
                    "on a strong identifier, {prob} probabilistic)."
                ).format(**linkage_counts(report))
            )
            + "</p>"
        )
    parts = [
        f"<!doctype html><html lang={lang_tag(lang)}><head><meta charset=utf-8>",
        el("title", _("leaktrace verify: {file}").format(file=name)),
        f"<style>{BASE_CSS}{RECORDS_CSS}</style></head><body>",
        el("h1", _("Verification of {file}").format(file=name)),
        verdict_block(report),
        linked,
    ]
    if report.master:
        parts += [el("h2", _("Match rate by field")), field_bars(report)]
        parts += [el("h2", _("When was the data taken?")), timeline(report)]
        parts.append(el("p", as_of_line(report) or "", "class=muted"))
    if report.tamper_signals:
        parts += [
            el("h2", _("Tampering: linked records against our values")),
            signal_table(report.tamper_signals),
        ]
    parts += [
        el("h2", _("Forgery signals")),
        signals_plot(report.signals),
        signal_table(report.signals),
    ]
    footer = _("engine {engine} · {records} records · generated {date}").format(
        engine=report.engine, records=f"{report.records:,}", date=dt.date.today().isoformat()
    )
    if report.master:  # the lists last: a large leak's run long
        parts += [customers_section(report), not_ours_section(report)]
    if report.evidence is not None:
        parts.append(evidence_section(report.evidence))
    parts.append(f"<p class=muted>{esc(footer)}</p></body></html>")
    return "\n".join(parts)


def write_html(report: VerifyReport, path: Path, lang: str | None = None) -> Path:
    """Write the report to ``path`` atomically (temporary file, then rename)."""
    return write_atomic(Path(path), render_html(report, lang))
