"""CSV/TSV reading: encodings, delimiters, headers, quoting, ragged and truncated rows, limits."""

from __future__ import annotations

import csv
import gzip
import io
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leaktrace.errors import InputError
from leaktrace.ingest import open_source
from leaktrace.ingest.source import Source


def rows_of(source: Source) -> list[list[str | None]]:
    """All rows of a one-table source, as lists in column order (its ragged rows left out)."""
    out: list[list[str | None]] = []
    for batch in source.batches():
        if batch.free_text:
            continue
        cols = batch.data.to_pydict()
        out.extend(map(list, zip(*cols.values(), strict=True)))
    return out


def write_csv(
    path: Path, rows: list[list[str]], encoding: str = "utf-8", delimiter: str = ","
) -> None:
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))


@pytest.mark.parametrize(
    ("encoding", "detected"),
    [
        ("utf-8", "utf-8"),
        ("utf-8-sig", "utf-8-sig"),
        ("gbk", "gb18030"),
        ("gb18030", "gb18030"),
        ("utf-16", "utf-16-le"),  # Python writes a little-endian BOM
        ("utf-16-be", "utf-16-be"),
    ],
)
def test_encodings_round_trip(ingest_header, tmp_path, ingest_people, encoding, detected):
    path = tmp_path / "leak.csv"
    data = ingest_people
    if encoding == "utf-16-be":
        body = io.StringIO()
        csv.writer(body, lineterminator="\n").writerows([ingest_header, *data])
        path.write_bytes(b"\xfe\xff" + body.getvalue().encode("utf-16-be"))
    else:
        write_csv(path, [ingest_header, *data], encoding)
    source = open_source(path)
    assert (source.format, source.encoding, source.has_header) == ("csv", detected, True)
    batches = list(source.batches())
    assert batches[0].table == "leak"
    assert batches[0].data.schema.names == ingest_header
    assert rows_of(open_source(path)) == data
    assert source.problems == []


def test_gb18030_only_characters(tmp_path):
    rows = [["姓名", "地址"], ["𠀀娜", "北京市"], ["王㐀", "上海市"]]  # outside GBK
    path = tmp_path / "rare.csv"
    write_csv(path, rows, "gb18030")
    source = open_source(path)
    assert source.encoding == "gb18030"
    assert rows_of(source) == rows[1:]


@pytest.mark.parametrize(("delimiter", "fmt"), [("\t", "tsv"), ("|", "csv"), (";", "csv")])
def test_delimiters(ingest_header, tmp_path, ingest_people, delimiter, fmt):
    path = tmp_path / "dump.txt"
    write_csv(path, [ingest_header, *ingest_people], delimiter=delimiter)
    source = open_source(path)
    assert source.format == fmt
    assert rows_of(source) == ingest_people


def test_headerless_ids_keep_leading_zeros(tmp_path):
    rows = [[f"00{i:016d}", f"0086138{i:08d}", f"李{i}"] for i in range(50)]
    path = tmp_path / "noheader.csv"
    write_csv(path, rows)
    source = open_source(path)
    assert source.has_header is False
    batches = list(source.batches())
    assert batches[0].data.schema.names == ["col_1", "col_2", "col_3"]
    assert [list(r) for r in zip(*batches[0].data.to_pydict().values(), strict=True)] == rows


def test_quoted_fields_with_newlines_and_delimiters(tmp_path, ingest_people):
    rows = [[r[0], f"{r[3]}\n{r[3]}, 2号楼", f'备注 "加急", {r[2]}'] for r in ingest_people[:20]]
    path = tmp_path / "quoted.csv"
    write_csv(path, [["姓名", "地址", "备注"], *rows])
    assert rows_of(open_source(path)) == rows


def ragged_of(source: Source) -> list[str]:
    """The texts of a source's ragged rows, from its free-text batches."""
    return [t for b in source.batches() if b.free_text for t in b.data.column("text").to_pylist()]


def test_ragged_rows_kept_as_text_with_line_numbers(ingest_header, tmp_path, ingest_people):
    lines = [",".join(ingest_header)] + [",".join(r) for r in ingest_people[:10]]
    lines[4] += ",extra"  # line 5
    lines[7] = ",".join(ingest_people[6][:3])  # line 8
    path = tmp_path / "ragged.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    source = open_source(path)
    batches = list(source.batches())
    assert [b.table for b in batches] == ["ragged", "ragged#ragged"]
    assert batches[0].data.num_rows == 8
    assert batches[1].free_text and batches[1].data.column("text").to_pylist() == [
        lines[4],
        lines[7],
    ]
    assert source.rows_skipped == 0  # scanned as text, not lost
    places = [p.place for p in source.problems]
    assert places == ["ragged.csv line 5", "ragged.csv line 8"]
    assert str(source.problems[0].expected).startswith("5 fields, found 6")
    for problem in source.problems:  # positions and shapes only, never content
        assert all(
            cell not in problem.place + str(problem.expected) for r in ingest_people for cell in r
        )


def test_many_ragged_rows_are_summarised(tmp_path):
    body = "".join("a,b,c\n" if i % 4 else "a,b\n" for i in range(1000))
    path = tmp_path / "bad.csv"
    path.write_text("姓名,手机,地址\n" + body)
    source = open_source(path, format="csv")
    assert len(rows_of(source)) == 750
    assert len(ragged_of(open_source(path, format="csv"))) == 250
    assert source.rows_skipped == 0
    assert len(source.problems) == 51  # 50 one by one, then one summary


def test_truncated_mid_row_and_mid_character(tmp_path, ingest_people):
    path = tmp_path / "cut.csv"
    rows = [[r[0], r[1], r[3]] for r in ingest_people[:30]]  # the address is last
    write_csv(path, [["姓名", "身份证号", "地址"], *rows], "utf-8")
    data = path.read_bytes()
    cut = len(data) - 6
    while data[cut] < 0xC0:  # just after the first byte of a multibyte character
        cut -= 1
    path.write_bytes(data[: cut + 1])
    source = open_source(path)
    got = rows_of(source)
    assert got[:29] == rows[:29]
    assert got[29][:2] == rows[29][:2] and got[29][2].endswith("\ufffd")
    assert [p.place.split(" (")[0] for p in source.problems] == ["cut.csv line 31"]
    assert "undecodable" in str(source.problems[0].expected)


def test_truncated_inside_quotes_keeps_earlier_rows(tmp_path, ingest_people):
    path = tmp_path / "cutq.csv"
    text = "姓名,地址\n" + "".join(f'{r[0]},"{r[3]}"\n' for r in ingest_people[:10])
    path.write_text(text + f'{ingest_people[10][0]},"{ingest_people[10][3][:4]}', encoding="utf-8")
    source = open_source(path)
    rows = rows_of(source)
    assert rows[:10] == [[r[0], r[3]] for r in ingest_people[:10]]


def test_mixed_encodings_counted_not_fatal(tmp_path, ingest_people):
    lines = ["姓名,地址"] + [f"{r[0]},{r[3]}" for r in ingest_people[:40]]
    raw = [line.encode("utf-8") for line in lines]
    raw[21] = lines[21].encode("gbk")  # one GBK line (line 22) in a UTF-8 file
    path = tmp_path / "mixed.csv"
    path.write_bytes(b"\n".join(raw) + b"\n")
    source = open_source(path)
    assert source.encoding == "utf-8"
    rows = rows_of(source)
    assert len(rows) == 40
    assert rows[19] == [ingest_people[19][0], ingest_people[19][3]]
    assert "\ufffd" in rows[20][0]
    assert [p.place.split(" (")[0] for p in source.problems] == ["mixed.csv line 22"]
    assert "utf-8" in str(source.problems[0].expected)


def test_empty_missing_and_directory(tmp_path):
    empty = tmp_path / "x.csv"
    empty.write_bytes(b"")
    with pytest.raises(InputError) as err:
        open_source(empty)
    assert (err.value.place, str(err.value.expected)) == ("x.csv", "at least one row")
    with pytest.raises(InputError, match="an existing file"):
        open_source(tmp_path / "missing.csv")
    with pytest.raises(InputError, match="a directory"):
        open_source(tmp_path)


def test_header_only_yields_no_rows(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text("姓名,身份证号\n", encoding="utf-8")
    assert rows_of(open_source(path)) == []


def test_gzip_is_transparent(ingest_header, tmp_path, ingest_people):
    path = tmp_path / "leak.csv.gz"
    buf = io.StringIO()
    csv.writer(buf).writerows([ingest_header, *ingest_people])
    path.write_bytes(gzip.compress(buf.getvalue().encode("gbk")))
    source = open_source(path)
    assert (source.format, source.encoding) == ("csv", "gb18030")
    batches = list(source.batches())
    assert batches[0].table == "leak"
    assert batches[-1].bytes_done == path.stat().st_size


def test_truncated_gzip_keeps_rows(ingest_header, tmp_path, ingest_people):
    path = tmp_path / "leak.csv.gz"
    buf = io.StringIO()
    csv.writer(buf).writerows([ingest_header, *ingest_people])
    data = gzip.compress(buf.getvalue().encode("utf-8"))
    path.write_bytes(data[: len(data) * 2 // 3])
    source = open_source(path)
    rows = rows_of(source)
    assert 0 < len(rows) < len(ingest_people)
    assert rows[:-1] == ingest_people[: len(rows) - 1]
    assert any("gzip" in str(p.expected) for p in source.problems)


def test_huge_line_is_skipped_in_bounded_memory(ingest_header, tmp_path, ingest_people):
    path = tmp_path / "long.csv"
    with path.open("wb") as f:
        f.write(",".join(ingest_header).encode() + b"\n")
        f.write(",".join(ingest_people[0]).encode() + b"\n")
        block = b"x" * (1 << 20)
        for _ in range(64):  # a 64 MB line on line 3
            f.write(block)
        f.write(b"\n" + ",".join(ingest_people[1]).encode() + b"\n")
    tracemalloc.start()
    source = open_source(path)
    rows = rows_of(source)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert rows == ingest_people[:2]
    assert source.rows_skipped == 1
    assert source.problems[0].place == "long.csv line 3"
    assert peak < 48 << 20


def test_batches_are_bounded_and_numbered(tmp_path):
    path = tmp_path / "many.csv"
    path.write_text("身份证号,手机\n" + "".join(f"{i:018d},{i:011d}\n" for i in range(150_000)))
    batches = list(open_source(path).batches())
    assert all(b.data.num_rows <= 65_536 for b in batches)
    assert [b.first_row for b in batches] == [
        1 + sum(x.data.num_rows for x in batches[:i]) for i in range(len(batches))
    ]
    assert sum(b.data.num_rows for b in batches) == 150_000


_cell = st.text(
    alphabet=st.sampled_from(list("ab,;|\"'\n\r\t 中文张三0123456789\\()")), min_size=1, max_size=12
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.lists(_cell, min_size=3, max_size=3), min_size=1, max_size=20))
def test_csv_round_trip(tmp_path, rows):
    rows = [
        [c.replace("\r", "") or "x" for c in r] for r in rows
    ]  # \r in a value is not kept by CSV
    path = tmp_path / "rt.csv"
    write_csv(path, [["姓名", "手机", "地址"], *rows])
    source = open_source(path, format="csv")
    assert rows_of(source) == rows


def test_unclosed_quote_is_read_as_an_ordinary_character(tmp_path, ingest_people):
    path = tmp_path / "openq.csv"
    with path.open("wb") as f:
        f.write("姓名,地址\n".encode())
        f.write(f'{ingest_people[0][0]},"{ingest_people[0][3]}"\n'.encode())
        f.write(f'{ingest_people[1][0]},"never closed\n'.encode())  # line 3
        filler = (b"x" * 500 + b"," + b"y" * 523 + b"\n") * 1024  # 1 MB of lines
        for _ in range(40):
            f.write(filler)
    source = open_source(path)
    rows = rows_of(source)
    assert rows[:2] == [
        [ingest_people[0][0], ingest_people[0][3]],
        [ingest_people[1][0], "never closed"],
    ]
    assert len(rows) == 2 + 40 * 1024  # every line after the quote is read, none skipped
    assert source.rows_skipped == 0
    assert [p.place for p in source.problems] == ["openq.csv line 3"]
    assert "ordinary character" in str(source.problems[0].expected)


def test_abandoned_iteration_exits_cleanly(tmp_path):
    path = tmp_path / "big.csv"
    path.write_text("身份证号,手机\n" + "".join(f"{i:018d},{i:011d}\n" for i in range(400_000)))
    script = (
        "import sys; from leaktrace.ingest import open_source\n"
        "it = open_source(sys.argv[1]).batches(); next(it)\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(path)], timeout=60)
    assert done.returncode == 0  # pyarrow threads calling into Python at exit would abort


def test_ragged_row_after_quoted_newlines_is_reported_at_its_line(tmp_path):
    path = tmp_path / "notes.csv"
    path.write_text(
        '姓名,备注\n张伟,"第一行\n第二行"\n王芳,"甲\n乙\n丙"\n只有一个字段\n李娜,好\n',
        encoding="utf-8",
    )
    source = open_source(path)
    assert [r[0] for r in rows_of(source)] == ["张伟", "王芳", "李娜"]
    assert [p.place for p in source.problems] == ["notes.csv line 7"]
