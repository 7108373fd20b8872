"""The registry's migrations on SQLite and PostgreSQL: up to the newest, down to nothing and up
again, each revision one step at a time; the share ledger's tables in the same database are left
alone; the schema they make is the models'; the audit log's triggers come and go with 0002.
"""

from __future__ import annotations

from importlib.resources import files
from types import ModuleType

import numpy as np
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from registry_world import make_world, report_body

from leaktrace.registry import db
from leaktrace.registry.check import packed
from leaktrace.registry.identifiers import bucket_of
from leaktrace.registry.models import Base, EnrolledIdentifier, LeakBucket, LeakIdentifier
from leaktrace.trace.ledger import Ledger

REGISTRY_TABLES = set(Base.metadata.tables)


def _script() -> ScriptDirectory:
    cfg = Config()
    cfg.set_main_option("script_location", str(files("leaktrace.registry") / "migrations"))
    return ScriptDirectory.from_config(cfg)


def _revisions() -> list[str]:
    """Revision ids, oldest first."""
    return [r.revision for r in reversed(list(_script().walk_revisions()))]


def _module(revision: str) -> ModuleType:
    return _script().get_revision(revision).module


def _tables(engine: sa.Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def _triggers(engine: sa.Engine) -> set[str]:
    """Names of the triggers (and, on PostgreSQL, of the trigger functions) of the database."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            query = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
            return set(conn.exec_driver_sql(query).scalars())
        triggers = conn.exec_driver_sql("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        functions = conn.exec_driver_sql(
            "SELECT proname FROM pg_proc WHERE pronamespace = 'public'::regnamespace"
        )
        return set(triggers.scalars()) | set(functions.scalars())


@pytest.fixture
def engine(registry_url: str):  # -> sa.Engine
    """An engine on an empty database that also holds the share ledger with one share."""
    ledger = Ledger(registry_url)
    ledger.record(
        "某合作方", [3, 1, 2], ["姓名", "手机"], "k1", "csv", purpose="营销", basis="同意"
    )
    ledger.engine.dispose()
    engine = db.make_engine(registry_url)
    yield engine
    engine.dispose()


def _ledger_intact(url: str) -> None:
    ledger = Ledger(url)
    try:
        (share,) = ledger.shares()
        assert share.recipient == "某合作方" and share.purpose == "营销"
        assert np.array_equal(ledger.customers(share.id), [1, 2, 3])
    finally:
        ledger.engine.dispose()


def test_up_down_and_up_again_leave_the_ledger_alone(engine: sa.Engine) -> None:
    ledger_tables = _tables(engine)
    assert ledger_tables and not ledger_tables & REGISTRY_TABLES
    db.upgrade(engine)
    assert db.current_revision(engine) == _revisions()[-1]
    assert _tables(engine) == ledger_tables | REGISTRY_TABLES | {db.VERSION_TABLE}
    world = make_world(engine)  # rows in every table a filing touches, the audit log's too
    assert world.client("bank", "reporter").post("/api/v1/reports", json=report_body()).is_success
    db.downgrade(engine)
    assert db.current_revision(engine) is None
    assert not _tables(engine) & REGISTRY_TABLES
    assert _tables(engine) - {db.VERSION_TABLE} == ledger_tables  # Alembic's own table stays
    _ledger_intact(engine.url.render_as_string(hide_password=False))
    db.upgrade(engine)
    assert REGISTRY_TABLES <= _tables(engine)
    assert make_world(engine).client("shop", "admin").get("/api/v1/me").is_success
    _ledger_intact(engine.url.render_as_string(hide_password=False))


def test_each_revision_goes_up_and_down_by_itself(engine: sa.Engine) -> None:
    revisions = _revisions()
    assert revisions[0] == "0001" and len(revisions) == len(set(revisions))
    below: list[str | None] = [None, *revisions[:-1]]
    seen: list[set[str]] = []
    for revision, before in zip(revisions, below, strict=True):
        tables_before = _tables(engine)
        db.upgrade(engine, revision)
        assert db.current_revision(engine) == revision
        seen.append(_tables(engine))
        db.downgrade(engine, before or "base")
        assert db.current_revision(engine) == before
        assert _tables(engine) - {db.VERSION_TABLE} == tables_before - {db.VERSION_TABLE}
        db.upgrade(engine, revision)
        assert _tables(engine) == seen[-1]
    for before in reversed(below):
        db.downgrade(engine, before or "base")
        assert db.current_revision(engine) == before
    assert not _tables(engine) & REGISTRY_TABLES


def test_the_newest_schema_is_the_models(registry_engine: sa.Engine) -> None:
    """What the migrations build and what the models declare do not differ (Alembic's compare)."""
    with registry_engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "version_table": db.VERSION_TABLE,
                "compare_type": True,
                "include_name": lambda name, type_, _parent: (
                    type_ != "table" or name in REGISTRY_TABLES
                ),
            },
        )
        assert compare_metadata(context, Base.metadata) == []


def test_the_audit_triggers_come_with_0002_and_go_with_it(engine: sa.Engine) -> None:
    append_only = _module("0002")
    names = {append_only.NO_UPDATE, append_only.NO_DELETE}
    if engine.dialect.name == "postgresql":
        names |= {append_only.NO_TRUNCATE, append_only.FUNCTION}
    db.upgrade(engine)
    assert names <= _triggers(engine)
    make_world(engine)  # organisations and keys: rows in the audit log
    with pytest.raises(sa.exc.DatabaseError, match=append_only.MESSAGE):
        with engine.begin() as conn:
            conn.exec_driver_sql("UPDATE audit_log SET action = 'x'")
    db.downgrade(engine, "0001")
    assert not names & _triggers(engine)
    with engine.begin() as conn:  # no longer append-only: the guard really was the trigger
        assert conn.exec_driver_sql("DELETE FROM audit_log").rowcount > 0
    db.upgrade(engine)
    assert names <= _triggers(engine)


def test_0004_packs_the_leaks_already_stored_per_bucket(engine: sa.Engine) -> None:
    """Leaks ingested before 0004 are found by a check after it: their tags, one row each in
    ``leak_identifiers``, are packed per bucket and leak, sorted by tag."""
    db.upgrade(engine, "0003")
    rng = np.random.default_rng(4)
    rows = []
    for leak_id, size in ((1, 300), (2, 40), (3, 1)):
        raw = rng.bytes(16 * size)
        for i in range(size):
            tag = bytes([3, i % 5]) + raw[16 * i + 2 : 16 * i + 16]  # five buckets, shared
            rows.append({"bucket": bucket_of(tag), "tag": tag, "leak_id": leak_id, "kind": 2})
    with engine.begin() as conn:
        conn.execute(sa.insert(LeakIdentifier.__table__), rows)
    db.upgrade(engine, "0004")
    with engine.connect() as conn:
        packed_rows = conn.execute(
            sa.select(LeakBucket.bucket, LeakBucket.leak_id, LeakBucket.entries, LeakBucket.packed)
        ).all()
    expected = {}
    for row in rows:
        expected.setdefault((row["bucket"], row["leak_id"]), []).append(row["tag"])
    assert {(b, i): (n, bytes(p)) for b, i, n, p in packed_rows} == {
        key: (len(tags), packed([(t, key[1]) for t in sorted(tags)]))
        for key, tags in expected.items()
    }
    assert len(packed_rows) == 5 + 5 + 1
    db.downgrade(engine, "0003")
    assert "leak_buckets" not in _tables(engine)


def test_0005_counts_the_tags_each_institution_has_enrolled(engine: sa.Engine) -> None:
    db.upgrade(engine, "0004")
    world = make_world(engine)
    bank, shop = world.orgs["bank"], world.orgs["shop"]
    rng = np.random.default_rng(5)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO enrolments (org_id, declared_customers, enrolled, updated_at) "
                "VALUES (:bank, 10, 10, CURRENT_TIMESTAMP), (:shop, 10, 0, CURRENT_TIMESTAMP)"
            ),
            {"bank": bank, "shop": shop},
        )
        tags = [rng.bytes(16) for _ in range(7)]
        conn.execute(
            sa.insert(EnrolledIdentifier.__table__),
            [{"bucket": bucket_of(t), "tag": t, "org_id": bank} for t in tags],
        )
    db.upgrade(engine, "0005")
    with engine.connect() as conn:
        counts = dict(conn.execute(sa.text("SELECT org_id, tags FROM enrolments")).all())
    assert counts == {bank: 7, shop: 0}
    db.downgrade(engine, "0004")
    assert "tags" not in {c["name"] for c in sa.inspect(engine).get_columns("enrolments")}
