"""Master data from a PostgreSQL table (``--against postgresql://… --table T``), on a real
server this session starts (the ``postgres`` fixture): the same verification as from Parquet,
the column types PostgreSQL had, clear errors that never show the URL's password, and table
names that cannot inject SQL."""

from __future__ import annotations

import datetime as dt
import decimal
import json
from pathlib import Path

import polars as pl
import psycopg
import pytest
from postgres_server import PostgresServer, free_port
from psycopg import sql
from same_report import assert_same_report
from typer.testing import CliRunner

from leaktrace.cli import app
from leaktrace.errors import InputError
from leaktrace.synth.leaks import make_leak
from leaktrace.synth.world import World, make_world
from leaktrace.synth.writers import write_leak
from leaktrace.verify import verify
from leaktrace.verify.master_input import prepare_master

PASSWORD = "Pw-s3cr3t!x"  # percent-encoded in URLs as Pw-s3cr3t%21x
HOSTILE = 'cust"omers; DROP TABLE customers; --'

# The world's customers as a bank's DBA would declare them.
PG_TYPES = {
    "customer_id": "bigint PRIMARY KEY",
    "name": "varchar(50)",
    "resident_id": "char(18)",
    "sex": "char(1)",
    "birth_date": "date",
    "mobile": "varchar(11)",
    "email": "text",
    "address": "text",
    "province": "text",
    "city": "text",
    "county": "text",
    "card_no": "varchar(19)",
    "card_issuer": "text",
    "opened_on": "date",
    "branch_id": "text",
}


def load_table(conn: psycopg.Connection, table: sql.Composable, df: pl.DataFrame) -> None:
    """CREATE TABLE ``table`` with PG_TYPES and COPY ``df`` into it."""
    cols = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(PG_TYPES[c])) for c in df.columns
    )
    conn.execute(sql.SQL("CREATE TABLE {} ({})").format(table, cols))
    with conn.cursor().copy(sql.SQL("COPY {} FROM STDIN").format(table)) as copy:
        for row in df.iter_rows():
            copy.write_row(row)


@pytest.fixture(scope="module")
def bank(postgres: PostgresServer, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A world, a stale padded leak of it, and its customers in a database ``bank`` as
    ``public.customers``, ``crm.<HOSTILE>`` and (readable by a password role) nothing else."""
    tmp = tmp_path_factory.mktemp("vpg")
    world = make_world(3000, seed=31, out=tmp / "world")
    leak = make_leak(world, "stale", seed=5, reformat=True, pad=0.2, size=0.2)
    leak_path = write_leak(leak, tmp / "leak.csv", "csv")
    url = postgres.create_database("bank")
    cust = World.open(world.path).customers.collect()
    with psycopg.connect(url) as conn:
        load_table(conn, sql.Identifier("customers"), cust)
        conn.execute("CREATE SCHEMA crm")
        load_table(conn, sql.Identifier("crm", HOSTILE), cust)
    postgres.create_role("auditor", PASSWORD)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("GRANT SELECT ON public.customers TO auditor")
    return {
        "url": url,
        "world": world.path,
        "leak": leak_path,
        "history": world.path / "history.parquet",
        "customers": cust,
    }


@pytest.fixture(scope="module")
def from_parquet(bank: dict):
    return verify(bank["leak"], bank["world"] / "customers.parquet", bank["history"])


def test_postgres_master_gives_the_parquet_result(bank: dict, from_parquet) -> None:
    pg = verify(bank["leak"], bank["url"], bank["history"], master_table="customers")
    assert_same_report(pg, from_parquet, "master")
    # The ids keep PostgreSQL's bigint type (as in Parquet), not the text of a CSV copy.
    assert pg.customers and all(type(c) is int for c in pg.customers)
    assert pg.verdict.label == from_parquet.verdict.label == "mixed"
    assert pg.linkage is not None and pg.linkage.linked > 0
    assert pg.master_as_of is not None  # from opened_on (a date column) and the history
    assert pg.master == bank["url"] + " table customers"


def test_schema_qualified_table_with_hostile_name(bank: dict, from_parquet) -> None:
    """``crm.<name with quotes and semicolons>`` is read as that one table, quoted; a name
    trying to inject SQL is only a table that does not exist."""
    pg = verify(bank["leak"], bank["url"], bank["history"], master_table="crm." + HOSTILE)
    assert_same_report(pg, from_parquet, "master")
    for name in (
        "customers; DROP TABLE customers",
        'customers" ; DROP TABLE customers; --',
        "public.customers WHERE false",
    ):
        with pytest.raises(InputError, match="expected an existing table"):
            verify(bank["leak"], bank["url"], master_table=name)
    for bad in ("a.b.c", ".customers", "customers.", "cust\x00omers"):
        with pytest.raises(InputError, match="NAME or SCHEMA.NAME"):
            verify(bank["leak"], bank["url"], master_table=bad)
    with psycopg.connect(bank["url"]) as conn:
        rows = conn.execute("SELECT count(*) FROM public.customers").fetchone()
    assert rows == (bank["customers"].height,)


def test_column_types_come_through(postgres: PostgresServer, tmp_path: Path) -> None:
    url = postgres.create_database("types")
    with psycopg.connect(url) as conn:
        conn.execute(
            "CREATE TABLE t (customer_id int, name text, mobile char(13), small int2, "
            "big int8, amount numeric(12,2), ratio numeric, score float8, active bool, "
            "birth_date date, opened_on timestamp, seen timestamptz, note text)"
        )
        conn.execute(
            "INSERT INTO t VALUES "
            "(1, '张伟', '13812345678', 7, 9007199254740993, 1234567890.12, 0.5, 0.1, true, "
            "'1990-02-28', '2021-03-04 05:06:07.123456', '2024-01-01 08:00:00+08', ''), "
            "(2, '李娜', '13987654321', NULL, NULL, NULL, NULL, 'NaN', false, "
            "'infinity', '2022-12-31 23:59:59', NULL, NULL), "
            "(3, NULL, NULL, -1, -2, -0.01, 12345678901234567890.5, -1e300, NULL, NULL, "
            "NULL, '2024-06-30 23:30:00.5+00', 'a,b \"quoted\"\nsecond line')"
        )
    mi = prepare_master(url, "t", None, tmp_path)
    df = pl.read_parquet(mi.path).sort("customer_id")
    assert dict(df.schema) == {
        "customer_id": pl.Int32,
        "name": pl.String,
        "mobile": pl.String,
        "small": pl.Int16,
        "big": pl.Int64,
        "amount": pl.Decimal(12, 2),
        "ratio": pl.Float64,
        "score": pl.Float64,
        "active": pl.Boolean,
        "birth_date": pl.Date,
        "opened_on": pl.Datetime("us"),
        "seen": pl.Datetime("us", "UTC"),
        "note": pl.String,
    }
    assert df["customer_id"].to_list() == [1, 2, 3]
    assert df["name"].to_list() == ["张伟", "李娜", None]
    assert df["mobile"].to_list() == ["13812345678", "13987654321", None]  # char(13) unpadded
    assert df["big"].to_list() == [9007199254740993, None, -2]
    assert df["amount"].to_list() == [
        decimal.Decimal("1234567890.12"),
        None,
        decimal.Decimal("-0.01"),
    ]
    assert df["score"][0] == 0.1 and df["score"].is_nan()[1] and df["score"][2] == -1e300
    assert df["active"].to_list() == [True, False, None]
    assert df["birth_date"].to_list() == [dt.date(1990, 2, 28), None, None]  # infinity: null
    assert df["opened_on"].to_list() == [
        dt.datetime(2021, 3, 4, 5, 6, 7, 123456),
        dt.datetime(2022, 12, 31, 23, 59, 59),
        None,
    ]
    utc = dt.UTC
    assert df["seen"].to_list() == [
        dt.datetime(2024, 1, 1, 0, 0, tzinfo=utc),
        None,
        dt.datetime(2024, 6, 30, 23, 30, 0, 500000, tzinfo=utc),
    ]
    assert df["note"].to_list() == ["", None, 'a,b "quoted"\nsecond line']  # '' is not NULL
    # The master's date is the last opening, taken from the timestamp column.
    assert mi.as_of == dt.date(2022, 12, 31)


def test_numeric_nan_becomes_null(postgres: PostgresServer, tmp_path: Path) -> None:
    """A numeric(p, s) holding NaN has no Decimal: null, not a crash."""
    url = postgres.create_database("nans")
    with psycopg.connect(url) as conn:
        conn.execute("CREATE TABLE t (customer_id int, name text, amount numeric(12,2))")
        conn.execute("INSERT INTO t VALUES (1, '张伟', 'NaN'), (2, '李娜', 3.5), (3, '王芳', NULL)")
    df = pl.read_parquet(prepare_master(url, "t", None, tmp_path).path).sort("customer_id")
    assert df["amount"].to_list() == [None, decimal.Decimal("3.50"), None]


def test_text_of_a_non_utf8_database(postgres: PostgresServer, tmp_path: Path) -> None:
    """A database in EUC_CN (GB2312, as older Chinese systems have) still gives UTF-8 text."""
    url = postgres.create_database(
        "legacy", "ENCODING 'EUC_CN' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0"
    )
    with psycopg.connect(url) as conn:
        conn.execute("CREATE TABLE 客户 (客户号 int, 姓名 text, 手机 text, 地址 text)")
        conn.execute(
            "INSERT INTO 客户 VALUES (1, '王芳', '13812345678', '北京市朝阳区建国路88号'), "
            "(2, '刘洋', '13912345678', '上海市浦东新区世纪大道100号')"
        )
    mi = prepare_master(url, "客户", None, tmp_path)
    df = pl.read_parquet(mi.path).sort("客户号")
    assert df["姓名"].to_list() == ["王芳", "刘洋"]
    assert df["地址"][1] == "上海市浦东新区世纪大道100号"
    assert {"person_name", "mobile", "address"} <= mi.present


def _error(bank: dict, url: str, table: str = "customers") -> InputError:
    with pytest.raises(InputError) as info:
        verify(bank["leak"], url, master_table=table)
    e = info.value
    text = " ".join(str(x) for x in (e, e.place, e.expected, e.found))
    assert PASSWORD not in text and "s3cr3t" not in text, text
    return e


def test_errors_are_clear_and_hide_the_password(postgres: PostgresServer, bank: dict) -> None:
    port = postgres.port
    secret = "auditor:Pw-s3cr3t%21x"
    e = _error(bank, f"postgresql://{secret}@127.0.0.1:{port}/bank", "no_such_table")
    assert "expected an existing table" in str(e) and "no_such_table" in str(e)
    assert f"postgresql://auditor@127.0.0.1:{port}/bank table no_such_table" in str(e)

    closed = free_port()
    e = _error(bank, f"postgresql://{secret}@127.0.0.1:{closed}/bank")
    assert "accepts the connection" in str(e) and str(closed) in str(e)
    assert "Connection refused" in str(e)

    e = _error(bank, f"postgresql://{secret}@127.0.0.1:notaport/bank")
    assert "notaport" in str(e)

    e = _error(bank, f"postgresql://{secret}@[::1:{port}/bank")  # libpq cannot parse it
    assert "a PostgreSQL URL libpq can parse" in str(e)

    e = _error(bank, f"postgresql://auditor@127.0.0.1:{port}/bank?password=Pw-s3cr3t!x", "t")
    assert "expected an existing table" in str(e)  # connected with the query's password

    e = _error(bank, f"postgresql://auditor@127.0.0.1:{port}/bank?password=Pw-s3cr3t!x&x=1")
    assert "libpq can parse" in str(e)  # x is no connection option

    e = _error(bank, f"postgresql://auditor:wrong-s3cr3t@127.0.0.1:{port}/bank")
    assert "password authentication failed" in str(e)

    e = _error(bank, f"postgresql://{secret}@127.0.0.1:{port}/nobank")
    assert 'database "nobank" does not exist' in str(e)

    with psycopg.connect(bank["url"], autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS secret_table (customer_id int, mobile text)")
    e = _error(bank, f"postgresql://{secret}@127.0.0.1:{port}/bank", "secret_table")
    assert "a table the user may read" in str(e)

    with pytest.raises(InputError, match="a table name with the PostgreSQL URL"):
        verify(bank["leak"], bank["url"])


def test_password_from_pgpassword(
    postgres: PostgresServer, bank: dict, from_parquet, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The password can stay off the command line: libpq reads PGPASSWORD (or ~/.pgpass)."""
    monkeypatch.setenv("PGPASSWORD", PASSWORD)
    url = postgres.url("bank", user="auditor")
    pg = verify(bank["leak"], url, bank["history"], master_table="public.customers")
    assert_same_report(pg, from_parquet, "master")


def test_cli_against_a_postgres_table(bank: dict, from_parquet) -> None:
    runner = CliRunner()
    args = ["verify", str(bank["leak"]), "--against", bank["url"], "--history"]
    r = runner.invoke(app, [*args, str(bank["history"]), "--table", "customers", "--json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["customers"] == from_parquet.customers
    assert doc["verdict"]["label"] == from_parquet.verdict.label
    assert doc["master"] == bank["url"] + " table customers"

    r = runner.invoke(app, ["verify", str(bank["leak"]), "--against", bank["url"]])
    assert r.exit_code == 2 and "--table" in r.stderr

    url = bank["url"].replace("postgres@", "postgres:Pw-s3cr3t%21x@")
    r = runner.invoke(app, ["verify", str(bank["leak"]), "--against", url, "--table", "nope"])
    message = " ".join(r.stderr.split())  # rich wraps long lines
    assert r.exit_code == 1 and "expected an existing table" in message
    assert "holds a password" in message and "PGPASSWORD" in message
    assert "s3cr3t" not in r.stderr
