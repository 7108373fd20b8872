"""SQL dumps scanned in byte ranges by several processes give exactly what one process gives:
counts, problems with their lines, and the normalised rows with their row numbers."""

from __future__ import annotations

import gzip
from pathlib import Path

import hypothesis.strategies as st
import pytest
from hypothesis import given, settings
from same_scan import assert_split_matches_one_process

from bench.formats_bench import write_formats
from leaktrace.ingest import open_source
from leaktrace.ingest.split import split, splittable
from leaktrace.ingest.sql_dump import SqlStart
from leaktrace.scan import run
from tests.test_ingest_sql import copy_field, mysql_literal, pg_literal


@pytest.fixture(scope="module")
def dumps(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """6,000 synthetic customers (Chinese names and addresses, notes with quotes, commas,
    newlines, backslashes and tabs, NULLs, masked IDs) as mysqldump (INSERTs of 64 kB) and
    pg_dump write them."""
    return write_formats(6000, 7, tmp_path_factory.mktemp("formats"), statement_bytes=64 << 10)


@pytest.mark.parametrize("fmt", ["mysql_insert", "pg_copy", "pg_insert"])
def test_split_dump_matches_one_process(dumps, fmt, tmp_path, monkeypatch):
    src = open_source(dumps[fmt])
    assert src.format == "sql" and splittable(src)
    parts = split(src, 3)
    assert len(parts) == 3
    data = dumps[fmt].read_bytes()
    for p in parts[1:]:
        assert p.part is not None and isinstance(p.part.context, SqlStart)
        assert data[p.part.start - 1 : p.part.start] == b"\n"
        assert p.part.first_line == data[: p.part.start].count(b"\n") + 1
        assert p.part.context.created["customer" if fmt == "mysql_insert" else "public.customer"]
        if fmt == "pg_copy":  # it starts among the rows of the COPY block
            assert p.part.context.copy is not None and p.part.context.copy[0] == "public.customer"
        else:
            assert data[p.part.start :].startswith(b"INSERT INTO ")
    assert_split_matches_one_process(tmp_path, dumps[fmt], monkeypatch, same_row_numbers=True)


def _customer_rows(people: list[tuple[str, str, str, str]], first: int) -> list[list[str | None]]:
    rows = []
    for i, (name, rid, mobile, address) in enumerate(people):
        note = ["备注; (含分号)", "C:\\新建文件夹\\", "多行\n地址", None, "引号'和\"双引号"][i % 5]
        rows.append([str(first + i), name, rid, mobile, address, note])
    return rows


def _mysql_insert(table: str, rows: list[list[str | None]]) -> str:
    values = ",".join("(" + ",".join(mysql_literal(v) for v in r) + ")" for r in rows)
    return f"INSERT INTO `{table}` VALUES {values};\n"


def _create(table: str) -> str:
    return (
        f"DROP TABLE IF EXISTS `{table}`;\nCREATE TABLE `{table}` (\n  `id` int NOT NULL,\n"
        "  `姓名` varchar(32) COMMENT '客户姓名, 全名',\n  `身份证号` char(18),\n"
        "  `手机` varchar(20),\n  `地址` varchar(255),\n  `备注` text,\n  PRIMARY KEY (`id`)\n"
        ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;\n"
    )


def _two_table_dump(people, broken: bool = False) -> str:
    """Two tables, each of several extended INSERTs; the second begins mid-file."""
    half = len(people) // 2
    out = ["-- MySQL dump 10.13\n/*!40101 SET NAMES utf8mb4 */;\n", _create("客户")]
    rows = _customer_rows(people[:half], 1)
    for k in range(0, len(rows), 50):
        out.append(_mysql_insert("客户", rows[k : k + 50]))
    if broken:  # two strings without a comma: this statement alone is lost, and counted
        out.insert(5, "INSERT INTO `客户` VALUES (9999,'甲' '乙','1','2','3',NULL);\n")
    out += ["UNLOCK TABLES;\n", _create("贷款客户"), "LOCK TABLES `贷款客户` WRITE;\n"]
    rows = _customer_rows(people[half:], 1)
    for k in range(0, len(rows), 50):
        out.append(_mysql_insert("贷款客户", rows[k : k + 50]))
    return "".join(out)


def test_two_tables_and_a_broken_statement(ingest_people, tmp_path, monkeypatch):
    people = [tuple(p[:4]) for p in ingest_people] * 20
    path = tmp_path / "bank.sql"
    text = _two_table_dump(people, broken=True)
    path.write_text(text, encoding="utf-8")
    src = open_source(path)
    contexts = [p.part.context for p in split(src, 3)]
    assert [c.table_at is not None for c in contexts] == [False, True, True]
    assert_split_matches_one_process(tmp_path, path, monkeypatch, same_row_numbers=True)
    one = run.scan([path], processes=1)
    (problem,) = one.sources[0].problems
    line = text[: text.index("(9999")].count("\n") + 1
    assert problem["place"].startswith(f"{path} line {line} ")  # places name the path given
    assert problem["rows_skipped"] == 1


def test_gb18030_dump_splits(ingest_people, tmp_path, monkeypatch):
    people = [tuple(p[:4]) for p in ingest_people] * 20
    path = tmp_path / "gbk.sql"
    path.write_bytes(_two_table_dump(people).encode("gb18030"))
    src = open_source(path)
    assert src.encoding == "gb18030" and splittable(src) and len(split(src, 3)) == 3
    assert_split_matches_one_process(tmp_path, path, monkeypatch, same_row_numbers=True)


def test_irregular_dumps_are_read_whole(ingest_people, tmp_path, monkeypatch):
    rows = _customer_rows([tuple(p[:4]) for p in ingest_people] * 20, 1)
    # one statement, a tuple per line (as hand-written or some tools' exports): no place to cut
    one_statement = tmp_path / "one.sql"
    values = ",\n".join("(" + ", ".join(mysql_literal(v) for v in r) + ")" for r in rows)
    one_statement.write_text(f"insert into t\nvalues\n{values};\n", encoding="utf-8")
    src = open_source(one_statement)
    assert len(split(src, 3)) == 1
    assert_split_matches_one_process(tmp_path, one_statement, monkeypatch, same_row_numbers=True)
    packed = tmp_path / "packed.sql.gz"
    packed.write_bytes(gzip.compress(one_statement.read_bytes()))
    assert not splittable(open_source(packed))
    assert run.scan([packed], processes=3).records == len(rows)


def _read_parts(parts: list) -> tuple[dict[str, list], list[tuple[str, int]]]:
    """Every part read in turn in this process: rows per table, and the problems' places."""
    rows: dict[str, list] = {}
    problems = []
    for src in parts:
        for batch in src.batches():
            cols = batch.data.to_pydict()
            rows.setdefault(batch.table, []).extend(zip(*cols.values(), strict=True))
        problems += [(p.place, p.rows_skipped) for p in src.problems]
    return rows, problems


_value = st.one_of(
    st.none(),
    st.text(alphabet=st.sampled_from(list("张伟北京市;(),'\"\\\n\t 0123456789")), max_size=12),
)


@settings(max_examples=40, deadline=None)
@given(
    tables=st.lists(
        st.lists(st.lists(_value, min_size=3, max_size=3), min_size=1, max_size=40),
        min_size=1,
        max_size=3,
    ),
    per_statement=st.integers(1, 7),
    style=st.sampled_from(["mysql", "pg_insert", "pg_copy"]),
    parts=st.integers(2, 6),
    broken=st.booleans(),
)
def test_parts_read_in_turn_give_the_whole_dump(
    tmp_path_factory, tables, per_statement, style, parts, broken
):
    out = ["-- PostgreSQL database dump\n" if style != "mysql" else "-- MySQL dump\n"]
    for t, rows in enumerate(tables):
        out.append(f"CREATE TABLE t{t} (\n  a text,\n  b text,\n  c text\n);\n")
        if style == "pg_copy":
            copy = ["\t".join(copy_field(v) for v in r) + "\n" for r in rows]
            out.append(f"COPY t{t} (a, b, c) FROM stdin;\n{''.join(copy)}\\.\n\n")
            continue
        literal = mysql_literal if style == "mysql" else pg_literal
        for k in range(0, len(rows), per_statement):
            tuples = ",".join(
                "(" + ",".join(literal(v) for v in r) + ")" for r in rows[k : k + per_statement]
            )
            out.append(f"INSERT INTO t{t} VALUES {tuples};\n")
        if broken:
            out.append(f"INSERT INTO t{t} VALUES ('x' 'y', NULL, NULL);\n")
    path = tmp_path_factory.mktemp("parts") / "d.sql"
    path.write_text("".join(out), encoding="utf-8")
    whole = open_source(path)
    expected = _read_parts([whole])
    assert _read_parts(split(open_source(path), parts)) == expected
    assert {t: len(r) for t, r in expected[0].items()} == {
        f"t{t}": len(rows) for t, rows in enumerate(tables)
    }
