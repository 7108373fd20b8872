"""``make demo``: a fake bank, leaks of its customers made the way real ones are, and every
capability that exists run on them, ending with reports a person can read and file.

Run as ``python -m leaktrace.demo OUT_DIR``; everything it writes stays under OUT_DIR: the
scan and verify reports in Chinese and English (HTML, and one as PDF for filing), and the
per-record results of each verified leak.
"""

from __future__ import annotations

import sys
from pathlib import Path

from rich.console import Console
from rich.rule import Rule

from leaktrace import i18n
from leaktrace.i18n import _
from leaktrace.report.pdf import write_report
from leaktrace.report.records_file import write_records
from leaktrace.report.scan_html import render_scan_html
from leaktrace.report.terminal import render_scan, render_synth
from leaktrace.report.verify_html import render_html
from leaktrace.report.verify_terminal import render_verify
from leaktrace.scan import scan
from leaktrace.synth.bundle import synth_to_dir
from leaktrace.verify import verify

CUSTOMERS = 20_000
SEED = 2026
VERIFIED = ("old_snapshot_gbk.csv", "padded_dump.sql", "fabricated.json")
PDF = "verify-old_snapshot_gbk-zh.pdf"  # one report printed for filing


def run(out_dir: Path, console: Console) -> None:
    """Generate the world and its leaks, scan them all, and verify three against the world."""
    console.print(Rule(_("1. A synthetic bank and its leaks (leaktrace synth)")))
    summary = synth_to_dir(out_dir, CUSTOMERS, seed=SEED)
    render_synth(summary, console)
    leaks = [Path(leak["file"]) for leak in summary["leaks"]]
    console.print(Rule(_("2. What is in the leaks? (leaktrace scan)")))
    result = scan(leaks, out=out_dir / "leaks.parquet")
    render_scan(result, console)
    for lang in i18n.LANGS:
        with i18n.using(lang):
            page = write_report(render_scan_html(result), out_dir / f"scan-{lang}.html")
        _wrote(console, page)
    for name in VERIFIED:
        stem = Path(name).stem
        console.print(
            Rule(_("3. Is {name} real, and is it ours? (leaktrace verify)").format(name=name))
        )
        checked = verify(out_dir / "leaks" / name, out_dir / "world", records=True)
        render_verify(checked, console)
        for lang in i18n.LANGS:
            with i18n.using(lang):
                page = write_report(render_html(checked), out_dir / f"verify-{stem}-{lang}.html")
                if f"verify-{stem}-{lang}.pdf" == PDF:
                    _wrote(console, write_report(render_html(checked), out_dir / PDF))
            _wrote(console, page)
        if checked.record_table is not None:  # always there when records=True
            _wrote(console, write_records(checked.record_table, out_dir / f"records-{stem}.csv"))


def _wrote(console: Console, path: Path) -> None:
    console.print(_("Written: {path}").format(path=path), highlight=False)


def main() -> None:
    """Run the demo into the folder named on the command line (``demo-out`` by default), in the
    language of the locale."""
    i18n.set_language(i18n.detect())
    out_dir = Path(sys.argv[1] if len(sys.argv) > 1 else "demo-out")
    run(out_dir, Console())


if __name__ == "__main__":
    main()
