"""`python -m bench.report_bench`: what the reports of issue 15 cost on top of the work.

- the evidence trail on ``scan``: the same CSV, and a zip holding it, scanned with and without
  the trail (SHA-256 of the file, and of every member read again from the archive);
- the per-record table on ``verify`` (``records=True``) on a leak of a synth world;
- writing the per-record file as CSV, XLSX and Parquet; rendering the HTML report in Chinese and
  English; printing it to PDF through Chromium.

Times are CPU seconds (user + system, this process and its workers), the fastest of
``--repeat`` runs with the variants in turn: wall time on a shared 2-core machine says more about
the neighbours than about the code. Appended as a dated section to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bench.formats_bench import customers
from bench.results import append_section, header
from leaktrace import i18n
from leaktrace.report.pdf import write_report
from leaktrace.report.records_file import write_records
from leaktrace.report.verify_html import render_html
from leaktrace.scan import scan
from leaktrace.synth.bundle import synth_to_dir
from leaktrace.verify import verify

SEED = 20261206


def cpu() -> float:
    """CPU seconds so far of this process and its finished children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def fastest(variants: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    """Each variant's least CPU time over ``repeat`` rounds, the variants in turn."""
    best = dict.fromkeys(variants, float("inf"))
    for _ in range(repeat):
        for name, run in variants.items():
            t0 = cpu()
            run()
            best[name] = min(best[name], cpu() - t0)
    return best


def leak_files(work: Path, records: int) -> tuple[Path, Path]:
    """The formats benchmark's customer records as a CSV, and a zip holding that CSV."""
    csv = work / "客户信息.csv"
    with csv.open("wb") as f:
        for i, frame in enumerate(customers(records, SEED)):
            frame.write_csv(f, include_header=i == 0)
    zipped = work / "客户信息.zip"
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(csv, csv.name)
    return csv, zipped


def export_leak(world: Path, out: Path, records: int) -> Path:
    """An insider's export: ``records`` customers of the world (name, ID, mobile, address, card;
    a tenth of the mobiles masked) as a GBK CSV with Chinese headers."""
    import polars as pl

    people = pl.read_parquet(world / "customers.parquet").sample(n=records, seed=SEED)
    rng = np.random.default_rng(SEED)
    masked = pl.Series(rng.random(people.height) < 0.1)
    people.select(
        pl.col("name").alias("姓名"),
        pl.col("resident_id").alias("身份证号"),
        pl.when(masked)
        .then(pl.col("mobile").str.slice(0, 3) + "****" + pl.col("mobile").str.slice(7))
        .otherwise(pl.col("mobile"))
        .alias("手机号"),
        pl.col("address").alias("地址"),
        pl.col("card_no").alias("银行卡号"),
    ).write_csv(out)
    out.write_bytes(out.read_text(encoding="utf-8").encode("gbk", errors="replace"))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=2_000_000, help="records in the scanned CSV")
    ap.add_argument("--customers", type=int, default=200_000, help="customers of the world")
    ap.add_argument("--leak", type=int, default=100_000, help="customers in the exported leak")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    lines = []
    with tempfile.TemporaryDirectory(prefix="leaktrace-report-bench-") as tmp:
        work = Path(tmp)
        csv, zipped = leak_files(work, args.records)
        size = csv.stat().st_size / 1e6
        for path in (csv, zipped):
            t = fastest(
                {
                    "with": lambda p=path: scan([p], evidence=True),
                    "without": lambda p=path: scan([p], evidence=False),
                },
                args.repeat,
            )
            extra = t["with"] - t["without"]
            lines.append(
                f"| scan {path.suffix[1:]} ({size:,.0f} MB of CSV) | {t['without']:.2f} | "
                f"{t['with']:.2f} | {extra:+.2f} s ({100 * extra / t['without']:+.1f}%) |"
            )
        synth_to_dir(work / "w", args.customers, seed=7)
        world = work / "w" / "world"
        leak = export_leak(world, work / "export.csv", args.leak)
        t = fastest(
            {
                "with": lambda: verify(leak, world, records=True),
                "without": lambda: verify(leak, world),
            },
            args.repeat,
        )
        report = verify(leak, world, records=True)
        assert report.record_table is not None
        extra = t["with"] - t["without"]
        lines.append(
            f"| verify an export ({report.records:,} records, {args.customers:,} "
            f"customers), records=True | {t['without']:.2f} | {t['with']:.2f} | "
            f"{extra:+.2f} s ({100 * extra / t['without']:+.1f}%) |"
        )
        table = report.record_table
        writes = {
            f"write {suffix}": lambda s=suffix: write_records(table, work / f"records.{s}")
            for suffix in ("csv", "xlsx", "parquet")
        }
        pages = {
            f"HTML report ({lang})": lambda lang=lang: render_html(report, lang)
            for lang in i18n.LANGS
        }
        with i18n.using("zh"):
            html = render_html(report)
        t = fastest(writes | pages, args.repeat)
        for name, seconds in t.items():
            lines.append(f"| {name}, {table.height:,} rows | | {seconds:.2f} | |")
        # Chromium's CPU is spent in its own processes: the wall time is what a user waits
        t0 = time.perf_counter()
        write_report(html, work / "report.pdf")
        lines.append(f"| PDF report (zh), wall s | | {time.perf_counter() - t0:.2f} | |")
    section = (
        header("the cost of the reports (evidence trail, per-record results, HTML, PDF)")
        + f"- Repeats: {args.repeat} (fastest CPU time kept; the PDF once, in wall time)\n\n"
        + "| step | CPU s without | CPU s with | added |\n|---|---:|---:|---:|\n"
        + "\n".join(lines)
        + "\n"
    )
    print(section)
    append_section(section)


if __name__ == "__main__":
    main()
