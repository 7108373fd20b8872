"""The audit chain: every sensitive read and write appends one link whose hash covers its fields
and the previous link's hash, so that a changed, removed, reordered or inserted row is found by
:func:`verify` (``leaktrace registry audit verify``).

Appends are serialised on the chain's head row (locked on PostgreSQL; SQLite takes its write lock
at ``BEGIN IMMEDIATE``), so two transactions never link to the same predecessor. Migration 0002
creates the head and refuses UPDATE and DELETE on ``audit_log`` in the database itself.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from leaktrace.i18n import _
from leaktrace.registry.models import AuditEntry, AuditHead, utcnow
from leaktrace.registry.policy import Principal

#: The previous hash of the first link.
GENESIS = "0" * 64
#: The head's row id: the table holds one row.
HEAD_ID = 1
#: Rows read per query by :func:`verify`: the log is walked in pages, never loaded whole.
PAGE = 1000
#: The columns a link's hash covers, in the canonical document's keys.
HASHED = (
    "id",
    "at",
    "actor_user_id",
    "actor_org_id",
    "actor_key_id",
    "via",
    "action",
    "object_type",
    "object_id",
    "detail",
)
_COLUMNS = [AuditEntry.__table__.c[name] for name in (*HASHED, "prev_hash", "hash")]


@dataclass(frozen=True)
class AuditCheck:
    """What :func:`verify` found: whether the chain is whole, how many links it walked, the id of
    the first bad one and the problem in plain words (None when the chain is whole)."""

    ok: bool
    entries: int
    first_bad: int | None = None
    problem: str | None = None


def _check_detail(value: Any, place: str) -> None:
    """Refuse anything in ``detail`` that JSON does not hold as it is (so the hash, computed
    before storing, is the hash of what is read back)."""
    if value is None or isinstance(value, (bool, int, str)):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(_("audit detail {place}: a number must be finite").format(place=place))
        return
    if isinstance(value, list):
        for i, item in enumerate(value):
            _check_detail(item, f"{place}[{i}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(_("audit detail {place}: keys must be text").format(place=place))
            _check_detail(item, f"{place}.{key}")
        return
    raise ValueError(
        _(
            "audit detail {place}: expected text, a number, true/false, null, a list or a map, "
            "found {kind}"
        ).format(place=place, kind=type(value).__name__)
    )


def _check_length(name: str, value: str | None) -> None:
    """Refuse a value longer than its column (SQLite would store it, PostgreSQL would not)."""
    limit = AuditEntry.__table__.c[name].type.length
    if value is not None and len(value) > limit:
        raise ValueError(
            _("audit {field}: at most {limit} characters, found {found}").format(
                field=name, limit=limit, found=len(value)
            )
        )


def iso_utc(at: dt.datetime) -> str:
    """``at`` as ISO text in UTC with microseconds: the chain's (and the events') form of a time."""
    return at.astimezone(dt.UTC).isoformat(timespec="microseconds")


def link_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    """SHA-256 of ``prev_hash`` followed by the canonical JSON of a link's hashed fields (sorted
    keys, no spaces, UTF-8, times in ISO UTC with microseconds)."""
    doc = {name: fields[name] for name in HASHED}
    doc["at"] = iso_utc(doc["at"])
    canonical = json.dumps(
        doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return hashlib.sha256(prev_hash.encode("ascii") + canonical.encode("utf-8")).hexdigest()


def record(
    session: Session,
    principal: Principal | None,
    action: str,
    object_type: str,
    object_id: str | int | None,
    detail: dict[str, Any] | None = None,
    via: str | None = None,
) -> AuditEntry:
    """Append one link in the caller's transaction: it commits or rolls back with the change it
    records. ``principal`` None is the command line, or an anonymous ``via`` (e.g. a refused
    sign-in on the web). ``detail`` never holds personal data."""
    detail = {} if detail is None else detail
    if not isinstance(detail, dict):
        raise ValueError(_("audit detail: expected a map"))
    _check_detail(detail, "detail")
    fields: dict[str, Any] = {
        "at": utcnow(),
        "actor_user_id": principal.user_id if principal else None,
        "actor_org_id": principal.org_id if principal else None,
        "actor_key_id": principal.key_id if principal else None,
        "via": via or (principal.via if principal else "cli"),
        "action": action,
        "object_type": object_type,
        "object_id": None if object_id is None else str(object_id),
        "detail": detail,
    }
    for name in ("via", "action", "object_type", "object_id"):
        _check_length(name, fields[name])
    head = session.execute(
        sa.select(AuditHead).where(AuditHead.id == HEAD_ID).with_for_update()
    ).scalar_one_or_none()
    if head is None:
        raise RuntimeError(_("the audit chain has no head: migrate the registry's database"))
    fields["id"] = head.last_id + 1
    entry = AuditEntry(**fields, prev_hash=head.last_hash, hash=link_hash(head.last_hash, fields))
    session.add(entry)
    session.flush()  # the link exists before the head points at it
    head.last_id = entry.id
    head.last_hash = entry.hash
    session.flush()
    return entry


class _Walk:
    """The chain walked link by link: the id and hash each next link must carry."""

    def __init__(self) -> None:
        self.entries = 0
        self.last_id = 0
        self.last_hash = GENESIS

    def step(self, row: sa.Row[Any]) -> AuditCheck | None:
        """Take the next row in id order; a failed check when it does not continue the chain."""
        expected = self.last_id + 1
        if row.id != expected:
            return self.bad(
                expected,
                _(
                    "entry {expected} is missing: the log goes from entry {before} to entry {after}"
                ).format(expected=expected, before=self.last_id, after=row.id),
            )
        if row.prev_hash != self.last_hash:
            return self.bad(
                row.id,
                _(
                    "entry {id} does not link to entry {before}: entries were reordered, inserted "
                    "or forked"
                ).format(id=row.id, before=self.last_id),
            )
        if link_hash(row.prev_hash, row._asdict()) != row.hash:
            return self.bad(
                row.id,
                _("entry {id} does not match its hash: it was changed after it was written").format(
                    id=row.id
                ),
            )
        self.entries += 1
        self.last_id = row.id
        self.last_hash = row.hash
        return None

    def bad(self, first_bad: int, problem: str) -> AuditCheck:
        return AuditCheck(ok=False, entries=self.entries, first_bad=first_bad, problem=problem)

    def walk(self, rows: Iterator[sa.Row[Any]]) -> AuditCheck | None:
        for row in rows:
            if failed := self.step(row):
                return failed
        return None


def _page(conn: sa.Connection, after: int) -> list[sa.Row[Any]]:
    query = sa.select(*_COLUMNS).where(AuditEntry.id > after).order_by(AuditEntry.id).limit(PAGE)
    return list(conn.execute(query))


def _rows_after(conn: sa.Connection, walk: _Walk) -> Iterator[sa.Row[Any]]:
    """Every row after the last one walked, page by page on one connection."""
    while rows := _page(conn, walk.last_id):
        yield from rows
        if len(rows) < PAGE:
            return


def verify(engine: sa.Engine) -> AuditCheck:
    """Walk the whole log in id order and check every link and the head.

    The log is read in pages, each in its own short transaction (links never change, so pages
    read at different times agree); the last pages and the head are read in one transaction that
    holds the head, so no append falls between them.
    """
    walk = _Walk()
    while True:
        with engine.connect() as conn:
            rows = _page(conn, walk.last_id)
        if failed := walk.walk(iter(rows)):
            return failed
        if len(rows) < PAGE:
            break
    with engine.begin() as conn:
        head = conn.execute(
            sa.select(AuditHead.last_id, AuditHead.last_hash)
            .where(AuditHead.id == HEAD_ID)
            .with_for_update(read=True)
        ).first()
        if failed := walk.walk(_rows_after(conn, walk)):
            return failed
    return _check_head(walk, head)


def _check_head(walk: _Walk, head: sa.Row[Any] | None) -> AuditCheck:
    """The walked chain against its head: a removed tail or a row added past the head."""
    if head is None:
        if walk.entries == 0:
            return AuditCheck(ok=True, entries=0)
        return walk.bad(1, _("the audit chain's head is missing"))
    if walk.last_id < head.last_id:
        return walk.bad(
            walk.last_id + 1,
            _(
                "the log ends at entry {last} but its head says entry {head}: entries were removed "
                "from the end"
            ).format(last=walk.last_id, head=head.last_id),
        )
    if walk.last_id > head.last_id:
        return walk.bad(
            head.last_id + 1,
            _(
                "entry {id} lies after the chain's head (entry {head}): it was added outside the "
                "registry"
            ).format(id=head.last_id + 1, head=head.last_id),
        )
    if walk.last_hash != head.last_hash:
        return walk.bad(
            walk.last_id,
            _("the chain's head does not match its last entry {id}").format(id=walk.last_id),
        )
    return AuditCheck(ok=True, entries=walk.entries)
