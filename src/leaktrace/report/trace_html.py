"""The trace as one HTML page a compliance officer can hand on: the finding, each accused share's
evidence and what else could explain it, the strength of the evidence against every share as a
plot, the ranking, and the evidence trail (recipients, share ids, dates and counts: no personal
data)."""

from __future__ import annotations

import math
from pathlib import Path

from leaktrace.i18n import _, using
from leaktrace.report.evidence_html import evidence_section
from leaktrace.report.style import BASE_CSS, lang_tag
from leaktrace.report.svg import el, esc, text_width
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
from leaktrace.trace.attribute import Suspect

#: Shares drawn in the plot (the strongest cases); the table lists up to RANKED.
PLOTTED = 15
RANKED = 200
_CSS = """
.accused{border:2px solid #b00;border-left-width:.6rem;border-radius:.3rem;padding:.5rem 1rem;
margin:1rem 0}.accused h3{margin:.2rem 0;color:#b00}
.finding{font-size:1.25rem;font-weight:bold}.finding.hit{color:#b00}
#ranking,#insiders{font-size:.88rem;width:100%}#ranking td.n,#insiders td.n{white-space:nowrap}
"""


def render_trace_html(report: TraceReport, lang: str | None = None) -> str:
    """The trace as one HTML document in ``lang`` (the language in use when None)."""
    with using(lang) as now:
        return _render(report, now)


def _strength(s: Suspect) -> float:
    """How strongly the marks point at a share: -log10 of its corrected FAP (capped)."""
    return min(-math.log10(max(s.corrected_fap, 1e-300)), 300.0)


def evidence_plot(report: TraceReport) -> str:
    """Bars of each share's evidence (-log10 of the corrected FAP) with the accusation line."""
    a = report.attribution
    shown_ = a.suspects[:PLOTTED]
    if not shown_:
        return ""
    label_w = max(text_width(s.recipient, 13) for s in shown_) + 12
    label_w = min(label_w, 260)
    width, bar_h, top = 720, 22, 28
    plot_w = width - label_w - 70
    line = -math.log10(a.epsilon)
    scale = max([_strength(s) for s in shown_] + [line * 1.25])
    h = top + bar_h * len(shown_) + 30
    x0 = label_w
    parts = [
        f'<svg role=img viewBox="0 0 {width} {h}" width="100%" style="max-width:{width}px">',
        el("title", _("Evidence against each share")),
    ]
    for i, s in enumerate(shown_):
        y = top + i * bar_h
        w = plot_w * _strength(s) / scale
        colour = "#b00" if s.accused else "#7a8ca3"
        name = s.recipient
        while text_width(name, 13) > label_w - 12 and len(name) > 2:
            name = name[:-2] + "…"
        parts.append(
            f'<text x="{x0 - 6}" y="{y + 15}" font-size="13" text-anchor="end">'
            f"<title>{esc(s.recipient)}</title>{esc(name)}</text>"
        )
        parts.append(
            f'<rect x="{x0}" y="{y + 3}" width="{max(w, 1):.1f}" height="{bar_h - 7}" '
            f'fill="{colour}"><title>{esc(probability(s.corrected_fap))}</title></rect>'
        )
        parts.append(
            f'<text x="{x0 + max(w, 1) + 4:.1f}" y="{y + 15}" font-size="11" fill="#444">'
            f"{esc(probability(s.corrected_fap))}</text>"
        )
    lx = x0 + plot_w * line / scale
    parts.append(
        f'<line x1="{lx:.1f}" x2="{lx:.1f}" y1="{top - 6}" y2="{h - 24}" stroke="#b00" '
        'stroke-dasharray="4 3"/>'
    )
    label = _("accused beyond this line (ε = {epsilon})").format(epsilon=probability(a.epsilon))
    anchor = "end" if lx + text_width(label, 11) > width else "start"
    parts.append(
        f'<text x="{lx:.1f}" y="{top - 10}" font-size="11" fill="#b00" '
        f'text-anchor="{anchor}">{esc(label)}</text>'
    )
    parts.append(
        f'<text x="{x0}" y="{h - 6}" font-size="11" fill="#444">'
        + esc(_("chance an innocent recipient scores as high (corrected), smaller to the right"))
        + "</text></svg>"
    )
    return "<figure>" + "".join(parts) + "</figure>"


def _accused_block(s: Suspect, report: TraceReport) -> str:
    items = "".join(el("li", line) for line in why(s, report))
    other = "".join(el("li", line) for line in alternatives(s, report))
    title = _("{recipient} (share {share}, shared {date})").format(
        recipient=s.recipient, share=s.share_id, date=s.shared_at.date().isoformat()
    )
    because = el("p", _("Why:"))
    out = f"<div class=accused>{el('h3', title)}{because}<ul>{items}</ul>"
    if other:
        otherwise = el("p", _("What else could explain it:"))
        out += f"{otherwise}<ul>{other}</ul>"
    return out + "</div>"


def _ranking(report: TraceReport) -> str:
    heads = (
        (_("recipient"), ""),
        (_("share"), ""),
        (_("date"), ""),
        (_("columns"), ""),
        (_("leaked customers"), "class=n"),
        (_("marks matched"), "class=n"),
        (_("canaries"), "class=n"),
        (_("FAP"), "class=n"),
        (_("verdict"), ""),
    )
    rows = ["<table id=ranking><tr>" + "".join(el("th", h, a) for h, a in heads) + "</tr>"]
    for s in report.attribution.suspects[:RANKED]:
        cells = (
            (s.recipient, ""),
            (s.share_id, ""),
            (s.shared_at.date().isoformat(), ""),
            (", ".join(s.columns), ""),
            (f"{s.overlap:,}", "class=n"),
            (f"{s.matched:,}/{s.received:,}", "class=n"),
            (str(len(s.canaries)), "class=n"),
            (probability(s.corrected_fap), "class=n"),
            (_("accused") if s.accused else "", "class=flag" if s.accused else ""),
        )
        rows.append("<tr>" + "".join(el("td", v, a) for v, a in cells) + "</tr>")
    rows.append("</table>")
    return "".join(rows)


def _insiders(report: TraceReport) -> str:
    """The employees ranked by how well their accesses explain the leak, with their evidence."""
    r = report.insiders
    line = insiders_headline(report)
    if r is None or line is None:
        return ""
    heads = (
        (_("employee"), ""),
        (_("leaked customers accessed"), "class=n"),
        (_("corrected p"), "class=n"),
        (_("accesses"), ""),
        (_("first access"), ""),
        (_("last access"), ""),
        (_("verdict"), ""),
    )
    rows = ["<table id=insiders><tr>" + "".join(el("th", h, a) for h, a in heads) + "</tr>"]
    for s in r.suspects:
        e = s.evidence
        cells = (
            (s.employee, ""),
            (f"{s.covered:,}", "class=n"),
            (insider_p(s.corrected_p, s.log10_p, r.employees), "class=n"),
            (actions_text(e.actions), ""),
            (e.first_access.isoformat(" ", "minutes") if e.first_access else "", ""),
            (e.last_access.isoformat(" ", "minutes") if e.last_access else "", ""),
            (_("flagged") if s.flagged else "", "class=flag" if s.flagged else ""),
        )
        rows.append("<tr>" + "".join(el("td", v, a) for v, a in cells) + "</tr>")
    rows.append("</table>")
    note = _(
        "Coverage of the leaked customers, weighted by action and by the chance each access "
        "came before the leak's data was taken, against what the employee's own mix of branches "
        "and customers would give by chance. Volume only breaks ties."
    )
    return (
        el("h2", _("Employees whose accesses explain the leak"))
        + el("p", line)
        + el("p", note, "class=muted")
        + "".join(rows)
    )


def _render(report: TraceReport, lang: str) -> str:
    a = report.attribution
    name = Path(report.leak).name
    v = report.verification.verdict
    parts = [
        f"<!doctype html><html lang={lang_tag(lang)}><head><meta charset=utf-8>",
        el("title", _("leaktrace trace: {file}").format(file=name)),
        f"<style>{BASE_CSS}{_CSS}</style></head><body>",
        el("h1", _("Trace of {file}").format(file=name)),
        el("p", headline(report), "class='finding hit'" if a.accused else "class=finding"),
        el("p", _("The leak: {verdict}").format(verdict=shown(v.label, v.stale_as_of).title)),
        el("p", scope(report)),
    ]
    if a.flat_slots:
        parts.append(
            el(
                "p",
                _(
                    "Written one way throughout (canonicalised by the leaker), not read: {slots}"
                ).format(slots=", ".join(a.flat_slots)),
                "class=muted",
            )
        )
    parts += [_accused_block(s, report) for s in a.suspects if s.accused]
    parts += [el("h2", _("Evidence against each share")), evidence_plot(report)]
    parts += [el("h2", _("Shares ranked by the evidence")), _ranking(report)]
    parts.append(_insiders(report))
    if report.evidence is not None:
        parts.append(evidence_section(report.evidence))
    parts.append("</body></html>")
    return "\n".join(parts)
