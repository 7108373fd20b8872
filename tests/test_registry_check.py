"""A person's own check, on SQLite and PostgreSQL with the real key process: a Python client doing
the browser's steps (blind, evaluate, finalize, fetch the bucket, match) finds an ingested
identifier and its leaks, and nothing for an identifier not ingested; every bucket's answer has
the same length (empty, full, holding the tag); answers are cacheable and their ETag changes when
a leak comes in; the routes answer anonymously and never fail on hostile input; a person's
evaluations are refused with 429 once the network's limit is reached."""

from __future__ import annotations

import datetime as dt
import secrets
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from registry_leak_world import LeakWorld, make_leak_world
from registry_world import World, make_world
from starlette.requests import Request

from bench.registry_keyd import KeyProcess, key_process
from leaktrace.registry import db, leaks, oprf
from leaktrace.registry.check import (
    ENTRY_BYTES,
    MIN_ENTRIES,
    BucketStore,
    Generation,
    entries_of,
    entries_per_bucket,
    packed,
    packed_buckets,
    padded,
)
from leaktrace.registry.check_client import person_check
from leaktrace.registry.identifiers import TAG_BYTES, bucket_of
from leaktrace.registry.models import Leak, LeakBucket, LeakIdentifier
from leaktrace.registry.networks import TRUSTED_PROXIES_ENV, client_network

FIRST_SEEN = dt.datetime(2026, 10, 20, 3, 0, tzinfo=dt.UTC)
#: Limits generous enough for every test but the one about them.
OPEN_LIMITS = ("--person-net-burst", "100000", "--person-net-per-hour", "1000000")


@pytest.fixture(scope="module")
def keyd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KeyProcess]:
    with key_process(tmp_path_factory.mktemp("keyd"), *OPEN_LIMITS) as process:
        yield process


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> LeakWorld:
    return make_leak_world(tmp_path_factory.mktemp("leakworld"))


@pytest.fixture
def world(registry_engine: sa.Engine, keyd: KeyProcess) -> World:
    """The registry with the key process; its buckets read afresh on every request."""
    w = make_world(registry_engine)
    w.app.state.keys = keyd.client()
    w.app.state.check_store = BucketStore(registry_engine, ttl=0)
    return w


def _ingest(world: World, data: LeakWorld, keyd: KeyProcess) -> int:
    info = leaks.LeakInfo("某暗网论坛", FIRST_SEEN, world.orgs["bank"])
    return leaks.ingest(world.engine, [data.leak], info, keyd.client()).leak_id


def test_a_check_finds_an_ingested_identifier_and_names_its_leaks(
    world: World, data: LeakWorld, keyd: KeyProcess
) -> None:
    leak_id = _ingest(world, data, keyd)
    anonymous = world.client()
    for kind in ("mobile", "resident_id"):
        value = sorted(data.leaked[kind])[0]
        found, first = person_check(anonymous, kind, value)
        assert [leak["id"] for leak in found] == [leak_id]
        (leak,) = found
        assert leak["sector"] == "bank"
        assert leak["first_seen_at"].startswith("2026-10-20T03:00:00")
        assert {"resident_id", "mobile"} <= set(leak["data_kinds"])
        assert set(leak) == {"id", "first_seen_at", "sector", "data_kinds"}  # never its data
        _again, second = person_check(anonymous, kind, value)
        assert first != second  # a fresh blind each time


def test_a_check_of_an_identifier_in_no_leak_finds_none(
    world: World, data: LeakWorld, keyd: KeyProcess
) -> None:
    _ingest(world, data, keyd)
    absent = next(
        m for m in (f"139{n:08d}" for n in range(10**8)) if m not in data.leaked["mobile"]
    )
    found, _blinded = person_check(world.client(), "mobile", absent)
    assert found == []


def test_every_bucket_answers_with_the_same_length(
    world: World, data: LeakWorld, keyd: KeyProcess
) -> None:
    leak_id = _ingest(world, data, keyd)
    store = world.app.state.check_store = BucketStore(world.engine, ttl=0, minimum=4)
    full = 7
    with db.transaction(world.engine) as session:
        rows = session.execute(sa.select(LeakIdentifier.bucket, LeakIdentifier.tag)).all()
        # bucket 7 holds 37 more of the leak's tags than were ingested there
        more = [bytes([0, full]) + secrets.token_bytes(14) for _ in range(37)]
        tags = sorted([t for b, t in rows if b == full] + more)
        session.execute(sa.delete(LeakBucket).where(LeakBucket.bucket == full))
        session.execute(
            sa.insert(LeakBucket),
            [{"bucket": full, "leak_id": leak_id, "entries": len(tags),
              "packed": packed([(t, leak_id) for t in tags])}],
        )  # fmt: skip
    used = {b for b, _t in rows} | {full}
    empty = next(b for b in range(1 << 16) if b not in used)
    held = rows[0]
    client = world.client()
    answers = {b: client.get(f"/api/v1/check/buckets/{b}") for b in (empty, full, held.bucket)}
    size = entries_per_bucket(37 + sum(1 for b, _t in rows if b == full), 4)
    assert size == 64
    assert {len(a.content) for a in answers.values()} == {size * ENTRY_BYTES}
    assert store.generation().entries == size
    assert (held.tag, leak_id) in entries_of(answers[held.bucket].content)
    assert sum(1 for _t, i in entries_of(answers[full].content) if i == leak_id) >= 37
    for answer in answers.values():
        assert answer.headers["content-type"] == "application/octet-stream"
        tags = [t for t, _i in entries_of(answer.content)]
        assert tags == sorted(tags)  # padding mixed in, not appended


def test_while_a_new_generation_is_counted_the_others_are_answered_with_the_old(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = BucketStore(world.engine, ttl=0)
    old = store.generation()
    with db.transaction(world.engine) as session:
        leak = Leak(
            source="x", first_seen_at=FIRST_SEEN, data_kinds=[], counts={}, ingested_by="cli"
        )
        session.add(leak)
        session.flush()
        leak_id = leak.id
    counting, release = threading.Event(), threading.Event()
    count = store._count

    def slow(*args: Any) -> Generation:
        counting.set()
        release.wait(30)
        return count(*args)

    monkeypatch.setattr(store, "_count", slow)
    first = threading.Thread(target=store.generation)
    first.start()
    assert counting.wait(30)
    assert store.generation() == old  # not waiting for the count
    release.set()
    first.join(30)
    assert store.generation().newest == leak_id
    assert store.generation().etag != old.etag


def test_with_the_default_size_an_answer_is_2048_entries(world: World) -> None:
    answer = world.client().get("/api/v1/check/buckets/65535")
    assert len(answer.content) == MIN_ENTRIES * ENTRY_BYTES


@given(st.integers(min_value=0, max_value=10**7), st.sampled_from([1, 4, 2048]))
def test_the_padded_size_is_the_smallest_power_of_two_holding_the_largest_bucket(
    largest: int, minimum: int
) -> None:
    size = entries_per_bucket(largest, minimum)
    assert size >= max(largest, minimum)
    assert size & (size - 1) == 0
    assert size == minimum or size // 2 < largest


@given(
    st.lists(st.binary(min_size=TAG_BYTES, max_size=TAG_BYTES), max_size=64, unique=True),
    st.integers(min_value=0, max_value=64),
    st.lists(st.integers(min_value=1, max_value=2**31 - 1), max_size=5),
)
def test_padding_keeps_every_real_entry_and_sorts_the_answer_by_tag(
    tags: list[bytes], extra: int, leak_ids: list[int]
) -> None:
    real = packed([(t, 7) for t in tags])
    answer = padded(real, len(tags) + extra, tuple(leak_ids))
    assert len(answer) == (len(tags) + extra) * ENTRY_BYTES
    found = entries_of(answer)
    assert {(t, 7) for t in tags} <= set(found)
    assert [t[:8] for t, _i in found] == sorted(t[:8] for t, _i in found)
    assert {i for _t, i in found} <= set(leak_ids or [0]) | {7}
    if tags:
        with pytest.raises(ValueError):
            padded(real, len(tags) - 1, tuple(leak_ids))


@given(st.lists(st.binary(min_size=TAG_BYTES, max_size=TAG_BYTES), max_size=200, unique=True))
def test_a_leak_is_packed_one_row_per_bucket(tags: list[bytes]) -> None:
    pairs = sorted((bucket_of(t), t) for t in tags)
    rows = list(packed_buckets(9, pairs))
    assert [b for b, _n, _p in rows] == sorted({b for b, _t in pairs})
    for bucket, entries, blob in rows:
        mine = [t for b, t in pairs if b == bucket]
        assert entries == len(mine)
        assert blob == packed([(t, 9) for t in mine])


def test_answers_are_cacheable_and_their_etag_changes_when_a_leak_comes_in(
    world: World, data: LeakWorld, keyd: KeyProcess
) -> None:
    client = world.client()
    before = {p: client.get(p) for p in ("/api/v1/check/buckets/3", "/api/v1/check/leaks")}
    for path, r in before.items():
        assert r.headers["cache-control"].startswith("public, max-age=")
        again = client.get(path, headers={"If-None-Match": r.headers["etag"]})
        assert again.status_code == 304 and again.content == b""
    leak_id = _ingest(world, data, keyd)
    for path, r in before.items():
        after = client.get(path, headers={"If-None-Match": r.headers["etag"]})
        assert after.status_code == 200
        assert after.headers["etag"] != r.headers["etag"]
    listed = client.get("/api/v1/check/leaks").json()["leaks"]
    assert [leak["id"] for leak in listed] == [leak_id]


def test_the_check_routes_answer_without_sign_in_with_the_security_headers(world: World) -> None:
    client = world.client()
    _blind, blinded = oprf.blind(b"mobile:13800000000")
    answers = [client.get(p) for p in ("/api/v1/check/buckets/0", "/api/v1/check/leaks", "/check")]
    answers.append(client.post("/api/v1/check/evaluate", json={"blinded": blinded.hex()}))
    for r in answers:
        assert r.status_code == 200
        assert r.headers["x-content-type-options"] == "nosniff"
        assert "script-src 'self'" in r.headers["content-security-policy"]
    assert answers[-1].headers["cache-control"] == "no-store"
    assert len(bytes.fromhex(answers[-1].json()["evaluated"])) == 32


def test_the_fast_path_and_the_routes_answer_alike(world: World) -> None:
    """The fast path answers plain requests; a conditional one and a differently spelt body
    reach the routes: same status, same body's shape, same headers."""
    client = world.client()
    fast = client.get("/api/v1/check/buckets/9")
    routed = client.get("/api/v1/check/buckets/9", headers={"If-None-Match": '"other"'})
    assert len(fast.content) == len(routed.content) == MIN_ENTRIES * ENTRY_BYTES
    for name in ("etag", "cache-control", "content-type", "content-security-policy"):
        assert fast.headers[name] == routed.headers[name]
    _blind, blinded = oprf.blind(b"mobile:13800000000")
    plain = client.post("/api/v1/check/evaluate", json={"blinded": blinded.hex()})
    spaced = client.post(
        "/api/v1/check/evaluate",
        content=b'{"blinded": "' + blinded.hex().encode() + b'"}' + b" " * 2000,
        headers={"Content-Type": "application/json"},
    )  # longer than the fast path reads: the route answers it
    assert plain.json().keys() == spaced.json().keys() == {"evaluated"}
    assert plain.headers["content-type"] == spaced.headers["content-type"]


@pytest.mark.parametrize(
    "body",
    [
        {"blinded": "zz" * 32},
        {"blinded": "00" * 31},
        {"blinded": "00" * 33},
        {"blinded": "00" * 32},  # the identity element
        {"blinded": "ff" * 32},  # not a canonical encoding
        {"blinded": "AB" * 32},
        {"blinded": 12},
        {"blinded": None},
        {"blinded": "00" * 32, "more": 1},
        {},
        [],
        "text",
    ],
)
def test_hostile_evaluations_are_refused_without_a_server_error(world: World, body: Any) -> None:
    r = world.client().post("/api/v1/check/evaluate", json=body)
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"


def test_a_huge_or_broken_body_is_refused(world: World) -> None:
    client = world.client()
    huge = client.post(
        "/api/v1/check/evaluate",
        content=b'{"blinded": "' + b"0" * (22 * 2**20) + b'"}',
        headers={"Content-Type": "application/json"},
    )
    assert huge.status_code == 413
    broken = client.post(
        "/api/v1/check/evaluate", content=b"\xff\xfe{", headers={"Content-Type": "application/json"}
    )
    assert broken.status_code in (400, 422)


@pytest.mark.parametrize("bucket", ["-1", "65536", "abc", "1e3", "9" * 40, "%00", "0x10"])
def test_a_hostile_bucket_is_refused_without_a_server_error(world: World, bucket: str) -> None:
    assert world.client().get(f"/api/v1/check/buckets/{bucket}").status_code == 422


@pytest.fixture(scope="module")
def shared_client(
    tmp_path_factory: pytest.TempPathFactory, keyd: KeyProcess
) -> Iterator[TestClient]:
    """One client on a SQLite registry, for a property test whose examples share it."""
    engine = db.make_engine(f"sqlite:///{tmp_path_factory.mktemp('shared') / 'r.sqlite'}")
    db.upgrade(engine)
    w = make_world(engine)
    w.app.state.keys = keyd.client()
    yield w.client()
    engine.dispose()


@settings(max_examples=40, deadline=None)
@given(blinded=st.text(max_size=80))
def test_any_blinded_text_is_evaluated_or_refused(shared_client: TestClient, blinded: str) -> None:
    r = shared_client.post("/api/v1/check/evaluate", json={"blinded": blinded})
    assert r.status_code in (200, 422)


def test_the_limit_refuses_a_network_with_429_and_retry_after(
    registry_engine: sa.Engine, tmp_path_factory: pytest.TempPathFactory
) -> None:
    w = make_world(registry_engine)
    limits = ("--person-net-burst", "2", "--person-net-per-hour", "1")
    with key_process(tmp_path_factory.mktemp("tight"), *limits) as tight:
        w.app.state.keys = tight.client()
        client = w.client()
        statuses = []
        for _ in range(3):
            _blind, blinded = oprf.blind(b"mobile:13800000000")
            r = client.post("/api/v1/check/evaluate", json={"blinded": blinded.hex()})
            statuses.append(r.status_code)
        assert statuses == [200, 200, 429]
        assert int(r.headers["retry-after"]) >= 1
        assert r.headers["content-type"] == "application/problem+json"


def _request(peer: str, forwarded: str | None = None) -> Request:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    return Request({"type": "http", "client": (peer, 50000), "headers": headers})


@pytest.mark.parametrize(
    ("peer", "forwarded", "trusted", "net"),
    [
        ("203.0.113.77", None, frozenset(), "203.0.113.0/24"),
        ("2001:db8:1:2::5", None, frozenset(), "2001:db8:1::/48"),
        ("::ffff:198.51.100.9", None, frozenset(), "198.51.100.0/24"),
        ("testclient", None, frozenset(), "0.0.0.0/0"),
        ("10.0.0.1", "198.51.100.9", frozenset(), "10.0.0.0/24"),  # no proxy trusted
        ("10.0.0.1", "1.2.3.4, 198.51.100.9", frozenset({"10.0.0.1"}), "198.51.100.0/24"),
        ("10.0.0.2", "198.51.100.9", frozenset({"10.0.0.1"}), "10.0.0.0/24"),
        ("10.0.0.1", "not an address", frozenset({"10.0.0.1"}), "0.0.0.0/0"),
    ],
)
def test_the_client_network(
    peer: str, forwarded: str | None, trusted: frozenset[str], net: str
) -> None:
    assert client_network(_request(peer, forwarded), trusted) == net


def test_trusted_proxies_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TRUSTED_PROXIES_ENV, " 10.0.0.1 ,10.0.0.3")
    assert client_network(_request("10.0.0.1", "192.0.2.5")) == "192.0.2.0/24"
    monkeypatch.delenv(TRUSTED_PROXIES_ENV)
    assert client_network(_request("10.0.0.1", "192.0.2.5")) == "10.0.0.0/24"


@pytest.mark.parametrize(("lang", "title"), [("zh", "已知泄露"), ("en", "known leak")])
def test_the_page_speaks_both_languages_and_runs_no_inline_script(
    world: World, lang: str, title: str
) -> None:
    r = world.client().get(f"/check?lang={lang}")
    assert r.status_code == 200 and title in r.text
    assert "script-src 'self'" in r.headers["content-security-policy"]
    scripts = r.text.split("<script")[1:]
    assert len(scripts) == 2
    assert all('type="application/json"' in s or 'src="/static/check.js"' in s for s in scripts)
