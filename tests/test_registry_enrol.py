"""Enrolment, on SQLite and PostgreSQL with the real key process: the quota of two evaluations per
declared customer holds (beyond it nothing is evaluated or charged), tags must have been paid for
and lie in their bucket, a re-enrolment replaces the earlier tags, the map is the customers', who
may enrol, and the key process's refusals come back as 429 with Retry-After.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa
from registry_world import World, make_world
from starlette.requests import Request

from bench.registry_keyd import KeyProcess, key_process
from leaktrace.registry import db, enrol, enrolments, oprf
from leaktrace.registry.errors import Invalid, NotFound
from leaktrace.registry.identifiers import oprf_input, tag_and_bucket
from leaktrace.registry.models import EnrolledIdentifier, Enrolment
from leaktrace.registry.networks import peer_network as client_net
from leaktrace.synth.world import make_world as make_synth_world

EVALUATE, TAGS = "/api/v1/enrol/evaluate", "/api/v1/enrol/tags"


@pytest.fixture(scope="module")
def master(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("master")
    make_synth_world(200, seed=5, out=out)
    return out


@pytest.fixture
def world(registry_engine: sa.Engine, keyd: KeyProcess) -> World:
    w = make_world(registry_engine)
    w.app.state.keys = keyd.client()
    return w


def _declare(world: World, org: str, customers: int) -> None:
    with db.transaction(world.engine) as session:
        enrolments.declare(session, world.orgs[org], customers)


def _blinded(n: int, start: int = 0) -> list[str]:
    return [oprf.blind(oprf_input("mobile", f"1380013{i:04d}"))[1].hex() for i in range(start, n)]


def test_evaluation_is_capped_at_two_per_declared_customer(world: World) -> None:
    _declare(world, "bank", 3)
    bank = world.client("bank", "admin")
    r = bank.post(EVALUATE, json={"elements": _blinded(4)})
    assert r.status_code == 200 and r.json()["remaining"] == 2
    assert len(r.json()["elements"]) == 4
    over = bank.post(EVALUATE, json={"elements": _blinded(3)})
    assert over.status_code == 409 and over.json()["type"].endswith("/conflict")
    assert bank.post(EVALUATE, json={"elements": _blinded(2)}).json()["remaining"] == 0
    assert bank.post(EVALUATE, json={"elements": _blinded(1)}).status_code == 409
    with db.transaction(world.engine) as session:
        assert session.get_one(Enrolment, world.orgs["bank"]).enrolled == 6


def test_without_a_declared_count_nothing_is_evaluated(world: World) -> None:
    r = world.client("shop", "admin").post(EVALUATE, json={"elements": _blinded(1)})
    assert r.status_code == 409


def test_who_may_enrol(world: World) -> None:
    _declare(world, "bank", 10)
    body = {"json": {"elements": _blinded(1)}}
    for org, role, status in (
        ("bank", "viewer", 403),
        ("bank", "reporter", 403),
        ("cac", "admin", 403),
        ("bank", "admin", 200),
    ):
        assert world.client(org, role).post(EVALUATE, **body).status_code == status
    assert world.client().post(EVALUATE, **body).status_code == 401


def test_only_well_formed_elements_are_evaluated(world: World) -> None:
    _declare(world, "bank", 10)
    bank = world.client("bank", "admin")
    for elements in ([], ["00" * 31], ["zz" * 32], ["00" * 32] * 10_001):
        assert bank.post(EVALUATE, json={"elements": elements}).status_code == 422
    identity = bank.post(EVALUATE, json={"elements": ["00" * 32]})
    assert identity.status_code == 422  # the key process refuses the identity
    with db.transaction(world.engine) as session:
        assert session.get_one(Enrolment, world.orgs["bank"]).enrolled == 0  # refunded


def test_tags_must_be_paid_for_and_lie_in_their_bucket(world: World, keyd: KeyProcess) -> None:
    _declare(world, "bank", 1)
    bank = world.client("bank", "admin")
    outputs = [oprf.evaluate(keyd.key, oprf_input("mobile", f"1390013{i:04d}")) for i in range(3)]
    tags = [{"bucket": b, "tag": t.hex()} for b, t in map(tag_and_bucket, outputs)]
    assert bank.post(TAGS, json={"tags": tags[:1]}).status_code == 409  # nothing evaluated yet
    assert bank.post(EVALUATE, json={"elements": _blinded(2)}).status_code == 200
    wrong = {"bucket": (tags[0]["bucket"] + 1) % 65536, "tag": tags[0]["tag"]}
    assert bank.post(TAGS, json={"tags": [wrong]}).status_code == 422
    assert bank.post(TAGS, json={"tags": tags[:2]}).json() == {"enrolled": 2, "alerts": 0}
    assert bank.post(TAGS, json={"tags": tags[2:]}).status_code == 409  # 3 tags, 2 evaluated
    assert bank.post(TAGS, json={"tags": tags[2:], "replace": True}).json() == {
        "enrolled": 1,
        "alerts": 0,
    }
    with db.transaction(world.engine) as session:
        held = session.scalars(sa.select(EnrolledIdentifier.tag)).all()
    assert [bytes(t).hex() for t in held] == [tags[2]["tag"]]


def test_a_tag_sent_twice_is_enrolled_and_counted_once(world: World, keyd: KeyProcess) -> None:
    _declare(world, "bank", 2)
    bank = world.client("bank", "admin")
    outputs = [oprf.evaluate(keyd.key, oprf_input("mobile", f"1370013{i:04d}")) for i in range(3)]
    tags = [{"bucket": b, "tag": t.hex()} for b, t in map(tag_and_bucket, outputs)]
    assert bank.post(EVALUATE, json={"elements": _blinded(4)}).status_code == 200
    assert bank.post(TAGS, json={"tags": tags[:2]}).json()["enrolled"] == 2
    assert bank.post(TAGS, json={"tags": tags[1:]}).json()["enrolled"] == 3  # one new
    with db.transaction(world.engine) as session:
        held = session.scalar(sa.select(sa.func.count()).select_from(EnrolledIdentifier))
        row = session.get_one(Enrolment, world.orgs["bank"])
        assert held == row.tags == 3


def test_enrol_keys_the_master_and_keeps_the_map_here(
    world: World, keyd: KeyProcess, master: Path, tmp_path: Path
) -> None:
    _declare(world, "bank", 400)  # room for two enrolments of the 200 customers
    target = tmp_path / "maps" / "bank.parquet"
    done = enrol.enrol(master, world.client("bank", "admin"), target)
    customers = pl.read_parquet(master / "customers.parquet")
    expected = {
        oprf.evaluate(keyd.key, oprf_input(kind, value))[:16].hex(): cid
        for kind in ("resident_id", "mobile")
        for cid, value in customers.select("customer_id", kind).iter_rows()
    }
    mapping = pl.read_parquet(target)
    assert dict(mapping.iter_rows()) == expected
    assert done.enrolled == len(expected) and done.customers == 200
    assert done.keyed == {"resident_id": 200, "mobile": len(set(customers["mobile"]))}
    assert [p.name for p in target.parent.iterdir()] == ["bank.parquet"]  # no temporary left
    again = enrol.enrol(master, world.client("bank", "admin"), target)
    assert again.enrolled == len(expected)  # replaced, not added to
    with pytest.raises(enrol.RegistryRefused) as refused:  # the quota is spent
        enrol.enrol(master, world.client("bank", "admin"), target)
    assert refused.value.status == 409


def test_the_key_process_refusing_is_a_429_with_retry_after(
    registry_engine: sa.Engine, tmp_path: Path
) -> None:
    limits = ("--institution-key-burst", "5", "--institution-key-per-hour", "1")
    with key_process(tmp_path / "keyd", *limits) as keyd:
        world = make_world(registry_engine)
        world.app.state.keys = keyd.client()
        _declare(world, "bank", 100)
        bank = world.client("bank", "admin")
        assert bank.post(EVALUATE, json={"elements": _blinded(5)}).status_code == 200
        r = bank.post(EVALUATE, json={"elements": _blinded(1)})
        assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
        with db.transaction(world.engine) as session:
            assert session.get_one(Enrolment, world.orgs["bank"]).enrolled == 5  # refunded


def test_the_quota_is_declared_for_institutions_only(world: World) -> None:
    with db.transaction(world.engine) as session, pytest.raises(NotFound):
        enrolments.declare(session, world.orgs["cac"], 10)
    with db.transaction(world.engine) as session, pytest.raises(Invalid):
        enrolments.declare(session, world.orgs["bank"], -1)


@pytest.mark.parametrize(
    ("host", "net"),
    [
        ("203.0.113.7", "203.0.113.0/24"),
        ("2001:db8:1:2::5", "2001:db8:1::/48"),
        ("testclient", None),
    ],
)
def test_the_key_process_counts_an_asker_by_its_network(host: str, net: str | None) -> None:
    assert client_net(Request({"type": "http", "client": (host, 4321), "headers": []})) == net
