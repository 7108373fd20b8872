"""`python -m bench.memory_bench`: peak memory of ``leaktrace scan`` on CSV dumps of growing size
(default 1, 4 and 16 GiB), with and without ``--out``, appended to bench/RESULTS.md.

The smallest dump is generated as the scan benchmark makes its table dump (same writer, same
seed); the larger ones repeat its rows under one header, cut at a row end (generating 16 GiB
afresh takes over an hour on two cores, and what memory depends on is the shape of the rows and
the size, not whether a row was seen before).

Memory is the sum over the scan's whole process tree (the CLI and its scan workers), sampled
every 50 ms with psutil: RSS counts every page a process has in memory, its heaps (with what
Arrow's and Polars' allocators keep after a free) and the file pages it has mapped; a page
shared by several processes (their libraries) is counted once in each, so the sum is an upper
bound, and PSS, which shares such pages out, is given beside it. The kernel's page cache of the
file read is in no process's RSS: it is reclaimable and would be the same for ``cat``, which is
why a cgroup's memory.peak (it charges that cache to the cgroup) would grow with the file for
reasons not the program's. A working set is built over seconds (batches of 250,000 rows), so
50 ms sampling sees its peak.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

from bench.results import append_section, header
from bench.scan_bench import OUT_DIR, SEED
from leaktrace.synth.corpus import write_table_dump

GIB = 1 << 30
MB = 1_000_000
SAMPLE_SECONDS = 0.05
TARGET_SPREAD = 0.10  # the peak at the largest size within 10% of that at the smallest
TARGET_PEAK_MB = 2000.0
COPY_STEP = 64 << 20


@dataclass
class Run:
    """One ``leaktrace scan`` measured: its size, mode, times and peaks (MB = 10^6 bytes)."""

    gib: float
    out: bool
    seconds: float
    cpu_seconds: float
    peak_rss_mb: float
    peak_pss_mb: float
    largest_process_mb: float  # the largest RSS of one process (sampled)
    processes: int


def make_dumps(work: Path, sizes: list[float]) -> dict[float, Path]:
    """A CSV dump of each size (GiB) in ``work``: the smallest generated, the others its rows
    repeated; files already there (a run with ``--keep``) are reused."""
    work.mkdir(parents=True, exist_ok=True)
    smallest = min(sizes)
    base = work / f"table_{smallest:g}gib_seed{SEED}.csv"
    if not base.exists():
        write_table_dump(base, int(smallest * GIB), SEED)
    paths = {smallest: base}
    for gib in sizes:
        path = work / f"table_{gib:g}gib_seed{SEED}.csv"
        if gib != smallest and not path.exists():
            _repeat_rows(base, path, int(gib * GIB))
        paths[gib] = path
    return paths


def _repeat_rows(base: Path, path: Path, size: int) -> None:
    """Write ``base``'s header, then its rows again and again until ``size`` bytes, ending at a
    row end; the file appears only when complete."""
    tmp = path.with_name(path.name + ".part")
    try:
        with open(base, "rb") as src, open(tmp, "wb") as dst:
            head = src.readline()
            dst.write(head)
            written = len(head)
            while written < size:
                src.seek(len(head))
                if not src.read(1):
                    raise SystemExit(f"{base} has no rows to repeat")
                src.seek(len(head))
                while step := src.read(COPY_STEP):
                    room = size - written
                    if len(step) >= room:  # the rows that still fit, then the file is full
                        dst.write(step[: step.rfind(b"\n", 0, room) + 1])
                        written = size
                        break
                    dst.write(step)
                    written += len(step)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def measure(path: Path, out: Path | None) -> Run:
    """Run ``leaktrace scan path [--out out]`` and sample its process tree until it ends."""
    cmd = [str(Path(sys.executable).with_name("leaktrace")), "scan", str(path)]
    if out is not None:
        cmd += ["--out", str(out)]
    t0 = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    root = psutil.Process(proc.pid)
    peak_rss = peak_pss = largest = 0
    most = 0
    while proc.poll() is None:
        rss = pss = 0
        try:
            tree = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            break
        for p in tree:
            try:
                full = p.memory_full_info()
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
            rss += full.rss
            largest = max(largest, full.rss)
            pss += full.pss
        peak_rss, peak_pss = max(peak_rss, rss), max(peak_pss, pss)
        most = max(most, len(tree))
        time.sleep(SAMPLE_SECONDS)
    proc.wait()
    seconds = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"leaktrace scan failed with exit code {proc.returncode}")
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return Run(
        gib=path.stat().st_size / GIB,
        out=out is not None,
        seconds=seconds,
        cpu_seconds=cpu,
        peak_rss_mb=peak_rss / MB,
        peak_pss_mb=peak_pss / MB,
        largest_process_mb=largest / MB,
        processes=most,
    )


def render(runs: list[Run]) -> str:
    """One dated Markdown section for RESULTS.md: the runs and the targets."""
    lines = [
        header("memory benchmark", ("leaktrace", "polars", "pyarrow", "psutil")),
        "- Data: a CSV dump written by `write_table_dump` (the scan benchmark's table dump, "
        f"seed {SEED}) at the smallest size; larger sizes repeat its rows. MB = 10^6 bytes.",
        f"- Peak: the sum over the scan's process tree, sampled every {SAMPLE_SECONDS * 1000:g} "
        "ms with psutil (RSS: an upper bound, shared library pages counted once per process; "
        "PSS: shared pages shared out); largest process: the largest RSS of one process.",
        "",
        "| input GiB | --out | seconds | CPU s | processes | peak RSS MB | peak PSS MB "
        "| largest process MB |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in runs:
        lines.append(
            f"| {r.gib:.2f} | {'yes' if r.out else 'no'} | {r.seconds:.1f} | "
            f"{r.cpu_seconds:.1f} | {r.processes} | {r.peak_rss_mb:.0f} | {r.peak_pss_mb:.0f} | "
            f"{r.largest_process_mb:.0f} |"
        )
    lines += ["", "### Targets", "", "| target | measured | met |", "|---|---|---|"]
    for out in (False, True):
        mode = [r for r in runs if r.out == out]
        if len(mode) < 2:
            continue
        small, large = min(mode, key=lambda r: r.gib), max(mode, key=lambda r: r.gib)
        spread = large.peak_rss_mb / small.peak_rss_mb - 1
        worst = max(r.peak_rss_mb for r in mode)
        flag = "with" if out else "without"
        lines += [
            f"| {flag} --out: peak at {large.gib:.0f} GiB within {TARGET_SPREAD:.0%} of the peak "
            f"at {small.gib:.0f} GiB | {large.peak_rss_mb:.0f} vs {small.peak_rss_mb:.0f} MB "
            f"({spread:+.1%}) | {'met' if abs(spread) <= TARGET_SPREAD else '**not met**'} |",
            f"| {flag} --out: peak under {TARGET_PEAK_MB:g} MB | {worst:.0f} MB | "
            f"{'met' if worst < TARGET_PEAK_MB else '**not met**'} |",
        ]
    return "\n".join([*lines, ""])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.memory_bench", description=__doc__)
    parser.add_argument(
        "--sizes", default="1,4,16", help="dump sizes in GiB, comma-separated (default 1,4,16)"
    )
    parser.add_argument(
        "--work-dir",
        type=Path,
        default=OUT_DIR / "memory",
        help="where the dumps and outputs are written (default bench/out/memory)",
    )
    parser.add_argument(
        "--modes",
        default="plain,out",
        help="scan without --out (plain) and/or with it (out), comma-separated (default both)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the dumps for the next run")
    args = parser.parse_args(argv)
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if not modes or set(modes) - {"plain", "out"}:
        parser.error("--modes takes plain and/or out")
    sizes = sorted({float(s) for s in args.sizes.split(",") if s.strip()})
    if not sizes or min(sizes) <= 0:
        parser.error("--sizes needs positive sizes")

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    work: Path = args.work_dir
    log(f"dumps of {', '.join(f'{s:g}' for s in sizes)} GiB in {work}")
    paths = make_dumps(work, sizes)
    runs = []
    try:
        for gib in sizes:
            for out in [work / "scan_out.parquet" if m == "out" else None for m in modes]:
                log(f"scan {paths[gib].name}{' --out' if out else ''}")
                runs.append(measure(paths[gib], out))
                if out is not None:
                    out.unlink(missing_ok=True)
    finally:
        if not args.keep:
            for path in paths.values():
                path.unlink(missing_ok=True)
            if work.exists() and not any(work.iterdir()):
                shutil.rmtree(work)
    section = render(runs)
    append_section(section)
    print(section)


if __name__ == "__main__":
    main()
