"""JSON Lines and JSON arrays scanned in byte ranges by several processes give what one
process gives; an array cut inside an element is scanned again whole."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from same_scan import assert_split_matches_one_process

from leaktrace.ingest import open_source
from leaktrace.ingest.split import json_splittable, split_json
from leaktrace.synth.corpus import write_table_dump


def _records(tmp_path: Path, size: int, seed: int) -> list[dict]:
    """Bank-export rows (valid IDs, mobiles, cards) as JSON records with a nested contact."""
    csv = tmp_path / f"rows{seed}.csv"
    write_table_dump(csv, size, seed=seed)
    rows = pl.read_csv(csv, infer_schema=False).to_dicts()
    return [
        {**r, "联系": {"手机": r.pop("手机号"), "地址": r.pop("地址")}, "seq": i}
        for i, r in enumerate(rows)
    ]


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
def test_split_jsonl_matches_one_process(tmp_path, monkeypatch, encoding):
    records = _records(tmp_path, 300_000, seed=11)
    lines = [json.dumps(r, ensure_ascii=False) for r in records]
    lines[len(lines) // 2] = lines[len(lines) // 2][:-5]  # one broken line: same problem
    path = tmp_path / "dump.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding)
    src = open_source(path)
    assert json_splittable(src) and len(split_json(src, 3)) == 3
    one = assert_split_matches_one_process(tmp_path, path, monkeypatch)
    assert one.records == len(records) - 1
    assert [Path(p["place"]).name for p in one.sources[0].problems] == [
        f"dump.jsonl line {len(lines) // 2 + 1}"
    ]


@pytest.mark.parametrize("indent", [None, 2])
def test_split_json_array_matches_one_process(tmp_path, monkeypatch, indent):
    records = _records(tmp_path, 300_000, seed=12)
    path = tmp_path / "export.json"
    path.write_text(json.dumps(records, ensure_ascii=False, indent=indent), "utf-8")
    src = open_source(path)
    parts = split_json(src, 3)
    assert len(parts) == 3 and all(p.part is not None for p in parts)
    one = assert_split_matches_one_process(tmp_path, path, monkeypatch)
    assert one.records == len(records)


def test_array_cut_inside_an_element_is_scanned_whole(tmp_path, monkeypatch):
    """Elements holding lists of objects that open like the elements themselves: a range may
    start inside one; the scan notices and reads the file in one process."""
    records = _records(tmp_path, 200_000, seed=13)
    for r in records:
        r["亲属"] = [{"姓名": r["姓名"], "seq": 0}, {"姓名": r["姓名"], "seq": 1}]
    path = tmp_path / "nested.json"
    path.write_text(json.dumps(records, ensure_ascii=False), "utf-8")
    one = assert_split_matches_one_process(tmp_path, path, monkeypatch)
    assert one.records == len(records) and one.sources[0].problems == []
