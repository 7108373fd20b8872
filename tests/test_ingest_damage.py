"""Damaged CSVs lose nothing: a broken quote, a ragged row or a block pyarrow rejects costs at
most its own row, every record is scanned or counted as skipped, and damage to one row never
changes what is found in the others."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import Counter
from functools import cache
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leaktrace.ingest import csv_reader, open_source
from leaktrace.ingest.quote_rows import QUOTED_LINES_MAX
from leaktrace.pii import KINDS
from leaktrace.scan import run
from leaktrace.synth.people import draw_people

HEADER = ["姓名", "身份证号", "手机号", "地址", "银行卡号", "备注"]
REMARK = "客户来电\n要求更换绑定手机"  # a quoted remark of two lines


@cache
def people(n: int, seed: int = 13) -> tuple[tuple[str, ...], ...]:
    """``n`` realistic customers: name, resident ID, mobile, address, card, remark (every
    seventh remark spans two lines)."""
    df = draw_people(np.random.default_rng(seed), n, dt.date(2024, 6, 1))
    return tuple(
        (r["name"], r["resident_id"], r["mobile"], r["address"], r["card_no"], REMARK)
        if i % 7 == 3
        else (r["name"], r["resident_id"], r["mobile"], r["address"], r["card_no"], "正常")
        for i, r in enumerate(df.iter_rows(named=True))
    )


def row_texts(rows: tuple[tuple[str, ...], ...]) -> list[str]:
    """Each row as a CSV writer writes it (quoted where needed), newline included."""
    out = []
    for row in rows:
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerow(row)
        out.append(buf.getvalue())
    return out


def write(path: Path, texts: list[str], encoding: str = "utf-8") -> Path:
    path.write_bytes((",".join(HEADER) + "\n" + "".join(texts)).encode(encoding))
    return path


def line_of(texts: list[str], index: int) -> int:
    """The file line on which row ``index`` starts (the header is line 1)."""
    return 2 + sum(t.count("\n") for t in texts[:index])


def scanned(path: Path, tmp_path: Path) -> tuple[run.ScanResult, pl.DataFrame]:
    out = tmp_path / f"{path.stem}.parquet"
    return run.scan([path], out=out, processes=1), pl.read_parquet(out)


def findings(records: pl.DataFrame) -> Counter[frozenset[tuple[str, str]]]:
    """Each record's identifiers as a set of (kind, value): what was found, row by row."""
    kinds = [k for k in KINDS if k in records.columns]
    out: Counter[frozenset[tuple[str, str]]] = Counter()
    for rec in records.select(*kinds, "more").iter_rows(named=True):
        found = {(k, rec[k]) for k in kinds if rec[k] is not None}
        found |= {(m["kind"], m["value"]) for m in rec["more"] or () if m["value"] is not None}
        out[frozenset(found)] += 1
    return out


def test_unclosed_quote_early_in_a_long_file_loses_no_later_row(tmp_path):
    rows = people(3000)
    texts = row_texts(rows)
    texts[4] = texts[4].replace(f",{rows[4][3]},", f',"{rows[4][3]},')  # opened, never closed
    path = write(tmp_path / "客户.csv", texts)
    result, records = scanned(path, tmp_path)
    source = result.sources[0]
    ids = result.kinds["resident_id"]
    assert ids.valid == 3000 and ids.found == 3000
    assert result.kinds["mobile"].valid == 3000
    assert source.records == 3000 and source.rows_skipped == 0
    assert [Path(p["place"]).name for p in source.problems] == [
        f"客户.csv line {line_of(texts, 4)}"
    ]
    assert "ordinary character" in source.problems[0]["expected"]
    assert set(records.get_column("resident_id")) == {r[1] for r in rows}


def test_the_quote_that_broke_a_row_is_not_part_of_its_value(tmp_path):
    rows = people(200)
    texts = row_texts(rows)
    texts[4] = texts[4].replace(f",{rows[4][1]},", f',"{rows[4][1]},')  # before the ID
    path = write(tmp_path / "客户.csv", texts)
    result, records = scanned(path, tmp_path)
    assert result.kinds["resident_id"].valid == 200 and result.kinds["resident_id"].invalid == 0
    assert rows[4][1] in set(records.get_column("resident_id"))


def test_stray_quote_inside_a_field_derails_nothing(tmp_path):
    rows = people(500)
    texts = row_texts(rows)
    texts[10] = texts[10].replace(rows[10][0], rows[10][0][0] + '"' + rows[10][0][1:], 1)
    path = write(tmp_path / "stray.csv", texts, "gbk")
    source = open_source(path)
    got = [r for b in source.batches() for r in zip(*b.data.to_pydict().values(), strict=True)]
    assert len(got) == 500
    assert got[10][0] == texts[10].split(",")[0] and got[10][1:] == rows[10][1:]
    assert [r for i, r in enumerate(got) if i != 10] == [r for i, r in enumerate(rows) if i != 10]
    assert source.problems == []  # a quote inside a value is an ordinary character


def test_ragged_rows_among_multiline_fields_are_scanned_and_named(tmp_path):
    rows = people(700)
    texts = row_texts(rows)
    # an unquoted address holding the delimiter, a row without its name, one with a field
    # more; rows 17, 24, 52 and 59 around them hold remarks of two lines
    texts[20] = texts[20].replace(rows[20][3], rows[20][3][:6] + "," + rows[20][3][6:])
    texts[51] = texts[51].split(",", 1)[1]
    texts[53] = texts[53].replace(f",{rows[53][4]},", f",{rows[53][4]},备用,")
    assert all("\n" in rows[i][5] for i in (17, 24, 52, 59))
    path = write(tmp_path / "ragged.csv", texts)
    result, records = scanned(path, tmp_path)
    source = result.sources[0]
    for kind in ("resident_id", "mobile", "bank_card"):
        assert result.kinds[kind].valid == 700, kind
    assert source.records == 700 and source.rows_skipped == 0
    assert [Path(p["place"]).name for p in source.problems] == [
        f"ragged.csv line {line_of(texts, i)}" for i in (20, 51, 53)
    ]
    assert source.problems[0]["expected"].startswith("6 fields, found 7")
    ragged = records.filter(pl.col("table") == "ragged#ragged")
    assert sorted(ragged.get_column("resident_id")) == sorted(rows[i][1] for i in (20, 51, 53))
    assert [c.kind for c in source.columns["ragged#ragged"]] == ["text"]


def test_row_pyarrow_reads_otherwise_costs_only_itself(tmp_path):
    rows = people(400)
    texts = row_texts(rows)
    # two quotes at field edges, so the row ends at its newline; but pyarrow reads the one
    # ending the name as a character and carries the address's on into the following rows
    name = rows[30][0]
    texts[30] = (
        texts[30].replace(name, name + '"', 1).replace(f",{rows[30][3]},", f',"{rows[30][3]},', 1)
    )
    path = write(tmp_path / "odd.csv", texts)
    result, records = scanned(path, tmp_path)
    source = result.sources[0]
    assert result.kinds["resident_id"].valid == 400
    assert source.records == 400 and source.rows_skipped == 0
    assert [Path(p["place"]).name for p in source.problems] == [
        f"odd.csv line {line_of(texts, 30)}"
    ]
    main = records.filter(pl.col("table") == "odd")
    assert main.height == 399 and rows[30][1] not in set(main.get_column("resident_id"))


def test_a_block_pyarrow_rejects_is_read_row_by_row_alike(tmp_path, monkeypatch):
    rows = people(300)
    path = write(tmp_path / "blk.csv", row_texts(rows), "gbk")

    def read(source_path: Path) -> list[pa.RecordBatch]:
        return [b.data for b in open_source(source_path).batches()]

    whole = read(path)

    def reject(*args: object, **kwargs: object) -> None:
        raise pa.ArrowInvalid("CSV parse error")

    monkeypatch.setattr(csv_reader.pacsv, "read_csv", reject)
    by_rows = read(path)
    assert pa.Table.from_batches(by_rows).equals(pa.Table.from_batches(whole))
    assert pa.Table.from_batches(whole).num_rows == 300


def test_a_real_multiline_field_at_the_limit_is_kept(tmp_path):
    remark = "\n".join(f"第{i}行" for i in range(QUOTED_LINES_MAX))  # spans the limit exactly
    rows = [(*r[:5], remark) for r in people(20)]
    path = write(tmp_path / "long.csv", row_texts(tuple(rows)))
    source = open_source(path)
    got = [r for b in source.batches() for r in zip(*b.data.to_pydict().values(), strict=True)]
    assert got == rows and source.problems == []


def test_a_quoted_field_past_the_limit_is_read_line_by_line(tmp_path):
    remark = "\n".join(f"第{i}行" for i in range(QUOTED_LINES_MAX + 1))
    rows = people(30)
    texts = row_texts(tuple((*r[:5], remark if i == 8 else r[5]) for i, r in enumerate(rows)))
    path = write(tmp_path / "over.csv", texts)
    result = run.scan([path], processes=1)
    source = result.sources[0]
    assert result.kinds["resident_id"].valid == 30 and source.rows_skipped == 0
    # row 8's first line is a row, its other lines ragged text: every line is scanned
    assert source.records == 30 + QUOTED_LINES_MAX
    assert Path(source.problems[0]["place"]).name == f"over.csv line {line_of(texts, 8)}"


def test_every_data_line_is_scanned_or_counted(tmp_path):
    rows = people(1200)
    texts = [t for t in row_texts(rows) if "\n" not in t[:-1]]  # one line per row here
    texts[5] = texts[5].replace(",", ',"', 1)  # unclosed quote
    texts[9] = texts[9].replace(",", ",,", 1)  # extra delimiter
    texts[14] = texts[14].replace(",", "", 1)  # missing delimiter
    texts[20] = texts[20][:7] + "\x00" + texts[20][7:]  # a NUL
    texts[33] = "x" * (20 << 20) + "\n"  # a line far over the 8 MB a row may have: skipped
    path = write(tmp_path / "acct.csv", texts)
    result = run.scan([path], processes=1)
    source = result.sources[0]
    assert source.records + source.rows_skipped == len(texts)
    assert source.rows_skipped == 1


_DAMAGE = st.sampled_from(["quote", "drop delimiter", "add delimiter", "encoding", "nul"])


def damage(text: str, how: str, at: int, encoding: str) -> bytes:
    """``text`` (one row) damaged at about ``at``, as bytes of the file's ``encoding``."""
    at %= len(text.rstrip("\n"))
    if how == "quote":
        text = text[:at] + '"' + text[at:]
    elif how == "add delimiter":
        text = text[:at] + "," + text[at:]
    elif how == "drop delimiter":
        commas = [i for i, c in enumerate(text) if c == ","]
        cut = commas[at % len(commas)]
        text = text[:cut] + text[cut + 1 :]
    elif how == "nul":
        text = text[:at] + "\x00" + text[at:]
    else:  # the row written in the other encoding
        return text.encode("utf-8" if encoding == "gbk" else "gbk")
    return text.encode(encoding)


@cache
def clean_findings(encoding: str, tmp: Path) -> Counter[frozenset[tuple[str, str]]]:
    texts = row_texts(people(300))
    path = write(tmp / f"clean-{encoding}.csv", texts, encoding)
    return findings(scanned(path, tmp)[1])


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    index=st.integers(0, 299),
    how=_DAMAGE,
    at=st.integers(0, 10_000),
    encoding=st.sampled_from(["utf-8", "gbk"]),
)
def test_damage_to_one_row_never_changes_the_others(tmp_path_factory, index, how, at, encoding):
    rows = people(300)
    texts = row_texts(rows)
    tmp = tmp_path_factory.mktemp("damage")
    path = tmp / "damaged.csv"
    body = [t.encode(encoding) for t in texts]
    body[index] = damage(texts[index], how, at, encoding)
    path.write_bytes((",".join(HEADER) + "\n").encode(encoding) + b"".join(body))
    result, records = scanned(path, tmp)
    mine = {rows[index][1], rows[index][2], rows[index][4]}

    def others(found: Counter[frozenset[tuple[str, str]]]) -> Counter[frozenset[tuple[str, str]]]:
        # records of the damaged row hold its values, or none (a piece of it left bare)
        return Counter({k: n for k, n in found.items() if k and not mine & {v for _, v in k}})

    clean = clean_findings(encoding, tmp_path_factory.getbasetemp())
    assert others(findings(records)) == others(clean)
    source = result.sources[0]
    assert source.rows_skipped == 0
    assert source.records >= 300  # the damaged row is scanned too, maybe as two
