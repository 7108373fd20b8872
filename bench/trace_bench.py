"""Benchmark of ``leaktrace trace`` at scale: a 1M-record leak against 1,000 shares of a 10M
master (``bench.noisy_world``'s), and a 100-record sample of it, each traced in a fresh process
(wall, CPU, peak memory), with the ledger's bytes per shared record.

The ledger: 1,000 shares with a long tail of sizes (five of 1-2M customers, 45 of 50-300k, the
rest 500-20,000) and ten segments of 50,000 customers each sent to ten recipients (in all 1,000 shares). The leak: 1M
records of the largest share's marked copy (its marks written by ``trace.share.mark``), headers
renamed, 10% of other master records added, written as GBK CSV. Run
``python -m bench.trace_bench [--quick]``; appends a dated section to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

from bench.measure import timed
from bench.noisy_bench import SEED
from bench.noisy_world import generate
from bench.results import append_section, header
from leaktrace.trace.ledger import Ledger
from leaktrace.trace.secret import Secret
from leaktrace.trace.share import mark

DATA = Path(__file__).parent / "data"
SECRET = Secret(bytes(range(200, 240)))
ROLES = {"身份证号": "resident_id", "手机号": "mobile", "地址": "address"}
RENAMED = {"姓名": "客户姓名", "身份证号": "证件号码", "手机号": "联系电话", "地址": "通讯地址"}
TRACE = """
import json, resource, sys, time
from leaktrace.trace.api import trace
from leaktrace.trace.ledger import Ledger
from leaktrace.trace.secret import Secret
t, c = time.perf_counter(), time.process_time()
r = trace(sys.argv[1], sys.argv[2], ledger=Ledger(sys.argv[3]), secret=Secret(bytes(range(200, 240))))
top = r.attribution.suspects[0]
print(json.dumps({"wall_s": time.perf_counter() - t, "cpu_s": time.process_time() - c,
    "steps": r.seconds, "accused": r.accused, "top": top.recipient, "fap": top.corrected_fap,
    "linked": r.attribution.linked, "positions": r.attribution.positions,
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _sizes(rng: np.random.Generator, n: int) -> list[int]:
    """900 share sizes with a long tail, for a master of ``n`` customers (of 10M: five of 1-2M,
    45 of 50-300k, 850 of 500-20,000)."""
    huge = rng.integers(n // 10, n // 5 + 1, size=5)
    medium = rng.integers(n // 200, 3 * n // 100 + 1, size=45)
    small = np.clip(rng.lognormal(np.log(3e-4 * n), 1.0, size=850), n / 20_000, n / 500)
    return [int(x) for x in (*huge, *medium, *small.astype(int))]


def make_ledger(master: pl.DataFrame, url: str, rng: np.random.Generator) -> tuple[str, int]:
    """Record the 1,000 shares; the largest first share's id and the customers shared."""
    ledger = Ledger(url)
    numbers = master["客户号"].to_numpy()
    total = 0
    first = ""
    when = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    for i, size in enumerate(_sizes(rng, numbers.size)):
        ids = rng.choice(numbers, size=size, replace=False)
        s = ledger.record(
            f"合作方{i:04d}",
            ids,
            list(ROLES),
            SECRET.key_id,
            "csv-gbk",
            purpose="营销",
            shared_at=when + dt.timedelta(hours=i),
        )
        first = first or s.id
        total += size
    for seg in range(10):  # segments sent to many recipients
        ids = rng.choice(numbers, size=numbers.size // 200, replace=False)
        for j in range(10):
            ledger.record(
                f"分行{seg:02d}-{j}",
                ids,
                list(ROLES),
                SECRET.key_id,
                "xlsx",
                shared_at=when + dt.timedelta(days=1, hours=seg * 10 + j),
            )
            total += ids.size
    return first, total


def make_leak(master: pl.DataFrame, ledger: Ledger, share_id: str, n: int, out: Path) -> None:
    """``n`` records of the share's marked copy, renamed, with 10% other master records, GBK."""
    ids = ledger.customers(share_id)
    rng = np.random.default_rng(SEED)
    taken = np.sort(rng.choice(ids, size=min(n, ids.size), replace=False))
    rows = master.filter(pl.col("客户号").is_in(taken.tolist())).sort("客户号")
    copy = mark(
        rows.select("姓名", *ROLES),
        rows["客户号"].to_numpy(),
        ROLES,
        SECRET.derive("code"),
        share_id,
    )
    others = master.filter(~pl.col("客户号").is_in(ids.tolist())).sample(n // 10, seed=SEED)
    leak = pl.concat([copy, others.select("姓名", *ROLES)]).sample(
        fraction=1.0, shuffle=True, seed=1
    )
    tmp = out.with_suffix(".tmp")
    tmp.write_bytes(leak.rename(RENAMED).write_csv().encode("gbk", errors="replace"))
    tmp.replace(out)


def run(quick: bool = False) -> dict:
    n_master, n_leak = (200_000, 20_000) if quick else (10_000_000, 1_000_000)
    noisy = DATA / f"noisy_{n_leak}_{n_master}_{SEED}"
    master_path = noisy / "master.parquet"
    if not master_path.exists():
        generate(n_master, n_leak, SEED, noisy)
    work = DATA / f"trace_{n_leak}_{n_master}"
    work.mkdir(parents=True, exist_ok=True)
    db = work / "ledger.sqlite"
    url = f"sqlite:///{db}"
    leak, sample = work / "leak.csv", work / "leak100.csv"
    master = pl.read_parquet(master_path, columns=["客户号", "姓名", *ROLES])
    if not leak.exists():
        db.unlink(missing_ok=True)
        share_id, total = make_ledger(master, url, np.random.default_rng(SEED))
        make_leak(master, Ledger(url), share_id, n_leak, leak)
        sample.write_bytes(b"\n".join(leak.read_bytes().split(b"\n")[:101]) + b"\n")
        (work / "shared.json").write_text(json.dumps({"total": total, "leaker": "合作方0000"}))
    del master
    shared = json.loads((work / "shared.json").read_text())
    out = {"master": n_master, "leak": n_leak, "shares": len(Ledger(url).shares())}
    out["ledger_bytes_per_record"] = db.stat().st_size / shared["total"]
    out["shared_records"] = shared["total"]
    out["full"] = timed(TRACE, [str(leak), str(master_path), url], 600, 12_000)
    out["sample"] = timed(TRACE, [str(sample), str(master_path), url], 120, 6_000)
    out["leaker"] = shared["leaker"]
    return out


def section(res: dict) -> str:
    full, sample = res["full"], res["sample"]
    lines = [
        header("trace at scale"),
        f"{res['leak']:,}-record leak (GBK CSV, renamed headers, 10% other master records) "
        f"against {res['shares']:,} shares of a {res['master']:,}-customer master; each run a "
        "fresh process (wall, CPU of the process and its threads, sampled peak RSS).",
        "",
        "| run | wall s | CPU s | peak MB | accused | top FAP | linked | positions |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, r in (("full leak", full), ("100-record sample", sample)):
        if not r.get("finished"):
            lines.append(
                f"| {name} | stopped at {r['seconds']:.0f} | | {r['peak_rss_mb']:.0f} | | | | |"
            )
            continue
        lines.append(
            f"| {name} | {r['wall_s']:.1f} | {r['cpu_s']:.1f} | {r['peak_rss_mb']:.0f} | "
            f"{', '.join(r['accused']) or 'nobody'} | {r['fap']:.1e} | {r['linked']:,} | "
            f"{r['positions']:,} |"
        )
    lines.append("")
    lines.append(
        f"Steps of the full run (s): {json.dumps({k: round(v, 1) for k, v in full.get('steps', {}).items()})}; "
        f"of the sample: {json.dumps({k: round(v, 1) for k, v in sample.get('steps', {}).items()})}."
    )
    lines.append(
        f"Ledger: {res['shared_records']:,} shared records in {res['shares']:,} shares, "
        f"{res['ledger_bytes_per_record']:.2f} bytes per shared record (SQLite file size). "
        f"True leaker: {res['leaker']}. Load average at the end: {os.getloadavg()[0]:.1f}."
    )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="200k master, 20k leak")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    res = run(quick=args.quick)
    text = section(res)
    sys.stdout.write(text)
    if not args.quick:
        append_section(text)
    sys.stdout.write(f"({time.perf_counter() - t0:.0f} s)\n")


if __name__ == "__main__":
    main()
