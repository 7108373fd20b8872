"""Benchmark of ``leaktrace.trace.insiders``: is one stealthy leaker among 5,000 employees ranked
first, and is anyone flagged when no employee made the leak?

Worlds from ``leaktrace.synth.insiders`` (5,000 employees: branch staff, a call centre, a risk
department, batch accounts; fixed seeds). Power trials: a leak of N records, 20% of them other
customers of the master, the rest looked up by one stealthy leaker (its own branch's
customers, other branches', a call-centre leaker, or customers a batch account also touched,
in turn); the leaker must rank first in >= 95% of trials at N = 100 and >= 99% at N = 1,000.
Null trials: N customers drawn from the master; anyone flagged at corrected p <= 1e-3 in at
most 0.1% of trials. A last run times one 10M-row log (CPU seconds).

A limit run measures how few of 100 leaked records the leaker must have looked up.

Run ``python -m bench.trace_insider_bench [POWER NULL ROWS SCALE_ROWS LIMIT]`` (trials per size,
null trials, rows a world, rows of the scale run, trials per limit point; defaults 200, 3,000,
1,000,000, 10,000,000, 0; 0 skips a part); appends a dated section to bench/RESULTS.md.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from bench.results import append_section, header
from leaktrace.synth.insiders import LEAK_KINDS, innocent_leak, leak_by, make_world
from leaktrace.trace.insiders import index_accesses, rank_index

EMPLOYEES = 5000
WORLDS = 4
PADDING = 0.2
SIZES = (100, 1000)
TARGET = {100: 0.95, 1000: 0.99}
NULL_TARGET = 0.001
LOOKED_UP = (3, 5, 10, 20)
SCALE_ROWS = 10_000_000


def power(trials: int, rows: int) -> dict[int, dict[str, list[int]]]:
    """Per leak size and kind, the leaker's rank in each trial."""
    out: dict[int, dict[str, list[int]]] = {n: {k: [] for k in LEAK_KINDS} for n in SIZES}
    worlds = [
        make_world(np.random.default_rng(s), EMPLOYEES, rows // 2, rows) for s in range(WORLDS)
    ]
    for n in SIZES:
        for t in range(trials):
            rng = np.random.default_rng([1, n, t])
            kind = LEAK_KINDS[t % len(LEAK_KINDS)]
            case = leak_by(rng, worlds[t % WORLDS], n, kind, padding=PADDING)
            ranking = rank_index(index_accesses(case.log, case.snapshot), case.leaked, top=5)
            names = [s.employee for s in ranking.suspects]
            out[n][kind].append(
                names.index(case.leakers[0]) + 1 if case.leakers[0] in names else 99
            )
    return out


def null(trials: int, rows: int) -> tuple[dict[int, int], dict[int, float]]:
    """Per leak size, trials with anyone flagged and the smallest corrected p seen."""
    flagged = dict.fromkeys(SIZES, 0)
    smallest = dict.fromkeys(SIZES, 1.0)
    per_world = -(-trials // WORLDS)
    done = 0
    for w in range(WORLDS):
        world = make_world(np.random.default_rng(100 + w), EMPLOYEES, rows // 2, rows)
        snapshots = [
            innocent_leak(np.random.default_rng([w, d]), world, 1).snapshot for d in range(5)
        ]
        indexes = [index_accesses(world.log, s) for s in snapshots]
        for t in range(min(per_world, trials - done)):
            n = SIZES[t % len(SIZES)]
            case = innocent_leak(np.random.default_rng([2, w, t]), world, n)
            ranking = rank_index(indexes[t % len(indexes)], case.leaked, top=1)
            flagged[n] += bool(ranking.flagged)
            if ranking.suspects:
                smallest[n] = min(smallest[n], ranking.suspects[0].corrected_p)
            done += 1
    return flagged, smallest


def scale(rows: int) -> tuple[float, float]:
    """CPU seconds to index a ``rows``-row log and to rank one 1,000-record leak against it."""
    world = make_world(np.random.default_rng(7), EMPLOYEES, rows // 5, rows)
    case = leak_by(np.random.default_rng(8), world, 1000, "cross", padding=PADDING)
    t0 = time.process_time()
    index = index_accesses(case.log, case.snapshot)
    t1 = time.process_time()
    ranking = rank_index(index, case.leaked)
    t2 = time.process_time()
    assert ranking.suspects[0].employee == case.leakers[0]
    return t1 - t0, t2 - t1


def limit(trials: int, rows: int) -> dict[int, tuple[int, int]]:
    """Per number of the 100 leaked records the leaker looked up (the rest other customers of
    the master), trials where it was ranked first and where it was flagged."""
    worlds = [
        make_world(np.random.default_rng(s), EMPLOYEES, rows // 2, rows) for s in range(WORLDS)
    ]
    out = {}
    for looked_up in LOOKED_UP:
        first = flagged = 0
        for t in range(trials):
            rng = np.random.default_rng([3, looked_up, t])
            kind = LEAK_KINDS[t % len(LEAK_KINDS)]
            case = leak_by(rng, worlds[t % WORLDS], 100, kind, padding=1 - looked_up / 100)
            top = rank_index(index_accesses(case.log, case.snapshot), case.leaked, top=1)
            first += top.suspects[0].employee == case.leakers[0]
            flagged += any(s.employee == case.leakers[0] for s in top.flagged)
        out[looked_up] = (first, flagged)
    return out


def main() -> None:
    args = [int(a) for a in sys.argv[1:]]
    trials = args[0] if args else 200
    null_trials = args[1] if len(args) > 1 else 3000
    rows = args[2] if len(args) > 2 else 1_000_000
    scale_rows = args[3] if len(args) > 3 else SCALE_ROWS
    limit_trials = args[4] if len(args) > 4 else 0
    lines = [
        header(f"insider ranking: one stealthy leaker among {EMPLOYEES:,} employees"),
        f"- Worlds: {WORLDS} seeds, {EMPLOYEES:,} employees (branch staff, 6% call centre, 3% "
        f"risk, 12 batch accounts writing 25% of rows), {rows // 2:,} customers, {rows:,} rows a "
        "year; the snapshot range a week wide; leak kinds in turn: "
        f"{', '.join(LEAK_KINDS)}.",
    ]
    ok = True
    if trials:
        t0 = time.perf_counter()
        ranks = power(trials, rows)
        lines += [
            f"- Power: {trials} trials per size ({time.perf_counter() - t0:.0f} s wall, a new "
            f"index per trial); leaks padded with {PADDING:.0%} other customers of the master.",
            "",
            "| leak records | kind | trials | leaker ranked first | target |",
            "|---|---|---|---|---|",
        ]
        for n in SIZES:
            all_ranks = [r for k in LEAK_KINDS for r in ranks[n][k]]
            for k in LEAK_KINDS:
                firsts = sum(r == 1 for r in ranks[n][k])
                lines.append(f"| {n:,} | {k} | {len(ranks[n][k])} | {firsts} | |")
            share = sum(r == 1 for r in all_ranks) / len(all_ranks)
            ok &= share >= TARGET[n]
            lines.append(f"| {n:,} | all | {len(all_ranks)} | {share:.1%} | >= {TARGET[n]:.0%} |")
        lines.append("")
    if null_trials:
        t0 = time.perf_counter()
        flagged, smallest = null(null_trials, rows)
        lines += [
            f"- Null: {null_trials} trials ({time.perf_counter() - t0:.0f} s wall), sizes "
            f"{' and '.join(map(str, SIZES))} alternating, 5 snapshot ranges a world.",
            "",
            "| leak records (no leaker) | trials | anyone flagged (corrected p <= 1e-3) | "
            "smallest corrected p |",
            "|---|---|---|---|",
        ]
        per_size = {
            n: null_trials // len(SIZES) + (i < null_trials % len(SIZES))
            for i, n in enumerate(SIZES)
        }
        for n in SIZES:
            lines.append(f"| {n:,} | {per_size[n]} | {flagged[n]} | {smallest[n]:.3g} |")
        rate = sum(flagged.values()) / null_trials
        ok &= rate <= NULL_TARGET
        lines += ["", f"- Null flag rate {rate:.3%} (target <= {NULL_TARGET:.1%})."]
    if limit_trials:
        t0 = time.perf_counter()
        found = limit(limit_trials, rows)
        lines += [
            f"- Limit: leaks of 100 records of which the leaker looked up only a few, the rest "
            f"other customers of the master; {limit_trials} trials each "
            f"({time.perf_counter() - t0:.0f} s wall).",
            "",
            "| records the leaker looked up (of 100) | trials | ranked first | flagged |",
            "|---|---|---|---|",
            *(f"| {k} | {limit_trials} | {first} | {flag} |" for k, (first, flag) in found.items()),
            "",
        ]
    if scale_rows:
        index_cpu, rank_cpu = scale(scale_rows)
        lines.append(
            f"- Scale: a {scale_rows:,}-row log of {EMPLOYEES:,} employees: indexed in "
            f"{index_cpu:.1f} s CPU (user+sys, polars on all cores), one 1,000-record leak "
            f"ranked in {rank_cpu:.2f} s CPU."
        )
    if trials or null_trials:
        lines.append(f"- Targets {'met' if ok else 'NOT met'}.")
    append_section("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
