"""Attribution on a ledger of 30 marked shares: the leaker accused from 50 reformatted records,
nobody accused for a master copy, fabricated records or a share without marked columns, a
canary decisive on two identifiers and not on one, colluders found and never an innocent."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from leaktrace import pii
from leaktrace.synth.people import draw_people
from leaktrace.trace import canary
from leaktrace.trace.attribute import attribute
from leaktrace.trace.ledger import Ledger
from leaktrace.trace.secret import Secret
from leaktrace.trace.share import share
from tests.test_trace_share import AS_OF, HEADERS, ROLES

SECRET = Secret(bytes(range(7, 47)))
RECIPIENTS = 30


class World:
    """A master, a ledger of 30 shares and each share's copy as written."""

    def __init__(self, tmp: Path) -> None:
        rng = np.random.default_rng(1616)
        people = draw_people(rng, 4_000, AS_OF)
        self.master = people.select(
            pl.int_range(500_000, 500_000 + people.height, dtype=pl.Int64).alias("客户号"),
            *(pl.col(k).alias(v) for k, v in HEADERS.items()),
        )
        self.ledger = Ledger(f"sqlite:///{tmp / 'ledger.sqlite'}")
        self.copies: dict[str, pl.DataFrame] = {}
        self.members: dict[str, np.ndarray] = {}
        numbers = self.master["客户号"].to_numpy()
        for i in range(RECIPIENTS):
            name = f"合作方{i:02d}"
            ids = rng.choice(numbers, size=int(rng.integers(300, 1_500)), replace=False)
            columns = list(ROLES) if i != RECIPIENTS - 1 else ["姓名"]  # the last: names only
            out = tmp / f"{i}.csv"
            share(
                self.master,
                name,
                ids,
                columns,
                out,
                SECRET,
                self.ledger,
                customer_column="客户号",
                roles=ROLES,
                shared_at=dt.datetime(2026, 7, 1, 8, i, tzinfo=dt.UTC),
            )
            self.copies[name] = pl.read_csv(out, infer_schema=False)
            self.members[name] = np.sort(ids)
        self.by_id = self.master.select(
            pl.col("客户号").alias("customer"), pl.col("身份证号").alias("_id")
        )
        self.own = self.master.rename({"客户号": "customer"}).rename(ROLES)

    def linked(self, leak: pl.DataFrame) -> pl.DataFrame:
        """The leak's records by kind, linked to customers by resident ID (the test's linkage)."""
        kinds = leak.rename({c: k for c, k in ROLES.items() if c in leak.columns})
        key = pii.KINDS["resident_id"].normalize_expr(pl.col("resident_id")).alias("_id")
        return kinds.with_columns(key).join(self.by_id, on="_id", how="left").drop("_id")

    def attribute(self, leak: pl.DataFrame, **kw: object):
        return attribute(self.linked(leak), self.ledger, SECRET, ROLES, master=self.own, **kw)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return World(tmp_path_factory.mktemp("attribute"))


def _real(copy: pl.DataFrame) -> pl.DataFrame:
    """The copy's records of real customers (canaries left out)."""
    return copy.filter(pl.col("姓名").is_not_null() & pl.col("身份证号").is_not_null())


def _mask_mobiles(frame: pl.DataFrame) -> pl.DataFrame:
    digits = pl.col("手机号码").str.replace_all(r"\D", "").str.slice(-11)
    return frame.with_columns(
        (digits.str.slice(0, 3) + pl.lit("****") + digits.str.slice(7)).alias("手机号码")
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_leaker_is_accused_from_50_reformatted_records(world: World, seed: int) -> None:
    """Cut 50 records from one copy, mask the mobiles, drop the card column, pad with 30% other
    customers' master records: the true leaker comes first and is accused at 1e-6."""
    rng = np.random.default_rng(seed)
    leaker = f"合作方{int(rng.integers(0, RECIPIENTS - 1)):02d}"
    cut = _real(world.copies[leaker]).sample(50, seed=seed)
    padding = world.master.drop("客户号").sample(15, seed=seed)
    leak = _mask_mobiles(pl.concat([cut, padding]).drop("银行卡号")).sample(
        fraction=1.0, shuffle=True, seed=seed
    )
    found = world.attribute(leak)
    assert found.accused == [leaker]
    top = found.suspects[0]
    assert top.recipient == leaker and top.reason == "code"
    assert top.corrected_fap <= 1e-6
    # padding may hold some of its customers in the master's writing: nearly all match
    assert top.received > 0 and top.matched >= 0.9 * top.received
    assert top.changed_matched > 0  # marks only its copy explains
    assert all(s.corrected_fap > 1e-6 for s in found.suspects[1:])


def test_a_copy_of_the_master_accuses_nobody(world: World) -> None:
    """An insider's export (unmarked master records of one recipient's customers): the
    allocation points at that recipient, the marks do not, and nobody is accused."""
    target = world.members["合作方03"]
    leak = world.master.filter(pl.col("客户号").is_in(target[:400].tolist())).drop("客户号")
    found = world.attribute(leak)
    assert found.accused == []
    # the master writes every slot one way: read as canonicalised, erased, never scored
    assert len(found.flat_slots) >= 4
    assert found.suspects[0].recipient == "合作方03"  # ranked by the allocation, not accused
    assert found.suspects[0].allocation_p < 1e-6


def test_fabricated_and_canonicalised_lists_accuse_nobody(world: World) -> None:
    """Valid-looking people who are not our customers link to nothing; a leak cut from a copy
    whose every mark was canonicalised (upper-case X, plain digits, 幢 as 栋) accuses nobody
    and says which slots were flattened."""
    fake = draw_people(np.random.default_rng(99), 300, AS_OF).select(
        *(pl.col(k).alias(v) for k, v in HEADERS.items())
    )
    assert world.attribute(fake).accused == []
    copy = _real(world.copies["合作方05"]).head(400)
    flat = copy.with_columns(
        pl.col("身份证号").str.to_uppercase(),
        pl.col("银行卡号").str.replace_all(" ", ""),
        pl.col("手机号码").str.replace_all(r"^\+86 ", "").str.replace_all(" ", ""),
        pl.col("联系地址").str.replace_all("幢", "栋"),
    )
    found = world.attribute(flat)
    assert "bank_card.grouping" in found.flat_slots
    assert "address.building" in found.flat_slots
    assert all(s.recipient == "合作方05" for s in found.suspects if s.accused)


def test_a_share_without_marked_columns_is_never_accused(world: World) -> None:
    """The names-only share received no position and cannot be accused from its copy."""
    name = f"合作方{RECIPIENTS - 1:02d}"
    leak = world.master.filter(pl.col("客户号").is_in(world.members[name][:200].tolist())).drop(
        "客户号"
    )
    found = world.attribute(leak)
    case = next(s for s in found.suspects if s.recipient == name)
    assert case.received == 0 and not case.accused


def test_a_canary_is_decisive_on_two_identifiers_not_one(world: World) -> None:
    """A leak of the canaries alone accuses their share; one identifier of a canary beside a
    stranger's others is shown but decides nothing."""
    copy = world.copies["合作方07"]
    canaries = copy.filter(
        pl.col("姓名").is_not_null()
        & ~pl.col("身份证号").str.to_uppercase().is_in(world.master["身份证号"].implode())
    )
    assert canaries.height >= 2
    found = world.attribute(canaries)
    assert found.accused == ["合作方07"]
    assert found.suspects[0].reason == "canary"
    stranger = draw_people(np.random.default_rng(5), 1, AS_OF)
    one = canaries.head(1).with_columns(
        pl.lit(stranger["mobile"][0]).alias("手机号码"),
        pl.lit(stranger["card_no"][0]).alias("银行卡号"),
    )
    found = world.attribute(one)
    case = next(s for s in found.suspects if s.recipient == "合作方07")
    assert [c.fields for c in case.canaries] == [("resident_id",)]
    assert not case.accused


def test_canaries_are_rebuilt_from_the_key_alone(world: World) -> None:
    """What the ledger keeps (share id, date, attempts) and the key rebuild each share's
    canaries: the copy's canary IDs are the regenerated ones."""
    s = next(s for s in world.ledger.shares() if s.recipient == "合作方07")
    rebuilt = canary.CanaryIndex.regenerate(
        SECRET.derive("canary"),
        [canary.PlantedShare(s.id, s.shared_at.date(), s.canaries)],
    )
    copy = world.copies["合作方07"].select(pl.col("身份证号").alias("resident_id"))
    assert rebuilt.hits(copy).height == len(s.canaries)


@pytest.mark.parametrize("how", ["union", "intersection", "majority"])
def test_colluders_are_found_and_no_innocent_accused(world: World, how: str) -> None:
    """Three copies combined on their shared customers: at least one colluder accused with
    enough records, nobody else ever."""
    names = ["合作方10", "合作方11", "合作方12"]
    copies = [_real(world.copies[n]) for n in names]
    if how == "union":
        leak = pl.concat([c.sample(min(c.height, 400), seed=i) for i, c in enumerate(copies)])
    else:
        common = set(copies[0]["身份证号"].str.to_uppercase())
        for c in copies[1:]:
            common &= set(c["身份证号"].str.to_uppercase())
        # the three copies' records of the customers all got, one row per copy
        rows = [
            c.filter(pl.col("身份证号").str.to_uppercase().is_in(sorted(common))).sort(
                pl.col("身份证号").str.to_uppercase()
            )
            for c in copies
        ]
        if how == "intersection":  # the first copy's writing where all three agree
            leak = rows[0]
        else:  # majority: per cell, the writing two of three copies share
            leak = rows[0].with_columns(
                pl.when(rows[1][c] == rows[2][c]).then(rows[1][c]).otherwise(rows[0][c]).alias(c)
                for c in ROLES
            )
    found = world.attribute(leak)
    assert set(found.accused) <= set(names)
    if how != "intersection":
        assert found.accused, how
