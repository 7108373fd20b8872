"""``make demo``: a fake bank, leaks of its customers made the way real ones are, and every
capability that exists run on them, ending with a summary a person can read.

Run as ``python -m leaktrace.demo OUT_DIR``; everything it writes stays under OUT_DIR.
"""

from __future__ import annotations

import sys
from pathlib import Path

from rich.console import Console
from rich.rule import Rule

from leaktrace.report.scan_html import render_scan_html, write_html
from leaktrace.report.terminal import render_scan, render_synth
from leaktrace.scan import scan
from leaktrace.synth.bundle import synth_to_dir

CUSTOMERS = 20_000
SEED = 2026


def run(out_dir: Path, console: Console) -> None:
    """Generate the world and its leaks, then scan the leaks."""
    console.print(Rule("1. A synthetic bank and its leaks (leaktrace synth)"))
    summary = synth_to_dir(out_dir, CUSTOMERS, seed=SEED)
    render_synth(summary, console)
    leaks = [Path(leak["file"]) for leak in summary["leaks"]]
    console.print(Rule("2. What is in the leaks? (leaktrace scan)"))
    result = scan(leaks, out=out_dir / "leaks.parquet")
    render_scan(result, console)
    page = write_html(out_dir / "scan.html", render_scan_html(result, "leaktrace demo: scan"))
    console.print(f"HTML report: [bold]{page}[/]")


def main() -> None:
    out_dir = Path(sys.argv[1] if len(sys.argv) > 1 else "demo-out")
    run(out_dir, Console())


if __name__ == "__main__":
    main()
