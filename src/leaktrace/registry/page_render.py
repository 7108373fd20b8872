"""How the registry's pages are drawn: Jinja2 templates (autoescaped) in the asker's language,
the words they share with the printable report, and the error page.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from leaktrace import i18n
from leaktrace.i18n import N_, _
from leaktrace.registry import grade, page_forms, problems
from leaktrace.registry.auth import SESSION_COOKIE
from leaktrace.registry.errors import RegistryError
from leaktrace.registry.models import Organisation
from leaktrace.registry.service import Asker, identify, language, registry
from leaktrace.report import breach_words
from leaktrace.report.breach_html import state_html
from leaktrace.report.breach_words import local_time, word
from leaktrace.report.scan_words import kind_label
from leaktrace.report.verdict_words import shown
from leaktrace.verify.verdict import Label

TEMPLATES = Path(__file__).with_name("templates")
STATIC = Path(__file__).with_name("static")
ROLE_WORDS = {
    "viewer": N_("viewer"),
    "reporter": N_("reporter"),
    "reviewer": N_("reviewer"),
    "admin": N_("administrator"),
}
EVENT_WORDS = {
    "report.filed": N_("report filed"),
    "report.supplemented": N_("report supplemented"),
    "question.asked": N_("question asked"),
    "question.answered": N_("question answered"),
    "report.closed": N_("report closed"),
    "deadline.near": N_("deadline near"),
    "deadline.overdue": N_("deadline passed"),
    "leak.matched": N_("customers found in a leak"),
}
DELIVERY_WORDS = {
    "pending": N_("waiting"),
    "delivered": N_("delivered"),
    "failed": N_("failed"),
}
ORG_KIND_WORDS = {"institution": N_("institution"), "regulator": N_("regulator")}

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def verdict_word(code: object) -> str:
    """An attached verify result's verdict in words (its code when not a verify verdict)."""
    if code in {label.value for label in Label}:
        return shown(Label(str(code))).title
    return str(code) if code else breach_words.not_stated()


def number(n: object) -> str:
    """A count with thousands separators; 'not stated' for None."""
    if n is None:
        return breach_words.not_stated()
    if isinstance(n, float) and not n.is_integer():
        return f"{n:,.1f}"
    return f"{int(n):,}"  # type: ignore[call-overload]


_env.globals.update(
    _=_,
    bw=breach_words,
    word=word,
    state_html=state_html,
    local_time=local_time,
    kind_label=kind_label,
    grade_word=lambda code: grade.label(code),
    grades=grade.GRADES,
    verdict_word=verdict_word,
    number=number,
    role_words=ROLE_WORDS,
    event_words=EVENT_WORDS,
    delivery_words=DELIVERY_WORDS,
    org_kind_words=ORG_KIND_WORDS,
    forms=page_forms,
)


def here(request: Request) -> str:
    """The request's path and query, without ``lang``: where a language switch comes back to."""
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    tail = "&".join(f"{quote(k)}={quote(v)}" for k, v in query)
    return request.url.path + ("?" + tail if tail else "")


def render(
    request: Request,
    template: str,
    asker: Asker | None = None,
    who: dict[str, str] | None = None,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    """``template`` in the request's language; the header names ``who`` (organisation, role,
    user) and the sign-out form carries the session's CSRF token."""
    lang = language(request)
    with i18n.using(lang):
        html = _env.get_template(template).render(
            lang=lang,
            here=here(request),
            principal=asker.principal if asker else None,
            csrf=asker.web_session.csrf_token if asker and asker.web_session else "",
            who=who,
            **context,
        )
    return HTMLResponse(html, status_code=status)


def who(request: Request, asker: Asker) -> dict[str, str]:
    """What the header says of the asker: organisation, its kind, and the user."""
    with registry(request).transaction() as session:
        org = session.get_one(Organisation, asker.principal.org_id)
        return {"org": org.name, "kind": org.kind, "name": asker.principal.name}


def _signed_in(request: Request) -> Asker | None:
    """The asker of a page that failed, for its header; None when not signed in."""
    if not request.cookies.get(SESSION_COOKIE):
        return None
    try:
        return identify(request, check_csrf=False)
    except RegistryError:
        return None


def page_error(request: Request, status: int, detail: str) -> Response:
    """An error of a page as a page, with the header of the signed-in asker (a server error
    trusts nothing, the database included, and shows none); a request that needs a sign-in
    goes to the sign-in page."""
    if status == 401:
        response = RedirectResponse("/login?next=" + quote(here(request), safe=""), 303)
        if request.cookies.get(SESSION_COOKIE):
            response.delete_cookie(SESSION_COOKIE, path="/")
        return response
    asker = _signed_in(request) if status < 500 else None
    titles = problems._TITLES  # the problem responses' titles, one table for both
    title = _(titles[status]) if status in titles else _("Error")
    return render(
        request,
        "error.html",
        asker,
        who(request, asker) if asker else None,
        status=status,
        title=title,
        detail=detail,
        code=status,
    )
