"""A leak in: scanned in this process, its resident IDs and mobiles keyed through the key process,
and only their tags stored, with the leak's metadata; then matched against every enrolment.

Nothing of the leak leaves this process in plain text: the scan hands its rows to memory (no
normalised table is written), the key process receives each identifier's HashToGroup element
(this is the operator's own process, so no blind is needed: the element is as hard to reverse as
the tag), and errors and logs name counts and places, never values. Tags go to the database (a
row each, and packed per bucket for the checks) by COPY on PostgreSQL and by executemany on
SQLite, in chunks.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.orm import Session

from leaktrace.errors import InputError
from leaktrace.i18n import N_, _
from leaktrace.registry import alerts, audit, oprf
from leaktrace.registry.check import packed_buckets
from leaktrace.registry.db import transaction
from leaktrace.registry.errors import Invalid, NotFound
from leaktrace.registry.identifiers import KINDS, oprf_input, tag_and_bucket, valid_values
from leaktrace.registry.keyd_client import KeyClient
from leaktrace.registry.limits import Caller
from leaktrace.registry.models import Alert, Leak, LeakBucket, LeakIdentifier, Organisation
from leaktrace.registry.policy import Principal
from leaktrace.registry.reports import require
from leaktrace.scan import scan

#: Elements sent to the key process per request (its frame's limit).
BATCH = 10_000
#: Requests to the key process in flight at once (the key process and this one overlap).
IN_FLIGHT = 2
#: Rows per insert statement on SQLite.
CHUNK = 50_000
#: The caller the key process sees for an ingest: the operator's own process.
OPERATOR = Caller("operator")

Row = tuple[int, bytes, int]  # bucket, tag, kind


@dataclass(frozen=True)
class LeakInfo:
    """What is known of a leak besides its data: where it was found and when, who is said to
    have lost it, and ``leaktrace verify``'s verdict and the SHA-256 of its result if attached."""

    source: str
    first_seen_at: dt.datetime
    claimed_org_id: int | None = None
    verdict: str | None = None
    attachment_sha256: str | None = None


@dataclass
class Ingested:
    """An ingest's outcome: the leak's id, the counts stored with it, the alerts it raised."""

    leak_id: int
    counts: dict[str, Any]
    alerts: list[int] = field(default_factory=list)
    seconds: float = 0.0
    alert_seconds: float = 0.0  # from the start of the ingest to its alerts committed


class _Values:
    """The scan's rows, reduced as they come to the distinct valid resident IDs and mobiles
    (kept in memory only) and counts of what was left out."""

    def __init__(self) -> None:
        self.seen: dict[str, set[str]] = {kind: set() for kind in KINDS}
        self.pending: list[tuple[str, pl.Series]] = []
        self.skipped = dict.fromkeys(KINDS, 0)

    def write_table(self, table: pa.Table) -> None:
        frame = pl.from_arrow(table)
        assert isinstance(frame, pl.DataFrame)
        more = frame.select(pl.col("more").explode().struct.unnest()).drop_nulls()
        for kind in KINDS:
            raw = pl.concat(
                [frame.get_column(kind), more.filter(pl.col("kind") == kind).get_column("value")]
            )
            valid, skipped = valid_values(kind, raw)
            self.skipped[kind] += skipped
            new = [v for v in valid.to_list() if v not in self.seen[kind]]
            self.seen[kind].update(new)
            if new:
                self.pending.append((kind, pl.Series(new)))

    def take(self) -> Iterator[tuple[str, list[str]]]:
        """The values found since the last take, by kind, in batches of :data:`BATCH`."""
        pending, self.pending = self.pending, []
        for kind, values in pending:
            for start in range(0, len(values), BATCH):
                yield kind, values.slice(start, BATCH).to_list()


def _keyed(
    keys: KeyClient, kind: str, values: list[str], pool: ThreadPoolExecutor
) -> Future[list[Row]]:
    """The (bucket, tag, kind) rows of ``values``, keyed in a worker thread: HashToGroup, the key
    process's evaluation, then the RFC's Finalize hash on the element it returns."""
    code = KINDS[kind]

    def finish() -> list[Row]:
        inputs = [oprf_input(kind, v) for v in values]
        elements = [oprf.hash_to_group(i) for i in inputs]  # libsodium's map runs off the GIL
        evaluated = keys.evaluate(elements, OPERATOR)
        return [
            (*tag_and_bucket(oprf.finalize_unblinded(i, e)), code)
            for i, e in zip(inputs, evaluated, strict=True)
        ]

    return pool.submit(finish)


def _insert(session: Session, table: sa.Table, types: list[str], rows: Iterable[tuple]) -> None:
    """Insert ``rows`` (values of ``table``'s columns in order, of PostgreSQL ``types``): COPY on
    PostgreSQL, executemany in chunks of :data:`CHUNK` on SQLite."""
    conn = session.connection()
    names = [c.name for c in table.columns]
    if conn.dialect.name == "postgresql":
        driver = conn.connection.driver_connection
        with driver.cursor() as cur:  # type: ignore[union-attr]
            statement = f"COPY {table.name} ({', '.join(names)}) FROM STDIN (FORMAT BINARY)"
            with cur.copy(statement) as copy:
                copy.set_types(types)
                for row in rows:
                    copy.write_row(row)
        return
    rows = iter(rows)
    while chunk := [dict(zip(names, r, strict=True)) for r in itertools.islice(rows, CHUNK)]:
        session.execute(sa.insert(table), chunk)


def _store(session: Session, leak_id: int, rows: list[Row]) -> None:
    """Leak ``leak_id``'s ``rows``, sorted: one row each in ``leak_identifiers`` (what alerts
    match), and packed per bucket in ``leak_buckets`` (what checks fetch)."""
    _insert(
        session,
        LeakIdentifier.__table__,
        ["int4", "bytea", "int4", "int2"],
        ((bucket, tag, leak_id, kind) for bucket, tag, kind in rows),
    )
    _insert(
        session,
        LeakBucket.__table__,
        ["int4", "int4", "int4", "bytea"],
        (
            (bucket, leak_id, entries, blob)
            for bucket, entries, blob in packed_buckets(leak_id, ((b, t) for b, t, _k in rows))
        ),
    )


def key_leak(
    paths: list[Path], keys: KeyClient, progress: Callable[[int], None] | None = None
) -> tuple[list[Row], dict[str, Any], list[str]]:
    """Scan ``paths`` and key their valid resident IDs and mobiles: the rows to store, the
    counts (per kind: found, valid, invalid, masked, keyed and skipped) and the data kinds the
    leak holds. Keying overlaps the scan: each batch goes to the key process as it is found."""
    values = _Values()
    rows: list[Row] = []
    waiting: list[Future[list[Row]]] = []
    with ThreadPoolExecutor(IN_FLIGHT) as pool:

        class _Sink:
            def write_table(self, table: pa.Table) -> None:
                values.write_table(table)
                for kind, batch in values.take():
                    waiting.append(_keyed(keys, kind, batch, pool))
                    while len(waiting) > IN_FLIGHT:
                        rows.extend(waiting.pop(0).result())

        result = scan(paths, progress=progress, evidence=False, rows=_Sink())
        for future in waiting:
            rows.extend(future.result())
    counts: dict[str, Any] = {"records": result.records, "keyed": len(rows)}
    for kind in KINDS:
        st = result.kinds.get(kind)
        counts[kind] = {
            "found": st.found if st else 0,
            "valid": st.valid if st else 0,
            "invalid": st.invalid if st else 0,
            "masked": st.masked if st else 0,
            "keyed": len(values.seen[kind]),
            "skipped": values.skipped[kind],
        }
    data_kinds = [k for k, st in result.kinds.items() if st.found]
    return rows, counts, data_kinds


def verify_verdict(path: Path) -> tuple[str, str]:
    """The verdict of a ``leaktrace verify --json`` result and the result's SHA-256."""
    try:
        content = path.read_bytes()
    except OSError as e:
        raise InputError(str(path), N_("a readable leaktrace verify result (JSON)")) from e
    try:
        data = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        data = None
    verdict = data.get("verdict") if isinstance(data, dict) else None
    label = verdict.get("label") if isinstance(verdict, dict) else None
    if not isinstance(label, str) or not label:
        raise InputError(str(path), N_("the JSON of leaktrace verify (--json), with its verdict"))
    return str(label)[:40], hashlib.sha256(content).hexdigest()


def ingest(
    engine: sa.Engine,
    paths: list[Path],
    info: LeakInfo,
    keys: KeyClient,
    *,
    principal: Principal | None = None,
    progress: Callable[[int], None] | None = None,
) -> Ingested:
    """Scan, key and store a leak (``principal`` None: the command line), then raise its alerts.
    The leak and its tags commit together; the alerts commit after them (they can be raised
    again by :func:`leaktrace.registry.alerts.raise_alerts`, which skips what exists)."""
    started = time.perf_counter()
    if principal is not None:
        require(principal, "leak.ingest")
    rows, counts, data_kinds = key_leak(paths, keys, progress)
    with transaction(engine) as session:
        claimed = None
        if info.claimed_org_id is not None:
            claimed = session.get(Organisation, info.claimed_org_id)
            if claimed is None:
                raise NotFound(_("No such organisation."))
        leak = Leak(
            source=info.source,
            first_seen_at=info.first_seen_at,
            claimed_org_id=info.claimed_org_id,
            claimed_sector=claimed.sector if claimed else None,
            data_kinds=data_kinds,
            counts=counts,
            verdict=info.verdict,
            attachment_sha256=info.attachment_sha256,
            ingested_by=_by(principal),
        )
        session.add(leak)
        session.flush()
        rows.sort()  # in key order, the primary key's index grows at its end: half the time
        _store(session, leak.id, rows)
        audit.record(
            session,
            principal,
            "leak.ingest",
            "leak",
            leak.id,
            {"keyed": counts["keyed"], "records": counts["records"], "data_kinds": data_kinds},
        )
    seconds = time.perf_counter() - started
    with transaction(engine) as session:
        raised = alerts.raise_alerts(session, leak.id)
    return Ingested(leak.id, counts, [a.id for a in raised], seconds, time.perf_counter() - started)


def _by(principal: Principal | None) -> str:
    """Who ingested, as the leak records it."""
    if principal is None:
        return "cli"
    if principal.key_id is not None:
        return f"api_key:{principal.key_id}"
    return f"user:{principal.user_id}"


def check_source(source: str) -> str:
    """A leak's source: 1 to 200 characters of text."""
    source = source.strip()
    if not 1 <= len(source) <= 200:
        raise Invalid(_("A source needs 1 to 200 characters."), field="source")
    return source


def visible_leaks(principal: Principal) -> sa.Select[tuple[Leak]]:
    """``SELECT leaks`` the principal may read: a regulator every leak, an institution the leaks
    that matched it."""
    require(principal, "leak.read")
    query = sa.select(Leak)
    if principal.org_kind == "regulator":
        return query
    mine = sa.select(Alert.leak_id).where(Alert.org_id == principal.org_id)
    return query.where(Leak.id.in_(mine))


def view(leak: Leak) -> dict[str, Any]:
    """A leak's metadata as the API shows it."""
    return {
        "id": leak.id,
        "source": leak.source,
        "first_seen_at": audit.iso_utc(leak.first_seen_at),
        "claimed_org_id": leak.claimed_org_id,
        "claimed_sector": leak.claimed_sector,
        "data_kinds": leak.data_kinds,
        "counts": leak.counts,
        "verdict": leak.verdict,
        "attachment_sha256": leak.attachment_sha256,
        "created_at": audit.iso_utc(leak.created_at),
    }
