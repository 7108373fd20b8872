"""JSON records wherever they sit (API envelopes, in documents and on JSON Lines), JSON nested
deeper than any recursion limit, and the fast and record-by-record paths agreeing."""

from __future__ import annotations

import json
import string
from pathlib import Path

import hypothesis.strategies as st
import polars as pl
import pytest
from hypothesis import given, settings

from leaktrace.ingest import json_reader, open_source
from leaktrace.ingest.json_columns import records_table
from leaktrace.ingest.json_records import envelope_key, find_records, flatten
from leaktrace.scan.run import scan

DEPTH = 20_000


def people(ingest_people: list[list[str]], n: int = 20) -> list[dict]:
    """Customer records as an app's API returns them: nested contact, a list of contacts."""
    return [
        {
            "name": r[0],
            "idCard": r[1],
            "contact": {"mobile": r[2], "address": r[3]},
            "contacts": [{"rel": "配偶", "phone": ingest_people[-1 - i][2]}],
            "card": r[4],
        }
        for i, r in enumerate(ingest_people[:n])
    ]


def tables_of(path: Path) -> dict[str, list[dict]]:
    source = open_source(path)
    out: dict[str, list[dict]] = {}
    for batch in source.batches():
        out.setdefault(batch.table, []).extend(batch.data.to_pylist())
    assert source.problems == []
    return out


@pytest.mark.parametrize(
    ("wrap", "table"),
    [
        (
            lambda rs: {"code": 0, "msg": "ok", "data": {"list": rs, "total": len(rs)}},
            "data.list[]",
        ),
        (lambda rs: {"data": rs}, "data[]"),
        (lambda rs: {"result": {"rows": rs}, "success": True, "traceId": "a1"}, "result.rows[]"),
    ],
)
@pytest.mark.parametrize("indent", [None, 2])
def test_envelope_records_are_the_list(tmp_path, ingest_people, wrap, table, indent):
    records = people(ingest_people)
    path = tmp_path / "resp.json"
    path.write_text(json.dumps(wrap(records), ensure_ascii=False, indent=indent), "utf-8")
    assert open_source(path).format == "json"  # a compact one-line response too
    tables = tables_of(path)
    assert list(tables) == [f"resp:{table}"]
    rows = tables[f"resp:{table}"]
    assert [r["idCard"] for r in rows] == [p["idCard"] for p in records]
    assert [r["contact.mobile"] for r in rows] == [p["contact"]["mobile"] for p in records]
    assert rows[0]["contacts[].phone"] == records[0]["contacts"][0]["phone"]


def test_several_arrays_and_a_record_with_a_list(tmp_path, ingest_people):
    records = people(ingest_people, 6)
    doc = {"status": "ok", "users": records[:4], "blacklist": records[4:]}
    path = tmp_path / "multi.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), "utf-8")
    tables = tables_of(path)
    assert {t: len(rs) for t, rs in tables.items()} == {"multi:blacklist[]": 2, "multi:users[]": 4}
    # one person with a list of contacts is one record, not an envelope of contacts
    one = tmp_path / "one.json"
    one.write_text(json.dumps(records[0], ensure_ascii=False), "utf-8")
    assert tables_of(one) == {"one": [flatten(records[0])]}


@pytest.mark.parametrize("encoding", ["gb18030", "utf-16"])
def test_envelope_per_line_in_json_lines(tmp_path, ingest_people, encoding):
    records = people(ingest_people, 12)
    lines = [
        json.dumps({"code": 0, "data": {"list": records[i : i + 3]}}, ensure_ascii=False)
        for i in range(0, 12, 3)
    ]
    path = tmp_path / "pages.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding)
    assert open_source(path).format == "jsonl"
    tables = tables_of(path)
    assert [r["idCard"] for r in tables["pages:data.list[]"]] == [p["idCard"] for p in records]
    assert list(tables) == ["pages:data.list[]"]


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030", "utf-16"])
def test_large_envelope_streams(tmp_path, ingest_people, monkeypatch, encoding):
    """An envelope too large to decode whole is walked as a stream: the same records, and
    its fields outside the list (one holds data: a contact) make one record of their own."""
    monkeypatch.setattr(json_reader, "_WHOLE_MAX", 1000)
    records = people(ingest_people, 200)
    doc = {"code": 0, "owner": {"tel": ingest_people[0][2]}, "data": {"list": records, "n": 1}}
    path = tmp_path / "big.json"
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding)
    tables = tables_of(path)
    assert [r["idCard"] for r in tables["big:data.list[]"]] == [p["idCard"] for p in records]
    assert tables["big"] == [{"code": "0", "owner.tel": ingest_people[0][2], "data.n": "1"}]


def test_broken_element_inside_an_envelope(tmp_path, ingest_people, monkeypatch):
    monkeypatch.setattr(json_reader, "_WHOLE_MAX", 100)
    items = [json.dumps(p, ensure_ascii=False) for p in people(ingest_people, 5)]
    items[2] = items[2].replace('"card"', "card")
    path = tmp_path / "api.json"
    path.write_text('{"code": 0,\n "data": {"list": [\n' + ",\n".join(items) + "]}}", "utf-8")
    source = open_source(path)
    rows = [r for b in source.batches() for r in b.data.to_pylist()]
    assert len(rows) == 4
    assert [(p.place.split(" column")[0], p.rows_skipped) for p in source.problems] == [
        ("api.json line 5", 1)
    ]


def _deep(leaf: str) -> str:
    return '{"a":' * DEPTH + json.dumps(leaf) + "}" * DEPTH


@pytest.mark.parametrize("shape", ["array", "jsonl", "document", "list"])
def test_deep_nesting_is_read(tmp_path, ingest_people, shape):
    """20,000 levels: no RecursionError anywhere; the identifier at the bottom is found."""
    id_no = ingest_people[0][1]
    deep = _deep(id_no)
    other = json.dumps({"idCard": ingest_people[1][1]})
    text = {
        "array": f"[{other},\n{deep},\n{other}]",
        "jsonl": f"{other}\n{deep}\n{other}\n",
        "document": deep,
        "list": "[" * DEPTH + json.dumps(id_no) + "]" * DEPTH,
    }[shape]
    path = tmp_path / ("deep.jsonl" if shape == "jsonl" else "deep.json")
    path.write_text(text, "utf-8")
    source = open_source(path)
    values = [v for b in source.batches() for c in b.data.columns for v in c.to_pylist()]
    assert id_no in values and source.problems == []
    result = scan([path])
    assert result.sources[0].problems == []
    assert result.kinds["resident_id"].found == (1 if shape in ("document", "list") else 3)


def test_scan_counts_every_record_of_an_envelope(tmp_path, ingest_people):
    records = people(ingest_people, 50)
    path = tmp_path / "resp.json"
    doc = {"code": 0, "msg": "ok", "data": {"list": records, "total": 50}}
    path.write_text(json.dumps(doc, ensure_ascii=False), "utf-8")
    result = scan([path], out=tmp_path / "out.parquet")
    assert result.records == 50
    assert result.kinds["resident_id"].found == 50
    out = pl.read_parquet(tmp_path / "out.parquet")  # what verify reads: one row a record
    assert out.height == 50 and set(out["table"]) == {"resp:data.list[]"}
    assert result.kinds["mobile"].found == 100  # each record's own and its contact's


_keys = st.text(string.ascii_letters + "_", min_size=1, max_size=6)
_scalars = st.one_of(st.text(max_size=8), st.integers(-(10**20), 10**20), st.booleans(), st.none())
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_keys, inner, max_size=3),
    max_leaves=12,
)


def _leaves(value) -> list[str]:
    if isinstance(value, dict):
        return [x for v in value.values() for x in _leaves(v)]
    if isinstance(value, list):
        return [x for v in value for x in _leaves(v)]
    if value is None:
        return []
    return ["true" if value is True else "false" if value is False else str(value)]


@given(_values)
@settings(max_examples=300, deadline=None)
def test_flatten_keeps_every_value(value):
    cells = "\n".join(v for v in flatten(value).values() if v is not None)
    for leaf in _leaves(value):
        assert leaf in cells


@given(st.lists(st.dictionaries(_keys, _values, max_size=4), min_size=1, max_size=5))
@settings(max_examples=200, deadline=None)
def test_fast_table_matches_record_by_record(records):
    """Where the Arrow path takes records, it gives the cells flattening gives."""
    table = records_table(records)
    if table is None:
        return
    for got, record in zip(table.to_pylist(), records, strict=True):
        want = flatten(record)
        assert {k: v for k, v in got.items() if v is not None} == {
            k: v for k, v in want.items() if v is not None and v != "{}"
        }


@given(
    st.lists(st.dictionaries(_keys, _scalars, min_size=1, max_size=3), min_size=1, max_size=4),
    st.sampled_from(["data", "list", "rows", "items", "records", "result"]),
    st.dictionaries(st.sampled_from(["code", "msg", "total", "pageSize", "trace_id"]), _scalars),
)
def test_envelope_found_whatever_its_keys(records, key, meta):
    doc = {**meta, "data": {key: records}}
    assert find_records(doc) == [(f"data.{key}[]", records)]
    person = {"name": "张三", "phones": [{"no": "13800000000"}]}
    assert find_records(person) is None


def test_envelope_keys():
    assert all(envelope_key(k) for k in ["code", "msg", "errMsg", "total", "page_no", "hasMore"])
    assert not any(envelope_key(k) for k in ["name", "mobile", "idCard", "身份证", "address"])


@pytest.mark.parametrize("name", ["bad.json", "bad.jsonl"])
def test_lone_surrogate_escape_is_replaced(tmp_path, ingest_people, name):
    """A "\\ud800" escape decodes to a character UTF-8 cannot hold: replaced, row kept."""
    mobile = ingest_people[0][2]
    rows = [{"note": "\ud800备注", "mobile": mobile}, {"note": "正常", "mobile": mobile}]
    text = json.dumps(rows) if name.endswith(".json") else "\n".join(map(json.dumps, rows))
    path = tmp_path / name
    path.write_text(text, "utf-8")
    got = [r for t in tables_of(path).values() for r in t]
    assert got == [{"note": "?备注", "mobile": mobile}, {"note": "正常", "mobile": mobile}]


@given(
    st.lists(st.dictionaries(_keys, _scalars, min_size=1, max_size=3), min_size=1, max_size=6),
    st.dictionaries(st.sampled_from(["code", "msg", "total", "pageSize"]), _scalars),
    st.booleans(),
)
@settings(max_examples=60, deadline=None)
def test_streamed_envelope_reads_as_decoded(tmp_path_factory, records, meta, pretty):
    """An envelope walked as a stream gives the records that decoding it whole gives."""
    doc = {**meta, "data": {"list": records, "total": len(records)}}
    path = tmp_path_factory.mktemp("env") / "resp.json"
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=1 if pretty else None), "utf-8")
    whole = tables_of(path)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(json_reader, "_WHOLE_MAX", 8)
        streamed = tables_of(path)

    def cells(tables):
        return {
            t: [{k: v for k, v in r.items() if v is not None} for r in rs]
            for t, rs in tables.items()
        }

    assert cells(streamed) == cells(whole)
    assert len(whole["resp:data.list[]"]) == len(records)


def test_deep_value_across_lines_of_json_lines(tmp_path, ingest_people):
    """A value nested 20,000 deep over as many lines (not JSON Lines) never reaches Arrow's
    recursive parser: its lines are counted as skipped, the good ones read."""
    good = [json.dumps({"idCard": r[1]}) for r in ingest_people[:2]]
    deep = '{"a":\n' * DEPTH + '"x"' + "}\n" * DEPTH
    path = tmp_path / "multi.jsonl"
    path.write_text(good[0] + "\n" + deep + good[1] + "\n", "utf-8")
    source = open_source(path)
    rows = [r for b in source.batches() for r in b.data.to_pylist()]
    assert [r["idCard"] for r in rows] == [r[1] for r in ingest_people[:2]]
    assert source.rows_skipped == 2 * DEPTH
    assert source.problems[0].place == "multi.jsonl line 2"
