"""``make_world``: a synthetic bank's master data, history, products, recipients, shares,
employees and access log, generated in fixed-size chunks straight to Parquet.

Each chunk of customers is drawn from its own ``default_rng([seed, chunk])``, so a world is the
same for a seed whatever the machine, and memory stays bounded by the chunk size plus a few
bytes per customer (branch and opening date) that the shares and access log need.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow.parquet as pq

from leaktrace.synth.activity import (
    make_access_log,
    make_branches,
    make_employees,
    make_recipients,
    make_shares,
)
from leaktrace.synth.people import (
    address_strings,
    card_numbers,
    draw_people,
    email_strings,
    mobile_numbers,
)
from leaktrace.synth.tables import places

CHUNK = 500_000  # customers per chunk; part of the determinism contract
DEFAULT_AS_OF = dt.date(2025, 6, 30)
BANK = "华信银行"  # the fictional institution
TABLES = ("customers", "history", "products", "recipients", "shares", "employees", "access_log")
CUSTOMER_COLUMNS = [
    "customer_id",
    "name",
    "resident_id",
    "sex",
    "birth_date",
    "mobile",
    "email",
    "address",
    "province",
    "city",
    "county",
    "card_no",
    "card_issuer",
    "opened_on",
    "branch_id",
]
# Share of customers with one / two earlier values of a field (history).
CHANGES = {"mobile": (0.30, 0.10), "address": (0.25, 0.08), "email": (0.10, 0.02)}
EPOCH = np.datetime64("1970-01-01", "D")


@dataclass
class World:
    """A synthetic institution; tables are lazy so a 10M-customer world stays on disk."""

    seed: int
    n_customers: int
    as_of: dt.date
    institution: str
    customers: pl.LazyFrame
    history: pl.LazyFrame
    products: pl.LazyFrame
    recipients: pl.DataFrame
    shares: pl.DataFrame
    employees: pl.DataFrame
    access_log: pl.LazyFrame
    insiders: list[str]
    path: Path | None = None
    summary: dict[str, int] = field(default_factory=dict)

    @classmethod
    def open(cls, path: Path) -> World:
        """Load a world written by ``make_world(out=path)``."""
        meta = json.loads((path / "world.json").read_text(encoding="utf-8"))
        scan = {t: pl.scan_parquet(path / f"{t}.parquet") for t in TABLES}
        return cls(
            seed=meta["seed"],
            n_customers=meta["n_customers"],
            as_of=dt.date.fromisoformat(meta["as_of"]),
            institution=meta["institution"],
            customers=scan["customers"],
            history=scan["history"],
            products=scan["products"],
            recipients=scan["recipients"].collect(),
            shares=scan["shares"].collect(),
            employees=scan["employees"].collect(),
            access_log=scan["access_log"],
            insiders=meta["insiders"],
            path=path,
            summary=meta["rows"],
        )


def _days(d: np.ndarray) -> np.ndarray:
    return (d.astype("datetime64[D]") - EPOCH).astype(np.int64)


def _day(d: dt.date) -> int:
    """:func:`_days` of one date."""
    return int(_days(np.array([d], "datetime64[D]"))[0])


def _opened(rng: np.random.Generator, birth: pl.Series, as_of: dt.date) -> np.ndarray:
    """Account opening day (days since epoch): after the 18th birthday and after 1995."""
    b = _days(birth.to_numpy())
    lo = np.maximum(b + int(18 * 365.25) + 1, _day(dt.date(1995, 1, 1)))
    hi = _day(as_of)
    return lo + (rng.random(len(b)) * (hi - lo)).astype(np.int64)


def _history(
    rng: np.random.Generator,
    ids: np.ndarray,
    people: pl.DataFrame,
    opened: np.ndarray,
    as_of: dt.date,
) -> pl.DataFrame:
    """Earlier mobiles, addresses and emails with the dates they held; current values are in
    the customers table and hold from the last ``valid_to`` (or opening) onwards."""
    n = len(ids)
    hi = _day(as_of)
    parts = []
    for fld, (p1, p2) in CHANGES.items():
        u = rng.random(n)
        k = np.where(u < p2, 2, np.where(u < p1, 1, 0))
        if fld == "email":
            k = np.where(people["email"].is_null().to_numpy(), 0, k)
        c = np.sort(opened[:, None] + rng.random((n, 2)) * (hi - opened)[:, None], axis=1)
        c = c.astype(np.int64)
        for slot in range(2):
            rows = np.flatnonzero(k > slot)
            if not len(rows):
                continue
            if fld == "mobile":
                value = mobile_numbers(rng, len(rows))
            elif fld == "address":
                same = rng.random(len(rows)) < 0.5
                moved = places().current_by_province.pick(
                    rng,
                    rng.choice(
                        len(places().province_codes), size=len(rows), p=places().province_weights
                    ),
                )
                county = np.where(same, people["county_idx"].to_numpy()[rows], moved)
                value = address_strings(rng, county)
            else:
                value = email_strings(rng, mobile_numbers(rng, len(rows)), share=1.0)
            # with two changes: slot 0 is the oldest value [opened, c0), slot 1 is [c0, c1)
            frm = np.where(slot == 0, opened[rows], c[rows, 0])
            to = np.where(
                (k[rows] == 2) & (slot == 0),
                c[rows, 0],
                np.where(k[rows] == 2, c[rows, 1], c[rows, 0]),
            )
            parts.append(
                pl.DataFrame(
                    {
                        "customer_id": ids[rows],
                        "field": pl.Series([fld] * len(rows)),
                        "value": value.alias("value"),
                        "valid_from": pl.Series(frm, dtype=pl.Int32).cast(pl.Date),
                        "valid_to": pl.Series(to, dtype=pl.Int32).cast(pl.Date),
                    }
                )
            )
    return pl.concat(parts).sort("customer_id", "field", "valid_from")


def _products(
    rng: np.random.Generator,
    ids: np.ndarray,
    people: pl.DataFrame,
    opened: np.ndarray,
    as_of: dt.date,
) -> pl.DataFrame:
    """Cards (the primary card plus extra credit cards), loans and insurance policies."""
    n = len(ids)
    hi = _day(as_of)
    frames = []
    primary_kind = np.where(
        people["card_no"].str.len_chars().to_numpy() == 16, "credit_card", "debit_card"
    )
    frames.append(
        pl.DataFrame(
            {
                "customer_id": ids,
                "kind": primary_kind,
                "product_no": people["card_no"],
                "issuer": people["card_issuer"],
                "opened_on": opened,
                "amount": np.zeros(n),
                "status": np.full(n, "active"),
            }
        )
    )
    extra = np.flatnonzero(rng.random(n) < 0.2)
    card, issuer = card_numbers(rng, np.ones(len(extra), bool))
    frames.append(
        pl.DataFrame(
            {
                "customer_id": ids[extra],
                "kind": np.full(len(extra), "credit_card"),
                "product_no": card,
                "issuer": issuer,
                "opened_on": opened[extra]
                + (rng.random(len(extra)) * (hi - opened[extra])).astype(int),
                "amount": np.round(rng.choice([1e4, 2e4, 5e4, 1e5], len(extra))),
                "status": np.full(len(extra), "active"),
            }
        )
    )
    for kind, share, prefix, scale in (("loan", 0.15, "LN", 11.5), ("insurance", 0.10, "PL", 12.0)):
        rows = np.flatnonzero(rng.random(n) < share)
        m = len(rows)
        status = rng.choice(["active", "closed", "overdue"], size=m, p=[0.7, 0.27, 0.03])
        frames.append(
            pl.DataFrame(
                {
                    "customer_id": ids[rows],
                    "kind": np.full(m, kind),
                    "product_no": prefix
                    + pl.Series(ids[rows] * 100 + rng.integers(0, 100, m))
                    .cast(pl.String)
                    .str.zfill(12),
                    "issuer": pl.Series([BANK] * m, dtype=pl.String),
                    "opened_on": opened[rows] + (rng.random(m) * (hi - opened[rows])).astype(int),
                    "amount": np.round(rng.lognormal(scale, 0.8, m), -2),
                    "status": status,
                }
            )
        )
    df = pl.concat(
        [
            f.with_columns(
                pl.col("opened_on").cast(pl.Int32).cast(pl.Date), pl.col("amount").cast(pl.Float64)
            )
            for f in frames
        ]
    )
    return df.sort("customer_id", "kind", "product_no")


class _Sink:
    """Collects a table's chunks in memory, or streams them to ``name.parquet.tmp``."""

    def __init__(self, out: Path | None, name: str) -> None:
        self.path = out / f"{name}.parquet" if out else None
        self.frames: list[pl.DataFrame] = []
        self.writer: pq.ParquetWriter | None = None
        self.rows = 0

    def add(self, df: pl.DataFrame) -> None:
        self.rows += df.height
        if self.path is None:
            self.frames.append(df)
            return
        table = df.to_arrow()
        if self.writer is None:
            self.writer = pq.ParquetWriter(
                str(self.path) + ".tmp", table.schema, compression="zstd"
            )
        self.writer.write_table(table)

    def finish(self) -> pl.LazyFrame:
        if self.path is None:
            return pl.concat(self.frames).lazy()
        if self.writer is not None:
            self.writer.close()
        os.replace(str(self.path) + ".tmp", self.path)
        return pl.scan_parquet(self.path)


def make_world(
    n_customers: int,
    seed: int = 0,
    out: Path | None = None,
    as_of: dt.date = DEFAULT_AS_OF,
    progress: Callable[[int], None] | None = None,
) -> World:
    """Generate an institution of ``n_customers`` customers; with ``out`` write Parquet there.

    ``progress`` is called with the number of customers generated so far after each chunk.
    Without ``out`` every table is kept in memory (fine up to a few million customers).
    """
    if n_customers < 1:
        raise ValueError("n_customers must be at least 1")
    if not dt.date(2020, 1, 1) <= as_of <= dt.date(2030, 12, 31):
        raise ValueError("as_of must lie in 2020-2030 (the span the division tables cover)")
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    branches = make_branches(np.random.default_rng([seed, 1 << 20]), n_customers, BANK)
    sinks = {t: _Sink(out, t) for t in ("customers", "history", "products")}
    branch_of = np.empty(n_customers, dtype=np.int32)
    opened_all = np.empty(n_customers, dtype=np.int32)
    for start in range(0, n_customers, CHUNK):
        m = min(CHUNK, n_customers - start)
        rng = np.random.default_rng([seed, start // CHUNK])
        people = draw_people(rng, m, as_of)
        ids = np.arange(start + 1, start + m + 1, dtype=np.int64)
        opened = _opened(rng, people["birth_date"], as_of)
        prov = places().county_province[people["county_idx"].to_numpy()]
        branch = branches.by_province.pick(rng, prov).astype(np.int32)
        branch_of[start : start + m] = branch
        opened_all[start : start + m] = opened
        customers = people.with_columns(
            customer_id=pl.Series(ids),
            opened_on=pl.Series(opened, dtype=pl.Int32).cast(pl.Date),
            branch_id=branches.table["recipient_id"].gather(branch),
        ).select(CUSTOMER_COLUMNS)
        sinks["customers"].add(customers)
        sinks["history"].add(_history(rng, ids, people, opened, as_of))
        sinks["products"].add(_products(rng, ids, people, opened, as_of))
        if progress is not None:
            progress(start + m)

    rng = np.random.default_rng([seed, 1 << 21])
    sizes = np.bincount(branch_of, minlength=branches.table.height)
    employees = make_employees(rng, branches, sizes)
    recipients = make_recipients(rng, branches, employees)
    shares = make_shares(rng, recipients, branch_of, opened_all, as_of)
    access = make_access_log(rng, employees, branch_of, as_of)
    lazy = {t: s.finish() for t, s in sinks.items()}
    small = {
        "recipients": recipients,
        "shares": shares,
        "employees": employees,
        "access_log": access.log,
    }
    rows = {t: s.rows for t, s in sinks.items()} | {t: df.height for t, df in small.items()}
    if out is not None:
        for name, df in small.items():
            tmp = out / f"{name}.parquet.tmp"
            df.write_parquet(tmp, compression="zstd")
            os.replace(tmp, out / f"{name}.parquet")
        meta = {
            "seed": seed,
            "n_customers": n_customers,
            "as_of": as_of.isoformat(),
            "institution": BANK,
            "insiders": access.insiders,
            "rows": rows,
        }
        tmp = out / "world.json.tmp"
        tmp.write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")
        os.replace(tmp, out / "world.json")
        log = pl.scan_parquet(out / "access_log.parquet")
    else:
        log = access.log.lazy()
    return World(
        seed=seed,
        n_customers=n_customers,
        as_of=as_of,
        institution=BANK,
        customers=lazy["customers"],
        history=lazy["history"],
        products=lazy["products"],
        recipients=recipients,
        shares=shares,
        employees=employees,
        access_log=log,
        insiders=access.insiders,
        path=out,
        summary=rows,
    )
