"""``make demo``: a fake bank, leaks of its customers made the way real ones are, and every
capability that exists run on them, ending with a summary a person can read.

Run as ``python -m leaktrace.demo OUT_DIR``; everything it writes stays under OUT_DIR.
"""

from __future__ import annotations

import sys
from pathlib import Path

from rich.console import Console
from rich.rule import Rule

from leaktrace.report.files import write_atomic
from leaktrace.report.scan_html import render_scan_html
from leaktrace.report.terminal import render_scan, render_synth
from leaktrace.report.verify_html import write_html
from leaktrace.report.verify_terminal import render_verify
from leaktrace.scan import scan
from leaktrace.synth.bundle import synth_to_dir
from leaktrace.verify import verify

CUSTOMERS = 20_000
SEED = 2026


def run(out_dir: Path, console: Console) -> None:
    """Generate the world and its leaks, scan them all, and verify three against the world."""
    console.print(Rule("1. A synthetic bank and its leaks (leaktrace synth)"))
    summary = synth_to_dir(out_dir, CUSTOMERS, seed=SEED)
    render_synth(summary, console)
    leaks = [Path(leak["file"]) for leak in summary["leaks"]]
    console.print(Rule("2. What is in the leaks? (leaktrace scan)"))
    result = scan(leaks, out=out_dir / "leaks.parquet")
    render_scan(result, console)
    page = write_atomic(out_dir / "scan.html", render_scan_html(result, "leaktrace demo: scan"))
    console.print(f"HTML report: [bold]{page}[/]")
    for name in ("old_snapshot_gbk.csv", "padded_dump.sql", "fabricated.json"):
        console.print(Rule(f"3. Is {name} real, and is it ours? (leaktrace verify)"))
        report = out_dir / f"verify-{Path(name).stem}.html"
        checked = verify(out_dir / "leaks" / name, out_dir / "world")
        write_html(checked, report)
        render_verify(checked, console)
        console.print(f"HTML report: [bold]{report}[/]")


def main() -> None:
    out_dir = Path(sys.argv[1] if len(sys.argv) > 1 else "demo-out")
    run(out_dir, Console())


if __name__ == "__main__":
    main()
