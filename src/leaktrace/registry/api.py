"""The registry's JSON API (``/api/v1``), described by its OpenAPI spec. Every route names the
asker first; what it reads or changes goes through the services, which apply the access policy.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Annotated, Any, Literal
from urllib.parse import quote

import msgspec
from fastapi import APIRouter, Depends, File, Path, Query, Request, Response, UploadFile
from fastapi.responses import JSONResponse

from leaktrace.registry import (
    admin,
    attachments,
    audit,
    dashboard,
    listing,
    problems,
    reports,
    rules,
    views,
)
from leaktrace.registry.schemas import (
    KeyIn,
    ReportIn,
    SupplementIn,
    TextIn,
    UserIn,
    WebhookIn,
)
from leaktrace.registry.service import Asker, api_asker, language, registry
from leaktrace.report.breach_html import breach_pdf, render_breach

router = APIRouter(prefix="/api/v1", responses=problems.RESPONSES)
AskerDep = Annotated[Asker, Depends(api_asker)]
#: An object's id in a path: a positive 32-bit integer (what both databases store).
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
#: Columns of a list export (CSV and JSON alike); no report text, no personal data.
EXPORT_COLUMNS = (
    "id",
    "title",
    "institution",
    "status",
    "grade",
    "people_affected",
    "discovered_at",
    "filed_at",
    "closed_at",
    "version",
    "overdue",
    "next_due_at",
)


def _created(body: dict[str, Any], location: str) -> JSONResponse:
    return JSONResponse(body, status_code=201, headers={"Location": location})


@router.get("/me", tags=["session"])
def me(request: Request, asker: AskerDep) -> dict[str, Any]:
    """The asker: organisation, role, and how they signed in."""
    p = asker.principal
    return {
        "org_id": p.org_id,
        "org_kind": p.org_kind,
        "role": p.role,
        "via": p.via,
        "name": p.name,
        "csrf_token": asker.web_session.csrf_token if asker.web_session else None,
    }


def _filter(request: Request) -> listing.ReportFilter:
    return listing.parse_filter(list(request.query_params.multi_items()))


@router.get("/reports", tags=["reports"])
def list_reports(
    request: Request,
    asker: AskerDep,
    status: Literal["open", "questioned", "closed"] | None = None,
    grade: Literal["general", "relatively_major", "major", "particularly_major"] | None = None,
    org: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    overdue: bool | None = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    since: str | None = None,
    until: str | None = None,
    sort: Literal[
        "-filed_at", "filed_at", "-discovered_at", "discovered_at", "-people_affected"
    ] = "-filed_at",
    limit: Annotated[int, Query(ge=1, le=listing.MAX_LIMIT)] = 50,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> dict[str, Any]:
    """The reports the asker may read, filtered; ``total`` counts them all under the same filter.
    An unknown filter is refused (422). The parameters are declared for the OpenAPI spec; the
    request's own are what is read, so that an undeclared one is refused rather than dropped."""
    f = _filter(request)
    reg = registry(request)
    now = reg.now()
    with reg.transaction() as session:
        items, total = listing.page(session, asker.principal, f, now)
        rows = views.summaries(session, items, now)
    return {"items": rows, "total": total, "limit": f.limit, "offset": f.offset}


@router.post("/reports", tags=["reports"], status_code=201)
def file_report(request: Request, asker: AskerDep, data: ReportIn) -> JSONResponse:
    """File an initial report; its clocks start at the time of discovery."""
    reg = registry(request)
    with reg.transaction() as session:
        report = reports.file(session, asker.principal, data, reg.now())
        body = views.full(session, asker.principal, report.id, reg.now())
    return _created(body, f"/api/v1/reports/{report.id}")


@router.get(
    "/reports/export",
    tags=["reports"],
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
def export_reports(
    request: Request,
    asker: AskerDep,
    format: Literal["csv", "json"] = "csv",
    status: Literal["open", "questioned", "closed"] | None = None,
    grade: Literal["general", "relatively_major", "major", "particularly_major"] | None = None,
    org: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    overdue: bool | None = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    since: str | None = None,
    until: str | None = None,
) -> Response:
    """Every report the asker may read under the filter, as CSV or JSON (no report text)."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "format"]
    f = listing.parse_filter([*params, ("limit", str(listing.MAX_LIMIT))])
    reg = registry(request)
    now = reg.now()
    rows: list[dict[str, Any]] = []
    with reg.transaction() as session:
        offset = 0
        while True:
            page_filter = listing.ReportFilter(**{**f.__dict__, "offset": offset})
            items, total = listing.page(session, asker.principal, page_filter, now)
            rows += views.summaries(session, items, now)
            offset += len(items)
            if not items or offset >= total:
                break
        audit.record(
            session, asker.principal, "report.export_list", "report", None, {"rows": len(rows)}
        )
    table = [{c: r[c] for c in EXPORT_COLUMNS} for r in rows]
    if format == "json":
        body = json.dumps(table, ensure_ascii=False).encode()
        media, name = "application/json", "reports.json"
    else:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=EXPORT_COLUMNS)
        writer.writeheader()
        writer.writerows({k: _cell(v) for k, v in r.items()} for r in table)
        body = out.getvalue().encode("utf-8-sig")  # Excel opens UTF-8 with its BOM
        media, name = "text/csv; charset=utf-8", "reports.csv"
    return Response(
        body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


def _cell(value: Any) -> Any:
    """A CSV cell that a spreadsheet will not run as a formula."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


@router.get("/reports/{report_id}", tags=["reports"])
def get_report(request: Request, asker: AskerDep, report_id: Id) -> dict[str, Any]:
    """One report at its latest version, with its clocks, history, questions and attachments."""
    reg = registry(request)
    with reg.transaction() as session:
        body = views.full(session, asker.principal, report_id, reg.now())
        audit.record(session, asker.principal, "report.read", "report", report_id, {})
        return body


@router.get("/reports/{report_id}/versions", tags=["reports"])
def list_versions(request: Request, asker: AskerDep, report_id: Id) -> dict[str, Any]:
    """Every version of a report, oldest first."""
    reg = registry(request)
    with reg.transaction() as session:
        found = reports.versions(session, asker.principal, report_id)
        return {
            "items": [
                {
                    "number": v.number,
                    "kind": v.kind,
                    "created_at": v.created_at.isoformat(),
                    "grade_computed": v.grade_computed,
                    "grade_override": v.grade_override,
                }
                for v in found
            ]
        }


@router.get("/reports/{report_id}/versions/{number}", tags=["reports"])
def get_version(request: Request, asker: AskerDep, report_id: Id, number: Id) -> dict[str, Any]:
    """One report as it was at version ``number``."""
    reg = registry(request)
    with reg.transaction() as session:
        body = views.full(session, asker.principal, report_id, reg.now(), number)
        audit.record(
            session, asker.principal, "report.read", "report", report_id, {"version": number}
        )
        return body


@router.post("/reports/{report_id}/versions", tags=["reports"], status_code=201)
def add_version(
    request: Request, asker: AskerDep, report_id: Id, data: SupplementIn
) -> JSONResponse:
    """A supplement or the summary: a new version holding the whole content."""
    reg = registry(request)
    with reg.transaction() as session:
        v = reports.supplement(session, asker.principal, report_id, data, reg.now())
        body = views.full(session, asker.principal, report_id, reg.now())
    return _created(body, f"/api/v1/reports/{report_id}/versions/{v.number}")


@router.post("/reports/{report_id}/questions", tags=["review"], status_code=201)
def ask(request: Request, asker: AskerDep, report_id: Id, data: TextIn) -> JSONResponse:
    """A regulator's question on a report filed to it."""
    reg = registry(request)
    with reg.transaction() as session:
        q = reports.ask(session, asker.principal, report_id, data.text, reg.now())
        body = {"id": q.id, "report_id": report_id, "asked_at": q.asked_at.isoformat()}
    return _created(body, f"/api/v1/reports/{report_id}")


@router.post("/reports/{report_id}/questions/{question_id}/answer", tags=["review"])
def answer(
    request: Request, asker: AskerDep, report_id: Id, question_id: Id, data: TextIn
) -> dict[str, Any]:
    """The institution's answer to a question on its report."""
    reg = registry(request)
    with reg.transaction() as session:
        q = reports.answer(session, asker.principal, report_id, question_id, data.text, reg.now())
        return {"id": q.id, "report_id": report_id, "answered_at": q.answered_at.isoformat()}


@router.post("/reports/{report_id}/close", tags=["review"])
def close(request: Request, asker: AskerDep, report_id: Id) -> dict[str, Any]:
    """A regulator closes a report; it stays readable."""
    reg = registry(request)
    with reg.transaction() as session:
        reports.close(session, asker.principal, report_id, reg.now())
        return views.full(session, asker.principal, report_id, reg.now())


@router.get(
    "/reports/{report_id}/export",
    tags=["reports"],
    responses={200: {"content": {"text/html": {}, "application/pdf": {}}}},
)
def export_report(
    request: Request,
    asker: AskerDep,
    report_id: Id,
    format: Literal["html", "pdf"] = "html",
    version: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    lang: Literal["zh", "en"] | None = None,
) -> Response:
    """The report as printable HTML or PDF, in the asker's language."""

    reg = registry(request)
    with reg.transaction() as session:
        view = views.full(session, asker.principal, report_id, reg.now(), version)
        from leaktrace.registry import audit

        audit.record(
            session, asker.principal, "report.export", "report", report_id, {"format": format}
        )
    lang_used = language(request)
    name = f"breach-report-{report_id}-v{view['version']['number']}"
    if format == "pdf":
        return Response(
            breach_pdf(view, lang_used),
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{name}.pdf"'},
        )
    return Response(
        render_breach(view, lang_used),
        media_type="text/html; charset=utf-8",
        headers={"Content-Disposition": f'inline; filename="{name}.html"'},
    )


@router.post("/reports/{report_id}/attachments", tags=["reports"], status_code=201)
def attach(
    request: Request, asker: AskerDep, report_id: Id, file: Annotated[UploadFile, File()]
) -> JSONResponse:
    """Attach a ``leaktrace verify`` result (its JSON or HTML) as evidence."""
    content = file.file.read(attachments.MAX_BYTES + 1)
    reg = registry(request)
    with reg.transaction() as session:
        a = attachments.attach(
            session, asker.principal, report_id, file.filename or "", content, reg.now()
        )
        body = views.attachment(a)
    return _created(body, f"/api/v1/reports/{report_id}/attachments/{a.id}")


@router.get(
    "/reports/{report_id}/attachments/{attachment_id}",
    tags=["reports"],
    responses={200: {"content": {"text/html": {}}}},
)
def get_attachment(request: Request, asker: AskerDep, report_id: Id, attachment_id: Id) -> Response:
    """An attachment's bytes, as a download that a browser never runs."""
    reg = registry(request)
    with reg.transaction() as session:
        a = attachments.get(session, asker.principal, report_id, attachment_id)
        content, media, name = a.content, a.media_type, a.filename
    return Response(
        content,
        media_type=media,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{_quote(name)}",
            "Content-Security-Policy": "sandbox; default-src 'none'",
        },
    )


def _quote(name: str) -> str:
    return quote(name, safe="")


@router.get("/dashboard", tags=["dashboard"])
def get_dashboard(request: Request, asker: AskerDep) -> dict[str, Any]:
    """The regulator's figures over the reports it may read."""
    reports.require(asker.principal, "dashboard.read")
    reg = registry(request)
    with reg.transaction() as session:
        return dashboard.data(session, asker.principal, reg.now())


@router.get("/rules", tags=["rules"])
def get_rules(request: Request, asker: AskerDep) -> dict[str, Any]:
    """The deadline rules in force now, with their sources."""
    return msgspec.to_builtins(rules.load_table().version_at(registry(request).now()))


@router.get("/users", tags=["admin"])
def list_users(request: Request, asker: AskerDep) -> dict[str, Any]:
    """The users of the asker's organisation (admins only)."""
    with registry(request).transaction() as session:
        return {"items": [views.user(u) for u in admin.users(session, asker.principal)]}


@router.post("/users", tags=["admin"], status_code=201)
def create_user(request: Request, asker: AskerDep, data: UserIn) -> JSONResponse:
    """A new user of the asker's organisation (admins only)."""
    with registry(request).transaction() as session:
        u = admin.create_user(
            session,
            asker.principal,
            asker.principal.org_id,
            data.username,
            data.password,
            data.role,
            data.display_name,
        )
        body = views.user(u)
    return _created(body, "/api/v1/users")


@router.get("/keys", tags=["admin"])
def list_keys(request: Request, asker: AskerDep) -> dict[str, Any]:
    """The API keys of the asker's organisation, without their secrets."""
    with registry(request).transaction() as session:
        return {"items": [views.key(k) for k in admin.keys(session, asker.principal)]}


@router.post("/keys", tags=["admin"], status_code=201)
def create_key(request: Request, asker: AskerDep, data: KeyIn) -> JSONResponse:
    """A new API key; the key itself is in this response only."""
    with registry(request).transaction() as session:
        k, secret = admin.create_key(
            session, asker.principal, asker.principal.org_id, data.name, data.role
        )
        body = {**views.key(k), "key": secret}
    return _created(body, "/api/v1/keys")


@router.post("/keys/{key_id}/revoke", tags=["admin"])
def revoke_key(request: Request, asker: AskerDep, key_id: Id) -> dict[str, Any]:
    """Revoke a key of the asker's organisation; it stops working at once."""
    with registry(request).transaction() as session:
        return views.key(admin.revoke_key(session, asker.principal, key_id))


@router.get("/webhooks", tags=["webhooks"])
def list_webhooks(request: Request, asker: AskerDep) -> dict[str, Any]:
    """The webhooks of the asker's organisation."""
    with registry(request).transaction() as session:
        return {"items": [views.webhook(w) for w in admin.webhooks_of(session, asker.principal)]}


@router.post("/webhooks", tags=["webhooks"], status_code=201)
def create_webhook(request: Request, asker: AskerDep, data: WebhookIn) -> JSONResponse:
    """A webhook; its signing secret is in this response only."""
    with registry(request).transaction() as session:
        w, secret = admin.create_webhook(session, asker.principal, data.url, list(data.events))
        body = {**views.webhook(w), "secret": secret}
    return _created(body, "/api/v1/webhooks")


@router.post("/webhooks/{webhook_id}/disable", tags=["webhooks"])
def disable_webhook(request: Request, asker: AskerDep, webhook_id: Id) -> dict[str, Any]:
    """Stop a webhook; its delivery log stays."""
    with registry(request).transaction() as session:
        return views.webhook(admin.disable_webhook(session, asker.principal, webhook_id))


@router.get("/webhooks/{webhook_id}/deliveries", tags=["webhooks"])
def list_deliveries(request: Request, asker: AskerDep, webhook_id: Id) -> dict[str, Any]:
    """A webhook's delivery log: each event's delivery and every attempt."""
    with registry(request).transaction() as session:
        return {
            "items": [
                views.delivery(d, tries)
                for d, tries in admin.deliveries(session, asker.principal, webhook_id)
            ]
        }
