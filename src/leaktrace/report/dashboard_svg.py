"""The regulator's dashboard as plots a person would rather look at than read: reports and people
affected by month, horizontal bars (causes, institutions, grades), the hours from discovery to
the first report against the deadlines, and a board of the reports due. Each takes plain data
and a language and returns an ``<svg>`` (the board: a ``<table>``) with its title and its
legend inside; labels are wrapped or cut with "…" to stay in their plot; no data gives a small
"no reports yet" plot."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

from leaktrace.i18n import _, language, using
from leaktrace.report.breach_html import state_html
from leaktrace.report.breach_words import hours_text, local_time
from leaktrace.report.svg import el, esc, label, svg_open, text_width, wrap

W = 720
BAR, LINE, MARK, GRID, AXIS = "#1f4e8c", "#c0392b", "#b71c1c", "#e4e4e4", "#444444"
TITLE_SIZE, SIZE, SMALL = 14, 12, 11
#: Edges (hours) of the response-time bins besides the deadlines: half an hour to a month.
RESPONSE_EDGES = (0.5, 1, 2, 4, 8, 24, 72, 168, 720)
XMLNS = "http://www.w3.org/2000/svg"


def _open(height: float, title: str) -> str:
    """The plot's ``<svg>``, with its namespace: a plot is also served as a file of its own."""
    return svg_open(W, height, title).replace("<svg ", f'<svg xmlns="{XMLNS}" ', 1)


def _nothing() -> str:
    return _("no reports yet")


def _head(title: str) -> str:
    """The plot's visible title, bold, on one line (cut with "…", whole in its tooltip, past
    the plot's width)."""
    line = wrap(title, W - 16, TITLE_SIZE, lines=1)[0]
    tip = el("title", title) if line != title else ""
    return f'<text x="8" y="18" font-size="{TITLE_SIZE}" font-weight="bold">{tip}{esc(line)}</text>'


def _empty(title: str) -> str:
    """A small plot saying there is nothing to draw yet."""
    return (
        _open(56, title)
        + _head(title)
        + f'<text x="8" y="44" font-size="{SIZE}" fill="#666">{esc(_nothing())}</text></svg>'
    )


def _step(top: float) -> float:
    """A round step (1, 2 or 5 × 10ⁿ) dividing 0..``top`` into at most five parts."""
    raw = max(top, 1) / 5
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def _count_axis(top: int) -> list[float]:
    """Round tick values from 0 up to at least ``top`` (whole numbers: counts)."""
    step = max(_step(top), 1)
    n = math.ceil(max(top, 1) / step)
    return [i * step for i in range(n + 1)]


def _count(n: float) -> str:
    return f"{round(n):,}"


def _people(n: float) -> str:
    """A round number of people the short way: 10万 / 100k."""
    units = ((1e8, "亿"), (1e4, "万")) if language() == "zh" else ((1e6, "M"), (1e3, "k"))
    for scale, unit in units:
        if n >= scale:
            return f"{n / scale:g}{unit}"
    return f"{n:g}"


def _deadline(hours: float) -> str:
    """A deadline in hours, as the rules state it (72 h, not 3 d)."""
    return _("{n} h").format(n=f"{hours:g}")


def _legend(items: Sequence[tuple[str, str, str]], x: float, y: float) -> str:
    """A one-line legend of (colour, symbol, text) at (x, y), right-aligned at x."""
    out, right = [], x
    for colour, symbol, text in reversed(items):
        out.append(
            f'<text x="{right:.1f}" y="{y}" font-size="{SMALL}" text-anchor="end">'
            f'<tspan fill="{colour}">{symbol}</tspan> {esc(text)}</text>'
        )
        right -= text_width(f"{symbol} {text}", SMALL) + 16
    return "".join(out)


def breaches_over_time(months: Sequence[Mapping[str, object]], *, lang: str) -> str:
    """Reports filed per month (bars, left axis) and people affected (line, right axis on a
    log scale, so a month of millions does not flatten the others)."""
    with using(lang):
        return _over_time(months)


def _over_time(months: Sequence[Mapping[str, object]]) -> str:
    title = _("Breach reports per month")
    if not months:
        return _empty(title)
    counts = [int(m["count"]) for m in months]
    people = [int(m["people"]) for m in months]
    ticks = _count_axis(max(counts))
    decades = max(1, math.ceil(math.log10(max(max(people), 1))))
    left = max(text_width(_count(t), SMALL) for t in ticks) + 14
    right = max(text_width(_people(10**d), SMALL) for d in range(decades + 1)) + 14
    top, plot_h, h = 48, 200, 300
    plot_w = W - left - right
    base = top + plot_h
    slot = plot_w / len(months)

    def y_count(n: float) -> float:
        return base - plot_h * n / ticks[-1]

    def y_people(n: int) -> float:
        return base - plot_h * math.log10(max(n, 1)) / decades

    out = [_open(h, title), _head(title)]
    out.append(
        _legend(
            [
                (BAR, "■", _("reports filed")),
                (LINE, "●", _("people affected (log scale, right)")),
            ],
            W - 8,
            36,
        )
    )
    for t in ticks:
        y = y_count(t)
        out.append(
            f'<line x1="{left}" x2="{W - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="{SMALL}" text-anchor="end" '
            f'fill="{BAR}">{_count(t)}</text>'
        )
    for d in range(decades + 1):
        y = y_people(10**d)
        out.append(
            f'<text x="{W - right + 6}" y="{y + 4:.1f}" font-size="{SMALL}" fill="{LINE}">'
            f"{esc(_people(10**d))}</text>"
        )
    every = math.ceil((text_width("2026-07", SMALL) + 8) / slot)
    points = []
    for i, m in enumerate(months):
        x = left + slot * i
        y = y_count(counts[i])
        tip = _("{month}: {n} reports, {people} people affected").format(
            month=m["month"], n=f"{counts[i]:,}", people=f"{people[i]:,}"
        )
        out.append(
            f'<rect x="{x + slot * 0.2:.1f}" y="{y:.1f}" width="{slot * 0.6:.1f}" '
            f'height="{base - y:.1f}" fill="{BAR}">{el("title", tip)}</rect>'
        )
        if i % every == 0:
            out.append(
                f'<text x="{x + slot / 2:.1f}" y="{base + 16}" font-size="{SMALL}" '
                f'text-anchor="middle">{esc(m["month"])}</text>'
            )
        points.append((x + slot / 2, y_people(people[i]), tip))
    out.append(
        f'<polyline fill="none" stroke="{LINE}" stroke-width="2" points="'
        + " ".join(f"{x:.1f},{y:.1f}" for x, y, _tip in points)
        + '"/>'
    )
    out += [
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{LINE}">{el("title", tip)}</circle>'
        for x, y, tip in points
    ]
    out.append(
        f'<line x1="{left}" x2="{W - right}" y1="{base}" y2="{base}" stroke="{AXIS}"/></svg>'
    )
    return "".join(out)


def bars(items: Sequence[tuple[str, int]], title: str, *, lang: str) -> str:
    """Horizontal bars of (label, count), in the order given: causes, institutions, grades.
    Long labels wrap onto two lines, then end in "…" with the whole label as a tooltip."""
    with using(lang):
        return _bars(items, title)


def _bars(items: Sequence[tuple[str, int]], title: str) -> str:
    if not items:
        return _empty(title)
    lw = min(240.0, max(text_width(name, SIZE) for name, _n in items)) + 8
    values = [_count(n) for _name, n in items]
    vw = max(text_width(v, SMALL) for v in values) + 10
    top, row_h = 34, 34
    span = W - lw - vw - 16
    most = max(max(n for _name, n in items), 1)
    out = [_open(top + row_h * len(items) + 4, title), _head(title)]
    for i, ((name, n), shown) in enumerate(zip(items, values, strict=True)):
        y = top + row_h * i
        w = span * n / most
        lines = 2 if text_width(name, SIZE) > lw - 8 else 1
        out.append(label(name, 8, y + (12 if lines == 2 else 19), lw - 8, SIZE))
        out.append(
            f'<rect x="{lw + 8:.1f}" y="{y + 6}" width="{max(w, 1):.1f}" height="20" '
            f'fill="{BAR}"><title>{esc(name)}: {shown}</title></rect>'
            f'<text x="{lw + 12 + max(w, 1):.1f}" y="{y + 20}" font-size="{SMALL}">{shown}</text>'
        )
    return "".join(out) + "</svg>"


def response_times(
    hours: Iterable[float], marks: Sequence[float] = (1, 2, 4, 72), *, lang: str
) -> str:
    """A histogram of the hours from discovery to the first report, bins doubling from half an
    hour to a month, with each deadline in ``marks`` drawn, named and counted below (the share
    of reports made within it)."""
    with using(lang):
        return _response(sorted(max(float(h), 0.0) for h in hours), marks)


def _response(hours: list[float], marks: Sequence[float]) -> str:
    title = _("Hours from discovery to the first report")
    if not hours:
        return _empty(title)
    reach = max(hours[-1], *marks)
    edges = sorted(set(RESPONSE_EDGES) | set(marks))
    # up to the first edge past the slowest report; beyond the last edge, one open bin
    edges = [e for i, e in enumerate(edges) if i == 0 or edges[i - 1] < reach]
    bins = len(edges) + (1 if edges[-1] < reach else 0)
    counts = [0] * bins  # [0, e0), [e0, e1), …
    for h in hours:
        counts[min(sum(1 for e in edges if h >= e), bins - 1)] += 1
    ticks = _count_axis(max(counts))
    left = max(text_width(_count(t), SMALL) for t in ticks) + 14
    top, plot_h, right = 62, 180, 24
    base = top + plot_h
    slot = (W - left - right) / bins

    def y_count(n: float) -> float:
        return base - plot_h * n / ticks[-1]

    out = [_open(base + 62, title), _head(title)]
    out.append(_legend([(BAR, "■", _("reports")), (MARK, "┆", _("deadline"))], W - 8, 36))
    for t in ticks:
        y = y_count(t)
        out.append(
            f'<line x1="{left}" x2="{W - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="{SMALL}" text-anchor="end">'
            f"{_count(t)}</text>"
        )
    bounds = ["0"] + [hours_text(e) for e in edges]
    for i, n in enumerate(counts):
        y = y_count(n)
        upper = bounds[i + 1] if i + 1 < len(bounds) else "∞"
        out.append(
            f'<rect x="{left + slot * i + 2:.1f}" y="{y:.1f}" width="{slot - 4:.1f}" '
            f'height="{base - y:.1f}" fill="{BAR}">'
            + el("title", f"{bounds[i]} – {upper}: {n:,}")
            + "</rect>"
        )
    for i, text in enumerate(bounds):
        out.append(
            f'<text x="{left + slot * i:.1f}" y="{base + 15}" font-size="{SMALL}" '
            f'text-anchor="{"start" if i == 0 else "middle"}">{esc(text)}</text>'
        )
    for m in marks:
        x = left + slot * (edges.index(m) + 1)
        out.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top - 4}" y2="{base}" stroke="{MARK}" '
            f'stroke-width="1.5" stroke-dasharray="4 3"/>'
            f'<text x="{x:.1f}" y="{top - 7}" font-size="{SMALL}" fill="{MARK}" '
            f'text-anchor="middle">{esc(_deadline(m))}</text>'
        )
    within = "  ·  ".join(
        _("within {span}: {share}").format(
            span=_deadline(m), share=f"{sum(1 for h in hours if h <= m) / len(hours):.0%}"
        )
        for m in marks
    )
    summary = _("First reports made {within} (of {n}).").format(within=within, n=len(hours))
    out.append(label(summary, 8, base + 38, W - 16, SMALL))
    return "".join(out) + "</svg>"


def deadline_board(items: Sequence[Mapping[str, object]], *, lang: str) -> str:
    """The reports whose clocks are due or overdue, in the order given, as a small table:
    state (symbol, word and colour), when due (Asia/Shanghai), report and institution."""
    with using(lang):
        if not items:
            return el("p", _nothing(), 'class="muted dashboard_table"')
        heads = (_("State"), _("Due"), _("Report"), _("Institution"))
        rows = [
            "<tr>"
            + f"<td>{state_html(str(i['state']))}</td>"
            + el("td", local_time(str(i["due_at"])) if i.get("due_at") else "—")
            + el("td", str(i["title"]), 'style="overflow-wrap:anywhere"')
            + el("td", str(i["institution"]), 'style="overflow-wrap:anywhere"')
            + "</tr>"
            for i in items
        ]
        return (
            '<table class="dashboard_table" style="width:100%">'
            + "<tr>"
            + "".join(el("th", h) for h in heads)
            + "</tr>"
            + "".join(rows)
            + "</table>"
        )
