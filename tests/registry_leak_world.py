"""Synthetic data for the keyed-identifier tests: the bank's master (a leaktrace world), the shop's
master (another world: no customer in common), and a leak of the bank's customers padded with
rows of a third institution; with what a correct registry must find, computed here in plain text.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from leaktrace.registry.identifiers import KINDS, valid_values
from leaktrace.synth.leaks import make_leak
from leaktrace.synth.world import make_world


@dataclass(frozen=True)
class LeakWorld:
    bank_master: Path  # a world directory (customers.parquet)
    shop_master: Path
    leak: Path  # CSV
    bank_customers: int
    shop_customers: int
    leaked: dict[str, set[str]]  # kind -> the leak's valid values, normalised
    matched: set[tuple[str, str]]  # (kind, value) in the leak and in the bank's master
    matched_customers: set[int]  # the bank's customers with an identifier in the leak

    def identifiers(self) -> set[str]:
        """Every identifier of the leak, valid or not, as written in it."""
        rows = pl.read_csv(self.leak, infer_schema=False)
        return {v for k in KINDS if k in rows.columns for v in rows[k].drop_nulls()}


def _values(frame: pl.DataFrame, kind: str) -> set[str]:
    return set(valid_values(kind, frame.get_column(kind))[0].to_list())


def make_leak_world(directory: Path) -> LeakWorld:
    bank, shop = directory / "bank", directory / "shop"
    bank_world = make_world(1500, seed=11, out=bank)
    make_world(600, seed=12, out=shop)
    leak = make_leak(bank_world, "employee", seed=3, pad=0.3)
    path = directory / "leak.csv"
    leak.rows.write_csv(path)
    leaked = {k: _values(leak.rows, k) for k in KINDS}
    master = pl.read_parquet(bank / "customers.parquet")
    matched: set[tuple[str, str]] = set()
    customers: set[int] = set()
    for kind in KINDS:
        checked = master.with_columns(
            pl.Series(kind, [v if v in leaked[kind] else None for v in master[kind]])
        ).drop_nulls(kind)
        matched |= {(kind, v) for v in checked[kind]}
        customers |= set(checked["customer_id"])
    assert matched and len(customers) < 1500  # the leak holds some of the bank's customers
    return LeakWorld(bank, shop, path, 1500, 600, leaked, matched, customers)
