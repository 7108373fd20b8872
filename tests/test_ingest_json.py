"""JSON arrays (streamed) and JSON Lines: flattening, union of keys, broken and truncated input."""

from __future__ import annotations

import json

import pytest

from leaktrace.ingest import open_source
from leaktrace.ingest.json_reader import flatten


def records(ingest_people: list[list[str]]) -> list[dict]:
    return [
        {
            "name": r[0],
            "id_no": int(r[1]) if i % 2 and r[1].isdigit() else r[1],  # some IDs as JSON numbers
            "contact": {"mobile": r[2], "addr": {"full": r[3]}},
            "cards": [r[4]],
            "vip": i % 3 == 0,
            "note": None,
        }
        for i, r in enumerate(ingest_people)
    ]


def table_rows(source) -> list[dict]:
    out: list[dict] = []
    for batch in source.batches():
        out.extend(batch.data.to_pylist())
    return out


def test_flatten_nested():
    row = flatten({"a": {"b": {"c": 1}}, "d": [1, "x"], "e": True, "f": None, "g": {}})
    assert row == {"a.b.c": "1", "d[]": "1\nx", "e": "true", "f": None, "g": "{}"}


def test_flatten_lists_of_objects_keep_every_value():
    row = flatten({"contacts": [{"phone": "13800000001"}, {"phone": "13900000002", "n": 1}]})
    assert row == {"contacts[].phone": "13800000001\n13900000002", "contacts[].n": "1"}


def test_json_array_nested_and_exact_numbers(tmp_path, ingest_people):
    data = records(ingest_people)
    path = tmp_path / "api.json"
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    source = open_source(path)
    assert (source.format, source.kind) == ("json", "table")
    rows = table_rows(source)
    assert len(rows) == len(data)
    assert [r["id_no"] for r in rows] == [p[1] for p in ingest_people]  # 18 digits, exact
    assert rows[0]["contact.addr.full"] == ingest_people[0][3]
    assert rows[1]["vip"] == "false" and rows[0]["vip"] == "true"
    assert rows[0]["cards[]"] == ingest_people[0][4]


@pytest.mark.parametrize("layout", ["indent2", "indent4_crlf", "tabs"])
def test_pretty_printed_arrays_read_as_the_compact_ones(tmp_path, ingest_people, layout):
    """Elements laid out over many lines (as json.dumps(indent=...) and API tools write them),
    with strings that hold a separator and a key, give the rows the compact array gives."""
    data = [
        {
            "姓名": name,
            "证件": {"号码": rid, "备注": 'x"}, {"姓名": 1'},
            "contacts": [{"phone": mobile}, {"phone": None}],
            "addr": addr,
        }
        for name, rid, mobile, addr, *_ in ingest_people
    ] * 300
    text = json.dumps(data, ensure_ascii=False, indent="\t" if layout == "tabs" else 2)
    if layout == "indent4_crlf":
        text = json.dumps(data, ensure_ascii=False, indent=4).replace("\n", "\r\n")
    pretty, compact = tmp_path / "pretty.json", tmp_path / "compact.json"
    pretty.write_text(text, encoding="utf-8")
    compact.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    assert table_rows(open_source(pretty)) == table_rows(open_source(compact))
    assert len(table_rows(open_source(pretty))) == len(data)


def test_json_array_streams_in_batches(tmp_path):
    data = [{"mobile": f"138{i:08d}"} for i in range(100_000)]
    path = tmp_path / "big.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    batches = list(open_source(path).batches())
    assert len(batches) >= 2
    assert sum(b.data.num_rows for b in batches) == 100_000
    assert batches[1].first_row == batches[0].data.num_rows + 1


def test_json_array_union_of_keys(tmp_path):
    path = tmp_path / "u.json"
    path.write_text('[{"a": "1"}, {"b": "2"}, {"a": "3", "c": {"d": "4"}}]')
    rows = table_rows(open_source(path))
    rows = [{k: r.get(k) for k in ("a", "b", "c.d")} for r in rows]  # later batches add columns
    assert rows == [
        {"a": "1", "b": None, "c.d": None},
        {"a": None, "b": "2", "c.d": None},
        {"a": "3", "b": None, "c.d": "4"},
    ]


def test_json_array_broken_element_and_truncation(tmp_path, ingest_people):
    good = [
        json.dumps({"name": r[0], "mobile": r[2]}, ensure_ascii=False) for r in ingest_people[:6]
    ]
    text = (
        "[\n"
        + ",\n".join(good[:2] + ['{"name": "x", mobile: 1}'] + good[2:5])
        + ",\n"
        + good[5][:10]
    )
    path = tmp_path / "broken.json"
    path.write_text(text, encoding="utf-8")
    source = open_source(path)
    rows = table_rows(source)
    assert [r["mobile"] for r in rows] == [r[2] for r in ingest_people[:5]]
    assert source.problems[0].place.startswith("broken.json line 4")
    assert source.rows_skipped == 2  # the broken element and the cut-off last one


def test_jsonl_with_broken_line(tmp_path, ingest_people):
    lines = [json.dumps(r, ensure_ascii=False) for r in records(ingest_people[:10])]
    lines.insert(3, '{"name": "张三", "id_no": ')  # line 4 is cut off
    path = tmp_path / "dump.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="gb18030")
    source = open_source(path)
    assert (source.format, source.encoding) == ("jsonl", "gb18030")
    rows = table_rows(source)
    assert [r["name"] for r in rows] == [p[0] for p in ingest_people[:10]]
    assert [(p.place, p.rows_skipped) for p in source.problems] == [("dump.jsonl line 4", 1)]


def test_json_object_with_record_lists(tmp_path, ingest_people):
    doc = {"code": 0, "data": [{"name": r[0]} for r in ingest_people[:3]], "users": [{"m": "1"}]}
    path = tmp_path / "resp.json"
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")
    source = open_source(path)
    assert source.format == "json"
    tables = {b.table: b.data.to_pylist() for b in source.batches()}
    assert tables == {
        "resp:data[]": [{"name": r[0]} for r in ingest_people[:3]],
        "resp:users[]": [{"m": "1"}],
    }
