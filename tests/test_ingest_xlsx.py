"""Spreadsheets: every sheet a table, numbers rendered without '.0' or exponents, damage reported."""

from __future__ import annotations

import datetime as dt

import pytest
import xlsxwriter

from leaktrace.errors import InputError
from leaktrace.ingest import open_source
from leaktrace.ingest.xlsx_reader import cell_text


def write_book(path, sheets: dict[str, list[list]]) -> None:
    book = xlsxwriter.Workbook(str(path))
    for name, rows in sheets.items():
        sheet = book.add_worksheet(name)
        for i, row in enumerate(rows):
            sheet.write_row(i, 0, row)
    book.close()


def test_cell_text():
    assert cell_text(110105199001011234.0) == "110105199001011230"  # a double holds 17 digits
    assert cell_text(1.10105199001012e17) == "110105199001012000"  # as Excel stores it
    assert cell_text(13800138000.0) == "13800138000"
    assert cell_text(1e-7) == "0.0000001"
    assert cell_text(12.5) == "12.5"
    assert cell_text(True) == "TRUE"
    assert cell_text(dt.date(2020, 1, 2)) == "2020-01-02"


def test_sheets_and_numeric_ids(tmp_path, ingest_people):
    people = ingest_people[:30]
    rows = [[r[0], int(r[1]) if r[1].isdigit() else r[1], int(r[2]), r[3]] for r in people]
    write_book(
        tmp_path / "客户.xlsx",
        {
            "贷款客户": [["姓名", "身份证号", "手机", "地址"], *rows],
            "空表": [],
            "备注": [["仅供内部使用"]],
        },
    )
    source = open_source(tmp_path / "客户.xlsx")
    assert (source.format, source.encoding, source.kind) == ("xlsx", None, "table")
    batches = {b.table: b for b in source.batches()}
    assert set(batches) == {"客户:贷款客户", "客户:备注"}
    data = batches["客户:贷款客户"].data.to_pydict()
    assert data["姓名"] == [r[0] for r in people]
    assert data["手机"] == [r[2] for r in people]
    numeric = [r[1] for r in people if r[1].isdigit()]
    # 18-digit numbers were rounded by Excel to 15 significant digits: shown whole, flagged
    assert all(len(v) == 18 and "." not in v and "e" not in v for v in data["身份证号"])
    got = [int(v) for v in data["身份证号"] if v.isdigit()]
    assert len(got) == len(numeric)
    assert all(abs(g - int(n)) <= 1000 for g, n in zip(got, numeric, strict=True))
    assert any(p.place == "客户.xlsx sheet 贷款客户 column 身份证号" for p in source.problems)
    assert batches["客户:备注"].data.to_pydict() == {"col_1": ["仅供内部使用"]}


def test_headerless_sheet(tmp_path, ingest_people):
    write_book(tmp_path / "h.xlsx", {"Sheet1": [r[:3] for r in ingest_people[:5]]})
    source = open_source(tmp_path / "h.xlsx")
    (batch,) = list(source.batches())
    assert batch.data.schema.names == ["col_1", "col_2", "col_3"]
    assert batch.data.num_rows == 5
    assert source.has_header is False


def test_corrupt_and_truncated_workbook(ingest_header, tmp_path, ingest_people):
    path = tmp_path / "cut.xlsx"
    write_book(path, {"Sheet1": [ingest_header, *ingest_people]})
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError) as err:
        list(open_source(path).batches())
    assert err.value.place == "cut.xlsx"
    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    with pytest.raises(InputError, match="junk.xlsx"):
        list(open_source(junk).batches())


def test_zip_archive_is_refused(tmp_path):
    import zipfile

    path = tmp_path / "pack.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("a.csv", "x,y\n1,2\n")
    with pytest.raises(InputError, match="zip archive"):
        open_source(path)


def sheet_tables(path) -> tuple[dict[str, dict[str, list[str]]], list]:
    """Each sheet's rows as {column: values}, and the problems met."""
    source = open_source(path)
    tables: dict[str, dict[str, list[str]]] = {}
    for batch in source.batches():
        table = tables.setdefault(batch.table, {})
        for column, values in batch.data.to_pydict().items():
            table.setdefault(column, []).extend(values)
    return tables, source.problems


def test_header_below_a_merged_title_and_blank_rows(tmp_path, ingest_header, ingest_people):
    people = ingest_people[:40]
    book = xlsxwriter.Workbook(str(tmp_path / "客户信息.xlsx"))
    sheet = book.add_worksheet("Sheet1")
    sheet.merge_range(0, 0, 0, len(ingest_header) - 1, "客户信息表")  # title over the columns
    sheet.write_row(1, 0, ["导出日期：2024年6月"])  # a second title line
    sheet.write_row(4, 0, ingest_header)  # rows 3 and 4 blank
    for i, row in enumerate(people):
        sheet.write_row(5 + i, 0, row)
    book.close()
    tables, problems = sheet_tables(tmp_path / "客户信息.xlsx")
    data = tables["客户信息:Sheet1"]
    assert list(data) == ingest_header
    assert data["身份证号"] == [r[1] for r in people]  # no header cell, no title among values
    assert data["姓名"] == [r[0] for r in people]
    assert [(p.place, p.rows_skipped) for p in problems] == [
        ("客户信息.xlsx sheet Sheet1 rows 1-2", 0)
    ]
    assert "title rows" in str(problems[0].expected)


def test_sheets_of_different_layouts_each_find_their_header(tmp_path, ingest_header, ingest_people):
    people = ingest_people[:10]
    write_book(
        tmp_path / "导出.xlsx",
        {
            "plain": [ingest_header, *people],
            "titled": [["贷款客户名单"], [], ingest_header[:3], *[r[:3] for r in people]],
            "blank_top": [[], [], [], *[r[:4] for r in people]],  # no header at all
            "late_header": [
                [],
                [],
                [],
                [],
                [],
                [],
                [],
                ingest_header[1:],
                *[r[1:] for r in people],
            ],
        },
    )
    tables, problems = sheet_tables(tmp_path / "导出.xlsx")
    assert tables["导出:plain"]["手机"] == [r[2] for r in people]
    assert list(tables["导出:titled"]) == ingest_header[:3]
    assert tables["导出:titled"]["姓名"] == [r[0] for r in people]
    # blank rows above headerless data are no records; the data keep col_N names
    assert tables["导出:blank_top"] == {f"col_{j + 1}": [r[j] for r in people] for j in range(4)}
    assert list(tables["导出:late_header"]) == ingest_header[1:]
    assert tables["导出:late_header"]["卡号"] == [r[4] for r in people]
    assert [p.place for p in problems] == ["导出.xlsx sheet titled row 1"]


def test_a_sheet_of_values_only_keeps_its_first_row(tmp_path, ingest_people):
    people = ingest_people[:8]
    write_book(tmp_path / "无表头.xlsx", {"Sheet1": [[], *[[r[0], r[2]] for r in people]]})
    tables, problems = sheet_tables(tmp_path / "无表头.xlsx")
    assert tables["无表头:Sheet1"] == {
        "col_1": [r[0] for r in people],
        "col_2": [r[2] for r in people],
    }
    assert problems == []


def test_header_cells_are_never_counted_as_values(tmp_path, ingest_header, ingest_people):
    from leaktrace.scan import scan

    people = ingest_people[:50]
    book = xlsxwriter.Workbook(str(tmp_path / "名单.xlsx"))
    sheet = book.add_worksheet("名单")
    sheet.merge_range(0, 0, 0, 4, "客户信息表")
    sheet.write_row(2, 0, ingest_header)
    for i, row in enumerate(people):
        sheet.write_row(3 + i, 0, row)
    book.close()
    result = scan([tmp_path / "名单.xlsx"])
    (report,) = result.sources
    assert report.records == len(people)
    kinds = {c.name: c.kind for c in report.columns["名单:名单"]}
    assert kinds["身份证号"] == "resident_id" and kinds["姓名"] == "person_name"
    assert result.kinds["resident_id"].found == len(people)
    assert result.kinds["person_name"].found == len(people)
