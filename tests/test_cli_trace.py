"""``leaktrace trace``: three recipients of a synth world's data, a leak cut from one copy and
reformatted (Chinese headers renamed, GBK, the card column dropped, padded with master
records): the leaker accused from the ledger's own master, the JSON and the HTML report in
Chinese without a leaked identifier, and clear errors for an empty ledger or a missing secret."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from leaktrace.synth.bundle import synth_to_dir
from tests.test_cli_share import SECRET, run

COLUMNS = "customer_id,name,resident_id,mobile,card_no,address"
RECIPIENTS = ("某某科技有限公司", "某某保险代理", "某某外呼服务")


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, Path]]:
    """A 3,000-customer world, its ledger, and each recipient's copy (1,000 customers each,
    overlapping)."""
    tmp = tmp_path_factory.mktemp("trace")
    synth_to_dir(tmp, 3000, seed=17)
    world = tmp / "world"
    numbers = pl.read_parquet(world / "customers.parquet")["customer_id"].to_list()
    db = tmp / "ledger.sqlite"
    copies = {}
    for i, name in enumerate(RECIPIENTS):
        ids = tmp / f"ids{i}.txt"
        ids.write_text("\n".join(map(str, numbers[i * 700 : i * 700 + 1000])))
        out = tmp / f"copy{i}.csv"
        made = run(
            [
                "share",
                str(world),
                "--to",
                name,
                "--records",
                f"@{ids}",
                "--columns",
                COLUMNS,
                "--out",
                str(out),
                "--purpose",
                "营销",
                "--db",
                f"sqlite:///{db}",
            ]
        )
        assert made.exit_code == 0, made.output
        copies[name] = out
    return world, db, copies


def _leak(shared: tuple[Path, Path, dict[str, Path]], tmp_path: Path) -> tuple[Path, list[str]]:
    """80 records of the second copy, headers renamed, card dropped, 25 master records added,
    written in GBK."""
    world, _db, copies = shared
    copy = pl.read_csv(copies[RECIPIENTS[1]], infer_schema=False)
    cut = copy.filter(pl.col("customer_id").is_not_null()).sample(80, seed=4)
    padding = (
        pl.read_parquet(world / "customers.parquet")
        .tail(25)
        .select(pl.col(c).cast(pl.String) for c in COLUMNS.split(","))
    )
    leak = (
        pl.concat([cut, padding])
        .drop("card_no", "customer_id")
        .rename(
            {"name": "姓名", "resident_id": "证件号码", "mobile": "联系电话", "address": "住址"}
        )
    )
    path = tmp_path / "出售样本.csv"
    path.write_bytes(leak.write_csv().encode("gbk"))
    return path, leak["证件号码"].to_list()


def test_the_leaker_is_accused_with_its_evidence(shared, tmp_path: Path) -> None:
    _world, db, _copies = shared
    leak, ids = _leak(shared, tmp_path)
    done = run(["trace", str(leak), "--db", f"sqlite:///{db}", "--json"])
    assert done.exit_code == 0, done.output
    doc = json.loads(done.stdout)
    assert doc["accused"] == [RECIPIENTS[1]]
    top = doc["attribution"]["suspects"][0]
    # the cut may hold a canary (its ID and mobile: decisive); the marks accuse on their own too
    assert top["recipient"] == RECIPIENTS[1] and top["reason"] in ("canary", "code")
    assert top["corrected_fap"] <= 1e-6 and top["overlap"] >= 75
    others = doc["attribution"]["suspects"][1:]
    assert len(others) == 2 and all(not s["accused"] for s in others)
    assert doc["evidence"]["inputs"][0]["sha256"]
    assert SECRET not in done.stdout + done.stderr


def test_the_report_in_chinese_holds_no_leaked_identifier(shared, tmp_path: Path) -> None:
    _world, db, _copies = shared
    leak, ids = _leak(shared, tmp_path)
    report = tmp_path / "trace.html"
    done = run(
        ["--lang", "zh", "trace", str(leak), "--db", f"sqlite:///{db}", "--report", str(report)]
    )
    assert done.exit_code == 0, done.output
    assert "指认" in done.stdout and "共享" in done.stdout and RECIPIENTS[1] in done.stdout
    page = report.read_text()
    assert 'lang="zh-CN"' in page or "lang=zh-CN" in page
    assert RECIPIENTS[1] in page and "<svg" in page
    for value in ids:
        assert value[:17] not in page and value[:17] not in done.stdout


def test_an_empty_ledger_or_no_secret_is_a_clear_error(shared, tmp_path: Path) -> None:
    world, db, _copies = shared
    leak, _ids = _leak(shared, tmp_path)
    empty = run(["trace", str(leak), "--db", f"sqlite:///{tmp_path / 'none.sqlite'}"])
    assert empty.exit_code == 1 and "at least one share" in empty.stderr
    unkeyed = run(["trace", str(leak), "--db", f"sqlite:///{db}"], secret=None)
    assert unkeyed.exit_code == 1 and "LEAKTRACE_SECRET" in unkeyed.stderr
    for r in (empty, unkeyed):
        assert "Traceback" not in r.output


def test_customer_number_tokens_accuse_on_their_own(shared, tmp_path: Path) -> None:
    """Twelve records keeping only the (tokenised) customer number, the name and the mobile
    written plainly (its marks flattened): the tokens accuse the copy's recipient."""
    _world, db, copies = shared
    copy = pl.read_csv(copies[RECIPIENTS[2]], infer_schema=False)
    cut = copy.filter(pl.col("name").is_not_null() & pl.col("customer_id").is_not_null())
    leak = cut.sample(12, seed=9).select(
        pl.col("customer_id").alias("客户编号"),
        pl.col("name").alias("姓名"),
        pl.col("mobile").str.replace_all(r"^\+86|\s", "").alias("手机"),
    )
    path = tmp_path / "tokens.csv"
    leak.write_csv(path)
    done = run(["trace", str(path), "--db", f"sqlite:///{db}", "--json"])
    assert done.exit_code == 0, done.output
    doc = json.loads(done.stdout)
    assert doc["accused"] == [RECIPIENTS[2]]
    top = doc["attribution"]["suspects"][0]
    assert top["reason"] == "token" and top["tokens"] == 12 and top["token_fap"] < 1e-9


def test_spark_links_and_accuses_as_duckdb_does(shared, tmp_path: Path) -> None:
    """The linkage runs as verify's SQL on either engine: the same links, the same accusation."""
    from leaktrace.trace.api import trace
    from leaktrace.trace.ledger import Ledger
    from leaktrace.trace.secret import decode

    world, db, _copies = shared
    leak, _ids = _leak(shared, tmp_path)
    key = decode(SECRET, "LEAKTRACE_SECRET")
    runs = {
        engine: trace(leak, world, ledger=Ledger(f"sqlite:///{db}"), secret=key, engine=engine)
        for engine in ("duckdb", "spark")
    }
    duck, spark = runs["duckdb"], runs["spark"]
    assert spark.accused == duck.accused == [RECIPIENTS[1]]
    assert spark.attribution.linked == duck.attribution.linked
    assert [s.fap for s in spark.attribution.suspects] == [s.fap for s in duck.attribution.suspects]


def test_a_share_dated_outside_the_leak_s_snapshot_is_flagged(shared, tmp_path: Path) -> None:
    """A copy made before the leak's data could have been taken, or after values it holds had
    changed, is flagged with the dates; within the window, nothing is said."""
    import dataclasses
    import datetime as dt

    from leaktrace.report.trace_words import why
    from leaktrace.trace.api import trace
    from leaktrace.trace.ledger import Ledger
    from leaktrace.trace.secret import decode
    from leaktrace.verify.snapshot import SnapshotEstimate

    world, db, _copies = shared
    leak, _ids = _leak(shared, tmp_path)
    found = trace(leak, world, ledger=Ledger(f"sqlite:///{db}"), secret=decode(SECRET, "s"))
    top = found.attribution.suspects[0]
    day = top.shared_at.date()

    def dated(low: dt.date, high: dt.date, bounded: bool = True) -> str | None:
        snap = SnapshotEstimate(low, low, high, 10, 10, bounded)
        checked = dataclasses.replace(found.verification, snapshot=snap)
        return dataclasses.replace(found, verification=checked).dating(top)

    week = dt.timedelta(days=7)
    assert dated(day + week, day + 2 * week) == "before"
    assert dated(day - 2 * week, day - week) == "after"
    assert dated(day - 2 * week, day - week, bounded=False) is None
    assert dated(day - week, day + week) is None
    checked = dataclasses.replace(
        found.verification,
        snapshot=SnapshotEstimate(day + week, day + week, day + week, 3, 3, True),
    )
    lines = why(top, dataclasses.replace(found, verification=checked))
    assert any("before the leak's data was taken" in line for line in lines)


def test_an_insider_export_accuses_no_recipient_and_flags_the_employee(
    shared, tmp_path: Path
) -> None:
    """Master records (no marks) of the customers one employee looked up a few a day, and a
    year's access log of 400 employees in GBK with Chinese headers: no recipient is accused,
    and that employee, alone, is flagged."""
    import datetime as dt

    import numpy as np

    from leaktrace.synth import insiders

    world, db, _copies = shared
    rng = np.random.default_rng(21)
    staff = insiders.make_world(
        rng, employees=400, customers=3000, rows=60_000, start=dt.date(2024, 7, 1), days=330
    )
    case = insiders.leak_by(rng, staff, 120, kind="branch")
    words = {0: "查询", 1: "打印", 2: "导出"}
    log = case.log.select(
        pl.col("employee").alias("柜员号"),
        pl.col("customer").alias("客户号"),
        pl.col("action").replace_strict(words, return_dtype=pl.String).alias("操作类型"),
        pl.col("time").dt.strftime("%Y-%m-%d %H:%M:%S").alias("操作时间"),
        pl.col("employee_branch").alias("所属网点"),
    )
    log_path = tmp_path / "访问日志.csv"
    log_path.write_bytes(log.write_csv().encode("gbk"))
    master = pl.read_parquet(world / "customers.parquet")
    leak = master.filter(pl.col("customer_id").is_in(case.leaked.tolist())).select(
        pl.col("name").alias("姓名"), pl.col("resident_id").alias("身份证"), pl.col("mobile")
    )
    leak_path = tmp_path / "内部导出.csv"
    leak.write_csv(leak_path)
    done = run(
        [
            "trace",
            str(leak_path),
            "--access-log",
            str(log_path),
            "--db",
            f"sqlite:///{db}",
            "--json",
        ]
    )
    assert done.exit_code == 0, done.output
    doc = json.loads(done.stdout)
    assert doc["accused"] == []
    flagged = [s["employee"] for s in doc["insiders"]["suspects"] if s["flagged"]]
    assert flagged == list(case.leakers)
    assert doc["insiders"]["suspects"][0]["corrected_p"] <= 1e-3
    table = run(["trace", str(leak_path), "--access-log", str(log_path), "--db", f"sqlite:///{db}"])
    assert case.leakers[0] in table.stdout and "flagged" in table.stdout
