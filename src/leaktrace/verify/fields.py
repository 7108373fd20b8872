"""Per matched record and field: does the leaked value agree with the customer's current
value, with an earlier value (and when that one held), or with neither?

Agreement allows what resold lists do to values: masks (visible characters must agree) and,
for names and addresses, a typo or two.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from leaktrace.i18n import N_
from leaktrace.verify.engines import Engine
from leaktrace.verify.profile import HISTORICAL, near_long, near_short

FIELDS = ("person_name", "resident_id", "mobile", "bank_card", "address", "email")
TYPOS = {"person_name": near_short, "address": near_long}
# How the reports name each field (English, translated where shown; the JSON's ``label``).
LABELS = {
    "person_name": N_("name"),
    "resident_id": N_("resident ID"),
    "mobile": N_("mobile"),
    "bank_card": N_("bank card"),
    "address": N_("address"),
    "email": N_("email"),
}
STATUSES = ("current", "historical", "disagrees", "unknown", "missing")


@dataclass
class FieldAgreement:
    """How the matched records' values of one field compare with the master."""

    field: str
    label: str
    current: int = 0
    historical: int = 0
    disagrees: int = 0
    unknown: int = 0  # the master holds no value to compare with
    missing: int = 0  # the leak holds no value

    @property
    def compared(self) -> int:
        return self.current + self.historical + self.disagrees

    @property
    def agree_rate(self) -> float | None:
        """Share of compared values agreeing with a current or earlier value."""
        return (self.current + self.historical) / self.compared if self.compared else None


def _agree(left: str, right: str, fld: str) -> str:
    cond = f"({left} = {right} OR {right} LIKE replace({left}, '*', '_')"
    if fld in TYPOS:
        cond += " OR " + TYPOS[fld](left, right)
    return cond + ")"


# Per field and matched record, a code computed once: the leak has no value, the master has
# none, the two agree, or they disagree.
MISSING_LEAK, MISSING_MASTER, AGREES, DISAGREES = 0, 1, 2, 3


def _base_sql(fields: list[str], matched: str, leak: str, current: str) -> str:
    """Matched records with, per field, how the leaked value compares with the current one."""
    codes = ",\n  ".join(
        f"CASE WHEN l.{f} IS NULL THEN {MISSING_LEAK} WHEN c.{f} IS NULL THEN {MISSING_MASTER} "
        f"WHEN {_agree(f'l.{f}', f'c.{f}', f)} THEN {AGREES} ELSE {DISAGREES} END AS a_{f}"
        for f in fields
    )
    return f"""
SELECT b.rid, b.mid, c.opened,
  {codes}
FROM {matched} b JOIN {leak} l ON l.rid = b.rid JOIN {current} c ON c.mid = b.mid"""


def _field_sql(fld: str, base: str, leak: str, history: str | None) -> str:
    a = f"x.a_{fld}"
    if fld in HISTORICAL and history:
        # Earlier values are only looked at where the current one does not agree.
        return f"""
SELECT x.rid, x.mid, '{fld}' AS field,
  CASE WHEN {a} = {MISSING_LEAK} THEN 'missing'
       WHEN {a} = {AGREES} THEN 'current'
       WHEN h.valid_to IS NOT NULL THEN 'historical'
       WHEN {a} = {MISSING_MASTER} THEN 'unknown'
       ELSE 'disagrees' END AS status,
  CASE WHEN {a} = {AGREES} THEN coalesce(s.since, x.opened)
       WHEN h.valid_to IS NOT NULL THEN h.valid_from END AS lo,
  CASE WHEN {a} = {AGREES} THEN CAST(NULL AS DATE) ELSE h.valid_to END AS hi
FROM {base} x
LEFT JOIN (
  SELECT x2.rid, max(hh.valid_from) AS valid_from, max(hh.valid_to) AS valid_to
  FROM {base} x2 JOIN {leak} l2 ON l2.rid = x2.rid
  JOIN {history} hh ON hh.mid = x2.mid AND hh.field = '{fld}'
  WHERE x2.a_{fld} IN ({MISSING_MASTER}, {DISAGREES}) AND {_agree(f"l2.{fld}", "hh.value", fld)}
  GROUP BY x2.rid) h ON h.rid = x.rid
LEFT JOIN (SELECT mid, max(valid_to) AS since FROM {history} WHERE field = '{fld}' GROUP BY mid) s
  ON s.mid = x.mid"""
    return f"""
SELECT x.rid, x.mid, '{fld}' AS field,
  CASE WHEN {a} = {MISSING_LEAK} THEN 'missing' WHEN {a} = {MISSING_MASTER} THEN 'unknown'
       WHEN {a} = {AGREES} THEN 'current' ELSE 'disagrees' END AS status,
  CASE WHEN {a} = {AGREES} THEN x.opened END AS lo,
  CAST(NULL AS DATE) AS hi
FROM {base} x"""


def field_status(
    engine: Engine,
    fields: list[str],
    matched: str,
    leak: str,
    current: str,
    history: str | None,
) -> tuple[list[FieldAgreement], pl.DataFrame]:
    """Create ``field_status`` (rid, mid, field, status, lo, hi) on the engine; return the
    per-field counts and the date constraints (rid, lo, hi; one row per record and interval)
    of agreeing values for the snapshot."""
    present = [f for f in FIELDS if f in fields]
    engine.create("field_base", _base_sql(present, matched, leak, current))
    parts = [_field_sql(f, "field_base", leak, history) for f in present]
    engine.create("field_status", " UNION ALL ".join(parts))
    counts = pl.from_arrow(
        engine.fetch("SELECT field, status, count(*) AS n FROM field_status GROUP BY field, status")
    )
    out = []
    for f in present:
        fa = FieldAgreement(f, LABELS[f])
        for status, n in counts.filter(pl.col("field") == f).select("status", "n").iter_rows():
            setattr(fa, status, int(n))
        out.append(fa)
    constraints = pl.from_arrow(
        engine.fetch(
            "SELECT DISTINCT rid, lo, hi FROM field_status "
            "WHERE status IN ('current', 'historical') "
            "AND (lo IS NOT NULL OR hi IS NOT NULL)"
        )
    )
    assert isinstance(constraints, pl.DataFrame)
    return out, constraints
