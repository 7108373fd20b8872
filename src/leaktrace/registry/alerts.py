"""Alerts: a leak's keyed identifiers matched against every institution's enrolled ones, one
alert per institution per leak with the count and the matched tags, announced by an outbox event
``leak.matched`` to that institution's webhooks. Nothing here ever held an identifier: tags only.

Matching is one join on (bucket, tag) per partition of buckets, so that on PostgreSQL each join
reads one partition of each table (and, sharded, runs where the partition lives).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from leaktrace.i18n import _
from leaktrace.registry import audit, outbox
from leaktrace.registry.errors import NotFound
from leaktrace.registry.identifiers import BUCKETS_PER_PARTITION, PARTITIONS
from leaktrace.registry.models import (
    Alert,
    AlertMatch,
    EnrolledIdentifier,
    Leak,
    LeakIdentifier,
    utcnow,
)
from leaktrace.registry.policy import Principal
from leaktrace.registry.reports import require

#: Alert-match rows inserted per statement.
CHUNK = 50_000


def _matches(
    session: Session, condition: sa.ColumnElement[bool]
) -> Iterator[tuple[int, int, bytes]]:
    """(organisation, leak, tag) of every enrolled tag found in a leak under ``condition``: one
    join on (bucket, tag) per partition of buckets."""
    lit, enr = LeakIdentifier, EnrolledIdentifier
    for part in range(PARTITIONS):
        low, high = part * BUCKETS_PER_PARTITION, (part + 1) * BUCKETS_PER_PARTITION
        rows = session.execute(
            sa.select(enr.org_id, lit.leak_id, lit.tag)
            .join(enr, sa.and_(enr.bucket == lit.bucket, enr.tag == lit.tag))
            .where(
                condition,
                lit.bucket >= low,
                lit.bucket < high,
                enr.bucket >= low,
                enr.bucket < high,
            )
        )
        for org_id, leak_id, tag in rows:
            yield org_id, leak_id, bytes(tag)


def _grouped(
    found: Iterator[tuple[int, int, bytes]], done: set[tuple[int, int]]
) -> dict[tuple[int, int], list[bytes]]:
    """Tags by (organisation, leak), leaving out the pairs in ``done`` (alerted already)."""
    grouped: dict[tuple[int, int], list[bytes]] = defaultdict(list)
    for org_id, leak_id, tag in found:
        if (org_id, leak_id) not in done:
            grouped[(org_id, leak_id)].append(tag)
    return grouped


def raise_alerts(session: Session, leak_id: int, now: dt.datetime | None = None) -> list[Alert]:
    """One alert for each institution with customers in leak ``leak_id`` (none twice: an
    organisation already alerted of this leak is left as it is)."""
    leak = session.get(Leak, leak_id)
    if leak is None:
        raise NotFound(_("No such leak."))
    done = {
        (o, leak_id)
        for o in session.scalars(sa.select(Alert.org_id).where(Alert.leak_id == leak_id))
    }
    grouped = _grouped(_matches(session, LeakIdentifier.leak_id == leak_id), done)
    return [
        _alert(session, org_id, leak, tags, now or utcnow())
        for (org_id, _l), tags in sorted(grouped.items())
    ]


def alert_enrolled(session: Session, org_id: int, now: dt.datetime | None = None) -> list[Alert]:
    """One alert for each leak ingested before holding customers ``org_id`` has enrolled since,
    where it has none yet (an enrolment that ends matches the leaks already stored)."""
    done = {
        (org_id, leak_id)
        for leak_id in session.scalars(sa.select(Alert.leak_id).where(Alert.org_id == org_id))
    }
    grouped = _grouped(_matches(session, EnrolledIdentifier.org_id == org_id), done)
    return [
        _alert(session, org_id, session.get_one(Leak, leak_id), tags, now or utcnow())
        for (_o, leak_id), tags in sorted(grouped.items())
    ]


def _alert(session: Session, org_id: int, leak: Leak, tags: list[bytes], now: dt.datetime) -> Alert:
    """The alert of ``org_id`` on ``leak`` with its matched tags, announced to the organisation's
    webhooks and written in the audit log by count alone."""
    alert = Alert(org_id=org_id, leak_id=leak.id, matches=len(tags), created_at=now)
    session.add(alert)
    session.flush()
    table = AlertMatch.__table__
    for start in range(0, len(tags), CHUNK):
        session.execute(
            sa.insert(table),
            [{"alert_id": alert.id, "tag": t} for t in tags[start : start + CHUNK]],
        )
    payload = {
        "leak_id": leak.id,
        "alert_id": alert.id,
        "matches": alert.matches,
        "first_seen_at": leak.first_seen_at,
    }
    key = f"leak.matched:{leak.id}:{org_id}"
    outbox.enqueue(session, org_id, "leak.matched", None, payload, key, now)
    detail = {"leak_id": leak.id, "org_id": org_id, "matches": alert.matches}
    audit.record(session, None, "alert.create", "alert", alert.id, detail, via="registry")
    return alert


def alerts_of(session: Session, principal: Principal) -> list[Alert]:
    """The alerts of the principal's own organisation, newest first."""
    require(principal, "alert.read")
    return list(
        session.scalars(
            sa.select(Alert).where(Alert.org_id == principal.org_id).order_by(Alert.id.desc())
        )
    )


def alert_tags(
    session: Session, principal: Principal, alert_id: int, now: dt.datetime
) -> list[bytes]:
    """The matched tags of one alert of the principal's organisation (another's is absent to
    every role, like a report; the role is checked on its own); the first reading marks it seen."""
    alert = session.scalars(
        sa.select(Alert).where(Alert.id == alert_id, Alert.org_id == principal.org_id)
    ).first()
    if alert is None:
        raise NotFound(_("No such alert."))
    require(principal, "alert.read")
    if alert.seen_at is None:
        alert.seen_at = now
    tags = session.scalars(
        sa.select(AlertMatch.tag).where(AlertMatch.alert_id == alert.id).order_by(AlertMatch.tag)
    )
    audit.record(session, principal, "alert.read", "alert", alert.id, {})
    return [bytes(t) for t in tags]


def view(alert: Alert, leak: Leak) -> dict[str, Any]:
    """An alert as the API shows it: counts, times and the leak's metadata; no tag."""
    return {
        "id": alert.id,
        "leak_id": alert.leak_id,
        "matches": alert.matches,
        "created_at": audit.iso_utc(alert.created_at),
        "seen_at": audit.iso_utc(alert.seen_at) if alert.seen_at else None,
        "leak": {
            "source": leak.source,
            "first_seen_at": audit.iso_utc(leak.first_seen_at),
            "data_kinds": leak.data_kinds,
        },
    }
