"""SQL dumps: MySQL extended INSERTs, PostgreSQL INSERT and COPY, broken statements; the tuple parser."""

from __future__ import annotations

import gzip

from hypothesis import given, settings
from hypothesis import strategies as st

from leaktrace.ingest import open_source
from leaktrace.ingest.sql_values import (
    END,
    ERROR,
    FULL,
    MORE,
    MYSQL,
    POSTGRES,
    copy_rows,
    insert_rows,
)


def mysql_literal(value: str | None) -> str:
    """Quote like mysqldump does."""
    if value is None:
        return "NULL"
    escaped = (
        value.replace("\\", "\\\\")
        .replace("'", "\\'")
        .replace('"', '\\"')
        .replace("\n", "\\n")
        .replace("\r", "\\r")
        .replace("\0", "\\0")
        .replace("\x1a", "\\Z")
    )
    return f"'{escaped}'"


def pg_literal(value: str | None) -> str:
    return "NULL" if value is None else "'" + value.replace("'", "''") + "'"


def copy_field(value: str | None) -> str:
    if value is None:
        return "\\N"
    return (
        value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )


def tables_of(source) -> dict[str, list[list[str | None]]]:
    out: dict[str, list] = {}
    for batch in source.batches():
        cols = batch.data.to_pydict()
        out.setdefault(batch.table, []).extend(map(list, zip(*cols.values(), strict=True)))
    return out


def test_mysql_dump_extended_insert(tmp_path, ingest_people):
    rows = [[str(i), r[0], r[1], r[2], r[3]] for i, r in enumerate(ingest_people)]
    rows[3][3] = None
    rows[5][4] = "北京市'朝阳区' (东) 3,4号\\楼"
    values = ",".join(
        "(" + ",".join(mysql_literal(v) if i else v for i, v in enumerate(r)) + ")" for r in rows
    )
    dump = f"""-- MySQL dump 10.13
/*!40101 SET NAMES utf8mb4 */;
DROP TABLE IF EXISTS `customer`;
CREATE TABLE `customer` (
  `id` int NOT NULL AUTO_INCREMENT,
  `name` varchar(32) DEFAULT NULL COMMENT '姓名, 全名',
  `id_card` char(18) DEFAULT NULL,
  `mobile` varchar(20) DEFAULT NULL,
  `address` varchar(255) DEFAULT NULL,
  PRIMARY KEY (`id`),
  KEY `idx_mobile` (`mobile`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
LOCK TABLES `customer` WRITE;
INSERT INTO `customer` VALUES {values};
INSERT INTO `customer` VALUES (999,_binary 'b','x','y','z') ON DUPLICATE KEY UPDATE name='n';
UNLOCK TABLES;
"""
    path = tmp_path / "bank.sql"
    path.write_text(dump, encoding="utf-8")
    source = open_source(path)
    assert (source.format, source.kind) == ("sql", "table")
    batches = list(source.batches())
    assert batches[0].data.schema.names == ["id", "name", "id_card", "mobile", "address"]
    got = tables_of(open_source(path))
    assert got == {"customer": [*rows, ["999", "b", "x", "y", "z"]]}
    assert source.problems == []


def test_mysql_insert_over_several_chunks(tmp_path):
    rows = [[str(i), f"138{i:08d}", "地址" * 30] for i in range(150_000)]  # one ~25 MB statement
    values = ",".join(f"({a},'{b}','{c}')" for a, b, c in rows)
    path = tmp_path / "big.sql.gz"
    path.write_bytes(
        gzip.compress(f"INSERT INTO t (id, mobile, addr) VALUES {values};\n".encode("gbk"))
    )
    source = open_source(path)
    assert source.encoding == "gb18030"
    batches = list(source.batches())
    assert all(b.data.num_rows <= 65_536 for b in batches)
    assert sum(b.data.num_rows for b in batches) == 150_000
    assert batches[-1].data.column("mobile")[-1].as_py() == rows[-1][1]


def test_broken_statement_skipped_with_line(tmp_path):
    dump = (
        "INSERT INTO `a` VALUES (1,'x'),(2,'y');\n"
        "INSERT INTO `a` VALUES (3,'z'),(4,'w' 'v');\n"  # line 2: two strings without a comma
        "INSERT INTO `a` VALUES (5,'ok');\n"
        "INSERT INTO `b` (p) VALUES ('1'),('2','3');\n"  # line 4: a row of the wrong width
    )
    path = tmp_path / "d.sql"
    path.write_text(dump)
    source = open_source(path)
    got = tables_of(source)
    assert got == {"a": [["1", "x"], ["2", "y"], ["3", "z"], ["5", "ok"]], "b": [["1"]]}
    assert [p.place.split(" (")[0] for p in source.problems] == ["d.sql line 2", "d.sql line 4"]
    assert source.rows_skipped == 2


def test_truncated_dump_keeps_rows(tmp_path):
    path = tmp_path / "cut.sql"
    path.write_text("INSERT INTO t VALUES (1,'a'),(2,'b'),(3,'c")
    source = open_source(path)
    assert tables_of(source) == {"t": [["1", "a"], ["2", "b"]]}
    assert source.rows_skipped == 1


def test_postgres_insert_and_copy(tmp_path, ingest_people):
    people = ingest_people[:20]
    inserts = "".join(
        f"INSERT INTO public.users (id, name, phone) VALUES ({i}, {pg_literal(r[0])}, {pg_literal(r[2])});\n"
        for i, r in enumerate(people)
    )
    copy_rows = [
        [r[1], f"{r[3]}\t座", None if i % 4 == 0 else "C:\\dir\\"] for i, r in enumerate(people)
    ]
    copy = "".join("\t".join(copy_field(v) for v in row) + "\n" for row in copy_rows)
    dump = f"""--
-- PostgreSQL database dump
--
SET standard_conforming_strings = on;
CREATE TABLE public.users (
    id integer NOT NULL,
    name character varying(50),
    phone text
);
{inserts}INSERT INTO public.users VALUES (99, 'O''Brien \\ ok', NULL);
COPY public.cards (id_no, address, note) FROM stdin;
{copy}\\.

ALTER TABLE ONLY public.users ADD CONSTRAINT users_pkey PRIMARY KEY (id);
"""
    path = tmp_path / "pg.sql"
    path.write_text(dump, encoding="utf-8")
    source = open_source(path)
    got = tables_of(source)
    expected_users = [[str(i), r[0], r[2]] for i, r in enumerate(people)]
    assert got["public.users"] == [*expected_users, ["99", "O'Brien \\ ok", None]]
    assert got["public.cards"] == copy_rows
    names = {b.table: b.data.schema.names for b in open_source(path).batches()}
    assert names["public.cards"] == ["id_no", "address", "note"]
    assert source.problems == []


def test_copy_block_cut_off(tmp_path):
    path = tmp_path / "c.sql"
    path.write_text("COPY t (a, b) FROM stdin;\n1\tx\n2\ty\n3\t")
    source = open_source(path)
    assert tables_of(source) == {"t": [["1", "x"], ["2", "y"]]}  # the cut last row is not kept
    assert [(p.place, p.rows_skipped) for p in source.problems] == [("c.sql line 4 (COPY t)", 1)]


def rows_of(parsed) -> list[list[str | None]]:
    return [list(r) for r in zip(*(c.to_pylist() for c in parsed.columns), strict=True)]


_text = st.text(
    alphabet=st.one_of(
        st.sampled_from(list("'\"\\,()\n\r\t;\0 _%")),
        st.characters(codec="utf-8", categories=["L", "N"]),
    ),
    max_size=15,
)
_rows = st.integers(1, 6).flatmap(
    lambda width: st.lists(
        st.lists(st.one_of(st.none(), _text), min_size=width, max_size=width),
        min_size=1,
        max_size=8,
    )
)


@settings(max_examples=300, deadline=None)
@given(_rows)
def test_mysql_tuple_round_trip(rows):
    text = ",".join("(" + ",".join(mysql_literal(v) for v in r) + ")" for r in rows) + ";"
    parsed = insert_rows(text.encode(), 0, MYSQL)
    assert (parsed.state, parsed.bad, rows_of(parsed)) == (END, [], rows)


@settings(max_examples=300, deadline=None)
@given(_rows)
def test_postgres_tuple_round_trip(rows):
    text = ", ".join("(" + ", ".join(pg_literal(v) for v in r) + ")" for r in rows)
    parsed = insert_rows(text.encode(), 0, POSTGRES)
    assert (parsed.state, parsed.bad, rows_of(parsed)) == (END, [], rows)


@settings(max_examples=200, deadline=None)
@given(_rows)
def test_copy_row_round_trip(rows):
    text = "".join("\t".join(copy_field(v) for v in r) + "\n" for r in rows) + "\\.\n"
    parsed = copy_rows(text.encode(), 0)
    assert (parsed.state, parsed.bad, rows_of(parsed)) == (END, [], rows)


def test_literals_of_both_dialects():
    mysql = (
        "(1,-2.5e3,NULL,null,_utf8mb4'张三',_binary 'b\\'x',X'4142',b'0101',N'李四',"
        "\"双\"\"引号\\\"\",'多\\n行\\Z\\%','真\n换行;),(', 0x4142 ),\n( 2 ,'',NULL,'','','','','','','','','',''"
        ");"
    )
    got = rows_of(insert_rows(mysql.encode(), 0, MYSQL))
    assert got[0] == [
        "1", "-2.5e3", None, None, "张三", "b'x", "0x4142", "0b0101", "李四", '双"引号"',
        "多\n行\x1a\\%", "真\n换行;),(", "0x4142",
    ]  # fmt: skip
    assert got[1][:3] == ["2", "", None]
    pg = "(1, E'\\x41\\101\\u4e2d\\n''', 'C:\\dir\\''x', X'41', B'01', NULL, e'\\'')"
    got = rows_of(insert_rows(pg.encode(), 0, POSTGRES))
    assert got == [["1", "AA中\n'", "C:\\dir\\'x", "0x41", "0b01", None, "'"]]


def test_rows_of_another_width_and_broken_tuples_are_placed():
    buf = b"(1,'a'),(2),(3,'c'),(4,'d' 'e'),(5,'f');"
    parsed = insert_rows(buf, 0, MYSQL, width=2, fixed=True)
    assert rows_of(parsed) == [["1", "a"], ["3", "c"], ["5", "f"]]
    assert parsed.bad == [(buf.index(b"(2)"), 1), (buf.index(b"(4"), -1)]  # -1: no tuple
    assert (parsed.state, parsed.pos) == (END, len(buf))
    cut = insert_rows(b"(1,'a'),(2,'b", 0, MYSQL)  # the input ends inside a tuple
    assert (rows_of(cut), cut.state, cut.pos) == ([["1", "a"]], ERROR, 8)


INSERT = b"INSERT INTO `t` VALUES"


def _read_cut(buf: bytes, start: int, cut: int, max_rows: int, copy: bool) -> list:
    """Parse as the reader does when its window holds only ``buf[:cut]`` at first: resume from
    the returned place with the whole buffer, and go on into statements with the same head."""
    rows, pos, width, view = [], start, -1, buf[:cut]
    while True:
        final = len(view) == len(buf)
        if copy:
            parsed = copy_rows(view, pos, width=width, max_rows=max_rows, final=final)
        else:
            kw = {"head": INSERT, "width": width, "max_rows": max_rows, "final": final}
            parsed = insert_rows(view, pos, MYSQL, **kw)
        assert parsed.bad == [] and parsed.state in (END, MORE, FULL)
        rows += rows_of(parsed)
        width = parsed.width if parsed.count else width
        pos = parsed.pos
        if parsed.state == END and not copy and buf[pos:].lstrip().startswith(INSERT):
            pos = buf.index(INSERT, pos) + len(INSERT)  # the reader's statement loop
        elif parsed.state == END or (final and parsed.state == MORE):
            return rows
        view = buf if parsed.state == MORE or not final else view


@settings(max_examples=200, deadline=None)
@given(_rows, _rows, st.integers(0, 1000), st.integers(1, 5))
def test_parse_resumes_where_the_window_was_cut(first, second, cut, max_rows):
    width = len(first[0])
    second = [(r + [None] * width)[:width] for r in second]
    statements = [
        INSERT + b" " + ",".join("(" + ",".join(map(mysql_literal, r)) + ")" for r in rows).encode()
        for rows in (first, second)
    ]
    buf = b";\n".join(statements) + b";\n"
    assert _read_cut(buf, len(INSERT), cut, max_rows, False) == first + second
    copy = "".join("\t".join(map(copy_field, r)) + "\n" for r in first + second).encode()
    assert _read_cut(copy + b"\\.\n", 0, cut, max_rows, True) == first + second


def test_a_broken_tuple_costs_only_itself(tmp_path, ingest_people):
    rows = [[str(i), p[0], p[1], p[3]] for i, p in enumerate(ingest_people)]
    tuples = ["(" + ",".join(mysql_literal(v) for v in r) + ")" for r in rows]
    rows[49][3] = "北京市(东城区),(西城区);\n3号"  # a valid value that looks like a tuple's end
    tuples[49] = "(" + ",".join(mysql_literal(v) for v in rows[49]) + ")"
    tuples[50] = "(50,'甲' '乙','x','地址')"  # two strings without a comma
    tuples[120] = "(120,'未闭合的引号,NULL,NULL)"  # a quote never closed within the tuple
    path = tmp_path / "dump.sql"
    path.write_text("INSERT INTO `t` VALUES " + ",\n".join(tuples) + ";\n", encoding="utf-8")
    source = open_source(path)
    got = tables_of(source)["t"]
    assert [r[0] for r in got] == [r[0] for r in rows if r[0] not in ("50", "120")]
    assert got[-1] == rows[-1]
    assert [(p.place.split(" (")[0], p.rows_skipped) for p in source.problems] == [
        ("dump.sql line 51", 1),
        ("dump.sql line 121", 1),
    ]
