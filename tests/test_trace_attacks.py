"""The leakers' attacks: each changes what it says it changes, nothing else, and keeps the truth
of every row (which customer, whose copy) exact."""

from __future__ import annotations

import datetime as dt
import re
from functools import partial

import numpy as np
import polars as pl
import pytest

from leaktrace import pii
from leaktrace.synth import attacks as A
from leaktrace.synth.trace_world import CUSTOMER, HEADERS, TraceWorld, make_trace_world
from leaktrace.trace import variants
from leaktrace.trace.ledger import Ledger
from leaktrace.trace.secret import Secret

AS_OF = dt.date(2026, 6, 30)
MARKED = ("resident_id", "mobile", "bank_card", "address")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> TraceWorld:
    out = tmp_path_factory.mktemp("copies")
    return make_trace_world(
        np.random.default_rng(4),
        3_000,
        120,
        Secret(bytes(range(60, 100))),
        Ledger("sqlite://"),
        out=out,
        written=20,
    )


def _full_share(world: TraceWorld, written: bool = True) -> A.Leak:
    """A copy of every kind of column, from a written share (with canaries) or in memory."""
    truth = max(
        (s for s in world.shares if (s.path is not None) == written),
        key=lambda s: (len(s.columns), s.customers.size),
    )
    return A.from_copy(world.copy(truth.share_id), truth.share_id, world.roles)


def _by_customer(leak: A.Leak) -> dict[int, dict[str, str]]:
    records = leak.records()
    return {r["customer"]: r for r in records.iter_rows(named=True) if r["customer"] is not None}


@pytest.fixture(scope="module")
def leak(world: TraceWorld) -> A.Leak:
    return _full_share(world)


def test_a_copy_leak_knows_its_rows(world: TraceWorld, leak: A.Leak) -> None:
    assert set(leak.kinds.values()) == set(HEADERS)
    assert leak.truth["origin"].value_counts().sort("origin").rows() == [
        ("canary", 3),
        ("copy", leak.height - 3),
    ]
    assert len(leak.sources()) == 1


def test_subset_and_shuffle_keep_each_row_with_its_truth(leak: A.Leak) -> None:
    rng = np.random.default_rng(1)
    cut = A.subset(leak, rng, 40)
    assert cut.height == 40
    whole = _by_customer(leak)
    for customer, row in _by_customer(cut).items():
        assert row == whole[customer]
    assert A.subset(leak, rng, 10 * leak.height).height == leak.height


def test_dropped_and_renamed_columns_keep_kinds(leak: A.Leak) -> None:
    rng = np.random.default_rng(2)
    dropped = A.drop_columns(leak, rng, {"bank_card"})
    assert "bank_card" not in dropped.kinds.values() and dropped.frame.width == leak.frame.width - 1
    two = A.drop_columns(leak, rng, count=2)
    assert two.frame.width == leak.frame.width - 2
    renamed = A.rename_headers(leak, rng)
    assert not set(renamed.frame.columns) & {*HEADERS.values()} - {"性别"}
    assert renamed.records().select(leak.records().columns).equals(leak.records())
    with pytest.raises(ValueError, match="every column"):
        A.drop_columns(leak, rng, set(HEADERS))


def test_reformat_writes_ids_upper_and_digits_plain_or_regrouped(leak: A.Leak) -> None:
    rng = np.random.default_rng(3)
    plain = A.reformat(leak, rng, ids="upper", digits="plain").records()
    assert not plain["resident_id"].str.ends_with("x").any()
    assert plain["mobile"].str.contains(r"^1\d{10}$").all()
    assert plain["bank_card"].str.contains(r"^\d{16,19}$").all()
    regrouped = A.reformat(leak, rng, ids="keep", digits="regroup").records()
    assert regrouped["mobile"].str.contains(r"^1\d\d-\d{4}-\d{4}$").all()
    for before, after in zip(leak.records().iter_rows(), regrouped.iter_rows(), strict=True):
        for kind, b, a in zip(leak.records().columns, before, after, strict=True):
            if kind in ("mobile", "bank_card"):
                assert pii.normalize(kind, a) == pii.normalize(kind, b)


def test_masking_erases_or_keeps_never_flips(leak: A.Leak) -> None:
    rng = np.random.default_rng(4)
    masked = A.mask(leak, rng, kinds=("resident_id", "mobile", "bank_card"))
    records = masked.records()
    assert records["resident_id"].str.contains(r"^\d{6}\*{8}\d{3}[\dXx]$").all()
    assert records["mobile"].str.contains(r"^(\+86 )?1\d\d ?\*{4} ?\d{4}$").all()
    cards = records["bank_card"].str.replace_all(" ", "")
    assert cards.str.contains(r"^\d{4}\*{8,11}\d{4}$").all()
    erased = kept = 0
    pairs = zip(leak.records().iter_rows(named=True), records.iter_rows(named=True), strict=True)
    for before, after in pairs:
        for kind in ("resident_id", "mobile", "bank_card"):
            old, new = variants.read(kind, before[kind]), variants.read(kind, after[kind])
            for slot, symbol in new.items():
                assert symbol is None or symbol == old[slot]
                erased += symbol is None and old[slot] is not None
                kept += symbol is not None
    assert erased > 0 and kept > 0
    half = A.mask(leak, rng, kinds=("mobile",), fraction=0.5).records()["mobile"]
    assert 0.3 < half.str.contains("*", literal=True).mean() < 0.7


def test_canonical_addresses_show_one_writing_per_slot(leak: A.Leak) -> None:
    rng = np.random.default_rng(5)
    canonical = A.canonicalise_addresses(leak, rng).records()["address"]
    for value in canonical.to_list():
        assert set(variants.read("address", value).values()) <= {0, None}
    haolou = A.canonicalise_addresses(leak, rng, haolou=True).records()["address"]
    assert not haolou.str.contains("[栋幢]").any()
    for before, after in zip(leak.records()["address"], canonical, strict=True):
        assert pii.derive("address", after).get("county") == pii.derive("address", before).get(
            "county"
        )


def test_gbk_round_trip_keeps_every_value(leak: A.Leak, tmp_path) -> None:
    gbk = A.reencode(leak, np.random.default_rng(6), "gbk")
    assert gbk.encoding == "gbk" and gbk.frame.equals(leak.frame)
    path = tmp_path / "leak.csv"
    gbk.write(str(path))
    assert pl.read_csv(path.read_bytes().decode("gbk").encode(), infer_schema=False).equals(
        leak.frame
    )


def test_excel_and_full_width_damage_only_what_they_say(leak: A.Leak) -> None:
    rng = np.random.default_rng(7)
    excel = A.excel_numbers(leak, rng).records()
    plain_cards = leak.records()["bank_card"].str.contains(r"^\d+$")
    assert (
        excel.filter(plain_cards.to_list())["bank_card"].str.contains(r"^\d\.\d{5}E\+\d\d$").all()
    )
    wide = A.fullwidth(leak, rng, 1.0).records()
    assert not wide["mobile"].str.contains("[0-9]").any()
    for a, b in zip(wide["mobile"], leak.records()["mobile"], strict=True):
        assert variants.read("mobile", a) == variants.read("mobile", b)


def _overlapping(world: TraceWorld, k: int) -> list[A.Leak]:
    """Copies of ``k`` shares cut from one segment, with customers in common."""
    cut = [s for s in world.shares if s.segment is not None and "手机号码" in s.columns]
    for segment in {s.segment for s in cut}:
        group = sorted((s for s in cut if s.segment == segment), key=lambda s: -s.customers.size)[
            :k
        ]
        if len(group) == k and np.intersect1d(group[0].customers, group[1].customers).size > 3:
            return [A.from_copy(world.copy(s.share_id), s.share_id, world.roles) for s in group]
    raise AssertionError("no segment reached enough shares")


def test_union_intersection_and_majority_keep_whose_rows(world: TraceWorld) -> None:
    rng = np.random.default_rng(8)
    copies = _overlapping(world, 3)
    held = [set(c.truth["customer"].drop_nulls().to_list()) for c in copies]
    rows = [_by_customer(c) for c in copies]
    union = A.combine(copies, rng, "union")
    assert set(union.truth["customer"]) == set.union(*held)
    inter = A.combine(copies, rng, "intersection")
    assert set(inter.truth["customer"].to_list()) == set.intersection(*held)
    assert set(union.kinds.values()) == {k for c in copies for k in c.kinds.values()}
    majority = A.combine(copies, rng, "majority")
    two = {c for c in set.union(*held) if sum(c in h for h in held) >= 2}
    assert set(majority.truth["customer"].to_list()) == two
    for merged in (union, inter, majority):
        for r, sources in zip(
            merged.records().iter_rows(named=True), merged.truth["sources"], strict=True
        ):
            holders = [i for i, h in enumerate(held) if r["customer"] in h]
            assert sorted(sources) == sorted(copies[i].truth["sources"][0][0] for i in holders)
            for kind, value in r.items():
                written = {rows[i][r["customer"]].get(kind) for i in holders} - {None}
                if kind != "customer":
                    assert value in written if written else value is None
    for r in majority.records().iter_rows(named=True):
        written = [rows[i][r["customer"]]["mobile"] for i in range(3) if r["customer"] in held[i]]
        if len(written) == 3 and len(set(written)) == 2:
            assert written.count(r["mobile"]) == 2


def test_padding_adds_thirty_percent_with_their_truth(world: TraceWorld, leak: A.Leak) -> None:
    rng = np.random.default_rng(9)
    cut = A.subset(leak, rng, 100)
    fake = A.fabricated(rng, 200, set(cut.kinds.values()), AS_OF)
    padded = A.pad(cut, rng, fake)
    assert padded.height == 130
    origins = dict(padded.truth["origin"].value_counts().rows())
    assert origins["fabricated"] == 30
    assert padded.records().filter(pl.col("customer").is_null()).height >= 30
    others = world.master.filter(
        ~pl.col(CUSTOMER).is_in(leak.truth["customer"].drop_nulls().to_list())
    )
    real = A.from_master(world.master, CUSTOMER, world.roles, others[CUSTOMER].head(500), "other")
    mixed = A.pad(cut, rng, real)
    pads = mixed.truth.filter(pl.col("origin") == "other")
    assert pads.height == 30 and pads["sources"].list.len().max() == 0
    assert set(pads["customer"].to_list()) <= set(others[CUSTOMER].to_list())


def test_a_name_id_check_filters_canaries_not_customers(world: TraceWorld, leak: A.Leak) -> None:
    rng = np.random.default_rng(10)
    people = world.master.select(person_name=HEADERS["person_name"], resident_id="身份证号")
    check = A.NameIdCheck.of(people)
    fake = A.fabricated(rng, 50, set(leak.kinds.values()), AS_OF)
    filtered = A.canary_filter(A.pad(leak, rng, fake, 0.1), rng, check)
    origins = set(filtered.truth["origin"].to_list())
    assert origins == {"copy"}
    assert filtered.height == leak.height - 3
    masked = A.mask(leak, rng, kinds=("resident_id",))
    assert A.canary_filter(masked, rng, check).height == leak.height


def test_resale_chains_the_hands_and_keeps_the_truth(world: TraceWorld, leak: A.Leak) -> None:
    rng = np.random.default_rng(11)
    hands = [
        partial(A.subset, n=60),
        A.rename_headers,
        partial(A.mask, kinds=("mobile",)),
        partial(A.reencode, encoding="gbk"),
        A.shuffle,
    ]
    sold = A.resale(leak, rng, hands)
    assert sold.height == 60 and sold.encoding == "gbk" and len(sold.steps) == 5
    whole = _by_customer(leak)
    for customer, row in _by_customer(sold).items():
        assert row["person_name"] == whole[customer]["person_name"]


def test_rewriting_every_slot_keeps_values(leak: A.Leak) -> None:
    rewritten = A.rewrite_slots(leak, np.random.default_rng(12)).records()
    before = leak.records()
    flipped = 0
    for kind in ("resident_id", "mobile", "bank_card"):
        for a, b in zip(rewritten[kind], before[kind], strict=True):
            assert pii.normalize(kind, a) == pii.normalize(kind, b)
            flipped += variants.read(kind, a) != variants.read(kind, b)
    assert flipped > 0
    constant = A.rewrite_slots(leak, np.random.default_rng(12), constant=1).records()
    assert all(
        variants.read("mobile", v) == {"country_code": 1, "grouping": 1} for v in constant["mobile"]
    )


def test_stale_master_changes_only_moved_customers(world: TraceWorld) -> None:
    rng = np.random.default_rng(13)
    later, changed = A.stale(world.master, rng, world.roles, 0.2)
    assert 0.15 < changed.mean() < 0.25
    same = ~changed
    assert later.filter(same).equals(world.master.filter(same))
    moved = (
        later.filter(changed)[HEADERS["address"]]
        != world.master.filter(changed)[HEADERS["address"]]
    )
    assert moved.mean() > 0.95
    assert re.fullmatch(r"\d{11}", later[HEADERS["mobile"]][0])
