"""synth world: every identity is consistent and valid, activity refers to real rows,
and a seed always gives the same world."""

from __future__ import annotations

import datetime as dt

import phonenumbers
import polars as pl
import pytest
from stdnum import luhn
from stdnum.cn import ric

from leaktrace.synth.tables import places
from leaktrace.synth.world import World, make_world


@pytest.fixture(scope="module")
def world() -> World:
    return make_world(4000, seed=7)


@pytest.fixture(scope="module")
def customers(world: World) -> pl.DataFrame:
    return world.customers.collect()


def test_resident_ids_valid_and_agree_with_person(customers: pl.DataFrame) -> None:
    for row in customers.iter_rows(named=True):
        rid = row["resident_id"]
        assert ric.is_valid(rid), rid
        assert ric.get_birth_date(rid) == row["birth_date"]
        assert (int(rid[16]) % 2 == 1) == (row["sex"] == "M")


def test_resident_ids_validate_with_leaktrace_pii(customers: pl.DataFrame) -> None:
    pii = pytest.importorskip("leaktrace.pii")
    for rid in customers["resident_id"].head(500):
        assert pii.validate("resident_id", rid).valid, rid


def test_division_in_force_at_birth_year(customers: pl.DataFrame) -> None:
    # stdnum raises when no name of the code was in force in the birth year
    for rid in customers["resident_id"]:
        ric.get_birth_place(rid)


def test_most_live_in_their_id_region(customers: pl.DataFrame) -> None:
    prov_of = dict(
        zip(
            [p[:2] for p in map(str, places().province_codes)], places().province_names, strict=True
        )
    )
    same = (
        customers["resident_id"].str.slice(0, 2).replace_strict(prov_of, default=None)
        == customers["province"]
    ).mean()
    # 70% stay in the ID's county; movers land in the same province by chance sometimes
    assert 0.68 < same < 0.85


def test_ages_adults_and_census_like(world: World, customers: pl.DataFrame) -> None:
    age = (world.as_of - customers["birth_date"]).dt.total_days() / 365.2425
    assert age.min() >= 18 and age.max() < 91
    male = (customers["sex"] == "M").mean()
    assert abs(male - 105.07 / 205.07) < 0.03


def test_mobiles_valid_and_cards_luhn(customers: pl.DataFrame) -> None:
    for m in customers["mobile"]:
        n = phonenumbers.parse(m, "CN")
        assert (
            phonenumbers.is_valid_number(n)
            and phonenumbers.number_type(n) == phonenumbers.PhoneNumberType.MOBILE
        ), m
    for c in customers["card_no"]:
        assert luhn.is_valid(c) and len(c) in (16, 19), c


def test_addresses_match_divisions(customers: pl.DataFrame) -> None:
    assert customers.select(
        (
            pl.col("address").str.starts_with(pl.col("province"))
            & pl.col("address").str.contains(pl.col("county"), literal=True)
        ).all()
    ).item()


def test_duplicate_names_and_top_surnames(customers: pl.DataFrame) -> None:
    assert customers["name"].n_unique() < customers.height * 0.95
    top = customers["name"].str.slice(0, 1).value_counts(sort=True)["name"].head(5).to_list()
    assert {"王", "李", "张"} <= set(top)


def test_shares_and_access_log_reference_existing_rows(world: World) -> None:
    n = world.n_customers
    ids = world.shares.explode("customer_ids")["customer_ids"].drop_nulls()
    assert ids.min() >= 1 and ids.max() <= n
    assert set(world.shares["recipient_id"]) <= set(world.recipients["recipient_id"])
    log = world.access_log.collect()
    assert log["customer_id"].min() >= 1 and log["customer_id"].max() <= n
    assert set(log["employee_id"]) <= set(world.employees["employee_id"])
    assert set(world.employees["branch"]) <= set(world.recipients["recipient_id"])
    # shares only hold customers who had opened their account by the share date
    opened = world.customers.select("customer_id", "opened_on").collect()
    late = (
        world.shares.explode("customer_ids")
        .join(opened, left_on="customer_ids", right_on="customer_id")
        .filter(pl.col("opened_on") >= pl.col("shared_on"))
    )
    assert late.is_empty()


def test_access_log_base_rates_and_insiders(world: World) -> None:
    log = world.access_log.collect()
    assert log["legitimate"].mean() > 0.95
    bad = log.filter(~pl.col("legitimate"))
    assert set(bad["employee_id"]) == set(world.insiders)
    night = bad["ts"].dt.hour().is_in([22, 23, 0, 1, 2, 3, 4, 5]).mean()
    assert night == 1.0
    good_hours = log.filter(pl.col("legitimate"))["ts"].dt.hour()
    assert good_hours.is_between(9, 20).all()


def test_history_periods_precede_today(world: World) -> None:
    h = world.history.collect()
    assert (h["valid_from"] <= h["valid_to"]).all()
    assert (h["valid_to"] <= world.as_of).all()
    assert set(h["field"]) == {"mobile", "address", "email"}


def test_products_belong_to_customers(world: World) -> None:
    p = world.products.collect()
    assert p["customer_id"].is_between(1, world.n_customers).all()
    cards = p.filter(pl.col("kind").str.ends_with("card"))["product_no"]
    assert all(luhn.is_valid(c) for c in cards)
    assert {"loan", "insurance", "debit_card", "credit_card"} <= set(p["kind"])


def test_deterministic_per_seed(customers: pl.DataFrame) -> None:
    again = make_world(4000, seed=7).customers.collect()
    assert again.equals(customers)
    other = make_world(4000, seed=8).customers.collect()
    assert not other["resident_id"].equals(customers["resident_id"])


def test_written_world_reopens(tmp_path) -> None:
    w = make_world(1500, seed=3, out=tmp_path, as_of=dt.date(2024, 12, 31))
    back = World.open(tmp_path)
    assert back.customers.collect().equals(w.customers.collect())
    assert back.insiders == w.insiders and back.as_of == dt.date(2024, 12, 31)
    assert not list(tmp_path.glob("*.tmp"))
