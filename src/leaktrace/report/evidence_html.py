"""The evidence trail as an HTML block (``<section id="evidence">``) for the scan and verify
reports: what was analysed (names, sizes, SHA-256 of the files and archive members), against
which master and history, by which tool and parameters, when and where. Long values (hashes,
paths) wrap anywhere instead of widening the page; hashes are in a monospace font."""

from __future__ import annotations

from html import escape
from typing import Any

from leaktrace.evidence import Evidence, FileDigest, SourceEvidence
from leaktrace.i18n import N_, _, ngettext

MEMBERS_SHOWN = 200  # members listed per archive; the JSON has them all
MEMBERS_OPEN = 20  # archives with more members show them collapsed
_CSS = (
    "#evidence dl{display:grid;grid-template-columns:9.5em minmax(0,1fr);gap:.25em 1em;"
    "margin:.5em 0}"
    "#evidence dt{font-weight:600;color:#444;overflow-wrap:anywhere}#evidence dd{margin:0;min-width:0;overflow-wrap:anywhere}"
    "#evidence .hash{font-family:ui-monospace,'DejaVu Sans Mono','Noto Sans Mono',Consolas,monospace;"
    "font-size:.88em;overflow-wrap:anywhere;word-break:break-all}"
    "#evidence table{border-collapse:collapse;width:100%;table-layout:fixed}"
    "#evidence th,#evidence td{text-align:left;padding:2px 6px;vertical-align:top;"
    "overflow-wrap:anywhere;border-bottom:1px solid #eee}"
    "#evidence th:nth-child(2),#evidence td:nth-child(2){width:8em;text-align:right}"
    "#evidence th:nth-child(3),#evidence td:nth-child(3){width:45%}"
    "#evidence h3{font-size:1em;margin:1em 0 .3em}#evidence .muted{color:#777}"
)
# How the master's as-of date was decided (VerifyReport.master_as_of_source).
AS_OF_SOURCES = {
    "given": N_("given by the user"),
    "latest_opening": N_("the latest account opening date in the master"),
    "latest_change": N_("the latest change recorded in the history"),
    "none": N_("not known: the master has no dates to tell"),
}


def _e(x: object) -> str:
    return escape(str(x))


def _row(term: str, value: str, cls: str = "") -> str:
    """A ``<dt>``/``<dd>`` pair; ``value`` is HTML already escaped."""
    attr = f' class="{cls}"' if cls else ""
    return f"<dt>{_e(term)}</dt><dd{attr}>{value}</dd>"


def _size(n: int | None) -> str:
    if n is None:
        return "—"
    return _e(ngettext("{n} byte", "{n} bytes", n).format(n=f"{n:,}"))


def _parameter(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, dict):
        return ", ".join(f"{k}={_parameter(v)}" for k, v in value.items()) or "—"
    if isinstance(value, list):
        return ", ".join(_parameter(v) for v in value) or "—"
    return str(value)


def _parameters(parameters: dict[str, Any]) -> str:
    rows = "".join(
        f"<li><code>{_e(k)}</code>: {_e(_parameter(v))}</li>" for k, v in parameters.items()
    )
    return f'<ul style="margin:0;padding-left:1.2em">{rows}</ul>'


def _members(digest: FileDigest) -> str:
    if not digest.members and not digest.members_note:
        return ""
    member, size = _e(_("member")), _e(_("size"))
    head = f"<tr><th>{member}</th><th>{size}</th><th>SHA-256</th></tr>"
    rows = []
    for m in digest.members[:MEMBERS_SHOWN]:
        not_hashed = _("not hashed: {why}").format(why=m.not_hashed)
        hashed = (
            f'<td class="hash">{_e(m.sha256)}</td>'
            if m.sha256
            else f'<td class="muted">{_e(not_hashed)}</td>'
        )
        rows.append(f"<tr><td>{_e(m.name)}</td><td>{_size(m.size)}</td>{hashed}</tr>")
    more = len(digest.members) - MEMBERS_SHOWN
    notes = []
    if more > 0:
        notes.append(
            ngettext(
                "and {n} more member (all are in the JSON output)",
                "and {n} more members (all are in the JSON output)",
                more,
            ).format(n=f"{more:,}")
        )
    if digest.members_note:
        notes.append(digest.members_note)
    note = "".join(f'<p class="muted">{_e(n)}</p>' for n in notes)
    summary = ngettext(
        "{n} member inside the archive", "{n} members inside the archive", len(digest.members)
    ).format(n=f"{len(digest.members):,}")
    opened = " open" if len(digest.members) <= MEMBERS_OPEN else ""
    return (
        f"<details{opened}><summary>{_e(summary)}</summary>"
        f"<table>{head}{''.join(rows)}</table>{note}</details>"
    )


def _file(digest: FileDigest) -> str:
    sha = f'<span class="hash">{_e(digest.sha256)}</span>' if digest.sha256 else "—"
    return (
        "<dl>"
        + _row(_("File name"), _e(digest.name))
        + _row(_("Path as given"), _e(digest.path))
        + _row(_("Size"), _size(digest.size))
        + _row("SHA-256", sha)
        + "</dl>"
        + _members(digest)
    )


def _source(title: str, src: SourceEvidence) -> str:
    rows = _row(_("Source"), _e(src.place))
    if src.rows is not None:
        rows += _row(_("Rows"), _e(f"{src.rows:,}"))
    if src.as_of_source is not None:
        how = _(AS_OF_SOURCES.get(src.as_of_source, src.as_of_source))
        date = src.as_of.isoformat() if src.as_of else "—"
        rows += _row(_("As of"), _e(_("{date} ({how})").format(date=date, how=how)))
    if src.file is not None:
        rows += _row(_("Size"), _size(src.file.size))
        rows += _row("SHA-256", f'<span class="hash">{_e(src.file.sha256)}</span>')
    return f"<h3>{_e(title)}</h3><dl>{rows}</dl>"


def _time(utc: str, china: str) -> str:
    return _e(_("{china} Beijing time ({utc} UTC)").format(china=china, utc=utc))


def evidence_section(evidence: Evidence) -> str:
    """The evidence trail as an HTML ``<section id="evidence">``, in the language in use."""
    m = evidence.machine
    machine = _("{host} · {os} · Python {python} · {cpus} CPUs").format(
        host=m.hostname, os=m.os, python=m.python, cpus=m.cpus if m.cpus is not None else "?"
    )
    run = (
        _row(_("Tool"), _e(f"{evidence.tool} {evidence.version}"))
        + _row(_("Command"), _e(evidence.command))
        + _row(_("Parameters"), _parameters(evidence.parameters))
        + (_row(_("Engine"), _e(evidence.engine)) if evidence.engine else "")
        + _row(_("Started"), _time(evidence.started, evidence.started_china))
        + _row(_("Ended"), _time(evidence.ended, evidence.ended_china))
        + _row(_("Machine"), _e(machine))
    )
    title = ngettext("Input file", "Input files", len(evidence.inputs))
    none = _e(_("none"))
    files = "".join(_file(d) for d in evidence.inputs) or f'<p class="muted">{none}</p>'
    heading = _e(_("Evidence trail"))
    parts = [
        f'<section id="evidence"><style>{_CSS}</style>',
        f"<h2>{heading}</h2>",
        f"<dl>{run}</dl>",
        f"<h3>{_e(title)}</h3>{files}",
    ]
    if evidence.master is not None:
        parts.append(_source(_("Master data"), evidence.master))
    if evidence.history is not None:
        parts.append(_source(_("History of changes"), evidence.history))
    parts.append("</section>")
    return "".join(parts)
