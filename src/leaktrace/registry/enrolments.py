"""The registry's side of enrolment: an institution's quota (its declared customers, set by the
operator), the evaluations charged against it, and the (bucket, tag) pairs it enrols.

The quota bounds what an institution can learn through enrolment: at most :data:`PER_CUSTOMER`
evaluations per declared customer (a resident ID and a mobile each), whatever it sends. The tags it
enrols are bounded by the evaluations it was charged for, and each must lie in its bucket.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from leaktrace.i18n import _
from leaktrace.registry import alerts, audit
from leaktrace.registry.errors import Conflict, Invalid, NotFound
from leaktrace.registry.identifiers import KINDS, TAG_BYTES, bucket_of
from leaktrace.registry.models import EnrolledIdentifier, Enrolment, Organisation, utcnow
from leaktrace.registry.policy import Principal
from leaktrace.registry.reports import require

#: Evaluations allowed per declared customer: one per kind keyed.
PER_CUSTOMER = len(KINDS)
#: The most customers an institution may declare.
MAX_CUSTOMERS = 2_000_000_000
_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def declare(session: Session, org_id: int, customers: int) -> Enrolment:
    """Set an institution's declared customer count (the operator's command line): its quota."""
    org = session.get(Organisation, org_id)
    if org is None or org.kind != "institution":
        raise NotFound(_("No such institution."))
    if not 0 <= customers <= MAX_CUSTOMERS:
        raise Invalid(
            _("A customer count is a whole number from 0 to {max}.").format(max=MAX_CUSTOMERS),
            field="customers",
        )
    row = session.get(Enrolment, org_id, with_for_update=True)
    if row is None:
        row = Enrolment(org_id=org_id, declared_customers=customers, enrolled=0)
        session.add(row)
    row.declared_customers = customers
    row.updated_at = utcnow()
    audit.record(
        session, None, "enrolment.declare", "organisation", org_id, {"customers": customers}
    )
    return row


def charge(session: Session, principal: Principal, n: int, now: dt.datetime) -> int:
    """Charge ``n`` evaluations to the principal's institution; the evaluations left after. A
    Conflict when they would pass its quota (nothing is charged then)."""
    require(principal, "enrol")
    limit = Enrolment.declared_customers * PER_CUSTOMER
    charged = session.execute(
        sa.update(Enrolment)
        .where(Enrolment.org_id == principal.org_id, Enrolment.enrolled + n <= limit)
        .values(enrolled=Enrolment.enrolled + n, updated_at=now)
        .returning(limit - Enrolment.enrolled)
    ).first()
    if charged is None:
        raise Conflict(
            _(
                "Enrolment is capped at {per} identifiers per declared customer: this request "
                "would pass it. The registry's operator sets the declared customer count."
            ).format(per=PER_CUSTOMER)
        )
    return int(charged[0])


def refund(session: Session, principal: Principal, n: int) -> None:
    """Give back ``n`` evaluations charged to a request the key process did not answer."""
    session.execute(
        sa.update(Enrolment)
        .where(Enrolment.org_id == principal.org_id)
        .values(enrolled=sa.case((Enrolment.enrolled > n, Enrolment.enrolled - n), else_=0))
    )


def enrol_tags(
    session: Session,
    principal: Principal,
    tags: list[tuple[int, bytes]],
    replace: bool,
    final: bool = False,
) -> tuple[int, int]:
    """Enrol (bucket, tag) pairs for the principal's institution (``replace``: its earlier ones
    are dropped first; ``final``: the enrolment ends here, and is matched against the leaks
    stored already). How many it has enrolled after, and the alerts raised. Refused past what it
    had evaluated."""
    require(principal, "enrol")
    row = session.get(Enrolment, principal.org_id, with_for_update=True)
    if row is None:
        raise Conflict(_("No customer count is declared for this institution."))
    for i, (bucket, tag) in enumerate(tags):
        if len(tag) != TAG_BYTES or bucket_of(tag) != bucket:
            raise Invalid(
                _("Tag {i}: expected {n} bytes lying in its bucket.").format(i=i, n=TAG_BYTES),
                field="tags",
            )
    table = EnrolledIdentifier.__table__
    if replace:
        session.execute(sa.delete(table).where(table.c.org_id == principal.org_id))
        row.tags = 0
    if row.tags + len(tags) > row.enrolled:
        raise Conflict(_("More tags than identifiers evaluated for this institution."))
    if tags:  # the rows inserted, not those already there, are added to the count
        insert = _INSERTS[session.get_bind().dialect.name]
        inserted = session.execute(
            insert(table).on_conflict_do_nothing().returning(table.c.bucket),
            [{"bucket": b, "tag": t, "org_id": principal.org_id} for b, t in tags],
        )
        row.tags += len(inserted.all())
    total = row.tags
    audit.record(
        session,
        principal,
        "enrolment.tags",
        "organisation",
        principal.org_id,
        {"sent": len(tags), "enrolled": total, "replace": replace, "final": final},
    )
    raised = alerts.alert_enrolled(session, principal.org_id) if final else []
    return total, len(raised)
