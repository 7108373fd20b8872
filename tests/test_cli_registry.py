"""``leaktrace registry …`` and ``leaktrace serve``: organisations, users and keys made from the
command line (passwords from the environment, never arguments), a key that works against the
running service, webhooks delivered signed by the service's worker, and ``audit verify`` finding a
tampered log (exit 1) after finding a whole one (exit 0)."""

from __future__ import annotations

import datetime as dt
import http.server
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from registry_world import report_body
from typer.testing import CliRunner

from leaktrace.cli import app
from leaktrace.registry import db, oprf, webhooks

PASSWORD = "一二三四五六七八九十abc"


def run(args: list[str], **env: str) -> object:
    return CliRunner().invoke(app, args, env={"COLUMNS": "200", **env})


def _setup(url: str) -> str:
    """A bank and the CAC's office, a reporter and a key; returns the key."""
    for args in (
        ["registry", "org", "create", "某某银行", "--kind", "institution", "--sector", "bank"],
        ["registry", "org", "create", "某省网信办", "--kind", "regulator", "--authority", "CAC"],
    ):
        r = run([*args, "--db", url])
        assert r.exit_code == 0, r.output
    r = run(
        [
            "registry",
            "user",
            "create",
            "zhang.wei",
            "--org",
            "某某银行",
            "--role",
            "reporter",
            "--db",
            url,
        ],
        LEAKTRACE_PASSWORD=PASSWORD,
    )
    assert r.exit_code == 0, r.output
    assert PASSWORD not in r.output
    r = run(
        ["registry", "key", "create", "--org", "某某银行", "--role", "admin", "--db", url, "--json"]
    )
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)["key"]


def test_commands_refuse_what_they_cannot_do(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.sqlite'}"
    _setup(url)
    r = run(
        [
            "registry",
            "org",
            "create",
            "某某银行",
            "--kind",
            "institution",
            "--sector",
            "bank",
            "--db",
            url,
        ]
    )
    assert r.exit_code == 1 and "exists" in r.output
    r = run(
        [
            "registry",
            "user",
            "create",
            "li.na",
            "--org",
            "某某银行",
            "--role",
            "reviewer",
            "--db",
            url,
        ],
        LEAKTRACE_PASSWORD=PASSWORD,
    )
    assert r.exit_code == 1  # a reviewer belongs to a regulator
    r = run(
        [
            "registry",
            "user",
            "create",
            "li.na",
            "--org",
            "某某银行",
            "--role",
            "viewer",
            "--db",
            url,
        ],
        LEAKTRACE_PASSWORD="short",
    )
    assert r.exit_code == 1 and "12" in r.output
    r = run(["registry", "key", "create", "--org", "没有这个机构", "--role", "viewer", "--db", url])
    assert r.exit_code == 1


def test_audit_verify_finds_tampering(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.sqlite'}"
    _setup(url)
    r = run(["registry", "audit", "verify", "--db", url])
    assert r.exit_code == 0, r.output
    r = run(["registry", "audit", "verify", "--db", url, "--json"])
    assert json.loads(r.stdout)["ok"] is True and json.loads(r.stdout)["entries"] == 4
    engine = db.make_engine(url)
    with engine.begin() as conn:  # an attacker with the database file drops the guard
        conn.exec_driver_sql("DROP TRIGGER audit_log_no_update")
        conn.exec_driver_sql("UPDATE audit_log SET action = 'user.delete' WHERE id = 3")
    engine.dispose()
    r = run(["registry", "audit", "verify", "--db", url])
    assert r.exit_code == 1
    assert " 3" in r.output


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Receiver(http.server.BaseHTTPRequestHandler):
    got: list[tuple[dict[str, str], bytes]] = []

    def do_POST(self) -> None:  # noqa: N802 (the standard library's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).got.append((dict(self.headers), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_serve_runs_the_service_and_its_webhook_worker(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'r.sqlite'}"
    else:
        url = request.getfixturevalue("postgres").create_database("registry_serve")
    key = _setup(url)
    receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    port = _free_port()
    env = {
        **os.environ,
        "LEAKTRACE_WEBHOOK_ALLOW_PRIVATE": "1",
        "LEAKTRACE_DB": url,
        "LEAKTRACE_KEY_FILE": str(tmp_path / "registry.key"),  # not the user's data directory
    }
    proc = subprocess.Popen(
        [str(Path(sys.executable).with_name("leaktrace")), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        client = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"})
        for _ in range(100):
            try:
                if client.get("/api/v1/me").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        assert client.get("/api/v1/me").json()["org_kind"] == "institution"
        hook = client.post(
            "/api/v1/webhooks",
            json={
                "url": f"http://127.0.0.1:{receiver.server_port}/hook",
                "events": ["report.filed"],
            },
        ).json()
        report = client.post("/api/v1/reports", json=report_body())
        assert report.status_code == 201, report.text
        for _ in range(100):
            if _Receiver.got:
                break
            time.sleep(0.1)
        headers, body = _Receiver.got[0]
        assert headers["Leaktrace-Event"] == "report.filed"
        assert webhooks.verify_signature(
            hook["secret"], headers["Leaktrace-Signature"], body, dt.datetime.now(dt.UTC)
        )
        assert json.loads(body)["data"]["report_id"] == report.json()["id"]
        assert "客户" not in body.decode()  # ids and states only, no report text
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        receiver.shutdown()
        _Receiver.got.clear()
    engine = db.make_engine(url)
    with engine.connect() as conn:
        assert (
            conn.scalar(sa.text("SELECT count(*) FROM deliveries WHERE status = 'delivered'")) == 1
        )
    engine.dispose()


def _children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def test_serve_with_two_web_workers_shares_one_key_process(tmp_path: Path) -> None:
    """``serve --workers 2``: two web processes answer evaluations with the one key process's
    key, and SIGTERM ends them all, the key process too."""
    port = _free_port()
    env = {
        **os.environ,
        "LEAKTRACE_DB": f"sqlite:///{tmp_path / 'r.sqlite'}",
        "LEAKTRACE_KEY_FILE": str(tmp_path / "registry.key"),
    }
    env.pop("LEAKTRACE_KEYD", None)
    proc = subprocess.Popen(
        [str(Path(sys.executable).with_name("leaktrace")), "serve", "--port", str(port),
         "--workers", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(150):
            try:
                if httpx.get(f"{base}/api/v1/check/leaks").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        children = _children(proc.pid)
        lines = [Path(f"/proc/{p}/cmdline").read_bytes() for p in children]
        assert sum(b"spawn_main" in line for line in lines) == 2  # uvicorn's web processes
        assert sum(b"leaktrace.registry.keyd" in line for line in lines) == 1
        x = b"mobile:13800138000"
        r, blinded = oprf.blind(x)
        outputs = set()
        for _ in range(20):  # a new connection each: the kernel spreads them over the workers
            answer = httpx.post(f"{base}/api/v1/check/evaluate", json={"blinded": blinded.hex()})
            assert answer.status_code == 200
            outputs.add(oprf.finalize(x, r, bytes.fromhex(answer.json()["evaluated"])))
        assert len(outputs) == 1
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    for pid in children:
        for _ in range(50):
            if not Path(f"/proc/{pid}").exists():
                break
            time.sleep(0.1)
        assert not Path(f"/proc/{pid}").exists()
