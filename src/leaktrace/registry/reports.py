"""Breach reports: filing, supplements, the summary, questions and answers, closing, and reading
them back, each through the access policy, the audit chain and the outbox in one transaction.

A report's content is never overwritten: every change is a new version holding the whole content.
Its clocks are fixed from the rules table in force at discovery and stored, so a later table never
rewrites a past deadline; a clock that starts later (the summary after handling) takes its rule
from the stored table version.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from leaktrace.i18n import _
from leaktrace.registry import audit, outbox, rules
from leaktrace.registry import grade as grading
from leaktrace.registry.errors import Conflict, Invalid, NotFound, Refused
from leaktrace.registry.models import (
    Deadline,
    Organisation,
    Question,
    Report,
    ReportRecipient,
    ReportVersion,
    utcnow,
)
from leaktrace.registry.policy import Principal, reports_query
from leaktrace.registry.schemas import FIELD_NAMES, ReportIn, SupplementIn

#: A discovery time this far in the future is refused (clocks of two machines differ a little).
FUTURE_SLACK = dt.timedelta(minutes=5)


def require(principal: Principal, action: str) -> None:
    if not principal.may(action):
        raise Refused(_("Your role may not do this."))


def get(session: Session, principal: Principal, report_id: int) -> Report:
    """The report, if ``principal`` may read it; NotFound otherwise (absent or not theirs)."""
    report = session.scalars(reports_query(principal).where(Report.id == report_id)).first()
    if report is None:
        raise NotFound(_("No report {id}.").format(id=report_id))
    return report


def counts_of(data: Any) -> grading.Counts:
    """The grade's counts from a version's stored counts."""
    return grading.Counts(**{f.name: data.get(f.name) for f in dataclasses.fields(grading.Counts)})


def _grade(counts: dict[str, Any], override: str | None, reason: str | None) -> tuple[str, str]:
    """(computed, effective) grade codes; an override without a reason is Invalid."""
    computed = grading.grade(counts_of(counts)).code
    try:
        effective = grading.effective_grade(computed, override, reason)
    except ValueError as e:
        raise Invalid(str(e), field="override_reason") from e
    return computed, effective


def _facts(org: Organisation, report: Report) -> rules.Facts:
    return rules.Facts(
        sector=org.sector or "other",
        cii=org.cii,
        central_body=org.central_body,
        grade=report.grade,
        discovered_at=report.discovered_at,
        handled_at=report.handled_at,
    )


def _fields(data: dict[str, Any]) -> dict[str, Any]:
    """Fields as stored: JSON-ready, every name present (None: not yet stated)."""
    out = {name: data.get(name) for name in FIELD_NAMES}
    if isinstance(out["occurred_at"], dt.datetime):
        out["occurred_at"] = out["occurred_at"].astimezone(dt.UTC).isoformat()
    return out


def _add_clocks(session: Session, org: Organisation, report: Report, now: dt.datetime) -> None:
    """Store every clock the report's stored table version gives and it does not have yet."""
    table = rules.load_table()
    have = set(session.scalars(sa.select(Deadline.rule_id).where(Deadline.report_id == report.id)))
    for clock in rules.clocks(_facts(org, report), table):
        if clock.rule_id in have:
            continue
        session.add(
            Deadline(
                report_id=report.id,
                rule_id=clock.rule_id,
                table_version=clock.table_version,
                authority=clock.authority,
                label_zh=clock.label_zh,
                label_en=clock.label_en,
                start=clock.start,
                due_at=clock.due_at,
                # the report in the registry is the first report to every authority at once
                met_at=now if clock.start == "discovery" else None,
                informational=clock.informational,
                verified=clock.verified,
            )
        )


def _recipients(session: Session, report: Report) -> list[int]:
    """Regulators to file to: those of the authorities whose clocks run; the CAC's when none."""
    authorities = set(
        session.scalars(
            sa.select(Deadline.authority).where(
                Deadline.report_id == report.id, Deadline.informational.is_(False)
            )
        )
    ) or {"CAC"}
    return list(
        session.scalars(
            sa.select(Organisation.id).where(
                Organisation.kind == "regulator", Organisation.authority.in_(authorities)
            )
        )
    )


def _announce(
    session: Session, report: Report, event: str, orgs: list[int], key: str, **extra: Any
) -> None:
    payload = {"report_id": report.id, "status": report.status, "grade": report.grade, **extra}
    for org_id in sorted(set(orgs)):
        outbox.enqueue(session, org_id, event, report.id, payload, f"{key}:{org_id}")


def _regulators_of(session: Session, report: Report) -> list[int]:
    return list(
        session.scalars(
            sa.select(ReportRecipient.org_id).where(ReportRecipient.report_id == report.id)
        )
    )


def file(
    session: Session, principal: Principal, data: ReportIn, now: dt.datetime | None = None
) -> Report:
    """File an initial report for the principal's institution; its clocks start at discovery."""
    require(principal, "report.file")
    now = now or utcnow()
    if data.discovered_at > now + FUTURE_SLACK:
        raise Invalid(_("The time of discovery is in the future."), field="discovered_at")
    org = session.get_one(Organisation, principal.org_id)
    counts = data.counts.model_dump()
    computed, effective = _grade(counts, data.grade_override, data.override_reason)
    try:  # before the first table of rules there is no clock to run
        rules_version = rules.load_table().version_at(data.discovered_at).version
    except ValueError as e:
        raise Invalid(str(e), field="discovered_at") from None
    report = Report(
        org_id=org.id,
        title=data.title,
        status="open",
        grade=effective,
        people_affected=counts.get("people_affected"),
        cause_category=data.fields.cause_category,
        rules_version=rules_version,
        discovered_at=data.discovered_at,
        filed_at=now,
        created_by=principal.user_id,
        latest_version=1,
    )
    session.add(report)
    session.flush()
    session.add(
        ReportVersion(
            report_id=report.id,
            number=1,
            kind="initial",
            fields=_fields(data.fields.model_dump()),
            counts=counts,
            grade_computed=computed,
            grade_override=data.grade_override,
            override_reason=data.override_reason if data.grade_override else None,
            author_id=principal.user_id,
            created_at=now,
        )
    )
    _add_clocks(session, org, report, now)
    session.flush()
    regulators = _recipients(session, report)
    session.add_all(ReportRecipient(report_id=report.id, org_id=r) for r in regulators)
    audit.record(session, principal, "report.file", "report", report.id, {"version": 1})
    _announce(session, report, "report.filed", [*regulators, org.id], f"report:{report.id}:filed")
    session.flush()
    return report


def supplement(
    session: Session,
    principal: Principal,
    report_id: int,
    data: SupplementIn,
    now: dt.datetime | None = None,
) -> ReportVersion:
    """A new version: the fields given replace the last version's; the grade is computed again.
    A summary meets the clocks that run from the end of handling."""
    report = get(session, principal, report_id)
    require(principal, "report.supplement")
    if report.status == "closed":
        raise Conflict(_("The report is closed."))
    now = now or utcnow()
    last = session.scalars(
        sa.select(ReportVersion).where(
            ReportVersion.report_id == report.id, ReportVersion.number == report.latest_version
        )
    ).one()
    given = data.fields.model_dump(exclude_unset=True)
    fields = {name: last.fields.get(name) for name in FIELD_NAMES}
    fields.update({name: value for name, value in _fields(given).items() if name in given})
    counts = data.counts.model_dump() if data.counts is not None else dict(last.counts)
    override = data.grade_override if data.grade_override is not None else last.grade_override
    reason = data.override_reason if data.grade_override is not None else last.override_reason
    computed, effective = _grade(counts, override, reason)
    org = session.get_one(Organisation, report.org_id)
    if data.handled_at is not None:
        _handled(report, data.handled_at, now)
    version = ReportVersion(
        report_id=report.id,
        number=report.latest_version + 1,
        kind=data.kind,
        fields=fields,
        counts=counts,
        grade_computed=computed,
        grade_override=override,
        override_reason=reason if override else None,
        author_id=principal.user_id,
        created_at=now,
    )
    session.add(version)
    report.latest_version = version.number
    report.grade = effective
    report.people_affected = counts.get("people_affected")
    report.cause_category = fields.get("cause_category")
    _add_clocks(session, org, report, now)
    _start_handled_clocks(session, report)
    if data.kind == "summary":
        _meet(session, report, "handled", now)
    session.flush()
    for r in set(_recipients(session, report)) - set(_regulators_of(session, report)):
        session.add(ReportRecipient(report_id=report.id, org_id=r))
    audit.record(
        session,
        principal,
        "report.supplement",
        "report",
        report.id,
        {"version": version.number, "kind": data.kind, "changed": sorted(given)},
    )
    _announce(
        session,
        report,
        "report.supplemented",
        [*_regulators_of(session, report), report.org_id],
        f"report:{report.id}:v{version.number}",
        version=version.number,
    )
    return version


def _handled(report: Report, handled_at: dt.datetime, now: dt.datetime) -> None:
    if handled_at > now + FUTURE_SLACK:
        raise Invalid(_("The end of handling is in the future."), field="handled_at")
    if handled_at < report.discovered_at:
        raise Invalid(_("Handling cannot end before discovery."), field="handled_at")
    report.handled_at = handled_at


def _start_handled_clocks(session: Session, report: Report) -> None:
    """Give the clocks that run from the end of handling their due time, from the stored rule."""
    if report.handled_at is None:
        return
    table = rules.load_table()
    for clock in session.scalars(
        sa.select(Deadline).where(
            Deadline.report_id == report.id, Deadline.start == "handled", Deadline.due_at.is_(None)
        )
    ):
        rule = table.rule(clock.table_version, clock.rule_id)
        clock.due_at = rules.due_at(rule, report.handled_at)


def _meet(session: Session, report: Report, start: str, now: dt.datetime) -> None:
    for clock in session.scalars(
        sa.select(Deadline).where(
            Deadline.report_id == report.id, Deadline.start == start, Deadline.met_at.is_(None)
        )
    ):
        clock.met_at = now


def ask(
    session: Session,
    principal: Principal,
    report_id: int,
    text: str,
    now: dt.datetime | None = None,
) -> Question:
    """A regulator's question on a report it received."""
    report = get(session, principal, report_id)
    require(principal, "report.question")
    if report.status == "closed":
        raise Conflict(_("The report is closed."))
    question = Question(
        report_id=report.id,
        asked_by_org=principal.org_id,
        asked_by=principal.user_id,
        text=text,
        asked_at=now or utcnow(),
    )
    session.add(question)
    report.status = "questioned"
    session.flush()
    audit.record(session, principal, "report.question", "question", question.id, {})
    _announce(
        session,
        report,
        "question.asked",
        [report.org_id],
        f"question:{question.id}:asked",
        question_id=question.id,
    )
    return question


def answer(
    session: Session,
    principal: Principal,
    report_id: int,
    question_id: int,
    text: str,
    now: dt.datetime | None = None,
) -> Question:
    """The institution's answer to a question on its report."""
    report = get(session, principal, report_id)
    require(principal, "report.answer")
    question = session.scalars(
        sa.select(Question).where(Question.id == question_id, Question.report_id == report.id)
    ).first()
    if question is None:
        raise NotFound(_("No question {id} on this report.").format(id=question_id))
    if question.answer is not None:
        raise Conflict(_("The question is already answered."))
    if report.status == "closed":
        raise Conflict(_("The report is closed."))
    question.answer = text
    question.answered_by = principal.user_id
    question.answered_at = now or utcnow()
    open_questions = session.scalar(
        sa.select(sa.func.count())
        .select_from(Question)
        .where(Question.report_id == report.id, Question.answer.is_(None))
    )
    if not open_questions:
        report.status = "open"
    audit.record(session, principal, "report.answer", "question", question.id, {})
    _announce(
        session,
        report,
        "question.answered",
        [question.asked_by_org],
        f"question:{question.id}:answered",
        question_id=question.id,
    )
    return question


def close(
    session: Session, principal: Principal, report_id: int, now: dt.datetime | None = None
) -> Report:
    """A regulator closes a report it received; it stays readable, never deleted."""
    report = get(session, principal, report_id)
    require(principal, "report.close")
    if report.status == "closed":
        raise Conflict(_("The report is closed."))
    report.status = "closed"
    report.closed_at = now or utcnow()
    audit.record(session, principal, "report.close", "report", report.id, {})
    _announce(
        session,
        report,
        "report.closed",
        [report.org_id, *_regulators_of(session, report)],
        f"report:{report.id}:closed",
    )
    return report


def versions(session: Session, principal: Principal, report_id: int) -> list[ReportVersion]:
    """Every version of a report, oldest first."""
    report = get(session, principal, report_id)
    return list(
        session.scalars(
            sa.select(ReportVersion)
            .where(ReportVersion.report_id == report.id)
            .order_by(ReportVersion.number)
        )
    )


def clocks(session: Session, report: Report) -> list[Deadline]:
    """A report's clocks, soonest first (those not started yet last)."""
    return list(
        session.scalars(
            sa.select(Deadline)
            .where(Deadline.report_id == report.id)
            .order_by(Deadline.due_at.is_(None), Deadline.due_at, Deadline.id)
        )
    )


def questions(session: Session, report: Report) -> list[Question]:
    return list(
        session.scalars(
            sa.select(Question).where(Question.report_id == report.id).order_by(Question.id)
        )
    )
