"""Access logs read for insider ranking: Chinese and English headers, GBK and UTF-8 CSV, XLSX,
Parquet and PostgreSQL, actions and times in the writings banks use, bad rows counted."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import psycopg
import pytest
import xlsxwriter
from hypothesis import given, settings
from hypothesis import strategies as st
from postgres_server import PostgresServer

from leaktrace.errors import InputError
from leaktrace.synth.insiders import make_world
from leaktrace.trace.access_log import (
    ACTION_WORDS,
    EXPORT,
    PRINT,
    VIEW,
    parse_actions,
    parse_times,
    read_access_log,
    recognise,
)

CHINESE = {"employee": "员工号", "customer": "客户号", "action": "操作", "time": "操作时间",
           "employee_branch": "网点", "customer_branch": "开户机构"}  # fmt: skip
WRITTEN = {VIEW: "查询", PRINT: "打印", EXPORT: "导出"}


@pytest.fixture(scope="module")
def world_log() -> pl.DataFrame:
    world = make_world(np.random.default_rng(5), 60, 5000, 3000, customer_branch_column=True)
    return world.log.head(400)


def as_written(log: pl.DataFrame, headers: dict[str, str]) -> pl.DataFrame:
    """The log as a bank's system writes it: Chinese action words, times as text."""
    return log.select(
        pl.col("employee").alias(headers["employee"]),
        pl.col("customer").cast(pl.String).str.zfill(10).alias(headers["customer"]),
        pl.col("action").replace_strict(WRITTEN, return_dtype=pl.String).alias(headers["action"]),
        pl.col("time").dt.strftime("%Y-%m-%d %H:%M:%S").alias(headers["time"]),
        pl.col("employee_branch").alias(headers["employee_branch"]),
        pl.col("customer_branch").alias(headers["customer_branch"]),
    )


def same_accesses(read: pl.DataFrame, log: pl.DataFrame) -> None:
    cols = ["employee", "customer", "action", "time", "employee_branch", "customer_branch"]
    assert read.select(cols).equals(log.select(cols).with_columns(pl.col("time").dt.truncate("1s")))


def test_gbk_csv_with_chinese_headers(tmp_path: Path, world_log: pl.DataFrame) -> None:
    path = tmp_path / "访问日志.csv"
    path.write_bytes(as_written(world_log, CHINESE).write_csv().encode("gbk"))
    log = read_access_log(path, tmp_path)
    assert log.columns == CHINESE
    same_accesses(log.frame, world_log)
    assert log.problems == []


def test_utf8_csv_with_english_headers_and_own_words(tmp_path: Path, world_log) -> None:
    headers = {"employee": "Operator ID", "customer": "cust_no", "action": "Operation",
               "time": "Event Time", "employee_branch": "Branch",
               "customer_branch": "Customer Branch"}  # fmt: skip
    written = as_written(world_log, headers).with_columns(
        pl.col("Operation").replace({"查询": "Customer lookup", "导出": "EXPORT", "打印": "Print"}),
        pl.col("Event Time").str.replace(" ", "T"),
    )
    path = tmp_path / "access.csv"
    path.write_text(written.write_csv(), encoding="utf-8")
    log = read_access_log(path, tmp_path)
    assert log.columns == headers
    same_accesses(log.frame, world_log)


def test_xlsx_and_parquet(tmp_path: Path, world_log) -> None:
    written = as_written(world_log, CHINESE)
    book = xlsxwriter.Workbook(str(tmp_path / "日志.xlsx"))
    sheet = book.add_worksheet("访问记录")
    sheet.write_row(0, 0, written.columns)
    for i, row in enumerate(written.with_columns(pl.col("客户号").cast(pl.Int64)).rows(), 1):
        sheet.write_row(i, 0, row)
    book.close()
    same_accesses(read_access_log(tmp_path / "日志.xlsx", tmp_path).frame, world_log)
    typed = world_log.rename({"employee": "工号", "customer": "客户编号", "time": "时间"})
    typed = typed.with_columns(pl.col("action").replace_strict(WRITTEN, return_dtype=pl.String))
    typed.write_parquet(tmp_path / "log.parquet")
    log = read_access_log(tmp_path / "log.parquet", tmp_path)
    assert log.frame["time"].to_list() == world_log["time"].to_list()
    assert log.frame["customer"].to_list() == world_log["customer"].to_list()


def test_postgres_table(postgres: PostgresServer, tmp_path: Path, world_log) -> None:
    url = postgres.create_database("access")
    with psycopg.connect(url) as conn:
        conn.execute(
            "CREATE TABLE 访问日志 (工号 text, 客户号 bigint, 操作类型 text, "
            "访问时间 timestamptz, 机构号 text)"
        )
        with conn.cursor().copy("COPY 访问日志 FROM STDIN") as copy:
            for r in world_log.iter_rows(named=True):
                copy.write_row((r["employee"], r["customer"], WRITTEN[r["action"]],
                                f"{r['time']:%Y-%m-%d %H:%M:%S}+08", r["employee_branch"]))  # fmt: skip
    log = read_access_log(url, tmp_path, table="访问日志")
    assert log.columns["employee_branch"] == "机构号"
    assert log.frame["time"].to_list() == world_log["time"].dt.truncate("1s").to_list()
    assert log.frame["action"].to_list() == world_log["action"].to_list()


def test_bad_rows_are_counted_not_fatal(tmp_path: Path, world_log) -> None:
    written = as_written(world_log, CHINESE).head(10).with_row_index("i")
    written = written.with_columns(
        pl.when(pl.col("i") == 2).then(pl.lit("修改")).otherwise(pl.col("操作")).alias("操作"),
        pl.when(pl.col("i").is_in([3, 4])).then(pl.lit("昨天下午")).otherwise(pl.col("操作时间"))
        .alias("操作时间"),
        pl.when(pl.col("i") == 5).then(pl.lit("")).otherwise(pl.col("员工号")).alias("员工号"),
        pl.when(pl.col("i") == 6).then(pl.lit("K-0012")).otherwise(pl.col("客户号"))
        .alias("客户号"),
    ).drop("i")  # fmt: skip
    path = tmp_path / "log.csv"
    path.write_bytes(written.write_csv().encode("gbk"))
    log = read_access_log(path, tmp_path)
    assert log.frame.height == 8  # no employee and no customer number: skipped
    by_kind = {p.kind: p for p in log.problems}
    assert by_kind["action"].place == f"{path} row 3 column 操作"
    assert by_kind["action"].rows_skipped == 0
    assert by_kind["time"].place == f"{path} row 4 column 操作时间"
    assert "2 such rows" in by_kind["time"].expected.english()
    assert by_kind["employee"].rows_skipped == 1
    assert by_kind["customer"].rows_skipped == 1
    assert log.frame["action"].null_count() == 0 and log.frame["time"].null_count() == 2
    for p in log.problems:
        assert "修改" not in str(p.expected) and "K-0012" not in str(p.expected)


def test_missing_column_names_the_columns_and_the_option(tmp_path: Path, world_log) -> None:
    written = as_written(world_log, CHINESE).rename({"操作": "备注"})
    path = tmp_path / "log.csv"
    path.write_text(written.write_csv(), encoding="utf-8")
    with pytest.raises(InputError) as e:
        read_access_log(path, tmp_path)
    text = str(e.value)
    assert "action" in text and "备注" in text and "--log-columns" in text
    log = read_access_log(path, tmp_path, columns={"action": "备注"})
    assert log.frame["action"].to_list() == world_log["action"].to_list()


def test_recognition_by_words_in_headers() -> None:
    cols = ["序号", "操作员工号", "客户编号", "客户操作类型", "记录生成时间", "客户开户网点"]
    found = recognise(cols, "log.csv")
    assert found == {"employee": "操作员工号", "customer": "客户编号", "action": "客户操作类型",
                     "time": "记录生成时间", "customer_branch": "客户开户网点"}  # fmt: skip


def test_a_bad_mapping_is_an_input_error() -> None:
    with pytest.raises(InputError, match="--log-columns"):
        recognise(["a", "b"], "log.csv", {"employee": "c"})
    with pytest.raises(InputError, match="one of the roles"):
        recognise(["a", "b"], "log.csv", {"boss": "a"})


EXPORT_WORDS, PRINT_WORDS, VIEW_WORDS = (words for _, words in ACTION_WORDS)
OTHER = st.text(st.characters(codec="gbk", exclude_characters="查导下打浏检访阅调提备"), max_size=6)


@settings(deadline=None)
@given(OTHER, st.sampled_from(EXPORT_WORDS + PRINT_WORDS + VIEW_WORDS), OTHER, st.booleans())
def test_actions_name_the_strongest_word(before: str, word: str, after: str, upper: bool) -> None:
    value = before + (word.upper() if upper else word) + after
    expected = EXPORT if word in EXPORT_WORDS else PRINT if word in PRINT_WORDS else VIEW
    got = parse_actions(pl.Series([value, value + "导出"])).to_list()
    if any(w in value.lower() for w in EXPORT_WORDS):
        expected = EXPORT
    elif expected == VIEW and any(w in value.lower() for w in PRINT_WORDS):
        expected = PRINT
    assert got == [expected, EXPORT]


@settings(deadline=None)
@given(st.text(st.sampled_from("修改新增删除登录审批复核 abcfgjkmnuwxyz0123"), max_size=12))
def test_other_actions_are_unknown(value: str) -> None:
    assert parse_actions(pl.Series([value])).to_list() == [None]


TIME_WRITINGS = (
    "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M:%S", "%Y%m%d%H%M%S", "%Y年%m月%d日 %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S", "%Y.%m.%d %H:%M:%S",
)  # fmt: skip


@settings(deadline=None)
@given(
    st.datetimes(dt.datetime(1990, 1, 1), dt.datetime(2099, 12, 31)).map(
        lambda t: t.replace(microsecond=0)
    ),
    st.sampled_from(TIME_WRITINGS),
)
def test_times_round_trip(when: dt.datetime, writing: str) -> None:
    assert parse_times(pl.Series([when.strftime(writing)])).to_list() == [when]
    day = when.strftime("%Y-%m-%d")
    assert parse_times(pl.Series([day])).to_list() == [dt.datetime.fromisoformat(day)]


@settings(deadline=None)
@given(st.text(max_size=30))
def test_any_text_is_a_time_or_null(text: str) -> None:
    got = parse_times(pl.Series([text], dtype=pl.String)).to_list()[0]
    assert got is None or 1990 <= got.year < 2100


def test_a_log_without_one_usable_row_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text("工号,客户号,操作,时间\n,123,查询,2025-01-02\n100001,未知,查询,2025-01-02\n")
    with pytest.raises(InputError, match="at least one access"):
        read_access_log(path, tmp_path)
