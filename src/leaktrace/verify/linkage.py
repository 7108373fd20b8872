"""Record linkage of the leak to the master: exact joins on strong identifiers first, then
Fellegi–Sunter scoring of blocked candidate pairs with m/u weights estimated from the data.

Everything that touches pairs is SQL on the engine; Python only sees pattern counts (for EM)
and the final matches. Blocking keys that would make too many pairs (skew) are skipped; the
other rules still reach those records.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import polars as pl
import pyarrow as pa

from leaktrace.verify import sql
from leaktrace.verify.em import EMResult, run_em
from leaktrace.verify.engines import Engine
from leaktrace.verify.sql import MISSING, Block, History, Spec

U_SAMPLE = 700  # rows of each side sampled for u (490k random pairs)
# Master rows whose values the whole leak's exact value counts meet, for the u of equality:
# enough for EXACT_PAIRS leak x master pairs, never fewer than EXACT_ROWS (all when smaller).
EXACT_ROWS = 200_000
EXACT_PAIRS = 1e9
MIN_PROB = 0.9  # posterior match probability a link needs


@dataclass
class ComparisonWeights:
    """Estimated m and u by level (0 = disagrees, higher = closer) for one comparison."""

    name: str
    m: list[float]
    u: list[float]


@dataclass
class LinkResult:
    """Matches (one per linked leak row) and how the linkage went."""

    matches: pl.DataFrame  # rid, mid, weight, prob, method, g_* levels
    candidate_pairs: int
    first_stage_pairs: int
    patterns: int
    lam: float  # expected share of matches among the candidate pairs
    em_iterations: int
    em_converged: bool
    weights: list[ComparisonWeights]
    blocks: list[str]
    seconds: dict[str, float] = field(default_factory=dict)
    near: str = ""  # table: master rows the blocking met (mid, compared and kept columns)
    near_history: str | None = None  # table: their history rows, when there is a history

    @property
    def exact(self) -> int:
        """Links made on a strong identifier agreeing in full."""
        return int((self.matches["method"] == "exact").sum())


def _u(engine: Engine, spec: Spec, leak: str, master: str, ids: str) -> list[np.ndarray]:
    """u per comparison: level shares among random pairs, the top level from exact value
    frequencies where it is equality (random pairs almost never agree on an ID).

    The exact frequencies pair the whole leak's value counts with a pseudo-random sample of
    the master of max(EXACT_ROWS, EXACT_PAIRS / leak rows) rows (the whole master when it is
    smaller): at least 1e9 pairs, so even an ID's chance of agreeing by accident (1e-7
    against ten million customers) is counted from about a hundred agreeing pairs, and the
    master is read for it only in the pass that draws the sample. The random pairs take the
    sample's first rows in the same order. ``ids`` names the sample (:func:`_sample_ids`),
    whose rows ``master`` holds."""
    engine.create("u_master", f"SELECT * FROM {master} WHERE mid IN (SELECT mid FROM {ids})")
    engine.create("u_l", sql.sample_sql(leak, "rid", U_SAMPLE))
    engine.create("u_m", sql.sample_sql("u_master", "mid", U_SAMPLE))
    engine.create("u_pairs", sql.cross_sql("u_l", "u_m"))
    counts = pl.from_arrow(
        engine.fetch(
            sql.level_counts_sql(spec, "(" + sql.gamma_sql(spec, "u_pairs", "u_l", "u_m") + ")")
        )
    )
    exact = [c.column for c in spec.comparisons if c.exact_top]
    agree = (
        {r["col"]: r for r in engine.fetch(sql.exact_u_sql(exact, leak, "u_master")).to_pylist()}
        if exact
        else {}
    )
    out = []
    for c in spec.comparisons:
        sub = counts.filter((pl.col("comparison") == c.name) & (pl.col("level") != MISSING))
        n = np.zeros(c.n_levels)
        for lvl, k in sub.select("level", "n").iter_rows():
            n[int(lvl)] = k
        total = max(n.sum(), 1.0)
        u = np.maximum(n, 0.5) / total
        if c.exact_top:
            row = agree[c.column]
            if row["agree"] and row["nl"] and row["nm"]:
                top = max(row["agree"] / (row["nl"] * row["nm"]), 1e-12)
                rest = u[:-1] / u[:-1].sum() * (1 - top)
                u = np.append(rest, top)
        out.append(u / u.sum())
    return out


def _count(engine: Engine, table: str) -> int:
    return int(engine.fetch(f"SELECT count(*) AS n FROM {table}").to_pylist()[0]["n"])


def _sample_ids(engine: Engine, leak: str, master: str) -> str:
    """Create ``u_ids``, the master sample for u (see :func:`_u`), from the ids alone: its
    rows are then read in the pass that finds the rows near the leak, not in one of their own."""
    rows = max(EXACT_ROWS, int(EXACT_PAIRS / max(1, _count(engine, leak))))
    engine.create("u_ids", sql.sample_ids_sql(master, "mid", rows))
    return "u_ids"


def _near(
    engine: Engine,
    name: str,
    blocks: list[Block],
    leak: str,
    master: str,
    history: History | None,
    columns: tuple[str, ...] = (),
    also: tuple[str, ...] = (),
) -> tuple[str, History | None]:
    """Materialise as ``name`` the master rows ``blocks`` can meet in ``leak`` and those whose
    ``mid`` is in the ``also`` tables (with ``columns``), with their customers' history rows
    and the versions the rules can meet, for the rules (and, for the last stage, every later
    step) to read instead of the whole master. Versions come first: a customer met only
    through an earlier value is a row of ``name`` too. Run per stage, so the later rules only
    look for the few leak rows the first left over."""
    if history is None:
        engine.create(name, sql.near_sql(tuple(blocks), leak, master, columns, also))
        return name, None
    found = [f"{name}_versions"]
    engine.create(found[0], sql.near_versions_sql(tuple(blocks), leak, history, own=False))
    if history.own is not None:
        found.append(f"{name}_own")
        engine.create(found[1], sql.near_versions_sql(tuple(blocks), leak, history, own=True))
    engine.create(name, sql.near_sql(tuple(blocks), leak, master, columns, (*found, *also)))
    engine.create(f"{name}_rows", sql.near_rows_sql(history, name))
    own = found[1] if history.own is not None else None
    return name, History(f"{name}_rows", found[0], history.fields, history.depends, own)


def link(
    engine: Engine,
    spec: Spec,
    leak: str,
    master: str,
    history: History | None = None,
    keep: tuple[str, ...] = (),
) -> LinkResult:
    """Link every row of ``leak`` to at most one row of ``master``, compared with all its
    versions (``history``). Tables need ``rid``/``mid`` and the spec's columns and keys; the
    master may be a view over the raw data, as it is read only in the passes that find the
    rows a leak key meets. The last of those passes also keeps every row the earlier one
    met, with the compared columns and ``keep``: later steps read those rows and their
    history rows (the tables named ``near`` and ``near_history`` of the result), never the
    whole master again."""
    t: dict[str, float] = {}
    t0 = time.perf_counter()
    columns = sorted({c.column for c in spec.comparisons})
    carry = tuple(sorted(set(columns) | set(keep)))
    first = [b for b in spec.blocks if b.first]
    rest = [b for b in spec.blocks if not b.first]
    ids = _sample_ids(engine, leak, master)
    near, hist = "", None
    if first:
        near, hist = _near(
            engine,
            "near_first",
            first,
            leak,
            master,
            history,
            () if rest else carry,
            () if rest else (ids,),
        )
        engine.create(
            "pairs_first",
            sql.union_pairs_sql([sql.block_sql(b, leak, near, spec.skew_cap, hist) for b in first]),
        )
    else:
        engine.create("pairs_first", "SELECT rid, rid AS mid FROM " + leak + " WHERE 1 = 0")
    n_first = engine.fetch("SELECT count(*) AS n FROM pairs_first").to_pylist()[0]["n"]
    engine.create("leak_rest", sql.anti_sql(leak, "pairs_first"))
    pairs = "SELECT rid, mid FROM pairs_first"
    if rest:
        also = (near, ids) if near else (ids,)
        near, hist = _near(engine, "near_rest", rest, "leak_rest", master, history, carry, also)
        selects = [sql.block_sql(b, "leak_rest", near, spec.skew_cap, hist) for b in rest]
        # The later rules only pair leak rows the first left without a pair: no overlap.
        pairs += " UNION ALL " + sql.union_pairs_sql(selects)
    engine.create("pairs", pairs)
    if not near:
        near = "near_none"
        engine.create(near, sql.near_sql((), leak, master, carry, (ids,)))
        if history is not None:
            engine.create(f"{near}_rows", sql.near_rows_sql(history, near))
    near_history = (
        History(f"{near}_rows", history.versions, history.fields, history.depends)
        if history is not None
        else None
    )
    t["blocking"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    engine.view("pair_versions", sql.versions_of_sql("pairs", near, columns, near_history))
    engine.create("gamma", sql.gamma_sql(spec, "pairs", leak, "pair_versions"))
    counts = pl.from_arrow(engine.fetch(sql.pattern_counts_sql(spec, "gamma")))
    t["comparing"] = time.perf_counter() - t0
    n_pairs = int(counts["n"].sum()) if counts.height else 0

    t0 = time.perf_counter()
    u = _u(engine, spec, leak, near, ids)
    t["u"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    gcols = [f"g_{c.name}" for c in spec.comparisons]
    if counts.height:
        patterns = counts.select(gcols).to_numpy().astype(np.int64)
        # Every leak x master pair is a candidate of the match share; the start puts half
        # the leak rows in the master.
        n_master = _count(engine, master)
        total = float(_count(engine, leak)) * n_master
        em = run_em(
            patterns,
            counts["n"].to_numpy(),
            u,
            lam=0.5 / max(1, n_master),
            can_match=counts["can_match"].to_numpy() == 1,
            total=total,
        )
    else:
        patterns = np.zeros((0, len(gcols)), dtype=np.int64)
        em = EMResult([np.full(len(x), 1 / len(x)) for x in u], u, 0.5, 0, True)
    t["em"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    keys = np.zeros(len(patterns), dtype=np.int64)
    base = 1
    for j, c in enumerate(spec.comparisons):
        keys += (patterns[:, j] + 1) * base
        base *= c.n_levels + 1
    engine.load_arrow(
        "weights",
        pa.table(
            {
                "pkey": pa.array(keys, pa.int64()),
                "weight": pa.array(em.log2_bf(patterns), pa.float64()),
                "prob": pa.array(em.probability(patterns), pa.float64()),
            }
        ),
    )
    engine.create("scored", sql.scored_sql(spec, "gamma", "weights"))
    engine.create("best", sql.best_sql("scored", MIN_PROB, spec.veto))
    cols = ", ".join(["rid", "mid", "weight", "prob", *gcols])
    matches = pl.from_arrow(engine.fetch(f"SELECT {cols} FROM best ORDER BY rid"))
    assert isinstance(matches, pl.DataFrame)
    strong = [
        pl.col(f"g_{c.name}") == len(c.levels)
        for c in spec.comparisons
        if c.name in ("resident_id", "bank_card", "mobile")
    ]
    exact = pl.any_horizontal(strong) if strong else pl.lit(False)
    matches = matches.with_columns(
        pl.when(exact).then(pl.lit("exact")).otherwise(pl.lit("probabilistic")).alias("method")
    )
    t["scoring"] = time.perf_counter() - t0
    return LinkResult(
        matches=matches,
        candidate_pairs=n_pairs,
        first_stage_pairs=int(n_first),
        patterns=len(patterns),
        lam=min(1.0, em.matches / n_pairs) if n_pairs else 0.0,
        em_iterations=em.iterations,
        em_converged=em.converged,
        weights=[
            ComparisonWeights(c.name, [float(x) for x in m], [float(x) for x in uu])
            for c, m, uu in zip(spec.comparisons, em.m, em.u, strict=True)
        ],
        blocks=[b.name for b in spec.blocks],
        seconds=t,
        near=near,
        near_history=near_history.rows if near_history is not None else None,
    )
