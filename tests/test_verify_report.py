"""The terminal summary and the HTML report: written atomically, no personal values in them."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from leaktrace.report.verify_html import write_html
from leaktrace.report.verify_terminal import render_verify
from leaktrace.synth.leaks import make_leak
from leaktrace.synth.world import make_world
from leaktrace.synth.writers import write_leak
from leaktrace.verify import verify


def test_reports_hold_no_personal_values(tmp_path: Path) -> None:
    world = make_world(3000, seed=8, out=tmp_path / "world")
    leak = make_leak(world, "padded", seed=1, size=1.0)
    path = write_leak(leak, tmp_path / "leak.csv", "csv")
    out = tmp_path / "r" / "report.html"
    report = verify(path, world.path)
    write_html(report, out, "en")
    text = out.read_text(encoding="utf-8")
    assert "<svg" in text and 'data-label="mixed"' in text and "Verdict: Partly our data" in text
    assert not list(out.parent.glob(".*tmp"))
    buf = io.StringIO()
    render_verify(report, Console(file=buf, width=140), "en")
    shown = buf.getvalue() + text
    for col in ("resident_id", "mobile", "name", "address"):
        if col in leak.rows.columns:
            for v in leak.rows[col].drop_nulls().head(50).to_list():
                assert v not in shown
    write_html(report, out)  # overwriting works too
    only_signals = verify(path)
    assert only_signals.linkage is None and only_signals.verdict.label == "plausible"
