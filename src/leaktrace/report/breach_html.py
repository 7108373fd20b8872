"""One breach report as the regulator and the institution file and print it: a self-contained
HTML page (inline CSS with print rules, no script, nothing fetched) and its PDF. The report comes
as the registry's plain dict; every text in it is the filer's and is escaped and kept apart
from the page's own text (bidi-isolated, wrapped anywhere), a value not stated yet says so."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from leaktrace.i18n import _, language, using
from leaktrace.report.breach_words import (
    AUTHORITIES,
    CAC_FIELDS,
    CODED,
    COUNTS,
    DATA_CATEGORIES,
    FIELDS,
    GRADES,
    PIPL_FIELDS,
    REPORT_KINDS,
    SECTORS,
    STATUSES,
    hours_text,
    instant,
    local_time,
    not_stated,
    state_look,
    word,
)
from leaktrace.report.pdf import render_pdf
from leaktrace.report.style import BASE_CSS, lang_tag
from leaktrace.report.svg import el, esc
from leaktrace.report.terminal import size_text
from leaktrace.report.verdict_words import shown
from leaktrace.verify.verdict import Label

_CSS = """
@page{size:A4}
.v{white-space:pre-wrap;unicode-bidi:isolate}
dd,td,li,h1,.qa p{overflow-wrap:anywhere}
.ns{font-style:italic}
.kicker{margin:0;color:#444}
h1{margin:.2rem 0 .6rem}
dl.facts{display:grid;grid-template-columns:minmax(7rem,max-content) 1fr;gap:.25rem 1rem;
margin:.4rem 0}
dl.facts dt{font-weight:bold}dl.facts dd{margin:0}
.tag{display:inline-block;font-size:.8rem;border:1px solid #999;border-radius:.2rem;
padding:0 .3rem;margin:.1rem .3rem .1rem 0;color:#444}
.grade{font-weight:bold}.override{color:#a15c00}
table.wide{width:100%;table-layout:fixed;font-size:.9rem}
table.wide th{white-space:normal}
.state{font-weight:bold;white-space:normal}
.hash{font-family:ui-monospace,'DejaVu Sans Mono','Noto Sans Mono',Consolas,monospace;
font-size:.85em;word-break:break-all}
.qa{border-left:3px solid #ccc;padding:.1rem .8rem;margin:.8rem 0}
.qa p{margin:.3rem 0}
footer{margin-top:2rem;border-top:1px solid #ccc;padding-top:.4rem;font-size:.85rem}
@media print{
body{margin:0;max-width:none;padding:0;font-size:10.5pt}
h2{break-after:avoid}
tr,.qa,dl.facts dd,dl.facts dt{break-inside:avoid}
#cac{break-before:page}
a{color:inherit;text-decoration:none}
}
"""


def render_breach(view: Mapping[str, Any], lang: str) -> str:
    """Breach report ``view`` (the registry's dict) as one printable HTML document in ``lang``."""
    with using(lang):
        return _render(view)


def breach_pdf(view: Mapping[str, Any], lang: str) -> bytes:
    """Breach report ``view`` as an A4 PDF in ``lang``, fonts embedded."""
    return render_pdf(render_breach(view, lang))


def _text(value: object) -> str:
    """The filer's ``value`` as inert, isolated text; "not stated" (muted) when it is None."""
    if value is None or value == "" or value == []:
        return f'<span class="muted ns">{esc(not_stated())}</span>'
    return f'<span class="v">{esc(value)}</span>'


def _joined(texts: Sequence[str]) -> str:
    """Words listed the way the language in use lists them."""
    return ("、" if language() == "zh" else ", ").join(texts)


def _filled(template: str, **parts: str) -> str:
    """A translated ``template`` as HTML with its ``{name}`` places filled by HTML ``parts``
    (the template escaped, the parts as they are: already escaped or built here)."""
    return esc(template).format(**parts)


def _time(iso: str | None) -> str:
    """An ISO 8601 time shown in Asia/Shanghai; "not stated" when None."""
    return _text(None) if iso is None else esc(local_time(iso))


def state_html(state: str) -> str:
    """A clock's state as its symbol and word in its colour (the word says it without colour)."""
    look = state_look(state)
    return (
        f'<span class="state" data-state="{esc(state)}" style="color:{look.colour}">'
        f'<span aria-hidden="true">{esc(look.symbol)}</span> {esc(look.word)}</span>'
    )


def _facts(rows: Sequence[tuple[str, str]]) -> str:
    """A list of (label, HTML) pairs as a two-column definition list."""
    return (
        '<dl class="facts">'
        + "".join(f"{el('dt', name)}<dd>{value}</dd>" for name, value in rows)
        + "</dl>"
    )


def _institution(inst: Mapping[str, Any]) -> str:
    tags = [word(SECTORS, inst["sector"])]
    if inst.get("cii"):
        tags.append(_("critical information infrastructure operator"))
    if inst.get("central_body"):
        tags.append(_("central or state body"))
    return _text(inst.get("name")) + " " + "".join(el("span", t, 'class="tag"') for t in tags)


def _grade(grade: Mapping[str, Any]) -> str:
    out = el("span", word(GRADES, grade["code"]), 'class="grade"')
    if grade.get("override"):
        why = _filled(
            _("overridden (computed from the counts: {grade}); reason: {reason}"),
            grade=esc(word(GRADES, grade["computed"])),
            reason=_text(grade.get("override_reason")),
        )
        out += f' <span class="override">{why}</span>'
    return out


def _header(view: Mapping[str, Any]) -> str:
    version = view["version"]
    kicker = _("Personal information breach report No. {id}, version {n} ({kind})").format(
        id=view["id"], n=version["number"], kind=word(REPORT_KINDS, version["kind"])
    )
    regulators = view.get("regulators") or []
    rows = [
        (_("Institution"), _institution(view["institution"])),
        (_("Filed to"), _text(_joined(regulators)) if regulators else _text(None)),
        (_("Grade"), _grade(view["grade"])),
        (_("Status"), esc(word(STATUSES, view["status"]))),
        (_("Discovered"), _time(view.get("discovered_at"))),
        (_("Filed"), _time(view.get("filed_at"))),
        (_("Handled"), _time(view.get("handled_at"))),
        (_("Closed"), _time(view.get("closed_at"))),
        (
            _("This version"),
            _filled(
                _("{when}, by {author}"),
                when=_time(version["created_at"]),
                author=_text(version.get("author")),
            ),
        ),
    ]
    reasons = view["grade"].get("reasons") or []
    why = ""
    if reasons:
        why = (
            el("p", _("Why this grade:"))
            + "<ul>"
            + "".join(f"<li>{_text(r)}</li>" for r in reasons)
            + "</ul>"
        )
    return (
        "<header>"
        + el("p", kicker, 'class="kicker"')
        + f"<h1>{_text(view.get('title'))}</h1>"
        + _facts(rows)
        + why
        + "</header>"
    )


def _table(heads: Sequence[str], rows: Sequence[Sequence[str]], ident: str, cols: str) -> str:
    """A full-width table with header texts ``heads``, cells as HTML, column widths ``cols``
    (a ``<colgroup>``, so long values wrap instead of widening the page)."""
    head = "<tr>" + "".join(el("th", h) for h in heads) + "</tr>"
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table id="{ident}" class="wide">{cols}{head}{body}</table>'


def _cols(*widths: int) -> str:
    """Column widths in per cent of the table's."""
    return "<colgroup>" + "".join(f'<col style="width:{w}%">' for w in widths) + "</colgroup>"


def _since(later: str, earlier: str) -> float:
    """Hours from ``earlier`` to ``later`` (ISO 8601 times)."""
    return (instant(later) - instant(earlier)).total_seconds() / 3600


def _clock_note(clock: Mapping[str, Any], now: str) -> str:
    """How far the clock is from its deadline at ``now``: time left, or how late."""
    due, met, state = clock.get("due_at"), clock.get("met_at"), clock["state"]
    if due is None:
        return ""
    if state == "met_late" and met:
        return _("{span} late").format(span=hours_text(_since(met, due)))
    if state == "overdue":
        return _("{span} late").format(span=hours_text(_since(now, due)))
    if state in ("running", "due_soon"):
        return _("{span} left").format(span=hours_text(max(_since(due, now), 0.0)))
    return ""


def _clocks(view: Mapping[str, Any]) -> str:
    clocks = view.get("clocks") or []
    out = el("h2", _("Reporting deadlines"))
    if not clocks:
        return out + el("p", _("No reporting deadline applies."), 'class="muted"')
    rows = []
    for c in clocks:
        rule = c["label_zh"] if language() == "zh" else c["label_en"]
        tags = []
        if c.get("informational"):
            tags.append(_("for comparison only"))
        if not c.get("verified"):
            tags.append(_("rule not yet confirmed against its official text"))
        note = _clock_note(c, view["generated_at"])
        rows.append(
            (
                esc(word(AUTHORITIES, c["authority"])),
                _text(rule) + "<br>" + "".join(el("span", t, 'class="tag"') for t in tags),
                _time(c.get("due_at")),
                _time(c.get("met_at")) if c.get("met_at") else "",
                state_html(c["state"]) + ("<br>" + esc(note) if note else ""),
            )
        )
    heads = (_("Authority"), _("Deadline"), _("Due"), _("Met"), _("State"))
    return out + _table(heads, rows, "clock-table", _cols(20, 28, 18, 18, 16))


def _field(name: str, value: object) -> str:
    """A report field's value as HTML: codes as words, times local, lists joined."""
    if value is None or value == []:
        return _text(None)
    if name in CODED:
        return esc(word(CODED[name], value))
    if name == "occurred_at":
        return esc(local_time(value))
    if name == "data_categories":
        return esc(_joined([word(DATA_CATEGORIES, c) for c in value]))
    return _text(value)


def _fields(view: Mapping[str, Any]) -> str:
    fields = view["version"]["fields"]
    cac = [(_(label), _field(name, fields.get(name))) for name, label in CAC_FIELDS.items()]
    pipl = [(_(label), _field(name, fields.get(name))) for name, label in PIPL_FIELDS.items()]
    counts = view["version"].get("counts") or {}
    numbers = [
        (_(label), _text(None) if counts.get(k) is None else f"{counts[k]:,}")
        for k, label in COUNTS.items()
    ]
    return (
        '<section id="cac">'
        + el("h2", _("The incident (CAC incident-reporting measures)"))
        + _facts(cac)
        + '</section><section id="pipl">'
        + el("h2", _("Notice under PIPL art. 57"))
        + _facts(pipl)
        + '</section><section id="counts">'
        + el("h2", _("Counts"))
        + _facts(numbers)
        + "</section>"
    )


def _versions(view: Mapping[str, Any]) -> str:
    rows = [
        (
            esc(str(v["number"])),
            esc(word(REPORT_KINDS, v["kind"])),
            _time(v.get("created_at")),
            _text(v.get("author")),
            esc(_joined([word(FIELDS, f) for f in v.get("changed") or []])),
        )
        for v in view.get("versions") or []
    ]
    heads = (_("No."), _("Kind"), _("Created"), _("Author"), _("Fields changed"))
    return (
        '<section id="versions">'
        + el("h2", _("Version history"))
        + _table(heads, rows, "version-table", _cols(10, 16, 22, 18, 34))
        + "</section>"
    )


def _questions(view: Mapping[str, Any]) -> str:
    out = ['<section id="questions">', el("h2", _("Questions and answers"))]
    questions = view.get("questions") or []
    if not questions:
        out.append(el("p", _("No questions asked."), 'class="muted"'))
    for q in questions:
        asked = _filled(
            _("Asked {when} by {who}"), when=_time(q["asked_at"]), who=_text(q.get("asked_by"))
        )
        out.append(f'<div class="qa"><p class="muted">{asked}</p>')
        out.append(f"<p>{_text(q.get('text'))}</p>")
        if q.get("answer") is None:
            out.append(el("p", _("Not answered yet."), 'class="warn"'))
        else:
            when = q.get("answered_at")
            answered = _("Answered {when}:").format(when=local_time(when)) if when else _("Answer:")
            out.append(el("p", answered, 'class="muted"') + f"<p>{_text(q['answer'])}</p>")
        out.append("</div>")
    return "".join(out) + "</section>"


def _verdict(summary: Mapping[str, Any] | None) -> str:
    """The attached result's verdict in words (a verify verdict by its title)."""
    verdict = (summary or {}).get("verdict")
    if verdict is None:
        return _text(None)
    if verdict in set(Label):
        return esc(shown(Label(verdict)).title)
    return _text(verdict)


def _attachments(view: Mapping[str, Any]) -> str:
    out = '<section id="attachments">' + el("h2", _("Attachments"))
    items = view.get("attachments") or []
    if not items:
        return out + el("p", _("No attachments."), 'class="muted"') + "</section>"
    rows = [
        (
            _text(a.get("filename")),
            _text(a.get("media_type")) + "<br>" + esc(size_text(a["size"])),
            f'<span class="hash">{esc(a["sha256"])}</span>',
            _verdict(a.get("summary")),
        )
        for a in items
    ]
    heads = (_("File"), _("Type and size"), "SHA-256", _("Verdict"))
    return out + _table(heads, rows, "attachment-table", _cols(25, 23, 32, 20)) + "</section>"


def _render(view: Mapping[str, Any]) -> str:
    title = _("Breach report No. {id}").format(id=view["id"])
    generated = _("Generated {when} by leaktrace.").format(when=local_time(view["generated_at"]))
    return "\n".join(
        (
            f"<!doctype html><html lang={lang_tag(language())}><head><meta charset=utf-8>",
            f"<title>{esc(title)}: {esc(view.get('title') or '')}</title>",
            f"<style>{BASE_CSS}{_CSS}</style></head><body>",
            _header(view),
            f'<section id="clocks">{_clocks(view)}</section>',
            _fields(view),
            _versions(view),
            _questions(view),
            _attachments(view),
            el("footer", generated, 'class="muted"'),
            "</body></html>",
        )
    )
