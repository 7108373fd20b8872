"""Leak ingestion into the registry: identifiers keyed and stored per second, and the time from
the start of an ingest to its alert rows, with the real key process and an institution enrolled.

The leak is a CSV of ``--identifiers`` valid identifiers (half resident IDs, half mobiles, two a
row); the institution has ``--enrolled`` identifiers enrolled, ``--overlap`` of them in the leak
(their tags computed with the key, as an enrolment would give them).

``python -m bench.registry_ingest_bench --identifiers 1000000 --db sqlite:///tmp/r.sqlite``
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import tempfile
from pathlib import Path

import numpy as np
import polars as pl
import sqlalchemy as sa

from bench.registry_bruteforce import candidate_mobiles
from bench.registry_keyd import key_process
from leaktrace.pii.resident_id import check_char
from leaktrace.registry import admin, db, enrolments, leaks, oprf
from leaktrace.registry.identifiers import oprf_input, tag_and_bucket
from leaktrace.registry.models import Alert, EnrolledIdentifier

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


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--identifiers", type=int, default=1_000_000)
    p.add_argument("--enrolled", type=int, default=100_000)
    p.add_argument("--overlap", type=int, default=10_000)
    p.add_argument("--db", required=True, help="SQLAlchemy URL of an empty database")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as work, key_process(Path(work) / "keyd") as keyd:
        leak = Path(work) / "leak.csv"
        ids, mobiles = write_leak(leak, args.identifiers)
        engine = db.make_engine(args.db)
        db.upgrade(engine)
        with db.transaction(engine) as session:
            org = admin.create_org(session, "某某银行", "institution", "bank")
            enrolments.declare(session, org.id, args.enrolled)
        half = args.overlap // 2
        inside = [("resident_id", v) for v in ids[:half]] + [("mobile", v) for v in mobiles[:half]]
        leaked = set(mobiles)
        others = candidate_mobiles(2 * args.enrolled, [], seed=9)
        outside = [("mobile", v) for v in others if v not in leaked][: args.enrolled - len(inside)]
        enrol_directly(engine, org.id, keyd.key, inside + outside)
        info = leaks.LeakInfo("bench", dt.datetime.now(dt.UTC))
        done = leaks.ingest(engine, [leak], info, keyd.client())
        with db.transaction(engine) as session:
            matched = session.scalars(sa.select(Alert.matches)).all()
        engine.dispose()
    print(json.dumps({
        "database": sa.make_url(args.db).get_backend_name(),
        "identifiers": done.counts["keyed"],
        "ingest_seconds": round(done.seconds, 2),
        "identifiers_per_second": round(done.counts["keyed"] / done.seconds),
        "alert_seconds": round(done.alert_seconds, 2),
        "alerts": len(done.alerts),
        "matched": matched,
        "enrolled": args.enrolled,
        "overlap": args.overlap,
    }))  # fmt: skip


if __name__ == "__main__":
    main()
