"""``leaktrace registry ingest``, ``enrol``, ``matches`` and ``org customers`` end to end: the
registry served by uvicorn with the real key process, an institution enrolling its master with its
API key from the environment (never an argument), a leak ingested from the command line with its
verify result, and the institution's customers named from its own map; nothing of the leak on the
command's output but counts.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from registry_leak_world import LeakWorld, make_leak_world
from typer.testing import CliRunner

from bench.registry_keyd import KeyProcess, key_process
from leaktrace.cli import app
from leaktrace.registry.app import create_app
from leaktrace.registry.serve import served_in_thread

VERIFY = {"records": 3, "verdict": {"label": "ours"}, "evidence": {"inputs": []}}


def run(args: list[str], **env: str) -> object:
    return CliRunner().invoke(app, args, env={"COLUMNS": "200", **env})


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> LeakWorld:
    return make_leak_world(tmp_path_factory.mktemp("leakworld"))


@pytest.fixture
def keyd(tmp_path: Path) -> Iterator[KeyProcess]:
    with key_process(tmp_path / "keyd") as process:
        yield process


@pytest.fixture
def served(registry_url: str, keyd: KeyProcess) -> Iterator[str]:
    """The registry on ``registry_url`` served by uvicorn in a thread: its base URL."""
    service = create_app(registry_url)
    service.state.keys = keyd.client()
    with served_in_thread(service) as url:
        yield url


def _org(url: str, name: str, *options: str) -> None:
    r = run(["registry", "org", "create", name, *options, "--db", url])
    assert r.exit_code == 0, r.output


def _key(url: str, org: str, role: str) -> str:
    r = run(["registry", "key", "create", "--org", org, "--role", role, "--json", "--db", url])
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)["key"]


def test_ingest_enrol_and_matches_from_the_command_line(
    registry_url: str, served: str, keyd: KeyProcess, data: LeakWorld, tmp_path: Path
) -> None:
    db = ["--db", registry_url]
    _org(
        registry_url, "某某银行", "--kind", "institution", "--sector", "bank", "--customers", "1500"
    )
    _org(registry_url, "某某商城", "--kind", "institution", "--sector", "other")
    r = run(["registry", "org", "customers", "某某商城", "600", *db])
    assert r.exit_code == 0, r.output
    keys = {org: _key(registry_url, org, "admin") for org in ("某某银行", "某某商城")}
    maps = {org: tmp_path / f"{i}.parquet" for i, org in enumerate(keys)}
    for org, master in (("某某银行", data.bank_master), ("某某商城", data.shop_master)):
        args = ["registry", "enrol", str(master), "--url", served, "--map", str(maps[org])]
        assert run(args).exit_code == 1  # no key in the environment
        r = run([*args, "--json"], LEAKTRACE_API_KEY=keys[org])
        assert r.exit_code == 0, r.output
        assert json.loads(r.stdout)["enrolled"] > 0
    verify = tmp_path / "verify.json"
    verify.write_text(json.dumps(VERIFY), encoding="utf-8")
    r = run(
        ["registry", "ingest", str(data.leak), "--source", "某暗网论坛", "--claimed", "某某银行",
         "--verify-json", str(verify), "--first-seen", "2026-11-01", "--json", *db],
        LEAKTRACE_KEYD=str(keyd.socket),
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    done = json.loads(r.stdout)
    assert done["counts"]["keyed"] == sum(len(v) for v in data.leaked.values())
    assert len(done["alerts"]) == 1
    assert not any(value in r.output for value in data.identifiers())
    engine = sa.create_engine(registry_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT verdict, attachment_sha256 FROM leaks")).one()
    engine.dispose()
    assert stored == ("ours", hashlib.sha256(verify.read_bytes()).hexdigest())
    args = ["registry", "matches", "--url", served, "--map"]
    r = run([*args, str(maps["某某银行"]), "--json"], LEAKTRACE_API_KEY=keys["某某银行"])
    assert r.exit_code == 0, r.output
    (alert,) = json.loads(r.stdout)
    assert set(alert["customers"]) == data.matched_customers
    assert alert["matches"] == len(data.matched)
    r = run([*args, str(maps["某某银行"])], LEAKTRACE_API_KEY=keys["某某银行"])
    assert r.stdout.split() == [str(c) for c in sorted(data.matched_customers)]
    r = run([*args, str(maps["某某商城"]), "--json"], LEAKTRACE_API_KEY=keys["某某商城"])
    assert r.exit_code == 0 and json.loads(r.stdout) == []


@pytest.mark.parametrize(
    "content", [b"", b"[]", b'{"verdict": "ours"}', b'{"verdict": {"label": ""}}', b"\xff"]
)
def test_ingest_refuses_what_is_no_verify_result(
    registry_url: str, data: LeakWorld, tmp_path: Path, content: bytes
) -> None:
    verify = tmp_path / "verify.json"
    verify.write_bytes(content)
    args = ["registry", "ingest", str(data.leak), "--source", "x", "--verify-json", str(verify)]
    r = run([*args, "--db", registry_url])
    assert r.exit_code == 1 and "leaktrace verify" in r.output


def test_ingest_refuses_an_unknown_claimed_organisation_and_a_missing_key_process(
    registry_url: str, data: LeakWorld
) -> None:
    db = ["--db", registry_url]
    args = ["registry", "ingest", str(data.leak), "--source", "x", *db]
    r = run([*args, "--claimed", "无此机构"])
    assert r.exit_code == 1 and "无此机构" not in r.stdout
    r = run(args, LEAKTRACE_KEYD="/nonexistent/keyd.sock")
    assert r.exit_code == 1
    assert not any(value in r.output for value in data.identifiers())
