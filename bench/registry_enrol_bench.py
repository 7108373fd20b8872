"""An institution's enrolment at national scale: seconds per batch of tags sent to the registry,
with other institutions' tags already enrolled.

A throwaway PostgreSQL server (the tests') holds ``--enrolled`` random tags of one institution
(what OPRF outputs are to the database, loaded by COPY); a second institution then enrols
``--batches`` batches of 10,000 tags through ``enrolments.enrol_tags``, each in its own
transaction, as ``POST /api/v1/enrol/tags`` does.

``python -m bench.registry_enrol_bench --enrolled 10000000``
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path

import numpy as np

from bench.registry_ingest_bench import enrol_random
from leaktrace.registry import admin, db, enrolments
from leaktrace.registry.identifiers import bucket_of
from leaktrace.registry.policy import Principal

#: Tags per batch: the API's largest.
BATCH = 10_000


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--enrolled", type=int, default=10_000_000)
    p.add_argument("--batches", type=int, default=5)
    args = p.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from postgres_server import start_postgres  # the tests' helper, not a package

    server = start_postgres()
    try:
        engine = db.make_engine(server.create_database("enrol_bench"))
        db.upgrade(engine)
        with db.transaction(engine) as session:
            big = admin.create_org(session, "某国有银行", "institution", "bank")
            small = admin.create_org(session, "某城商行", "institution", "bank")
            enrolments.declare(session, big.id, args.enrolled)
            enrolments.declare(session, small.id, args.batches * BATCH)
        loaded = enrol_random(engine, big.id, args.enrolled)
        principal = Principal(small.id, "institution", "admin", "cli")
        now = dt.datetime.now(dt.UTC)
        with db.transaction(engine) as session:
            enrolments.charge(session, principal, args.batches * BATCH, now)
        rng = np.random.default_rng(11)
        seconds = []
        for i in range(args.batches):
            raw = rng.bytes(16 * BATCH)
            tags = [(bucket_of(raw[j : j + 16]), raw[j : j + 16]) for j in range(0, len(raw), 16)]
            started = time.perf_counter()
            with db.transaction(engine) as session:
                total, _alerts = enrolments.enrol_tags(
                    session, principal, tags, replace=i == 0, final=False
                )
            seconds.append(time.perf_counter() - started)
        engine.dispose()
    finally:
        server.stop()
    print(json.dumps({
        "enrolled_elsewhere": args.enrolled,
        "load_seconds": round(loaded, 1),
        "batch_seconds": [round(s, 3) for s in seconds],
        "enrolled_after": total,
    }))  # fmt: skip


if __name__ == "__main__":
    main()
