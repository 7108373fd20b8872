"""A small leak against a large master: link it against the master's rows it could link to plus a
random sample of the rest, not the whole master.

Candidates are the rows sharing a resident ID, mobile, card number or name with some leak record
(every blocking rule of verify's linkage holds one of these, or the name: a record with a typo in
its ID and in its name, and no other identifier, is not linked); the random sample keeps the
non-matching pairs from which linkage estimates how often values agree by chance, and the latest
opening date the snapshot is measured against (the newest of 100,000 random accounts opened over
decades is within a day of the newest of all). One pass over the master, in polars, whose
Parquet reader decodes the other columns only for the rows the filter keeps.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from leaktrace.trace.share_input import MasterTable

#: Cut only when the master has this many times the leak's records or more.
CUT_RATIO = 20
#: Random master rows kept beside the candidates (about).
SAMPLE_ROWS = 100_000
#: Kinds compared as core systems store them (digits plain, an ID's check character in either
#: case); a regular expression per master row would cost several times as much.
_KINDS = ("resident_id", "mobile", "bank_card", "person_name")


def worth_cutting(master: Path, leak_records: int) -> bool:
    """Whether the master is large enough beside the leak for a cut to pay."""
    rows = pq.ParquetFile(master).metadata.num_rows
    return rows >= CUT_RATIO * max(leak_records, 1) and rows > SAMPLE_ROWS * 2


def cut_master(master: MasterTable, scanned: Path, out: Path, seed: int = 0) -> Path:
    """Write to ``out`` (atomically) the master's rows sharing an identifier or a name with the
    scanned leak, and about SAMPLE_ROWS rows drawn by a hash of the customer number."""
    leak = pl.read_parquet(scanned, columns=[k for k in _KINDS if k in master.found])
    tests = []
    for kind in leak.columns:
        values = leak[kind].drop_nulls()
        values = values.filter(~values.str.contains("*", literal=True)).unique()
        column = pl.col(master.found[kind]).cast(pl.String)
        if kind == "resident_id":
            column = column.str.to_uppercase()
        tests.append(column.is_in(values.implode()))
    if not tests:
        raise ValueError("the master has no identifier or name column to cut by")
    rows = pq.ParquetFile(master.path).metadata.num_rows
    every = max(1, rows // SAMPLE_ROWS)
    sampled = pl.col(master.customer_column).hash(seed) % every == 0
    wanted = pl.any_horizontal(*tests, sampled)
    tmp = out.with_name(f".{out.name}.tmp")
    pl.scan_parquet(master.path).filter(wanted).sink_parquet(tmp)
    tmp.replace(out)
    return out
