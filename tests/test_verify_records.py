"""Per-record results of ``verify`` (``--records``): one row per leak record agreeing with the
verdict's counts, written masked as CSV/XLSX/Parquet, and the HTML lists of affected customers
and of the records that are not ours."""

from __future__ import annotations

import dataclasses
import io
import re
import zipfile
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from python_calamine import CalamineWorkbook
from typer.testing import CliRunner

from leaktrace import i18n
from leaktrace.cli import app
from leaktrace.errors import LeaktraceError
from leaktrace.pii import mask
from leaktrace.report.records_file import SUFFIXES, check_suffix, readable, write_records
from leaktrace.report.records_html import FOLDED, SHOWN, customers_section, not_ours_section
from leaktrace.synth.leaks import Leak, make_leak
from leaktrace.synth.world import World, make_world
from leaktrace.synth.writers import write_leak
from leaktrace.verify import verify
from leaktrace.verify.records import record_table, status_column
from leaktrace.verify.result import VerifyReport

# Identifiers whose full value must never reach a masked output.
IDENTIFIERS = ("resident_id", "mobile", "bank_card")
FULL = re.compile(r"(?<!\d)(\d{17}[\dXx]|1[3-9]\d{9}|\d{16,19})(?!\d)")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return make_world(3000, seed=8, out=tmp_path_factory.mktemp("records") / "world")


@pytest.fixture(scope="module")
def stale(world: World) -> Leak:
    """Our customers' values of three years ago, resold (reformatted), padded with others'."""
    return make_leak(world, "stale", seed=8, size=1.0, pad=0.3, reformat=True)


@pytest.fixture(scope="module")
def carded(world: World) -> Leak:
    """A share with resident IDs, mobiles and card numbers, padded with another bank's rows."""
    return make_leak(world, "padded", seed=1, size=0.5)


@pytest.fixture(scope="module")
def verified(
    world: World, stale: Leak, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, VerifyReport]:
    path = write_leak(stale, tmp_path_factory.mktemp("leak") / "leak.csv", "csv")
    return path, verify(path, world.path, records=True)


def _full_values(table: pl.DataFrame) -> set[str]:
    """The leak's identifiers that the leak itself did not mask."""
    return {
        v
        for f in IDENTIFIERS
        if f in table.columns
        for v in table[f].drop_nulls().to_list()
        if "*" not in v
    }


def _agrees_with_report(report: VerifyReport) -> None:
    table = report.record_table
    assert table is not None and report.linkage is not None
    assert table.height == report.records
    assert table["rid"].to_list() == list(range(report.records))
    linked = table.filter(pl.col("customer").is_not_null())
    assert linked.height == report.linkage.linked
    assert (table["link"] == "exact").sum() == report.linkage.exact
    assert set(linked["customer"].to_list()) == set(report.customers)
    exact = linked.filter(pl.col("link") == "exact")
    assert exact["exact_on"].list.len().min() >= 1
    for fa in report.fields:
        counts = dict(linked[status_column(fa.field)].value_counts().iter_rows())
        for status in ("current", "historical", "disagrees", "unknown", "missing"):
            assert counts.get(status, 0) == getattr(fa, status), (fa.field, status)
    unlinked = table.filter(pl.col("customer").is_null())
    for fa in report.fields:
        assert unlinked[status_column(fa.field)].null_count() == unlinked.height


def test_one_row_per_record_agreeing_with_the_verdict(verified, stale: Leak) -> None:
    path, report = verified
    _agrees_with_report(report)
    table = report.record_table
    assert table is not None
    assert "record_table" not in report.to_dict()
    # the place: this file, data rows numbered from 1 in the file's order
    assert set(table["source"].to_list()) == {str(path)}
    assert table["row"].to_list() == list(range(1, report.records + 1))
    # the links are the true customers of the stale rows, none for the padding
    truth = stale.truth.customer_ids
    linked = table.filter(pl.col("customer").is_not_null())
    right = sum(truth[rid] == c for rid, c in linked.select("rid", "customer").iter_rows())
    assert right >= 0.99 * linked.height
    assert all(truth[r] is None for r in table.filter(pl.col("customer").is_null())["rid"])
    # earlier values carry the dates they held; current ones since when
    earlier = table.filter(pl.col("mobile_status") == "historical")
    assert earlier.height > 0
    assert (earlier["mobile_from"] <= earlier["mobile_to"]).all()
    current = table.filter(pl.col("mobile_status") == "current")
    assert current["mobile_to"].null_count() == current.height


def test_spark_gives_the_same_table(verified, world: World) -> None:
    path, report = verified
    spark = verify(path, world.path, engine="spark", records=True)
    assert spark.record_table is not None and report.record_table is not None
    _agrees_with_report(spark)
    same = ["weight", "prob"]  # floating point summed in another order
    assert spark.record_table.drop(same).equals(report.record_table.drop(same))


def test_not_asked_costs_nothing(world: World, carded: Leak, tmp_path: Path) -> None:
    report = verify(write_leak(carded, tmp_path / "leak.csv", "csv"), world.path)
    assert report.record_table is None
    with_table = verify(
        write_leak(carded, tmp_path / "leak.jsonl", "jsonl"), world.path, records=True
    )
    _agrees_with_report(with_table)
    assert with_table.linkage is not None and report.linkage is not None
    assert with_table.linkage.linked == report.linkage.linked
    assert with_table.record_table is not None
    assert "bank_card" in with_table.record_table.columns


@pytest.mark.parametrize("fmt", ["xlsx", "mysql", "forum"])
def test_places_of_other_shapes(world: World, stale: Leak, tmp_path: Path, fmt: str) -> None:
    """A workbook's sheet, a dump's table, a post's lines: each record says where it was."""
    path = write_leak(stale, tmp_path / f"leak.{fmt}", fmt)
    report = verify(path, world.path, records=True)
    _agrees_with_report(report)
    table = report.record_table
    assert table is not None
    assert table["source"].null_count() == 0 and table["row"].null_count() == 0
    assert table["row"].is_sorted() and table["row"].min() >= 1
    if fmt == "mysql":
        assert set(table["table"].to_list()) == {"customer_info"}
    if fmt == "xlsx":
        assert all("Sheet1" in t for t in table["table"].to_list())


def test_without_master_every_record_unlinked(stale: Leak, tmp_path: Path) -> None:
    report = verify(write_leak(stale, tmp_path / "leak.csv", "csv"), records=True)
    table = report.record_table
    assert table is not None and table.height == report.records
    assert table["customer"].null_count() == table.height


def _file_text(path: Path) -> str:
    """Everything a file holds as text: a workbook's members unzipped, Parquet's values."""
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as z:
            return "".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())
    if path.suffix == ".parquet":
        return pl.read_parquet(path).write_csv()
    return path.read_bytes().decode("utf-8")


def _read(path: Path) -> pl.DataFrame:
    if path.suffix == ".xlsx":
        rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
        cells = [[None if c == "" else c for c in row] for row in rows[1:]]  # blank cells
        return pl.DataFrame(cells, schema=[str(h) for h in rows[0]], orient="row")
    if path.suffix == ".parquet":
        return pl.read_parquet(path)
    return pl.read_csv(path, infer_schema=False)


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_written_masked_in_chinese(verified, tmp_path: Path, suffix: str) -> None:
    _, report = verified
    table = report.record_table
    assert table is not None
    out = tmp_path / "out" / f"逐条结果{suffix}"
    with i18n.using("zh"):
        write_records(table, out)
    assert not list(out.parent.glob(".*tmp"))
    if suffix == ".csv":
        assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    text = _file_text(out)
    assert not FULL.search(text)
    for v in _full_values(table):
        assert v not in text
    back = _read(out)
    assert back.height == report.records
    assert back.columns[:6] == [
        "泄露记录序号",
        "来源文件",
        "数据表或工作表",
        "行号",
        "客户号",
        "关联方式",
    ]
    assert {"姓名", "姓名状态", "手机号有效起始日", "居民身份证号"} <= set(back.columns)
    words = set(back["手机号状态"].drop_nulls().cast(pl.String).to_list())
    assert words == {"现用值", "曾用值"}
    links = back["关联方式"].cast(pl.String).to_list()
    assert links.count("未关联") == report.records - report.linkage.linked
    masked = [mask("resident_id", v) for v in table["resident_id"].to_list()]
    assert back["居民身份证号"].cast(pl.String).to_list() == masked


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_unmasked_gives_the_leak_values(verified, tmp_path: Path, suffix: str) -> None:
    _, report = verified
    table = report.record_table
    assert table is not None
    out = write_records(table, tmp_path / f"records{suffix}", unmasked=True)
    back = _read(out)
    assert back.columns[0] == "Leak record no."
    assert back["Resident ID"].cast(pl.String).to_list() == table["resident_id"].to_list()
    assert back["Mobile"].cast(pl.String).to_list() == table["mobile"].to_list()


def test_bad_suffix_is_named(verified, tmp_path: Path) -> None:
    _, report = verified
    with pytest.raises(ValueError) as e:
        write_records(report.record_table, tmp_path / "records.txt")
    assert ".txt" in str(e.value) and ".csv, .xlsx, .parquet" in str(e.value)
    assert not list(tmp_path.iterdir())
    taken = tmp_path / "records.csv"
    taken.mkdir()  # a folder where the file should go
    with pytest.raises(LeaktraceError, match="records.csv: the per-record file could not be"):
        write_records(report.record_table, taken)
    assert [p.name for p in tmp_path.iterdir()] == ["records.csv"]


@given(st.text(st.characters(codec="utf-8", exclude_characters="/\\\x00."), max_size=8))
def test_any_other_suffix_is_refused(ext: str) -> None:
    path = Path(f"out.{ext}")
    if path.suffix.lower() in SUFFIXES:
        assert check_suffix(path) == path.suffix.lower()[1:]
    else:
        with pytest.raises(ValueError) as e:
            check_suffix(path)
        named = repr(path.suffix) if path.suffix else "no suffix"
        assert named in str(e.value) and ".csv, .xlsx, .parquet" in str(e.value)


runner = CliRunner()


def test_cli_writes_the_records_file(verified, world: World, tmp_path: Path) -> None:
    path, report = verified
    out = tmp_path / "records.csv"
    base = ["verify", str(path), "--against", str(world.path), "--json"]
    r = runner.invoke(app, [*base, "--records", str(out)])
    assert r.exit_code == 0, r.output
    back = pl.read_csv(out, infer_schema=False)
    assert back.height == report.records
    assert not FULL.search(out.read_text(encoding="utf-8-sig"))
    assert "personal data" not in r.stderr

    plain = tmp_path / "plain.xlsx"
    r = runner.invoke(app, [*base, "--records", str(plain), "--unmasked"])
    assert r.exit_code == 0, r.output
    assert "--unmasked" in r.stderr and "personal data" in r.stderr
    assert _read(plain)["Resident ID"].to_list() == report.record_table["resident_id"].to_list()


def test_cli_usage_errors(verified, world: World, tmp_path: Path) -> None:
    path, _ = verified
    base = ["verify", str(path), "--against", str(world.path)]
    r = runner.invoke(app, [*base, "--records", str(tmp_path / "records.txt")])
    assert r.exit_code == 2
    assert "'.txt'" in r.stderr and ".csv, .xlsx, .parquet" in r.stderr
    r = runner.invoke(app, [*base, "--unmasked"])
    assert r.exit_code == 2 and "--records" in r.stderr
    assert not list(tmp_path.iterdir())


def test_html_sections_list_masked_customers(verified) -> None:
    _, report = verified
    table = report.record_table
    assert table is not None
    for lang, title in (("zh", "受影响的客户"), ("en", "Affected customers")):
        with i18n.using(lang):
            page = customers_section(report) + not_ours_section(report)
        assert "id=customers" in page and "id=not-ours" in page and title in page
        assert not FULL.search(page)
        for v in _full_values(table):
            assert v not in page
    page = customers_section(report)
    for customer in report.customers:
        assert f"<td>{customer}</td>" in page
    rest = not_ours_section(report)
    unlinked = table.filter(pl.col("customer").is_null())
    assert rest.count("<tr>") == unlinked.height + 1
    assert "<details>" not in page + rest
    # without the per-record table, the matches still name the customers and the records
    thin = dataclasses.replace(report, record_table=None)
    assert customers_section(thin).count("<tr>") == len(report.customers) + 1
    assert not_ours_section(thin).count("<tr>") == unlinked.height + 1


def _large(world: World, linked: int, unlinked: int) -> VerifyReport:
    """A report over a leak of ``linked + unlinked`` of the world's customers, the first
    ``linked`` linked exactly on the resident ID, built without the linkage."""
    people = world.customers.collect().head(linked + unlinked)
    leak = people.select(
        pl.int_range(pl.len(), dtype=pl.Int64).alias("rid"),
        pl.col("name").alias("person_name"),
        "resident_id",
        "mobile",
    )
    places = leak.select(
        "rid", source=pl.lit("big.csv"), table=pl.lit("big"), row=pl.col("rid") + 1
    )
    matches = people.head(linked).select(
        pl.int_range(pl.len(), dtype=pl.Int64).alias("rid"),
        pl.col("customer_id").alias("mid"),
        weight=pl.lit(40.0),
        prob=pl.lit(1.0),
        method=pl.lit("exact"),
        g_resident_id=pl.lit(5),
    )
    statuses = pl.concat(
        matches.select(
            "rid",
            field=pl.lit(f),
            status=pl.lit("current"),
            lo=pl.lit(None, pl.Date),
            hi=pl.lit(None, pl.Date),
        )
        for f in ("person_name", "resident_id", "mobile")
    )
    table = record_table(
        leak,
        places,
        matches,
        statuses,
        ["person_name", "resident_id", "mobile"],
        {"resident_id": 5},
    )
    report = VerifyReport("big.csv", "world", "duckdb", leak.height, None, [])  # type: ignore[arg-type]
    report.customers = sorted(matches["mid"].to_list())
    report.record_table = table
    return report


def test_large_lists_are_capped(world: World) -> None:
    report = _large(world, linked=SHOWN + FOLDED + 500, unlinked=SHOWN + 30)
    customers = customers_section(report)
    head, _, folded = customers.partition("<details>")
    assert head.count("<tr>") == SHOWN + 1
    assert folded.count("<tr>") == FOLDED + 1
    assert "500 more customers" in customers and "--records" in customers
    rest = not_ours_section(report)
    head, _, folded = rest.partition("<details>")
    assert head.count("<tr>") == SHOWN + 1 and folded.count("<tr>") == 30 + 1
    assert "more records" not in rest
    assert not FULL.search(customers + rest)
    with i18n.using("zh"):
        assert "另有 500 名客户" in customers_section(report)


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_table_counts_hold_for_any_links(world: World, data: st.DataObject) -> None:
    people = world.customers.collect().head(60)
    n = data.draw(st.integers(1, 60))
    leak = people.head(n).select(
        pl.int_range(pl.len(), dtype=pl.Int64).alias("rid"), "resident_id", "mobile"
    )
    rids = sorted(data.draw(st.sets(st.integers(0, n - 1))))
    methods = [data.draw(st.sampled_from(["exact", "probabilistic"])) for _ in rids]
    levels = [data.draw(st.integers(-1, 5)) for _ in rids]
    matches = pl.DataFrame(
        {
            "rid": rids,
            "mid": [1000 + r for r in rids],
            "weight": [10.0] * len(rids),
            "prob": [0.99] * len(rids),
            "method": methods,
            "g_resident_id": levels,
            "g_mobile": [
                3 if m == "exact" and g != 5 else 0 for m, g in zip(methods, levels, strict=True)
            ],
        },
        schema_overrides={"rid": pl.Int64},
    )
    words = ["current", "historical", "disagrees", "unknown", "missing"]
    statuses = pl.DataFrame(
        {
            "rid": rids,
            "field": ["mobile"] * len(rids),
            "status": [data.draw(st.sampled_from(words)) for _ in rids],
            "lo": [None] * len(rids),
            "hi": [None] * len(rids),
        },
        schema={
            "rid": pl.Int64,
            "field": pl.String,
            "status": pl.String,
            "lo": pl.Date,
            "hi": pl.Date,
        },
    )
    places = leak.select("rid", source=pl.lit("x.csv"), table=pl.lit("x"), row=pl.col("rid") + 1)
    table = record_table(
        leak, places, matches, statuses, ["mobile"], {"resident_id": 5, "mobile": 3}
    )
    assert table.height == n and table["customer"].is_not_null().sum() == len(rids)
    got = table.filter(pl.col("customer").is_not_null())["mobile_status"].to_list()
    assert sorted(got) == sorted(statuses["status"].to_list())
    # the resident ID is in the leak but not compared: unknown to us on every linked record
    assert set(table.filter(pl.col("customer").is_not_null())["resident_id_status"]) <= {"unknown"}
    exact = table.filter(pl.col("link") == "exact")
    assert all(len(on) >= 1 for on in exact["exact_on"].to_list())
    assert (
        table.filter(pl.col("link") != "exact")["exact_on"].null_count() == len(rids) - exact.height
    )
    out = io.StringIO(readable(table).write_csv())
    assert not FULL.search(out.getvalue())


def test_a_customer_with_many_records_shows_the_first(world: World) -> None:
    """Thirty copies of one customer's record: twenty numbers listed, and how many in all."""
    person = world.customers.collect().head(1)
    leak = pl.concat([person] * 30).select(
        pl.int_range(pl.len(), dtype=pl.Int64).alias("rid"), "resident_id", "mobile"
    )
    places = leak.select("rid", source=pl.lit("dup.csv"), table=pl.lit("dup"), row=pl.col("rid"))
    matches = leak.select(
        "rid",
        mid=pl.lit(person["customer_id"][0]),
        weight=pl.lit(40.0),
        prob=pl.lit(1.0),
        method=pl.lit("exact"),
        g_resident_id=pl.lit(5),
    )
    report = VerifyReport("dup.csv", "world", "duckdb", 30, None, [])  # type: ignore[arg-type]
    report.record_table = record_table(leak, places, matches, None, [], {"resident_id": 5})
    page = customers_section(report)
    assert page.count("<tr>") == 2
    assert ", ".join(str(i) for i in range(1, 21)) + " … (30 in all)" in page
    assert "(21" not in page and ", 21" not in page


def test_xlsx_goes_on_in_further_sheets(verified, tmp_path: Path, monkeypatch) -> None:
    """Past a sheet's rows (1,048,575 in Excel; 50 here) the records go on in the next sheet."""
    from leaktrace.report import records_file

    monkeypatch.setattr(records_file, "XLSX_ROWS", 50)
    _, report = verified
    out = write_records(report.record_table, tmp_path / "records.xlsx")
    book = CalamineWorkbook.from_path(str(out))
    sheets = [book.get_sheet_by_name(n).to_python() for n in book.sheet_names]
    assert len(sheets) == -(-report.records // 50)
    assert all(s[0][0] == "Leak record no." for s in sheets)
    numbers = [int(row[0]) for s in sheets for row in s[1:]]
    assert numbers == list(range(1, report.records + 1))


def test_formulas_stay_text(tmp_path: Path) -> None:
    """A crafted value or file name is never run by the spreadsheet that opens the file."""
    leak = pl.DataFrame(
        {"rid": [0, 1], "address": ['=HYPERLINK("http://x.example/","点此")', "北京市朝阳区"]},
        schema_overrides={"rid": pl.Int64},
    )
    places = leak.select("rid", source=pl.lit("=cmd|' /C calc'!A0.csv"), table=None, row=1)
    table = record_table(leak, places.with_columns(pl.col("table").cast(pl.String)))
    csv = write_records(table, tmp_path / "r.csv", unmasked=True)
    back = pl.read_csv(csv, infer_schema=False)
    assert back["Address"].to_list() == ["'" + leak["address"][0], "北京市朝阳区"]
    assert set(back["Source file"].to_list()) == {"'=cmd|' /C calc'!A0.csv"}
    xlsx = write_records(table, tmp_path / "r.xlsx", unmasked=True)
    with zipfile.ZipFile(xlsx) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet and "HYPERLINK" in sheet
    assert _read(xlsx)["Address"][0] == leak["address"][0]
