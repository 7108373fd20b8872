"""The linkage SQL, written once in DuckDB's dialect and transpiled by sqlglot for the other
engines (as Splink does), so DuckDB and Spark run the same statements.

A :class:`Spec` names what to compare and how to block; the builders here turn it into
statements over four tables the caller provides: the leak (``rid`` + columns), the master's
current rows (``mid`` + the same columns), the master's versions (current and historical rows,
so that a leak taken years ago still meets the values it carried) and a pairs table.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import sqlglot

MISSING = -1  # comparison level when either side is null


@dataclass(frozen=True)
class Comparison:
    """One field compared on a pair. ``levels`` are SQL conditions over ``{l}`` and ``{m}``,
    best first; a pair takes the level of the first that holds (the best gets
    ``len(levels)``, none gives 0, a null on either side gives MISSING). ``exact_top`` says the
    first level is plain equality, so its chance among random pairs is computed exactly from
    value frequencies rather than sampled."""

    name: str
    column: str
    levels: tuple[str, ...]
    exact_top: bool = True

    @property
    def n_levels(self) -> int:
        """Levels including 'disagrees' (0); MISSING is not a level."""
        return len(self.levels) + 1


@dataclass(frozen=True)
class Block:
    """A blocking rule: pairs whose ``keys`` columns are all equal (and not null). ``first``
    rules (exact strong identifiers) run first; the others only for leak rows they left
    without a candidate."""

    name: str
    keys: tuple[str, ...]
    first: bool = False


@dataclass(frozen=True)
class Spec:
    """What the linkage compares and how it blocks."""

    comparisons: tuple[Comparison, ...]
    blocks: tuple[Block, ...]
    skew_cap: int = 10_000  # keys making more pairs than this are skipped (skew guard)
    veto: str | None = None  # SQL over the g_* levels: pairs that can never be links


@cache
def transpile(sql: str, dialect: str) -> str:
    """``sql`` (DuckDB dialect) in ``dialect``."""
    if dialect == "duckdb":
        return sql
    return sqlglot.transpile(sql, read="duckdb", write=dialect)[0]


def _key(cols: tuple[str, ...], alias: str) -> tuple[str, str]:
    """(key expression, not-null condition) for columns of ``alias``."""
    parts = " || '|' || ".join(f"{alias}.{c}" for c in cols)
    cond = " AND ".join(f"{alias}.{c} IS NOT NULL" for c in cols)
    return parts, cond


def block_sql(block: Block, leak: str, master: str, cap: int) -> str:
    """Candidate pairs of one rule, skipping keys that would make more than ``cap`` pairs.
    CTE names carry the rule's name: sqlglot hoists nested CTEs for Spark, which needs them
    distinct."""
    lk, lc = _key(block.keys, "l")
    mk, mc = _key(block.keys, "m")
    b = f"{leak}_{block.name}"
    return f"""
WITH {b}_l AS (SELECT l.rid, {lk} AS k FROM {leak} l WHERE {lc}),
{b}_m AS (SELECT m.mid, {mk} AS k FROM {master} m WHERE {mc}),
{b}_ln AS (SELECT k, count(*) AS n FROM {b}_l GROUP BY k),
{b}_mn AS (SELECT k, count(*) AS n FROM {b}_m GROUP BY k),
{b}_ok AS (SELECT x.k FROM {b}_ln x JOIN {b}_mn y ON x.k = y.k WHERE x.n * y.n <= {cap})
SELECT a.rid, c.mid FROM {b}_l a JOIN {b}_ok o ON a.k = o.k JOIN {b}_m c ON c.k = o.k"""


def union_pairs_sql(selects: list[str]) -> str:
    """Distinct (rid, mid) over several pair queries."""
    body = "\nUNION ALL\n".join(f"SELECT rid, mid FROM ({s}) b" for s in selects)
    return f"SELECT DISTINCT rid, mid FROM ({body}) u"


def anti_sql(leak: str, pairs: str) -> str:
    """Leak rows with no pair in ``pairs``."""
    return (
        f"SELECT l.* FROM {leak} l LEFT JOIN (SELECT DISTINCT rid FROM {pairs}) p "
        f"ON l.rid = p.rid WHERE p.rid IS NULL"
    )


def level_sql(c: Comparison, left: str = "l", right: str = "m") -> str:
    """The CASE expression giving comparison ``c``'s level."""
    lcol, mcol = f"{left}.{c.column}", f"{right}.{c.column}"
    whens = [f"WHEN {lcol} IS NULL OR {mcol} IS NULL THEN {MISSING}"]
    for i, cond in enumerate(c.levels):
        whens.append(f"WHEN {cond.format(l=lcol, m=mcol)} THEN {len(c.levels) - i}")
    return "CASE " + " ".join(whens) + " ELSE 0 END"


def gamma_sql(spec: Spec, pairs: str, leak: str, master: str) -> str:
    """Comparison levels of every pair; over several master versions the best level counts."""
    cols = ",\n  ".join(f"max({level_sql(c)}) AS g_{c.name}" for c in spec.comparisons)
    return f"""
SELECT p.rid, p.mid,
  {cols}
FROM {pairs} p JOIN {leak} l ON l.rid = p.rid JOIN {master} m ON m.mid = p.mid
GROUP BY p.rid, p.mid"""


def pattern_key_sql(spec: Spec) -> str:
    """An integer naming a pair's comparison pattern (mixed radix over the levels + 1)."""
    terms, base = [], 1
    for c in spec.comparisons:
        terms.append(f"(g_{c.name} + 1) * {base}")
        base *= c.n_levels + 1
    return " + ".join(terms)


def pattern_counts_sql(spec: Spec, gamma: str) -> str:
    """How many pairs show each comparison pattern: the input of EM."""
    gs = ", ".join(f"g_{c.name}" for c in spec.comparisons)
    return f"SELECT {gs}, count(*) AS n FROM {gamma} GROUP BY {gs} ORDER BY {gs}"


def level_counts_sql(spec: Spec, gamma: str) -> str:
    """Per comparison and level, how many pairs (for u from random pairs)."""
    parts = [
        f"SELECT '{c.name}' AS comparison, g_{c.name} AS level, count(*) AS n "
        f"FROM {gamma} GROUP BY g_{c.name}"
        for c in spec.comparisons
    ]
    return " UNION ALL ".join(parts) + " ORDER BY comparison, level"


def sample_sql(table: str, idcol: str, n: int) -> str:
    """A deterministic pseudo-random sample of ``n`` rows (the same on every engine)."""
    return f"SELECT * FROM {table} ORDER BY md5(CAST({idcol} AS VARCHAR)), {idcol} LIMIT {n}"


def cross_sql(left: str, right: str) -> str:
    """Every pair of two (small) samples."""
    return f"SELECT l.rid, m.mid FROM {left} l CROSS JOIN {right} m"


def exact_u_sql(column: str, leak: str, master: str) -> str:
    """Chance that a random (non-null) leak row and master row agree exactly on ``column``."""
    return f"""
WITH a AS (SELECT {column} AS v, count(*) AS n FROM {leak} WHERE {column} IS NOT NULL GROUP BY {column}),
b AS (SELECT {column} AS v, count(*) AS n FROM {master} WHERE {column} IS NOT NULL GROUP BY {column})
SELECT CAST(sum(a.n * b.n) AS DOUBLE) AS agree,
  (SELECT CAST(count(*) AS DOUBLE) FROM {leak} WHERE {column} IS NOT NULL) AS nl,
  (SELECT CAST(count(*) AS DOUBLE) FROM {master} WHERE {column} IS NOT NULL) AS nm
FROM a JOIN b ON a.v = b.v"""


def scored_sql(spec: Spec, gamma: str, weights: str) -> str:
    """Pairs with their pattern's match weight and probability."""
    return f"""
SELECT g.*, w.weight, w.prob FROM
  (SELECT *, {pattern_key_sql(spec)} AS pkey FROM {gamma}) g
  JOIN {weights} w ON g.pkey = w.pkey"""


def best_sql(scored: str, min_prob: float, veto: str | None = None) -> str:
    """Each leak row's best master record at or above ``min_prob`` (ties: the lowest id)."""
    cond = f"prob >= {min_prob}" + (f" AND NOT ({veto})" if veto else "")
    return f"""
SELECT * FROM (
  SELECT s.*, row_number() OVER (PARTITION BY rid ORDER BY weight DESC, mid ASC) AS rn
  FROM {scored} s WHERE {cond}) t
WHERE rn = 1"""
