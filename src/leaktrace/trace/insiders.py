"""Which employees' accesses explain a leak: coverage of the leaked customers weighted by action
and by the chance the access preceded the snapshot, each employee tested against a null that
keeps its mix of customer strata (branch x cohort), corrected for the number of employees, and
a small set of employees chosen greedily to explain a mixed leak.

The null. In stratum s (N_s customers of the log, K_s of them leaked) an employee's accessed
customers, with their weights, are placed at random among the N_s, or equally the leak is drawn
at random within the stratum: either way the weighted overlap T_s is the sum of K_s draws
without replacement from N_s values (the employee's weights, zeros for the rest). Its moment
generating function is bounded both by drawing with replacement (Hoeffding 1963, Thm 4) and by
independent draws of each item (negative association, Joag-Dev & Proschan 1983); the smaller
bound per stratum, multiplied over strata, gives a Chernoff bound on the tail of T = sum T_s,
minimised over a grid of exponents: a rigorous p-value, never an estimate.

The strata are only as good as the customers' branches: give them in the log (its customer
branch column); else each customer's branch is inferred from the branches whose staff looked it
up, and a leak of one branch's customers may then make that branch's staff look more related
to it than they are (the greedy cover still puts the employee who explains it first).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
import polars as pl
from numpy.typing import NDArray

from leaktrace.trace.access_log import ACTION_NAMES, AccessLog

#: Weight of an access by action (view, print, export): what it could have given away.
ACTION_WEIGHTS = (1, 2, 4)
#: The chance an access preceded the snapshot is rounded up to 1/TIMING_STEPS.
TIMING_STEPS = 8
#: Exponents the Chernoff bound is minimised over (any one gives a valid bound).
LAMBDAS = np.geomspace(1e-3, 60.0, 64)
#: Customer-number cohorts per branch (numbers are given in order of account opening).
COHORTS = 4
ALPHA = 1e-3
MAX_COVER = 8


@dataclass(frozen=True)
class AccessIndex:
    """An access log prepared for ranking against any number of leaks: the (employee, customer)
    pairs with the weight of the strongest access that could have preceded the snapshot, each
    customer's stratum, and per employee its weights' counts per stratum."""

    employees: NDArray[np.str_]  # employee id per code
    customers: NDArray[np.int64]  # the log's customer numbers, sorted (the universe)
    stratum: NDArray[np.int32]  # per customer index
    stratum_size: NDArray[np.int64]  # N_s
    pair_employee: NDArray[np.int32]  # pairs sorted by customer index
    pair_units: NDArray[np.int16]  # weight in 1/TIMING_STEPS units
    pair_start: NDArray[np.int64]  # CSR over customer indices
    group_stratum: NDArray[np.int32]  # (employee, stratum, units) counts sorted by employee
    group_units: NDArray[np.int16]
    group_count: NDArray[np.int64]
    group_start: NDArray[np.int64]  # CSR over employee codes
    volume: NDArray[np.float64]  # accesses against the peers' and own baselines (ties only)
    accesses: pl.DataFrame  # code, cidx, action, time, employee_branch, customer_branch


@dataclass(frozen=True)
class Evidence:
    """What an employee did to the leaked customers: accesses per action, first and last of
    them, the employee's branches and those of the leaked customers it accessed."""

    actions: dict[str, int]
    first_access: dt.datetime | None
    last_access: dt.datetime | None
    branches: tuple[str, ...]
    customer_branches: tuple[str, ...]
    volume: float  # accesses against peers' median and own months (1 = ordinary)


@dataclass(frozen=True)
class Suspect:
    """One employee's place in the ranking and how sure: ``p`` bounds the chance an employee
    with its access mix covers the leak this well by chance; ``corrected_p`` corrects it for
    the number of employees (and the cover step); ``flagged`` when it is part of the small set
    that explains the leak, each at corrected p <= alpha on what the earlier ones left.

    The correction multiplies p by the number of employees m and, at the cover's step j, by
    j(j+1) (these factors' inverses sum to 1): the chance of flagging anyone whose accesses are
    unrelated to the leak stays <= alpha. Others carry the factor of the first step, 2m."""

    employee: str
    rank: int
    covered: int  # leaked customers it accessed (possibly before the snapshot)
    weighted: float  # their weighted coverage
    p: float
    log10_p: float  # p's order of magnitude where p itself underflows
    corrected_p: float
    flagged: bool
    cover_step: int | None  # its place in the set that explains the leak
    explains: int  # leaked customers it newly explains there
    evidence: Evidence


@dataclass(frozen=True)
class InsiderRanking:
    """The ranked employees (those who accessed a leaked customer), with the counts behind."""

    suspects: tuple[Suspect, ...]
    employees: int  # employees in the log (the Bonferroni factor)
    leaked: int  # distinct leaked customers
    leaked_in_log: int  # of them, accessed by anyone before the snapshot could close
    explained: int  # leaked customers covered by the flagged employees
    alpha: float

    @property
    def flagged(self) -> tuple[Suspect, ...]:
        """The employees whose accesses explain the leak beyond chance."""
        return tuple(s for s in self.suspects if s.flagged)


def rank_insiders(
    log: AccessLog | pl.DataFrame | AccessIndex,
    leaked: NDArray[np.int64],
    snapshot: tuple[dt.date, dt.date] | None = None,
    alpha: float = ALPHA,
    top: int | None = 50,
    cohorts: int = COHORTS,
    max_cover: int = MAX_COVER,
) -> InsiderRanking:
    """Rank the employees of ``log`` (an AccessLog or its frame, or an index made of it with its
    snapshot, for ranking many leaks) by how well their accesses explain the ``leaked``
    customer numbers; ``top`` limits the suspects returned (None: every employee who accessed
    a leaked customer before the snapshot could close)."""
    if isinstance(log, AccessIndex):
        index = log
    else:
        frame = log.frame if isinstance(log, AccessLog) else log
        index = index_accesses(frame, snapshot, cohorts)
    return rank_index(index, leaked, alpha, top, max_cover)


def index_accesses(
    frame: pl.DataFrame,
    snapshot: tuple[dt.date, dt.date] | None = None,
    cohorts: int = COHORTS,
) -> AccessIndex:
    """Prepare an access log's frame (as ``read_access_log`` gives it) for ranking."""
    employees = frame["employee"].unique().sort()
    customers = frame["customer"].unique().sort().to_numpy()
    named = frame.select(pl.concat([pl.col("employee_branch"), pl.col("customer_branch")]))
    branches = pl.Enum(named.to_series().drop_nulls().unique().sort())
    f = frame.select(
        pl.col("employee").cast(pl.Enum(employees)).to_physical().cast(pl.Int32).alias("code"),
        (pl.col("customer").rank("dense") - 1).cast(pl.Int64).alias("cidx"),
        _units(snapshot).alias("units"),
        "action",
        "time",
        "employee_branch",
        "customer_branch",
        pl.col("employee_branch").cast(branches).to_physical().cast(pl.Int32).alias("eb"),
        pl.col("customer_branch").cast(branches).to_physical().cast(pl.Int32).alias("cb"),
    )
    stratum = _strata(f, customers, cohorts)
    pairs = (
        f.lazy()
        .filter(pl.col("units") > 0)
        .group_by("cidx", "code")
        .agg(pl.col("units").max())
        .sort("cidx", "code")
        .collect()
    )
    pair_cidx = pairs["cidx"].to_numpy()
    pair_employee = pairs["code"].to_numpy()
    pair_units = pairs["units"].to_numpy().astype(np.int16)
    groups = (
        pl.DataFrame({"code": pair_employee, "s": stratum[pair_cidx], "units": pair_units})
        .group_by("code", "s", "units")
        .len()
        .sort("code", "s", "units")
    )
    g_code = groups["code"].to_numpy()
    n_emp = employees.len()
    return AccessIndex(
        employees=employees.to_numpy().astype(str),
        customers=customers,
        stratum=stratum,
        stratum_size=np.bincount(stratum).astype(np.int64),
        pair_employee=pair_employee.astype(np.int32),
        pair_units=pair_units,
        pair_start=np.searchsorted(pair_cidx, np.arange(len(customers) + 1)).astype(np.int64),
        group_stratum=groups["s"].to_numpy().astype(np.int32),
        group_units=groups["units"].to_numpy().astype(np.int16),
        group_count=groups["len"].to_numpy().astype(np.int64),
        group_start=np.searchsorted(g_code, np.arange(n_emp + 1)).astype(np.int64),
        volume=_volume(f, n_emp),
        accesses=f.drop("units", "eb", "cb"),
    )


def _units(snapshot: tuple[dt.date, dt.date] | None) -> pl.Expr:
    """Each access's weight in 1/TIMING_STEPS units: its action's weight times the chance it
    preceded a snapshot taken on a day uniform in ``snapshot`` (rounded up; 1 without a
    snapshot or a time)."""
    action = pl.col("action").replace_strict(
        list(range(len(ACTION_WEIGHTS))), list(ACTION_WEIGHTS), return_dtype=pl.Int32
    )
    if snapshot is None:
        return action * TIMING_STEPS
    lo, hi = snapshot
    span = (hi - lo).days + 1
    day = pl.col("time").dt.date()
    after = (pl.lit(hi) - pl.max_horizontal(day, pl.lit(lo))).dt.total_days() + 1
    chance = (after.clip(0, span) / span).fill_null(1.0)
    steps = (chance * TIMING_STEPS).ceil().cast(pl.Int32)
    return action * steps


def _strata(f: pl.DataFrame, customers: NDArray[np.int64], cohorts: int) -> NDArray[np.int32]:
    """Each customer's stratum: its branch (as the log gives it, else inferred by
    ``_usual_branch``, else one for all) times its customer-number cohort."""
    given = (
        f.lazy()
        .filter(pl.col("cb").is_not_null())
        .group_by("cidx")
        .agg(pl.col("cb").first().alias("branch"))
    )
    every = pl.LazyFrame({"cidx": np.arange(len(customers), dtype=np.int64)})
    branch = (
        every.join(given, on="cidx", how="left")
        .join(_usual_branch(f).lazy(), on="cidx", how="left")
        .sort("cidx")
        .select(pl.coalesce("branch", "usual").fill_null(-1).rank("dense").alias("b"))
        .collect()["b"]
        .to_numpy()
        .astype(np.int64)
        - 1
    )
    cohort = (np.arange(len(customers)) * cohorts) // max(len(customers), 1)
    key = branch * cohorts + cohort
    return np.unique(key, return_inverse=True)[1].astype(np.int32)


#: An employee branch is local (a branch, not a call centre or a batch account) when at least
#: this share of its accesses go to customers it accesses most.
LOCAL = 0.5


def _usual_branch(f: pl.DataFrame) -> pl.DataFrame:
    """Per customer (cidx), the employee branch that accessed it most, counting only local
    branches where any did: a call centre or a system account that looks up everyone must
    not take a branch's customers."""
    counts = f.lazy().filter(pl.col("eb").is_not_null()).group_by("cidx", "eb").len().collect()
    first = _mode(counts)
    locality = (
        counts.join(first, on="cidx")
        .group_by("eb")
        .agg(
            (
                pl.col("len").filter(pl.col("eb") == pl.col("usual")).sum() / pl.col("len").sum()
            ).alias("local")
        )
        .filter(pl.col("local") >= LOCAL)["eb"]
    )
    second = _mode(counts.filter(pl.col("eb").is_in(locality.implode())))
    return first.join(second, on="cidx", how="left", suffix="_local").select(
        "cidx", pl.coalesce("usual_local", "usual").alias("usual")
    )


def _mode(counts: pl.DataFrame) -> pl.DataFrame:
    """Per customer, the branch with the most accesses (ties to the first name)."""
    return (
        counts.sort("len", "eb", descending=[True, False])
        .group_by("cidx")
        .agg(pl.col("eb").first().alias("usual"))
    )


def _volume(f: pl.DataFrame, n_emp: int) -> NDArray[np.float64]:
    """Per employee, accesses against the median of its branch's employees times its busiest
    month against its median month: a tie-breaker, never evidence on its own."""
    per = (
        f.lazy()
        .group_by("code")
        .agg(pl.len().alias("n"), pl.col("eb").drop_nulls().first().alias("b"))
        .with_columns((pl.col("n") / pl.col("n").median().over("b")).alias("peer"))
        .collect()
    )
    months = (
        f.lazy()
        .filter(pl.col("time").is_not_null())
        .group_by("code", pl.col("time").dt.truncate("1mo"))
        .len()
        .group_by("code")
        .agg((pl.col("len").max() / pl.col("len").median()).alias("own"))
        .collect()
    )
    out = np.ones(n_emp)
    out[per["code"].to_numpy()] = per["peer"].to_numpy()
    own = np.ones(n_emp)
    own[months["code"].to_numpy()] = months["own"].to_numpy()
    return out * own


def rank_index(
    index: AccessIndex,
    leaked: NDArray[np.int64],
    alpha: float = ALPHA,
    top: int | None = 50,
    max_cover: int = MAX_COVER,
) -> InsiderRanking:
    """Rank ``index``'s employees against the ``leaked`` customer numbers (see rank_insiders)."""
    leaked = np.unique(np.asarray(leaked, dtype=np.int64))
    cidx = _in_log(index, leaked)
    m = len(index.employees)
    first = _test(index, cidx)
    cover: list[tuple[int, int, float]] = []  # code, leaked customers it explains, corrected p
    left = cidx
    while len(left) and len(cover) < max_cover:
        step = first if not cover else _test(index, left)
        if not len(step.codes):
            break
        best = _order(step, index.volume)[0]
        j = len(cover) + 1
        log_corr = step.log_p[best] + math.log(m * j * (j + 1))
        if log_corr > math.log(alpha):
            break
        code = int(step.codes[best])
        cover.append((code, int(step.covered[best]), min(1.0, math.exp(log_corr))))
        left = left[~_accessed_by(index, left, code)]
    in_cover = {c[0]: (i + 1, c) for i, c in enumerate(cover)}
    rest = [
        int(first.codes[i]) for i in _order(first, index.volume) if first.codes[i] not in in_cover
    ]
    order = [c[0] for c in cover] + rest
    if top is not None:
        order = order[:top]
    at = {int(c): i for i, c in enumerate(first.codes)}
    evidence = _evidence(index, cidx, order)
    suspects = []
    for rank, code in enumerate(order, 1):
        i = at[code]
        log_p = float(first.log_p[i])
        cover_step, (_, explains, corrected) = in_cover.get(code, (None, (code, 0, 1.0)))
        if cover_step is None:  # as if tested first: the factor of the cover's first step
            corrected = min(1.0, math.exp(log_p + math.log(2 * m)))
        suspects.append(
            Suspect(
                employee=str(index.employees[code]),
                rank=rank,
                covered=int(first.covered[i]),
                weighted=float(first.weighted[i]),
                p=math.exp(log_p),
                log10_p=log_p / math.log(10),
                corrected_p=corrected,
                flagged=cover_step is not None,
                cover_step=cover_step,
                explains=explains,
                evidence=evidence[code],
            )
        )
    return InsiderRanking(tuple(suspects), m, len(leaked), len(cidx), len(cidx) - len(left), alpha)


def _in_log(index: AccessIndex, leaked: NDArray[np.int64]) -> NDArray[np.int64]:
    """The customer indices of the leaked customers someone accessed before the snapshot."""
    if not len(index.customers):
        return np.zeros(0, np.int64)
    pos = np.minimum(np.searchsorted(index.customers, leaked), len(index.customers) - 1)
    cidx = pos[index.customers[pos] == leaked].astype(np.int64)
    return cidx[index.pair_start[cidx + 1] > index.pair_start[cidx]]


def _pairs_of(index: AccessIndex, cidx: NDArray[np.int64]) -> NDArray[np.int64]:
    """The positions of the pairs of customers ``cidx`` (CSR ranges concatenated)."""
    return _ranges(index.pair_start[cidx], index.pair_start[cidx + 1])


def _ranges(start: NDArray[np.int64], stop: NDArray[np.int64]) -> NDArray[np.int64]:
    """The integers of every range [start, stop), concatenated."""
    lengths = stop - start
    total = int(lengths.sum())
    if not total:
        return np.zeros(0, np.int64)
    ends = np.cumsum(lengths)
    return np.arange(total) - np.repeat(ends - lengths - start, lengths)


def _accessed_by(index: AccessIndex, cidx: NDArray[np.int64], code: int) -> NDArray[np.bool_]:
    """Which of the customers ``cidx`` employee ``code`` accessed (before the snapshot)."""
    at = _pairs_of(index, cidx)
    owner = np.repeat(np.arange(len(cidx)), index.pair_start[cidx + 1] - index.pair_start[cidx])
    hit = np.zeros(len(cidx), bool)
    hit[owner[index.pair_employee[at] == code]] = True
    return hit


@dataclass(frozen=True)
class _Tested:
    """Every employee who accessed a leaked customer, with its coverage and log p-value."""

    codes: NDArray[np.int64]
    covered: NDArray[np.int64]
    weighted: NDArray[np.float64]
    log_p: NDArray[np.float64]


def _test(index: AccessIndex, cidx: NDArray[np.int64]) -> _Tested:
    """Coverage and the Chernoff bound on its tail for each employee against leak ``cidx``."""
    m = len(index.employees)
    at = _pairs_of(index, cidx)
    emp = index.pair_employee[at]
    weight = index.pair_units[at] / TIMING_STEPS
    covered = np.bincount(emp, minlength=m)
    weighted = np.bincount(emp, weights=weight, minlength=m)
    codes = np.flatnonzero(covered).astype(np.int64)
    k = np.bincount(index.stratum[cidx], minlength=len(index.stratum_size))
    return _Tested(codes, covered[codes], weighted[codes], _log_p(index, codes, k, weighted[codes]))


def _log_p(
    index: AccessIndex, codes: NDArray[np.int64], k: NDArray[np.int64], observed: NDArray
) -> NDArray[np.float64]:
    """log of the Chernoff bound on P(T >= observed) per employee (see the module's text)."""
    rows = _ranges(index.group_start[codes], index.group_start[codes + 1])
    owner = np.repeat(
        np.arange(len(codes)), index.group_start[codes + 1] - index.group_start[codes]
    )
    s = index.group_stratum[rows]
    keep = k[s] > 0
    rows, owner, s = rows[keep], owner[keep], s[keep]
    weight = index.group_units[rows] / TIMING_STEPS
    count = index.group_count[rows]
    # one segment per (employee, stratum): rows are sorted by employee, then stratum
    new = np.ones(len(rows), bool)
    new[1:] = (owner[1:] != owner[:-1]) | (s[1:] != s[:-1])
    seg = np.cumsum(new) - 1
    seg_owner, seg_s = owner[new], s[new]
    big_n = index.stratum_size[seg_s].astype(np.float64)
    seg_k = k[seg_s].astype(np.float64)
    share = seg_k / big_n
    n_seg = int(seg[-1]) + 1 if len(seg) else 0
    best = np.zeros(len(codes))
    for lam in LAMBDAS:
        x = np.expm1(lam * weight)
        with_replacement = seg_k * np.log1p(np.bincount(seg, count * x, n_seg) / big_n)
        each_item = np.bincount(seg, count * np.log1p(share[seg] * x), n_seg)
        bound = np.bincount(seg_owner, np.minimum(with_replacement, each_item), len(codes))
        best = np.minimum(best, bound - lam * observed)
    return best


def _order(tested: _Tested, volume: NDArray[np.float64]) -> NDArray[np.int64]:
    """Positions in ``tested`` from the most to the least explaining: smallest p, then the
    largest weighted coverage, then the most unusual volume."""
    return np.lexsort((-volume[tested.codes], -tested.weighted, tested.log_p))


def _evidence(index: AccessIndex, cidx: NDArray[np.int64], codes: list[int]) -> dict[int, Evidence]:
    """Each employee's evidence: its accesses of the leaked customers and its branches."""
    rows = index.accesses.filter(pl.col("code").is_in(codes) & pl.col("cidx").is_in(cidx))
    mine = index.accesses.filter(pl.col("code").is_in(codes))
    branches = mine.group_by("code").agg(pl.col("employee_branch").drop_nulls().unique().sort())
    own = dict(zip(branches["code"].to_list(), branches["employee_branch"].to_list(), strict=True))
    per = rows.group_by("code").agg(
        *((pl.col("action") == a).sum().alias(name) for a, name in enumerate(ACTION_NAMES)),
        pl.col("time").min().alias("first"),
        pl.col("time").max().alias("last"),
        pl.col("customer_branch").drop_nulls().unique().sort().alias("cb"),
    )
    out = {}
    for r in per.iter_rows(named=True):
        code = r["code"]
        out[code] = Evidence(
            {name: int(r[name]) for name in ACTION_NAMES},
            r["first"],
            r["last"],
            tuple(own.get(code) or ()),
            tuple(r["cb"]),
            float(index.volume[code]),
        )
    return out
