"""The labelled scanning corpus is exactly right: positions, values, check digits, number plans,
distractors, determinism, and the ground truth of the files it writes."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from collections import Counter
from pathlib import Path

import phonenumbers
import pytest
from python_calamine import CalamineWorkbook
from stdnum.cn import ric

from leaktrace.synth.corpus import (
    BANK_BINS,
    KINDS,
    STATUSES,
    TABLE_COLUMNS,
    Document,
    counties,
    id_checksum_ok,
    luhn_ok,
    make_documents,
    normalise,
    text_dump_documents,
    write_table,
    write_table_dump,
    write_text_dump,
)

SEED = 11


@pytest.fixture(scope="module")
def docs() -> list[Document]:
    return make_documents(1500, SEED)


def _labels(docs: list[Document], kind: str, status: str) -> list[str]:
    return [lab.value for d in docs for lab in d.labels if (lab.kind, lab.status) == (kind, status)]


def _mobile_ok(value: str) -> bool:
    n = phonenumbers.parse(value, "CN")
    return phonenumbers.is_valid_number(n) and (
        phonenumbers.number_type(n) == phonenumbers.PhoneNumberType.MOBILE
    )


def test_every_label_is_where_it_says(docs: list[Document]) -> None:
    seen = Counter()
    for d in docs:
        last_end = 0
        for lab in d.labels:
            assert lab.kind in KINDS and lab.status in STATUSES
            assert last_end <= lab.start < lab.end <= len(d.text)
            surface = d.text[lab.start : lab.end]
            assert surface == surface.strip()
            assert normalise(lab.kind, surface) == lab.value
            seen[lab.kind, lab.status] += 1
            last_end = lab.end
    for kind in KINDS:
        assert seen[kind, "valid"] > 20, kind
    for kind in ("resident_id", "mobile", "bank_card"):
        assert seen[kind, "masked"] > 5, kind
    for kind in ("resident_id", "bank_card"):
        assert seen[kind, "invalid"] > 5, kind


def test_formatting_variants_occur(docs: list[Document]) -> None:
    surfaces = [d.text[lab.start : lab.end] for d in docs for lab in d.labels]
    assert any(re.fullmatch(r"1\d\d \d{4} \d{4}", s) for s in surfaces)
    assert any(re.fullmatch(r"1\d\d-\d{4}-\d{4}", s) for s in surfaces)
    assert any(s.startswith("+86 1") for s in surfaces)
    assert any(s.startswith("0086-1") for s in surfaces)
    assert any(re.search(r"[０-９]{11}", s) for s in surfaces)
    assert any(re.fullmatch(r"\d{17}x", s) for s in surfaces)
    assert any(re.fullmatch(r"\d{6}\*{8}\d{4}", s) for s in surfaces)
    assert any(re.fullmatch(r"1\d\d\*{4}\d{4}", s) for s in surfaces)
    assert any("·" in s for s in surfaces)


def test_resident_ids(docs: list[Document]) -> None:
    codes = {c.code for c in counties()}
    valid = _labels(docs, "resident_id", "valid")
    for v in valid:
        if len(v) == 18:
            assert id_checksum_ok(v), v
            assert ric.is_valid(v), v  # python-stdnum: checksum, date and birth place
            assert dt.date(int(v[6:10]), int(v[10:12]), int(v[12:14])) <= dt.date(2007, 12, 31)
        else:
            assert len(v) == 15 and v.isdigit(), v
            dt.date(1900 + int(v[6:8]), int(v[8:10]), int(v[10:12]))
        assert v[:6] in codes
    assert sum(len(v) == 15 for v in valid) > 10
    invalid = _labels(docs, "resident_id", "invalid")
    assert invalid and not any(id_checksum_ok(v) or ric.is_valid(v) for v in invalid)
    assert all("*" in v and len(v) == 18 for v in _labels(docs, "resident_id", "masked"))


def test_mobiles_are_valid_per_phonenumbers(docs: list[Document]) -> None:
    valid = _labels(docs, "mobile", "valid")
    assert len(valid) > 500
    assert all(len(v) == 11 and _mobile_ok(v) for v in valid)
    masked = _labels(docs, "mobile", "masked")
    assert all(len(v) == 11 and "****" in v for v in masked)


def test_bank_cards(docs: list[Document]) -> None:
    bins = {b: n for b, n, _ in BANK_BINS}
    for v in _labels(docs, "bank_card", "valid"):
        assert luhn_ok(v) and bins[v[:6]] == len(v), v
    invalid = _labels(docs, "bank_card", "invalid")
    assert invalid and not any(luhn_ok(v) for v in invalid)


def test_other_kinds_have_their_shapes(docs: list[Document]) -> None:
    for v in _labels(docs, "landline", "valid"):
        n = phonenumbers.parse(v, "CN")
        assert phonenumbers.is_valid_number(n), v
        assert phonenumbers.number_type(n) == phonenumbers.PhoneNumberType.FIXED_LINE, v
    assert all(
        re.fullmatch(r"[a-z0-9._]+@[a-z0-9]+\.[a-z]+", v) for v in _labels(docs, "email", "valid")
    )
    assert all(re.fullmatch(r"[EG]\d{8}", v) for v in _labels(docs, "passport", "valid"))
    plate = r"[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-HJ-NP-Z](?:[0-9A-HJ-NP-Z]{5}|[DF]\d{5})"
    assert all(re.fullmatch(plate, v) for v in _labels(docs, "plate", "valid"))


def test_unlabelled_digit_runs_are_no_valid_identifiers(docs: list[Document]) -> None:
    """Order numbers, timestamps, QQ numbers, prices, tracking numbers: none may pass as a valid
    resident ID, bank card or mobile. Digits inside an alphanumeric token (JDVA13412345678) are
    part of that token, not a run of their own."""
    token = re.compile(r"[0-9A-Za-z０-９]+")
    distractors = 0
    for d in docs:
        covered = [(lab.start, lab.end) for lab in d.labels]
        for m in token.finditer(d.text):
            v = normalise("resident_id", m.group())
            if any(s <= m.start() < e for s, e in covered) or not v[:-1].isdigit():
                continue
            distractors += len(v) >= 11
            assert not id_checksum_ok(v), v
            assert not (16 <= len(v) <= 19 and luhn_ok(v)), v
            assert not (len(v) == 11 and v.isdigit() and _mobile_ok(v)), v
    assert distractors > 200


def test_same_seed_same_corpus() -> None:
    a, b, c = make_documents(60, 5), make_documents(60, 5), make_documents(60, 6)
    assert a == b
    assert [d.text for d in a] != [d.text for d in c]


def _cell_status(kind: str, value: str) -> str:
    v = normalise(kind, value)
    if "*" in v:
        return "masked"
    if kind == "resident_id" and len(v) == 18 and not id_checksum_ok(v):
        return "invalid"
    if kind == "bank_card" and not luhn_ok(v):
        return "invalid"
    return "valid"


def _check_table(rows: list[list[str]], columns: dict[str, str | None], counts: dict) -> None:
    found = {k: Counter() for k in KINDS}
    for row in rows:
        assert len(row) == len(columns)
        for value, kind in zip(row, columns.values(), strict=True):
            if kind is None:
                continue
            status = _cell_status(kind, value)
            found[kind][status] += 1
            v = normalise(kind, value)
            if status == "valid" and kind == "mobile":
                assert _mobile_ok(v), value
            if status == "valid" and kind == "resident_id" and len(v) == 18:
                assert ric.is_valid(v), value
    for kind in KINDS:
        assert {s: found[kind][s] for s in STATUSES} == counts[kind], kind


@pytest.mark.parametrize(
    ("fmt", "encoding", "header"),
    [
        ("csv", "utf-8", "zh"),
        ("csv", "gbk", "en"),
        ("tsv", "gb18030", None),
        ("jsonl", "utf-8", "zh"),
    ],
)
def test_table_truth_matches_file(
    tmp_path: Path, fmt: str, encoding: str, header: str | None
) -> None:
    path = tmp_path / f"t.{fmt}"
    truth = write_table(path, 600, SEED, fmt=fmt, encoding=encoding, header=header)
    assert truth.records == 600 and truth.bytes == path.stat().st_size
    raw = path.read_text(encoding=encoding)
    if fmt == "jsonl":
        objs = [json.loads(line) for line in raw.splitlines()]
        assert all(list(o) == list(truth.columns) for o in objs)
        rows = [list(o.values()) for o in objs]
    else:
        rows = list(csv.reader(raw.splitlines(), delimiter="," if fmt == "csv" else "\t"))
        if header:
            assert rows.pop(0) == list(truth.columns)
    expected = [TABLE_COLUMNS[k][0 if header == "zh" else 1] for k in TABLE_COLUMNS]
    assert list(truth.columns) == expected
    assert truth.columns["身份证号" if header == "zh" else "id_card"] == "resident_id"
    assert len(rows) == 600
    _check_table(rows, truth.columns, truth.counts)


def test_xlsx_table(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    truth = write_table(path, 200, SEED, fmt="xlsx", columns=["name", "resident_id", "mobile"])
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    assert rows[0] == ["姓名", "身份证号", "手机号"]
    _check_table([[str(c) for c in r] for r in rows[1:]], truth.columns, truth.counts)


def test_table_dump_truth(tmp_path: Path) -> None:
    truth = write_table_dump(tmp_path / "d.csv", 300_000, SEED)
    assert truth.bytes == (tmp_path / "d.csv").stat().st_size >= 300_000
    rows = list(csv.reader((tmp_path / "d.csv").read_text(encoding="utf-8").splitlines()))
    assert rows.pop(0) == list(truth.columns)
    assert len(rows) == truth.records
    _check_table(rows, truth.columns, truth.counts)


def test_text_dump_is_its_documents(tmp_path: Path) -> None:
    path = tmp_path / "d.txt"
    truth = write_text_dump(path, 200_000, SEED)
    docs = list(text_dump_documents(200_000, SEED))
    assert path.read_bytes() == "".join(d.text + "\n\n" for d in docs).encode("utf-8")
    assert truth.records == len(docs) and truth.bytes == path.stat().st_size >= 200_000
    counts = Counter((lab.kind, lab.status) for d in docs for lab in d.labels)
    assert truth.counts == {k: {s: counts[k, s] for s in STATUSES} for k in KINDS}
