"""Leak ingestion, alerts and what the registry keeps, on SQLite and PostgreSQL, with the real key
process: an ingested leak alerts exactly the institution whose customers are in it, with the
right count, and its tags map back to exactly those customers; an institution with none gets
nothing; the database and the logs hold no identifier of the leak, plain or hashed; a brute force
over candidate mobiles recovers none from the database alone, and all of them with the key.
"""

from __future__ import annotations

import base64
import datetime as dt
import glob
import hashlib
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from registry_leak_world import LeakWorld, make_leak_world
from registry_world import World, make_world

from bench.registry_bruteforce import (
    candidate_mobiles,
    keyed_guess,
    recovered,
    unkeyed_guesses,
)
from bench.registry_keyd import KeyProcess
from leaktrace.registry import alerts, db, enrol, enrolments, leaks
from leaktrace.registry.check import packed
from leaktrace.registry.models import Alert, LeakBucket, LeakIdentifier, OutboxEvent

#: Candidate mobiles of the brute force (the bench runs 10^6).
CANDIDATES = 100_000
FIRST_SEEN = dt.datetime(2026, 11, 1, 8, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> LeakWorld:
    return make_leak_world(tmp_path_factory.mktemp("leakworld"))


@pytest.fixture
def world(registry_engine: sa.Engine, keyd: KeyProcess, data: LeakWorld) -> World:
    """The registry's world with the bank and the shop enrolled (their quotas declared)."""
    w = make_world(registry_engine)
    w.app.state.keys = keyd.client()
    with db.transaction(registry_engine) as session:
        enrolments.declare(session, w.orgs["bank"], data.bank_customers)
        enrolments.declare(session, w.orgs["shop"], data.shop_customers)
    return w


def _enrol(world: World, data: LeakWorld, tmp_path: Path) -> dict[str, Path]:
    maps = {}
    for org, master in (("bank", data.bank_master), ("shop", data.shop_master)):
        maps[org] = tmp_path / f"{org}-map.parquet"
        enrol.enrol(master, world.client(org, "admin"), maps[org])
    return maps


def _ingest(world: World, data: LeakWorld, keyd: KeyProcess) -> leaks.Ingested:
    info = leaks.LeakInfo("某暗网论坛", FIRST_SEEN, world.orgs["bank"])
    return leaks.ingest(world.engine, [data.leak], info, keyd.client())


def test_a_leak_alerts_exactly_the_institution_whose_customers_are_in_it(
    world: World, data: LeakWorld, keyd: KeyProcess, tmp_path: Path
) -> None:
    maps = _enrol(world, data, tmp_path)
    done = _ingest(world, data, keyd)
    assert done.counts["keyed"] == sum(len(v) for v in data.leaked.values())
    assert {k: done.counts[k]["keyed"] for k in data.leaked} == {
        k: len(v) for k, v in data.leaked.items()
    }
    with db.transaction(world.engine) as session:
        found = session.scalars(sa.select(Alert)).all()
        assert [(a.org_id, a.leak_id, a.matches) for a in found] == [
            (world.orgs["bank"], done.leak_id, len(data.matched))
        ]
        (event,) = session.scalars(
            sa.select(OutboxEvent).where(OutboxEvent.event == "leak.matched")
        ).all()
        assert event.org_id == world.orgs["bank"]
        assert event.payload["matches"] == len(data.matched)
        assert event.payload["leak_id"] == done.leak_id
        stored = session.scalar(sa.select(sa.func.count()).select_from(LeakIdentifier))
        assert stored == done.counts["keyed"]
        assert alerts.raise_alerts(session, done.leak_id) == []  # never twice
    (bank,) = enrol.matches(world.client("bank", "viewer"), maps["bank"])
    assert bank["matches"] == len(data.matched)
    assert set(bank["customers"]) == data.matched_customers
    assert bank["unknown"] == 0
    assert enrol.matches(world.client("shop", "admin"), maps["shop"]) == []
    page = world.client("bank", "viewer").get("/alerts", params={"lang": "zh"})
    assert page.status_code == 200 and "告警" in page.text
    assert f'<td class="num">{len(data.matched):,}</td>' in page.text
    assert "暂无告警" in world.client("shop", "viewer").get("/alerts?lang=zh").text
    assert world.client("cac", "viewer").get("/alerts").status_code == 403


def test_an_enrolment_after_the_leak_is_alerted_when_it_ends(
    world: World, data: LeakWorld, keyd: KeyProcess, tmp_path: Path
) -> None:
    done = _ingest(world, data, keyd)
    assert done.alerts == []  # nobody enrolled yet
    maps = _enrol(world, data, tmp_path)
    (bank,) = enrol.matches(world.client("bank", "viewer"), maps["bank"])
    assert (bank["leak_id"], bank["matches"]) == (done.leak_id, len(data.matched))
    assert set(bank["customers"]) == data.matched_customers
    assert enrol.matches(world.client("shop", "admin"), maps["shop"]) == []
    with db.transaction(world.engine) as session:  # the operator makes room for a second run
        enrolments.declare(session, world.orgs["bank"], 2 * data.bank_customers)
        enrolments.declare(session, world.orgs["shop"], 2 * data.shop_customers)
    _enrol(world, data, tmp_path)  # enrolling again raises no second alert
    assert len(world.client("bank", "viewer").get("/api/v1/alerts").json()["items"]) == 1
    with db.transaction(world.engine) as session:
        events = session.scalars(
            sa.select(OutboxEvent.org_id).where(OutboxEvent.event == "leak.matched")
        )
        assert list(events) == [world.orgs["bank"]]


def test_leaks_are_listed_to_regulators_and_to_the_institutions_they_matched(
    world: World, data: LeakWorld, keyd: KeyProcess, tmp_path: Path
) -> None:
    _enrol(world, data, tmp_path)
    done = _ingest(world, data, keyd)
    for org, role, seen in (
        ("cac", "viewer", [done.leak_id]),
        ("bank", "viewer", [done.leak_id]),
        ("shop", "admin", []),
    ):
        items = world.client(org, role).get("/api/v1/leaks").json()["items"]
        assert [i["id"] for i in items] == seen
    (item,) = world.client("cac", "viewer").get("/api/v1/leaks").json()["items"]
    assert item["source"] == "某暗网论坛" and item["claimed_sector"] == "bank"
    assert {"resident_id", "mobile"} <= set(item["data_kinds"])
    alert_id = world.client("bank", "viewer").get("/api/v1/alerts").json()["items"][0]["id"]
    assert (
        world.client("shop", "admin").get(f"/api/v1/alerts/{alert_id}/matches").status_code == 404
    )
    assert world.client("cac", "admin").get(f"/api/v1/alerts/{alert_id}/matches").status_code == 404
    assert world.client("cac", "admin").get("/api/v1/alerts").status_code == 403


def test_the_operator_ingests_through_the_api_in_memory(
    world: World, data: LeakWorld, tmp_path: Path
) -> None:
    _enrol(world, data, tmp_path)
    body = data.leak.read_bytes()
    params = {"source": "某群聊", "first_seen": FIRST_SEEN.isoformat()}
    refused = world.client("bank", "admin").post("/api/v1/leaks", params=params, content=body)
    assert refused.status_code == 403
    r = world.client("cac", "admin").post("/api/v1/leaks", params=params, content=body)
    assert r.status_code == 201, r.text
    assert r.json()["alerts"] == 1
    assert r.json()["counts"]["keyed"] == sum(len(v) for v in data.leaked.values())
    (alert,) = world.client("bank", "viewer").get("/api/v1/alerts").json()["items"]
    assert alert["matches"] == len(data.matched)


def _forms(value: str) -> list[bytes]:
    """``value`` as it could sit in a file: plain, and as MD5, SHA-1 and SHA-256 hex and base64
    (of the value and of the OPRF input)."""
    forms = [value.encode()]
    for message in (value.encode(), f"mobile:{value}".encode(), f"resident_id:{value}".encode()):
        for name in ("md5", "sha1", "sha256"):
            digest = hashlib.new(name, message).digest()
            forms += [digest.hex().encode(), digest.hex().upper().encode()]
            forms += [base64.b64encode(digest), base64.urlsafe_b64encode(digest).rstrip(b"=")]
    return forms


def _database_bytes(engine: sa.Engine) -> bytes:
    """Everything the database holds: the SQLite file and its log, or pg_dump's output."""
    url = engine.url
    if url.get_backend_name() == "sqlite":
        engine.dispose()
        return b"".join(
            Path(p).read_bytes() for p in glob.glob(f"{url.database}*") if os.path.isfile(p)
        )
    (pg_dump,) = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_dump"))[-1:]
    out = subprocess.run(
        [pg_dump, "-h", url.host, "-p", str(url.port), "-U", url.username, url.database],
        capture_output=True,
        check=True,
    )
    return out.stdout


def test_no_identifier_of_the_leak_is_in_the_database_or_the_logs(
    world: World,
    data: LeakWorld,
    keyd: KeyProcess,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    _enrol(world, data, tmp_path)
    _ingest(world, data, keyd)
    held = _database_bytes(world.engine)
    assert b"leak_identifiers" in held  # the dump is the registry's
    logs = "\n".join(r.getMessage() for r in caplog.records).encode()
    values = data.identifiers() | {v for vs in data.leaked.values() for v in vs}
    as_written = data.leak.read_bytes()
    assert all(value.encode() in as_written for value in data.identifiers())  # the search works
    for value in values:
        for form in _forms(value):
            assert form not in held
            assert form not in logs


_writes: list[str] | None = None


def _record_writes(event: str, args: tuple) -> None:
    """An audit hook: every file this process opens for writing, while ``_writes`` is a list."""
    if _writes is None or event != "open":
        return
    path, mode, flags = args
    writing = any(c in (mode or "") for c in "wax+") or (
        isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT)
    )
    if writing and isinstance(path, (str, bytes, os.PathLike)):
        _writes.append(os.fsdecode(path))


sys.addaudithook(_record_writes)


def test_an_ingest_packs_its_tags_per_bucket_for_the_checks(
    world: World, data: LeakWorld, keyd: KeyProcess
) -> None:
    """Two leaks: each bucket a leak touches has one row of that leak's tags, sorted, and
    together they hold exactly the tags stored one by one."""
    first = _ingest(world, data, keyd).leak_id
    info = leaks.LeakInfo("另一个论坛", FIRST_SEEN + dt.timedelta(days=3))
    second = leaks.ingest(world.engine, [data.leak], info, keyd.client()).leak_id
    with world.engine.connect() as conn:
        tags = conn.execute(
            sa.select(LeakIdentifier.bucket, LeakIdentifier.leak_id, LeakIdentifier.tag)
        ).all()
        rows = conn.execute(
            sa.select(LeakBucket.bucket, LeakBucket.leak_id, LeakBucket.entries, LeakBucket.packed)
        ).all()
    by_bucket: dict[tuple[int, int], list[bytes]] = {}
    for bucket, leak_id, tag in tags:
        by_bucket.setdefault((bucket, leak_id), []).append(bytes(tag))
    assert {leak_id for _b, leak_id in by_bucket} == {first, second}
    assert {(b, i): (n, bytes(p)) for b, i, n, p in rows} == {
        (b, i): (len(found), packed([(t, i) for t in sorted(found)]))
        for (b, i), found in by_bucket.items()
    }


def test_ingest_writes_no_file(world: World, data: LeakWorld, keyd: KeyProcess) -> None:
    """Python's own opens, watched by an audit hook: the ingest (scan, keying, storing) opens no
    file for writing but the database's."""
    global _writes
    _writes = []
    try:
        _ingest(world, data, keyd)
        written = list(_writes)
    finally:
        _writes = None
    database = world.engine.url.database if world.engine.dialect.name == "sqlite" else None
    assert [w for w in written if not (database and w.startswith(database))] == []


def test_brute_force_recovers_nothing_from_the_database_and_everything_with_the_key(
    world: World, data: LeakWorld, keyd: KeyProcess
) -> None:
    _ingest(world, data, keyd)
    with db.transaction(world.engine) as session:
        tags = {bytes(t) for t in session.scalars(sa.select(LeakIdentifier.tag))}
    leaked = sorted(data.leaked["mobile"])
    candidates = candidate_mobiles(CANDIDATES, leaked)
    assert not recovered(tags, candidates, unkeyed_guesses)
    assert recovered(tags, candidates, keyed_guess(keyd.key)) == set(leaked)
