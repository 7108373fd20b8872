"""What ``leaktrace verify`` runs: verification, then the HTML report when one is asked for."""

from __future__ import annotations

from pathlib import Path

from leaktrace.verify.api import Progress, verify
from leaktrace.verify.result import VerifyReport


def cli_run(
    leak: Path,
    against: str | Path | None,
    history: Path | None,
    report: Path | None,
    engine: str,
    progress: Progress | None,
    *,
    table: str | None = None,
) -> VerifyReport:
    """Verify ``leak`` (against master data if given: a path, or a PostgreSQL URL with
    ``table``; else forgery signals only) and write the HTML report to ``report`` if given
    (atomically)."""
    result = verify(leak, against, history, engine, master_table=table, progress=progress)
    if report is not None:
        from leaktrace.report.verify_html import write_html

        write_html(result, Path(report))
    return result
