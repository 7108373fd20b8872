"""The registry's tables, as SQLAlchemy 2 models: organisations, users, keys and sessions; breach
reports with their versions, clocks, questions and attachments; the audit chain; webhooks and their
outbox. Nothing here is ever deleted: reports gain versions, keys are revoked, sessions expire.

Times are stored timezone-aware in UTC. Schema changes go through Alembic
(``registry/migrations``), never through ``create_all`` on a live database.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

#: Kinds of organisation: an institution files reports; a regulator receives and reviews them.
ORG_KINDS = ("institution", "regulator")
#: Sectors of an institution (rules differ: banks also answer to the PBOC and NFRA).
SECTORS = ("bank", "insurer", "lender", "payment", "other")
#: Authorities a regulator organisation speaks for (the rules table's ``authority``).
AUTHORITIES = ("CAC", "PBOC", "NFRA")
#: Roles of users and keys. ``reporter`` exists only in institutions, ``reviewer`` only in
#: regulators; ``admin`` manages its own organisation's users, keys and webhooks.
ROLES = ("viewer", "reporter", "reviewer", "admin")
#: A report's life: filed, questioned by a regulator, closed by a regulator.
STATUSES = ("open", "questioned", "closed")
#: Kinds of report version: the first report, a supplement, the summary after handling.
VERSION_KINDS = ("initial", "supplement", "summary")


def utcnow() -> dt.datetime:
    """Now, timezone-aware in UTC: every stored time is."""
    return dt.datetime.now(dt.UTC)


class UtcDateTime(sa.types.TypeDecorator[dt.datetime]):
    """A timezone-aware UTC datetime on every database (SQLite keeps no zone: it is restored)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("a naive datetime cannot be stored: give its zone")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    """The registry's declarative base (its own metadata, apart from the share ledger's)."""

    type_annotation_map = {dt.datetime: UtcDateTime, dict[str, Any]: sa.JSON, list[Any]: sa.JSON}


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    sector: Mapped[str | None] = mapped_column(sa.String(20))
    authority: Mapped[str | None] = mapped_column(sa.String(20))
    cii: Mapped[bool] = mapped_column(default=False)
    central_body: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    username: Mapped[str] = mapped_column(sa.String(100), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(200), default="")
    password_hash: Mapped[str] = mapped_column(sa.String(200))
    role: Mapped[str] = mapped_column(sa.String(20))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ApiKey(Base):
    """A key for machines: its public prefix, the SHA-256 of its secret part, and its role."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    prefix: Mapped[str] = mapped_column(sa.String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(sa.String(64))
    role: Mapped[str] = mapped_column(sa.String(20))
    created_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column()
    last_used_at: Mapped[dt.datetime | None] = mapped_column()


class WebSession(Base):
    """A signed-in browser: the SHA-256 of its cookie token, its CSRF token, its expiry."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column()
    ended_at: Mapped[dt.datetime | None] = mapped_column()


class Report(Base):
    """One incident's breach report; its content lives in versions, never overwritten."""

    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    title: Mapped[str] = mapped_column(sa.String(300))
    status: Mapped[str] = mapped_column(sa.String(20), default="open")
    grade: Mapped[str] = mapped_column(sa.String(30))
    people_affected: Mapped[int | None] = mapped_column(sa.BigInteger)
    cause_category: Mapped[str | None] = mapped_column(sa.String(30))
    rules_version: Mapped[str] = mapped_column(sa.String(40))
    discovered_at: Mapped[dt.datetime] = mapped_column()
    filed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    handled_at: Mapped[dt.datetime | None] = mapped_column()
    closed_at: Mapped[dt.datetime | None] = mapped_column()
    created_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    latest_version: Mapped[int] = mapped_column(default=1)


class ReportRecipient(Base):
    """A regulator organisation a report is filed to: what makes it visible to that regulator."""

    __tablename__ = "report_recipients"

    report_id: Mapped[int] = mapped_column(sa.ForeignKey("reports.id"), primary_key=True)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), primary_key=True)


class ReportVersion(Base):
    __tablename__ = "report_versions"
    __table_args__ = (sa.UniqueConstraint("report_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(sa.ForeignKey("reports.id"), index=True)
    number: Mapped[int] = mapped_column()
    kind: Mapped[str] = mapped_column(sa.String(20))
    fields: Mapped[dict[str, Any]] = mapped_column()
    counts: Mapped[dict[str, Any]] = mapped_column()
    grade_computed: Mapped[str] = mapped_column(sa.String(30))
    grade_override: Mapped[str | None] = mapped_column(sa.String(30))
    override_reason: Mapped[str | None] = mapped_column(sa.Text)
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Deadline(Base):
    """One clock of a report, fixed when it starts: a later rules table never rewrites it."""

    __tablename__ = "deadlines"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(sa.ForeignKey("reports.id"), index=True)
    rule_id: Mapped[str] = mapped_column(sa.String(60))
    table_version: Mapped[str] = mapped_column(sa.String(40))
    authority: Mapped[str] = mapped_column(sa.String(20))
    label_zh: Mapped[str] = mapped_column(sa.Text)
    label_en: Mapped[str] = mapped_column(sa.Text)
    start: Mapped[str] = mapped_column(sa.String(20))
    due_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    met_at: Mapped[dt.datetime | None] = mapped_column()
    informational: Mapped[bool] = mapped_column(default=False)
    verified: Mapped[bool] = mapped_column(default=True)


class Question(Base):
    __tablename__ = "questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(sa.ForeignKey("reports.id"), index=True)
    asked_by_org: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"))
    asked_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(sa.Text)
    asked_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    answer: Mapped[str | None] = mapped_column(sa.Text)
    answered_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    answered_at: Mapped[dt.datetime | None] = mapped_column()


class Attachment(Base):
    """A ``leaktrace verify`` result (JSON or HTML) kept as evidence: bytes, digest, verdict."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(sa.ForeignKey("reports.id"), index=True)
    filename: Mapped[str] = mapped_column(sa.String(255))
    media_type: Mapped[str] = mapped_column(sa.String(60))
    sha256: Mapped[str] = mapped_column(sa.String(64))
    size: Mapped[int] = mapped_column()
    content: Mapped[bytes] = mapped_column(sa.LargeBinary)
    summary: Mapped[dict[str, Any] | None] = mapped_column()
    uploaded_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class AuditEntry(Base):
    """One link of the append-only audit chain: its hash covers its fields and the previous hash."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column()
    actor_user_id: Mapped[int | None] = mapped_column()
    actor_org_id: Mapped[int | None] = mapped_column()
    actor_key_id: Mapped[int | None] = mapped_column()
    via: Mapped[str] = mapped_column(sa.String(20))
    action: Mapped[str] = mapped_column(sa.String(60))
    object_type: Mapped[str] = mapped_column(sa.String(40))
    object_id: Mapped[str | None] = mapped_column(sa.String(60))
    detail: Mapped[dict[str, Any]] = mapped_column()
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    hash: Mapped[str] = mapped_column(sa.String(64), unique=True)


class AuditHead(Base):
    """The chain's last link, one row, locked by every append so that links never fork."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_id: Mapped[int] = mapped_column(default=0)
    last_hash: Mapped[str] = mapped_column(sa.String(64))


class Webhook(Base):
    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    url: Mapped[str] = mapped_column(sa.String(2000))
    secret: Mapped[str] = mapped_column(sa.String(100))
    events: Mapped[list[Any]] = mapped_column()
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class OutboxEvent(Base):
    """An event written in the same transaction as the change it announces; delivered after."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    event: Mapped[str] = mapped_column(sa.String(40))
    report_id: Mapped[int | None] = mapped_column(sa.ForeignKey("reports.id"))
    payload: Mapped[dict[str, Any]] = mapped_column()
    dedupe_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    dispatched_at: Mapped[dt.datetime | None] = mapped_column(index=True)


class Delivery(Base):
    """One webhook's delivery of one event: attempts, last response, next try."""

    __tablename__ = "deliveries"
    __table_args__ = (sa.UniqueConstraint("event_id", "webhook_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("outbox.id"), index=True)
    webhook_id: Mapped[int] = mapped_column(sa.ForeignKey("webhooks.id"), index=True)
    status: Mapped[str] = mapped_column(sa.String(20), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    last_status_code: Mapped[int | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(sa.String(300))
    delivered_at: Mapped[dt.datetime | None] = mapped_column()


class DeliveryAttempt(Base):
    """The delivery log: every try, with its time and outcome."""

    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(sa.ForeignKey("deliveries.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    status_code: Mapped[int | None] = mapped_column()
    error: Mapped[str | None] = mapped_column(sa.String(300))
    duration_ms: Mapped[int] = mapped_column(default=0)


class Leak(Base):
    """A leak the operator ingested: where it was found, when, what it holds; never its data."""

    __tablename__ = "leaks"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(sa.String(200))
    first_seen_at: Mapped[dt.datetime] = mapped_column()
    claimed_org_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisations.id"))
    claimed_sector: Mapped[str | None] = mapped_column(sa.String(20))
    data_kinds: Mapped[list[Any]] = mapped_column()
    counts: Mapped[dict[str, Any]] = mapped_column()
    verdict: Mapped[str | None] = mapped_column(sa.String(40))
    attachment_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    ingested_by: Mapped[str] = mapped_column(sa.String(60))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class LeakIdentifier(Base):
    """One keyed identifier of a leak: its bucket, its tag (the OPRF output's prefix), its kind.
    Partitioned by bucket on PostgreSQL; no foreign key, so that bulk loads run at full speed
    (the leak's row is written in the same transaction)."""

    __tablename__ = "leak_identifiers"

    bucket: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    tag: Mapped[bytes] = mapped_column(sa.LargeBinary(16), primary_key=True)
    leak_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False, index=True)
    kind: Mapped[int] = mapped_column(sa.SmallInteger)


class LeakBucket(Base):
    """A leak's entries in one bucket, packed as a check's answer writes them (16-byte tag, then
    the leak's id in 4 bytes big-endian, sorted by tag): what a check fetches, one row per leak
    a bucket holds rather than one per identifier."""

    __tablename__ = "leak_buckets"

    bucket: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    leak_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    entries: Mapped[int] = mapped_column()
    packed: Mapped[bytes] = mapped_column(sa.LargeBinary)


class EnrolledIdentifier(Base):
    """One keyed identifier an institution enrolled (its customers'), partitioned like leaks'."""

    __tablename__ = "enrolled_identifiers"

    bucket: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    tag: Mapped[bytes] = mapped_column(sa.LargeBinary(16), primary_key=True)
    org_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)


class Enrolment(Base):
    """An institution's enrolment quota: its declared customers (set by the operator), the
    identifiers it has had evaluated so far (at most two per declared customer), and the tags it
    holds enrolled."""

    __tablename__ = "enrolments"

    org_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), primary_key=True)
    declared_customers: Mapped[int] = mapped_column(sa.BigInteger)
    enrolled: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    tags: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Alert(Base):
    """An institution told that a leak holds its customers: how many, when, and when it looked."""

    __tablename__ = "alerts"
    __table_args__ = (sa.UniqueConstraint("org_id", "leak_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    leak_id: Mapped[int] = mapped_column(sa.ForeignKey("leaks.id"), index=True)
    matches: Mapped[int] = mapped_column(sa.BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    seen_at: Mapped[dt.datetime | None] = mapped_column()


class AlertMatch(Base):
    """One keyed identifier of an alert, which only the institution can map to its customer."""

    __tablename__ = "alert_matches"

    alert_id: Mapped[int] = mapped_column(sa.ForeignKey("alerts.id"), primary_key=True)
    tag: Mapped[bytes] = mapped_column(sa.LargeBinary(16), primary_key=True)
