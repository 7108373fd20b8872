"""The QUERY form of ``share --records``: a condition over the master's columns chooses the
customers; anything but a condition (a statement, a subquery, a file function) is refused before
DuckDB sees it, and no error quotes a value of the master."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leaktrace.errors import InputError
from leaktrace.synth.people import draw_people
from leaktrace.trace.records_query import customers_where, parse


@pytest.fixture(scope="module")
def master(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pl.DataFrame]:
    """A Parquet master with typed columns: dates as DATE, balances as DOUBLE."""
    rng = np.random.default_rng(11)
    people = draw_people(rng, 1_500, dt.date(2026, 6, 30))
    frame = people.select(
        pl.int_range(1, people.height + 1, dtype=pl.Int64).alias("客户号"),
        pl.col("name").alias("姓名"),
        pl.Series("网点", rng.choice(["0101", "0102", "0203"], people.height)),
        pl.Series("开户日期", rng.integers(0, 6_000, people.height)).cast(pl.Date)
        + pl.duration(days=10_000),
        pl.Series("余额", rng.gamma(2.0, 5_000.0, people.height)),
    )
    path = tmp_path_factory.mktemp("master") / "master.parquet"
    frame.write_parquet(path)
    return path, frame


def test_a_condition_chooses_the_rows_polars_chooses(master) -> None:
    path, frame = master
    got = customers_where(
        "网点 = '0101' AND 开户日期 < '2020-01-01' AND 余额 >= 1000",
        path,
        frame.columns,
        "客户号",
    )
    wanted = frame.filter(
        (pl.col("网点") == "0101")
        & (pl.col("开户日期") < dt.date(2020, 1, 1))
        & (pl.col("余额") >= 1000)
    )["客户号"]
    assert 0 < got.size < frame.height and got.tolist() == sorted(wanted)
    by_year = customers_where(
        "year(开户日期) BETWEEN 2005 AND 2010 OR lower(网点) IN ('0203')",
        path,
        frame.columns,
        "客户号",
    )
    wanted = frame.filter(
        pl.col("开户日期").dt.year().is_between(2005, 2010) | (pl.col("网点") == "0203")
    )["客户号"]
    assert by_year.tolist() == sorted(wanted)


@pytest.mark.parametrize(
    ("condition", "found"),
    [
        ("分行 = '0101'", "found no column 分行"),
        ("网点 = '0101' AND", "a syntax error at character"),
        ("网点 = '0101'; DELETE FROM master", "more than one statement"),
        ("客户号 IN (SELECT 1)", "subquery, which a condition may not use"),
        ("EXISTS (SELECT * FROM read_parquet('/etc/x'))", "which a condition may not use"),
        ("read_text('/etc/passwd') <> ''", "which a condition may not use"),
        ("getenv('HOME') = ''", "getenv, which a condition may not use"),
        ("m.网点 = '0101'", "a column named with a table"),
        ("   ", "found nothing"),
        ("网点 = '0101", "an unclosed quote"),
    ],
)
def test_what_is_no_condition_is_refused_before_it_runs(master, condition, found) -> None:
    path, frame = master
    with pytest.raises(InputError, match="--records") as e:
        parse(condition, frame.columns)
    assert found in str(e.value)


def test_errors_when_run_name_types_never_values(master) -> None:
    path, frame = master
    with pytest.raises(InputError, match="Cannot compare values of type DATE"):
        customers_where("开户日期 < 5", path, frame.columns, "客户号")
    with pytest.raises(InputError, match="ConversionException") as e:
        customers_where("CAST(姓名 AS INTEGER) > 0", path, frame.columns, "客户号")
    assert not any(name in str(e.value) for name in frame["姓名"].to_list())
    with pytest.raises(InputError, match="found none"):
        customers_where("网点 = '9999'", path, frame.columns, "客户号")


@settings(max_examples=200, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(list("网点客户号姓名 =<>()',;*-+/.%01aAsSeElLcCtTfFrRoOmM_")),
        max_size=40,
    )
)
def test_any_text_is_a_checked_condition_or_an_input_error(text: str) -> None:
    columns = ["网点", "客户号", "姓名"]
    try:
        sql = parse(text, columns)
    except InputError:
        return
    assert ";" not in sql and "select" not in sql.lower()
