"""The registry's pages, server-rendered in Chinese and English: sign-in, the reports (list, filing,
one report with its clocks, supplements), the regulator's dashboard and an organisation's
settings. They do what the JSON API does through the same services, so the access policy, the
audit chain and the outbox apply alike.

Every form that changes something carries the session's CSRF token (``csrf_token``), checked
before anything else; the sign-in form, made before there is a session, carries a token that
must equal its own cookie (a double-submit cookie, ``SameSite=Strict``), so another site cannot
sign a browser in to an account of its choosing. Forms post, then redirect to a page (POST,
redirect, GET), except where a secret is shown once (a new API key, a webhook's secret).
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any, get_args
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData, UploadFile

from leaktrace import i18n
from leaktrace.i18n import _, language
from leaktrace.registry import (
    admin,
    alerts,
    attachments,
    auth,
    credentials,
    dashboard,
    grade,
    listing,
    reports,
    rules,
    views,
)
from leaktrace.registry.errors import Conflict, Invalid, Refused
from leaktrace.registry.models import Leak
from leaktrace.registry.page_forms import (
    FormErrors,
    prefilled,
    report_in,
    supplement_in,
    validated,
    values,
)
from leaktrace.registry.page_render import render, who
from leaktrace.registry.schemas import EventName, KeyIn, TextIn, UserIn, WebhookIn
from leaktrace.registry.service import LANG_COOKIE, Asker, identify, registry
from leaktrace.report.breach_words import CAUSES, instant, word
from leaktrace.report.dashboard_svg import bars, breaches_over_time, response_times

router = APIRouter(include_in_schema=False)
#: The cookie holding the sign-in form's token until the sign-in.
LOGIN_COOKIE = "lt_login"
#: Reports per page of the list.
PAGE_SIZE = 20


async def _form(request: Request) -> FormData:
    return await request.form()


def _text(form: FormData, name: str) -> str:
    """A form field's text; empty when absent or a file."""
    value = form.get(name)
    return value if isinstance(value, str) else ""


FormDep = Annotated[FormData, Depends(_form)]


def _asker(request: Request) -> Asker:
    """The signed-in asker (a page's sign-in is its session cookie; no sign-in: to /login)."""
    return identify(request, check_csrf=False)


AskerDep = Annotated[Asker, Depends(_asker)]


def _checked(asker: Asker, form: FormData) -> None:
    """Refuse a form without the session's CSRF token."""
    if asker.web_session is None:  # an API key: its requests are the API's, not a page's
        raise Refused(_("The form has expired or did not come from this site; reload and retry."))
    auth.check_csrf(asker.web_session, _text(form, auth.CSRF_FIELD) or None)


def _see_other(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def site_path(path: str | None) -> str:
    """``path`` if it is a path of this site, else the reports. Browsers drop tabs and line
    breaks from an address and read ``\\`` as ``/``, so either could make ``//`` (another site)."""
    if (
        not path
        or not path.startswith("/")
        or "\\" in path
        or any(c.isspace() or ord(c) < 0x20 or c == "\x7f" for c in path)
        or path.startswith("//")
    ):
        return "/reports"
    return path


# -- language, sign-in and sign-out ------------------------------------------------------------


@router.get("/language/{lang}")
def switch_language(lang: str, next: str = "/reports") -> Response:
    """Remember the language chosen (``zh`` or ``en``) and go back."""
    response = _see_other(site_path(next))
    if lang in i18n.LANGS:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax", path="/")
    return response


@router.get("/")
def home() -> Response:
    return _see_other("/reports")


def _login_page(request: Request, error: str = "", status: int = 200, **values: str) -> Response:
    token = credentials.new_token()
    response = render(
        request,
        "login.html",
        status=status,
        login_token=token,
        error=error,
        next=site_path(request.query_params.get("next")),
        values=values,
    )
    response.set_cookie(
        LOGIN_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=registry(request).secure_cookies,
        path="/login",
    )
    return response


@router.get("/login")
def login_form(request: Request) -> Response:
    return _login_page(request)


@router.post("/login")
def login(request: Request, form: FormDep) -> Response:
    """Sign in: a new session cookie (HttpOnly, SameSite=Lax, Secure where configured)."""
    given = form.get("login_token")
    expected = request.cookies.get(LOGIN_COOKIE)
    if not (isinstance(given, str) and expected and secrets.compare_digest(given, expected)):
        raise Refused(_("The form has expired or did not come from this site; reload and retry."))
    username, password = form.get("username"), form.get("password")
    if not (isinstance(username, str) and isinstance(password, str) and username and password):
        return _login_page(request, _("Give your user name and password."), 400)
    reg = registry(request)
    with reg.transaction() as session:
        started = auth.sign_in(session, username[:100], password[:1000], reg.now())
    if started is None:
        return _login_page(
            request, _("The user name or the password is wrong."), 401, username=username[:100]
        )
    _row, token = started
    response = _see_other(site_path(_text(form, "next")))
    response.set_cookie(
        auth.SESSION_COOKIE,
        token,
        max_age=int(credentials.SESSION_LIFETIME.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=reg.secure_cookies,
        path="/",
    )
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(request: Request, asker: AskerDep, form: FormDep) -> Response:
    """End the session and forget its cookie."""
    _checked(asker, form)
    with registry(request).transaction() as session:
        row = asker.web_session
        session.add(row)
        auth.sign_out(session, asker.principal, row)  # type: ignore[arg-type]
    response = _see_other("/login")
    response.delete_cookie(auth.SESSION_COOKIE, path="/")
    return response


# -- reports --------------------------------------------------------------------------------------


@router.get("/reports")
def list_reports(request: Request, asker: AskerDep) -> Response:
    """The reports the asker may read, filtered and paged; an unknown filter is a 422 page."""
    given = [(k, v) for k, v in request.query_params.multi_items() if v != ""]
    f = listing.parse_filter([*given, ("limit", str(PAGE_SIZE))])
    reg = registry(request)
    now = reg.now()
    with reg.transaction() as session:
        items, total = listing.page(session, asker.principal, f, now)
        rows = views.summaries(session, items, now)
    kept = [(k, v) for k, v in given if k not in ("offset", "lang")]

    def at(offset: int) -> str:
        return "/reports?" + "&".join(
            f"{quote(k)}={quote(v)}" for k, v in [*kept, ("offset", str(offset))]
        )

    for r in rows:  # a closed report's clocks no longer run
        due = r["next_due_at"] if r["status"] != "closed" else None
        r["next_state"] = rules.state(instant(due), None, now) if due else None
    return render(
        request,
        "reports.html",
        asker,
        who(request, asker),
        rows=rows,
        total=total,
        filters=dict(given),
        offset=f.offset,
        page_size=PAGE_SIZE,
        previous=at(max(f.offset - PAGE_SIZE, 0)) if f.offset else None,
        following=at(f.offset + PAGE_SIZE) if f.offset + PAGE_SIZE < total else None,
    )


def _report_form(request: Request, asker: Asker, *, status: int = 200, **context: Any) -> Response:
    return render(request, "report_form.html", asker, who(request, asker), status=status, **context)


@router.get("/reports/new")
def new_report(request: Request, asker: AskerDep) -> Response:
    """The form of an initial report (institutions' reporters and admins)."""
    reports.require(asker.principal, "report.file")
    return _report_form(request, asker, report=None, values={}, errors={})


@router.post("/reports/new")
def file_report(request: Request, asker: AskerDep, form: FormDep) -> Response:
    _checked(asker, form)
    reports.require(asker.principal, "report.file")
    reg = registry(request)
    try:
        data = report_in(form)
        with reg.transaction() as session:
            report = reports.file(session, asker.principal, data, reg.now())
    except (FormErrors, Invalid) as err:
        return _refused_form(request, asker, form, err, report=None)
    return _see_other(f"/reports/{report.id}?filed=1")


def _refused_form(
    request: Request, asker: Asker, form: FormData, err: FormErrors | Invalid, **context: Any
) -> Response:
    errors = err.errors if isinstance(err, FormErrors) else {err.field or "form": err.detail}
    return _report_form(request, asker, status=422, values=values(form), errors=errors, **context)


def _report_page(request: Request, asker: Asker, report_id: int, number: int | None) -> Response:
    reg = registry(request)
    with reg.transaction() as session:
        view = views.full(session, asker.principal, report_id, reg.now(), number)
    return render(
        request,
        "report.html",
        asker,
        who(request, asker),
        view=view,
        filed=request.query_params.get("filed") == "1",
        latest=view["version"]["number"] == view["latest_version"],
    )


@router.get("/reports/{report_id}")
def show_report(request: Request, asker: AskerDep, report_id: int) -> Response:
    """One report at its latest version: clocks, fields, history, questions, evidence."""
    return _report_page(request, asker, report_id, None)


@router.get("/reports/{report_id}/versions/{number}")
def show_version(request: Request, asker: AskerDep, report_id: int, number: int) -> Response:
    """One report as it was at version ``number``."""
    return _report_page(request, asker, report_id, number)


def _latest(request: Request, asker: Asker, report_id: int) -> dict[str, Any]:
    reg = registry(request)
    with reg.transaction() as session:
        return views.full(session, asker.principal, report_id, reg.now())


@router.get("/reports/{report_id}/supplement")
def supplement_form(request: Request, asker: AskerDep, report_id: int) -> Response:
    """The supplement form, filled in with the latest version."""
    view = _latest(request, asker, report_id)
    reports.require(asker.principal, "report.supplement")
    if view["status"] == "closed":
        raise Conflict(_("The report is closed."))
    filled = prefilled(view["version"], view["grade"])
    return _report_form(request, asker, report=view, values=filled, errors={})


@router.post("/reports/{report_id}/supplement")
def supplement(request: Request, asker: AskerDep, report_id: int, form: FormDep) -> Response:
    _checked(asker, form)
    view = _latest(request, asker, report_id)
    reports.require(asker.principal, "report.supplement")
    reg = registry(request)
    try:
        data = supplement_in(form, view["version"]["fields"])
        with reg.transaction() as session:
            reports.supplement(session, asker.principal, report_id, data, reg.now())
    except (FormErrors, Invalid) as err:
        return _refused_form(request, asker, form, err, report=view)
    return _see_other(f"/reports/{report_id}")


def _text_in(form: FormData) -> str:
    try:
        return validated(TextIn, {"text": _text(form, "text")}).text
    except FormErrors:
        raise Invalid(
            _("Write the text first (20,000 characters at most)."), field="text"
        ) from None


@router.post("/reports/{report_id}/questions")
def ask(request: Request, asker: AskerDep, report_id: int, form: FormDep) -> Response:
    """A regulator's question."""
    _checked(asker, form)
    reg = registry(request)
    with reg.transaction() as session:
        reports.ask(session, asker.principal, report_id, _text_in(form), reg.now())
    return _see_other(f"/reports/{report_id}#questions")


@router.post("/reports/{report_id}/questions/{question_id}/answer")
def answer(
    request: Request, asker: AskerDep, report_id: int, question_id: int, form: FormDep
) -> Response:
    """The institution's answer."""
    _checked(asker, form)
    reg = registry(request)
    with reg.transaction() as session:
        reports.answer(session, asker.principal, report_id, question_id, _text_in(form), reg.now())
    return _see_other(f"/reports/{report_id}#questions")


@router.post("/reports/{report_id}/close")
def close(request: Request, asker: AskerDep, report_id: int, form: FormDep) -> Response:
    """A regulator closes the report."""
    _checked(asker, form)
    reg = registry(request)
    with reg.transaction() as session:
        reports.close(session, asker.principal, report_id, reg.now())
    return _see_other(f"/reports/{report_id}")


@router.post("/reports/{report_id}/attachments")
def attach(request: Request, asker: AskerDep, report_id: int, form: FormDep) -> Response:
    """Attach a verify result (its JSON or HTML)."""
    _checked(asker, form)
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise Invalid(_("Choose a file first."), field="file")
    content = upload.file.read(attachments.MAX_BYTES + 1)
    reg = registry(request)
    with reg.transaction() as session:
        attachments.attach(
            session, asker.principal, report_id, upload.filename or "", content, reg.now()
        )
    return _see_other(f"/reports/{report_id}#evidence")


# -- the dashboard --------------------------------------------------------------------------------


@router.get("/dashboard")
def show_dashboard(request: Request, asker: AskerDep) -> Response:
    """The regulator's figures and plots over the reports it may read."""
    reports.require(asker.principal, "dashboard.read")
    reg = registry(request)
    with reg.transaction() as session:
        figures = dashboard.data(session, asker.principal, reg.now())
    with_lang = language()
    plots = {
        "months": breaches_over_time(figures["months"], lang=with_lang),
        "response": response_times(figures["response_hours"], (1, 2, 4), lang=with_lang),
        "causes": bars(
            [(word(CAUSES, code), n) for code, n in figures["causes"]],
            _("Causes"),
            lang=with_lang,
        ),
        "grades": bars(
            [(grade.label(code), n) for code, n in figures["grades"]],
            _("Grades"),
            lang=with_lang,
        ),
        "institutions": bars(
            [(name, n) for name, n, _people in figures["institutions"]],
            _("Reports by institution"),
            lang=with_lang,
        ),
        "people": bars(
            [(name, people) for name, _n, people in figures["institutions"]],
            _("People affected by institution"),
            lang=with_lang,
        ),
    }
    return render(
        request, "dashboard.html", asker, who(request, asker), figures=figures, plots=plots
    )


@router.get("/alerts")
def show_alerts(request: Request, asker: AskerDep) -> Response:
    """The institution's alerts: each leak its customers were found in, with the count and
    the leak's metadata (the matched customers are re-identified on its own machine)."""
    with registry(request).transaction() as session:
        found = [
            alerts.view(a, session.get_one(Leak, a.leak_id))
            for a in alerts.alerts_of(session, asker.principal)
        ]
    return render(request, "alerts.html", asker, who(request, asker), alerts=found)


# -- settings -------------------------------------------------------------------------------------


def _settings(request: Request, asker: Asker, *, status: int = 200, **shown: Any) -> Response:
    with registry(request).transaction() as session:
        users = [views.user(u) for u in admin.users(session, asker.principal)]
        keys = [views.key(k) for k in admin.keys(session, asker.principal)]
        hooks = [views.webhook(w) for w in admin.webhooks_of(session, asker.principal)]
    header = who(request, asker)
    context: dict[str, Any] = {"new_key": None, "new_secret": None, "errors": {}, "values": {}}
    context.update(shown)
    return render(
        request,
        "settings.html",
        asker,
        header,
        status=status,
        users=users,
        keys=keys,
        hooks=hooks,
        roles=admin.ROLES_OF[header["kind"]],
        events=get_args(EventName),
        **context,
    )


@router.get("/settings")
def settings(request: Request, asker: AskerDep) -> Response:
    """An organisation's users, API keys and webhooks (its admins only)."""
    reports.require(asker.principal, "org.manage")
    return _settings(request, asker)


def _settings_refused(
    request: Request, asker: Asker, form: FormData, err: FormErrors | Invalid
) -> Response:
    errors = err.errors if isinstance(err, FormErrors) else {err.field or "form": err.detail}
    return _settings(request, asker, status=422, errors=errors, values=values(form))


@router.post("/settings/users")
def create_user(request: Request, asker: AskerDep, form: FormDep) -> Response:
    _checked(asker, form)
    reports.require(asker.principal, "org.manage")
    data = {k: _text(form, k) for k in ("username", "password", "role", "display_name")}
    try:
        made = validated(UserIn, data)
        with registry(request).transaction() as session:
            admin.create_user(
                session,
                asker.principal,
                asker.principal.org_id,
                made.username,
                made.password,
                made.role,
                made.display_name,
            )
    except (FormErrors, Invalid) as err:
        return _settings_refused(request, asker, form, err)
    return _see_other("/settings#users")


@router.post("/settings/keys")
def create_key(request: Request, asker: AskerDep, form: FormDep) -> Response:
    """A new API key, shown on this page once."""
    _checked(asker, form)
    reports.require(asker.principal, "org.manage")
    try:
        made = validated(KeyIn, {"name": _text(form, "name"), "role": _text(form, "role")})
        with registry(request).transaction() as session:
            _row, secret = admin.create_key(
                session, asker.principal, asker.principal.org_id, made.name, made.role
            )
    except (FormErrors, Invalid) as err:
        return _settings_refused(request, asker, form, err)
    return _settings(request, asker, status=201, new_key=secret)


@router.post("/settings/keys/{key_id}/revoke")
def revoke_key(request: Request, asker: AskerDep, key_id: int, form: FormDep) -> Response:
    _checked(asker, form)
    with registry(request).transaction() as session:
        admin.revoke_key(session, asker.principal, key_id)
    return _see_other("/settings#keys")


@router.post("/settings/webhooks")
def create_webhook(request: Request, asker: AskerDep, form: FormDep) -> Response:
    """A new webhook; its signing secret is shown on this page once."""
    _checked(asker, form)
    reports.require(asker.principal, "org.manage")
    data = {"url": _text(form, "url"), "events": form.getlist("events")}
    try:
        made = validated(WebhookIn, data)
        with registry(request).transaction() as session:
            _hook, secret = admin.create_webhook(
                session, asker.principal, made.url, list(made.events)
            )
    except (FormErrors, Invalid) as err:
        return _settings_refused(request, asker, form, err)
    return _settings(request, asker, status=201, new_secret=secret)


@router.post("/settings/webhooks/{webhook_id}/disable")
def disable_webhook(request: Request, asker: AskerDep, webhook_id: int, form: FormDep) -> Response:
    _checked(asker, form)
    with registry(request).transaction() as session:
        admin.disable_webhook(session, asker.principal, webhook_id)
    return _see_other("/settings#webhooks")


@router.get("/settings/webhooks/{webhook_id}")
def deliveries(request: Request, asker: AskerDep, webhook_id: int) -> Response:
    """A webhook's delivery log."""
    with registry(request).transaction() as session:
        hook = next(
            (
                views.webhook(w)
                for w in admin.webhooks_of(session, asker.principal)
                if w.id == webhook_id
            ),
            None,
        )
        log = [
            views.delivery(d, t) for d, t in admin.deliveries(session, asker.principal, webhook_id)
        ]
    return render(request, "deliveries.html", asker, who(request, asker), hook=hook, log=log)
