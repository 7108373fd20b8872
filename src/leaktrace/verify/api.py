"""``verify``: link a leak to master data, compare its fields, date it, look for forgery and
give a verdict (what ``leaktrace verify`` calls)."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import polars as pl

from leaktrace.errors import InputError
from leaktrace.evidence import SourceEvidence, Trail, local_file
from leaktrace.i18n import N_, _
from leaktrace.verify.engines import make_engine
from leaktrace.verify.fields import field_status
from leaktrace.verify.forgery import forgery_signals
from leaktrace.verify.history_input import history_select
from leaktrace.verify.leak_input import leak_places, prepare_leak
from leaktrace.verify.linkage import link
from leaktrace.verify.master_input import master_place, prepare_master
from leaktrace.verify.profile import (
    HISTORICAL,
    HISTORY_KEYS,
    features_sql,
    history_versions_sql,
    own_versions_sql,
    spec_for,
)
from leaktrace.verify.records import record_table
from leaktrace.verify.result import LinkageSummary, VerifyReport
from leaktrace.verify.snapshot import estimate_snapshot
from leaktrace.verify.sql import History
from leaktrace.verify.tampering import tampering
from leaktrace.verify.verdict import decide

Progress = Callable[[str, float], None]
"""Called with a step's description (in the language in use) and the share of the whole run
done (0..1)."""

STEPS = (
    N_("reading the leak"),
    N_("reading the master"),
    N_("linking"),
    N_("comparing fields"),
    N_("forgery signals"),
    N_("done"),
)


def _noop(step: str, done: float) -> None:
    """Progress sink that ignores everything."""


def verify(
    leak: str | Path,
    master: str | Path | None = None,
    history: str | Path | None = None,
    engine: str = "duckdb",
    *,
    master_table: str | None = None,
    master_columns: dict[str, str] | None = None,
    history_columns: dict[str, str] | None = None,
    history_table: str | None = None,
    master_date: dt.date | None = None,
    claimed_bank: str | None = None,
    today: dt.date | None = None,
    progress: Progress | None = None,
    records: bool = False,
) -> VerifyReport:
    """Verify ``leak`` (any format ``leaktrace.ingest`` reads, or a scanned Parquet table)
    against ``master`` (any table file ingest reads, Parquet, a DuckDB file, a PostgreSQL URL
    with ``master_table``, or a leaktrace world directory); ``history`` holds earlier values
    (long: customer, field, value, from, to; or wide: customer, field, old, new, change date;
    any table source, ``history_table`` naming its table in a database). Columns are
    recognised by values and headers; ``master_columns`` and ``history_columns`` map roles to
    columns explicitly (``{"customer": "KHH", "resident_id": "ZJHM"}``). ``master_date`` is
    when the master was extracted (else its latest opening or change). Without ``master``
    only the forgery signals run. ``records`` keeps the per-record table (raw leak values, in
    memory only) as the report's ``record_table`` (:func:`leaktrace.verify.records.record_table`).

    Raises InputError for unusable input (no identifier column, no records, master columns
    missing) rather than giving a verdict on it. The report's ``evidence`` names the inputs
    with their SHA-256 (hashed in a thread beside the work), the parameters and the machine."""
    parameters = {k: v for k, v in locals().items() if k != "progress"}  # the call's arguments
    tick = progress or _noop
    seconds: dict[str, float] = {}
    trail = Trail(
        "verify",
        parameters,
        [Path(leak)],
        engine=engine,
        password=os.environ.get("LEAKTRACE_PASSWORD") or None,  # as the leak's scan opens it
        sources={"master": local_file(master), "history": local_file(history)},
    )
    with trail, tempfile.TemporaryDirectory(prefix="leaktrace-verify-") as tmp:
        work = Path(tmp)
        t0 = time.perf_counter()
        tick(_(STEPS[0]), 0.0)
        lk = prepare_leak(Path(leak), work)
        leak_df = pl.read_parquet(lk.path)
        seconds["leak"] = time.perf_counter() - t0
        if master is None:
            tick(_(STEPS[4]), 0.8)
            signals = forgery_signals(leak_df, today, claimed_bank)
            tick(_(STEPS[5]), 1.0)
            return VerifyReport(
                leak=str(leak),
                master=None,
                engine=engine,
                records=lk.rows,
                verdict=decide(lk.rows, None, signals, None, None),
                signals=signals,
                seconds=seconds,
                record_table=record_table(leak_df, leak_places(lk)) if records else None,
                evidence=trail.finish(),
            )
        # The whole leak's forgery signals need nothing of the master: worked out in a thread
        # while the master is read and linked (polars and DuckDB both leave the GIL).
        pool = ThreadPoolExecutor(max_workers=1)
        whole = pool.submit(forgery_signals, leak_df, today, claimed_bank)
        pool.shutdown(wait=False)
        t0 = time.perf_counter()
        tick(_(STEPS[1]), 0.1)
        mi = prepare_master(
            master,
            master_table,
            history,
            work,
            columns=master_columns,
            history_columns=history_columns,
            history_table=history_table,
            master_date=master_date,
        )
        present = lk.present & mi.present
        if not present & {"resident_id", "mobile", "bank_card", "email", "address"}:
            raise InputError(
                master_place(master, master_table),
                N_("a column the leak also has (resident ID, mobile, card, email, address)"),
            )
        eng = make_engine(engine)
        try:
            eng.load_parquet("leak_src", lk.path)
            eng.load_parquet("master_src", mi.path)
            eng.create("lk", features_sql("leak_src", "rid"))
            select = ", ".join(f"{expr} AS {name}" for name, expr in mi.select.items())
            eng.view("mbase", f"SELECT {select} FROM master_src")
            eng.view("mc", features_sql("mbase", "mid", ", opened"))
            history = None
            if mi.history is not None:
                eng.load_parquet("hist_src", mi.history)
                eng.view("hist", history_select("hist_src"))
                versions = history_versions_sql("mbase", "hist")
                eng.view("mv", features_sql(f"({versions}) v", "mid", ", field"))
                eng.view("mvo", features_sql(f"({own_versions_sql('hist')}) v", "mid", ", field"))
                history = History("hist", "mv", HISTORICAL, HISTORY_KEYS, own="mvo")
            seconds["master"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            tick(_(STEPS[2]), 0.3)
            spec = spec_for(present)
            res = link(eng, spec, "lk", "mc", history, keep=("opened",))
            seconds["link"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            tick(_(STEPS[3]), 0.7)
            eng.create("matched", "SELECT rid, mid FROM best")
            fields, constraints = field_status(
                eng, sorted(present), "matched", "lk", res.near, res.near_history
            )
            snap = estimate_snapshot(constraints, mi.as_of)
            seconds["fields"] = time.perf_counter() - t0
            # Tampering: the linked records' values against ours for the same customers.
            t0 = time.perf_counter()
            mobiles = leak_df["mobile"] if "mobile" in present else None
            tamper = tampering(
                eng,
                sorted(present),
                mobiles,
                status="field_status",
                leak="lk",
                ours=res.near,
                master="mbase",
                history="hist" if history is not None else None,
            )
            seconds["tampering"] = time.perf_counter() - t0
            statuses = (
                pl.from_arrow(eng.fetch("SELECT rid, field, status, lo, hi FROM field_status"))
                if records
                else None
            )
        finally:
            eng.close()
        t0 = time.perf_counter()
        tick(_(STEPS[4]), 0.9)
        linked = res.matches
        rest = leak_df.join(linked.select("rid"), on="rid", how="anti")
        signals = whole.result()
        if not linked.height:  # the unlinked rows are the whole leak: its signals are these
            signals_rest = signals
        else:
            signals_rest = forgery_signals(rest, today, claimed_bank) if rest.height else []
        verdict = decide(lk.rows, linked.height, signals_rest, snap, mi.as_of, tamper)
        seconds["signals"] = time.perf_counter() - t0
        tick(_(STEPS[5]), 1.0)
        summary = LinkageSummary(
            candidate_pairs=res.candidate_pairs,
            first_stage_pairs=res.first_stage_pairs,
            linked=linked.height,
            exact=res.exact,
            probabilistic=linked.height - res.exact,
            patterns=res.patterns,
            match_share_among_pairs=res.lam,
            em_iterations=res.em_iterations,
            em_converged=res.em_converged,
            blocks=res.blocks,
            weights=res.weights,
        )
        return VerifyReport(
            leak=str(leak),
            master=master_place(master, master_table),
            engine=engine,
            records=lk.rows,
            verdict=verdict,
            signals=signals,
            tamper_signals=tamper.signals,
            linkage=summary,
            fields=fields,
            snapshot=snap,
            master_as_of=mi.as_of,
            master_as_of_source=mi.as_of_source,
            customers=sorted(linked["mid"].unique().to_list()),
            seconds=seconds | {f"link_{k}": v for k, v in res.seconds.items()},
            notes=mi.notes,
            matches=linked.select("rid", "mid", "weight", "prob", "method"),
            record_table=record_table(
                leak_df,
                leak_places(lk),
                linked,
                statuses,
                sorted(present),
                {c.name: len(c.levels) for c in spec.comparisons},
            )
            if records
            else None,
            evidence=trail.finish(
                SourceEvidence(
                    master_place(master, master_table), mi.rows, mi.as_of, mi.as_of_source
                ),
                SourceEvidence(mi.history_place) if mi.history_place else None,
            ),
        )
