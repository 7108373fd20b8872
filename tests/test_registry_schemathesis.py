"""Schemathesis (pinned 4.32.5) against the registry's ASGI application in this process, with a real
API key: an institution's reporter and a regulator's reviewer, on SQLite and PostgreSQL. Each
operation is fuzzed from the OpenAPI spec, and Schemathesis's state machine chains operations by
the spec's links (``registry.links``: a filed report's id into its versions, questions, closing
and attachments; a question's into its answer). No request may get a server error, and every
response must have a status, media type and body the spec declares.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter
from collections.abc import Iterator
from typing import Any

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck
from registry_world import make_world, report_body
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from bench.registry_keyd import KeyProcess, key_process
from leaktrace.registry import db
from leaktrace.registry.app import create_app

#: The checks run on every response.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
#: Bounded and repeatable: the same examples on every run, no deadline on a shared machine.
SETTINGS = hypothesis.settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
PRINCIPALS = (("bank", "reporter"), ("cac", "reviewer"))
#: The service's clock for the run: late enough that most times of discovery Schemathesis makes
#: up (any year from 1 to 9999) are past and after the first deadline rules, so reports get filed.
LATE = dt.datetime(9000, 1, 1, tzinfo=dt.UTC)
_databases = itertools.count()
RUNS = [
    pytest.param((database, principal), id=f"{database}-{principal[0]}-{principal[1]}")
    for database in ("sqlite", "postgresql")
    for principal in PRINCIPALS
]


@pytest.fixture(scope="module")
def keyd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KeyProcess]:
    """A key process, as the service has one, with room for every fuzzed person's check."""
    roomy = ("--person-net-burst", "1000000", "--person-net-per-hour", "1000000")
    with key_process(tmp_path_factory.mktemp("keyd"), *roomy) as process:
        yield process


@pytest.fixture(scope="module", params=RUNS)
def api_schema(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, keyd: KeyProcess
) -> Iterator:
    """The spec as the application serves it, sent with the principal's key, over a new registry
    with a bank report and a shop report already filed (a regulator has something to question),
    with its key process."""
    database, (org, role) = request.param
    if database == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'registry.sqlite'}"
    else:
        url = request.getfixturevalue("postgres").create_database(f"fuzz_{next(_databases)}")
    engine = db.make_engine(url)
    db.upgrade(engine)
    world = make_world(engine)
    world.app.state.keys = keyd.client()
    for filer in ("bank", "shop"):
        r = world.client(filer, "reporter").post("/api/v1/reports", json=report_body())
        assert r.status_code == 201, r.text
    world.clock.now = LATE
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", world.app)
    schema.config.phases.stateful.inference.algorithms = []  # the spec's links, not guesses
    schema.config.update(headers={"Authorization": f"Bearer {world.keys[(org, role)]}"})
    yield schema
    engine.dispose()


def _operations() -> list[Any]:
    spec = create_app("sqlite://", migrate=False).openapi()
    return [
        pytest.param(method.upper(), path, id=f"{method.upper()} {path}")
        for path, ops in spec["paths"].items()
        for method in ops
    ]


@pytest.mark.parametrize(("method", "path"), _operations())
def test_every_operation(api_schema: Any, method: str, path: str) -> None:
    """Fuzz one operation from its spec (Schemathesis's own pytest integration reads a node
    attribute that pytest 9 no longer has, so Hypothesis drives the operation's strategy here)."""

    @hypothesis.given(case=api_schema[path][method].as_strategy())
    @SETTINGS
    def run(case: schemathesis.Case) -> None:
        case.call_and_validate(checks=CHECKS)

    run()


def test_stateful(api_schema: Any) -> None:
    """Sequences of calls along the spec's links, each response checked; calls on a report's own
    paths do succeed on the way (the run reaches past the refusals)."""
    followed: Counter[tuple[str, int]] = Counter()

    class Checked(api_schema.as_state_machine()):  # type: ignore[misc]
        def after_call(self, response: Any, case: schemathesis.Case) -> None:
            followed[(case.path, response.status_code // 100)] += 1

        def validate_response(self, response: Any, case: schemathesis.Case, **_: Any) -> None:
            case.validate_response(response, checks=CHECKS)

    Checked.run(settings=hypothesis.settings(SETTINGS, max_examples=60, stateful_step_count=10))
    linked = {path for path, kind in followed if kind == 2 and "{report_id}" in path}
    assert linked, followed


def test_every_link_names_an_operation_and_its_path_parameters() -> None:
    spec = create_app("sqlite://", migrate=False).openapi()
    found = 0
    for path, ops in spec["paths"].items():
        for op in ops.values():
            for response in op["responses"].values():
                for name, link in response.get("links", {}).items():
                    ref = link["operationRef"].removeprefix("#/paths/")
                    target_path, method = ref.rsplit("/", 1)
                    target_path = target_path.replace("~1", "/").replace("~0", "~")
                    target = spec["paths"][target_path][method]
                    assert name == target["operationId"], (path, name)
                    wanted = {f"path.{p['name']}" for p in target.get("parameters", [])}
                    assert set(link["parameters"]) == {w for w in wanted if w[5:] in target_path}
                    found += 1
    assert found >= 20
