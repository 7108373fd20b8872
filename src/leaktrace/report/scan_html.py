"""A scan as one self-contained HTML page (inline CSS and SVG, nothing fetched) in the language
in use, masked values only, written atomically."""

from __future__ import annotations

from pathlib import Path

from leaktrace.i18n import _, ngettext, using
from leaktrace.report.evidence_html import evidence_section
from leaktrace.report.files import write_atomic
from leaktrace.report.scan_words import counts_text, kind_label
from leaktrace.report.style import BASE_CSS, lang_tag
from leaktrace.report.svg import el, esc, svg_open
from leaktrace.report.terminal import columns_text, size_text
from leaktrace.scan.result import ScanResult

_BAR_W = 160
VALID, MASKED, INVALID = "#2e8b57", "#9e9e9e", "#c0392b"


def _bar(valid: int, invalid: int, masked: int) -> str:
    """A stacked bar: valid (green), masked (grey), invalid (red), each with its count."""
    total = valid + invalid + masked
    if not total:
        return ""
    x = 0.0
    parts = []
    for n, colour, what in (
        (valid, VALID, _("valid")),
        (masked, MASKED, _("masked")),
        (invalid, INVALID, _("invalid")),
    ):
        w = _BAR_W * n / total
        if w:
            parts.append(
                f'<rect x="{x:.1f}" y="0" width="{w:.1f}" height="14" fill="{colour}">'
                f"<title>{esc(what)}: {n:,}</title></rect>"
            )
        x += w
    return svg_open(_BAR_W, 14, _("validity")) + "".join(parts) + "</svg>"


def render_scan_html(result: ScanResult, title: str | None = None, lang: str | None = None) -> str:
    """The page in ``lang`` (the language in use when None): what was found per kind (with a
    validity bar), per source, and the problems."""
    with using(lang) as now:
        return _render(result, title or _("leaktrace scan"), now)


def _th(*heads: str, numbers: int = 0, after: int = 1) -> str:
    """A header row; the ``numbers`` columns from ``after`` on hold numbers (right-aligned)."""
    return (
        "<tr>"
        + "".join(
            el("th", h, "class=n" if after <= i < after + numbers else "")
            for i, h in enumerate(heads)
        )
        + "</tr>"
    )


def _render(result: ScanResult, title: str, lang: str) -> str:
    # plausibility flags (valid, but e.g. a holder over 110) get a column only when present
    flagged = any(st.flags for st in result.kinds.values())
    rows = []
    for name, st in result.kinds.items():
        validity = "—" if st.validity is None else f"{100 * st.validity:.1f}%"
        rows.append(
            f"<tr><td class=kind>{esc(kind_label(name))}</td><td class=n>{st.found:,}</td>"
            f"<td class=n>{st.valid:,}</td><td class=n>{st.invalid:,}</td>"
            f"<td class=n>{st.masked:,}</td><td class=n>{validity}</td>"
            f"<td>{_bar(st.valid, st.invalid, st.masked)}</td>"
            + el("td", counts_text(st.reasons, 4))
            + (el("td", counts_text(st.flags)) if flagged else "")
            + f"<td><code>{esc('  '.join(st.samples))}</code></td></tr>"
        )
    sources = []
    problems = []
    for src in result.sources:
        sources.append(
            f"<tr><td>{esc(src.path)}</td><td>{esc(src.format)}</td>"
            f"<td>{esc(src.encoding or '—')}</td><td class=n>{src.records:,}</td>"
            f"<td class=n>{src.rows_skipped:,}</td>"
            + el("td", columns_text(src.columns) or _("free text"))
            + "</tr>"
        )
        problems += [
            "<li>"
            + esc(
                _("{place}: expected {expected}").format(
                    place=p["place"], expected=p.get("message", p["expected"])
                )
            )
            + "</li>"
            for p in src.problems
        ]
    heads = (
        _("kind"),
        _("found"),
        _("valid"),
        _("invalid"),
        _("masked"),
        _("validity"),
        _("valid / masked / invalid"),
        _("why invalid"),
        *([_("flagged (valid)")] if flagged else []),
        _("samples (masked)"),
    )
    found = (
        f"<table>{_th(*heads, numbers=5)}{''.join(rows)}</table>"
        if rows
        else el("p", _("No personal identifiers found."), "class=warn")
    )
    n = len(result.sources)
    summary = ngettext(
        "{n} file, {size}, {records} records, scanned in {seconds} s.",
        "{n} files, {size}, {records} records, scanned in {seconds} s.",
        n,
    ).format(
        n=n,
        size=size_text(result.bytes_read),
        records=f"{result.records:,}",
        seconds=f"{result.seconds:.1f}",
    )
    bars = _(
        "Bars: valid (green), masked (grey), invalid (red). Valid means the identifier passes "
        "its standard's rules; flagged values are valid but implausible (a resident ID holder "
        "over 110 years old) and counted apart."
    )
    sources_head = _th(
        _("file"),
        _("format"),
        _("encoding"),
        _("records"),
        _("skipped"),
        _("columns"),
        numbers=2,
        after=3,
    )
    return (
        f"<!doctype html><html lang={lang_tag(lang)}><head><meta charset=utf-8>"
        f"<title>{esc(title)}</title><style>{BASE_CSS}</style></head><body>"
        f"<h1>{esc(title)}</h1><p>{esc(summary)}</p>"
        + el("h2", _("Identifiers"))
        + f"{found}<p class=muted>{esc(bars)}</p>"
        + el("h2", _("Sources"))
        + f"<table>{sources_head}{''.join(sources)}</table>"
        + (el("h2", _("Problems")) + f"<ul class=warn>{''.join(problems)}</ul>" if problems else "")
        + (evidence_section(result.evidence) if result.evidence is not None else "")
        + "</body></html>"
    )


def write_scan_html(result: ScanResult, path: Path, lang: str | None = None) -> Path:
    """Write the scan report to ``path`` atomically (temporary file, then rename)."""
    return write_atomic(Path(path), render_scan_html(result, lang=lang))
