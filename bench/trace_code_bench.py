"""Benchmark of the keyed Tardos code and its accusation (``leaktrace.trace``): the sample-size
table. For c = 1, 2, 3 colluders among n = 1,000 recipients at ε = 10⁻⁶ (corrected for the 1,000
tested), the smallest number of observed binary positions at which a colluder is accused in
≥ 99% (c = 1) or ≥ 95% (c = 2, 3) of trials, beside the Tardos-family code lengths, with every
innocent accusation counted; and the speed of deriving biases and symbols for 10⁶ positions.

Run ``python -m bench.trace_code_bench [--trials N] [--collusion-trials N] [--attacks A,B]``;
it appends a dated section to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import numpy as np

from bench.results import append_section, header
from leaktrace.trace import code
from leaktrace.trace.accuse import Received, accuse

RECIPIENTS = 1000
EPSILON = 1e-6
KEY = b"bench-secret-of-the-trace-code-0"
#: Tardos-family code lengths for n = 1,000, ε = 10⁻⁶ (REFERENCES.md, trace): original
#: 100c²⌈ln(1/ε₁)⌉, symmetric large-coalition (π²/2)c²ln(n/ε), capacity order 2c²ln(n/ε).
FIGURES = {1: (2100, 102, 41), 2: (8400, 409, 166), 3: (18900, 920, 373)}
#: Where each coalition size's search starts and its step, in observed positions.
START = {1: (70, 5), 2: (225, 25), 3: (650, 50)}


@dataclass
class Outcome:
    """Trials run at one code length: how many accused a colluder, and innocents accused."""

    trials: int = 0
    detected: int = 0
    innocents_accused: int = 0
    innocents_tested: int = 0
    cpu_s: float = 0.0


def _leak(x: np.ndarray, colluders: int, attack: str, rng: np.random.Generator) -> np.ndarray:
    """The coalition's output per position: where their symbols differ, the attack chooses."""
    ones = x[:colluders].sum(axis=0)
    if attack == "union":
        return ones > 0
    if attack == "intersection":
        return ones == colluders
    tie = rng.random(x.shape[1]) < 0.5
    return (2 * ones > colluders) | ((2 * ones == colluders) & tie)


def run_length(
    colluders: int, attack: str, positions: int, trials: int, allowed_misses: int
) -> Outcome:
    """Run up to ``trials`` trials at ``positions`` observed positions (stopping once more than
    ``allowed_misses`` trials detect nobody)."""
    out = Outcome()
    start = time.process_time()
    for trial in range(trials):
        rng = np.random.default_rng([colluders, positions, trial])
        customers = rng.choice(50_000_000, positions, replace=False)
        pos = code.position_ids(customers, rng.integers(0, 8, positions))
        p = code.bias(KEY, pos)
        names = [f"t{trial}-r{i}" for i in range(RECIPIENTS)]
        x = np.stack([code.symbols(KEY, name, pos) for name in names])
        leak = _leak(x, colluders, attack, rng).astype(np.int8)
        ranked = accuse(leak, p, {name: Received(x[i]) for i, name in enumerate(names)}, EPSILON)
        guilty = set(names[:colluders])
        accused = {a.recipient for a in ranked if a.accused}
        out.trials += 1
        out.detected += bool(accused & guilty)
        out.innocents_accused += len(accused - guilty)
        out.innocents_tested += RECIPIENTS - colluders
        if out.trials - out.detected > allowed_misses:
            break
    out.cpu_s = time.process_time() - start
    return out


def smallest_length(colluders: int, attack: str, trials: int, target: float) -> dict:
    """Walk the code length on a grid to the smallest one reaching ``target`` detection."""
    allowed = int(np.floor((1 - target) * trials + 1e-9))
    length, step = START[colluders]
    tried: dict[int, Outcome] = {}
    while True:
        tried[length] = run_length(colluders, attack, length, trials, allowed)
        passed = (
            tried[length].trials == trials
            and tried[length].trials - tried[length].detected <= allowed
        )
        below = length - step
        if passed and (
            below <= 0 or (below in tried and not _passed(tried[below], trials, allowed))
        ):
            break
        length = below if passed else length + step
        if not passed and length in tried:
            break
    return {
        "c": colluders,
        "attack": attack,
        "length": length,
        "detection": tried[length].detected / tried[length].trials,
        "innocents_accused": sum(o.innocents_accused for o in tried.values()),
        "innocents_tested": sum(o.innocents_tested for o in tried.values()),
        "trials": sum(o.trials for o in tried.values()),
        "cpu_s": sum(o.cpu_s for o in tried.values()),
        "grid": ", ".join(f"{m}: {o.detected}/{o.trials}" for m, o in sorted(tried.items())),
    }


def _passed(o: Outcome, trials: int, allowed: int) -> bool:
    return o.trials == trials and o.trials - o.detected <= allowed


def code_speed(positions: int = 1_000_000, repeats: int = 3) -> dict[str, float]:
    """Fastest CPU seconds of ``bias`` and ``symbols`` over ``positions`` positions."""
    pos = code.position_ids(np.arange(positions), np.zeros(positions, np.int64))
    out = {}
    for name, call in (
        ("bias", lambda: code.bias(KEY, pos)),
        ("symbols", lambda: code.symbols(KEY, "share-1", pos)),
    ):
        times = []
        for _ in range(repeats):
            start = time.process_time()
            call()
            times.append(time.process_time() - start)
        out[name] = min(times)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=200, help="trials per length, c = 1")
    parser.add_argument("--collusion-trials", type=int, default=200, help="per length, c = 2, 3")
    parser.add_argument("--attacks", default="majority,union,intersection")
    args = parser.parse_args()
    speed = code_speed()
    rows = [smallest_length(1, "copy", args.trials, 0.99)]
    for c in (2, 3):
        rows += [
            smallest_length(c, a, args.collusion_trials, 0.95) for a in args.attacks.split(",")
        ]
    lines = [
        header("the keyed Tardos code: sample sizes for n = 1,000 recipients at ε = 10⁻⁶"),
        f"- Trials per code length: {args.trials} (c = 1), {args.collusion_trials} (c = 2, 3); "
        f"recipients: {RECIPIENTS}, every one tested "
        "(Bonferroni over 1,000); all positions observed; each trial draws new positions.",
        f"- Code speed, 10⁶ positions, fastest of 3 (CPU s): bias {speed['bias']:.3f}, "
        f"symbols of one share {speed['symbols']:.3f}.",
        "",
        "| c | attack | target | smallest m found | detection there | original Tardos | "
        "symmetric (π²/2)c²ln(n/ε) | capacity 2c²ln(n/ε) | innocents accused / tested | "
        "trials | CPU s | detections per m |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        original, symmetric, capacity = FIGURES[r["c"]]
        lines.append(
            f"| {r['c']} | {r['attack']} | {'99' if r['c'] == 1 else '95'}% | {r['length']} | "
            f"{r['detection']:.1%} | {original:,} | {symmetric:,} | {capacity:,} | "
            f"{r['innocents_accused']} / {r['innocents_tested']:,} | {r['trials']} | "
            f"{r['cpu_s']:.0f} | {r['grid']} |"
        )
    section = "\n".join(lines) + "\n"
    print(section)
    append_section(section)


if __name__ == "__main__":
    main()
