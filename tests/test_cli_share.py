"""``leaktrace share``: a marked copy written and recorded from a synth world's master, the
ledger read back by ``share list`` and ``share show`` with its gaps, JSON that parses, the
secret never shown, and errors of input (exit 1) and usage (exit 2) that leave nothing behind."""

from __future__ import annotations

import io
import json
import secrets
from pathlib import Path

import polars as pl
import pytest
from python_calamine import CalamineWorkbook
from typer.testing import CliRunner

from leaktrace.cli import app
from leaktrace.synth.bundle import synth_to_dir
from leaktrace.trace.ledger import MAX_CUSTOMER, Ledger
from leaktrace.trace.secret import decode
from leaktrace.trace.token import TokenIndex, find
from tests.test_cli_language import cli_in, english_left  # noqa: F401 (cli_in is a fixture)

SECRET = secrets.token_hex(32)
COLUMNS = "customer_id,name,resident_id,mobile,address"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A synth world of 3,000 customers; its customers.parquet is the master."""
    out = tmp_path_factory.mktemp("world")
    synth_to_dir(out, 3000, seed=16)
    return out / "world"


@pytest.fixture
def ids(world: Path, tmp_path: Path) -> tuple[Path, list[int]]:
    """A file of 200 of the world's customer numbers, one a line, with a blank line."""
    numbers = pl.read_parquet(world / "customers.parquet")["customer_id"][100:300].to_list()
    path = tmp_path / "ids.txt"
    path.write_text(
        "\n".join(map(str, numbers[:100])) + "\n\n" + "\n".join(map(str, numbers[100:]))
    )
    return path, numbers


def run(args: list[str], secret: str | None = SECRET) -> object:
    env = {"LEAKTRACE_SECRET": secret or "", "LEAKTRACE_SECRET_FILE": "", "COLUMNS": "200"}
    return CliRunner().invoke(app, args, env=env)


def share_args(world: Path, ids: Path, out: Path, db: Path, *extra: str) -> list[str]:
    return [
        "share",
        str(world),
        "--to",
        "某某科技有限公司",
        "--records",
        f"@{ids}",
        "--columns",
        COLUMNS,
        "--out",
        str(out),
        "--db",
        f"sqlite:///{db}",
        *extra,
    ]


def test_share_writes_the_copy_and_the_ledger_shows_its_gaps(world, ids, tmp_path) -> None:
    path, numbers = ids
    out, db = tmp_path / "copy.csv", tmp_path / "ledger.sqlite"
    made = run(share_args(world, path, out, db, "--encoding", "gbk"))
    assert made.exit_code == 0, made.output
    copy = pl.read_csv(io.StringIO(out.read_bytes().decode("gbk")), infer_schema=False)
    assert copy.columns == COLUMNS.split(",")
    assert copy.height == len(numbers) + 3  # the canaries
    assert "no purpose was recorded" in made.stderr and "no legal basis" in made.stderr

    listed = run(["share", "list", "--db", f"sqlite:///{db}", "--json"])
    assert listed.exit_code == 0, listed.output
    [doc] = json.loads(listed.stdout)
    # The customer numbers are the share's tokens (twelve digits, none a real number); the
    # ledger and the secret name each one's customer, the canaries' too.
    held = pl.read_parquet(world / "customers.parquet")["customer_id"]
    written = copy["customer_id"]
    assert written.null_count() == 0 and set(written.str.len_chars()) == {12}
    assert not written.cast(pl.Int64).is_in(held.to_list()).any()
    index = TokenIndex.from_ledger(
        Ledger(f"sqlite:///{db}"), decode(SECRET, "test").derive("token"), "customer_id", held
    )
    found = find([out], index).hits
    assert set(found["share"]) == {doc["id"]} and found.height == copy.height
    assert set(found["customer"]) == {*numbers, *(MAX_CUSTOMER - i for i in range(3))}
    assert doc["recipient"] == "某某科技有限公司" and doc["customers"] == len(numbers)
    assert doc["gaps"] == ["purpose", "basis"] and doc["file_format"] == "csv-gbk"

    shown = run(["share", "show", doc["id"], "--db", f"sqlite:///{db}"])
    assert shown.exit_code == 0, shown.output
    assert doc["id"] in shown.stdout and "a gap in the ledger" in shown.stderr
    ids_doc = json.loads(
        run(["share", "show", doc["id"], "--customers", "--db", f"sqlite:///{db}", "--json"]).stdout
    )
    assert ids_doc["customer_ids"] == sorted(numbers) and ids_doc["gaps"] == ["purpose", "basis"]
    for result in (made, listed, shown):
        assert SECRET not in result.stdout + result.stderr
    assert SECRET.encode() not in out.read_bytes() + db.read_bytes()


def test_a_share_with_purpose_and_basis_has_no_gap(world, ids, tmp_path) -> None:
    out, db = tmp_path / "copy.parquet", tmp_path / "ledger.sqlite"
    made = run(
        share_args(world, ids[0], out, db, "--purpose", "贷后催收", "--basis", "委托合同", "--json")
    )
    assert made.exit_code == 0, made.output
    doc = json.loads(made.stdout)
    assert doc["gaps"] == [] and doc["purpose"] == "贷后催收" and doc["canaries"] == 3
    assert pl.read_parquet(out).height == len(ids[1]) + 3
    table = run(["share", "list", "--db", f"sqlite:///{db}"])
    assert doc["id"] in table.stdout and "no purpose" not in table.stdout


def test_a_missing_secret_is_an_error_and_leaves_nothing(world, ids, tmp_path) -> None:
    out, db = tmp_path / "copy.csv", tmp_path / "ledger.sqlite"
    result = run(share_args(world, ids[0], out, db), secret=None)
    assert result.exit_code == 1
    assert "LEAKTRACE_SECRET" in result.stderr and "neither set" in result.stderr
    assert "Traceback" not in result.output and not out.exists()


def test_an_unknown_customer_number_stops_the_share(world, ids, tmp_path) -> None:
    path, _ = ids
    path.write_text(path.read_text() + "\n999999999\n")
    out, db = tmp_path / "copy.csv", tmp_path / "ledger.sqlite"
    result = run(share_args(world, path, out, db))
    assert result.exit_code == 1
    assert "1 of 201 customer numbers are not in the master" in result.stderr
    assert not out.exists()
    assert json.loads(run(["share", "list", "--db", f"sqlite:///{db}", "--json"]).stdout) == []


def test_a_line_that_is_no_customer_number_is_named(world, tmp_path) -> None:
    path = tmp_path / "ids.txt"
    path.write_text("1\n2\n3 号\n")
    result = run(share_args(world, path, tmp_path / "c.csv", tmp_path / "l.sqlite"))
    assert result.exit_code == 1 and f"{path}:3" in result.stderr


@pytest.mark.parametrize(
    ("option", "value"), [("--columns", "name,没有这一列"), ("--columns", "name,name")]
)
def test_bad_columns_are_wrong_usage(world, ids, tmp_path, option, value) -> None:
    out, db = tmp_path / "copy.csv", tmp_path / "ledger.sqlite"
    args = share_args(world, ids[0], out, db)
    args[args.index(option) + 1] = value
    result = run(args)
    assert result.exit_code == 2, result.output
    assert "--columns" in result.stderr and not out.exists()


def test_show_of_an_unknown_share_is_an_error(tmp_path) -> None:
    result = run(["share", "show", "0123456789abcdef", "--db", f"sqlite:///{tmp_path / 'l.db'}"])
    assert result.exit_code == 1 and "0123456789abcdef" in result.stderr


@pytest.mark.parametrize(
    "command", [["share"], ["share", "new"], ["share", "list"], ["share", "show"]]
)
def test_share_help_in_chinese_has_no_english_sentence(cli_in, command) -> None:  # noqa: F811
    cli = cli_in("zh_CN.UTF-8")
    out = CliRunner().invoke(cli.app, [*command, "--help"], env={"COLUMNS": "100"})
    assert out.exit_code == 0, out.output
    assert "用法" in out.stdout and "共享台账" in out.stdout
    assert english_left(out.stdout) == []


def test_a_gbk_csv_master_with_chinese_headers(world, ids, tmp_path) -> None:
    """A bank's own export: Chinese headers, GBK, customer numbers named 客户号; XLSX out."""
    heads = {
        "customer_id": "客户号",
        "name": "姓名",
        "resident_id": "身份证号",
        "mobile": "手机号码",
    }
    master = tmp_path / "客户主表.csv"
    frame = pl.read_parquet(world / "customers.parquet").select(*heads).rename(heads)
    master.write_bytes(frame.write_csv().encode("gbk"))
    out, db = tmp_path / "copy.xlsx", tmp_path / "ledger.sqlite"
    args = share_args(world, ids[0], out, db, "--json")
    args[1] = str(master)
    args[args.index("--columns") + 1] = "客户号,姓名,身份证号"
    made = run(args)
    assert made.exit_code == 0, made.output
    rows = CalamineWorkbook.from_path(str(out)).get_sheet_by_index(0).to_python()
    assert rows[0] == ["客户号", "姓名", "身份证号"] and len(rows) == 1 + len(ids[1]) + 3
    assert json.loads(made.stdout)["columns"] == ["客户号", "姓名", "身份证号"]


@pytest.fixture
def branches(world: Path, tmp_path: Path) -> tuple[Path, pl.DataFrame]:
    """A bank's GBK export with Chinese headers, its branch and account opening date too."""
    heads = {
        "customer_id": "客户号",
        "name": "姓名",
        "resident_id": "身份证号",
        "mobile": "手机号码",
        "branch_id": "网点",
        "opened_on": "开户日期",
    }
    frame = pl.read_parquet(world / "customers.parquet").select(*heads).rename(heads)
    master = tmp_path / "客户主表.csv"
    master.write_bytes(frame.write_csv().encode("gbk"))
    return master, frame


def query_args(master: Path, condition: str, tmp_path: Path, *extra: str) -> list[str]:
    args = share_args(master, Path("unused"), tmp_path / "copy.csv", tmp_path / "l.sqlite", *extra)
    args[args.index("--records") + 1] = condition
    args[args.index("--columns") + 1] = "客户号,姓名,手机号码"
    return args


def test_a_query_chooses_the_customers(branches, tmp_path) -> None:
    master, frame = branches
    condition = "网点 = 'B001' AND 开户日期 < '2020-01-01'"
    made = run(query_args(master, condition, tmp_path, "--json"))
    assert made.exit_code == 0, made.output
    doc = json.loads(made.stdout)
    wanted = frame.filter((pl.col("网点") == "B001") & (pl.col("开户日期") < pl.date(2020, 1, 1)))[
        "客户号"
    ]
    assert 0 < doc["customers"] == wanted.len() < frame.height
    shown = run(["share", "show", doc["id"], "--customers", "--json", "--db",
                 f"sqlite:///{tmp_path / 'l.sqlite'}"])  # fmt: skip
    assert json.loads(shown.stdout)["customer_ids"] == sorted(wanted)
    copy = pl.read_csv(io.StringIO((tmp_path / "copy.csv").read_text()), infer_schema=False)
    assert copy.height == wanted.len() + 3


@pytest.mark.parametrize(
    ("condition", "said"),
    [
        ("分行 = 'B001'", "no column 分行"),
        ("网点 = ", "a syntax error at character"),
        ("网点 = 'B001'; DROP TABLE master", "more than one statement"),
        ("客户号 IN (SELECT 1)", "subquery, which a condition may not use"),
        ("read_csv('/etc/passwd') IS NOT NULL", "which a condition may not use"),
        ("开户日期 < 5", "Cannot compare values of type"),
        ("CAST(姓名 AS INTEGER) > 0", "could not evaluate on the master (ConversionException)"),
        ("网点 = 'Z999'", "a condition that some of the master's rows meet, found none"),
    ],
)
def test_a_bad_query_is_named_and_nothing_is_written(branches, tmp_path, condition, said) -> None:
    master, frame = branches
    result = run(query_args(master, condition, tmp_path))
    assert result.exit_code == 1, result.output
    assert "--records" in result.stderr and said in result.stderr.replace("\n", "")
    assert "Traceback" not in result.output and not (tmp_path / "copy.csv").exists()
    assert not any(name in result.stderr for name in frame["姓名"].to_list())
