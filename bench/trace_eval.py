"""Evaluation of trace on a synth world of 1,000 recipients: the figures of issue 16's "What it
must show" for attribution.

(a) one leaker: the smallest sample n at which a leak cut from one recipient's copy and
reformatted (other headers, GBK, a column dropped, IDs or mobiles masked, padded with 30% other
real records) puts the true leaker first and accused at corrected FAP ≤ 10⁻⁶ in ≥ 99% of trials;
(b) collusion of 2 and 3 recipients by union, intersection and majority vote: the n at which at
least one colluder is accused in ≥ 95% of trials, never an innocent; (c) innocent trials (master
copies, never-shared customers, fabricated lists, canonicalised addresses, leaked copies under
chains of every attack, scored for the shares they did not come from): no accusation, and the
false-accusation rate at ε = 0.1, 0.01, 0.001 measured against ε.

The many trials call ``trace.attribute`` with the links' ground truth (each leaked record's
customer number from the world's truth, null for fabricated ones); a smaller number run the full
``trace.api.trace`` end to end (scan, verify's linkage, attribute) on leak files.

Run ``python -m bench.trace_eval [--customers N] [--trials N] [--innocent N] [--e2e N]``; it
appends a dated section to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import polars as pl

from bench.results import append_section, header
from leaktrace.synth import attacks as A
from leaktrace.synth.trace_world import CUSTOMER, ShareTruth, TraceWorld, make_trace_world
from leaktrace.trace import variants
from leaktrace.trace.attribute import Attribution, attribute
from leaktrace.trace.ledger import Ledger, Share
from leaktrace.trace.secret import Secret

EPSILON = 1e-6
SECRET = Secret(b"bench-secret-of-the-trace-eval-0" * 2)
AS_OF = dt.date(2026, 6, 30)
CALIBRATION = (0.1, 0.01, 0.001, EPSILON)
#: Tardos-family code lengths for n = 1,000, ε = 10⁻⁶ (REFERENCES.md, trace; as trace_code_bench).
FIGURES = {1: (2100, 102, 41), 2: (8400, 409, 166), 3: (18900, 920, 373)}
#: Sample sizes tried, in records.
GRID = {1: (20, 25, 30, 40, 50, 60, 80), 2: (30, 40, 50, 60, 80, 100, 150, 200)}
GRID[3] = (60, 80, 100, 150, 200, 300)


class CachedLedger:
    """The world's ledger read once: ``attribute`` asks for every share's customers on every
    call, which is the same answer for every trial."""

    def __init__(self, ledger: Ledger) -> None:
        self.engine = ledger.engine
        self._shares = ledger.shares()
        self._customers = ledger.every_share_customers()

    def shares(self) -> list[Share]:
        return self._shares

    def every_share_customers(self) -> dict[str, np.ndarray]:
        return self._customers


@dataclass
class Bench:
    """The world and what every trial reuses."""

    world: TraceWorld
    ledger: CachedLedger
    master: pl.DataFrame  # customer + kinds, for attribute
    others: A.Leak  # real records of the master, to pad with
    never_shared: np.ndarray
    check: A.NameIdCheck

    def attribute(self, leak: A.Leak, epsilon: float = EPSILON) -> Attribution:
        return attribute(
            leak.records(),
            self.ledger,  # type: ignore[arg-type]
            self.world.secret,
            self.world.roles,
            epsilon,
            master=self.master,
            master_size=self.master.height,
        )


@dataclass
class Tally:
    """Trials at one setting: detections, innocents accused, the smallest innocent corrected
    FAP of each trial, positions observed and CPU seconds."""

    trials: int = 0
    detected: int = 0
    innocents_accused: int = 0
    innocents_tested: int = 0
    innocent_min: list[float] = field(default_factory=list)
    positions: list[int] = field(default_factory=list)
    cpu_s: float = 0.0

    def add(self, result: Attribution, guilty: set[str], detected: bool) -> None:
        innocent = [s for s in result.suspects if s.share_id not in guilty]
        self.trials += 1
        self.detected += detected
        self.innocents_accused += sum(s.accused for s in innocent)
        self.innocents_tested += len(innocent)
        self.innocent_min.append(min((s.corrected_fap for s in innocent), default=1.0))
        self.positions.append(result.positions)


def build(customers: int, recipients: int, written: int, work: Path, seed: int) -> Bench:
    """The world, its ledger read once, and the padding pool."""
    rng = np.random.default_rng(seed)
    ledger = Ledger(f"sqlite:///{work / 'ledger.sqlite'}")
    (work / "copies").mkdir()
    world = make_trace_world(
        rng, customers, recipients, SECRET, ledger, out=work / "copies", written=written
    )
    kinds = {c: k for c, k in world.roles.items()}
    master = world.master.select(
        pl.col(CUSTOMER).alias("customer"), *(pl.col(c).alias(k) for c, k in kinds.items())
    )
    numbers = world.master[CUSTOMER].to_numpy()
    shared = np.unique(np.concatenate([s.customers for s in world.shares]))
    pool = rng.choice(numbers, size=min(5_000, numbers.size), replace=False)
    others = A.from_master(world.master, CUSTOMER, world.roles, pool.tolist(), "other")
    people = world.master.select(person_name="姓名", resident_id="身份证号")
    return Bench(
        world,
        CachedLedger(ledger),
        master,
        others,
        np.setdiff1d(numbers, shared),
        A.NameIdCheck.of(people),
    )


def _marked_kinds(truth: ShareTruth, roles: dict[str, str]) -> set[str]:
    return {roles[c] for c in truth.columns if roles[c] in variants.SLOTS}


def _gbk(leak: A.Leak, rng: np.random.Generator) -> A.Leak:
    try:
        return A.reencode(leak, rng, "gbk")
    except ValueError:  # a rare name character GBK lacks: GB18030 holds every one
        return A.reencode(leak, rng, "gb18030")


def _drop_one(leak: A.Leak, rng: np.random.Generator) -> A.Leak:
    """Drop one column, leaving at least one that carries marks."""
    present = set(leak.kinds.values())
    marked = present & set(variants.SLOTS)
    choices = sorted(present if len(marked) >= 2 else present - marked)
    return A.drop_columns(leak, rng, {str(rng.choice(choices))}) if choices else leak


def reformatted(b: Bench, leak: A.Leak, rng: np.random.Generator, masked: bool = True) -> A.Leak:
    """(a)'s reformatting: other headers, a column dropped, IDs or mobiles masked, padded with
    30% other real records, GBK."""
    leak = _drop_one(A.rename_headers(leak, rng), rng)
    if masked:
        leak = A.mask(leak, rng, kinds=(str(rng.choice(["resident_id", "mobile"])),))
    return _gbk(A.pad(leak, rng, b.others, 0.3), rng)


def _leakable(b: Bench, n: int) -> list:
    """The shares a leak of ``n`` records can be cut from: that many customers, two marked
    kinds of column at least."""
    roles = b.world.roles
    return [
        s for s in b.world.shares if s.customers.size >= n and len(_marked_kinds(s, roles)) >= 2
    ]


def single_leaker(b: Bench, n: int, trials: int, allowed: int, seed: int) -> Tally:
    """(a): up to ``trials`` leaks of ``n`` records of one copy, stopping beyond ``allowed``
    misses."""
    roles = b.world.roles
    pool = _leakable(b, n)
    out = Tally()
    start = time.process_time()
    for t in range(trials):
        rng = np.random.default_rng([seed, n, t])
        truth = pool[int(rng.integers(len(pool)))]
        picked = rng.choice(truth.customers, size=n, replace=False)
        copy = b.world.copy(truth.share_id, picked)
        leak = reformatted(b, A.from_copy(copy, truth.share_id, roles), rng)
        result = b.attribute(leak)
        top = result.suspects[0]
        out.add(result, {truth.share_id}, top.share_id == truth.share_id and top.accused)
        if out.trials - out.detected > allowed:
            break
    out.cpu_s = time.process_time() - start
    return out


def coalitions(b: Bench, c: int) -> list[tuple[ShareTruth, ...]]:
    """Groups of ``c`` shares cut from one segment (whose customers overlap)."""
    by_segment: dict[int, list[ShareTruth]] = {}
    for s in b.world.shares:
        if s.segment is not None and _marked_kinds(s, b.world.roles):
            by_segment.setdefault(s.segment, []).append(s)
    groups = []
    for members in by_segment.values():
        top = sorted(members, key=lambda s: -s.customers.size)[:8]
        groups += list(itertools.combinations(top, c))
    return groups


def _eligible(group: tuple[ShareTruth, ...], how: str) -> np.ndarray:
    """The customers a coalition's combined list can hold."""
    counts: dict[int, int] = {}
    for s in group:
        for x in s.customers.tolist():
            counts[x] = counts.get(x, 0) + 1
    need = {"union": 1, "intersection": len(group), "majority": len(group) // 2 + 1}[how]
    return np.array(sorted(k for k, v in counts.items() if v >= need), dtype=np.int64)


def collusion(b: Bench, c: int, how: str, n: int, trials: int, allowed: int, seed: int) -> Tally:
    """(b): up to ``trials`` leaks of ``n`` records combined from ``c`` copies."""
    groups = [(g, e) for g in coalitions(b, c) if (e := _eligible(g, how)).size >= n]
    out = Tally()
    if not groups:
        return out
    start = time.process_time()
    for t in range(trials):
        rng = np.random.default_rng([seed, c, n, t, len(how)])
        group, eligible = groups[int(rng.integers(len(groups)))]
        picked = rng.choice(eligible, size=n, replace=False)
        copies = []
        for s in group:
            held = np.intersect1d(picked, s.customers)
            copy = b.world.copy(s.share_id, held)
            copies.append(A.from_copy(copy, s.share_id, b.world.roles))
        leak = A.combine(copies, rng, how)
        leak = _gbk(A.pad(A.rename_headers(leak, rng), rng, b.others, 0.3), rng)
        result = b.attribute(leak)
        guilty = {s.share_id for s in group}
        accused = {s.share_id for s in result.suspects if s.accused}
        out.add(result, guilty, bool(accused & guilty))
        if out.trials - out.detected > allowed:
            break
    out.cpu_s = time.process_time() - start
    return out


def _hands(b: Bench) -> list[Callable[[A.Leak, np.random.Generator], A.Leak]]:
    """Every attack, as one hand of a resale chain."""
    return [
        A.rename_headers,
        _drop_one,
        partial(A.reformat, ids="upper", digits="plain"),
        partial(A.reformat, ids="lower", digits="regroup"),
        partial(A.mask, kinds=("resident_id", "mobile", "bank_card"), fraction=0.7),
        A.canonicalise_addresses,
        partial(A.canonicalise_addresses, haolou=True),
        _gbk,
        A.fullwidth,
        A.excel_numbers,
        partial(A.pad, other=b.others, fraction=0.3),
        partial(A.canary_filter, check=b.check),
        A.rewrite_slots,
        partial(A.rewrite_slots, constant=1),
        A.shuffle,
    ]


INNOCENT_KINDS = ("master", "never-shared", "fabricated", "canonicalised", "attacked copy")


def innocent_leak(b: Bench, kind: str, rng: np.random.Generator) -> tuple[A.Leak, set[str]]:
    """One leak no share's copy explains (``kind`` of :data:`INNOCENT_KINDS`), or for an
    attacked copy the shares it came from, which are not counted as innocent."""
    n = int(rng.integers(20, 400))
    numbers = b.world.master[CUSTOMER].to_numpy()
    roles = b.world.roles
    if kind in ("master", "canonicalised"):
        picked = rng.choice(numbers, size=n, replace=False)
        leak = A.from_master(b.world.master, CUSTOMER, roles, picked.tolist())
        if kind == "canonicalised":
            leak = A.canonicalise_addresses(leak, rng)
    elif kind == "never-shared":
        picked = rng.choice(b.never_shared, size=min(n, b.never_shared.size), replace=False)
        leak = A.from_master(b.world.master, CUSTOMER, roles, picked.tolist())
    elif kind == "fabricated":
        leak = A.fabricated(rng, n, set(roles.values()), AS_OF)
    else:
        truth = b.world.shares[int(rng.integers(len(b.world.shares)))]
        picked = rng.choice(truth.customers, size=min(n, truth.customers.size), replace=False)
        leak = A.from_copy(b.world.copy(truth.share_id, picked), truth.share_id, roles)
    hands = _hands(b)
    chain = [hands[i] for i in rng.choice(len(hands), size=int(rng.integers(1, 5)), replace=False)]
    leak = A.resale(leak, rng, chain)
    return leak, leak.sources()


def innocents(b: Bench, trials: int, seed: int, minutes: float | None = None) -> dict[str, Tally]:
    """(c): ``trials`` innocent trials (fewer if ``minutes`` of wall time run out first), the
    kinds in turn; each scored at ε = 0.1 so that the smallest innocent corrected FAP gives the
    false-accusation rate at every ε ≤ 0.1."""
    out = {k: Tally() for k in INNOCENT_KINDS}
    stop = time.monotonic() + 60 * minutes if minutes else None
    for t in range(trials):
        if stop is not None and time.monotonic() > stop:
            break
        rng = np.random.default_rng([seed, 3, t])
        kind = INNOCENT_KINDS[t % len(INNOCENT_KINDS)]
        start = time.process_time()
        leak, sources = innocent_leak(b, kind, rng)
        result = b.attribute(leak, epsilon=0.1)
        out[kind].add(result, sources, False)
        out[kind].cpu_s += time.process_time() - start
        if (t + 1) % 250 == 0:
            worst = min(m for x in out.values() for m in x.innocent_min)
            print(f"innocent trials {t + 1}: smallest corrected FAP {worst:.3g}", flush=True)
    return out


def end_to_end(b: Bench, n: int, trials: int, work: Path, seed: int) -> Tally:
    """(a) through ``trace()`` on leak files: scan, verify's linkage, attribute."""
    from leaktrace.trace.api import trace

    master_path = work / "master.parquet"
    if not master_path.exists():
        b.world.master.write_parquet(master_path)
    roles = b.world.roles
    pool = _leakable(b, n)
    out = Tally()
    start = time.process_time()
    for t in range(trials):
        rng = np.random.default_rng([seed, 5, n, t])
        truth = pool[int(rng.integers(len(pool)))]
        picked = rng.choice(truth.customers, size=n, replace=False)
        leak = reformatted(
            b, A.from_copy(b.world.copy(truth.share_id, picked), truth.share_id, roles), rng
        )
        path = work / f"leak-{t}.csv"
        leak.write(str(path))
        report = trace(path, master_path, ledger=b.world.ledger, secret=b.world.secret)
        result = report.attribution
        top = result.suspects[0]
        out.add(result, {truth.share_id}, top.share_id == truth.share_id and top.accused)
        path.unlink()
    out.cpu_s = time.process_time() - start
    return out


def smallest(
    run: Callable[[int, int, int], Tally],
    grid: tuple[int, ...],
    trials: int,
    target: float,
    label: str,
) -> tuple[int | None, dict[int, Tally]]:
    """Walk ``grid`` up to the first n whose trials reach ``target``, printing each n's count."""
    allowed = int(np.floor((1 - target) * trials + 1e-9))
    tried = {}
    for n in grid:
        tried[n] = run(n, trials, allowed)
        print(f"{label} n={n}: {tried[n].detected}/{tried[n].trials}", flush=True)
        if tried[n].trials == trials and tried[n].trials - tried[n].detected <= allowed:
            return n, tried
    return None, tried


def _grid(tried: dict[int, Tally]) -> str:
    return ", ".join(f"{n}: {t.detected}/{t.trials}" for n, t in tried.items())


def _positions(t: Tally) -> str:
    return f"{np.median(t.positions):.0f}" if t.positions else "-"


def sample_sizes(b: Bench, args: argparse.Namespace) -> tuple[list[str], int | None]:
    """(a) and (b), as ``args.parts`` and ``args.coalitions`` ask: the sample-size table, and
    (a)'s smallest n."""
    rows = []
    single_n = None
    if "a" in args.parts:
        single_n, single = smallest(
            lambda n, t, a: single_leaker(b, n, t, a, args.seed),
            GRID[1],
            args.trials,
            0.99,
            "c=1",
        )
        rows.append((1, "copy, reformatted", single_n, single))
    for c in (int(x) for x in args.coalitions.split(",") if "b" in args.parts):
        for how in ("union", "intersection", "majority"):
            n, tried = smallest(
                lambda n, t, a, c=c, how=how: collusion(b, c, how, n, t, a, args.seed),
                GRID[c],
                args.collusion_trials,
                0.95,
                f"c={c} {how}",
            )
            rows.append((c, how, n, tried))
    lines = [
        f"Sample sizes (up to {args.trials if 'a' in args.parts else args.collusion_trials} "
        "trials per n; an n stops at the first miss beyond its target, the walk at the first n "
        "that reaches it):",
        "",
        "| c | leak | target | smallest n (records) | detection there | median observed "
        "positions there | original Tardos | symmetric (π²/2)c²ln(n/ε) | capacity "
        "2c²ln(n/ε) | innocents accused / tested | CPU s | detections per n |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for c, what, n, tried in rows:
        at = tried.get(n) if n is not None else None
        found = (
            f"{n} | {at.detected / at.trials:.1%} | {_positions(at)}"
            if at
            else "not reached | - | -"
        )
        original, symmetric, capacity = FIGURES[c]
        lines.append(
            f"| {c} | {what} | {'99' if c == 1 else '95'}% | {found} | "
            f"{original:,} | {symmetric:,} | {capacity:,} | "
            f"{sum(t.innocents_accused for t in tried.values())} / "
            f"{sum(t.innocents_tested for t in tried.values()):,} | "
            f"{sum(t.cpu_s for t in tried.values()):.0f} | {_grid(tried)} |"
        )
    return lines, single_n


def innocent_table(b: Bench, args: argparse.Namespace) -> list[str]:
    """(c): the innocent trials and the calibration."""
    inn = innocents(b, args.innocent, args.seed, args.minutes)
    run = sum(t.trials for t in inn.values())
    lines = [
        f"Innocent trials ({run:,} of {args.innocent:,} asked, kinds in turn; scored at ε = 0.1, the smallest "
        "corrected FAP among the shares a leak did not come from decides every smaller ε):",
        "",
        "| kind | trials | innocent shares tested | accused at 10⁻⁶ | "
        + " | ".join(f"rate at ε = {e:g}" for e in CALIBRATION[:3])
        + " | CPU s |",
        "|---|---:|---:|---:|" + "---:|" * 3 + "---:|",
    ]
    every = [m for t in inn.values() for m in t.innocent_min]
    for kind, t in [*inn.items(), ("all", None)]:
        mins = np.array(every if t is None else t.innocent_min)
        tested = sum(x.innocents_tested for x in inn.values()) if t is None else t.innocents_tested
        cpu = sum(x.cpu_s for x in inn.values()) if t is None else t.cpu_s
        lines.append(
            f"| {kind} | {mins.size:,} | {tested:,} | {int((mins <= EPSILON).sum())} | "
            + " | ".join(f"{(mins <= e).mean():.4f}" for e in CALIBRATION[:3])
            + f" | {cpu:.0f} |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--recipients", type=int, default=1_000)
    parser.add_argument("--trials", type=int, default=200, help="per sample size, one leaker")
    parser.add_argument("--collusion-trials", type=int, default=100, help="per sample size")
    parser.add_argument("--innocent", type=int, default=10_000, help="innocent trials")
    parser.add_argument("--e2e", type=int, default=200, help="end-to-end trace() trials")
    parser.add_argument("--e2e-n", type=int, help="records per end-to-end leak (default: (a)'s n)")
    parser.add_argument("--minutes", type=float, help="wall-time budget of the innocent trials")
    parser.add_argument("--coalitions", default="2,3", help="coalition sizes for part b")
    parser.add_argument("--parts", default="abce", help="a+b sample sizes, c innocents, e e2e")
    parser.add_argument("--seed", type=int, default=16)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="trace-eval-") as tmp:
        work = Path(tmp)
        t0 = time.process_time()
        b = build(args.customers, args.recipients, 0, work, args.seed)
        world_s = time.process_time() - t0
        sizes = np.array([s.customers.size for s in b.world.shares])
        lines = [
            header(f"trace on a synth world of {len(b.world.shares):,} recipients ({args.parts})"),
            f"- World: {args.customers:,} customers, {len(b.world.shares)} shares "
            f"(sizes: median {np.median(sizes):.0f}, 90th percentile "
            f"{np.percentile(sizes, 90):.0f}, max {sizes.max():,}), "
            f"{b.never_shared.size:,} customers never shared; made in {world_s:.0f} CPU s.",
            "- Links: the many trials hand `trace.attribute` each leaked record's customer from "
            "the world's ground truth (null for fabricated records); the end-to-end trials run "
            "`trace.api.trace` (scan, verify's linkage, attribute) on the leak files.",
            "",
        ]
        n = args.e2e_n
        if "a" in args.parts or "b" in args.parts:
            table, single_n = sample_sizes(b, args)
            lines += [*table, ""]
            n = n or single_n
        if "c" in args.parts:
            lines += [*innocent_table(b, args), ""]
        if "e" in args.parts and args.e2e:
            n = n or GRID[1][-1]
            e2e = end_to_end(b, n, args.e2e, work, args.seed)
            lines.append(
                f"End to end (`trace()` on the leak file, n = {n} records reformatted as in (a)): "
                f"true leaker first and accused in {e2e.detected}/{e2e.trials} trials; innocents "
                f"accused {e2e.innocents_accused} / {e2e.innocents_tested:,}; median observed "
                f"positions {_positions(e2e)}; {e2e.cpu_s / max(e2e.trials, 1):.1f} CPU s per "
                "trial."
            )
    section = "\n".join(lines) + "\n"
    print(section)
    append_section(section)


if __name__ == "__main__":
    main()
