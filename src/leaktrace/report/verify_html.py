"""A self-contained HTML report of a verification, read in a minute: the verdict, match rate by
field, the snapshot-date estimate and the forgery signals against their genuine ranges, as
inline SVG (no scripts, no external files). Only counts, dates and customer ids appear, never
personal values. Written to a temporary file and renamed, so no half report is left behind.
"""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path

from leaktrace.report.files import write_atomic
from leaktrace.report.verify_terminal import as_of_line
from leaktrace.report.verify_words import tampered_lines
from leaktrace.verify.forgery import Signal
from leaktrace.verify.result import VerifyReport

W = 640
CSS = """
body{font-family:system-ui,'PingFang SC','Microsoft YaHei',sans-serif;margin:2em auto;max-width:760px;color:#222}
h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.6em}.verdict{font-size:1.3em;font-weight:bold}
table{border-collapse:collapse}td,th{padding:2px 10px;text-align:right}td:first-child,th:first-child{text-align:left}
.flag{color:#b00;font-weight:bold}.muted{color:#777}
"""


def _e(x: object) -> str:
    return html.escape(str(x))


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f}%"


def _field_bars(report: VerifyReport) -> str:
    rows = [f for f in report.fields if f.compared]
    if not rows:
        return "<p class=muted>No linked records to compare.</p>"
    h = 26 * len(rows) + 20
    out = [f'<svg width="{W}" height="{h}" role="img" aria-label="match rate by field">']
    for i, f in enumerate(rows):
        y = 10 + 26 * i
        cur, hist = f.current / f.compared, f.historical / f.compared
        x0 = 120
        span = W - x0 - 70
        out.append(f'<text x="0" y="{y + 14}" font-size="13">{_e(f.label)}</text>')
        out.append(f'<rect x="{x0}" y="{y}" width="{span}" height="18" fill="#eee"/>')
        out.append(f'<rect x="{x0}" y="{y}" width="{span * cur:.1f}" height="18" fill="#2a7"/>')
        out.append(
            f'<rect x="{x0 + span * cur:.1f}" y="{y}" width="{span * hist:.1f}" height="18" fill="#e90"/>'
        )
        out.append(
            f'<text x="{x0 + span + 6}" y="{y + 14}" font-size="12">{_pct(f.agree_rate)}</text>'
        )
    out.append("</svg>")
    legend = (
        '<p class=muted><span style="color:#2a7">■</span> current value '
        '<span style="color:#e90">■</span> an earlier value <span style="color:#bbb">■</span> disagrees</p>'
    )
    return "".join(out) + legend


def _timeline(report: VerifyReport) -> str:
    s = report.snapshot
    if s is None:
        return "<p class=muted>Too few dated agreements to estimate when the data was taken.</p>"
    end = report.master_as_of or s.high
    start = min(s.low, end) - dt.timedelta(days=180)
    stop = max(end, s.high) + dt.timedelta(days=60)
    span = (stop - start).days or 1

    def x(d: dt.date) -> float:
        return 20 + (W - 40) * (d - start).days / span

    out = [f'<svg width="{W}" height="80" role="img" aria-label="snapshot date estimate">']
    out.append(f'<line x1="20" y1="40" x2="{W - 20}" y2="40" stroke="#999"/>')
    out.append(
        f'<rect x="{x(s.low):.1f}" y="30" width="{max(2.0, x(s.high) - x(s.low)):.1f}" height="20" fill="#fc8" opacity="0.8"/>'
    )
    out.append(f'<circle cx="{x(s.date):.1f}" cy="40" r="6" fill="#c40"/>')
    out.append(
        f'<text x="{x(s.date):.1f}" y="20" font-size="12" text-anchor="middle">{s.date}</text>'
    )
    if report.master_as_of:
        xa = x(report.master_as_of)
        out.append(
            f'<line x1="{xa:.1f}" y1="28" x2="{xa:.1f}" y2="52" stroke="#333" stroke-width="2"/>'
        )
        out.append(
            f'<text x="{xa:.1f}" y="68" font-size="11" text-anchor="middle">master {report.master_as_of}</text>'
        )
    out.append(f'<text x="20" y="68" font-size="11">{start}</text></svg>')
    return "".join(out)


def _signals(report: VerifyReport) -> str:
    sig = [s for s in report.signals if s.value is not None]
    if not sig:
        return "<p class=muted>No signal measurable.</p>"
    h = 30 * len(sig) + 20
    x0, span = 280, W - 280 - 60
    out = [f'<svg width="{W}" height="{h}" role="img" aria-label="signals against genuine ranges">']
    for i, s in enumerate(sig):
        y = 10 + 30 * i
        colour = "#c22" if s.flagged else "#246"
        out.append(f'<text x="0" y="{y + 14}" font-size="11">{_e(s.label[:46])}</text>')
        out.append(f'<rect x="{x0}" y="{y + 4}" width="{span}" height="10" fill="#eee"/>')
        out.append(
            f'<rect x="{x0 + span * s.expected_low:.1f}" y="{y + 4}" '
            f'width="{max(1.0, span * (s.expected_high - s.expected_low)):.1f}" height="10" fill="#bdb"/>'
        )
        out.append(
            f'<circle cx="{x0 + span * float(s.value):.1f}" cy="{y + 9}" r="5" fill="{colour}"/>'
        )
        out.append(
            f'<text x="{x0 + span + 6}" y="{y + 14}" font-size="11" fill="{colour}">{_pct(s.value)}</text>'
        )
    out.append("</svg>")
    return (
        "".join(out)
        + '<p class=muted><span style="color:#8b8">■</span> genuine range, ● observed (red: flagged)</p>'
    )


def _signal_table(signals: list[Signal]) -> str:
    rows = "".join(
        f"<tr><td>{_e(s.label)}</td><td>{_pct(s.value)}</td><td>{_pct(s.expected_low)}–{_pct(s.expected_high)}</td>"
        f"<td>{'—' if s.p_value is None else f'{s.p_value:.2g}'}</td><td>{s.n:,}</td>"
        f"<td class=flag>{'FLAG' if s.flagged else ''}</td></tr>"
        for s in signals
    )
    return f"<table><tr><th>signal</th><th>value</th><th>genuine</th><th>p</th><th>n</th><th></th></tr>{rows}</table>"


def render_html(report: VerifyReport) -> str:
    """The report as one HTML document."""
    v = report.verdict
    shares = "".join(
        f"<li>{_e(k.replace('_', ' '))}: {_pct(s.value)} (95% CI {_pct(s.low)}–{_pct(s.high)}, {s.records:,} records)</li>"
        for k, s in v.shares.items()
    )
    reasons = "".join(f"<li>{_e(r)}</li>" for r in v.reasons)
    tampered = ""
    if v.tampered:
        en, zh = tampered_lines(v.tampered)
        tampered = f"<p class=flag>{_e(en)}</p><p class=flag lang=zh>{_e(zh)}</p>"
    linked = ""
    if report.linkage:
        lk = report.linkage
        linked = (
            f"<p>{lk.linked:,} of {report.records:,} records linked to {len(report.customers):,} customers "
            f"({lk.exact:,} exact on a strong identifier, {lk.probabilistic:,} probabilistic).</p>"
        )
    parts = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        f"<title>leaktrace verify: {_e(Path(report.leak).name)}</title><style>{CSS}</style></head><body>",
        f"<h1>Verification of {_e(Path(report.leak).name)}</h1>",
        f"<p class=verdict>Verdict: {_e(v.label.value.replace('_', ' '))}"
        + (f" (as of about {v.stale_as_of})" if v.stale_as_of else "")
        + "</p>",
        f"<ul>{shares}</ul>{tampered}<ul class=muted>{reasons}</ul>",
        linked,
    ]
    if report.master:
        parts += ["<h2>Match rate by field</h2>", _field_bars(report)]
        parts += ["<h2>When was the data taken?</h2>", _timeline(report)]
        parts.append(f"<p class=muted>{_e(as_of_line(report) or '')}</p>")
    if report.tamper_signals:
        parts += [
            "<h2>Tampering: linked records against our values</h2>",
            _signal_table(report.tamper_signals),
        ]
    parts += ["<h2>Forgery signals</h2>", _signals(report), _signal_table(report.signals)]
    parts.append(
        f"<p class=muted>engine {_e(report.engine)} · {report.records:,} records · generated {dt.date.today()}</p>"
    )
    parts.append("</body></html>")
    return "\n".join(parts)


def write_html(report: VerifyReport, path: Path) -> Path:
    """Write the report to ``path`` atomically (temporary file, then rename)."""
    return write_atomic(Path(path), render_html(report))
