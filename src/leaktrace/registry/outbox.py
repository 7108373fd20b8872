"""The outbox: events written in the same transaction as the change they announce, then handed to
the organisation's webhooks and delivered with retries, each try kept in the delivery log.

An event becomes visible to :func:`dispatch` only when its transaction commits, so a webhook never
fires for a change that rolled back, and its receiver can already read what it announces. A
webhook belongs to one organisation and only ever receives that organisation's events. Payloads
carry ids, the event, times, grade and state, never personal data or a report's text.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from leaktrace.i18n import _
from leaktrace.registry import webhooks
from leaktrace.registry.audit import iso_utc
from leaktrace.registry.db import transaction
from leaktrace.registry.models import (
    Deadline,
    Delivery,
    DeliveryAttempt,
    OutboxEvent,
    Report,
    ReportRecipient,
    Webhook,
    utcnow,
)

#: The events a webhook can subscribe to.
EVENTS = (
    "report.filed",
    "report.supplemented",
    "question.asked",
    "question.answered",
    "report.closed",
    "deadline.near",
    "deadline.overdue",
    "leak.matched",
)
#: The only keys a payload may hold: ids, times, grade and state (nothing a person wrote).
PAYLOAD_FIELDS = frozenset(
    {
        "report_id",
        "version",
        "question_id",
        "deadline_id",
        "rule_id",
        "authority",
        "grade",
        "status",
        "filed_at",
        "discovered_at",
        "asked_at",
        "answered_at",
        "closed_at",
        "due_at",
        "leak_id",
        "alert_id",
        "matches",
        "first_seen_at",
    }
)
#: Waits after the 1st, 2nd, ... failed try; after the last try the delivery has failed.
BACKOFF = (
    dt.timedelta(seconds=30),
    dt.timedelta(minutes=2),
    dt.timedelta(minutes=10),
    dt.timedelta(hours=1),
    dt.timedelta(hours=6),
)
MAX_ATTEMPTS = len(BACKOFF) + 1
#: Seconds a receiver has to answer.
TIMEOUT = 10.0
#: How long a claimed delivery is left to its sender before another worker may try it (a sender
#: that died between the claim and the outcome).
LEASE = dt.timedelta(seconds=6 * TIMEOUT)
#: Events handed to webhooks per transaction by :func:`dispatch`.
BATCH = 200


def _payload(payload: dict[str, Any]) -> dict[str, Any]:
    """``payload`` checked against :data:`PAYLOAD_FIELDS`, its times as ISO UTC text."""
    data: dict[str, Any] = {}
    for key, value in payload.items():
        if key not in PAYLOAD_FIELDS:
            raise ValueError(
                _("event payload: {key} is not one of the fields an event may carry").format(
                    key=key
                )
            )
        if isinstance(value, dt.datetime):
            value = iso_utc(value)
        elif value is not None and not isinstance(value, (bool, int, str)):
            raise ValueError(
                _(
                    "event payload {key}: expected text, a whole number, true/false, null or a "
                    "time, found {kind}"
                ).format(key=key, kind=type(value).__name__)
            )
        data[key] = value
    return data


_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def enqueue(
    session: Session,
    org_id: int,
    event: str,
    report_id: int | None,
    payload: dict[str, Any],
    dedupe_key: str,
    now: dt.datetime | None = None,
) -> bool:
    """Write an event for ``org_id``'s webhooks in the caller's transaction; True when it is new,
    False when an event with ``dedupe_key`` exists already (nothing is written then)."""
    if event not in EVENTS:
        raise ValueError(
            _("event: expected one of {events}, found {event}").format(
                events=", ".join(EVENTS), event=event
            )
        )
    insert = _INSERTS[session.get_bind().dialect.name]
    statement = (
        insert(OutboxEvent.__table__)
        .values(
            org_id=org_id,
            event=event,
            report_id=report_id,
            payload=_payload(payload),
            dedupe_key=dedupe_key,
            created_at=now or utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(OutboxEvent.__table__.c.id)
    )
    return session.execute(statement).first() is not None


def dispatch(engine: sa.Engine, now: dt.datetime) -> int:
    """Hand every committed, undispatched event to the active webhooks of its organisation that
    subscribe to it (one pending delivery each); returns the number of deliveries made."""
    made = 0
    while True:
        with transaction(engine) as session:
            events = session.scalars(
                sa.select(OutboxEvent)
                .where(OutboxEvent.dispatched_at.is_(None))
                .order_by(OutboxEvent.id)
                .limit(BATCH)
                .with_for_update(skip_locked=True)
            ).all()
            if not events:
                return made
            hooks: dict[int, list[Webhook]] = defaultdict(list)
            for hook in session.scalars(
                sa.select(Webhook).where(
                    Webhook.org_id.in_({e.org_id for e in events}), Webhook.active.is_(True)
                )
            ):
                hooks[hook.org_id].append(hook)
            for event in events:
                for hook in hooks[event.org_id]:
                    if event.event in hook.events:
                        session.add(
                            Delivery(event_id=event.id, webhook_id=hook.id, next_attempt_at=now)
                        )
                        made += 1
                event.dispatched_at = now


@dataclass(frozen=True)
class _Due:
    """A claimed delivery: what its request needs, read before the transaction ends."""

    id: int
    url: str
    secret: str
    event: str
    body: bytes


def _claim(engine: sa.Engine, now: dt.datetime) -> _Due | None:
    """The next due delivery, leased to this sender for :data:`LEASE`."""
    with transaction(engine) as session:
        row = session.execute(
            sa.select(Delivery, Webhook, OutboxEvent)
            .join(Webhook, Webhook.id == Delivery.webhook_id)
            .join(OutboxEvent, OutboxEvent.id == Delivery.event_id)
            .where(
                Delivery.status == "pending",
                Delivery.next_attempt_at <= now,
                Webhook.active.is_(True),
            )
            .order_by(Delivery.next_attempt_at, Delivery.id)
            .limit(1)
            .with_for_update(of=Delivery, skip_locked=True)
        ).first()
        if row is None:
            return None
        delivery, hook, event = row
        delivery.next_attempt_at = now + LEASE
        document = {
            "id": delivery.id,
            "event": event.event,
            "created_at": iso_utc(event.created_at),
            "data": event.payload,
        }
        body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return _Due(delivery.id, hook.url, hook.secret, event.event, body)


def _send(client: httpx.Client, due: _Due, allow_private: bool) -> tuple[int | None, str | None]:
    """POST one delivery: its status code, or the kind of error that stopped it (the response's
    body is never read)."""
    try:
        url = webhooks.check_url(due.url, allow_private)
    except webhooks.AddressRefused as e:  # resolves now to a private address, or not at all
        return None, type(e).__name__
    headers = {
        "Content-Type": "application/json",
        "Leaktrace-Event": due.event,
        "Leaktrace-Delivery": str(due.id),
        webhooks.SIGNATURE_HEADER: webhooks.sign(due.secret, int(time.time()), due.body),
    }
    try:
        # a redirect is an answer, not a new address: following it would skip check_url
        with client.stream(
            "POST", url, content=due.body, headers=headers, timeout=TIMEOUT, follow_redirects=False
        ) as r:
            return r.status_code, None
    except (httpx.HTTPError, httpx.InvalidURL) as e:
        return None, type(e).__name__


def _settle(
    engine: sa.Engine, due: _Due, now: dt.datetime, outcome: tuple[int | None, str | None], ms: int
) -> None:
    """Log the try and decide: delivered, retried after the next wait, or failed."""
    code, error = outcome
    with transaction(engine) as session:
        delivery = session.get(Delivery, due.id, with_for_update=True)
        delivery.attempts += 1
        delivery.last_status_code = code
        delivery.last_error = error
        session.add(
            DeliveryAttempt(
                delivery_id=due.id, at=now, status_code=code, error=error, duration_ms=ms
            )
        )
        if code is not None and 200 <= code < 300:
            delivery.status = "delivered"
            delivery.delivered_at = now
            delivery.next_attempt_at = None
        elif delivery.attempts >= MAX_ATTEMPTS:
            delivery.status = "failed"
            delivery.next_attempt_at = None
        else:
            delivery.next_attempt_at = now + BACKOFF[delivery.attempts - 1]


def deliver_due(
    engine: sa.Engine, client: httpx.Client, now: dt.datetime, allow_private: bool | None = None
) -> int:
    """Try every delivery due at ``now``, one by one (no transaction is open while a receiver is
    called); returns the number of tries. ``allow_private`` None reads the service's setting."""
    if allow_private is None:
        allow_private = webhooks.allow_private_from_env()
    tries = 0
    while due := _claim(engine, now):
        started = time.monotonic()
        outcome = _send(client, due, allow_private)
        _settle(engine, due, now, outcome, round((time.monotonic() - started) * 1000))
        tries += 1
    return tries


def scan_deadlines(
    engine: sa.Engine, now: dt.datetime, soon: dt.timedelta = dt.timedelta(hours=1)
) -> int:
    """Announce each open deadline once when it comes within ``soon`` (``deadline.near``) and once
    when it has passed (``deadline.overdue``), to the report's institution and to every regulator
    it is filed to. Clocks kept for comparison only (``informational``) announce nothing.
    Returns the number of events written."""
    with transaction(engine) as session:
        found = session.execute(
            sa.select(Deadline, Report)
            .join(Report, Report.id == Deadline.report_id)
            .where(
                Deadline.met_at.is_(None),
                Deadline.due_at.is_not(None),
                Deadline.due_at <= now + soon,
                Deadline.informational.is_(False),
                Report.status != "closed",
            )
        ).all()
        if not found:
            return 0
        report_ids = {report.id for _deadline, report in found}
        regulators: dict[int, list[int]] = defaultdict(list)
        for report_id, org_id in session.execute(
            sa.select(ReportRecipient.report_id, ReportRecipient.org_id).where(
                ReportRecipient.report_id.in_(report_ids)
            )
        ):
            regulators[report_id].append(org_id)
        wanted: dict[str, tuple[int, str, Deadline, Report]] = {}
        for deadline, report in found:
            kind = "overdue" if now >= deadline.due_at else "near"
            for org_id in (report.org_id, *regulators[report.id]):
                key = f"deadline:{deadline.id}:{kind}:{org_id}"
                wanted[key] = (org_id, f"deadline.{kind}", deadline, report)
        # keys announced before are skipped here, not left to the insert's conflict: a refused
        # insert still spends an id on PostgreSQL, every round, for as long as a clock is overdue
        done = set(
            session.scalars(
                sa.select(OutboxEvent.dedupe_key).where(OutboxEvent.dedupe_key.in_(wanted))
            )
        )
        written = 0
        for key, (org_id, event, deadline, report) in wanted.items():
            if key in done:
                continue
            payload = {
                "report_id": report.id,
                "deadline_id": deadline.id,
                "rule_id": deadline.rule_id,
                "authority": deadline.authority,
                "due_at": deadline.due_at,
                "grade": report.grade,
                "status": report.status,
            }
            written += enqueue(session, org_id, event, report.id, payload, key, now=now)
        return written
