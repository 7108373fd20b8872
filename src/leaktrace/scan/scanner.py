"""The scan: sources in, typed and validated identifiers out, as counts and a normalised table."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from leaktrace.ingest import open_source
from leaktrace.ingest.source import Batch, Source
from leaktrace.pii import KINDS
from leaktrace.scan.columns import infer_columns
from leaktrace.scan.result import ColumnReport, KindStats, ScanResult, SourceReport
from leaktrace.scan.text import status_expr, find_in_lines

SAMPLE_ROWS = 5000
MAX_SAMPLES = 3

OUT_SCHEMA = pa.schema(
    [("source", pa.string()), ("table", pa.string()), ("row", pa.int64())]
    + [(k, pa.string()) for k in KINDS]
    + [("more", pa.list_(pa.struct([("kind", pa.string()), ("value", pa.string())])))]
)
"""One row per record: where it came from, one column per kind (the first value of that kind),
and ``more`` for further values of a kind already filled (a second phone column, say)."""

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
    """Count ``kind, value, status, reason`` rows into per-kind stats with masked samples."""
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
    samples = (
        found.filter(pl.col("status") == "valid")
        .group_by("kind", maintain_order=True)
        .agg(pl.col("value").head(MAX_SAMPLES))
    )
    for kind, values in samples.iter_rows():
        out[kind].samples = [KINDS[kind].mask(v) for v in values]
    return out


def _merge(into: dict[str, KindStats], new: dict[str, KindStats]) -> None:
    for kind, st in new.items():
        into.setdefault(kind, KindStats(kind)).merge(st, MAX_SAMPLES)


def _records_frame(found: pl.DataFrame, key: list[str]) -> pl.DataFrame:
    """Pivot ``key + kind, value`` rows into one column per kind; repeats of a kind go to ``more``."""
    found = found.with_columns(_occ=pl.int_range(pl.len()).over([*key, "kind"]))
    firsts = found.filter(pl.col("_occ") == 0)
    aggs = [pl.col("value").filter(pl.col("kind") == k).first().alias(k) for k in KINDS]
    rec = firsts.group_by(key, maintain_order=True).agg(aggs)
    more = (
        found.filter(pl.col("_occ") > 0)
        .group_by(key, maintain_order=True)
        .agg(pl.struct(pl.col("kind"), pl.col("value")).alias("more"))
    )
    return rec.join(more, on=key, how="left")


def _to_out(frame: pl.DataFrame, source: str, table: str) -> pa.Table:
    frame = frame.with_columns(source=pl.lit(source), table=pl.lit(table))
    for k in KINDS:
        if k not in frame.columns:
            frame = frame.with_columns(pl.lit(None, pl.String).alias(k))
    if "more" not in frame.columns:
        frame = frame.with_columns(
            pl.lit(None, pl.List(pl.Struct({"kind": pl.String, "value": pl.String}))).alias("more")
        )
    return frame.select(OUT_SCHEMA.names).to_arrow().cast(OUT_SCHEMA)


class _SourceScan:
    """Scans one source batch by batch, keeping each table's column typing from its first batch."""

    def __init__(self, src: Source, report: SourceReport, writer: pq.ParquetWriter | None) -> None:
        self.src = src
        self.report = report
        self.writer = writer
        self.stats: dict[str, KindStats] = {}
        self.typing: dict[str, list[ColumnReport]] = {}

    def table_batch(self, batch: Batch) -> None:
        df = pl.from_arrow(batch.data)
        assert isinstance(df, pl.DataFrame)
        cols = self.typing.get(batch.table)
        if cols is None:
            cols = infer_columns(df.head(SAMPLE_ROWS))
            self.typing[batch.table] = cols
            self.report.columns[batch.table] = cols
        df = df.with_row_index("row", offset=batch.first_row).with_columns(pl.col("row").cast(pl.Int64))
        parts: list[pl.DataFrame] = []
        for c in cols:
            if c.kind is None or c.kind == "text":
                continue
            k = KINDS[c.kind]
            raw = pl.col(c.name).str.strip_chars()
            norm = k.normalize_expr(raw)
            part = (
                df.select(
                    "row",
                    pl.lit(c.kind).alias("kind"),
                    pl.coalesce(norm, raw).alias("value"),
                    pl.when(norm.is_null()).then(pl.lit("bad_format")).otherwise(k.reason_expr(norm)).alias("reason"),
                )
                .filter(pl.col("value").is_not_null() & (pl.col("value") != ""))
            )
            parts.append(part.with_columns(status=status_expr(pl.col("reason"))))
        for c in cols:
            if c.kind == "text":
                lines = df.select(pl.col("row").alias("line"), pl.col(c.name).alias("text")).drop_nulls()
                spans = find_in_lines(lines).rename({"line": "row"})
                parts.append(spans.select("row", "kind", "value", "reason", "status"))
        self.report.records += df.height
        if not parts:
            return
        found = pl.concat(parts, how="vertical_relaxed")
        _merge(self.stats, _stats_from(found))
        if self.writer is not None:
            rec = df.select("row").join(_records_frame(found, ["row"]), on="row", how="left")
            self.writer.write_table(_to_out(rec, str(self.src.path), batch.table))

    def text_batch(self, batch: Batch) -> None:
        lines = pl.from_arrow(batch.data)
        assert isinstance(lines, pl.DataFrame)
        lines = lines.with_row_index("line", offset=batch.first_row).select(
            pl.col("line").cast(pl.Int64), pl.col(lines.columns[0]).alias("text")
        )
        found = find_in_lines(lines)
        if found.height == 0:
            return
        _merge(self.stats, _stats_from(found))
        found = found.with_columns(occ=pl.int_range(pl.len()).over(["line", "kind"]))
        rec = _records_frame(found, ["line", "occ"])
        self.report.records += rec.height
        if self.writer is not None:
            rec = rec.rename({"line": "row"}).drop("occ")
            self.writer.write_table(_to_out(rec, str(self.src.path), batch.table))


def scan(
    paths: Iterable[str | Path],
    out: str | Path | None = None,
    progress: Progress | None = None,
) -> ScanResult:
    """Scan files for personal identifiers; write the normalised table to ``out`` (Parquet) if
    given. ``progress`` is called with the bytes read so far across all files."""
    t0 = time.perf_counter()
    paths = [Path(p) for p in paths]
    sources = [open_source(p) for p in paths]
    total: dict[str, KindStats] = {}
    reports: list[SourceReport] = []
    done_before = 0
    out_path = Path(out) if out else None

    def run(writer: pq.ParquetWriter | None) -> None:
        nonlocal done_before
        for src in sources:
            report = SourceReport(str(src.path), src.format, src.encoding, src.kind, src.size)
            job = _SourceScan(src, report, writer)
            handle = job.table_batch if src.kind == "table" else job.text_batch
            for batch in src.batches():
                handle(batch)
                if progress:
                    progress(done_before + batch.bytes_done)
            done_before += src.size
            report.rows_skipped = src.rows_skipped
            report.problems = [
                {"place": p.place, "expected": p.expected, "rows_skipped": p.rows_skipped}
                for p in src.problems
            ]
            _merge(total, job.stats)
            reports.append(report)

    if out_path is not None:
        with atomic_parquet(out_path) as writer:
            run(writer)
    else:
        run(None)
    ordered = {k: total[k] for k in KINDS if k in total}
    return ScanResult(
        sources=reports,
        kinds=ordered,
        bytes_read=sum(s.size for s in sources),
        seconds=time.perf_counter() - t0,
        out=out_path,
    )
