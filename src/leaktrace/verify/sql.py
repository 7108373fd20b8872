"""The linkage SQL, written once in DuckDB's dialect and transpiled by sqlglot for the other
engines (as Splink does), so DuckDB and Spark run the same statements.

A :class:`Spec` names what to compare and how to block; the builders here turn it into
statements over tables the caller provides: the leak (``rid`` + columns), the master's current
rows (``mid`` + the same columns; a view over the raw data will do) and, optionally, its
:class:`History` (versions with earlier values, so that a leak taken years ago still meets the
values it carried). Statements read the master only where a leak key or a candidate pair
meets it: no copy of the whole master, its versions or its value counts is built.
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


@dataclass(frozen=True)
class History:
    """Earlier values of master fields. ``rows`` has (mid, field, value, …), one row per
    earlier value of one of ``fields`` (blocking reads only mid and field); ``versions`` has,
    per such row, the master row with that value in place of the field's current one (the
    master's columns and keys, plus ``field``); ``depends`` pairs each key column derived
    from one of ``fields`` with that field. ``own``, when given, is like ``versions`` but
    built from the history row alone (every column but the changed field null): rules whose
    keys all derive from that one field read it, and need no pass over the master."""

    rows: str
    versions: str
    fields: tuple[str, ...]
    depends: tuple[tuple[str, str], ...]
    own: str | None = None

    def fields_of(self, keys: tuple[str, ...]) -> list[str]:
        """The fields with history that ``keys`` derive from."""
        dep = dict(self.depends)
        return sorted({dep[k] for k in keys if k in dep})

    def reads_own(self, keys: tuple[str, ...]) -> bool:
        """Whether a rule on ``keys`` reads ``own``: all of them derive from one field."""
        dep = dict(self.depends)
        return (
            self.own is not None and all(k in dep for k in keys) and len(self.fields_of(keys)) == 1
        )

    def source(self, keys: tuple[str, ...]) -> str:
        """The versions table a rule on ``keys`` reads."""
        return self.own if self.own is not None and self.reads_own(keys) else self.versions


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


def _in_list(values: list[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def block_sql(
    block: Block, leak: str, master: str, cap: int, history: History | None = None
) -> str:
    """Candidate pairs of one rule between ``leak`` and every version of the ``master`` rows,
    skipping keys that would make more than ``cap`` pairs (a key's master count is the number
    of versions carrying it).

    Only master rows whose key the leak also has are kept, so no key of the whole master is
    ever grouped. A version made from an earlier value of a field the rule's keys do not use
    carries the current row's key: it is counted as a weight on the current row rather than
    built. CTE names carry the rule's name: sqlglot hoists nested CTEs for Spark, which needs
    them distinct."""
    lk, lc = _key(block.keys, "l")
    mk, mc = _key(block.keys, "m")
    b = f"{leak}_{block.name}"
    ctes = [
        f"{b}_l AS (SELECT l.rid, {lk} AS k FROM {leak} l WHERE {lc})",
        f"{b}_c AS (SELECT m.mid, {mk} AS k FROM {master} m "
        f"WHERE {mc} AND {mk} IN (SELECT k FROM {b}_l))",
    ]
    if history is None:
        ctes.append(f"{b}_m AS (SELECT mid, k, 1 AS w FROM {b}_c)")
    else:
        fields = history.fields_of(block.keys)
        other = f"h.field NOT IN ({_in_list(fields)})" if fields else "h.field IS NOT NULL"
        ctes.append(
            f"{b}_w AS (SELECT h.mid, count(*) AS n FROM {history.rows} h "
            f"WHERE {other} AND h.mid IN (SELECT mid FROM {b}_c) GROUP BY h.mid)"
        )
        m = (
            f"SELECT c.mid, c.k, 1 + coalesce(w.n, 0) AS w FROM {b}_c c "
            f"LEFT JOIN {b}_w w ON w.mid = c.mid"
        )
        if fields:
            m += (
                f" UNION ALL SELECT m.mid, {mk} AS k, 1 AS w FROM {history.source(block.keys)} m "
                f"WHERE m.field IN ({_in_list(fields)}) AND {mc} AND {mk} IN (SELECT k FROM {b}_l)"
            )
        ctes.append(f"{b}_m AS ({m})")
    ctes += [
        f"{b}_ln AS (SELECT k, count(*) AS n FROM {b}_l GROUP BY k)",
        f"{b}_mn AS (SELECT k, sum(w) AS n FROM {b}_m GROUP BY k)",
        f"{b}_ok AS (SELECT x.k FROM {b}_ln x JOIN {b}_mn y ON x.k = y.k WHERE x.n * y.n <= {cap})",
    ]
    return (
        "\nWITH "
        + ",\n".join(ctes)
        + f"\nSELECT a.rid, c.mid FROM {b}_l a JOIN {b}_ok o ON a.k = o.k JOIN {b}_m c ON c.k = o.k"
    )


def _meets(blocks: tuple[Block, ...], leak: str) -> str:
    """Condition on master rows ``m``: some rule's key is one the ``leak`` also has."""
    conds = []
    for b in blocks:
        lk, lc = _key(b.keys, "l")
        mk, _ = _key(b.keys, "m")
        conds.append(f"{mk} IN (SELECT {lk} FROM {leak} l WHERE {lc})")
    return " OR ".join(f"({c})" for c in conds)


def near_sql(
    blocks: tuple[Block, ...],
    leak: str,
    master: str,
    columns: tuple[str, ...] = (),
    found: tuple[str, ...] = (),
) -> str:
    """The ``master`` rows (``mid``, every rule's key columns and ``columns``) that some rule's
    key puts next to a ``leak`` row, or whose ``mid`` is in one of the ``found`` tables (the
    customers an earlier value met). Found in one pass over the master, so the rules, each
    run separately, and every later step read this smaller table instead of the whole master
    again. Every row any rule meets (for this leak or a part of it) is here, with every row
    carrying the same key, so each rule's pairs and key counts stay the same."""
    cols = sorted({k for b in blocks for k in b.keys} | set(columns))
    keys = ", ".join(f"m.{c}" for c in cols)
    conds = [_meets(blocks, leak)] if blocks else []
    if found:
        mids = " UNION ALL ".join(f"SELECT mid FROM {f}" for f in found)
        conds.append(f"(m.mid IN ({mids}))")
    return f"SELECT m.mid, {keys} FROM {master} m WHERE {' OR '.join(conds) or '1 = 0'}"


def near_versions_sql(blocks: tuple[Block, ...], leak: str, history: History, own: bool) -> str:
    """Like :func:`near_sql` for the versions from earlier values (with ``field``): those
    whose key, changed by that earlier value, some rule meets in the ``leak``; from
    ``history.own`` for the rules that read it (``own``), else from ``history.versions``."""
    mine = [b for b in blocks if history.fields_of(b.keys) and history.reads_own(b.keys) == own]
    cols = sorted({k for b in mine for k in b.keys}) or sorted({k for b in blocks for k in b.keys})
    conds = [
        f"(m.field IN ({_in_list(history.fields_of(b.keys))}) AND ({_meets((b,), leak)}))"
        for b in mine
    ]
    where = " OR ".join(conds) if conds else "1 = 0"
    table = history.own if own and history.own else history.versions
    return (
        f"SELECT m.mid, m.field, {', '.join(f'm.{c}' for c in cols)} FROM {table} m WHERE {where}"
    )


def near_rows_sql(history: History, near: str) -> str:
    """The history rows (all their columns) of the master rows in ``near``: the rules count
    versions only for those, and later steps read earlier values from here."""
    return f"SELECT h.* FROM {history.rows} h WHERE h.mid IN (SELECT mid FROM {near})"


def versions_of_sql(
    pairs: str, master: str, columns: list[str], history: History | None = None
) -> str:
    """The versions of the master rows that appear in ``pairs``, with ``columns``. Versions
    from earlier values of fields not among ``columns`` equal the current row there, so they
    are left out: the best level over versions stays the same. The others are built here from
    the history rows and the pairs' current rows, rather than read from ``history.versions``,
    which would pair all history with the whole master first."""
    cols = ", ".join(["mid", *columns])
    sel = f"SELECT {cols} FROM {master} WHERE mid IN (SELECT mid FROM {pairs})"
    fields = [f for f in columns if history is not None and f in history.fields]
    if history is None or not fields:
        return sel
    vals = ", ".join(
        f"CASE WHEN h.field = '{c}' THEN h.value ELSE c.{c} END AS {c}" if c in fields else f"c.{c}"
        for c in columns
    )
    return (
        f"WITH cur AS ({sel}) SELECT {cols} FROM cur UNION ALL SELECT c.mid, {vals} "
        f"FROM {history.rows} h JOIN cur c ON c.mid = h.mid WHERE h.field IN ({_in_list(fields)})"
    )


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
    """How many pairs show each comparison pattern, and whether the pattern can be a link at
    all (``can_match``: 0 when the spec's veto rules it out): the input of EM."""
    gs = ", ".join(f"g_{c.name}" for c in spec.comparisons)
    can = f"CASE WHEN {spec.veto} THEN 0 ELSE 1 END" if spec.veto else "1"
    return (
        f"SELECT {gs}, n, {can} AS can_match FROM "
        f"(SELECT {gs}, count(*) AS n FROM {gamma} GROUP BY {gs}) c ORDER BY {gs}"
    )


def level_counts_sql(spec: Spec, gamma: str) -> str:
    """Per comparison and level, how many pairs (for u from random pairs)."""
    parts = [
        f"SELECT '{c.name}' AS comparison, g_{c.name} AS level, count(*) AS n "
        f"FROM {gamma} GROUP BY g_{c.name}"
        for c in spec.comparisons
    ]
    return " UNION ALL ".join(parts) + " ORDER BY comparison, level"


def _sample_order(idcol: str, n: int) -> str:
    return f"ORDER BY md5(CAST({idcol} AS VARCHAR)), {idcol} LIMIT {n}"


def sample_sql(table: str, idcol: str, n: int) -> str:
    """A deterministic pseudo-random sample of ``n`` rows (the same on every engine). The
    order is first found on ``idcol`` alone, so whole rows are only read for the sample."""
    ids = sample_ids_sql(table, idcol, n)
    return f"SELECT * FROM {table} WHERE {idcol} IN ({ids}) {_sample_order(idcol, n)}"


def sample_ids_sql(table: str, idcol: str, n: int) -> str:
    """The ``idcol`` of the rows :func:`sample_sql` would take, read from ``idcol`` alone."""
    return f"SELECT {idcol} FROM {table} {_sample_order(idcol, n)}"


def cross_sql(left: str, right: str) -> str:
    """Every pair of two (small) samples."""
    return f"SELECT l.rid, m.mid FROM {left} l CROSS JOIN {right} m"


def exact_u_sql(columns: list[str], leak: str, master: str) -> str:
    """Per column, the number of (non-null) leak and ``master`` rows and of their pairs that
    agree exactly: a random pair agrees with chance agree / (nl * nm). ``master`` may be a
    sample of the master. One pass over it, each row adding the leak's count of its value, so
    its value counts are never built and it is not read once per column."""
    ctes = [
        f"ua_{c} AS (SELECT {c} AS v, count(*) AS n FROM {leak} WHERE {c} IS NOT NULL GROUP BY {c})"
        for c in columns
    ]
    sums = ", ".join(
        f"CAST(sum(ua_{c}.n) AS DOUBLE) AS agree_{c}, CAST(count(m.{c}) AS DOUBLE) AS nm_{c}"
        for c in columns
    )
    joins = " ".join(f"LEFT JOIN ua_{c} ON ua_{c}.v = m.{c}" for c in columns)
    ctes.append(f"ub AS (SELECT {sums} FROM {master} m {joins})")
    rows = [
        f"SELECT '{c}' AS col, agree_{c} AS agree, "
        f"(SELECT CAST(count({c}) AS DOUBLE) FROM {leak}) AS nl, nm_{c} AS nm FROM ub"
        for c in columns
    ]
    return "WITH " + ",\n".join(ctes) + "\n" + "\nUNION ALL\n".join(rows)


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
