"""Who may see and do what: one access policy, applied inside the queries, that fails closed.

A principal (a signed-in user or an API key) belongs to one organisation and holds one role.
An institution sees its own reports; a regulator sees the reports filed to it. Every read of a
report, a list, a count, an export, a search, the dashboard and webhook deliveries goes through
:func:`visible_reports`, so that what a list shows is exactly what its items let one open; an
object outside it is reported as absent (404), never as forbidden, so that its existence is not
revealed. Actions are granted by the table :data:`GRANTS`; anything not in it is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from leaktrace.registry.models import Report, ReportRecipient

#: Every role of every kind of organisation.
EVERY_ROLE = frozenset(
    {
        ("institution", "viewer"),
        ("institution", "reporter"),
        ("institution", "admin"),
        ("regulator", "viewer"),
        ("regulator", "reviewer"),
        ("regulator", "admin"),
    }
)
#: Action -> the (organisation kind, role) pairs allowed to take it. Nothing deletes.
GRANTS: dict[str, frozenset[tuple[str, str]]] = {
    "report.read": EVERY_ROLE,
    "report.file": frozenset({("institution", "reporter"), ("institution", "admin")}),
    "report.supplement": frozenset({("institution", "reporter"), ("institution", "admin")}),
    "report.answer": frozenset({("institution", "reporter"), ("institution", "admin")}),
    "report.question": frozenset({("regulator", "reviewer"), ("regulator", "admin")}),
    "report.close": frozenset({("regulator", "reviewer"), ("regulator", "admin")}),
    "dashboard.read": frozenset(
        {("regulator", "viewer"), ("regulator", "reviewer"), ("regulator", "admin")}
    ),
    "org.manage": frozenset({("institution", "admin"), ("regulator", "admin")}),
    "audit.read": frozenset({("institution", "admin"), ("regulator", "admin")}),
    # keyed identifiers: the operator (a regulator's admin) ingests leaks; an institution's admin
    # enrols its customers; its people read its alerts; leaks are listed as leaks_query says
    "leak.ingest": frozenset({("regulator", "admin")}),
    "leak.read": EVERY_ROLE,
    "enrol": frozenset({("institution", "admin")}),
    "alert.read": frozenset(
        {("institution", "viewer"), ("institution", "reporter"), ("institution", "admin")}
    ),
}


@dataclass(frozen=True)
class Principal:
    """Who is acting: a user (through a session) or an API key, of one organisation, in one role."""

    org_id: int
    org_kind: str
    role: str
    via: str  # "session", "api_key" or "cli"
    user_id: int | None = None
    key_id: int | None = None
    name: str = ""

    def may(self, action: str) -> bool:
        """Whether this principal's kind and role are granted ``action`` (unknown: never)."""
        return (self.org_kind, self.role) in GRANTS.get(action, frozenset())


def visible_reports(principal: Principal) -> sa.ColumnElement[bool]:
    """The condition on ``reports`` selecting exactly what ``principal`` may read."""
    if not principal.may("report.read"):
        return sa.false()
    if principal.org_kind == "institution":
        return Report.org_id == principal.org_id
    if principal.org_kind == "regulator":
        filed_to = sa.select(ReportRecipient.report_id).where(
            ReportRecipient.org_id == principal.org_id
        )
        return Report.id.in_(filed_to)
    return sa.false()


def reports_query(principal: Principal) -> sa.Select[tuple[Report]]:
    """``SELECT reports`` already limited to what ``principal`` may read."""
    return sa.select(Report).where(visible_reports(principal))
