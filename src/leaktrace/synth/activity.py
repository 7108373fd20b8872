"""Who received and who looked at the institution's data: branches, partners, vendors, employees,
the shares they were given and the access log, with the insiders marked as ground truth.

Base rates follow how a bank works: nearly every lookup is an employee of the customer's branch
in working hours; a few insiders export customers outside their branch, at night, in bulk.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl
from faker import Faker

from leaktrace.synth.people import person_names
from leaktrace.synth.tables import Groups, make_groups, places

# Columns a recipient of each purpose was given (the fields of the customers table).
ALL_COLUMNS = [
    "name",
    "resident_id",
    "sex",
    "birth_date",
    "mobile",
    "email",
    "address",
    "card_no",
    "card_issuer",
]
PARTNERS = [
    ("保险代理", "partner", ["name", "resident_id", "mobile", "birth_date", "sex"]),
    ("消费金融", "partner", ["name", "resident_id", "mobile", "card_no", "card_issuer", "address"]),
    ("营销推广", "partner", ["name", "mobile", "email"]),
    ("联名卡合作", "partner", ["name", "resident_id", "mobile", "card_no", "address"]),
    ("外呼服务", "vendor", ["name", "mobile"]),
    ("催收服务", "vendor", ["name", "resident_id", "mobile", "address"]),
    ("账单印刷", "vendor", ["name", "address"]),
    ("系统运维", "vendor", ALL_COLUMNS),
]
EMPLOYEE_EXPORT_COLUMNS = ["name", "resident_id", "mobile", "card_no"]
ROLES = [
    ("teller", 0.4),
    ("account_manager", 0.3),
    ("risk_officer", 0.1),
    ("call_center", 0.12),
    ("it_admin", 0.08),
]
GLOBAL_ROLES = {"risk_officer", "call_center", "it_admin"}  # may look up any customer
ACTIONS = np.array(["view", "print", "export"])


@dataclass(frozen=True)
class Branches:
    """Branch recipients and, per province, the branches a customer living there may belong to."""

    table: pl.DataFrame  # recipient_id, name, type, province
    by_province: Groups  # branch indices per province index (branch 0 for provinces without one)


def make_branches(rng: np.random.Generator, n_customers: int, bank: str) -> Branches:
    """Branches spread over provinces by population, one per ~50k customers (8 to 300)."""
    pl_ = places()
    n = int(np.clip(n_customers // 50_000, 8, 300))
    prov = np.concatenate(
        [[0], rng.choice(len(pl_.province_codes), size=n - 1, p=pl_.province_weights)]
    )
    names = []
    for i, p in enumerate(prov):
        where = "总行营业部" if i == 0 else pl_.province_names[p] + f"第{i}支行"
        names.append(bank + where)
    buckets: list[list[int]] = [[] for _ in pl_.province_codes]
    for i, p in enumerate(prov):
        buckets[p].append(i)
    buckets = [b or [0] for b in buckets]
    table = pl.DataFrame(
        {
            "recipient_id": [f"B{i:03d}" for i in range(n)],
            "name": names,
            "type": ["branch"] * n,
            "province": [pl_.province_names[p] for p in prov],
        }
    )
    return Branches(table, make_groups(buckets))


def make_recipients(
    rng: np.random.Generator, branches: Branches, employees: pl.DataFrame
) -> pl.DataFrame:
    """All recipients: branches, partner companies, vendors and a few employee exports."""
    fake = Faker("zh_CN")
    fake.seed_instance(int(rng.integers(0, 2**31)))
    rows = [dict(r, columns=ALL_COLUMNS) for r in branches.table.iter_rows(named=True)]
    for i, (purpose, kind, cols) in enumerate(PARTNERS):
        name = (
            fake.company_prefix() + purpose + ("有限公司" if kind == "partner" else "服务有限公司")
        )
        rows.append(
            {
                "recipient_id": f"{kind[0].upper()}{i:03d}",
                "name": name,
                "type": kind,
                "province": None,
                "columns": cols,
            }
        )
    staff = employees.filter(pl.col("role") == "account_manager")
    picks = rng.choice(staff.height, size=min(4, staff.height), replace=False)
    for j, e in enumerate(staff[picks.tolist()].iter_rows(named=True)):
        rows.append(
            {
                "recipient_id": f"X{j:03d}",
                "name": f"员工导出 {e['employee_id']}",
                "type": "employee_export",
                "province": None,
                "columns": EMPLOYEE_EXPORT_COLUMNS,
                "employee_id": e["employee_id"],
            }
        )
    return pl.DataFrame(
        rows,
        schema={
            "recipient_id": pl.String,
            "name": pl.String,
            "type": pl.String,
            "province": pl.String,
            "columns": pl.List(pl.String),
            "employee_id": pl.String,
        },
    )


def make_employees(
    rng: np.random.Generator, branches: Branches, branch_sizes: np.ndarray
) -> pl.DataFrame:
    """Staff per branch in proportion to its customers (3 to 60), with roles."""
    counts = np.clip(branch_sizes // 2000, 3, 60)
    branch = np.repeat(np.arange(len(counts)), counts)
    names_, probs = zip(*ROLES, strict=True)
    role = rng.choice(list(names_), size=len(branch), p=np.array(probs) / sum(probs))
    male = rng.random(len(branch)) < 0.5
    ids = branches.table["recipient_id"].to_list()
    return pl.DataFrame(
        {
            "employee_id": [f"E{i:05d}" for i in range(len(branch))],
            "name": person_names(rng, male),
            "role": role,
            "branch": [ids[b] for b in branch],
        }
    )


def make_shares(
    rng: np.random.Generator,
    recipients: pl.DataFrame,
    branch_of: np.ndarray,
    opened: np.ndarray,
    as_of: dt.date,
) -> pl.DataFrame:
    """Hand-overs of customer subsets at dates: branches get their customers, partners and
    vendors random subsets (0.5-5%), employee exports a few hundred; only customers already open."""
    n = len(branch_of)
    start = np.datetime64(as_of, "D") - np.timedelta64(3 * 365, "D")
    order = np.argsort(branch_of, kind="stable")
    bounds = np.searchsorted(branch_of[order], np.arange(branch_of.max() + 2))
    rows = []
    for r in recipients.iter_rows(named=True):
        kind = r["type"]
        times = 1 if kind in ("branch", "employee_export") else int(rng.integers(1, 4))
        for _ in range(times):
            day = start + np.timedelta64(int(rng.integers(0, 3 * 365 - 30)), "D")
            cutoff = (day - np.datetime64("1970-01-01", "D")).astype(np.int64)
            if kind == "branch":
                b = int(r["recipient_id"][1:])
                members = order[bounds[b] : bounds[b + 1]]
            else:
                frac = 0.0005 if kind == "employee_export" else rng.uniform(0.005, 0.05)
                k = max(20, int(n * frac))
                members = np.unique(rng.integers(0, n, size=int(k * 1.3) + 10))
                members = rng.permutation(members)[:k]
            members = np.sort(members[opened[members] < cutoff])
            cols = list(r["columns"])
            if kind in ("partner", "vendor") and len(cols) > 2 and rng.random() < 0.3:
                cols = cols[:-1]  # a later hand-over sometimes carries fewer columns
            rows.append(
                {
                    "recipient_id": r["recipient_id"],
                    "shared_on": day.astype(dt.date),
                    "columns": cols,
                    "customer_ids": (members + 1).tolist(),
                }
            )
    rows.sort(key=lambda x: (x["shared_on"], x["recipient_id"]))
    df = pl.DataFrame(
        rows,
        schema={
            "recipient_id": pl.String,
            "shared_on": pl.Date,
            "columns": pl.List(pl.String),
            "customer_ids": pl.List(pl.Int64),
        },
    )
    return df.with_columns(
        pl.format("S{}", pl.int_range(pl.len()).add(1).cast(pl.String).str.zfill(4)).alias(
            "share_id"
        )
    ).select("share_id", "recipient_id", "shared_on", "columns", "customer_ids")


@dataclass(frozen=True)
class AccessLog:
    """The access log and the employees who misused it (the ground truth for insider ranking)."""

    log: pl.DataFrame  # ts, employee_id, customer_id, action, legitimate
    insiders: list[str]


def _times(rng: np.random.Generator, n: int, as_of: dt.date, off_hours: bool) -> np.ndarray:
    """Timestamps in the year before as_of: working days 9-18h, or nights and weekends."""
    day = np.datetime64(as_of, "D") - rng.integers(1, 366, size=n).astype("timedelta64[D]")
    weekday = (day.astype(np.int64) + 3) % 7  # 0 = Monday
    if off_hours:
        hour = np.where(
            rng.random(n) < 0.5, rng.integers(22, 24, size=n), rng.integers(0, 6, size=n)
        )
    else:
        day = day - np.where(weekday >= 5, weekday - 4, 0).astype("timedelta64[D]")
        late = rng.random(n) < 0.03  # overtime still counts as work
        hour = np.where(late, rng.integers(18, 21, size=n), rng.integers(9, 18, size=n))
    secs = hour * 3600 + rng.integers(0, 3600, size=n)
    return (day.astype("datetime64[s]") + secs.astype("timedelta64[s]")).astype("datetime64[ms]")


def make_access_log(
    rng: np.random.Generator, employees: pl.DataFrame, branch_of: np.ndarray, as_of: dt.date
) -> AccessLog:
    """Lookups and exports: legitimate work by most, anomalous bursts by a few insiders."""
    n_cust = len(branch_of)
    n_emp = employees.height
    n_events = int(np.clip(n_cust // 5, 5000, 2_000_000))
    role = employees["role"].to_numpy()
    emp_branch = np.array([int(b[1:]) for b in employees["branch"].to_list()])
    is_global = np.isin(role, list(GLOBAL_ROLES))
    order = np.argsort(branch_of, kind="stable")
    counts = np.bincount(branch_of, minlength=emp_branch.max() + 1)
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])

    e = rng.integers(0, n_emp, size=n_events)
    b = emp_branch[e]
    own = offsets[b] + (rng.random(n_events) * counts[b]).astype(np.int64)
    own_ok = counts[b] > 0
    anyone = rng.integers(0, n_cust, size=n_events)
    cust = np.where(is_global[e] | ~own_ok, anyone, order[np.minimum(own, n_cust - 1)])
    action = rng.choice(3, size=n_events, p=[0.9, 0.07, 0.03])
    ts = _times(rng, n_events, as_of, off_hours=False)

    candidates = np.flatnonzero(~is_global | (role == "it_admin"))
    n_ins = max(2, n_emp // 200)
    insiders = np.sort(rng.choice(candidates, size=min(n_ins, len(candidates)), replace=False))
    per = max(20, n_events // 500)
    bad_e = np.repeat(insiders, per)
    nb = len(bad_e)
    outside = rng.random(nb) < 0.8
    bad_own = offsets[emp_branch[bad_e]] + (rng.random(nb) * counts[emp_branch[bad_e]]).astype(
        np.int64
    )
    bad_cust = np.where(
        outside | (counts[emp_branch[bad_e]] == 0),
        rng.integers(0, n_cust, nb),
        order[np.minimum(bad_own, n_cust - 1)],
    )
    bad_action = np.where(rng.random(nb) < 0.7, 2, 0)
    bad_ts = _times(rng, nb, as_of, off_hours=True)

    ids = employees["employee_id"]
    log = pl.DataFrame(
        {
            "ts": np.concatenate([ts, bad_ts]),
            "employee_id": ids.gather(np.concatenate([e, bad_e])),
            "customer_id": np.concatenate([cust, bad_cust]).astype(np.int64) + 1,
            "action": ACTIONS[np.concatenate([action, bad_action])],
            "legitimate": np.concatenate([np.ones(n_events, bool), np.zeros(nb, bool)]),
        }
    ).sort("ts", "employee_id", "customer_id")
    return AccessLog(log, ids.gather(insiders).to_list())
