"""Lists, counts, search and exports of reports: one filter, validated, applied on top of the
access policy. A filter the registry does not know is refused (422), never ignored: an ignored
filter silently returns everything.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from leaktrace.i18n import _
from leaktrace.registry.errors import Invalid, one_of
from leaktrace.registry.grade import GRADES
from leaktrace.registry.models import STATUSES, Deadline, Organisation, Report, ReportVersion
from leaktrace.registry.policy import Principal, reports_query
from leaktrace.registry.schemas import UNSTORABLE, unstorable_text

#: How lists may be ordered.
SORTS = {
    "-filed_at": Report.filed_at.desc(),
    "filed_at": Report.filed_at.asc(),
    "-discovered_at": Report.discovered_at.desc(),
    "discovered_at": Report.discovered_at.asc(),
    "-people_affected": Report.people_affected.desc(),
}
#: The query parameters a list accepts; any other is refused.
PARAMETERS = (
    "status",
    "grade",
    "org",
    "overdue",
    "q",
    "since",
    "until",
    "sort",
    "limit",
    "offset",
    "lang",
)
MAX_LIMIT = 500


@dataclass(frozen=True)
class ReportFilter:
    status: str | None = None
    grade: str | None = None
    org: int | None = None
    overdue: bool | None = None
    q: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    sort: str = "-filed_at"
    limit: int = 50
    offset: int = 0


def _bool(name: str, value: str) -> bool:
    if value.lower() in ("1", "true", "yes"):
        return True
    if value.lower() in ("0", "false", "no"):
        return False
    raise Invalid(_("Expected true or false."), field=name)


def _time(name: str, value: str) -> dt.datetime:
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        raise Invalid(_("Expected a date or time in ISO 8601."), field=name) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone(dt.timedelta(hours=8)))  # a date typed in China
    return when


def _int(name: str, value: str, low: int, high: int) -> int:
    try:
        n = int(value)
    except ValueError:
        raise Invalid(_("Expected a whole number."), field=name) from None
    if not low <= n <= high:
        raise Invalid(
            _("Expected a number from {low} to {high}.").format(low=low, high=high), field=name
        )
    return n


def parse_filter(params: list[tuple[str, str]]) -> ReportFilter:
    """A filter from query parameters; unknown, repeated or malformed ones are Invalid."""
    seen: dict[str, str] = {}
    for name, value in params:
        if name not in PARAMETERS:
            raise Invalid(_("Unknown filter: {name}.").format(name=name[:40]), field=name[:40])
        if name in seen:
            raise Invalid(_("A filter was given twice."), field=name)
        seen[name] = value
    out: dict[str, Any] = {}
    for name, allowed in (("status", STATUSES), ("grade", GRADES), ("sort", tuple(SORTS))):
        if name in seen:
            out[name] = one_of(name, seen[name], allowed)
    if "org" in seen:
        out["org"] = _int("org", seen["org"], 1, 2**31 - 1)
    if "overdue" in seen:
        out["overdue"] = _bool("overdue", seen["overdue"])
    if "q" in seen:
        q = seen["q"].strip()
        if len(q) > 200:
            raise Invalid(_("The search text is too long (200 characters at most)."), field="q")
        if UNSTORABLE.search(q):
            raise Invalid(unstorable_text(), field="q")
        out["q"] = q or None
    for name in ("since", "until"):
        if name in seen:
            out[name] = _time(name, seen[name])
    if "limit" in seen:
        out["limit"] = _int("limit", seen["limit"], 1, MAX_LIMIT)
    if "offset" in seen:
        out["offset"] = _int("offset", seen["offset"], 0, 10**9)
    return ReportFilter(**out)


def _overdue(now: dt.datetime) -> sa.ColumnElement[bool]:
    late = sa.select(Deadline.report_id).where(
        Deadline.met_at.is_(None),
        Deadline.due_at.is_not(None),
        Deadline.due_at < now,
        Deadline.informational.is_(False),
    )
    return sa.and_(Report.id.in_(late), Report.status != "closed")


def _search(q: str) -> sa.ColumnElement[bool]:
    """Title, institution or latest version's text containing ``q`` (bound, never spliced)."""
    like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    in_text = sa.select(ReportVersion.report_id).where(
        ReportVersion.report_id == Report.id,
        ReportVersion.number == Report.latest_version,
        sa.cast(ReportVersion.fields, sa.Text).ilike(like, escape="\\"),
    )
    orgs = sa.select(Organisation.id).where(Organisation.name.ilike(like, escape="\\"))
    return sa.or_(
        Report.title.ilike(like, escape="\\"), Report.org_id.in_(orgs), sa.exists(in_text)
    )


def filtered(principal: Principal, f: ReportFilter, now: dt.datetime) -> sa.Select[tuple[Report]]:
    """The reports ``principal`` may read that pass ``f`` (unordered, unpaged)."""
    stmt = reports_query(principal)
    if f.status:
        stmt = stmt.where(Report.status == f.status)
    if f.grade:
        stmt = stmt.where(Report.grade == f.grade)
    if f.org is not None:
        stmt = stmt.where(Report.org_id == f.org)
    if f.overdue is not None:
        stmt = stmt.where(_overdue(now) if f.overdue else sa.not_(_overdue(now)))
    if f.q:
        stmt = stmt.where(_search(f.q))
    if f.since:
        stmt = stmt.where(Report.discovered_at >= f.since)
    if f.until:
        stmt = stmt.where(Report.discovered_at < f.until)
    return stmt


def page(
    session: Session, principal: Principal, f: ReportFilter, now: dt.datetime
) -> tuple[list[Report], int]:
    """One page of the filtered reports and the count of all of them (same filter, same policy)."""
    stmt = filtered(principal, f, now)
    total = session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery())) or 0
    items = session.scalars(
        stmt.order_by(SORTS[f.sort], Report.id.desc()).limit(f.limit).offset(f.offset)
    )
    return list(items), total
