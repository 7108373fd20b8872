"""The verify report's plots as inline SVG, each in a ``<figure>`` with a legend naming exactly
the colours drawn: the match rate by field (``#fields``), the snapshot-date estimate on a dated
axis (``#timeline``) and the forgery signals against their genuine ranges (``#signals``, a
signal with nothing to measure shown as such). Labels are wrapped or abbreviated, never cut."""

from __future__ import annotations

import datetime as dt

from leaktrace.i18n import _
from leaktrace.report.svg import el, esc, label, svg_open, text_width
from leaktrace.report.verify_words import field_label, pct, signal_label
from leaktrace.verify.forgery import Signal
from leaktrace.verify.result import VerifyReport

W = 720
CURRENT, EARLIER, DISAGREES = "#2a7f4f", "#e08a00", "#b0b0b0"
WINDOW, ESTIMATE, MASTER = "#f6c27a", "#c0392b", "#333333"
GENUINE, OBSERVED, FLAGGED = "#a8d5a2", "#1f4e8c", "#c62828"


def _legend(items: list[tuple[str, str, str]], note: str = "") -> str:
    """A legend of (colour, symbol, text) items, in the order given, and a ``note``."""
    spans = "".join(
        f'<span data-colour="{c}"><span style="color:{c}" aria-hidden="true">{sym}</span> '
        f"{esc(text)}</span>"
        for c, sym, text in items
    )
    if note:
        spans += f'<span class="note">{esc(note)}</span>'
    return f'<figcaption class="legend muted">{spans}</figcaption>'


def _label_width(texts: list[str], size: float, cap: float) -> float:
    """The width of a label column: the widest label, at most ``cap`` (wider ones wrap)."""
    return min(cap, max((text_width(t, size) for t in texts), default=0.0)) + 8


def field_bars(report: VerifyReport) -> str:
    """Per field, the shares of linked records holding our current value, an earlier value, or
    neither, with the agree rate beside the bar; a field with no value to compare says so."""
    rows = report.fields
    if not any(f.compared for f in rows):
        return el("p", _("No linked records to compare."), 'id="fields" class="muted"')
    labels = [field_label(f.field) for f in rows]
    lw = _label_width(labels, 13, 180)
    nothing = _("nothing to compare")
    right = max(text_width(t, 12) for t in [nothing, *(pct(f.agree_rate) for f in rows)]) + 12
    x0, span = lw, W - lw - right
    row_h = 34
    out = [svg_open(W, row_h * len(rows) + 8, _("Match rate by field"))]
    drawn: set[str] = set()
    for i, (f, name) in enumerate(zip(rows, labels, strict=True)):
        y = 4 + row_h * i
        out.append(label(name, 0, y + 14, lw - 8, 13))
        if not f.compared:
            out.append(
                f'<rect x="{x0:.1f}" y="{y}" width="{span:.1f}" height="20" fill="none" '
                f'stroke="#ccc" stroke-dasharray="4 3"/>'
                f'<text x="{x0 + span + 6:.1f}" y="{y + 15}" font-size="12" fill="#777">'
                f"{esc(nothing)}</text>"
            )
            continue
        x = x0
        for n, colour, what in (
            (f.current, CURRENT, _("current value")),
            (f.historical, EARLIER, _("an earlier value")),
            (f.disagrees, DISAGREES, _("disagrees")),
        ):
            if not n:
                continue
            w = span * n / f.compared
            drawn.add(colour)
            out.append(
                f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="20" fill="{colour}">'
                f"<title>{esc(name)}: {esc(what)} {n:,}</title></rect>"
            )
            x += w
        out.append(
            f'<text x="{x0 + span + 6:.1f}" y="{y + 15}" font-size="12">{pct(f.agree_rate)}</text>'
        )
    out.append("</svg>")
    legend = [
        (c, "■", text)
        for c, text in (
            (CURRENT, _("our current value")),
            (EARLIER, _("an earlier value of ours")),
            (DISAGREES, _("neither (disagrees)")),
        )
        if c in drawn
    ]
    note = _("the percentage is the share agreeing with a current or an earlier value")
    return f'<figure id="fields">{"".join(out)}{_legend(legend, note)}</figure>'


def ticks(start: dt.date, stop: dt.date) -> list[dt.date]:
    """Dates to mark on an axis from ``start`` to ``stop``: first days of years (every one,
    two, five… so at most eight) over spans of two years or more, of months otherwise."""
    days = (stop - start).days
    if days >= 730:
        step = next(s for s in (1, 2, 5, 10, 20, 50) if (stop.year - start.year) / s <= 8)
        first = (start.year // step + 1) * step
        return [dt.date(y, 1, 1) for y in range(first, stop.year + 1, step)]
    months = (stop.year - start.year) * 12 + stop.month - start.month
    step = next(s for s in (1, 2, 3, 6) if months / s <= 8)
    out = []
    m = start.year * 12 + start.month - 1 + 1  # the first of the month after start
    m += (-m) % step
    while True:
        d = dt.date(m // 12, m % 12 + 1, 1)
        if d > stop:
            return out
        out.append(d)
        m += step


def _tick_text(d: dt.date, yearly: bool) -> str:
    return str(d.year) if yearly else f"{d.year}-{d.month:02d}"


def _anchored(x: float, text: str, size: float, lo: float, hi: float) -> tuple[float, str]:
    """Where and how to anchor a label centred on ``x`` so it stays within ``[lo, hi]``."""
    half = text_width(text, size) / 2
    if x - half < lo:
        return lo, "start"
    if x + half > hi:
        return hi, "end"
    return x, "middle"


def timeline(report: VerifyReport) -> str:
    """The snapshot-date estimate: the window of likely dates, the estimate and the master's
    date on an axis with dated ticks."""
    s = report.snapshot
    if s is None:
        text = _("Too few dated agreements to estimate when the data was taken.")
        return el("p", text, 'id="timeline" class="muted"')
    end = report.master_as_of or s.high
    start = min(s.low, end) - dt.timedelta(days=180)
    stop = max(end, s.high) + dt.timedelta(days=60)
    span = (stop - start).days or 1
    pad = 12

    def x(d: dt.date) -> float:
        return pad + (W - 2 * pad) * (d - start).days / span

    axis_y = 62
    out = [svg_open(W, 104, _("When was the data taken?"))]
    out.append(f'<line x1="{pad}" y1="{axis_y}" x2="{W - pad}" y2="{axis_y}" stroke="#999"/>')
    yearly = (stop - start).days >= 730
    for d in ticks(start, stop):
        xt = x(d)
        out.append(
            f'<line x1="{xt:.1f}" y1="{axis_y}" x2="{xt:.1f}" y2="{axis_y + 6}" stroke="#999"/>'
        )
        tx, anchor = _anchored(xt, _tick_text(d, yearly), 11, 0, W)
        out.append(
            f'<text class="tick" x="{tx:.1f}" y="{axis_y + 20}" font-size="11" '
            f'text-anchor="{anchor}" fill="#555">{_tick_text(d, yearly)}</text>'
        )
    lo, hi = x(s.low), x(s.high)
    window = _("likely window {low} – {high}").format(low=s.low, high=s.high)
    out.append(
        f'<rect x="{lo:.1f}" y="{axis_y - 10}" width="{max(2.0, hi - lo):.1f}" height="20" '
        f'fill="{WINDOW}" opacity="0.85"><title>{esc(window)}</title></rect>'
    )
    est = _("estimate {date}").format(date=s.date)
    out.append(
        f'<circle cx="{x(s.date):.1f}" cy="{axis_y}" r="6" fill="{ESTIMATE}">'
        f"<title>{esc(est)}</title></circle>"
    )
    tx, anchor = _anchored(x(s.date), est, 12, 0, W)
    out.append(
        f'<text x="{tx:.1f}" y="{axis_y - 18}" font-size="12" text-anchor="{anchor}">'
        f"{esc(est)}</text>"
    )
    legend = [(WINDOW, "■", _("likely window")), (ESTIMATE, "●", _("estimated date"))]
    if report.master_as_of:
        xa = x(report.master_as_of)
        master = _("master data {date}").format(date=report.master_as_of)
        out.append(
            f'<line x1="{xa:.1f}" y1="{axis_y - 14}" x2="{xa:.1f}" y2="{axis_y + 14}" '
            f'stroke="{MASTER}" stroke-width="2"/>'
        )
        tx, anchor = _anchored(xa, master, 12, 0, W)
        out.append(
            f'<text x="{tx:.1f}" y="16" font-size="12" text-anchor="{anchor}">{esc(master)}</text>'
        )
        legend.append((MASTER, "┃", _("date of the master data")))
    out.append("</svg>")
    return f'<figure id="timeline">{"".join(out)}{_legend(legend)}</figure>'


def signals_plot(signals: list[Signal]) -> str:
    """Each signal's observed value (a dot) against the range genuine data falls in (a green
    band) on a 0–100% scale; a signal with nothing to measure says "not measurable"."""
    if not signals:
        return el("p", _("No signal measurable."), 'id="signals" class="muted"')
    size = 13
    labels = [signal_label(s) for s in signals]
    lw = 300.0
    flag_word, unmeasured, genuine = _("flagged"), _("not measurable"), _("genuine range")
    right = max(text_width("100.0% " + flag_word, size), text_width(_("not measurable"), size))
    x0, span = lw + 8, W - lw - 8 - right - 12
    row_h = 40
    out = [svg_open(W, row_h * len(signals) + 8, _("Forgery signals"))]
    drawn: set[str] = set()
    for i, (s, name) in enumerate(zip(signals, labels, strict=True)):
        y = 4 + row_h * i
        out.append(label(name, 0, y + 13, lw, size))
        if s.value is None or s.n == 0:
            out.append(
                f'<rect x="{x0:.1f}" y="{y + 6}" width="{span:.1f}" height="10" fill="none" '
                f'stroke="#ccc" stroke-dasharray="4 3"/>'
            )
            out.append(
                f'<text x="{x0 + span + 8:.1f}" y="{y + 15}" font-size="{size}" fill="#777">'
                f"{esc(unmeasured)}</text>"
            )
            continue
        drawn.add(GENUINE)
        out.append(  # the 0–100% scale
            f'<line x1="{x0:.1f}" y1="{y + 11}" x2="{x0 + span:.1f}" y2="{y + 11}" stroke="#ccc"/>'
        )
        band = f"{pct(s.expected_low)}–{pct(s.expected_high)}"
        out.append(
            f'<rect x="{x0 + span * s.expected_low:.1f}" y="{y + 6}" '
            f'width="{max(1.0, span * (s.expected_high - s.expected_low)):.1f}" height="10" '
            f'fill="{GENUINE}"><title>{esc(genuine)} {band}</title></rect>'
        )
        colour = FLAGGED if s.flagged else OBSERVED
        drawn.add(colour)
        value = pct(s.value) + (" " + flag_word if s.flagged else "")
        out.append(
            f'<circle cx="{x0 + span * min(1.0, max(0.0, s.value)):.1f}" cy="{y + 11}" r="5" '
            f'fill="{colour}"><title>{esc(name)}: {pct(s.value)} (n = {s.n:,})</title></circle>'
        )
        weight = ' font-weight="bold"' if s.flagged else ""
        out.append(
            f'<text x="{x0 + span + 8:.1f}" y="{y + 15}" font-size="{size}" fill="{colour}"'
            f"{weight}>{esc(value)}</text>"
        )
    out.append("</svg>")
    legend = [
        (c, sym, text)
        for c, sym, text in (
            (GENUINE, "■", _("range of genuine data")),
            (OBSERVED, "●", _("observed value")),
            (FLAGGED, "●", _("observed value, flagged")),
        )
        if c in drawn
    ]
    return f'<figure id="signals">{"".join(out)}{_legend(legend)}</figure>'
