"""A scan as one self-contained HTML page (inline CSS and SVG, nothing fetched), masked values
only, written atomically."""

from __future__ import annotations

from html import escape

from leaktrace.pii import KINDS
from leaktrace.scan.result import ScanResult

_CSS = """
body{font-family:system-ui,'Noto Sans CJK SC',sans-serif;margin:2rem auto;max-width:72rem;color:#222}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}
table{border-collapse:collapse;width:100%}th,td{padding:.35rem .6rem;border-bottom:1px solid #ddd;
text-align:left;vertical-align:top}td.n{text-align:right;font-variant-numeric:tabular-nums}
.muted{color:#777}.warn{color:#a15c00}code{font-size:.9em}
"""

_BAR_W = 220


def _bar(valid: int, invalid: int, masked: int) -> str:
    """A stacked bar: valid (green), masked (grey), invalid (red)."""
    total = valid + invalid + masked
    if not total:
        return ""
    x = 0.0
    parts = []
    for n, colour, label in (
        (valid, "#2e8b57", "valid"),
        (masked, "#9e9e9e", "masked"),
        (invalid, "#c0392b", "invalid"),
    ):
        w = _BAR_W * n / total
        if w:
            parts.append(
                f'<rect x="{x:.1f}" y="0" width="{w:.1f}" height="14" fill="{colour}">'
                f"<title>{label}: {n:,}</title></rect>"
            )
        x += w
    return f'<svg width="{_BAR_W}" height="14" role="img">{"".join(parts)}</svg>'


def render_scan_html(result: ScanResult, title: str = "leaktrace scan") -> str:
    """The page: what was found per kind (with a validity bar), per source, and the problems."""
    rows = []
    for name, st in result.kinds.items():
        reasons, flags = (
            ", ".join(f"{escape(r)} {n:,}" for r, n in counts.most_common(4) if r != "masked")
            for counts in (st.reasons, st.flags)
        )
        validity = "—" if st.validity is None else f"{100 * st.validity:.1f}%"
        rows.append(
            f"<tr><td>{escape(KINDS[name].label)}</td><td class=n>{st.found:,}</td>"
            f"<td class=n>{st.valid:,}</td><td class=n>{st.invalid:,}</td>"
            f"<td class=n>{st.masked:,}</td><td class=n>{validity}</td>"
            f"<td>{_bar(st.valid, st.invalid, st.masked)}</td><td>{reasons}</td><td>{flags}</td>"
            f"<td><code>{escape('  '.join(st.samples))}</code></td></tr>"
        )
    sources = []
    problems = []
    for src in result.sources:
        cols = "; ".join(
            f"{escape(c.name)} → {escape(c.kind)}"
            for table in src.columns.values()
            for c in table
            if c.kind
        )
        sources.append(
            f"<tr><td>{escape(src.path)}</td><td>{escape(src.format)}</td>"
            f"<td>{escape(src.encoding or '—')}</td><td class=n>{src.records:,}</td>"
            f"<td class=n>{src.rows_skipped:,}</td><td>{cols or 'free text'}</td></tr>"
        )
        problems += [
            f"<li>{escape(p['place'])}: expected {escape(p['expected'])}</li>" for p in src.problems
        ]
    found = (
        "<table><tr><th>kind</th><th>found</th><th>valid</th><th>invalid</th><th>masked</th>"
        "<th>validity</th><th></th><th>why invalid</th><th>flagged (valid)</th>"
        "<th>samples (masked)</th></tr>" + "".join(rows) + "</table>"
        if rows
        else "<p class=warn>No personal identifiers found.</p>"
    )
    return (
        f"<!doctype html><html lang=zh><meta charset=utf-8><title>{escape(title)}</title>"
        f"<style>{_CSS}</style><h1>{escape(title)}</h1>"
        f"<p>{len(result.sources)} file(s), {result.bytes_read / 1e6:,.2f} MB, "
        f"{result.records:,} records, scanned in {result.seconds:.1f} s.</p>"
        f"<h2>Identifiers</h2>{found}"
        "<p class=muted>Bars: valid (green), masked (grey), invalid (red). Valid means the "
        "identifier passes its standard's rules; flagged values are valid but implausible (a "
        "resident ID holder over 110 years old) and counted apart.</p>"
        "<h2>Sources</h2><table><tr><th>file</th><th>format</th><th>encoding</th>"
        "<th>records</th><th>skipped</th><th>columns</th></tr>"
        + "".join(sources)
        + "</table>"
        + (f"<h2>Problems</h2><ul class=warn>{''.join(problems)}</ul>" if problems else "")
        + "</html>"
    )
