"""The leak in: scanned by ``leaktrace.scan`` (any format ingest reads) unless it already is a
scanned Parquet table, then written as canonical linkage columns."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from leaktrace.errors import InputError
from leaktrace.i18n import N_
from leaktrace.scan import scan
from leaktrace.scan.scanner import SCANNED_COLUMNS

# The scan columns linkage reads; they are its canonical columns too.
LEAK_COLUMNS = ("person_name", "resident_id", "mobile", "bank_card", "address", "email")


@dataclass
class LeakInput:
    """The canonical leak: ``rid`` (0-based record number) and the values present."""

    path: Path  # canonical Parquet
    rows: int
    present: set[str]
    scanned: Path  # the scan's table, row ``rid`` of it holding record ``rid``


def leak_places(leak: LeakInput) -> pl.DataFrame:
    """Where each record is in the leak: rid, source (file or archive member), table (sheet
    or SQL table, if any) and row (the scan's row or line number)."""
    return (
        pl.read_parquet(leak.scanned, columns=["source", "table", "row"])
        .with_row_index("rid")
        .with_columns(pl.col("rid").cast(pl.Int64))
    )


def prepare_leak(leak: Path, work: Path) -> LeakInput:
    """Scan ``leak`` (unless it is a scanned table) and write its canonical columns."""
    leak = Path(leak)
    scanned = leak
    is_scan = leak.suffix.lower() == ".parquet" and set(SCANNED_COLUMNS) <= set(
        pq.read_schema(leak).names
    )
    if not is_scan:
        scanned = work / "leak_scan.parquet"
        scan([leak], out=scanned, evidence=False)  # verify's own trail hashes the leak
    df = pl.read_parquet(scanned, columns=list(LEAK_COLUMNS))
    if df.height == 0:
        raise InputError(str(leak), N_("at least one record"), N_("no records"))
    df = df.with_row_index("rid").with_columns(
        pl.col("rid").cast(pl.Int64), pl.lit(None, pl.String).alias("birth")
    )
    present = {c for c in LEAK_COLUMNS if df[c].null_count() < df.height}
    identifiers = {"resident_id", "mobile", "bank_card", "email"}
    if not present & identifiers and not {"person_name", "address"} <= present:
        raise InputError(
            str(leak),
            N_(
                "a column of resident IDs, mobile numbers, card numbers or emails, "
                "or names together with addresses"
            ),
            N_("columns: {columns}") if present else N_("no usable column"),
            columns=", ".join(sorted(present)),
        )
    if "resident_id" in present:
        present.add("birth")
    out = work / "leak.parquet"
    df.write_parquet(out)
    return LeakInput(out, df.height, present, scanned)
