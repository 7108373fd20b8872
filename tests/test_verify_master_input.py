"""Masters as banks export them: GBK CSV, XLSX, Chinese or pinyin-abbreviated headers, headers
that say nothing; columns typed by their values, explicit mappings, and --master-date."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter
from typer.testing import CliRunner

from leaktrace.cli import app
from leaktrace.errors import InputError
from leaktrace.synth.leaks import make_leak
from leaktrace.synth.world import World, make_world
from leaktrace.synth.writers import write_leak
from leaktrace.verify import Label, verify
from leaktrace.verify.columns import sample_strings
from leaktrace.verify.master_input import prepare_master, recognise

# The world's customers under the headers a Chinese core-banking export uses, and their
# pinyin initials (KHH = 客户号 …) as older systems name them.
CHINESE = {
    "customer_id": "客户号",
    "name": "姓名",
    "resident_id": "证件号码",
    "mobile": "手机号码",
    "address": "地址",
    "card_no": "银行卡号",
    "birth_date": "出生日期",
    "opened_on": "开户日期",
}
PINYIN = dict(
    zip(CHINESE, ("KHH", "XM", "ZJHM", "SJHM", "DZ", "YHKH", "CSRQ", "KHRQ"), strict=True)
)
ROLES = {
    "customer_id": "customer",
    "name": "person_name",
    "resident_id": "resident_id",
    "mobile": "mobile",
    "address": "address",
    "card_no": "bank_card",
    "birth_date": "birth",
    "opened_on": "opened",
}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return make_world(1500, seed=11, out=tmp_path_factory.mktemp("vmaster") / "world")


@pytest.fixture(scope="module")
def leak_csv(world: World, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[int]]:
    """A recipient's copy of 300 customers' names, IDs and mobiles, and whose they are."""
    leak = make_leak(world, "share", seed=5, size=300, columns=["name", "resident_id", "mobile"])
    path = write_leak(leak, tmp_path_factory.mktemp("vleak") / "leak.csv", "csv")
    return path, sorted({c for c in leak.truth.customer_ids if c is not None})


def _export(world: World, headers: dict[str, str]) -> pl.DataFrame:
    """The customers as text, dates as 2020/6/30 (opening) and 19900102 (birth)."""
    c = world.customers.collect()
    return c.select(
        pl.col("customer_id").cast(pl.String),
        "name",
        "resident_id",
        "mobile",
        "address",
        "card_no",
        pl.col("birth_date").dt.strftime("%Y%m%d"),
        pl.col("opened_on").dt.strftime("%Y/%-m/%-d"),
    ).rename(headers)


def _write_xlsx(path: Path, df: pl.DataFrame) -> Path:
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("客户信息")
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write_row(0, 0, df.columns)
    for i, row in enumerate(df.iter_rows(), start=1):
        for j, value in enumerate(row):
            if isinstance(value, dt.date):
                sheet.write_datetime(i, j, dt.datetime.combine(value, dt.time()), day)
            else:
                sheet.write(i, j, value)
    book.close()
    return path


def _linked(report: object) -> list[int]:
    return sorted(int(c) for c in report.customers)  # type: ignore[attr-defined]


def test_gbk_master_csv(world: World, leak_csv: tuple[Path, list[int]], tmp_path: Path) -> None:
    """A GBK CSV master with Chinese headers links every leaked customer (no traceback)."""
    path = tmp_path / "客户.csv"
    path.write_bytes(_export(world, CHINESE).write_csv().encode("gbk"))
    report = verify(leak_csv[0], path)
    assert _linked(report) == leak_csv[1]
    assert report.verdict.label == Label.AUTHENTIC_OURS
    assert report.master_as_of == world.customers.collect()["opened_on"].max()
    assert report.master_as_of_source == "latest_opening"


def test_xlsx_master(world: World, leak_csv: tuple[Path, list[int]], tmp_path: Path) -> None:
    """An XLSX master: typed cells (numbers, dates) come through ingest as text."""
    c = world.customers.collect()
    df = _export(world, CHINESE).with_columns(
        pl.Series("客户号", c["customer_id"]),  # a number cell
        pl.Series("手机号码", c["mobile"].cast(pl.Int64)),  # mobiles typed as numbers
        pl.Series("开户日期", c["opened_on"]),  # date cells
    )
    report = verify(leak_csv[0], _write_xlsx(tmp_path / "master.xlsx", df))
    assert _linked(report) == leak_csv[1]
    assert report.master_as_of == c["opened_on"].max()


def test_pinyin_headers(world: World, leak_csv: tuple[Path, list[int]], tmp_path: Path) -> None:
    path = tmp_path / "khxx.csv"
    _export(world, PINYIN).write_csv(path)
    roles, notes = recognise(sample_strings(_to_parquet(path, tmp_path)), "khxx.csv")
    assert roles == {ROLES[k]: v for k, v in PINYIN.items()} and not notes
    assert _linked(verify(leak_csv[0], path)) == leak_csv[1]


def test_roles_take_the_kinds_names_and_the_short_ones(world: World) -> None:
    """--master-columns roles are the scan's kind names; the short names id, card, addr and
    name map to the same roles, and naming one role twice is an error."""
    letters = dict(zip(CHINESE, "ABCDEFGH", strict=True))
    sample = _export(world, letters).head(300)
    long = {"customer": "A", "person_name": "B", "resident_id": "C", "address": "E"}
    short = {"customer": "A", "name": "B", "id": "C", "addr": "E", "card": "F"}
    by_long, _ = recognise(sample, "m.csv", long | {"bank_card": "F"})
    by_short, _ = recognise(sample, "m.csv", short)
    assert by_long == by_short
    assert {k: by_short[k] for k in ("person_name", "resident_id", "address", "bank_card")} == {
        "person_name": "B",
        "resident_id": "C",
        "address": "E",
        "bank_card": "F",
    }
    with pytest.raises(InputError, match="each role mapped once"):
        recognise(sample, "m.csv", {"id": "C", "resident_id": "D"})


def _to_parquet(csv: Path, tmp: Path) -> Path:
    out = tmp / (csv.stem + ".parquet")
    pl.read_csv(csv, infer_schema=False).write_parquet(out)
    return out


def test_headers_that_say_nothing(
    world: World, leak_csv: tuple[Path, list[int]], tmp_path: Path
) -> None:
    """Columns named A, B, C … are typed by their values: IDs, mobiles, names, addresses,
    cards; the birth dates are the ones the IDs carry; the other dates are openings; the
    customer number is the column of unique codes that are no identifier (not the amounts)."""
    df = _export(world, CHINESE)
    # branch and sex columns: neither unique nor identifiers
    c = world.customers.collect()
    amounts = (c["customer_id"] * 317 + 1000).cast(pl.String) + ".25"  # unique, but no id
    df = df.with_columns(c["branch_id"], c["sex"], amounts.alias("balance")).select(
        "手机号码", "开户日期", "branch_id", "balance", "证件号码", "姓名", "客户号", "sex",
        "出生日期", "地址", "银行卡号",
    )  # fmt: skip
    letters = {name: chr(ord("A") + i) for i, name in enumerate(df.columns)}
    path = tmp_path / "export.csv"
    df.rename(letters).write_csv(path)
    roles, _ = recognise(sample_strings(_to_parquet(path, tmp_path)), "export.csv")
    expected = {ROLES[k]: letters[v] for k, v in CHINESE.items()}
    assert roles == expected
    assert _linked(verify(leak_csv[0], path)) == leak_csv[1]


def test_values_outrank_headers(world: World, tmp_path: Path) -> None:
    """A column of valid resident IDs is the ID column whatever its header says."""
    c = world.customers.collect().head(500)
    df = c.select(
        客户号=pl.col("customer_id").cast(pl.String),
        手机=pl.col("resident_id"),  # mislabelled
        备注=pl.col("mobile"),
        姓名="name",
    )
    roles, _ = recognise(df, "m.csv")
    assert (
        roles["resident_id"] == "手机"
        and roles["mobile"] == "备注"
        and roles["customer"] == "客户号"
    )
    # a master keyed by resident ID: the header names the customer column, values the ID
    keyed = df.select(客户号=pl.col("手机"), 姓名="姓名", 手机号=pl.col("备注"))
    roles, _ = recognise(keyed, "m.csv")
    assert roles["customer"] == roles["resident_id"] == "客户号" and roles["mobile"] == "手机号"


def test_unsure_customer_column_names_the_option(world: World, tmp_path: Path) -> None:
    """Two columns of unique codes and no header to choose: a clear error naming the columns
    and --master-columns; the mapping settles it; a mapping to a missing column is an error."""
    c = world.customers.collect()
    df = c.select(
        甲=pl.col("customer_id").cast(pl.String),
        乙=pl.format("AC{}", pl.col("customer_id") * 7 + 1000),
        丙="resident_id",
        丁="mobile",
    )
    path = tmp_path / "m.csv"
    df.write_csv(path)
    with pytest.raises(InputError) as e:
        prepare_master(path, None, None, tmp_path)
    msg = str(e.value)
    assert (
        "--master-columns customer=" in msg and "甲, 乙" in msg and "columns: 甲, 乙, 丙, 丁" in msg
    )
    mi = prepare_master(path, None, None, tmp_path, columns={"customer": "甲"})
    assert mi.columns["customer"] == "甲" and mi.columns["resident_id"] == "丙"
    with pytest.raises(InputError, match=r"--master-columns customer=KHH.*columns: 甲, 乙, 丙, 丁"):
        prepare_master(path, None, None, tmp_path, columns={"customer": "KHH"})
    with pytest.raises(InputError, match="one of the roles"):
        prepare_master(path, None, None, tmp_path, columns={"branch": "乙"})


def test_mapped_date_that_does_not_parse(world: World, tmp_path: Path) -> None:
    c = world.customers.collect().head(100)
    df = c.select(客户号="customer_id", 证件号码="resident_id", 开户日期=pl.lit("二〇二〇年"))
    path = tmp_path / "m.csv"
    df.write_csv(path)
    with pytest.raises(InputError, match="column 开户日期: expected dates such as 2020-06-30"):
        prepare_master(path, None, None, tmp_path)


def test_master_date_turns_current_into_stale(world: World, tmp_path: Path) -> None:
    """A leak taken when the master was: authentic ours. The same master stated as extracted
    3.5 years later (it holds no later openings or changes, as a dormant customer base
    would): stale. Through the command line with --master-date."""
    leak = make_leak(world, "employee", seed=0, size=400)  # taken weeks before the master
    assert (world.as_of - leak.truth.snapshot).days < 60
    path = write_leak(leak, tmp_path / "leak.csv", "csv")
    master = tmp_path / "m.csv"
    _export(world, CHINESE).write_csv(master)
    now = verify(path, master, world.path / "history.parquet")
    assert now.verdict.label == Label.AUTHENTIC_OURS
    later = world.as_of + dt.timedelta(days=round(3.5 * 365))
    runner = CliRunner()
    args = [
        "verify",
        str(path),
        "--against",
        str(master),
        "--history",
        str(world.path / "history.parquet"),
    ]
    res = runner.invoke(app, [*args, "--master-date", later.isoformat(), "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["verdict"]["label"] == "stale"
    assert doc["master_as_of"] == later.isoformat() and doc["master_as_of_source"] == "given"
    page = tmp_path / "verify.html"
    shown = runner.invoke(app, [*args, "--master-date", later.isoformat(), "--report", str(page)])
    line = f"Master data as of {later.isoformat()} (given with --master-date)"
    assert line in shown.stdout and line in page.read_text(encoding="utf-8")
    bad = runner.invoke(app, [*args, "--master-date", "30/06/2029"])
    assert bad.exit_code == 2


def test_cli_master_columns(world: World, leak_csv: tuple[Path, list[int]], tmp_path: Path) -> None:
    c = world.customers.collect()
    path = tmp_path / "m.csv"
    c.select(
        甲=pl.col("customer_id").cast(pl.String),
        乙=pl.format("AC{}", pl.col("customer_id") * 7 + 1000),
        丙="resident_id",
        丁="mobile",
        戊="name",
    ).write_csv(path)
    runner = CliRunner()
    base = ["verify", str(leak_csv[0]), "--against", str(path), "--json"]
    res = runner.invoke(app, base)
    assert res.exit_code == 1 and "--master-columns customer=" in res.output
    res = runner.invoke(app, [*base, "--master-columns", "customer=甲,resident_id=丙"])
    assert res.exit_code == 0, res.output
    assert sorted(int(x) for x in json.loads(res.stdout)["customers"]) == leak_csv[1]
    res = runner.invoke(app, [*base, "--master-columns", "customer"])
    assert res.exit_code == 2 and "ROLE=COLUMN" in res.output
