"""Canary records: valid in every check, clear of the master, keyed per share, found again by
the key, and not told apart from customers by a classifier."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import polars as pl
import pytest

from bench.trace_canary_bench import AUC_MAX, realism_auc, samples
from leaktrace import pii
from leaktrace.pii.tables import divisions
from leaktrace.synth.people import draw_people
from leaktrace.trace import canary as canary_module
from leaktrace.trace.canary import (
    CanaryIndex,
    GivenNames,
    PlantedShare,
    Taken,
    canary,
    frame,
    plant,
)
from leaktrace.verify.forgery import forgery_signals

KEY = bytes.fromhex("8f1c2a7be0d94c35a61e9b0f7d2c4e5a91b3c6d8e0f2a4b6c8d0e2f4a6b8c0d2")
AS_OF = dt.date(2026, 11, 30)


@pytest.fixture(scope="module")
def canaries() -> list:
    return plant(KEY, "share-0001", 2_000, AS_OF)


def test_every_canary_passes_validation_and_is_consistent(canaries: list) -> None:
    for c in canaries:
        for kind, value in (
            ("resident_id", c.resident_id),
            ("mobile", c.mobile),
            ("bank_card", c.card_no),
            ("person_name", c.name),
            ("address", c.address),
        ):
            v = pii.validate(kind, pii.normalize(kind, value) or "")
            assert v.valid and not v.notes, (kind, c.index, v)
        rid = pii.derive("resident_id", c.resident_id)
        assert rid["birth_date"] == c.birth_date
        assert int(c.resident_id[16]) % 2 == (c.sex == "M")
        # the county code was in force in the birth year, not only not yet retired
        assert any(
            (n.start or 0) <= c.birth_date.year <= (n.end or 9999)
            for n in divisions()[c.resident_id[:6]]
        )
        b = c.birth_date
        age = AS_OF.year - b.year - ((AS_OF.month, AS_OF.day) < (b.month, b.day))
        assert 18 <= age <= 90
        assert c.address.startswith(c.province) and c.county in c.address
        assert pii.derive("bank_card", c.card_no)["bank_zh"] == c.card_issuer


def test_canaries_trip_no_forgery_signal_real_customers_do_not(canaries: list) -> None:
    mine = frame(canaries).rename({"card_no": "bank_card"})
    real = draw_people(np.random.default_rng(7), 2_000, AS_OF).rename({"card_no": "bank_card"})
    ours = {s.name: s for s in forgery_signals(mine, today=AS_OF)}
    theirs = {s.name: s for s in forgery_signals(real, today=AS_OF)}
    assert (
        set(ours)
        == set(theirs)
        >= {
            "id_checksum",
            "id_division",
            "id_birth",
            "sex_ratio",
            "age_60_plus",
            "region_consistency",
            "card_luhn",
            "mobile_unallocated",
            "mobile_sequences",
            "duplicates",
        }
    )
    assert [s.name for s in ours.values() if s.flagged] == []
    # the descriptive shares sit where real customers' do
    for name in ("sex_ratio", "age_60_plus", "region_consistency"):
        assert abs(ours[name].value - theirs[name].value) < 0.05, name


def test_canaries_never_collide_with_the_master(canaries: list) -> None:
    # A master holding some canaries' identifiers (and a mobile next to another's): those are
    # redrawn, the rest stay as they were.
    hit_id, hit_mobile, hit_card = canaries[3], canaries[10], canaries[17]
    master = pl.concat(
        [
            draw_people(np.random.default_rng(1), 3_000, AS_OF).select(
                "resident_id", "mobile", "card_no"
            ),
            pl.DataFrame(
                {
                    "resident_id": [hit_id.resident_id],
                    "mobile": [str(int(hit_mobile.mobile) + 1)],
                    "card_no": [hit_card.card_no],
                }
            ),
        ]
    )
    taken = Taken.of(master.lazy())
    again = plant(KEY, "share-0001", len(canaries), AS_OF, taken)
    ids, mobiles, cards = (set(master[c]) for c in ("resident_id", "mobile", "card_no"))
    assert taken.clashes(canaries[3]) and taken.clashes(canaries[10])
    for c in again:
        assert not taken.clashes(c)
        assert c.resident_id not in ids and c.card_no not in cards
        assert not {str(int(c.mobile) + d) for d in (-1, 0, 1)} & mobiles
    changed = {c.index for c, d in zip(canaries, again, strict=True) if c != d}
    assert changed == {3, 10, 17}
    assert all(again[i].attempt == 1 for i in changed)
    assert again[3] == canary(KEY, "share-0001", 3, AS_OF, attempt=1)


def test_taken_reads_a_master_as_written(canaries: list) -> None:
    c = canaries[0]
    card = " ".join(c.card_no[i : i + 4] for i in range(0, len(c.card_no), 4))
    master = pl.DataFrame(
        {
            "bank_card": [card, None],
            "mobile": ["+86 138-0013-8000", f"{int(canaries[1].mobile) - 1}"],
            "resident_id": ["11010519491231002x", "not an id"],
        }
    )
    taken = Taken.of(master)
    assert Taken().clashes(c) is False
    assert taken.clashes(c)  # its card, written in groups
    assert taken.clashes(canaries[1])  # a mobile one below its own
    assert taken.clashes(dataclasses.replace(canaries[2], resident_id="11010519491231002X"))
    assert taken.clashes(dataclasses.replace(canaries[2], mobile="13800138000"))
    assert not taken.clashes(canaries[2])
    # the same from sets of canonical values
    sets = Taken([c.resident_id], [canaries[1].mobile], ["6222021234567890128"])
    assert sets.clashes(c) and sets.clashes(canaries[1]) and not sets.clashes(canaries[2])


def test_canaries_are_keyed_and_deterministic(canaries: list) -> None:
    assert plant(KEY, "share-0001", 50, AS_OF) == canaries[:50]
    assert canary(KEY, "share-0001", 42, AS_OF) == canaries[42]
    other_key = plant(bytes(reversed(KEY)), "share-0001", 200, AS_OF)
    other_share = plant(KEY, "share-0002", 200, AS_OF)
    for other in (other_key, other_share):
        for field in ("resident_id", "mobile", "card_no", "address"):
            ours = {getattr(c, field) for c in canaries}
            assert not ours & {getattr(c, field) for c in other}, field
    # within a share, every identifier is distinct
    for field in ("resident_id", "mobile", "card_no"):
        assert len({getattr(c, field) for c in canaries}) == len(canaries)


def test_misuse_is_refused() -> None:
    with pytest.raises(ValueError, match="16 to 64 bytes"):
        canary(b"short", "s", 0, AS_OF)
    with pytest.raises(ValueError, match="negative"):
        canary(KEY, "s", -1, AS_OF)
    with pytest.raises(ValueError, match="negative"):
        plant(KEY, "s", -1, AS_OF)


def test_lookup_finds_the_share_from_leaked_values_as_written(canaries: list) -> None:
    second = plant(KEY, "share-0002", 30, AS_OF)
    ledger = [
        PlantedShare.of("share-0001", AS_OF, canaries[:30]),
        PlantedShare.of("share-0002", AS_OF, second),
    ]
    index = CanaryIndex.regenerate(KEY, ledger)
    c = second[7]
    card = " ".join(c.card_no[i : i + 4] for i in range(0, len(c.card_no), 4))
    leaked = {
        "resident_id": c.resident_id.lower()[:-1] + c.resident_id[-1].lower(),
        "mobile": f"+86 {c.mobile[:3]}-{c.mobile[3:7]}-{c.mobile[7:]}",
        "bank_card": card,
    }
    [hit] = index.lookup(leaked)
    assert (hit.share, hit.index) == ("share-0002", 7)
    assert set(hit.fields) == {"resident_id", "mobile", "card_no"}
    # a masked value matches nothing; one identifier is enough to name the canary
    masked = {"resident_id": pii.mask("resident_id", c.resident_id), "mobile": c.mobile}
    assert [(h.share, h.index, h.fields) for h in index.lookup(masked)] == [
        ("share-0002", 7, ("mobile",))
    ]
    # real customers and canaries of shares not in the ledger are not canaries
    stranger = canary(KEY, "share-0003", 7, AS_OF)
    assert index.lookup(dataclasses.asdict(stranger)) == []
    assert index.lookup({"resident_id": None, "mobile": "", "card_no": "not a card"}) == []


def test_a_classifier_cannot_tell_canaries_from_customers() -> None:
    mine, customers = samples(5_000, seed=2026)
    assert realism_auc(mine, customers, folds=3) <= AUC_MAX


def test_given_names_follow_the_master() -> None:
    master = pl.DataFrame(
        {
            "name": ["张伟", "欧阳娜娜", "李秀英", "王伟", "Li Wei", "赵静", None],
            "resident_id": [
                "110105198001010031",
                "110105198001010042",
                "110105198001010026",
                "11010519800101005x",
                "110105198001010079",
                "110105198001010***",
                "110105198001010093",
            ],
        }
    )
    given = GivenNames.of(master.lazy())
    assert given.names == {"M": ["伟"], "F": ["娜娜", "秀英"]}
    planted = plant(KEY, "names", 200, AS_OF, given=given)
    bare = plant(KEY, "names", 200, AS_OF)
    for c, b in zip(planted, bare, strict=True):
        assert c.name.endswith("伟") if c.sex == "M" else c.name.endswith(("娜娜", "秀英"))
        assert pii.validate("person_name", c.name).valid
        # only the name depends on the master's names
        assert dataclasses.replace(c, name=b.name) == b
    women = [c for c in planted if c.sex == "F"]
    assert {c.name[-2:] for c in women} == {"娜娜", "秀英"}


def test_the_classifier_catches_canaries_that_never_moved(monkeypatch: pytest.MonkeyPatch) -> None:
    # The check can fail: canaries all living in their ID's county are told apart.
    monkeypatch.setattr(canary_module, "AWAY_SHARE", 0.0)
    mine = frame(plant(KEY, "homebodies", 2_000, AS_OF))
    customers = draw_people(np.random.default_rng(2027), 2_000, AS_OF)
    assert realism_auc(mine, customers, folds=3) > 0.6


def test_hits_name_the_rows_of_a_leak_that_carry_canaries(canaries: list) -> None:
    index = CanaryIndex(canaries[:100])
    people = draw_people(np.random.default_rng(3), 200, AS_OF).select(
        "resident_id", "mobile", pl.col("card_no").alias("bank_card")
    )
    planted = frame([canaries[5], canaries[60]]).select(
        pl.col("resident_id").str.to_lowercase(),
        pl.col("mobile").map_elements(lambda m: pii.mask("mobile", m), return_dtype=pl.String),
        pl.col("card_no").str.replace(r"^(\d{4})(\d{4})", "$1 $2 ").alias("bank_card"),
    )
    leak = pl.concat([people[:50], planted, people[50:]])
    got = index.hits(leak)
    assert got.select("row", "share", "index").unique().sort("row").rows() == [
        (50, "share-0001", 5),
        (51, "share-0001", 60),
    ]
    assert set(got["field"]) == {"resident_id", "card_no"}  # the masked mobiles match nothing
    assert index.hits(people).height == 0
    assert index.hits(pl.DataFrame({"name": ["张伟"]})).height == 0
