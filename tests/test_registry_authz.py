"""The authorisation matrix of the registry's API, generated from its OpenAPI spec: every operation
× every principal (anonymous, a revoked key, each role of an institution and of a regulator, a
signed-in browser with and without its CSRF token) × an object of the principal's own organisation,
of another organisation, or another organisation's object under the principal's own report.

The expected status comes from :data:`MAY`, written here by hand from the issue's rules, not read
from ``policy.GRANTS`` (a test derived from the code under test could never fail). An operation
the spec lists and :data:`MAY` does not is a failure, so the matrix stays complete.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from registry_world import PASSWORD, World, make_world, report_body

from bench.registry_keyd import key_process
from leaktrace.registry import admin, auth, db, enrolments, oprf, outbox, webhooks
from leaktrace.registry.app import create_app
from leaktrace.registry.models import Alert, Leak, OutboxEvent, Webhook

API = "/api/v1"
INSTITUTION_ROLES = ("viewer", "reporter", "admin")
REGULATOR_ROLES = ("viewer", "reviewer", "admin")

# Who may do what, by (kind of organisation, role), from the issue: everyone signed in reads what
# their organisation may see; an institution's reporters and admins file, supplement, attach and
# answer; a regulator's reviewers and admins question and close; regulators see the dashboard;
# admins manage their own organisation's users, keys and webhooks. Nothing deletes.
READ = frozenset(
    [("institution", r) for r in INSTITUTION_ROLES] + [("regulator", r) for r in REGULATOR_ROLES]
)
FILE = frozenset({("institution", "reporter"), ("institution", "admin")})
REVIEW = frozenset({("regulator", "reviewer"), ("regulator", "admin")})
REGULATOR = frozenset(("regulator", r) for r in REGULATOR_ROLES)
MANAGE = frozenset({("institution", "admin"), ("regulator", "admin")})
# Keyed identifiers (issue 18): the operator, a regulator's admin, ingests leaks; an institution's
# admin enrols its customers; an institution's people read its alerts; all read the leaks they
# may see (a regulator every one, an institution those that matched it).
OPERATOR = frozenset({("regulator", "admin")})
ENROL = frozenset({("institution", "admin")})
ALERTS = frozenset(("institution", r) for r in INSTITUTION_ROLES)
# A person's own check is anonymous: anyone, signed in or not, whatever credentials it sends.
PUBLIC = frozenset(
    {("POST", "/check/evaluate"), ("GET", "/check/buckets/{bucket}"), ("GET", "/check/leaks")}
)

#: (method, path) -> the (organisation kind, role) pairs that may take it.
MAY: dict[tuple[str, str], frozenset[tuple[str, str]]] = {
    ("GET", "/me"): READ,
    ("GET", "/reports"): READ,
    ("POST", "/reports"): FILE,
    ("GET", "/reports/export"): READ,
    ("GET", "/reports/{report_id}"): READ,
    ("GET", "/reports/{report_id}/versions"): READ,
    ("POST", "/reports/{report_id}/versions"): FILE,
    ("GET", "/reports/{report_id}/versions/{number}"): READ,
    ("POST", "/reports/{report_id}/questions"): REVIEW,
    ("POST", "/reports/{report_id}/questions/{question_id}/answer"): FILE,
    ("POST", "/reports/{report_id}/close"): REVIEW,
    ("GET", "/reports/{report_id}/export"): READ,
    ("POST", "/reports/{report_id}/attachments"): FILE,
    ("GET", "/reports/{report_id}/attachments/{attachment_id}"): READ,
    ("GET", "/dashboard"): REGULATOR,
    ("GET", "/rules"): READ,
    ("GET", "/users"): MANAGE,
    ("POST", "/users"): MANAGE,
    ("GET", "/keys"): MANAGE,
    ("POST", "/keys"): MANAGE,
    ("POST", "/keys/{key_id}/revoke"): MANAGE,
    ("GET", "/webhooks"): MANAGE,
    ("POST", "/webhooks"): MANAGE,
    ("POST", "/webhooks/{webhook_id}/disable"): MANAGE,
    ("GET", "/webhooks/{webhook_id}/deliveries"): MANAGE,
    ("POST", "/leaks"): OPERATOR,
    ("GET", "/leaks"): READ,
    ("POST", "/enrol/evaluate"): ENROL,
    ("POST", "/enrol/tags"): ENROL,
    ("GET", "/alerts"): ALERTS,
    ("GET", "/alerts/{alert_id}/matches"): ALERTS,
    **dict.fromkeys(PUBLIC, READ),
}

VERIFY_JSON = json.dumps(
    {"records": 3, "verdict": {"label": "ours"}, "evidence": {"inputs": [{"sha256": "a" * 64}]}}
).encode()
_names = itertools.count()
LEAK_CSV = "姓名,手机号\n张三,13800138000\n".encode()
BLINDED = oprf.blind(b"mobile:13800138000")[1].hex()


def _body(method: str, path: str) -> dict[str, Any]:
    """A valid request for ``path`` (keyword arguments of the client's request)."""
    n = next(_names)
    bodies: dict[tuple[str, str], dict[str, Any]] = {
        ("POST", "/reports"): {"json": report_body()},
        ("POST", "/reports/{report_id}/versions"): {"json": {"fields": {"cause": "外包人员导出"}}},
        ("POST", "/reports/{report_id}/questions"): {"json": {"text": "请说明数据流向。"}},
        ("POST", "/reports/{report_id}/questions/{question_id}/answer"): {
            "json": {"text": "经SFTP传至合作方。"}
        },
        ("POST", "/reports/{report_id}/attachments"): {
            "files": {"file": ("verify.json", VERIFY_JSON, "application/json")}
        },
        ("POST", "/users"): {
            "json": {"username": f"user{n}", "password": PASSWORD, "role": "viewer"}
        },
        ("POST", "/keys"): {"json": {"name": f"key {n}", "role": "viewer"}},
        ("POST", "/webhooks"): {
            "json": {"url": "http://127.0.0.1:9/hook", "events": ["report.filed"]}
        },
        ("POST", "/leaks"): {"params": {"source": "某论坛"}, "content": LEAK_CSV},
        ("POST", "/enrol/evaluate"): {"json": {"elements": [BLINDED]}},
        ("POST", "/enrol/tags"): {"json": {"tags": []}},
        ("POST", "/check/evaluate"): {"json": {"blinded": BLINDED}},
    }
    return bodies.get((method, path), {})


def _spec_operations() -> list[tuple[str, str, dict[str, Any]]]:
    spec = create_app("sqlite://", migrate=False).openapi()
    return [
        (method.upper(), path.removeprefix(API), op)
        for path, ops in spec["paths"].items()
        for method, op in ops.items()
    ]


OPERATIONS = _spec_operations()


@dataclass(frozen=True)
class Who:
    """A principal of the matrix: how it signs in, its organisation and role."""

    name: str
    org: str | None = None  # short name in the test world
    role: str | None = None
    via: str = "key"  # key, session, session-no-csrf, anonymous, revoked

    @property
    def kind(self) -> str:
        return "regulator" if self.org == "pboc" else "institution"


PRINCIPALS = (
    Who("anonymous", via="anonymous"),
    Who("revoked key", "bank", "admin", via="revoked"),
    *(Who(f"bank {r}", "bank", r) for r in INSTITUTION_ROLES),
    *(Who(f"pboc {r}", "pboc", r) for r in REGULATOR_ROLES),
    Who("bank admin session", "bank", "admin", via="session"),
    Who("pboc reviewer session", "pboc", "reviewer", via="session"),
    Who("bank admin session without CSRF", "bank", "admin", via="session-no-csrf"),
    Who("pboc reviewer session without CSRF", "pboc", "reviewer", via="session-no-csrf"),
)
#: The organisation whose keys and webhooks are "another organisation's" for each principal's.
OTHER_ORG = {"bank": "shop", "pboc": "cac"}
#: Path parameters naming an object inside a report.
CHILDREN = ("number", "question_id", "attachment_id")
#: Path parameters naming an object of an organisation.
ORG_OBJECTS = ("key_id", "webhook_id", "alert_id")
#: Path parameters naming nobody's object (a check's bucket), and the value the matrix gives.
PLAIN = {"bucket": 0}


def _params(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{")]


def _scopes(path: str) -> tuple[str, ...]:
    """``own`` and ``other`` objects where the path names any; ``mixed`` (another organisation's
    object under the principal's own report) where it names one inside a report."""
    names = [n for n in _params(path) if n not in PLAIN]
    if not names:
        return ("none",)
    if any(n in CHILDREN for n in names):
        return ("own", "other", "mixed")
    return ("own", "other")


def expected(method: str, path: str, who: Who, scope: str) -> int | None:
    """The status expected (None: any 2xx), from :data:`MAY` and the issue's rules."""
    if (method, path) in PUBLIC:
        return None
    if who.via in ("anonymous", "revoked"):
        return 401
    if who.via == "session-no-csrf" and method not in ("GET", "HEAD", "OPTIONS"):
        return 403
    allowed = (who.kind, who.role) in MAY[(method, path)]
    if scope == "other":
        return 404  # whatever the role: its existence is not revealed
    if scope == "mixed":
        return 404 if allowed else 403  # the report is visible; the object is not in it
    return None if allowed else 403


CASES = [
    pytest.param(method, path, who, scope, id=f"{method} {path} {who.name} {scope}")
    for method, path, _op in OPERATIONS
    for who in PRINCIPALS
    for scope in (_scopes(path) if who.via not in ("anonymous", "revoked") else ("own",))
]


@dataclass
class Matrix:
    """The world and its objects: a bank report and a shop report, each with a question, an
    attachment and (the shop's) a second version; a key and a webhook of every organisation."""

    world: World
    objects: dict[tuple[str, str], int] = field(default_factory=dict)  # (owner, what) -> id
    sessions: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    revoked: str = ""

    def call(self, who: Who, method: str, url: str, **kw: Any) -> Any:
        c = TestClient(self.world.app, raise_server_exceptions=False)
        headers = {}
        if who.via in ("key", "revoked"):
            key = self.revoked if who.via == "revoked" else self.world.keys[(who.org, who.role)]
            headers["Authorization"] = f"Bearer {key}"
        elif who.via.startswith("session"):
            token, csrf = self.sessions[(who.org, who.role)]
            c.cookies.set(auth.SESSION_COOKIE, token)
            if who.via == "session":
                headers[auth.CSRF_HEADER] = csrf
        return c.request(method, url, headers=headers, **kw)

    def as_key(self, org: str, role: str, method: str, url: str, **kw: Any) -> Any:
        r = self.call(Who("", org, role), method, url, **kw)
        assert r.status_code in (200, 201), r.text
        return r.json()

    def file(self, org: str) -> int:
        return self.as_key(org, "reporter", "POST", f"{API}/reports", json=report_body())["id"]

    def question(self, org: str, report_id: int) -> int:
        regulator = {"bank": "pboc", "shop": "cac"}[org]
        url = f"{API}/reports/{report_id}/questions"
        return self.as_key(regulator, "reviewer", "POST", url, json={"text": "请说明。"})["id"]

    def attachment(self, org: str, report_id: int) -> int:
        url = f"{API}/reports/{report_id}/attachments"
        files = {"file": ("verify.json", VERIFY_JSON, "application/json")}
        return self.as_key(org, "reporter", "POST", url, files=files)["id"]

    def key(self, org: str) -> int:
        with db.transaction(self.world.engine) as s:
            return admin.create_key(s, None, self.world.orgs[org], "spare", "viewer")[0].id

    def webhook(self, org: str) -> int:
        with db.transaction(self.world.engine) as s:
            hook = Webhook(
                org_id=self.world.orgs[org],
                url="http://127.0.0.1:9/hook",
                secret=webhooks.new_secret(),
                events=list(outbox.EVENTS),
            )
            s.add(hook)
            s.flush()
            return hook.id

    def alert(self, org: str) -> int:
        """An alert of ``org`` on a leak of no identifier (a row: the matrix needs one for a
        regulator too, which a real leak never alerts)."""
        with db.transaction(self.world.engine) as s:
            leak = Leak(source="x", first_seen_at=self.world.clock.now, data_kinds=[], counts={},
                        ingested_by="cli")  # fmt: skip
            s.add(leak)
            s.flush()
            alert = Alert(org_id=self.world.orgs[org], leak_id=leak.id, matches=0)
            s.add(alert)
            s.flush()
            return alert.id

    def make(self, org: str, names: list[str]) -> dict[str, int]:
        """New objects for the path parameters ``names``: a report of ``org`` with what the path
        names inside it, or a key or webhook of ``org``."""
        ids: dict[str, int] = {}
        if "report_id" in names:
            ids["report_id"] = self.file(org)
            ids["number"] = 1
        if "question_id" in names:
            ids["question_id"] = self.question(org, ids["report_id"])
        if "attachment_id" in names:
            ids["attachment_id"] = self.attachment(org, ids["report_id"])
        if "key_id" in names:
            ids["key_id"] = self.key(org)
        if "webhook_id" in names:
            ids["webhook_id"] = self.webhook(org)
        if "alert_id" in names:
            ids["alert_id"] = self.alert(org)
        return ids

    def ids(self, who: Who, scope: str, names: list[str], fresh: bool) -> dict[str, int]:
        """Ids for the path: of the principal's own organisation's objects (a report the
        principal may read: the bank's), of another's, or another's under the own report."""
        plain = {n: PLAIN[n] for n in names if n in PLAIN}
        names = [n for n in names if n not in PLAIN]
        if not names:
            return plain
        org = who.org or "bank"
        owners = {  # (whose reports, whose keys and webhooks)
            "own": ("bank", org),
            "other": ("shop", OTHER_ORG[org]),
        }
        if scope == "mixed":  # the shop's report has a version 2, the bank's has not
            own = self.ids(who, "own", names, fresh)
            other = self.ids(who, "other", names, fresh=False)
            return {**own, **{k: other[k] for k in CHILDREN}, "number": 2}
        reports_of, admin_of = owners[scope]
        if fresh:
            return {
                **self.make(reports_of, [n for n in names if n not in ORG_OBJECTS]),
                **self.make(admin_of, [n for n in names if n in ORG_OBJECTS]),
            }
        return {k: self.objects[(reports_of, k)] for k in ("report_id", *CHILDREN)} | {
            k: self.objects[(admin_of, k)] for k in ORG_OBJECTS
        }


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def matrix(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    """One world for the module on each database; objects that a request may change are made
    anew for each request."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('authz') / 'registry.sqlite'}"
    else:
        url = request.getfixturevalue("postgres").create_database(f"authz_{request.param}")
    engine = db.make_engine(url)
    db.upgrade(engine)
    with (
        pytest.MonkeyPatch.context() as mp,
        key_process(tmp_path_factory.mktemp("keyd")) as keyd,
    ):
        mp.setenv(webhooks.ALLOW_PRIVATE_ENV, "1")
        m = Matrix(make_world(engine))
        m.world.app.state.keys = keyd.client()
        with db.transaction(engine) as s:
            enrolments.declare(s, m.world.orgs["bank"], 1_000_000)
        for org in ("bank", "shop"):
            for name, value in m.make(org, ["report_id", *CHILDREN]).items():
                m.objects[(org, name)] = value
        m.as_key(
            "shop", "reporter", "POST", f"{API}/reports/{m.objects[('shop', 'report_id')]}/versions",
            json={"fields": {"cause": "x"}},
        )  # fmt: skip
        for org in ("bank", "shop", "pboc", "cac"):
            m.objects[(org, "key_id")] = m.key(org)
            m.objects[(org, "webhook_id")] = m.webhook(org)
            m.objects[(org, "alert_id")] = m.alert(org)
        with db.transaction(engine) as s:
            for org, role in (("bank", "admin"), ("pboc", "reviewer")):
                admin.create_user(s, None, m.world.orgs[org], f"{org}.{role}", PASSWORD, role)
        for org, role in (("bank", "admin"), ("pboc", "reviewer")):
            with db.transaction(engine) as s:
                row, token = auth.sign_in(s, f"{org}.{role}", PASSWORD, m.world.clock.now)
                m.sessions[(org, role)] = (token, row.csrf_token)
        spare = m.as_key(
            "bank", "admin", "POST", f"{API}/keys", json={"name": "old", "role": "admin"}
        )
        m.as_key("bank", "admin", "POST", f"{API}/keys/{spare['id']}/revoke")
        m.revoked = spare["key"]
        yield m
    engine.dispose()


@pytest.mark.parametrize(("method", "path", "who", "scope"), CASES)
def test_matrix(matrix: Matrix, method: str, path: str, who: Who, scope: str) -> None:
    assert (method, path) in MAY, f"{method} {path} has no row in the expectation table"
    unsafe = method not in ("GET", "HEAD", "OPTIONS")
    names = _params(path)
    ids = matrix.ids(who, scope, names, fresh=unsafe)
    url = API + path.format(**{name: ids[name] for name in names})
    r = matrix.call(who, method, url, **_body(method, path))
    want = expected(method, path, who, scope)
    if want is None:
        assert 200 <= r.status_code < 300, r.text
    else:
        assert r.status_code == want, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["status"] == want


def test_every_operation_has_a_row_and_a_body() -> None:
    """The table holds exactly the spec's operations, and every operation with a request body
    has a valid example; a new route without them fails here (and in the matrix)."""
    listed = {(method, path) for method, path, _op in OPERATIONS}
    assert listed == set(MAY)
    for method, path, op in OPERATIONS:
        if "requestBody" in op:
            assert _body(method, path), f"{method} {path} has no example body"
        for param in _params(path):
            assert param in ("report_id", *ORG_OBJECTS, *CHILDREN, *PLAIN), param


def test_the_spec_is_public_and_lists_every_api_route() -> None:
    """Decided: ``/api/v1/openapi.json`` is public. It describes the service, the same for
    everyone, and holds no organisation's data; clients and tools read it before signing in."""
    app = create_app("sqlite://", migrate=False)
    r = TestClient(app).get(f"{API}/openapi.json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    routes = {
        (method, route.path)
        for route in iter_route_contexts(app.routes)
        if route.path.startswith(API) and route.include_in_schema
        for method in route.methods
    }
    spec = {(m.upper(), p) for p, ops in paths.items() for m in ops}
    assert routes == spec
    assert len(spec) == len(MAY)


def test_no_parameter_lets_a_client_switch_a_check_off(matrix: Matrix) -> None:
    """The spec declares no parameter but the routes' own; a session's POST without its CSRF
    token is refused however the query is dressed."""
    declared = {
        p["name"]
        for _m, _p, op in OPERATIONS
        for p in op.get("parameters", [])
        if p["in"] == "query"
    }
    assert declared <= {
        "status", "grade", "org", "overdue", "q", "since", "until", "sort", "limit", "offset",
        "format", "version", "lang", "source", "first_seen", "claimed_org",
    }  # fmt: skip
    who = Who("", "bank", "admin", via="session-no-csrf")
    for query in ("", "?check_csrf=false", "?check_csrf=0"):
        r = matrix.call(who, "POST", f"{API}/reports{query}", json=report_body())
        assert r.status_code == 403, query


def test_anonymous_reaches_no_api_route_but_the_spec(matrix: Matrix) -> None:
    """Every route of the application under /api (the spec's and any other) refuses an anonymous
    asker with 401, except the spec and its viewer, and a person's check, which answers it."""
    public = {f"{API}/openapi.json", f"{API}/docs"}
    app = matrix.world.app
    anonymous = TestClient(app, raise_server_exceptions=False)
    seen = 0
    for route in iter_route_contexts(app.routes):
        path = route.path or ""
        if not path.startswith("/api") or path in public:
            continue
        url = path.format(**{name: 1 for name in _params(path)})
        for method in sorted((route.methods or set()) - {"HEAD"}):
            seen += 1
            if (method, path.removeprefix(API)) in PUBLIC:
                r = anonymous.request(method, url, **_body(method, path.removeprefix(API)))
                assert r.status_code == 200, (method, path)
                continue
            r = anonymous.request(method, url)
            assert r.status_code == 401, (method, path)
            assert r.headers["www-authenticate"] == "Bearer"
    assert seen == len(MAY)


# -- lists, counts, search, exports, the dashboard and deliveries -----------------------------

MARK = {"bank": "甲银行泄露", "shop": "乙商城泄露"}
#: Whose reports each organisation may read: its own, or those filed to it (a bank's go to the
#: CAC, the PBOC and the NFRA; a shop's to the CAC alone).
SEES = {
    "bank": {"bank"},
    "shop": {"shop"},
    "cac": {"bank", "shop"},
    "pboc": {"bank"},
    "nfra": {"bank"},
}
ROLES = {"bank": INSTITUTION_ROLES, "shop": INSTITUTION_ROLES} | {
    r: REGULATOR_ROLES for r in ("cac", "pboc", "nfra")
}


@pytest.fixture
def filed(registry_engine: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> tuple[World, dict]:
    """Two reports of the bank and one of the shop, titled with their marks; every
    organisation's webhook with its deliveries handed out."""
    monkeypatch.setenv(webhooks.ALLOW_PRIVATE_ENV, "1")
    world = make_world(registry_engine)
    for org in SEES:
        r = world.client(org, "admin").post(
            f"{API}/webhooks", json={"url": "http://127.0.0.1:9/x", "events": list(outbox.EVENTS)}
        )
        assert r.status_code == 201, r.text
    owner: dict[int, str] = {}
    for org, n in (("bank", 2), ("shop", 1)):
        for i in range(n):
            body = report_body(title=f"{MARK[org]}{i}", fields={"harm": f"{MARK[org]}的细节"})
            r = world.client(org, "reporter").post(f"{API}/reports", json=body)
            assert r.status_code == 201, r.text
            owner[r.json()["id"]] = org
    assert outbox.dispatch(registry_engine, world.clock.now) > 0
    return world, owner


@pytest.mark.parametrize("org", sorted(SEES))
def test_everything_listed_is_what_the_asker_may_open(filed: tuple[World, dict], org: str) -> None:
    world, owner = filed
    mine = {rid for rid, o in owner.items() if o in SEES[org]}
    hidden = set(owner) - mine
    for role in ROLES[org]:
        c = world.client(org, role)
        listed = c.get(f"{API}/reports").json()
        assert {i["id"] for i in listed["items"]} == mine and listed["total"] == len(mine)
        paged = [c.get(f"{API}/reports", params={"limit": 1, "offset": k}).json() for k in range(3)]
        assert [i["id"] for p in paged for i in p["items"]] == sorted(mine, reverse=True)
        assert all(p["total"] == len(mine) for p in paged)
        for who, mark in MARK.items():
            found = c.get(f"{API}/reports", params={"q": mark}).json()
            theirs = {rid for rid in mine if owner[rid] == who}
            assert {i["id"] for i in found["items"]} == theirs and found["total"] == len(theirs)
        rows = c.get(f"{API}/reports/export", params={"format": "json"}).json()
        assert {row["id"] for row in rows} == mine
        text = c.get(f"{API}/reports/export", params={"format": "csv"}).content.decode("utf-8-sig")
        assert {int(row["id"]) for row in csv.DictReader(io.StringIO(text))} == mine
        for rid in hidden:
            assert c.get(f"{API}/reports/{rid}").status_code == 404
            assert c.get(f"{API}/reports/{rid}/versions").status_code == 404
        for rid in mine:
            assert c.get(f"{API}/reports/{rid}/versions").status_code == 200
        others = [MARK[o] for o in MARK if o not in SEES[org]]
        board = c.get(f"{API}/dashboard")
        if org in ("bank", "shop"):
            assert board.status_code == 403
        else:
            assert board.json()["totals"]["reports"] == len(mine)
            assert not any(mark in board.text for mark in others)
        everything = listed | {"rows": rows, "csv": text}
        assert not any(mark in json.dumps(everything, ensure_ascii=False) for mark in others)
    deliveries = _deliveries(world, org)
    assert deliveries and _reports_of_events(world, deliveries) <= mine


def _deliveries(world: World, org: str) -> list[int]:
    c = world.client(org, "admin")
    (hook,) = c.get(f"{API}/webhooks").json()["items"]
    return [d["event_id"] for d in c.get(f"{API}/webhooks/{hook['id']}/deliveries").json()["items"]]


def _reports_of_events(world: World, events: list[int]) -> set[int]:
    with db.transaction(world.engine) as s:
        return set(s.scalars(sa.select(OutboxEvent.report_id).where(OutboxEvent.id.in_(events))))
