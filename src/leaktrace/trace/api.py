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
from typing import Any

import numpy as np
import polars as pl
import pyarrow.parquet as pq

from leaktrace.errors import InputError
from leaktrace.evidence import Evidence, SourceEvidence, Trail, local_file
from leaktrace.i18n import N_, _
from leaktrace.plain import plain
from leaktrace.scan import scan
from leaktrace.scan.scanner import RAW_KINDS
from leaktrace.trace.access_log import AccessLog, read_access_log
from leaktrace.trace.attribute import DEFAULT_SAMPLE, Attribution, Suspect, attribute
from leaktrace.trace.insiders import ALPHA, InsiderRanking, rank_insiders
from leaktrace.trace.ledger import Ledger
from leaktrace.trace.master_cut import cut_master, worth_cutting
from leaktrace.trace.secret import Secret
from leaktrace.trace.share_input import MasterTable, open_master
from leaktrace.trace.token import TokenIndex, find
from leaktrace.verify.api import verify
from leaktrace.verify.result import VerifyReport

Progress = Callable[[str, float], None]
"""Called with a step's description (in the language in use) and the share done (0..1)."""

STEPS = (
    N_("reading the leak"),
    N_("linking to the master"),
    N_("reading the marks"),
    N_("ranking employees"),
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
    insiders: InsiderRanking | None = None  # with --access-log
    access_log: AccessLog | None = None  # where it was read, its problems (its rows dropped)
    evidence: Evidence | None = None
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def accused(self) -> list[str]:
        """The accused recipients."""
        return self.attribution.accused

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: the leak's verdict and dating, every share's case, the trail."""
        a = self.attribution
        return {
            "leak": self.leak,
            "master": self.master,
            "verdict": self.verification.verdict.label.value,
            "snapshot": plain(self.verification.snapshot),
            "accused": a.accused,
            "attribution": plain(a)
            | {
                "suspects": [
                    plain(s)
                    | {
                        "dating": self.dating(s),
                        "canaries": [plain(c) | {"decisive": c.decisive} for c in s.canaries],
                    }
                    for s in a.suspects
                ]
            },
            "insiders": plain(self.insiders) if self.insiders else None,
            "access_log": {
                "place": self.access_log.place,
                "columns": self.access_log.columns,
                "problems": plain(self.access_log.problems),
            }
            if self.access_log
            else None,
            "evidence": self.evidence.to_dict() if self.evidence else None,
            "seconds": self.seconds,
        }

    def dating(self, suspect: Suspect) -> str | None:
        """How the share's date stands against the leak's snapshot window: "before" when the
        share was made before the leak's data could have been taken (the leak holds newer
        values than its copy), "after" when made after values the leak holds had changed
        (its copy holds newer ones), None when consistent or the leak could not be dated."""
        snap = self.verification.snapshot
        if snap is None:
            return None
        day = suspect.shared_at.date()
        if day < snap.low:
            return "before"
        if snap.bounded and day > snap.high:
            return "after"
        return None


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


def recorded_master(ledger: Ledger) -> str:
    """The master the ledger's shares were cut from (as ``share`` recorded it); an InputError
    when the ledger is empty, names several masters or one no longer there."""
    shares = ledger.shares()
    if not shares:
        raise InputError(
            _ledger_place(ledger),
            N_("at least one share: there is nobody to trace a leak to"),
            N_("no share"),
        )
    places = {s.master for s in shares if s.master}
    if len(places) != 1 or not Path(next(iter(places))).exists():
        raise InputError(
            _ledger_place(ledger),
            N_("one master the shares were cut from, still in place (else name it: --against)"),
            N_("{count} masters named"),
            count=len(places),
        )
    return next(iter(places))


def _ledger_place(ledger: Ledger) -> str:
    return ledger.engine.url.render_as_string(hide_password=True)


def trace(
    leak: str | Path,
    master: str | Path | None = None,
    *,
    ledger: Ledger,
    secret: Secret,
    engine: str = "duckdb",
    epsilon: float = 1e-6,
    master_table: str | None = None,
    master_columns: dict[str, str] | None = None,
    master_date: dt.date | None = None,
    sample: int = DEFAULT_SAMPLE,
    access_log: str | Path | None = None,
    log_table: str | None = None,
    log_columns: dict[str, str] | None = None,
    alpha: float = ALPHA,
    progress: Progress | None = None,
) -> TraceReport:
    """Trace ``leak`` (any file scan reads) to the shares in ``ledger``: link it to ``master``
    (default: the one the ledger recorded, :func:`recorded_master`) with verify's linkage (and date it), read each linked record's marks from the strings as
    leaked, score every share and bound its false-accusation probability; a share is accused
    when that bound, corrected for the shares tested, is ≤ ``epsilon``, or when one of its
    canaries shows two identifiers. With ``access_log`` (a table file, or a PostgreSQL URL with
    ``log_table``; ``log_columns`` maps roles to its columns), the employees whose accesses best
    explain the leak are ranked and flagged at corrected p ≤ ``alpha``."""
    master = master if master is not None else recorded_master(ledger)
    parameters = {
        k: v for k, v in locals().items() if k not in ("progress", "ledger", "secret")
    } | {"ledger": _ledger_place(ledger)}
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
        opened = open_master(master, work, master_table, master_columns)
        rows = pq.ParquetFile(opened.path).metadata.num_rows
        linked_to = opened.path
        if worth_cutting(opened.path, pq.ParquetFile(scanned).metadata.num_rows):
            linked_to = cut_master(opened, scanned, work / "master_cut.parquet")
        seconds["master"] = time.perf_counter() - t0
        t0 = time.perf_counter()

        def linking(step: str, done: float) -> None:
            tick(step, 0.1 + 0.7 * done)

        checked = verify(
            scanned,
            linked_to,
            engine=engine,
            master_columns=opened.found,
            master_date=master_date,
            progress=linking,
        )
        seconds["verify"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        tick(_(STEPS[2]), 0.8)
        records = leak_records(scanned, checked.matches if checked.matches is not None else _none())
        kinds = {c: k for c, k in opened.roles.items() if k in _KINDS}
        linked = records["customer"].drop_nulls().unique().implode()
        own = (
            pl.scan_parquet(linked_to)
            .select(
                pl.col(opened.customer_column).cast(pl.Int64, strict=False).alias("customer"),
                *(pl.col(c).cast(pl.String).alias(k) for c, k in kinds.items()),
            )
            .filter(pl.col("customer").is_in(linked))
            .collect()
        )
        tokens = _tokens(Path(leak), ledger, secret, opened)
        found_attr = attribute(
            records,
            ledger,
            secret,
            opened.roles,
            epsilon,
            master=own,
            master_size=rows,
            sample=sample,
            tokens=tokens,
        )
        seconds["attribute"] = time.perf_counter() - t0
        log = ranking = None
        if access_log is not None:
            t0 = time.perf_counter()
            tick(_(STEPS[3]), 0.9)
            log = read_access_log(access_log, work, log_table, log_columns)
            snap = checked.snapshot
            ranking = rank_insiders(
                log,
                records["customer"].drop_nulls().unique().to_numpy().astype(np.int64),
                (snap.low, snap.high) if snap is not None else None,
                alpha,
            )
            seconds["insiders"] = time.perf_counter() - t0
        tick(_(STEPS[4]), 1.0)
        return TraceReport(
            leak=str(leak),
            master=opened.place,
            verification=checked,
            attribution=found_attr,
            insiders=ranking,
            access_log=log,
            evidence=trail.finish(
                SourceEvidence(
                    opened.place, rows, checked.master_as_of, checked.master_as_of_source
                )
            ),
            seconds=seconds,
        )


def _tokens(
    leak: Path, ledger: Ledger, secret: Secret, master: MasterTable
) -> dict[str, tuple[int, float]]:
    """Per share that carried customer-number tokens and left some in the leak: how many, and
    the chance of finding as many by chance."""
    if not any(master.customer_column in s.columns for s in ledger.shares()):
        return {}
    numbers = pl.read_parquet(master.path, columns=[master.customer_column]).to_series()
    index = TokenIndex.from_ledger(
        ledger,
        secret.derive("token"),
        master.customer_column,
        numbers.cast(pl.Int64, strict=False).drop_nulls().to_numpy(),
    )
    found = find([leak], index).shares
    return {
        share: (int(n), float(p))
        for share, n, p in found.select(
            "share", "tokens_found", "false_hit_probability"
        ).iter_rows()
    }


def _none() -> pl.DataFrame:
    """No links (verify ran without the master)."""
    return pl.DataFrame(schema={"rid": pl.Int64, "mid": pl.Int64})
