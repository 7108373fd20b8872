"""Bad input gives a clear InputError, never a verdict."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from leaktrace import i18n
from leaktrace.errors import InputError, LeaktraceError
from leaktrace.synth.leaks import make_leak
from leaktrace.synth.world import make_world
from leaktrace.synth.writers import write_leak
from leaktrace.verify import verify


@pytest.fixture(scope="module")
def world_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("vin") / "world"
    make_world(2000, seed=4, out=out)
    return out


def test_no_identifier_column(tmp_path: Path, world_dir: Path) -> None:
    p = tmp_path / "notes.csv"
    p.write_text("商品,价格\n苹果,3\n香蕉,5\n", encoding="utf-8")
    with pytest.raises(InputError, match="resident IDs"):
        verify(p, world_dir)


def test_empty_file(tmp_path: Path, world_dir: Path) -> None:
    p = tmp_path / "empty.csv"
    p.write_bytes(b"")
    with pytest.raises(LeaktraceError):
        verify(p, world_dir)


def test_master_missing_columns(tmp_path: Path, world_dir: Path) -> None:
    from leaktrace.synth.world import World

    leak = make_leak(World.open(world_dir), "share", seed=1)
    path = write_leak(leak, tmp_path / "l.csv", "csv")
    pl.DataFrame({"customer_id": [1, 2], "segment": ["a", "b"]}).write_parquet(
        tmp_path / "m.parquet"
    )
    with pytest.raises(InputError, match="columns to link on"):
        verify(path, tmp_path / "m.parquet")
    pl.DataFrame({"name": ["张三"], "mobile": ["13800138000"]}).write_csv(tmp_path / "m.csv")
    with pytest.raises(InputError, match="customer id"):
        verify(path, tmp_path / "m.csv")


def test_master_as_csv_and_duckdb(tmp_path: Path, world_dir: Path) -> None:
    """The same verification from a CSV master and from a DuckDB file."""
    import duckdb

    from leaktrace.synth.world import World

    world = World.open(world_dir)
    leak = make_leak(world, "share", seed=2, size=1.0, columns=["name", "resident_id", "mobile"])
    path = write_leak(leak, tmp_path / "l.csv", "csv")
    cust = world.customers.collect()
    cust.write_csv(tmp_path / "m.csv")
    con = duckdb.connect(str(tmp_path / "m.duckdb"))
    con.register("c", cust.to_arrow())
    con.execute("CREATE TABLE customers AS SELECT * FROM c")
    con.close()
    a = verify(path, tmp_path / "m.csv")
    b = verify(path, tmp_path / "m.duckdb")
    assert sorted(int(c) for c in a.customers) == b.customers
    assert len(b.customers) == leak.rows.height


def _share_leak(world_dir: Path, tmp_path: Path) -> tuple[Path, list[int]]:
    from leaktrace.synth.world import World

    cols = ["name", "resident_id", "mobile"]
    leak = make_leak(World.open(world_dir), "share", seed=3, size=200, columns=cols)
    path = write_leak(leak, tmp_path / "l.csv", "csv")
    return path, sorted({c for c in leak.truth.customer_ids if c is not None})


def _customers(world_dir: Path) -> pl.DataFrame:
    """The world's customers as a bank's export holds them: text, Chinese headers."""
    c = pl.read_parquet(world_dir / "customers.parquet")
    return c.select(
        客户号=pl.col("customer_id").cast(pl.String),
        姓名="name",
        证件号码="resident_id",
        手机号=pl.col("mobile"),
        开户日期=pl.col("opened_on").dt.strftime("%Y-%m-%d"),
    )


def test_master_in_every_format_ingest_reads(tmp_path: Path, world_dir: Path) -> None:
    """JSON lines, a SQL dump and the second sheet of a workbook (named with the table option)
    give the same customers: masters are read as scan reads."""
    import xlsxwriter

    leak, truth = _share_leak(world_dir, tmp_path)
    df = _customers(world_dir)
    jsonl = tmp_path / "master.jsonl"
    df.write_ndjson(jsonl)
    dump = tmp_path / "master.sql"
    rows = ",\n".join("(" + ", ".join(f"'{v}'" for v in row) + ")" for row in df.iter_rows())
    cols = ", ".join(f"`{c}`" for c in df.columns)
    dump.write_text(f"INSERT INTO `客户` ({cols}) VALUES\n{rows};\n", encoding="utf-8")
    book_path = tmp_path / "master.xlsx"
    book = xlsxwriter.Workbook(str(book_path))
    book.add_worksheet("说明").write_row(0, 0, ["本表为客户信息"])
    sheet = book.add_worksheet("客户")
    sheet.write_row(0, 0, df.columns)
    for i, row in enumerate(df.iter_rows(), start=1):
        sheet.write_row(i, 0, row)
    book.close()
    for master, table in ((jsonl, None), (dump, None), (book_path, "客户")):
        report = verify(leak, master, master_table=table)
        assert sorted(int(c) for c in report.customers) == truth, master.name


def test_master_rows_that_do_not_fit_are_counted(tmp_path: Path, world_dir: Path) -> None:
    leak, truth = _share_leak(world_dir, tmp_path)
    text = _customers(world_dir).write_csv()
    lines = text.splitlines()
    lines.insert(5, "a broken row,with,too,many,fields,here")
    path = tmp_path / "m.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = verify(leak, path)
    assert sorted(int(c) for c in report.customers) == truth
    assert any("1 rows skipped" in str(n) for n in report.notes), report.notes
    # notes are shown in the language in use; --json keeps them in English
    with i18n.using("zh"):
        shown = [str(n) for n in report.notes]
        doc = json.dumps(report.to_dict(), ensure_ascii=False, default=str)
    assert any(f"{path}：应为" in n and "（跳过 1 行）" in n for n in shown), shown
    with i18n.using("en"):
        assert json.dumps(report.to_dict(), ensure_ascii=False, default=str) == doc
    assert "1 rows skipped" in doc


def test_history_from_a_duckdb_table(tmp_path: Path, world_dir: Path) -> None:
    """A DuckDB file's history table with Chinese columns reads as the world's own history."""
    import duckdb

    h = pl.read_parquet(world_dir / "history.parquet").rename(
        {"customer_id": "客户编号", "field": "变更字段", "value": "原值", "valid_from": "生效日期",
         "valid_to": "失效日期"}
    )  # fmt: skip
    db = tmp_path / "crm.duckdb"
    con = duckdb.connect(str(db))
    con.register("h", h.to_arrow())
    con.execute("CREATE TABLE 变更历史 AS SELECT * FROM h")
    con.execute("CREATE TABLE 其他 AS SELECT 1 AS x")
    con.close()
    from leaktrace.synth.world import World

    leak = make_leak(World.open(world_dir), "stale", seed=2, size=300)
    path = write_leak(leak, tmp_path / "l.csv", "csv")
    a = verify(path, world_dir / "customers.parquet", db, history_table="变更历史")
    b = verify(path, world_dir)
    assert [(f.field, f.historical) for f in a.fields] == [
        (f.field, f.historical) for f in b.fields
    ]
    with pytest.raises(InputError, match="a table name"):
        verify(path, world_dir / "customers.parquet", db)
