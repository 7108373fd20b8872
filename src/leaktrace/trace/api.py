"""``trace``: link a leak to the master through verify, then say which share it came from (what
``leaktrace trace`` calls)."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from leaktrace.evidence import Evidence, SourceEvidence, Trail, local_file
from leaktrace.i18n import N_, _
from leaktrace.scan import scan
from leaktrace.scan.scanner import RAW_KINDS
from leaktrace.trace.attribute import DEFAULT_SAMPLE, Attribution, Suspect, attribute
from leaktrace.trace.ledger import Ledger
from leaktrace.trace.secret import Secret
from leaktrace.trace.share_input import read_master
from leaktrace.verify.api import verify
from leaktrace.verify.result import VerifyReport

Progress = Callable[[str, float], None]
"""Called with a step's description (in the language in use) and the share done (0..1)."""

STEPS = (
    N_("reading the leak"),
    N_("linking to the master"),
    N_("reading the marks"),
    N_("done"),
)
#: The leak's columns attribution reads: the scan's kind columns, raw writing preferred.
_KINDS = ("person_name", "resident_id", "mobile", "bank_card", "address")


@dataclass
class TraceReport:
    """A trace: the leak's verification (is it ours, as of when), every share's case, the
    evidence trail."""

    leak: str
    master: str
    verification: VerifyReport
    attribution: Attribution
    evidence: Evidence | None = None
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def accused(self) -> list[str]:
        """The accused recipients."""
        return self.attribution.accused

    def after_snapshot(self, suspect: Suspect) -> bool | None:
        """Whether the share was made after the leak's snapshot window closed (its copy holds
        newer data than the leak), None when the leak could not be dated."""
        snap = self.verification.snapshot
        if snap is None:
            return None
        return suspect.shared_at.date() > snap.high


def _noop(step: str, done: float) -> None:
    """Progress sink that ignores everything."""


def leak_records(scanned: Path, matches: pl.DataFrame) -> pl.DataFrame:
    """One row per scanned record: its customer number (null when not linked or not a whole
    number) and each kind's value as written in the leak (raw where the scan kept it)."""
    names = pl.read_parquet_schema(scanned)
    raw = [f"raw_{k}" for k in RAW_KINDS if f"raw_{k}" in names]
    frame = pl.read_parquet(scanned, columns=[*_KINDS, *raw]).with_row_index("rid")
    frame = frame.with_columns(
        pl.coalesce(f"raw_{k}", k).alias(k) for k in RAW_KINDS if f"raw_{k}" in raw
    ).drop(raw)
    links = matches.select(
        pl.col("rid").cast(pl.UInt32),
        pl.col("mid").cast(pl.Int64, strict=False).alias("customer"),
    )
    return frame.join(links, on="rid", how="left").sort("rid").drop("rid")


def trace(
    leak: str | Path,
    master: str | Path,
    *,
    ledger: Ledger,
    secret: Secret,
    engine: str = "duckdb",
    epsilon: float = 1e-6,
    master_table: str | None = None,
    master_columns: dict[str, str] | None = None,
    master_date: dt.date | None = None,
    sample: int = DEFAULT_SAMPLE,
    progress: Progress | None = None,
) -> TraceReport:
    """Trace ``leak`` (any file scan reads) to the shares in ``ledger``: link it to ``master``
    with verify's linkage (and date it), read each linked record's marks from the strings as
    leaked, score every share and bound its false-accusation probability; a share is accused
    when that bound, corrected for the shares tested, is ≤ ``epsilon``, or when one of its
    canaries shows two identifiers."""
    parameters = {
        k: v for k, v in locals().items() if k not in ("progress", "ledger", "secret")
    } | {"ledger": ledger.engine.url.render_as_string(hide_password=True)}
    tick = progress or _noop
    seconds: dict[str, float] = {}
    trail = Trail(
        "trace",
        parameters,
        [Path(leak)],
        engine=engine,
        password=os.environ.get("LEAKTRACE_PASSWORD") or None,
        sources={"master": local_file(master)},
    )
    with trail, tempfile.TemporaryDirectory(prefix="leaktrace-trace-") as tmp:
        work = Path(tmp)
        t0 = time.perf_counter()
        tick(_(STEPS[0]), 0.0)
        scanned = work / "leak.parquet"
        scan([Path(leak)], out=scanned, evidence=False)
        seconds["scan"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        tick(_(STEPS[1]), 0.1)

        def linking(step: str, done: float) -> None:
            tick(step, 0.1 + 0.7 * done)

        checked = verify(
            scanned,
            master,
            engine=engine,
            master_table=master_table,
            master_columns=master_columns,
            master_date=master_date,
            progress=linking,
        )
        seconds["verify"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        tick(_(STEPS[2]), 0.8)
        records = leak_records(scanned, checked.matches if checked.matches is not None else _none())
        ours = read_master(master, work, master_table, master_columns)
        kinds = {c: k for c, k in ours.roles.items() if k in _KINDS}
        own = ours.frame.select(
            pl.col(ours.customer_column).alias("customer"),
            *(pl.col(c).cast(pl.String).alias(k) for c, k in kinds.items()),
        )
        found_attr = attribute(
            records,
            ledger,
            secret,
            ours.roles,
            epsilon,
            master=own,
            master_size=own.height,
            sample=sample,
        )
        seconds["attribute"] = time.perf_counter() - t0
        tick(_(STEPS[3]), 1.0)
        return TraceReport(
            leak=str(leak),
            master=ours.place,
            verification=checked,
            attribution=found_attr,
            evidence=trail.finish(SourceEvidence(ours.place, own.height, checked.master_as_of)),
            seconds=seconds,
        )


def _none() -> pl.DataFrame:
    """No links (verify ran without the master)."""
    return pl.DataFrame(schema={"rid": pl.Int64, "mid": pl.Int64})
