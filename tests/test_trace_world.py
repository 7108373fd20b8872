"""The trace world: a master written as bank data is, long-tailed shares that overlap, every share
in the ledger, written copies that are the marked copies, and marks that read back as the code."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from leaktrace import pii
from leaktrace.synth.trace_world import (
    CUSTOMER,
    HEADERS,
    TraceWorld,
    make_trace_world,
    read_copy,
)
from leaktrace.trace import code, variants
from leaktrace.trace.ledger import Ledger
from leaktrace.trace.secret import Secret
from leaktrace.trace.share import DEFAULT_CANARIES, SLOT_NUMBERS

SECRET = Secret(bytes(range(7, 47)))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> TraceWorld:
    out = tmp_path_factory.mktemp("copies")
    ledger = Ledger(f"sqlite:///{out / 'ledger.sqlite'}")
    return make_trace_world(
        np.random.default_rng(16), 4_000, 200, SECRET, ledger, out=out, written=12
    )


def test_master_addresses_mix_the_writings_of_every_slot(world: TraceWorld) -> None:
    seen: dict[str, Counter] = {}
    for value in world.master[HEADERS["address"]].to_list():
        for slot, symbol in variants.natural("address", value).items():
            seen.setdefault(slot, Counter())[symbol] += 1
    for slot in ("province_suffix", "city_suffix", "building", "unit", "room"):
        counts = seen[slot]
        assert counts[0] > 0.5 * counts.total() and counts[1] > 0.08 * counts.total(), slot
    addresses = world.master[HEADERS["address"]]
    assert addresses.str.contains("号楼").sum() > 0.03 * addresses.len()
    ids = world.master[HEADERS["resident_id"]]
    assert ids.str.ends_with("x").sum() > 0 and ids.str.ends_with("X").sum() > 0


def test_master_values_are_valid_and_numbers_whole(world: TraceWorld) -> None:
    master = world.master
    assert master[CUSTOMER].dtype == pl.Int64 and master[CUSTOMER].is_unique().all()
    for kind in ("resident_id", "mobile", "bank_card"):
        for value in master[HEADERS[kind]].head(300).to_list():
            assert pii.validate(kind, pii.normalize(kind, value)).valid
    for value in master[HEADERS["address"]].head(300).to_list():
        assert pii.derive("address", value).get("province")


def test_shares_have_a_long_tail_and_segments_reach_many(world: TraceWorld) -> None:
    sizes = np.array([s.customers.size for s in world.shares])
    assert len(world.shares) == 200
    assert {s.type for s in world.shares} == {"branch", "partner", "vendor", "employee_export"}
    assert sizes.max() > 10 * np.median(sizes)
    assert np.mean(sizes <= 2 * np.median(sizes)) > 0.5
    cut = [s for s in world.shares if s.segment is not None]
    received = Counter(int(c) for s in cut for c in s.customers)
    assert max(received.values()) >= 3
    by_segment = Counter(s.segment for s in cut)
    assert max(by_segment.values()) >= 3
    shared = np.unique(np.concatenate([s.customers for s in world.shares]))
    assert 0.5 * len(world.master) < shared.size < len(world.master)


def test_the_ledger_holds_every_share_as_the_truth_says(world: TraceWorld) -> None:
    recorded = {s.id: s for s in world.ledger.shares()}
    assert recorded.keys() == {s.share_id for s in world.shares}
    for truth in world.shares[::17]:
        assert np.array_equal(world.ledger.customers(truth.share_id), truth.customers)
        assert recorded[truth.share_id].recipient == truth.recipient
        assert recorded[truth.share_id].columns == truth.columns
    written = [s for s in world.shares if s.path is not None]
    assert len(written) == 12
    assert all(len(recorded[s.share_id].canaries) == DEFAULT_CANARIES for s in written)


def test_written_copies_are_the_marked_copies_with_canaries(world: TraceWorld) -> None:
    for truth in (s for s in world.shares if s.path is not None):
        copy = world.copy(truth.share_id)
        assert copy["customer"].null_count() == DEFAULT_CANARIES
        assert copy["customer"].drop_nulls().to_list() == truth.customers.tolist()
        some = truth.customers[:: max(1, truth.customers.size // 5)]
        assert world.copy(truth.share_id, some).equals(world.marked(truth, some))
        if truth.file_format == "csv-gbk":
            Path(truth.path).read_bytes().decode("gbk")
        assert read_copy(Path(truth.path), truth.file_format).height == copy.height


def test_copies_carry_the_share_symbols_at_every_offered_slot(world: TraceWorld) -> None:
    truth = max(
        (s for s in world.shares if HEADERS["address"] in s.columns),
        key=lambda s: (s.path is not None, len(s.columns)),
    )
    copy = world.copy(truth.share_id).drop_nulls("customer").head(200)
    master = world.master.filter(pl.col(CUSTOMER).is_in(copy["customer"].to_list())).sort(CUSTOMER)
    checked = changed = 0
    for column in truth.columns:
        kind = world.roles[column]
        if kind not in variants.SLOTS:
            continue
        for customer, raw, natural in zip(
            copy["customer"], copy[column], master[column], strict=True
        ):
            offered = variants.slots(kind, natural)
            if not offered:
                continue
            pos = code.position_ids(
                [customer] * len(offered), [SLOT_NUMBERS[(kind, s)] for s in offered]
            )
            want = code.symbols(SECRET.derive("code"), truth.share_id, pos).astype(int).tolist()
            got = variants.read(kind, raw)
            assert [got[s] for s in offered] == want
            checked += len(offered)
            changed += sum(
                w != n for w, n in zip(want, variants.natural(kind, natural).values(), strict=True)
            )
    assert checked > 200 and changed > 0.2 * checked
