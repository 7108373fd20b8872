"""Leak ingestion into the registry: identifiers keyed and stored per second, and the time from
the start of an ingest to its alert rows, with the real key process and an institution enrolled.

The leak is a CSV of ``--identifiers`` valid identifiers (half resident IDs, half mobiles, two a
row); the institution has ``--enrolled`` identifiers enrolled, ``--overlap`` of them in the leak
(their tags computed with the key, as an enrolment would give them; the rest random tags, which is
what OPRF outputs are to the database, loaded in bulk). The time runs from the start of the ingest
to the institution's webhook receiving the ``leak.matched`` event from the service's worker.

``python -m bench.registry_ingest_bench --identifiers 1000000 --enrolled 100000000`` (PostgreSQL,
a throwaway server) or ``… --db sqlite:///tmp/r.sqlite``
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.server
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import polars as pl
import psycopg
import sqlalchemy as sa

from bench.registry_bruteforce import candidate_mobiles
from bench.registry_keyd import key_process
from bench.results import append_section, header
from leaktrace.pii.resident_id import check_char
from leaktrace.registry import admin, db, enrolments, leaks, oprf
from leaktrace.registry.identifiers import bucket_of, oprf_input, tag_and_bucket
from leaktrace.registry.models import Alert, EnrolledIdentifier
from leaktrace.registry.policy import Principal
from leaktrace.registry.webhooks import ALLOW_PRIVATE_ENV
from leaktrace.registry.worker import Worker

#: Division codes the resident IDs are drawn under.
REGIONS = ("110105", "310104", "440106", "330106", "510107", "420106", "320102", "610113")


def resident_ids(n: int, seed: int = 0) -> list[str]:
    """``n`` distinct valid resident IDs (born 1950-2004)."""
    rng = np.random.default_rng(seed)
    out: dict[str, None] = {}
    start = dt.date(1950, 1, 1).toordinal()
    while len(out) < n:
        m = n - len(out)
        days = rng.integers(0, 365 * 55, m) + start
        regions = rng.choice(REGIONS, m)
        seqs = rng.integers(0, 1000, m)
        for day, region, seq in zip(days, regions, seqs, strict=True):
            body = f"{region}{dt.date.fromordinal(int(day)):%Y%m%d}{seq:03d}"
            out[body + check_char(body)] = None
    return list(out)[:n]


def write_leak(path: Path, n: int) -> tuple[list[str], list[str]]:
    """A CSV of ``n`` identifiers: the resident IDs and the mobiles written."""
    ids, mobiles = resident_ids(n // 2, seed=1), candidate_mobiles(n - n // 2, [], seed=1)
    rows = max(len(ids), len(mobiles))
    pl.DataFrame(
        {
            "身份证号": ids + [None] * (rows - len(ids)),
            "手机号": mobiles + [None] * (rows - len(mobiles)),
        }
    ).write_csv(path)
    return ids, mobiles


def enrol_directly(
    engine: sa.Engine, org_id: int, key: bytes, values: list[tuple[str, str]]
) -> None:
    """Enrolled tags for ``values`` computed with the key (what an enrolment would upload)."""
    rows = [
        dict(
            zip(
                ("bucket", "tag"), tag_and_bucket(oprf.evaluate(key, oprf_input(k, v))), strict=True
            )
        )
        | {"org_id": org_id}
        for k, v in values
    ]
    with db.transaction(engine) as session:
        for start in range(0, len(rows), 50_000):
            session.execute(sa.insert(EnrolledIdentifier.__table__), rows[start : start + 50_000])


def enrol_random(engine: sa.Engine, org_id: int, n: int, seed: int = 3) -> float:
    """``n`` more enrolled tags, random (what OPRF outputs are to the database), for the scale of
    a national registry without evaluating each: binary COPY on PostgreSQL with the primary key
    built after, inserts on SQLite. Seconds taken."""
    rng = np.random.default_rng(seed)
    started = time.perf_counter()
    if engine.dialect.name != "postgresql":
        with db.transaction(engine) as session:
            for start in range(0, n, 50_000):
                tags = rng.bytes(16 * min(50_000, n - start))
                session.execute(
                    sa.insert(EnrolledIdentifier.__table__),
                    [
                        {"bucket": bucket_of(t), "tag": t, "org_id": org_id}
                        for t in (tags[i : i + 16] for i in range(0, len(tags), 16))
                    ],
                )
        return time.perf_counter() - started
    row = np.dtype([("fields", ">i2"), ("l1", ">i4"), ("bucket", ">i4"), ("l2", ">i4"),
                    ("tag", "V16"), ("l3", ">i4"), ("org", ">i4")])  # fmt: skip
    dsn = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("ALTER TABLE enrolled_identifiers DROP CONSTRAINT enrolled_identifiers_pkey")
        with (
            conn.cursor() as cur,
            cur.copy(
                "COPY enrolled_identifiers (bucket, tag, org_id) FROM STDIN (FORMAT BINARY)"
            ) as copy,
        ):
            copy.write(b"PGCOPY\n\xff\r\n\x00" + bytes(8))
            for start in range(0, n, 2_000_000):
                m = min(2_000_000, n - start)
                raw = np.frombuffer(rng.bytes(16 * m), dtype=np.uint8).reshape(m, 16)
                rows = np.empty(m, dtype=row)
                rows["fields"], rows["l1"], rows["l2"], rows["l3"], rows["org"] = (
                    3,
                    4,
                    16,
                    4,
                    org_id,
                )
                rows["bucket"] = raw[:, 0].astype(np.int32) << 8 | raw[:, 1]
                rows["tag"] = raw.view("V16").ravel()
                copy.write(rows.tobytes())
            copy.write(b"\xff\xff")
        conn.execute("SET maintenance_work_mem = '2GB'")
        conn.execute("ALTER TABLE enrolled_identifiers ADD PRIMARY KEY (bucket, tag, org_id)")
        conn.execute("VACUUM ANALYZE enrolled_identifiers")
    return time.perf_counter() - started


class _Receiver(http.server.ThreadingHTTPServer):
    """A webhook receiver on loopback noting when the first ``leak.matched`` event arrives."""

    arrived: float | None = None

    def __init__(self) -> None:
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (the standard library's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if b"leak.matched" in body and receiver.arrived is None:
                    receiver.arrived = time.perf_counter()
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--identifiers", type=int, default=1_000_000)
    p.add_argument("--enrolled", type=int, default=100_000)
    p.add_argument("--overlap", type=int, default=10_000)
    p.add_argument(
        "--db",
        help="SQLAlchemy URL of an empty database (default: a throwaway PostgreSQL server, the "
        "tests', on loopback)",
    )
    args = p.parse_args()
    if args.db is None:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
        from postgres_server import start_postgres  # the tests' helper, not a package

        server = start_postgres()
        try:
            args.db = server.create_database("ingest_bench")
            run(args)
        finally:
            server.stop()
    else:
        run(args)


def run(args: argparse.Namespace) -> None:
    """One ingest with its alert, on ``args.db``; the figures printed and recorded."""
    os.environ[ALLOW_PRIVATE_ENV] = "1"  # the receiver is on loopback
    receiver = _Receiver()
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    with tempfile.TemporaryDirectory() as work, key_process(Path(work) / "keyd") as keyd:
        leak = Path(work) / "leak.csv"
        ids, mobiles = write_leak(leak, args.identifiers)
        engine = db.make_engine(args.db)
        db.upgrade(engine)
        with db.transaction(engine) as session:
            org = admin.create_org(session, "某某银行", "institution", "bank")
            enrolments.declare(session, org.id, args.enrolled)
            admin_of_org = Principal(org.id, "institution", "admin", "cli")
            url = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
            admin.create_webhook(session, admin_of_org, url, ["leak.matched"])
        half = args.overlap // 2
        inside = [("resident_id", v) for v in ids[:half]] + [("mobile", v) for v in mobiles[:half]]
        enrol_directly(engine, org.id, keyd.key, inside)
        enrolling = enrol_random(engine, org.id, args.enrolled - len(inside))
        worker = Worker(engine, allow_private=True)  # the service's worker, every 2 s
        worker.start()
        started = time.perf_counter()
        info = leaks.LeakInfo("bench", dt.datetime.now(dt.UTC))
        done = leaks.ingest(engine, [leak], info, keyd.client())
        while receiver.arrived is None and time.perf_counter() - started < done.seconds + 600:
            time.sleep(0.05)
        worker.stop()
        with db.transaction(engine) as session:
            matched = session.scalars(sa.select(Alert.matches)).all()
        engine.dispose()
    receiver.shutdown()
    delivered = receiver.arrived - started if receiver.arrived else float("nan")
    figures = {
        "database": sa.make_url(args.db).get_backend_name(),
        "identifiers": done.counts["keyed"],
        "ingest_seconds": round(done.seconds, 2),
        "identifiers_per_second": round(done.counts["keyed"] / done.seconds),
        "alert_seconds": round(done.alert_seconds, 2),
        "delivered_seconds": round(delivered, 2),
        "ingested_to_delivered_seconds": round(delivered - done.seconds, 2),
        "alerts": len(done.alerts),
        "matched": matched,
        "enrolled": args.enrolled,
        "overlap": args.overlap,
        "enrolment_load_seconds": round(enrolling, 1),
    }
    print(json.dumps(figures))
    append_section(
        header("leak ingestion and its alert, with the key process") + "\n"
        f"- A CSV of {args.identifiers:,} identifiers (half resident IDs, half mobiles) scanned, "
        f"keyed through the key process (2 threads) and stored; one institution with "
        f"{args.enrolled:,} enrolled identifiers ({args.overlap:,} of them in the leak, their "
        f"tags computed with the key; the rest random tags, loaded in {enrolling:.0f} s), its "
        f"webhook on loopback, the service's worker polling every 2 s. Times from the start of "
        f"the ingest; the last column from the leak's commit (ingested) to the webhook "
        f"delivered.\n\n"
        f"| database | identifiers keyed | identifiers/s | leak committed s | alert committed s "
        f"| webhook delivered s | ingested to delivered s | matches |\n"
        f"|---|---:|---:|---:|---:|---:|---:|---:|\n"
        f"| {figures['database']} | {done.counts['keyed']:,} | "
        f"{figures['identifiers_per_second']:,} | {done.seconds:.1f} | {done.alert_seconds:.1f} "
        f"| {delivered:.1f} | {delivered - done.seconds:.1f} | "
        f"{', '.join(f'{m:,}' for m in matched)} |\n"
    )


if __name__ == "__main__":
    main()
