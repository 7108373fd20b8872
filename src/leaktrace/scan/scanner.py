"""The scan: sources in, typed and validated identifiers out, as counts and a normalised table."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from leaktrace.ingest.source import Batch, Source
from leaktrace.pii import KINDS
from leaktrace.pii.columns import EMPTY, check_column
from leaktrace.scan.columns import infer_columns
from leaktrace.scan.result import ColumnReport, KindStats, SourceReport
from leaktrace.scan.text import find_in_lines, find_in_piece

SAMPLE_ROWS = 5000
MAX_SAMPLES = 3

#: Kinds whose writing in a table cell is kept beside the normalised value where the two differ
#: (a lower-case x, card digits in groups, +86): trace reads its format marks from them.
RAW_KINDS = ("resident_id", "mobile", "bank_card")
OUT_SCHEMA = pa.schema(
    [("source", pa.string()), ("table", pa.string()), ("row", pa.int64())]
    + [(k, pa.string()) for k in KINDS]
    + [("more", pa.list_(pa.struct([("kind", pa.string()), ("value", pa.string())])))]
    + [(f"raw_{k}", pa.string()) for k in RAW_KINDS]
)
"""One row per record: where it came from, one column per kind (the first value of that kind),
``more`` for further values of a kind already filled (a second phone column, say), and
``raw_<kind>`` for the cell as written when it differs from the normalised value (table columns
only; null where it is the same, or where the value was found in free text)."""
#: The columns a scanned table has had since before ``raw_<kind>``: enough to recognise one.
SCANNED_COLUMNS = tuple(OUT_SCHEMA.names[: -len(RAW_KINDS)])

MORE_TYPE = pl.List(pl.Struct({"kind": pl.String, "value": pl.String}))

Progress = Callable[[int], None]


@contextmanager
def atomic_parquet(path: Path) -> Iterator[pq.ParquetWriter]:
    """A Parquet writer to a temporary file beside ``path``, renamed over it only on success."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    writer = pq.ParquetWriter(tmp, OUT_SCHEMA, compression="zstd")
    try:
        yield writer
        writer.close()
        os.replace(tmp, path)
    except BaseException:
        writer.close()
        tmp.unlink(missing_ok=True)
        raise


def _stats_from(found: pl.DataFrame) -> dict[str, KindStats]:
    """Count ``kind, value, status, reason, flag`` rows into per-kind stats with masked
    samples."""
    out: dict[str, KindStats] = {}
    if found.height == 0:
        return out
    counts = found.group_by("kind", "status").len()
    for kind, status, n in counts.iter_rows():
        st = out.setdefault(kind, KindStats(kind))
        st.found += n
        setattr(st, status, getattr(st, status) + n)
    reasons = found.filter(pl.col("reason").is_not_null()).group_by("kind", "reason").len()
    for kind, reason, n in reasons.iter_rows():
        out[kind].reasons[reason] += n
    flags = found.filter(pl.col("flag").is_not_null()).group_by("kind", "flag").len()
    for kind, flag, n in flags.iter_rows():
        out[kind].flags[flag] += n
    # the first valid values of each kind, then masked ones (no sort of the whole batch)
    firsts = [
        found.filter(pl.col("status") == status)
        .group_by("kind", maintain_order=True)
        .head(MAX_SAMPLES)
        for status in ("valid", "masked")
    ]
    samples = (
        pl.concat(firsts)
        .group_by("kind", maintain_order=True)
        .agg(pl.col("value").head(MAX_SAMPLES))
    )
    for kind, values in samples.iter_rows():
        out[kind].samples = [KINDS[kind].mask(v) for v in values]
    return out


def _column_stats(df: pl.DataFrame, kind: str, norm: str, reason: str, flag: str) -> KindStats:
    """Counts of one typed column from its reason column (null = valid) and its flag column."""
    st = KindStats(kind)
    if KINDS[kind].FLAGS:
        for f, n in df.get_column(flag).drop_nulls().value_counts().iter_rows():
            st.flags[f] += n
    for r, n in df.group_by(reason).len().iter_rows():
        if r == EMPTY:
            continue
        st.found += n
        if r is None:
            st.valid += n
        elif r == "masked":
            st.masked += n
            st.reasons[r] += n
        else:
            st.invalid += n
            st.reasons[r] += n
    head = df.head(SAMPLE_ROWS)  # samples come from the first rows: no pass over the batch
    shown = head.filter(pl.col(reason).is_null() | (pl.col(reason) == "masked"))
    valid = shown.sort(pl.col(reason).is_not_null(), maintain_order=True).get_column(norm)
    valid = valid.head(MAX_SAMPLES)
    st.samples = [KINDS[kind].mask(v) for v in valid.to_list() if v]
    return st


def _fill_from_text(rec: pl.DataFrame, extra: pl.DataFrame) -> pl.DataFrame:
    """Add what free-text columns held: into a kind's column where the table had none of that
    kind, otherwise onto ``more``."""
    extra = extra.rename({k: f"_t_{k}" for k in KINDS if k in extra.columns}).rename(
        {"more": "_t_more"}
    )
    rec = rec.join(extra, on="row", how="left")
    spill: list[pl.Expr] = []
    for k in KINDS:
        t = f"_t_{k}"
        if t not in rec.columns:
            continue
        if k in rec.columns:
            spill.append(pl.struct(pl.lit(k).alias("kind"), pl.col(t).alias("value")))
        else:
            rec = rec.with_columns(pl.col(t).alias(k))
    lists = [pl.col("_t_more")]
    if "more" in rec.columns:
        lists.insert(0, pl.col("more"))
    if spill:
        lists.append(
            pl.concat_list(spill).list.filter(pl.element().struct.field("value").is_not_null())
        )
    rec = rec.with_columns(pl.concat_list([lst.fill_null([]) for lst in lists]).alias("more"))
    return rec.drop([c for c in rec.columns if c.startswith("_t_")])


def merge_stats(into: dict[str, KindStats], new: dict[str, KindStats]) -> None:
    for kind, st in new.items():
        into.setdefault(kind, KindStats(kind)).merge(st, MAX_SAMPLES)


def with_occurrence(found: pl.DataFrame, key: list[str], name: str) -> pl.DataFrame:
    """Number the values of each kind within each ``key`` group 0, 1, 2… (in order of
    finding). Sorting first makes groups contiguous, so a cheap min-over replaces a window."""
    return (
        found.sort([*key, "kind"], maintain_order=True)
        .with_row_index("_i")
        .with_columns(
            (pl.col("_i") - pl.col("_i").min().over([*key, "kind"])).cast(pl.Int64).alias(name)
        )
        .drop("_i")
    )


def _records_frame(found: pl.DataFrame, key: list[str]) -> pl.DataFrame:
    """Pivot ``key + kind, value`` rows into one column per kind; repeats of a kind go to ``more``."""
    found = with_occurrence(found, key, "_occ")
    rec = found.filter(pl.col("_occ") == 0).pivot(
        on="kind", index=key, values="value", aggregate_function="first"
    )
    more = found.filter(pl.col("_occ") > 0)
    if more.height == 0:
        return rec.with_columns(pl.lit(None, MORE_TYPE).alias("more"))
    more = more.group_by(key).agg(pl.struct(pl.col("kind"), pl.col("value")).alias("more"))
    return rec.join(more, on=key, how="left")


def _to_out(frame: pl.DataFrame, source: str, table: str) -> pa.Table:
    frame = frame.with_columns(source=pl.lit(source), table=pl.lit(table))
    for k in KINDS:
        if k not in frame.columns:
            frame = frame.with_columns(pl.lit(None, pl.String).alias(k))
    if "more" not in frame.columns:
        frame = frame.with_columns(pl.lit(None, MORE_TYPE).alias("more"))
    frame = frame.with_columns(
        pl.lit(None, pl.String).alias(f"raw_{k}")
        for k in RAW_KINDS
        if f"raw_{k}" not in frame.columns
    )
    return frame.select(OUT_SCHEMA.names).to_arrow().cast(OUT_SCHEMA)


COALESCE_ROWS = 250_000  # rows gathered before scanning: each scan step has a fixed cost


def coalesce(batches: Iterable[Batch], rows: int = COALESCE_ROWS) -> Iterator[Batch]:
    """Merge consecutive batches of one table (or of a text's lines) into batches of about
    ``rows`` rows; memory stays bounded by that."""
    pending: list[Batch] = []
    count = 0

    def merged() -> Batch:
        first = pending[0]
        if len(pending) == 1:
            return first
        data = pa.Table.from_batches([b.data for b in pending])  # chunks kept: no copy
        return Batch(first.table, data, first.first_row, pending[-1].bytes_done)

    for batch in batches:
        joinable = (
            pending
            and batch.own is None
            and pending[-1].own is None
            and batch.table == pending[0].table
            and batch.data.schema == pending[0].data.schema
            and batch.first_row == pending[-1].first_row + pending[-1].data.num_rows
        )
        if pending and not joinable:
            yield merged()
            pending, count = [], 0
        pending.append(batch)
        count += batch.data.num_rows
        if count >= rows:
            yield merged()
            pending, count = [], 0
    if pending:
        yield merged()


@dataclass
class BatchResult:
    """What scanning one batch gave: counts, records, and the rows for the normalised table."""

    stats: dict[str, KindStats]
    records: int
    out: pa.Table | None


def scan_table_batch(
    data: pa.RecordBatch | pa.Table,
    first_row: int,
    cols: list[ColumnReport],
    source: str,
    table: str,
    keep: bool,
) -> BatchResult:
    """Validate the typed columns of one table batch and search its free-text columns.
    A pure function of its arguments: no state is carried from batch to batch."""
    df = pl.from_arrow(data)
    assert isinstance(df, pl.DataFrame)
    if missing := [c.name for c in cols if c.name not in df.columns]:
        df = df.with_columns(pl.lit(None, pl.String).alias(m) for m in missing)
    stats: dict[str, KindStats] = {}
    df = df.with_row_index("row", offset=first_row).with_columns(pl.col("row").cast(pl.Int64))
    typed = [c for c in cols if c.kind not in (None, "text")]
    names = set(data.schema.names)
    for i, c in enumerate(typed):
        column = df.get_column(c.name)
        checked = check_column(
            KINDS[c.kind], data.column(c.name) if c.name in names else column, raw=column
        )
        df = df.with_columns(
            checked.get_column("value").alias(f"_n{i}"),
            checked.get_column("reason").alias(f"_r{i}"),
            checked.get_column("flag").alias(f"_f{i}"),
        )
    for i, c in enumerate(typed):
        merge_stats(stats, {c.kind: _column_stats(df, c.kind, f"_n{i}", f"_r{i}", f"_f{i}")})
    texts = [c for c in cols if c.kind == "text"]
    found = [
        find_in_lines(
            df.select(pl.col("row").alias("line"), pl.col(c.name).alias("text")).drop_nulls()
        )
        for c in texts
    ]
    found_all = pl.concat(found) if found else None
    if found_all is not None and found_all.height:
        merge_stats(stats, _stats_from(found_all))
    if not keep:
        return BatchResult(stats, df.height, None)
    firsts: dict[str, pl.Expr] = {}
    raws: list[pl.Expr] = []
    more: list[pl.Expr] = []
    for i, c in enumerate(typed):
        v = pl.when(pl.col(f"_r{i}").ne_missing(EMPTY)).then(pl.col(f"_n{i}"))
        if c.kind in firsts:
            more.append(pl.struct(pl.lit(c.kind).alias("kind"), v.alias("value")))
            continue
        firsts[c.kind] = v.alias(c.kind)
        if c.kind in RAW_KINDS:
            cell = pl.col(c.name).cast(pl.String)
            raws.append(
                pl.when(v.is_not_null() & cell.ne_missing(pl.col(f"_n{i}")))
                .then(cell)
                .alias(f"raw_{c.kind}")
            )
    rec = df.select(
        "row",
        *firsts.values(),
        *raws,
        *([pl.concat_list(more).alias("more")] if more else []),
    )
    if found_all is not None and found_all.height:
        extra = _records_frame(found_all.rename({"line": "row"}), ["row"])
        rec = _fill_from_text(rec, extra)
    return BatchResult(stats, df.height, _to_out(rec, source, table))


def count_records(found: pl.DataFrame) -> int:
    """How many records the identifiers of a batch of lines make without building them: as
    many per line as its commonest kind has (counted over the batch's range of lines)."""
    kinds = pl.Enum(list(KINDS))
    codes = found.select(pl.col("kind").cast(kinds).to_physical()).to_series().to_numpy()
    line = found.get_column("line").to_numpy()
    lo, hi = int(line.min()), int(line.max())
    per = np.bincount((line - lo) * len(KINDS) + codes, minlength=(hi - lo + 1) * len(KINDS))
    return int(per.reshape(-1, len(KINDS)).max(axis=1).sum())


def scan_text_batch(
    data: pa.RecordBatch | pa.Table,
    first_row: int,
    source: str,
    table: str,
    keep: bool,
    own: tuple[int, int] | None = None,
) -> BatchResult:
    """Find identifiers in one batch of lines; a record is one person's line (two IDs on one
    line are two records). ``own``: the batch is a piece of a long line that overlaps its
    neighbours (see Batch). Pure, like :func:`scan_table_batch`."""
    lines = pl.from_arrow(data)
    assert isinstance(lines, pl.DataFrame)
    lines = lines.with_row_index("line", offset=first_row).select(
        pl.col("line").cast(pl.Int64), pl.col(lines.columns[0]).alias("text")
    )
    found = find_in_lines(lines) if own is None else find_in_piece(lines, own)
    if found.height == 0:
        return BatchResult({}, 0, None)
    if not keep:
        return BatchResult(_stats_from(found), count_records(found), None)
    rec = _records_frame(with_occurrence(found, ["line"], "occ"), ["line", "occ"])
    out = _to_out(rec.rename({"line": "row"}).drop("occ"), source, table)
    return BatchResult(_stats_from(found), rec.height, out)


def scan_batches(
    src: Source,
    typing: Callable[[Batch], list[ColumnReport]],
    writer: pq.ParquetWriter | None,
    on_bytes: Progress | None,
) -> tuple[dict[str, KindStats], int]:
    """Scan every batch of ``src`` (tables typed by ``typing``): the kinds' counts and the
    number of records; the normalised rows go to ``writer`` if given."""
    stats: dict[str, KindStats] = {}
    records = 0
    keep = writer is not None
    for batch in coalesce(src.batches()):
        if src.kind == "table":
            cols = typing(batch)
            res = scan_table_batch(batch.data, batch.first_row, cols, src.name, batch.table, keep)
        else:
            res = scan_text_batch(
                batch.data, batch.first_row, src.name, batch.table, keep, batch.own
            )
        merge_stats(stats, res.stats)
        records += res.records
        if writer is not None and res.out is not None:
            writer.write_table(res.out)
        if on_bytes:
            on_bytes(batch.bytes_done)
    return stats, records


def typing_for(report: SourceReport) -> Callable[[Batch], list[ColumnReport]]:
    """Column typing that records its columns in ``report``."""
    return lambda batch: _typing(report, batch)


def _typing(report: SourceReport, batch: Batch) -> list[ColumnReport]:
    """The table's column kinds, inferred from its first batch; keys first seen in a later batch
    (JSON) are typed then. A free-text batch's columns are text, without guessing."""
    if batch.free_text:
        cols = [ColumnReport(name, "text", 1.0) for name in batch.data.schema.names]
        return list(report.columns.setdefault(batch.table, cols))
    cols = report.columns.setdefault(batch.table, [])
    known = {c.name for c in cols}
    if new := [c for c in batch.data.schema.names if c not in known]:
        sample = pl.from_arrow(batch.data.select(new).slice(0, SAMPLE_ROWS))  # type: ignore[arg-type]
        assert isinstance(sample, pl.DataFrame)
        cols.extend(infer_columns(sample))
    return list(cols)
