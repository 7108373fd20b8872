"""Access logs with stealthy insiders and the ground truth, for testing insider ranking.

A bank's staff in branches look up mostly their own branch's customers, in working hours, busy
customers more often; a call centre and a risk department look up anyone; batch and system
accounts touch a large segment of all customers every night. A stealthy leaker looks up or
exports the customers it leaks a few a day, in its own branch or across, in place of some of its
ordinary work (its volume stays that of its peers), and leaks may hold customers a batch
account also touched. Customers are numbered 1..N in order of opening, as the log shows them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl
from numpy.typing import NDArray

from leaktrace.trace.access_log import EXPORT, PRINT, VIEW

#: Share of employees per central role; the rest work in branches.
CALL_CENTRE, RISK, BATCH = "call_centre", "risk", "batch"
CENTRAL = {CALL_CENTRE: 0.06, RISK: 0.03}
BATCH_ACCOUNTS = 12
#: Rows per role relative to a branch employee (batch accounts are sized apart).
ROLE_VOLUME = {"branch": 1.0, CALL_CENTRE: 2.5, RISK: 1.5}
#: Action mix (view, print, export) per role.
ROLE_ACTIONS = {
    "branch": (0.9, 0.07, 0.03),
    CALL_CENTRE: (0.98, 0.02, 0.0),
    RISK: (0.8, 0.05, 0.15),
}
BRANCH_OF_ROLE = {CALL_CENTRE: "呼叫中心", RISK: "风险管理部", BATCH: "系统"}
#: Share of a branch employee's lookups of other branches' customers.
OUTSIDE = 0.08
#: Share of all rows written by batch accounts.
BATCH_ROWS = 0.25
LEAK_KINDS = ("branch", "cross", CALL_CENTRE, "batch_overlap")


@dataclass(frozen=True)
class InsiderWorld:
    """Employees, customers and a year of ordinary accesses (the log in AccessLog's shape)."""

    log: pl.DataFrame  # employee, customer, action, time, employee_branch, customer_branch
    employees: pl.DataFrame  # employee, role, branch
    customer_branch: NDArray[np.int64]  # branch index per customer (customer n at n - 1)
    batch_touched: tuple[NDArray[np.int64], ...]  # the customers each batch account touched
    start: dt.date
    days: int


@dataclass(frozen=True)
class InsiderCase:
    """One leak and the log it was made from, with who made it (empty: nobody did)."""

    log: pl.DataFrame
    leaked: NDArray[np.int64]
    leakers: tuple[str, ...]
    snapshot: tuple[dt.date, dt.date]


def make_world(
    rng: np.random.Generator,
    employees: int = 5000,
    customers: int = 1_000_000,
    rows: int = 2_000_000,
    start: dt.date = dt.date(2025, 1, 1),
    days: int = 365,
    customer_branch_column: bool = False,
) -> InsiderWorld:
    """A bank's year of accesses: ~one branch per 25 employees, sized unevenly."""
    n_branch = max(4, employees // 25)
    branch_share = rng.dirichlet(np.full(n_branch, 2.0))
    cust_branch = rng.choice(n_branch, size=customers, p=branch_share)
    activity = rng.lognormal(0.0, 1.0, size=customers)
    order = np.argsort(cust_branch, kind="stable")
    cum = np.cumsum(activity[order])
    bounds = np.searchsorted(cust_branch[order], np.arange(n_branch + 1))

    n_central = {r: max(1, int(employees * f)) for r, f in CENTRAL.items()}
    n_staff = employees - sum(n_central.values()) - BATCH_ACCOUNTS
    staff_branch = rng.choice(n_branch, size=n_staff, p=branch_share)
    role = np.array(
        ["branch"] * n_staff + [r for r, n in n_central.items() for _ in range(n)], dtype=object
    )
    branch_names = np.array([f"B{b:03d}" for b in range(n_branch)], dtype=object)
    emp_branch = np.concatenate(
        [branch_names[staff_branch], [BRANCH_OF_ROLE[r] for r in role[n_staff:]]]
    )
    ids = np.array([f"{100001 + i}" for i in range(len(role))], dtype=object)

    human_rows = int(rows * (1 - BATCH_ROWS))
    volume = np.array([ROLE_VOLUME[r] for r in role]) * rng.lognormal(0, 0.5, len(role))
    per = rng.multinomial(human_rows, volume / volume.sum())
    emp = np.repeat(np.arange(len(role)), per)
    n = len(emp)
    own = np.flatnonzero(role == "branch")
    is_staff = np.isin(emp, own)
    local = is_staff & (rng.random(n) >= OUTSIDE)
    b = np.where(local, staff_branch[np.minimum(emp, n_staff - 1)], 0)
    lo = np.where(local, np.where(bounds[b] > 0, cum[np.maximum(bounds[b] - 1, 0)], 0.0), 0.0)
    hi = np.where(local, cum[np.maximum(bounds[b + 1] - 1, 0)], cum[-1])
    pick = np.searchsorted(cum, lo + rng.random(n) * (hi - lo), side="right")
    cust = order[np.minimum(pick, customers - 1)]
    action = _actions(rng, role[emp])
    times = working_times(rng, n, start, days)

    batch_rows = rows - human_rows
    batch_sizes = rng.multinomial(batch_rows, rng.dirichlet(np.ones(BATCH_ACCOUNTS)))
    touched = tuple(
        rng.choice(customers, size=min(int(k), customers), replace=False) for k in batch_sizes
    )
    b_emp = np.repeat(np.arange(len(role), len(role) + BATCH_ACCOUNTS), [len(t) for t in touched])
    b_cust = np.concatenate(touched)
    b_times = night_times(rng, len(b_cust), start, days)
    ids = np.concatenate([ids, [f"SYS{i:02d}" for i in range(BATCH_ACCOUNTS)]])
    emp_branch = np.concatenate([emp_branch, [BRANCH_OF_ROLE[BATCH]] * BATCH_ACCOUNTS])
    role = np.concatenate([role, [BATCH] * BATCH_ACCOUNTS])

    all_emp = np.concatenate([emp, b_emp])
    all_cust = np.concatenate([cust, b_cust]).astype(np.int64)
    log = access_rows(
        ids[all_emp],
        all_cust + 1,
        np.concatenate([action, np.full(len(b_cust), EXPORT, np.int8)]),
        np.concatenate([times, b_times]),
        emp_branch[all_emp],
        branch_names[cust_branch[all_cust]] if customer_branch_column else None,
    )
    people = pl.DataFrame(
        {"employee": ids.tolist(), "role": role.tolist(), "branch": emp_branch.tolist()}
    )
    return InsiderWorld(
        log, people, cust_branch, tuple(t.astype(np.int64) + 1 for t in touched), start, days
    )


def _actions(rng: np.random.Generator, roles: NDArray[np.object_]) -> NDArray[np.int8]:
    """An action per row drawn from its employee's role's mix."""
    u = rng.random(len(roles))
    out = np.full(len(roles), VIEW, np.int8)
    for r, (view, printed, _export) in ROLE_ACTIONS.items():
        mine = roles == r
        out[mine & (u >= view)] = PRINT
        out[mine & (u >= view + printed)] = EXPORT
    return out


def working_times(
    rng: np.random.Generator, n: int, start: dt.date, days: int
) -> NDArray[np.datetime64]:
    """Times on working days, 9:00 to 18:00 (a little overtime to 21:00)."""
    day = np.datetime64(start, "D") + rng.integers(0, days, size=n).astype("timedelta64[D]")
    weekday = (day.astype(np.int64) + 3) % 7
    day = day - np.where(weekday >= 5, weekday - 4, 0).astype("timedelta64[D]")
    late = rng.random(n) < 0.03
    hour = np.where(late, rng.integers(18, 21, size=n), rng.integers(9, 18, size=n))
    return _at(day, hour, rng)


def night_times(
    rng: np.random.Generator, n: int, start: dt.date, days: int
) -> NDArray[np.datetime64]:
    """Times of nightly batch runs, 1:00 to 5:00 any day."""
    day = np.datetime64(start, "D") + rng.integers(0, days, size=n).astype("timedelta64[D]")
    return _at(day, rng.integers(1, 5, size=n), rng)


def _at(day: NDArray, hour: NDArray, rng: np.random.Generator) -> NDArray[np.datetime64]:
    secs = hour * 3600 + rng.integers(0, 3600, size=len(day))
    return (day.astype("datetime64[s]") + secs.astype("timedelta64[s]")).astype("datetime64[ms]")


def access_rows(
    employee: NDArray,
    customer: NDArray[np.int64],
    action: NDArray[np.int8],
    time: NDArray[np.datetime64],
    employee_branch: NDArray,
    customer_branch: NDArray | None,
) -> pl.DataFrame:
    """Rows in AccessLog's shape."""
    return pl.DataFrame(
        {
            "employee": pl.Series(employee, dtype=pl.String),
            "customer": pl.Series(customer, dtype=pl.Int64),
            "action": pl.Series(action, dtype=pl.Int8),
            "time": pl.Series(time, dtype=pl.Datetime("ms")),
            "employee_branch": pl.Series(employee_branch, dtype=pl.String),
            "customer_branch": pl.Series(customer_branch, dtype=pl.String)
            if customer_branch is not None
            else pl.Series([None] * len(employee), dtype=pl.String),
        }
    )


def innocent_leak(
    rng: np.random.Generator, world: InsiderWorld, size: int, leak_day: int | None = None
) -> InsiderCase:
    """A leak no employee made: customers drawn from the whole master."""
    customers = len(world.customer_branch)
    leaked = rng.choice(customers, size=size, replace=False).astype(np.int64) + 1
    return InsiderCase(world.log, np.sort(leaked), (), _snapshot(world, rng, leak_day))


def leak_by(
    rng: np.random.Generator,
    world: InsiderWorld,
    size: int,
    kind: str = "branch",
    leakers: int = 1,
    padding: float = 0.0,
    leak_day: int | None = None,
) -> InsiderCase:
    """A leak of ``size`` records by ``leakers`` stealthy employees of ``kind`` (see
    LEAK_KINDS: own-branch customers, other branches', a call-centre leaker, or customers a
    batch account also touched); ``padding`` of the records are other customers of the master.
    Each leaker looks the customers up a few a day before the snapshot, in place of as many
    of its ordinary lookups."""
    snapshot = _snapshot(world, rng, leak_day)
    people = world.employees
    role = people["role"].to_numpy()
    own = int(round(size * (1 - padding)))
    shares = np.full(leakers, own // leakers)
    shares[: own - shares.sum()] += 1
    log = world.log
    names, leaked_parts = [], []
    taken = np.zeros(0, np.int64)
    for share in shares:
        pool = np.flatnonzero(role == (CALL_CENTRE if kind == CALL_CENTRE else "branch"))
        e = int(rng.choice(pool))
        name = people["employee"][e]
        chosen = _victims(rng, world, kind, people["branch"][e], share, taken)
        taken = np.concatenate([taken, chosen])
        names.append(name)
        leaked_parts.append(chosen)
        log = _inject(rng, world, log, name, people["branch"][e], chosen, snapshot[0])
    customers = len(world.customer_branch)
    pad = rng.choice(customers, size=size - own, replace=False).astype(np.int64) + 1
    leaked = np.unique(np.concatenate([*leaked_parts, pad]))
    return InsiderCase(log, leaked, tuple(names), snapshot)


def _snapshot(
    world: InsiderWorld, rng: np.random.Generator, leak_day: int | None
) -> tuple[dt.date, dt.date]:
    """The leak's snapshot date range as verify would estimate it: a week ending on a day in
    the log's last third."""
    day = leak_day if leak_day is not None else int(rng.integers(world.days * 2 // 3, world.days))
    hi = world.start + dt.timedelta(days=day)
    return hi - dt.timedelta(days=7), hi


def _victims(
    rng: np.random.Generator,
    world: InsiderWorld,
    kind: str,
    branch: str,
    size: int,
    taken: NDArray[np.int64],
) -> NDArray[np.int64]:
    """The customer numbers one leaker takes."""
    customers = len(world.customer_branch)
    if kind == "branch" and branch.startswith("B"):
        pool = np.flatnonzero(world.customer_branch == int(branch[1:])) + 1
    elif kind == "batch_overlap":
        pool = world.batch_touched[int(np.argmax([len(t) for t in world.batch_touched]))]
    else:
        pool = np.arange(1, customers + 1)
    pool = np.setdiff1d(pool, taken)
    return np.sort(rng.choice(pool, size=min(size, len(pool)), replace=False)).astype(np.int64)


def _inject(
    rng: np.random.Generator,
    world: InsiderWorld,
    log: pl.DataFrame,
    name: str,
    branch: str,
    victims: NDArray[np.int64],
    before: dt.date,
) -> pl.DataFrame:
    """The log with the leaker's lookups of ``victims`` spread over the 30 to 120 days before
    ``before`` (mostly views, some prints and exports), as many of its ordinary rows of those
    days dropped."""
    n = len(victims)
    span = int(rng.integers(30, 121))
    first = max(0, (before - world.start).days - span)
    times = working_times(rng, n, world.start + dt.timedelta(days=first), span)
    action = rng.choice([VIEW, PRINT, EXPORT], size=n, p=[0.8, 0.1, 0.1]).astype(np.int8)
    cb = log["customer_branch"]
    branches = (
        None
        if cb.null_count() == cb.len()
        else np.array([f"B{b:03d}" for b in world.customer_branch[victims - 1]], dtype=object)
    )
    rows = access_rows(np.full(n, name, dtype=object), victims, action, times,
                       np.full(n, branch, dtype=object), branches)  # fmt: skip
    mine = log.with_row_index("i").filter(pl.col("employee") == name)["i"].to_numpy()
    drop = rng.choice(mine, size=min(n, len(mine)), replace=False)
    keep = np.ones(log.height, bool)
    keep[drop] = False
    return pl.concat([log.filter(pl.Series(keep)), rows])
