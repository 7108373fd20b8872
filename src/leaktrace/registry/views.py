"""Reports as plain dicts: what the API returns, the pages show and the printable export renders
(the shape ``report.breach_html`` takes). Clock states are computed at ``now``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from leaktrace.i18n import _
from leaktrace.registry import grade, reports, rules
from leaktrace.registry.errors import NotFound
from leaktrace.registry.models import (
    ApiKey,
    Attachment,
    Deadline,
    Delivery,
    DeliveryAttempt,
    Organisation,
    Question,
    Report,
    ReportRecipient,
    ReportVersion,
    User,
    Webhook,
)
from leaktrace.registry.policy import Principal


def _iso(when: dt.datetime | None) -> str | None:
    return when.astimezone(dt.UTC).isoformat() if when else None


def _names(session: Session, ids: set[int | None]) -> dict[int, str]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    rows = session.execute(
        sa.select(User.id, User.display_name, User.username).where(User.id.in_(ids))
    )
    return {row.id: row.display_name or row.username for row in rows}


def clock(d: Deadline, now: dt.datetime) -> dict[str, Any]:
    return {
        "rule_id": d.rule_id,
        "table_version": d.table_version,
        "authority": d.authority,
        "label_zh": d.label_zh,
        "label_en": d.label_en,
        "start": d.start,
        "due_at": _iso(d.due_at),
        "met_at": _iso(d.met_at),
        "state": rules.state(d.due_at, d.met_at, now),
        "informational": d.informational,
        "verified": d.verified,
    }


def summary(report: Report, org_name: str, clocks: list[Deadline], now: dt.datetime) -> dict:
    """A report in a list: no content, only what a list shows."""
    running = [c for c in clocks if not c.informational]
    states = [rules.state(c.due_at, c.met_at, now) for c in running]
    next_due = min((c.due_at for c in running if c.due_at and c.met_at is None), default=None)
    return {
        "id": report.id,
        "title": report.title,
        "institution": org_name,
        "org_id": report.org_id,
        "status": report.status,
        "grade": report.grade,
        "people_affected": report.people_affected,
        "discovered_at": _iso(report.discovered_at),
        "filed_at": _iso(report.filed_at),
        "closed_at": _iso(report.closed_at),
        "version": report.latest_version,
        "overdue": report.status != "closed" and "overdue" in states,
        "next_due_at": _iso(next_due),
    }


def summaries(session: Session, items: list[Report], now: dt.datetime) -> list[dict[str, Any]]:
    """List rows for ``items`` (already filtered by the policy), in two queries."""
    ids = [r.id for r in items]
    orgs = {
        row.id: row.name
        for row in session.execute(
            sa.select(Organisation.id, Organisation.name).where(
                Organisation.id.in_({r.org_id for r in items})
            )
        )
    }
    by_report: dict[int, list[Deadline]] = {i: [] for i in ids}
    for d in session.scalars(sa.select(Deadline).where(Deadline.report_id.in_(ids))):
        by_report[d.report_id].append(d)
    return [summary(r, orgs.get(r.org_id, ""), by_report[r.id], now) for r in items]


def full(
    session: Session,
    principal: Principal,
    report_id: int,
    now: dt.datetime,
    number: int | None = None,
) -> dict[str, Any]:
    """Everything about one report at one version (the latest when ``number`` is None)."""
    report = reports.get(session, principal, report_id)
    org = session.get_one(Organisation, report.org_id)
    history = reports.versions(session, principal, report_id)
    wanted = number or report.latest_version
    shown = next((v for v in history if v.number == wanted), None)
    if shown is None:
        raise NotFound(_("No version {n} of this report.").format(n=number))
    questions = reports.questions(session, report)
    attachments = session.scalars(
        sa.select(Attachment).where(Attachment.report_id == report.id).order_by(Attachment.id)
    ).all()
    regulators = session.scalars(
        sa.select(Organisation.name)
        .join(ReportRecipient, ReportRecipient.org_id == Organisation.id)
        .where(ReportRecipient.report_id == report.id)
        .order_by(Organisation.name)
    ).all()
    names = _names(
        session,
        {v.author_id for v in history} | {q.asked_by for q in questions},
    )
    return {
        "id": report.id,
        "title": report.title,
        "status": report.status,
        "institution": {
            "id": org.id,
            "name": org.name,
            "sector": org.sector,
            "cii": org.cii,
            "central_body": org.central_body,
        },
        "regulators": list(regulators),
        "grade": {
            "code": report.grade if shown.number == report.latest_version else _effective(shown),
            "computed": shown.grade_computed,
            "override": shown.grade_override,
            "override_reason": shown.override_reason,
            "reasons": list(_reasons(shown)),
        },
        "discovered_at": _iso(report.discovered_at),
        "filed_at": _iso(report.filed_at),
        "handled_at": _iso(report.handled_at),
        "closed_at": _iso(report.closed_at),
        "rules_version": report.rules_version,
        "latest_version": report.latest_version,
        "version": {
            "number": shown.number,
            "kind": shown.kind,
            "created_at": _iso(shown.created_at),
            "author": names.get(shown.author_id or 0, ""),
            "fields": shown.fields,
            "counts": shown.counts,
        },
        "versions": _history(history, names),
        "clocks": [clock(d, now) for d in reports.clocks(session, report)],
        "questions": [_question(q, names) for q in questions],
        "attachments": [attachment(a) for a in attachments],
        "generated_at": _iso(now),
    }


def _effective(v: ReportVersion) -> str:
    return v.grade_override or v.grade_computed


def _reasons(v: ReportVersion) -> tuple[str, ...]:
    return grade.grade(reports.counts_of(v.counts)).reasons


def _history(history: list[ReportVersion], names: dict[int, str]) -> list[dict[str, Any]]:
    out = []
    before: dict[str, Any] = {}
    for v in history:
        changed = sorted(k for k, value in v.fields.items() if before.get(k) != value)
        out.append(
            {
                "number": v.number,
                "kind": v.kind,
                "created_at": _iso(v.created_at),
                "author": names.get(v.author_id or 0, ""),
                "changed": changed,
            }
        )
        before = v.fields
    return out


def _question(q: Question, names: dict[int, str]) -> dict[str, Any]:
    return {
        "id": q.id,
        "asked_at": _iso(q.asked_at),
        "asked_by": names.get(q.asked_by or 0, ""),
        "text": q.text,
        "answer": q.answer,
        "answered_at": _iso(q.answered_at),
    }


def attachment(a: Attachment) -> dict[str, Any]:
    return {
        "id": a.id,
        "filename": a.filename,
        "media_type": a.media_type,
        "sha256": a.sha256,
        "size": a.size,
        "summary": a.summary,
        "uploaded_at": _iso(a.uploaded_at),
    }


def user(u: User) -> dict[str, Any]:
    return {
        "id": u.id,
        "username": u.username,
        "display_name": u.display_name,
        "role": u.role,
        "active": u.active,
        "created_at": _iso(u.created_at),
    }


def key(k: ApiKey) -> dict[str, Any]:
    return {
        "id": k.id,
        "name": k.name,
        "prefix": k.prefix,
        "role": k.role,
        "created_at": _iso(k.created_at),
        "revoked_at": _iso(k.revoked_at),
        "last_used_at": _iso(k.last_used_at),
    }


def webhook(w: Webhook) -> dict[str, Any]:
    return {
        "id": w.id,
        "url": w.url,
        "events": w.events,
        "active": w.active,
        "created_at": _iso(w.created_at),
    }


def delivery(d: Delivery, attempts: list[DeliveryAttempt]) -> dict[str, Any]:
    return {
        "id": d.id,
        "event_id": d.event_id,
        "status": d.status,
        "attempts": [
            {
                "at": _iso(a.at),
                "status_code": a.status_code,
                "error": a.error,
                "duration_ms": a.duration_ms,
            }
            for a in attempts
        ],
        "next_attempt_at": _iso(d.next_attempt_at),
        "delivered_at": _iso(d.delivered_at),
    }
