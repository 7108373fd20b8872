"""The outbox and webhooks on SQLite and PostgreSQL, against a real HTTP receiver on 127.0.0.1:
signed deliveries sent only after the change is committed and readable, never for a rollback,
never to another organisation; retries with backoff and a delivery log; deadlines announced once
each; signatures and webhook addresses checked."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from leaktrace.registry import db, outbox, webhooks, worker
from leaktrace.registry.models import (
    Deadline,
    Delivery,
    DeliveryAttempt,
    Organisation,
    OutboxEvent,
    Report,
    ReportRecipient,
    Webhook,
)

T0 = dt.datetime(2026, 12, 7, 1, 0, tzinfo=dt.UTC)


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    report_readable: bool
    unlocked: bool


@dataclass
class Receiver:
    """A webhook receiver: answers with ``statuses`` in turn (the last one after that) and notes,
    on each request, whether it can read the announced report and lock its delivery's row (no
    transaction of the sender is open)."""

    engine: sa.Engine
    statuses: list[int] = field(default_factory=lambda: [200])
    received: list[Received] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)
    url: str = ""

    def answer(self, headers: dict[str, str], body: bytes) -> int:
        document = json.loads(body)
        readable, unlocked = self._look(document["data"].get("report_id"), document["id"])
        self.received.append(Received(headers, body, readable, unlocked))
        self.arrived.set()
        return self.statuses[min(len(self.received), len(self.statuses)) - 1]

    def _look(self, report_id: int | None, delivery_id: int) -> tuple[bool, bool]:
        with self.engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql("SET lock_timeout = '2s'")
            # SQLite: connecting began an IMMEDIATE transaction, which no open writer allows
            readable = conn.execute(sa.select(Report.id).where(Report.id == report_id)).first()
            locked = conn.execute(
                sa.select(Delivery.id).where(Delivery.id == delivery_id).with_for_update()
            ).first()
        return readable is not None, locked is not None


@pytest.fixture
def receiver(registry_engine: sa.Engine) -> Iterator[Receiver]:
    state = Receiver(registry_engine)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers["Content-Length"]))
            status = state.answer(dict(self.headers), body)
            self.send_response(status)
            if 300 <= status < 400:
                self.send_header("Location", state.url)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the test reads what arrived, not the server's log."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_port}/hook"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client() as c:
        yield c


@dataclass(frozen=True)
class World:
    bank: int
    other_bank: int
    cac: int
    pboc: int


@pytest.fixture
def world(registry_engine: sa.Engine) -> World:
    with db.transaction(registry_engine) as s:
        orgs = [
            Organisation(name="Bank A", kind="institution", sector="bank"),
            Organisation(name="Bank B", kind="institution", sector="bank"),
            Organisation(name="CAC Beijing", kind="regulator", authority="CAC"),
            Organisation(name="PBOC Beijing", kind="regulator", authority="PBOC"),
        ]
        s.add_all(orgs)
        s.flush()
        return World(*(o.id for o in orgs))


def add_webhook(engine: sa.Engine, org: int, url: str, events: list[str], **kw: Any) -> Webhook:
    with db.transaction(engine) as s:
        hook = Webhook(org_id=org, url=url, secret=webhooks.new_secret(), events=events, **kw)
        s.add(hook)
        s.flush()
        return hook


def file_report(engine: sa.Engine, org: int, regulators: tuple[int, ...] = ()) -> int:
    """What filing does, reduced to the tables: the report, its recipients, its events."""
    with db.transaction(engine) as s:
        report = Report(
            org_id=org,
            title="客户信息泄露",
            grade="较大",
            rules_version="2025-11",
            discovered_at=T0,
        )
        s.add(report)
        s.flush()
        s.add_all(ReportRecipient(report_id=report.id, org_id=r) for r in regulators)
        payload = {"report_id": report.id, "grade": report.grade, "status": "open", "filed_at": T0}
        for target in (org, *regulators):
            key = f"report:{report.id}:filed:{target}"
            assert outbox.enqueue(s, target, "report.filed", report.id, payload, key)
        return report.id


def deliveries(engine: sa.Engine) -> list[Delivery]:
    with db.transaction(engine) as s:
        return list(s.scalars(sa.select(Delivery).order_by(Delivery.id)))


def attempts(engine: sa.Engine, delivery_id: int) -> list[DeliveryAttempt]:
    with db.transaction(engine) as s:
        query = sa.select(DeliveryAttempt).where(DeliveryAttempt.delivery_id == delivery_id)
        return list(s.scalars(query.order_by(DeliveryAttempt.id)))


def events(engine: sa.Engine) -> list[OutboxEvent]:
    with db.transaction(engine) as s:
        return list(s.scalars(sa.select(OutboxEvent).order_by(OutboxEvent.id)))


def test_a_delivery_is_signed_and_arrives_after_its_report_is_readable(
    registry_engine: sa.Engine, world: World, receiver: Receiver, client: httpx.Client
) -> None:
    hook = add_webhook(registry_engine, world.bank, receiver.url, ["report.filed"])
    report_id = file_report(registry_engine, world.bank)
    assert outbox.dispatch(registry_engine, T0) == 1
    assert outbox.dispatch(registry_engine, T0) == 0
    assert outbox.deliver_due(registry_engine, client, T0, allow_private=True) == 1

    [got] = receiver.received
    assert got.report_readable and got.unlocked
    document = json.loads(got.body)
    [delivery] = deliveries(registry_engine)
    assert document == {
        "id": delivery.id,
        "event": "report.filed",
        "created_at": events(registry_engine)[0].created_at.isoformat(timespec="microseconds"),
        "data": {
            "report_id": report_id,
            "grade": "较大",
            "status": "open",
            "filed_at": "2026-12-07T01:00:00.000000+00:00",
        },
    }
    assert got.headers["Content-Type"] == "application/json"
    assert got.headers["Leaktrace-Event"] == "report.filed"
    assert got.headers["Leaktrace-Delivery"] == str(delivery.id)
    signature = got.headers["Leaktrace-Signature"]
    now = dt.datetime.now(dt.UTC)
    assert webhooks.verify_signature(hook.secret, signature, got.body, now)
    assert not webhooks.verify_signature(webhooks.new_secret(), signature, got.body, now)
    assert not webhooks.verify_signature(hook.secret, signature, got.body + b" ", now)

    assert (delivery.status, delivery.attempts, delivery.delivered_at) == ("delivered", 1, T0)
    assert delivery.next_attempt_at is None
    [tried] = attempts(registry_engine, delivery.id)
    assert (tried.at, tried.status_code, tried.error) == (T0, 200, None)
    assert outbox.deliver_due(registry_engine, client, T0 + dt.timedelta(days=1), True) == 0


def test_an_event_whose_transaction_rolled_back_never_arrives(
    registry_engine: sa.Engine, world: World, receiver: Receiver, client: httpx.Client
) -> None:
    add_webhook(registry_engine, world.bank, receiver.url, ["report.closed"])
    with pytest.raises(RuntimeError, match="closing failed"), db.transaction(registry_engine) as s:
        outbox.enqueue(s, world.bank, "report.closed", None, {"status": "closed"}, "close:1")
        raise RuntimeError("closing failed")
    assert outbox.dispatch(registry_engine, T0) == 0
    assert outbox.deliver_due(registry_engine, client, T0, allow_private=True) == 0
    assert events(registry_engine) == [] and receiver.received == []


def test_an_event_is_written_once_per_dedupe_key(registry_engine: sa.Engine, world: World) -> None:
    with db.transaction(registry_engine) as s:
        assert outbox.enqueue(s, world.bank, "question.asked", None, {"question_id": 3}, "q:3")
        assert not outbox.enqueue(s, world.bank, "question.asked", None, {"question_id": 4}, "q:3")
    with db.transaction(registry_engine) as s:
        assert not outbox.enqueue(s, world.bank, "question.asked", None, {}, "q:3")
    [event] = events(registry_engine)
    assert event.payload == {"question_id": 3}


@pytest.mark.parametrize(
    ("event", "payload", "message"),
    [
        ("report.deleted", {}, "expected one of"),
        ("report.filed", {"title": "客户信息泄露"}, "not one of the fields"),
        ("report.filed", {"grade": {"level": 2}}, "expected text"),
        ("report.filed", {"report_id": 1.5}, "expected text"),
    ],
)
def test_an_unknown_event_or_a_payload_beyond_ids_times_grade_and_state_is_refused(
    registry_engine: sa.Engine, world: World, event: str, payload: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message), db.transaction(registry_engine) as s:
        outbox.enqueue(s, world.bank, event, None, payload, "k")
    assert events(registry_engine) == []


def test_a_webhook_receives_only_its_own_organisations_subscribed_events(
    registry_engine: sa.Engine, world: World, receiver: Receiver, client: httpx.Client
) -> None:
    url = receiver.url
    mine = add_webhook(registry_engine, world.bank, url, ["report.filed", "report.closed"])
    add_webhook(registry_engine, world.bank, url, ["question.asked"])  # not subscribed
    add_webhook(registry_engine, world.bank, url, ["report.filed"], active=False)
    add_webhook(registry_engine, world.other_bank, url, list(outbox.EVENTS))
    cac = add_webhook(registry_engine, world.cac, url, ["report.filed"])
    add_webhook(registry_engine, world.pboc, url, list(outbox.EVENTS))  # not filed to
    report_id = file_report(registry_engine, world.bank, regulators=(world.cac,))

    assert outbox.dispatch(registry_engine, T0) == 2
    made = {(d.webhook_id, d.event_id) for d in deliveries(registry_engine)}
    by_org = {e.org_id: e.id for e in events(registry_engine)}
    assert made == {(mine.id, by_org[world.bank]), (cac.id, by_org[world.cac])}
    assert outbox.deliver_due(registry_engine, client, T0, allow_private=True) == 2
    assert sorted(json.loads(r.body)["data"]["report_id"] for r in receiver.received) == [
        report_id,
        report_id,
    ]


def test_a_failed_try_is_retried_and_both_tries_are_logged(
    registry_engine: sa.Engine, world: World, receiver: Receiver, client: httpx.Client
) -> None:
    receiver.statuses = [500, 200]
    add_webhook(registry_engine, world.bank, receiver.url, ["report.filed"])
    file_report(registry_engine, world.bank)
    outbox.dispatch(registry_engine, T0)
    assert outbox.deliver_due(registry_engine, client, T0, allow_private=True) == 1
    [delivery] = deliveries(registry_engine)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
    assert delivery.next_attempt_at == T0 + dt.timedelta(seconds=30)
    assert outbox.deliver_due(registry_engine, client, T0 + dt.timedelta(seconds=29), True) == 0
    later = T0 + dt.timedelta(seconds=30)
    assert outbox.deliver_due(registry_engine, client, later, allow_private=True) == 1

    assert len(receiver.received) == 2
    assert receiver.received[0].body == receiver.received[1].body
    [delivery] = deliveries(registry_engine)
    assert (delivery.status, delivery.attempts, delivery.delivered_at) == ("delivered", 2, later)
    logged = [(a.at, a.status_code, a.error) for a in attempts(registry_engine, delivery.id)]
    assert logged == [(T0, 500, None), (later, 200, None)]


@pytest.mark.parametrize("status", [301, 307, 308])
def test_a_redirect_is_a_failed_try_never_followed(
    registry_engine: sa.Engine, world: World, receiver: Receiver, status: int
) -> None:
    receiver.statuses = [status]
    add_webhook(registry_engine, world.bank, receiver.url, ["report.filed"])
    file_report(registry_engine, world.bank)
    outbox.dispatch(registry_engine, T0)
    with httpx.Client(follow_redirects=True) as following:
        assert outbox.deliver_due(registry_engine, following, T0, allow_private=True) == 1
    assert len(receiver.received) == 1
    [delivery] = deliveries(registry_engine)
    assert (delivery.status, delivery.last_status_code) == ("pending", status)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_network_error_is_logged_by_kind_and_fails_after_the_last_retry(
    registry_engine: sa.Engine, world: World, client: httpx.Client
) -> None:
    url = f"http://127.0.0.1:{closed_port()}/hook"
    add_webhook(registry_engine, world.bank, url, ["report.filed"])
    file_report(registry_engine, world.bank)
    outbox.dispatch(registry_engine, T0)
    now = T0
    waits = []
    for _ in range(outbox.MAX_ATTEMPTS):
        assert outbox.deliver_due(registry_engine, client, now, allow_private=True) == 1
        [delivery] = deliveries(registry_engine)
        if delivery.next_attempt_at is None:
            break
        waits.append(delivery.next_attempt_at - now)
        now = delivery.next_attempt_at
    assert waits == [
        dt.timedelta(seconds=30),
        dt.timedelta(minutes=2),
        dt.timedelta(minutes=10),
        dt.timedelta(hours=1),
        dt.timedelta(hours=6),
    ]
    assert (delivery.status, delivery.attempts, delivery.last_error) == (
        "failed",
        6,
        "ConnectError",
    )
    logged = attempts(registry_engine, delivery.id)
    assert [(a.status_code, a.error) for a in logged] == [(None, "ConnectError")] * 6
    assert outbox.deliver_due(registry_engine, client, now + dt.timedelta(days=30), True) == 0


def test_a_receiver_on_a_private_address_is_refused_unless_allowed(
    registry_engine: sa.Engine,
    world: World,
    receiver: Receiver,
    client: httpx.Client,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(webhooks.ALLOW_PRIVATE_ENV, raising=False)
    add_webhook(registry_engine, world.bank, receiver.url, ["report.filed"])
    file_report(registry_engine, world.bank)
    outbox.dispatch(registry_engine, T0)
    assert outbox.deliver_due(registry_engine, client, T0) == 1
    [delivery] = deliveries(registry_engine)
    assert (delivery.status, delivery.last_error) == ("pending", "AddressRefused")
    assert receiver.received == []
    monkeypatch.setenv(webhooks.ALLOW_PRIVATE_ENV, "1")
    assert outbox.deliver_due(registry_engine, client, T0 + dt.timedelta(seconds=30)) == 1
    assert len(receiver.received) == 1


def add_deadline(engine: sa.Engine, report_id: int, due_at: dt.datetime | None, **kw: Any) -> int:
    with db.transaction(engine) as s:
        deadline = Deadline(
            report_id=report_id,
            rule_id="cac-major-4h",
            table_version="2025-11",
            authority="CAC",
            label_zh="向省级网信部门报告",
            label_en="Report to the provincial CAC",
            start="discovered",
            due_at=due_at,
            **kw,
        )
        s.add(deadline)
        s.flush()
        return deadline.id


def deadline_events(engine: sa.Engine) -> list[tuple[int, str, dict[str, Any]]]:
    return [(e.org_id, e.event, e.payload) for e in events(engine) if e.event.startswith("dead")]


def test_deadlines_are_announced_near_and_overdue_once_each_to_institution_and_regulators(
    registry_engine: sa.Engine, world: World
) -> None:
    report_id = file_report(registry_engine, world.bank, regulators=(world.cac, world.pboc))
    due = T0 + dt.timedelta(hours=4)
    deadline_id = add_deadline(registry_engine, report_id, due)
    hour = dt.timedelta(hours=1)
    scan = outbox.scan_deadlines

    assert scan(registry_engine, due - hour - dt.timedelta(microseconds=1)) == 0
    assert scan(registry_engine, due - hour) == 3
    assert scan(registry_engine, due - dt.timedelta(minutes=1)) == 0
    assert scan(registry_engine, due) == 3
    assert scan(registry_engine, due + 5 * hour) == 0

    payload = {
        "report_id": report_id,
        "deadline_id": deadline_id,
        "rule_id": "cac-major-4h",
        "authority": "CAC",
        "due_at": "2026-12-07T05:00:00.000000+00:00",
        "grade": "较大",
        "status": "open",
    }
    orgs = [world.bank, world.cac, world.pboc]
    expected = [(o, "deadline.near", payload) for o in orgs]
    expected += [(o, "deadline.overdue", payload) for o in orgs]
    assert sorted(deadline_events(registry_engine)) == sorted(expected)
    created = {e.event: e.created_at for e in events(registry_engine)}
    assert (created["deadline.near"], created["deadline.overdue"]) == (due - hour, due)


def test_a_deadline_first_seen_after_it_passed_is_only_overdue(
    registry_engine: sa.Engine, world: World
) -> None:
    report_id = file_report(registry_engine, world.bank)
    add_deadline(registry_engine, report_id, T0)
    assert outbox.scan_deadlines(registry_engine, T0 + dt.timedelta(minutes=5)) == 1
    assert [e[:2] for e in deadline_events(registry_engine)] == [(world.bank, "deadline.overdue")]


def test_met_informational_undated_and_closed_clocks_announce_nothing(
    registry_engine: sa.Engine, world: World
) -> None:
    report_id = file_report(registry_engine, world.bank, regulators=(world.cac,))
    add_deadline(registry_engine, report_id, T0, met_at=T0 - dt.timedelta(minutes=1))
    add_deadline(registry_engine, report_id, T0, informational=True)
    add_deadline(registry_engine, report_id, None)
    closed = file_report(registry_engine, world.other_bank)
    add_deadline(registry_engine, closed, T0)
    with db.transaction(registry_engine) as s:
        s.get(Report, closed).status = "closed"
    assert outbox.scan_deadlines(registry_engine, T0 + dt.timedelta(days=40)) == 0
    assert deadline_events(registry_engine) == []


def test_the_worker_runs_a_whole_round(
    registry_engine: sa.Engine, world: World, receiver: Receiver, client: httpx.Client
) -> None:
    add_webhook(registry_engine, world.cac, receiver.url, ["deadline.overdue"])
    report_id = file_report(registry_engine, world.bank, regulators=(world.cac,))
    add_deadline(registry_engine, report_id, T0)
    loop = worker.Worker(registry_engine, client=client, allow_private=True)
    assert loop.run_once(T0) == worker.Round(deadline_events=2, deliveries=1, tries=1)
    assert loop.run_once(T0) == worker.Round(deadline_events=0, deliveries=0, tries=0)
    [got] = receiver.received
    assert json.loads(got.body)["event"] == "deadline.overdue"


def test_the_worker_logs_a_failed_round_by_kind_and_goes_on(
    registry_engine: sa.Engine,
    world: World,
    receiver: Receiver,
    client: httpx.Client,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    scan = outbox.scan_deadlines
    calls = []

    def failing_once(engine: sa.Engine, now: dt.datetime) -> int:
        calls.append(now)
        if len(calls) == 1:
            raise RuntimeError("13800138000 could not be read")
        return scan(engine, now)

    monkeypatch.setattr(outbox, "scan_deadlines", failing_once)
    add_webhook(registry_engine, world.bank, receiver.url, ["report.filed"])
    file_report(registry_engine, world.bank)
    loop = worker.Worker(registry_engine, interval=0.01, client=client, allow_private=True)
    with caplog.at_level(logging.ERROR, logger=worker.__name__):
        loop.start()
        arrived = receiver.arrived.wait(60)
        loop.stop()
    assert arrived and len(calls) >= 2
    [logged] = [r.getMessage() for r in caplog.records if r.name == worker.__name__]
    assert "RuntimeError" in logged and "13800138000" not in logged


# Signatures


@given(
    secret=st.text(min_size=1),
    timestamp=st.integers(min_value=0, max_value=2**36),
    body=st.binary(),
    skew=st.integers(min_value=-300, max_value=300),
)
def test_a_signature_verifies_with_its_secret_within_the_tolerance(
    secret: str, timestamp: int, body: bytes, skew: int
) -> None:
    header = webhooks.sign(secret, timestamp, body)
    at = dt.datetime.fromtimestamp(timestamp + skew, dt.UTC)
    assert webhooks.verify_signature(secret, header, body, at)
    assert not webhooks.verify_signature(secret + "x", header, body, at)
    assert not webhooks.verify_signature(secret, header, body + b"x", at)
    late = dt.datetime.fromtimestamp(timestamp + 301, dt.UTC)
    assert not webhooks.verify_signature(secret, header, body, late)


def test_the_signature_is_the_documented_hmac() -> None:
    import hashlib
    import hmac

    expected = hmac.new(b"s3cret", b"1700000000.{}", hashlib.sha256).hexdigest()
    assert webhooks.sign("s3cret", 1700000000, b"{}") == f"t=1700000000,v1={expected}"


def test_a_rotated_secret_may_sign_beside_the_old_one() -> None:
    body, now = b'{"id":1}', dt.datetime.fromtimestamp(1700000000, dt.UTC)
    old = webhooks.sign("old", 1700000000, body)
    new = webhooks.sign("new", 1700000000, body).split(",")[1]
    assert webhooks.verify_signature("new", f"{old},{new}", body, now)
    assert webhooks.verify_signature("old", f"{old},{new}", body, now)


@given(header=st.text())
def test_any_header_text_is_refused_without_an_error(header: str) -> None:
    now = dt.datetime.fromtimestamp(1700000000, dt.UTC)
    assert webhooks.verify_signature("secret", header, b"{}", now) is False


@pytest.mark.parametrize(
    "header",
    [
        "v1=abc",
        "t=1700000000",
        "t=1700000000,t=1700000000,v1=00",
        "t=-1700000000,v1=00",
        "t=١٧٠٠٠٠٠٠٠٠,v1=00",
        "t=1700000000;v1=00",
    ],
)
def test_a_malformed_header_is_refused(header: str) -> None:
    now = dt.datetime.fromtimestamp(1700000000, dt.UTC)
    assert not webhooks.verify_signature("secret", header, b"{}", now)


def test_new_secrets_are_long_random_and_url_safe() -> None:
    made = {webhooks.new_secret() for _ in range(100)}
    assert len(made) == 100
    assert all(len(s) == 43 and set(s) <= set(ALPHABET) for s in made)


ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

# Addresses


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "https://10.1.2.3/hook",
        "https://172.16.0.1/hook",
        "https://192.168.1.10/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://100.64.0.1/hook",
        "http://0.0.0.0/hook",
        "http://[::1]/hook",
        "http://[fe80::1]/hook",
        "http://[fd00::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://224.0.0.1/hook",
        "http://2130706433/hook",
    ],
)
def test_a_private_address_is_refused_unless_allowed(url: str) -> None:
    with pytest.raises(ValueError, match="loopback, private or link-local"):
        webhooks.check_url(url, allow_private=False)
    assert webhooks.check_url(url, allow_private=True) == url


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://203.0.113.9/hook", "http:// or https://"),
        ("file:///etc/passwd", "http:// or https://"),
        ("javascript:alert(1)", "http:// or https://"),
        ("https://user:pass@93.184.216.34/hook", "user name or password"),
        ("https://token@93.184.216.34/hook", "user name or password"),
        ("https:///hook", "has no host"),
        ("https://93.184.216.34:99999/hook", "not a valid URL"),
        ("https://[::1/hook", "not a valid URL"),
    ],
)
def test_a_malformed_address_is_refused_even_when_private_ones_are_allowed(
    url: str, message: str
) -> None:
    for allow_private in (False, True):
        with pytest.raises(ValueError, match=message):
            webhooks.check_url(url, allow_private)


def test_a_host_that_does_not_resolve_is_refused_and_logged_as_such(
    registry_engine: sa.Engine, world: World, client: httpx.Client
) -> None:
    url = "https://webhooks.leaktrace.invalid/hook"  # .invalid never resolves (RFC 6761)
    with pytest.raises(webhooks.HostNotFound, match="cannot be resolved"):
        webhooks.check_url(url, allow_private=False)
    add_webhook(registry_engine, world.bank, url, ["report.filed"])
    file_report(registry_engine, world.bank)
    outbox.dispatch(registry_engine, T0)
    assert outbox.deliver_due(registry_engine, client, T0, allow_private=False) == 1
    [delivery] = deliveries(registry_engine)
    assert (delivery.status, delivery.attempts, delivery.last_error) == (
        "pending",
        1,
        "HostNotFound",
    )


def test_a_public_address_is_accepted() -> None:
    url = "https://93.184.216.34:8443/leaktrace?org=1"
    assert webhooks.check_url(f"  {url} ", allow_private=False) == url


# The receivers' documentation (docs/registry-audit.md, section 2)

DOC = (Path(__file__).resolve().parents[1] / "docs" / "registry-audit.md").read_text("utf-8")


def _section(number: str) -> str:
    return DOC.split(f"### {number}", 1)[1].split("\n### ", 1)[0]


def _documented_check() -> Callable[[str, str, bytes], bool]:
    """The receiver's signature check as the documentation prints it."""
    code = _section("2.4").split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, Any] = {}
    exec(code, namespace)
    return namespace["leaktrace_signature_ok"]


def test_the_documented_receiver_check_accepts_a_real_delivery_and_nothing_else(
    registry_engine: sa.Engine, world: World, receiver: Receiver, client: httpx.Client
) -> None:
    check = _documented_check()
    hook = add_webhook(registry_engine, world.bank, receiver.url, ["report.filed"])
    file_report(registry_engine, world.bank)
    outbox.dispatch(registry_engine, T0)
    outbox.deliver_due(registry_engine, client, T0, allow_private=True)
    [got] = receiver.received
    signature = got.headers["Leaktrace-Signature"]
    assert check(hook.secret, signature, got.body)
    assert not check(webhooks.new_secret(), signature, got.body)
    assert not check(hook.secret, signature, got.body.replace(b"open", b"shut"))
    old = webhooks.sign(hook.secret, int(time.time()) - 301, got.body)
    assert not check(hook.secret, old, got.body)


@given(header=st.text())
def test_the_documented_receiver_check_refuses_any_header_text_without_an_error(
    header: str,
) -> None:
    assert _documented_check()("secret", header, b"{}") is False


def test_the_documentation_lists_the_events_and_payload_fields_of_the_code() -> None:
    section = _section("2.1")
    named = set(re.findall(r"`([a-z_.]+)`", section))
    assert set(outbox.EVENTS) <= named
    assert set(outbox.PAYLOAD_FIELDS) <= named
    assert named == set(outbox.EVENTS) | set(outbox.PAYLOAD_FIELDS)
