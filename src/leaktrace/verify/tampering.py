"""Tampering of our own records: the linked records' values against the master's values for the
same customers.

A genuine leak copies our values, current or earlier ones, with a few typing errors. A list
built on our customers and then altered holds values that disagree with ours in ways typing
does not explain: resident IDs, mobiles or cards failing a check that our value for the same
customer passes, mobiles replaced by number sequences, values moved from another customer.
Each is a rate over the linked records where it can be measured, tested one-sided against
``TAMPER_MAX`` (what typing and genuine changes reach at most), as the forgery signals are.
Only values that disagree with both the current and every earlier value count, so customers
who changed numbers are not taken for tampering.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from leaktrace.i18n import N_
from leaktrace.pii import KINDS
from leaktrace.pii.columns import check_column
from leaktrace.verify.engines import Engine
from leaktrace.verify.forgery import Signal, neighbours, rate_signal

# Share of linked records whose values a genuine leak alters (typing, carriers recycling
# numbers, customers sharing a household's mobile) at most; tested one-sided, as check digits.
TAMPER_MAX = 0.05
# Fields whose values are checked (each is a pii kind).
CHECKED = ("resident_id", "mobile", "bank_card")
# What each signal measures, in English (the JSON's ``label``; the reports translate it).
SIGNAL_LABELS = {
    "linked_resident_id_invalid": N_("linked resident IDs failing checks ours pass"),
    "linked_mobile_invalid": N_("linked mobile numbers failing checks ours pass"),
    "linked_bank_card_invalid": N_("linked card numbers failing checks ours pass"),
    "linked_mobile_sequences": N_("linked mobile numbers, not ours, with a listed neighbour (±1)"),
    "linked_moved": N_("linked records holding another customer's value"),
}
# Fields a shuffle moves between customers.
MOVABLE = ("resident_id", "mobile", "bank_card", "email", "address")
COMPARED = ("current", "historical", "disagrees")


@dataclass
class Tampering:
    """The tampering signals of the linked records, and how many of them trip a flagged one."""

    signals: list[Signal] = field(default_factory=list)
    altered: int = 0  # linked records tripping at least one flagged signal
    compared: int = 0  # linked records with at least one of MOVABLE compared with ours

    @property
    def flagged(self) -> list[Signal]:
        """The signals beyond what a genuine list reaches."""
        return [s for s in self.signals if s.flagged]


def _values_sql(fields: list[str], status: str, leak: str, ours: str) -> str:
    """Per linked record and compared field: its status, the leak's value and ours."""
    pick = " ".join(f"WHEN '{f}' THEN {{t}}.{f}" for f in fields)
    listed = ", ".join(f"'{f}'" for f in fields)
    states = ", ".join(f"'{s}'" for s in COMPARED)
    return f"""
SELECT s.rid, s.mid, s.field, s.status,
  CASE s.field {pick.format(t="l")} END AS leak_value,
  CASE s.field {pick.format(t="c")} END AS our_value
FROM {status} s JOIN {leak} l ON l.rid = s.rid JOIN {ours} c ON c.mid = s.mid
WHERE s.field IN ({listed}) AND s.status IN ({states})"""


def _moved_sql(fields: list[str], values: str, master: str, history: str | None) -> str:
    """Linked records whose disagreeing value of a field is another customer's, current or
    (with a ``history``: mid, field, value) earlier."""
    where = "t.status = 'disagrees' AND t.leak_value NOT LIKE '%*%'"
    parts = [
        f"SELECT t.rid FROM {values} t JOIN {master} m ON m.{f} = t.leak_value "
        f"AND m.mid <> t.mid WHERE t.field = '{f}' AND {where}"
        for f in fields
    ]
    if history:
        parts.append(
            f"SELECT t.rid FROM {values} t JOIN {history} h ON h.field = t.field "
            f"AND h.value = t.leak_value AND h.mid <> t.mid WHERE {where}"
        )
    return " UNION ".join(parts)


def _fails(kind: str, values: pl.Series) -> pl.Series:
    """Whether each value fails the kind's checks (nulls and empties do not)."""
    reason = check_column(KINDS[kind], values).get_column("reason")
    return reason.is_not_null() & (reason != "<empty>")


def _rate(name: str, k: int, n: int, note: str) -> Signal:
    """A tampering signal: ``k`` of ``n`` linked records, tested against TAMPER_MAX."""
    label = SIGNAL_LABELS[name]
    return rate_signal(name, label, k, n, 0.0, TAMPER_MAX, TAMPER_MAX, "upper", True, note)


def tampering(
    engine: Engine,
    fields: list[str],
    leak_mobiles: pl.Series | None,
    *,
    status: str,
    leak: str,
    ours: str,
    master: str,
    history: str | None,
) -> Tampering:
    """The tampering signals of the linked records (``status``: rid, mid, field, status per
    linked record, as :func:`leaktrace.verify.fields.field_status` makes it), comparing the
    ``leak``'s values with the ``ours`` rows of the same customers and with the whole
    ``master`` and its ``history``. ``leak_mobiles``: every mobile of the leak (a sequence
    spans linked and unlinked records). Only disagreeing values leave the engine."""
    movable = [f for f in MOVABLE if f in fields]
    if not movable:
        return Tampering()
    engine.create("tamper_values", _values_sql(movable, status, leak, ours))
    full = "leak_value NOT LIKE '%*%'"
    per_field = engine.fetch(
        f"SELECT field, count(*) AS n FROM tamper_values WHERE {full} GROUP BY field"
    ).to_pylist()
    counts = {r["field"]: int(r["n"]) for r in per_field}
    distinct = engine.fetch("SELECT count(DISTINCT rid) AS n FROM tamper_values")
    compared = int(distinct.column(0)[0].as_py())
    got = pl.from_arrow(
        engine.fetch(
            "SELECT rid, field, leak_value, our_value FROM tamper_values "
            f"WHERE status = 'disagrees' AND {full}"
        )
    )
    moved = pl.from_arrow(engine.fetch(_moved_sql(movable, "tamper_values", master, history)))
    assert isinstance(got, pl.DataFrame) and isinstance(moved, pl.DataFrame)
    signals: list[Signal] = []
    marked: list[pl.Series] = []  # per signal, the records tripping it
    for fld in CHECKED:
        if not counts.get(fld):
            continue
        rows = got.filter(pl.col("field") == fld)
        bad = rows.filter(_fails(fld, rows["leak_value"]) & ~_fails(fld, rows["our_value"]))
        note = N_("compared with our value for the same customer")
        signals.append(_rate(f"linked_{fld}_invalid", bad.height, counts[fld], note))
        marked.append(bad["rid"])
    if counts.get("mobile") and leak_mobiles is not None:
        listed = neighbours(leak_mobiles).implode()
        seq = got.filter((pl.col("field") == "mobile") & pl.col("leak_value").is_in(listed))
        note = N_("a genuine changed number is not next to another listed one")
        signals.append(_rate("linked_mobile_sequences", seq.height, counts["mobile"], note))
        marked.append(seq["rid"])
    k = moved["rid"].n_unique()
    note = N_("fields shuffled between customers")
    signals.append(_rate("linked_moved", k, compared, note))
    marked.append(moved["rid"])
    altered = pl.concat(
        [m.cast(pl.Int64) for m, s in zip(marked, signals, strict=True) if s.flagged]
        or [pl.Series([], dtype=pl.Int64)]
    )
    return Tampering(signals, altered.n_unique(), compared)
