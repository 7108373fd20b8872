"""synth leaks: each kind's ground truth is exactly what its rows contain, and every writer's
output reads back to the same rows."""

from __future__ import annotations

import datetime as dt
import json
import re

import polars as pl
import pytest
from python_calamine import CalamineWorkbook
from stdnum.cn import ric

from leaktrace.synth.bundle import synth_to_dir
from leaktrace.synth.leaks import FULLWIDTH, KINDS, Leak, make_leak
from leaktrace.synth.world import World, make_world
from leaktrace.synth.writers import FORMATS, FORUM_SAMPLE, write_leak

UNFOLD = str.maketrans({v: k for k, v in FULLWIDTH.items()})


@pytest.fixture(scope="module")
def world() -> World:
    return make_world(6000, seed=11)


def expected(world: World, day: dt.date) -> dict[int, dict]:
    """Every customer's values on ``day``, computed here independently of leaks.values_as_of."""
    cust = {r["customer_id"]: dict(r) for r in world.customers.collect().iter_rows(named=True)}
    for h in world.history.collect().iter_rows(named=True):
        if h["valid_from"] <= day < h["valid_to"]:
            cust[h["customer_id"]][h["field"]] = h["value"]
    for c in cust.values():
        c["sex"] = "男" if c["sex"] == "M" else "女"
        c["birth_date"] = c["birth_date"].isoformat()
    return cust


def check_exact(world: World, leak: Leak) -> None:
    """Rows from the world equal the customer's values on the snapshot date; others are not ours."""
    t = leak.truth
    assert leak.rows.height == len(t.customer_ids) == len(t.origins)
    truth = expected(world, t.snapshot)
    ours = set(world.customers.collect()["resident_id"])
    for row, cid, origin in zip(
        leak.rows.iter_rows(named=True), t.customer_ids, t.origins, strict=True
    ):
        if cid is None:
            assert origin in ("foreign", "fabricated")
            assert row.get("resident_id") not in ours
            continue
        assert origin == "world"
        assert truth[cid]["opened_on"] <= t.snapshot
        for col, fld in t.columns.items():
            assert row[col] == truth[cid][fld], (col, cid)


@pytest.mark.parametrize("kind", ["share", "employee", "union", "stale", "padded"])
def test_unaltered_kinds_match_world_exactly(world: World, kind: str) -> None:
    leak = make_leak(world, kind, seed=3)
    assert leak.rows.height > 0
    check_exact(world, leak)
    assert not any(a.kind in ("typo", "masked", "fullwidth") for a in leak.truth.alterations)


def test_share_leak_comes_from_its_share(world: World) -> None:
    leak = make_leak(world, "share", seed=4, recipient_id="P001", size=0.5)
    share = world.shares.filter(pl.col("share_id") == leak.truth.share_ids[0]).row(0, named=True)
    assert leak.truth.sources == ["P001"] == [share["recipient_id"]]
    assert set(leak.truth.customer_ids) <= set(share["customer_ids"])
    assert leak.truth.snapshot == share["shared_on"]
    assert leak.rows.columns == share["columns"]


def test_employee_leak_is_that_insiders_misuse(world: World) -> None:
    emp = world.insiders[0]
    leak = make_leak(world, "employee", seed=1, employee_id=emp)
    bad = world.access_log.filter((pl.col("employee_id") == emp) & ~pl.col("legitimate")).collect()
    assert leak.truth.sources == [emp]
    assert set(leak.truth.customer_ids) == set(bad["customer_id"])


def test_union_merges_distinct_recipients(world: World) -> None:
    leak = make_leak(world, "union", seed=2, n_sources=3)
    assert len(set(leak.truth.sources)) == 3
    pool = set(
        world.shares.filter(pl.col("share_id").is_in(leak.truth.share_ids)).explode("customer_ids")[
            "customer_ids"
        ]
    )
    assert set(leak.truth.customer_ids) <= pool
    assert len(set(leak.truth.customer_ids)) == leak.rows.height  # merged lists are deduplicated


def test_stale_values_differ_from_today(world: World) -> None:
    leak = make_leak(world, "stale", seed=5, recipient_id="V007", size=1.0)
    assert leak.truth.snapshot < world.as_of
    now = expected(world, world.as_of)
    changed = sum(
        row["mobile"] != now[cid]["mobile"]
        for row, cid in zip(leak.rows.iter_rows(named=True), leak.truth.customer_ids, strict=True)
    )
    assert changed > 0


def test_padded_rows_are_foreign(world: World) -> None:
    leak = make_leak(world, "padded", seed=6, pad=0.5)
    n_foreign = leak.truth.origins.count("foreign")
    assert n_foreign == pytest.approx(0.5 * leak.truth.origins.count("world"), abs=1)
    check_exact(world, leak)


def test_reformatted_stale_padded_composition(world: World) -> None:
    leak = make_leak(world, "stale", seed=8, recipient_id="V007", reformat=True, pad=0.2)
    t = leak.truth
    assert set(leak.rows.columns) <= {
        "姓名",
        "身份证号",
        "手机号",
        "地址",
        "卡号",
        "邮箱",
        "性别",
        "出生日期",
        "开户行",
    }
    assert set(t.columns) == set(leak.rows.columns)
    kinds = {a.kind for a in t.alterations}
    assert {"stale", "padded", "renamed", "reordered", "dropped", "masked", "typo"} <= kinds
    truth = expected(world, t.snapshot)
    typo_rows = {(a.field, r) for a in t.alterations if a.kind == "typo" for r in a.rows}
    masked = {a.field for a in t.alterations if a.kind == "masked"}
    for i, (row, cid) in enumerate(
        zip(leak.rows.iter_rows(named=True), t.customer_ids, strict=True)
    ):
        if cid is None:
            continue
        for col, fld in t.columns.items():
            if row[col] is None:
                assert truth[cid][fld] is None
                continue
            got, want = row[col].translate(UNFOLD), truth[cid][fld]
            if (fld, i) in typo_rows:
                assert got != want
            elif fld in masked:
                assert "*" in got and got[:3] == want[:3] and got[-4:] == want[-4:]
                assert len(got) == len(want)
            else:
                assert got == want, (fld, i)


def test_fabricated_with_invalid_check_digits(world: World) -> None:
    leak = make_leak(world, "fabricated", seed=9, size=300, invalid=0.3)
    bad = {r for a in leak.truth.alterations if a.kind == "invalid_check" for r in a.rows}
    assert 30 < len(bad) < 150
    for i, rid in enumerate(leak.rows["resident_id"]):
        assert ric.is_valid(rid) == (i not in bad)
    assert leak.truth.customer_ids == [None] * 300
    check_exact(world, leak)


def test_leaks_deterministic(world: World) -> None:
    a = make_leak(world, "reformatted", seed=12, pad=0.1)
    b = make_leak(world, "reformatted", seed=12, pad=0.1)
    assert a.rows.equals(b.rows) and a.truth == b.truth


def test_unknown_kind_rejected(world: World) -> None:
    with pytest.raises(ValueError, match="unknown leak kind"):
        make_leak(world, "mystery")
    assert "fabricated" in KINDS


def _sql_tuples(text: str) -> list[list[str | None]]:
    rows = []
    for values in re.findall(r"^INSERT INTO `\w+` VALUES (.*);$", text, flags=re.M):
        for tup in re.findall(r"\(((?:'(?:[^'\\]|\\.)*'|NULL|,)*)\)", values):
            rows.append(
                [
                    None if v == "NULL" else v[1:-1].replace("\\'", "'").replace("\\\\", "\\")
                    for v in re.findall(r"'(?:[^'\\]|\\.)*'|NULL", tup)
                ]
            )
    return rows


def _read_back(path, fmt: str, encoding: str) -> list[list[str | None]]:
    if fmt in ("csv", "tsv"):
        df = pl.read_csv(
            path.read_bytes().decode(encoding).encode(),
            separator="," if fmt == "csv" else "\t",
            infer_schema=False,
        )
        return [list(r) for r in df.iter_rows()]
    if fmt == "xlsx":
        sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
        return [[v if v != "" else None for v in r] for r in sheet[1:]]
    if fmt == "json":
        return [list(d.values()) for d in json.loads(path.read_text(encoding="utf-8"))]
    if fmt == "jsonl":
        return [list(json.loads(line).values()) for line in path.read_text("utf-8").splitlines()]
    text = path.read_text(encoding=encoding)
    if fmt == "mysql":
        return _sql_tuples(text)
    if fmt == "postgres":
        body = text.split("FROM stdin;\n", 1)[1].split("\n\\.\n", 1)[0]
        return [[None if v == "\\N" else v for v in line.split("\t")] for line in body.splitlines()]
    lines = text.splitlines()
    start = lines.index("-" * 40) + 2
    return [line.split(" ") for line in lines[start : start + FORUM_SAMPLE]]


@pytest.mark.parametrize("fmt", FORMATS)
def test_writers_round_trip(world: World, tmp_path, fmt: str) -> None:
    leak = make_leak(world, "reformatted", seed=13, recipient_id="P002")
    encoding = "gbk" if fmt == "csv" else "utf-8"
    path = write_leak(leak, tmp_path / f"leak.{fmt}", fmt, encoding)
    assert not list(tmp_path.glob("*.tmp"))
    want = [list(r) for r in leak.rows.iter_rows()]
    if fmt == "forum":
        want = [[v or "" for v in r] for r in want[:FORUM_SAMPLE]]
    got = _read_back(path, fmt, encoding)
    if fmt in ("csv", "tsv", "xlsx"):
        want = [[v if v != "" else None for v in r] for r in want]
    assert got == want


def test_synth_to_dir_writes_world_and_truths(tmp_path) -> None:
    summary = synth_to_dir(tmp_path, 3000, seed=1)
    assert (tmp_path / "world" / "customers.parquet").exists()
    assert summary["tables"]["customers"] == 3000
    for item in summary["leaks"]:
        truth = json.loads(open(item["truth"], encoding="utf-8").read())
        assert len(truth["customer_ids"]) == item["rows"] > 0
    assert not list(tmp_path.rglob("*.tmp"))
