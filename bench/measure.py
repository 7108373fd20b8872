"""Measuring a linker: a script run in a fresh process (wall, CPU, sampled peak memory, with
limits), record-level accuracy of its matches, and the scanned leak table it reads."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl


def write_scanned(df: pl.DataFrame, out: Path) -> Path:
    """Customer rows (name, resident_id, mobile, card_no, address) written as the normalised
    Parquet table ``leaktrace scan --out`` writes, one record per row."""
    from leaktrace.scan import OUT_SCHEMA
    from leaktrace.scan.scanner import RAW_KINDS

    table = df.with_row_index("row").select(
        pl.lit(str(out)).alias("source"),
        pl.lit("leak").alias("table"),
        pl.col("row").cast(pl.Int64),
        pl.col("resident_id"),
        pl.col("mobile"),
        pl.col("card_no").alias("bank_card"),
        pl.lit(None, pl.String).alias("landline"),
        pl.lit(None, pl.String).alias("email"),
        pl.lit(None, pl.String).alias("passport"),
        pl.lit(None, pl.String).alias("plate"),
        pl.col("name").alias("person_name"),
        pl.col("address"),
        pl.lit(None, pl.List(pl.Struct({"kind": pl.String, "value": pl.String}))).alias("more"),
        *(pl.lit(None, pl.String).alias(f"raw_{k}") for k in RAW_KINDS),
    )
    pl.from_arrow(table.to_arrow().cast(OUT_SCHEMA)).write_parquet(out)
    return out


def peak_mb(pid: int) -> float:
    """Peak resident memory of a running process so far (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def timed(script: str, args: list[str], limit_s: float | None, limit_mb: float | None) -> dict:
    """Run ``script`` in a fresh process; its JSON report, or, when it passes ``limit_s`` or
    ``limit_mb``, the time and peak memory at which it was stopped. Its output goes to
    temporary files, so a chatty child never blocks on a full pipe."""
    t0 = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen([sys.executable, "-c", script, *args], stdout=out, stderr=err)
        peak = 0.0
        while proc.poll() is None:
            time.sleep(0.5)
            try:
                peak = max(peak, peak_mb(proc.pid))
            except OSError:  # it ended between poll and read
                break
            over_time = limit_s is not None and time.perf_counter() - t0 > limit_s
            if over_time or (limit_mb is not None and peak > limit_mb):
                proc.kill()
                proc.wait()
                return {"finished": False, "seconds": time.perf_counter() - t0, "peak_rss_mb": peak}
        proc.wait()
        out.seek(0)
        err.seek(0)
        if proc.returncode:
            raise RuntimeError(err.read().decode(errors="replace")[-2000:])
        return {"finished": True} | json.loads(out.read().decode().strip().splitlines()[-1])


def accuracy(matches: Path, truth: pl.DataFrame) -> dict:
    """Record-level precision, recall and F1 of (rid, mid) matches against the truth."""
    got = pl.read_parquet(matches).join(truth, on="rid", how="left")
    tp = int((got["mid"] == got["customer_id"]).sum())
    pos = int(truth["customer_id"].is_not_null().sum())
    p, r = tp / max(1, got.height), tp / max(1, pos)
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0}
