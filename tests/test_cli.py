"""The synth and verify commands: JSON on stdout alone, files where asked, exit statuses."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from leaktrace.cli import app

runner = CliRunner()


def test_synth_then_verify_from_the_command_line(tmp_path):
    out = tmp_path / "w"
    r = runner.invoke(
        app, ["synth", "--customers", "3000", "--seed", "5", "--out", str(out), "--json"]
    )
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout)
    assert summary["tables"]["customers"] == 3000
    leaks = {leak["kind"]: leak for leak in summary["leaks"]}
    assert (out / "world" / "customers.parquet").exists()

    report = tmp_path / "v.html"
    r = runner.invoke(
        app,
        [
            "verify",
            leaks["fabricated"]["file"],
            "--against",
            str(out / "world"),
            "--report",
            str(report),
            "--json",
        ],
    )
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["verdict"]["label"] == "fabricated"
    assert report.exists() and report.read_text(encoding="utf-8").startswith("<!doctype html")

    r = runner.invoke(
        app, ["verify", leaks["share"]["file"], "--against", str(out / "world"), "--json"]
    )
    assert json.loads(r.stdout)["verdict"]["label"] in ("authentic_ours", "stale")


def test_verify_usage_and_input_errors(tmp_path):
    leak = tmp_path / "leak.csv"
    leak.write_text("姓名,手机\n张伟,13812345678\n", encoding="utf-8")
    assert runner.invoke(app, ["verify", str(leak), "--engine", "oracle"]).exit_code == 2
    missing = runner.invoke(app, ["verify", str(leak), "--against", str(tmp_path / "nope")])
    assert missing.exit_code == 1 and "nope" in missing.stderr
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    r = runner.invoke(app, ["verify", str(empty)])
    assert r.exit_code == 1 and "empty.csv" in r.stderr


def test_verify_against_a_duckdb_table_named_by_table(tmp_path):
    import duckdb

    from leaktrace.synth.leaks import make_leak
    from leaktrace.synth.world import make_world
    from leaktrace.synth.writers import write_leak

    world = make_world(600, seed=9, out=tmp_path / "world")
    leak = make_leak(world, "share", seed=1, size=1.0, columns=["name", "resident_id", "mobile"])
    path = write_leak(leak, tmp_path / "leak.csv", "csv")
    con = duckdb.connect(str(tmp_path / "crm.duckdb"))
    con.register("c", world.customers.collect().to_arrow())
    con.execute("CREATE TABLE cust_2024 AS SELECT * FROM c")
    con.execute("CREATE TABLE branches (branch_id VARCHAR)")
    con.close()
    base = ["verify", str(path), "--against", str(tmp_path / "crm.duckdb")]
    r = runner.invoke(app, [*base, "--table", "cust_2024", "--json"])
    assert r.exit_code == 0, r.output
    assert len(json.loads(r.stdout)["customers"]) == leak.rows.height > 0
    r = runner.invoke(app, base)
    assert r.exit_code == 1 and "cust_2024" in r.stderr
