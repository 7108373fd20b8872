"""Histories as banks export them: Chinese or English headers (or none that help), long or wide,
GBK, UTF-8 or XLSX, every date format; read into the long form verify links on."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter
from hypothesis import given
from hypothesis import strategies as st

from leaktrace.errors import InputError
from leaktrace.synth.leaks import make_leak
from leaktrace.synth.world import World, make_world
from leaktrace.synth.writers import write_leak
from leaktrace.verify import verify
from leaktrace.verify.dates import to_date
from leaktrace.verify.history_input import prepare_history

# strftime forms of every date format the issue names (non-padded month and day included)
DATE_FORMATS = {
    "iso": "%Y-%m-%d",
    "slashes": "%Y/%-m/%-d",
    "digits": "%Y%m%d",
    "chinese": "%Y年%-m月%-d日",
    "timestamp": "%Y-%m-%d %H:%M:%S",
    "iso_t": "%Y-%m-%dT%H:%M:%S",
}
CHINESE_FIELDS = {"mobile": "手机号", "address": "地址", "email": "邮箱"}
ENGLISH_FIELDS = {"mobile": "phone", "address": "addr", "email": "E-mail"}
ORDER = ["customer_id", "field", "valid_from", "valid_to"]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return make_world(1500, seed=21, out=tmp_path_factory.mktemp("vhist") / "world")


@pytest.fixture(scope="module")
def truth(world: World) -> pl.DataFrame:
    """The world's history in the long form prepare_history writes (canonical field names)."""
    return world.history.collect().sort(ORDER)


def _write(df: pl.DataFrame, path: Path, how: str) -> Path:
    """``df`` (text) as a GBK or UTF-8 CSV, or an XLSX workbook."""
    if how == "xlsx":
        path = path.with_suffix(".xlsx")
        book = xlsxwriter.Workbook(str(path))
        sheet = book.add_worksheet("变更历史")
        sheet.write_row(0, 0, df.columns)
        for i, row in enumerate(df.iter_rows(), start=1):
            sheet.write_row(i, 0, row)
        book.close()
        return path
    path = path.with_suffix(".csv")
    path.write_bytes(df.write_csv().encode("gbk" if how == "gbk" else "utf-8"))
    return path


def _read(world: World, path: Path, tmp: Path, **kw: object) -> pl.DataFrame:
    master = world.path / "customers.parquet"  # type: ignore[operator]
    hi = prepare_history(path, tmp, master=master, customer="customer_id", **kw)  # type: ignore[arg-type]
    return pl.read_parquet(hi.path).sort(ORDER)


def _long(world: World, headers: tuple[str, ...], fields: dict[str, str], fmt: str) -> pl.DataFrame:
    h = world.history.collect()
    return h.select(
        pl.col("customer_id").cast(pl.String),
        pl.col("field").replace_strict(fields),
        "value",
        pl.col("valid_from").cast(pl.Datetime).dt.strftime(fmt),
        pl.col("valid_to").cast(pl.Datetime).dt.strftime(fmt),
    ).rename(dict(zip(h.columns, headers, strict=True)))


@pytest.mark.parametrize("fmt", list(DATE_FORMATS))
@pytest.mark.parametrize("how", ["gbk", "utf-8", "xlsx"])
def test_long_chinese(
    world: World, truth: pl.DataFrame, tmp_path: Path, how: str, fmt: str
) -> None:
    """客户号, 字段, 旧值, 起, 止 with 手机号/地址/邮箱: the world's history, exactly."""
    df = _long(world, ("客户号", "字段", "旧值", "起", "止"), CHINESE_FIELDS, DATE_FORMATS[fmt])
    got = _read(world, _write(df, tmp_path / "历史", how), tmp_path)
    assert got.equals(truth)


@pytest.mark.parametrize(
    ("headers", "fmt"),
    [
        (("customer_id", "field", "value", "valid_from", "valid_to"), "iso"),  # our own, as CSV
        (("cust_id", "field_name", "old_value", "start_date", "end_date"), "timestamp"),
        (("Customer ID", "Field", "Value", "Start", "End"), "digits"),
    ],
)
def test_long_english(
    world: World, truth: pl.DataFrame, tmp_path: Path, headers: tuple[str, ...], fmt: str
) -> None:
    df = _long(world, headers, ENGLISH_FIELDS, DATE_FORMATS[fmt])
    assert _read(world, _write(df, tmp_path / "history", "utf-8"), tmp_path).equals(truth)


def test_long_recognised_by_values(world: World, truth: pl.DataFrame, tmp_path: Path) -> None:
    """Headers that say nothing, columns shuffled, an operator column beside: customer ids are
    the ones the master holds, field names are field names, the earlier date is the start."""
    df = _long(world, ("甲", "乙", "丙", "丁", "戊"), CHINESE_FIELDS, DATE_FORMATS["slashes"])
    df = df.with_columns(己=pl.lit("柜员0012")).select("戊", "丙", "己", "甲", "丁", "乙")
    assert _read(world, _write(df, tmp_path / "h", "gbk"), tmp_path).equals(truth)


def _wide(
    world: World, headers: tuple[str, ...], fmt: str, fields: dict[str, str] = CHINESE_FIELDS
) -> pl.DataFrame:
    """One row per change: the value before and after it, and its date."""
    h = world.history.collect().sort(ORDER)
    cur = world.customers.collect().unpivot(
        ["mobile", "address", "email"], index="customer_id", variable_name="field"
    )
    after = pl.col("value").shift(-1).over("customer_id", "field")
    w = h.join(cur.rename({"value": "current"}), on=["customer_id", "field"]).with_columns(
        new=pl.coalesce(after, pl.col("current"))
    )
    out = w.select(
        pl.col("customer_id").cast(pl.String),
        pl.col("field").replace_strict(fields),
        "value",
        "new",
        pl.col("valid_to").cast(pl.Datetime).dt.strftime(fmt),
    )
    return out.rename(dict(zip(out.columns, headers, strict=True)))


@pytest.mark.parametrize(
    ("headers", "fields", "fmt", "how"),
    [
        (("客户号", "变更字段", "变更前", "变更后", "变更日期"), CHINESE_FIELDS, "chinese", "gbk"),
        (("客户号", "变更字段", "变更前", "变更后", "变更日期"), CHINESE_FIELDS, "slashes", "xlsx"),
        (("customer_id", "field", "old_value", "new_value", "changed_at"), ENGLISH_FIELDS, "iso_t", "utf-8"),
    ],
)  # fmt: skip
def test_wide(
    world: World,
    truth: pl.DataFrame,
    tmp_path: Path,
    headers: tuple[str, ...],
    fields: dict[str, str],
    fmt: str,
    how: str,
) -> None:
    """One row per change: each old value held up to its change, from the previous change
    (unknown before the first)."""
    df = _wide(world, headers, DATE_FORMATS[fmt], fields)
    got = _read(world, _write(df, tmp_path / "变更", how), tmp_path)
    first = pl.int_range(pl.len()).over("customer_id", "field", order_by="valid_to") == 0
    expected = truth.with_columns(
        valid_from=pl.when(first).then(None).otherwise(pl.col("valid_from"))
    ).sort(ORDER)
    assert got.equals(expected)


def test_wide_without_telling_headers(world: World, truth: pl.DataFrame, tmp_path: Path) -> None:
    df = _wide(world, ("甲", "乙", "丙", "丁", "戊"), DATE_FORMATS["iso"])
    got = _read(world, _write(df, tmp_path / "w", "utf-8"), tmp_path)
    assert got.height == truth.height  # one date column and two value columns: wide
    assert got.select("customer_id", "field", "value", "valid_to").equals(
        truth.select("customer_id", "field", "value", "valid_to")
    )


def test_unparsable_date_column(world: World, tmp_path: Path) -> None:
    df = _long(world, ("客户号", "字段", "旧值", "起", "止"), CHINESE_FIELDS, "%Y-%m-%d")
    df = df.with_columns(pl.lit("上月").alias("止"))
    with pytest.raises(InputError, match="column 止: expected dates such as 2020-06-30"):
        _read(world, _write(df, tmp_path / "h", "utf-8"), tmp_path)


def test_unsure_and_mapped(world: World, truth: pl.DataFrame, tmp_path: Path) -> None:
    """Three date columns and no header to tell from and to: a clear error naming the option;
    the mapping reads it; a mapping naming a missing column is a clear error."""
    df = _long(world, ("甲", "乙", "丙", "丁", "戊"), CHINESE_FIELDS, "%Y-%m-%d")
    df = df.with_columns(己=pl.lit("2025-07-01"))
    path = _write(df, tmp_path / "h", "utf-8")
    with pytest.raises(InputError) as e:
        _read(world, path, tmp_path)
    assert "--history-columns from=" in str(e.value) and "丁, 戊, 己" in str(e.value)
    mapping = {"customer": "甲", "field": "乙", "value": "丙", "from": "丁", "to": "戊"}
    assert _read(world, path, tmp_path, columns=mapping).equals(truth)
    with pytest.raises(InputError, match="--history-columns to=止.*columns: 甲, 乙"):
        _read(world, path, tmp_path, columns=mapping | {"to": "止"})


def test_verify_with_a_chinese_history(world: World, tmp_path: Path) -> None:
    """Verification with the GBK Chinese history gives what the world's own history gives."""
    leak = make_leak(world, "stale", seed=3, size=400)
    path = write_leak(leak, tmp_path / "leak.csv", "csv")
    df = _long(world, ("客户号", "字段", "旧值", "起", "止"), CHINESE_FIELDS, "%Y年%-m月%-d日")
    hist = _write(df, tmp_path / "历史", "gbk")
    master = world.path / "customers.parquet"  # type: ignore[operator]
    a = verify(path, master, hist)
    b = verify(path, master, world.path / "history.parquet")  # type: ignore[operator]
    assert [(f.field, f.current, f.historical) for f in a.fields] == [
        (f.field, f.current, f.historical) for f in b.fields
    ]
    assert sum(f.historical for f in a.fields) > 0
    assert a.snapshot == b.snapshot and a.verdict.label == b.verdict.label
    assert a.master_as_of == b.master_as_of and a.master_as_of_source == b.master_as_of_source


FORMS = st.sampled_from(list(DATE_FORMATS.values()) + ["%Y.%-m.%-d", "%Y年%m月%d日"])


@given(st.dates(dt.date(1900, 1, 1), dt.date(2099, 12, 31)), FORMS, st.times())
def test_dates_read_in_every_format(day: dt.date, form: str, at: dt.time) -> None:
    text = dt.datetime.combine(day, at).strftime(form)
    got = pl.DataFrame({"d": [text]}).select(to_date("d", pl.String)).item()
    assert got == day


@given(st.text(max_size=30))
def test_any_text_reads_as_a_date_or_null(text: str) -> None:
    got = pl.DataFrame({"d": [text]}).select(to_date("d", pl.String)).item()
    assert got is None or isinstance(got, dt.date)
    if got is not None:
        assert str(got.year) in text


def test_history_from_a_postgres_table(
    world: World, truth: pl.DataFrame, tmp_path: Path, postgres: object
) -> None:
    """A PostgreSQL history table with Chinese columns, dates as timestamps and an open end
    written 9999-12-31 (a version still in force: no end)."""
    import psycopg

    url = postgres.create_database("hist")  # type: ignore[attr-defined]
    h = world.history.collect()
    with psycopg.connect(url) as conn:
        conn.execute(
            "CREATE TABLE 变更历史 (客户号 bigint, 字段 text, 旧值 text, 起 timestamp, 止 timestamp)"
        )
        with conn.cursor().copy("COPY 变更历史 FROM STDIN") as copy:
            for cid, fld, value, frm, to in h.iter_rows():
                copy.write_row((cid, CHINESE_FIELDS[fld], value, frm, to))
            copy.write_row(
                (1, "手机号", "13800138000", dt.datetime(2025, 6, 1), dt.datetime(9999, 12, 31))
            )
    got = _read(world, url, tmp_path, table="变更历史")  # type: ignore[arg-type]
    still = got.filter(pl.col("valid_to").is_null())
    assert still.height == 1 and still["customer_id"].item() == 1
    assert got.filter(pl.col("valid_to").is_not_null()).equals(truth)


def test_rows_not_used_are_counted(world: World, truth: pl.DataFrame, tmp_path: Path) -> None:
    """Rows of other fields, unknown field names, foreign customer ids and unreadable dates
    are counted in the notes (places and counts, no values); the rest reads as before."""
    df = _long(world, ("客户号", "字段", "旧值", "起", "止"), CHINESE_FIELDS, "%Y-%m-%d")
    extra = pl.DataFrame(
        {
            "客户号": ["1", "2", "K0001", "3"],
            "字段": ["姓名", "积分等级", "手机号", "手机号"],
            "旧值": ["王芳", "A", "13800138000", "13900139000"],
            "起": ["2020-01-01"] * 4,
            "止": ["2021-01-01", "2021-01-01", "2021-01-01", "去年"],
        }
    )
    path = _write(pl.concat([df, extra]), tmp_path / "h", "utf-8")
    master = world.path / "customers.parquet"  # type: ignore[operator]
    hi = prepare_history(path, tmp_path, master=master, customer="customer_id")
    notes = " | ".join(map(str, hi.notes))
    assert "1 rows of fields whose earlier values linkage does not use" in notes
    assert "1 rows whose field name is not one leaktrace knows" in notes
    assert "1 rows whose customer id is not of the master's type" in notes
    assert "1 unreadable dates in column 止" in notes
    assert "13800138000" not in notes and "积分等级" not in notes
    got = (
        pl.read_parquet(hi.path).drop_nulls("customer_id").filter(pl.col("valid_to").is_not_null())
    )
    assert got.sort(ORDER).equals(truth)


@pytest.mark.parametrize(
    "text", ["2020063", "20201301", "2020-02-30", "12345678", "2020-6", "上月"]
)
def test_not_dates(text: str) -> None:
    """Customer numbers, impossible days and partial dates are not dates."""
    assert pl.DataFrame({"d": [text]}).select(to_date("d", pl.String)).item() is None
