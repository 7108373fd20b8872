"""The audit chain on SQLite and PostgreSQL: links recorded in many transactions verify; the
database refuses UPDATE and DELETE; with those triggers dropped (as an attacker holding the
database would), every kind of tampering is found by ``verify``; concurrent appends never fork."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from leaktrace.registry import audit, db
from leaktrace.registry.models import AuditEntry, AuditHead
from leaktrace.registry.policy import Principal

LINKS = 50
LOG = AuditEntry.__table__
REVIEWER = Principal(org_id=2, org_kind="regulator", role="reviewer", via="session", user_id=7)
KEY = Principal(org_id=3, org_kind="institution", role="reporter", via="api_key", key_id=4)


@pytest.fixture(autouse=True)
def _small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages of 7 rows, so that every walk below crosses pages (and 50 is not a multiple)."""
    monkeypatch.setattr(audit, "PAGE", 7)


def append(engine: sa.Engine, start: int, count: int) -> None:
    """``count`` links in one transaction, by turns from a user, a key and the command line."""
    with db.transaction(engine) as session:
        for n in range(start, start + count):
            who = (REVIEWER, KEY, None)[n % 3]
            audit.record(session, who, "report.read", "report", n, {"n": n, "fields": ["grade"]})


@pytest.fixture
def chain(registry_engine: sa.Engine) -> sa.Engine:
    """50 links recorded in five transactions of ten."""
    for start in range(0, LINKS, 10):
        append(registry_engine, start, 10)
    return registry_engine


def drop_triggers(engine: sa.Engine) -> None:
    """What an attacker with the database can do: take the schema back before migration 0002."""
    db.downgrade(engine, "0001")


def rows(engine: sa.Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.select(LOG).order_by(LOG.c.id))]


def test_links_recorded_in_several_transactions_verify(chain: sa.Engine) -> None:
    check = audit.verify(chain)
    assert check == audit.AuditCheck(ok=True, entries=LINKS)
    stored = rows(chain)
    assert [r["id"] for r in stored] == list(range(1, LINKS + 1))
    assert stored[0]["prev_hash"] == audit.GENESIS
    assert all(b["prev_hash"] == a["hash"] for a, b in zip(stored, stored[1:], strict=False))
    with chain.connect() as conn:
        head = conn.execute(sa.select(AuditHead)).one()
    assert (head.last_id, head.last_hash) == (LINKS, stored[-1]["hash"])


def test_a_link_records_who_acted_and_the_canonical_hash(registry_engine: sa.Engine) -> None:
    with db.transaction(registry_engine) as session:
        first = audit.record(session, REVIEWER, "report.close", "report", 12, {"grade": "较大"})
        second = audit.record(session, None, "org.create", "organisation", None)
    assert (first.actor_user_id, first.actor_org_id, first.via) == (7, 2, "session")
    assert (first.object_id, first.detail) == ("12", {"grade": "较大"})
    assert (second.actor_user_id, second.actor_org_id, second.via) == (None, None, "cli")
    assert (second.object_id, second.detail) == (None, {})
    at = first.at.astimezone(dt.UTC).isoformat(timespec="microseconds")
    canonical = (
        '{"action":"report.close","actor_key_id":null,"actor_org_id":2,"actor_user_id":7,'
        '"at":"' + at + '",'
        '"detail":{"grade":"较大"},"id":1,"object_id":"12","object_type":"report","via":"session"}'
    )
    import hashlib

    expected = hashlib.sha256((audit.GENESIS + canonical).encode("utf-8")).hexdigest()
    assert first.hash == expected
    assert second.prev_hash == first.hash
    assert audit.verify(registry_engine).ok


@pytest.mark.parametrize(
    "detail",
    [
        {"ids": {1, 2}},
        {"pair": (1, 2)},
        {"raw": b"\x00"},
        {"ratio": float("nan")},
        {"nested": [{"at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC)}]},
        {1: "key not text"},
        ["not", "a", "map"],
    ],
)
def test_detail_that_json_cannot_hold_as_it_is_is_refused(
    registry_engine: sa.Engine, detail: Any
) -> None:
    with pytest.raises(ValueError, match="audit detail"), db.transaction(registry_engine) as s:
        audit.record(s, None, "report.read", "report", 1, detail)
    assert audit.verify(registry_engine) == audit.AuditCheck(ok=True, entries=0)


def test_a_value_longer_than_its_column_is_refused(registry_engine: sa.Engine) -> None:
    with pytest.raises(ValueError, match="object_id"), db.transaction(registry_engine) as s:
        audit.record(s, None, "report.read", "report", "x" * 61)


def test_a_link_rolls_back_with_its_transaction(chain: sa.Engine) -> None:
    with pytest.raises(RuntimeError, match="the change failed"), db.transaction(chain) as s:
        audit.record(s, REVIEWER, "report.close", "report", 1)
        raise RuntimeError("the change failed")
    append(chain, LINKS, 1)
    assert audit.verify(chain) == audit.AuditCheck(ok=True, entries=LINKS + 1)


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log"]
)
def test_the_database_refuses_to_change_or_delete_a_link(chain: sa.Engine, statement: str) -> None:
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), chain.begin() as conn:
        conn.exec_driver_sql(statement)
    assert audit.verify(chain) == audit.AuditCheck(ok=True, entries=LINKS)


def test_postgresql_refuses_truncate_too(postgres: Any) -> None:
    """TRUNCATE fires no DELETE trigger on PostgreSQL (SQLite has no TRUNCATE)."""
    engine = db.make_engine(postgres.create_database("registry_truncate"))
    db.upgrade(engine)
    append(engine, 0, 3)
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as conn:
        conn.exec_driver_sql("TRUNCATE audit_log")
    assert audit.verify(engine) == audit.AuditCheck(ok=True, entries=3)
    engine.dispose()


def test_the_triggers_go_down_and_up_with_the_migration(chain: sa.Engine) -> None:
    drop_triggers(chain)
    with chain.begin() as conn:
        conn.execute(sa.update(LOG).where(LOG.c.id == 3).values(action="x"))
    db.upgrade(chain)
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), chain.begin() as conn:
        conn.execute(sa.update(LOG).where(LOG.c.id == 4).values(action="x"))
    db.downgrade(chain)
    assert db.current_revision(chain) is None


def triggers(engine: sa.Engine) -> set[str]:
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            query = (
                "SELECT tgname FROM pg_trigger "
                "WHERE tgrelid = 'audit_log'::regclass AND NOT tgisinternal"
            )
        else:
            query = (
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_log'"
            )
        return set(conn.exec_driver_sql(query).scalars())


def test_the_triggers_keep_the_names_the_documentation_gives(registry_engine: sa.Engine) -> None:
    doc = (Path(__file__).resolve().parents[1] / "docs" / "registry-audit.md").read_text("utf-8")
    names = {"audit_log_no_update", "audit_log_no_delete"}
    if registry_engine.dialect.name == "postgresql":
        names.add("audit_log_no_truncate")
    assert triggers(registry_engine) == names
    assert all(f"`{name}`" in doc for name in names)
    drop_triggers(registry_engine)
    assert triggers(registry_engine) == set()


def _tampered(column: str, row: dict[str, Any]) -> Any:
    """A value for ``column`` that differs from ``row``'s."""
    return {
        "id": row["id"] + 1000,
        "at": row["at"] + dt.timedelta(seconds=1),
        "actor_user_id": 999,
        "actor_org_id": 999,
        "actor_key_id": 999,
        "via": "tampered",
        "action": "report.delete",
        "object_type": "tampered",
        "object_id": "999999",
        "detail": {"tampered": True},
        "prev_hash": "f" * 64,
        "hash": "e" * 64,
    }[column]


@pytest.mark.parametrize("link", [1, LINKS // 2, LINKS])
@pytest.mark.parametrize("column", [c.name for c in LOG.columns])
def test_a_changed_field_in_any_row_is_found(chain: sa.Engine, column: str, link: int) -> None:
    drop_triggers(chain)
    row = rows(chain)[link - 1]
    with chain.begin() as conn:
        conn.execute(
            sa.update(LOG).where(LOG.c.id == link).values({column: _tampered(column, row)})
        )
    check = audit.verify(chain)
    assert not check.ok
    assert check.first_bad == link
    assert check.entries == link - 1
    assert check.problem


def test_a_deleted_row_is_found(chain: sa.Engine) -> None:
    drop_triggers(chain)
    with chain.begin() as conn:
        conn.execute(sa.delete(LOG).where(LOG.c.id == 20))
    check = audit.verify(chain)
    assert (check.ok, check.first_bad, check.entries) == (False, 20, 19)
    assert "entry 20 is missing" in check.problem


def test_a_deleted_last_row_leaves_the_head_pointing_past_the_log(chain: sa.Engine) -> None:
    drop_triggers(chain)
    with chain.begin() as conn:
        conn.execute(sa.delete(LOG).where(LOG.c.id >= LINKS - 1))
    check = audit.verify(chain)
    assert (check.ok, check.first_bad, check.entries) == (False, LINKS - 1, LINKS - 2)
    assert "removed from the end" in check.problem


def test_a_head_not_matching_the_last_link_is_found(chain: sa.Engine) -> None:
    """The head's last hash is checked against the last link's, not only its id."""
    drop_triggers(chain)
    with chain.begin() as conn:
        conn.execute(sa.update(AuditHead).values(last_hash="0" * 64))
    check = audit.verify(chain)
    assert (check.ok, check.first_bad) == (False, LINKS)
    assert "head does not match" in check.problem


def test_two_swapped_rows_are_found(chain: sa.Engine) -> None:
    drop_triggers(chain)
    stored = rows(chain)
    a, b = stored[9], stored[10]
    with chain.begin() as conn:
        for target, source in ((a, b), (b, a)):
            values = {k: v for k, v in source.items() if k not in ("id", "hash")}
            conn.execute(sa.update(LOG).where(LOG.c.id == target["id"]).values(values))
        # the unique hashes are swapped through a free value
        conn.execute(sa.update(LOG).where(LOG.c.id == a["id"]).values(hash="-"))
        conn.execute(sa.update(LOG).where(LOG.c.id == b["id"]).values(hash=a["hash"]))
        conn.execute(sa.update(LOG).where(LOG.c.id == a["id"]).values(hash=b["hash"]))
    check = audit.verify(chain)
    assert (check.ok, check.first_bad) == (False, a["id"])
    assert "does not link" in check.problem


def test_a_row_inserted_in_the_middle_with_a_valid_hash_breaks_the_next_link(
    chain: sa.Engine,
) -> None:
    """The attacker renumbers the rows after the place and inserts a link whose hash is right for
    its predecessor: the next row still links to the predecessor, not to the new link."""
    drop_triggers(chain)
    stored = rows(chain)
    place = 25
    with chain.begin() as conn:
        for row in reversed(stored[place - 1 :]):
            conn.execute(sa.update(LOG).where(LOG.c.id == row["id"]).values(id=row["id"] + 1))
        fields = dict(stored[place - 1], id=place, action="report.export", detail={})
        fields["prev_hash"] = stored[place - 2]["hash"]
        fields["hash"] = audit.link_hash(fields["prev_hash"], fields)
        conn.execute(sa.insert(LOG).values(fields))
        conn.execute(sa.update(AuditHead).values(last_id=LINKS + 1))
    check = audit.verify(chain)
    assert (check.ok, check.first_bad, check.entries) == (False, place + 1, place)
    assert "does not link" in check.problem


def test_a_row_after_the_head_is_found(chain: sa.Engine) -> None:
    last = rows(chain)[-1]
    fields = dict(last, id=LINKS + 1, prev_hash=last["hash"])
    fields["hash"] = audit.link_hash(fields["prev_hash"], fields)
    with chain.begin() as conn:
        conn.execute(sa.insert(LOG).values(fields))
    check = audit.verify(chain)
    assert (check.ok, check.first_bad) == (False, LINKS + 1)
    assert "after the chain's head" in check.problem


def test_the_problem_is_told_in_chinese_too(chain: sa.Engine) -> None:
    from leaktrace import i18n

    drop_triggers(chain)
    with chain.begin() as conn:
        conn.execute(sa.delete(LOG).where(LOG.c.id == 5))
    with i18n.using("zh"):
        problem = audit.verify(chain).problem
    assert "5" in problem and "缺失" in problem


def test_concurrent_appends_never_fork_the_chain(registry_engine: sa.Engine) -> None:
    """Two threads append 25 links each, one transaction per link: every link follows the one
    before it (a missing lock shows as a duplicate id or a fork)."""
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def appender(offset: int) -> None:
        try:
            start.wait()
            for n in range(25):
                append(registry_engine, offset + n, 1)
        except BaseException as e:  # reported by the main thread
            errors.append(e)

    threads = [threading.Thread(target=appender, args=(o,)) for o in (0, 100)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert audit.verify(registry_engine) == audit.AuditCheck(ok=True, entries=LINKS)
    recorded = sorted(r["detail"]["n"] for r in rows(registry_engine))
    assert recorded == [*range(25), *range(100, 125)]


def test_verify_while_links_are_appended_finds_no_false_problem(registry_engine: sa.Engine) -> None:
    """Appends between verify's pages, and between its last page and its head, are new links,
    not tampering."""
    done = threading.Event()
    errors: list[BaseException] = []

    def appender() -> None:
        try:
            for n in range(60):
                append(registry_engine, n, 1)
        except BaseException as e:  # reported by the main thread
            errors.append(e)
        finally:
            done.set()

    thread = threading.Thread(target=appender)
    thread.start()
    checks = []
    while not done.is_set():
        checks.append(audit.verify(registry_engine))
    thread.join()
    checks.append(audit.verify(registry_engine))
    assert errors == []
    assert [c for c in checks if not c.ok] == []
    assert checks[-1].entries == 60
