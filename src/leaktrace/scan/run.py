"""``scan``: files, folders and archives in, a summary and a normalised table out. A large plain
file is cut into byte ranges of whole rows and the ranges are scanned by one process per core."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import pickle
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Protocol

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from leaktrace.errors import InputError
from leaktrace.evidence import Trail
from leaktrace.i18n import N_
from leaktrace.ingest.expand import Container, expand, expected_text
from leaktrace.ingest.source import Problem, Source
from leaktrace.ingest.split import json_splittable, split, split_json, splittable
from leaktrace.ingest.spool import Spool
from leaktrace.ingest.sql_split import first_batches
from leaktrace.pii import KINDS
from leaktrace.scan.result import ColumnReport, KindStats, ScanResult, SourceReport
from leaktrace.scan.scanner import (
    OUT_SCHEMA,
    Progress,
    atomic_parquet,
    merge_stats,
    scan_batches,
    typing_for,
)


class RowSink(Protocol):
    """Where the normalised table's batches go when no file is to hold them."""

    def write_table(self, table: pa.Table) -> None: ...


SPLIT_MIN = 64 << 20  # files under this are scanned in one process (starting one costs ~0.5 s)


def scan(
    paths: Iterable[str | Path],
    out: str | Path | None = None,
    progress: Progress | None = None,
    processes: int | None = None,
    password: str | None = None,
    *,
    evidence: bool = True,
    rows: RowSink | None = None,
) -> ScanResult:
    """Scan files for personal identifiers; write the normalised table to ``out`` (Parquet) if
    given. ``progress`` is called with the bytes read so far across all files; ``processes``
    caps the processes a large file is scanned by (default: one per core).

    Folders are walked and archives, e-mails and Word/PDF documents opened, one member at a time,
    each member a source of its own (``a.zip!dir/x.csv``); encrypted members are opened with
    ``password`` (default: the LEAKTRACE_PASSWORD environment variable). With ``evidence``
    the result's evidence trail names each input's SHA-256 (its members' too), hashed in a
    thread beside the scan. ``rows`` (instead of ``out``) receives the normalised table's
    batches in this process, which then scans alone: nothing of them is written anywhere."""
    t0 = time.perf_counter()
    paths = [Path(p) for p in paths]
    for p in paths:
        if not p.exists():
            raise InputError(str(p), N_("an existing file or folder"), N_("nothing at that path"))
    if password is None:
        password = os.environ.get("LEAKTRACE_PASSWORD") or None
    out_path = Path(out) if out else None
    result = ScanResult(sources=[], kinds={}, bytes_read=0, seconds=0.0, out=out_path)
    n = processes or os.cpu_count() or 1
    parameters = {"paths": paths, "out": out_path, "processes": processes, "password": password}
    # the members of archives are hashed as they are spooled for the scan, not read again
    trail = Trail("scan", parameters, paths, password=password, members=False) if evidence else None
    with Spool() as spool, trail or contextlib.nullcontext():
        sources = expand(paths, spool, password)
        try:
            if out_path is not None:
                with atomic_parquet(out_path) as writer:
                    containers = _scan_sources(sources, result, writer, progress, n)
            else:
                containers = _scan_sources(sources, result, rows, progress, 1 if rows else n)
        finally:
            sources.close()  # its spooled member is removed before the spool is
        if trail is not None:
            result.evidence = trail.finish(containers=containers)
    result.kinds = {k: result.kinds[k] for k in KINDS if k in result.kinds}
    result.seconds = time.perf_counter() - t0
    return result


def _scan_sources(
    sources: Iterable[Source | Container],
    result: ScanResult,
    writer: pq.ParquetWriter | None,
    progress: Progress | None,
    processes: int,
) -> list[Container]:
    """Scan every source into ``result`` (and ``writer``); the containers met, their members'
    digests filled."""
    done_before = 0
    containers: list[tuple[SourceReport, Container]] = []
    for src in sources:
        if isinstance(src, Container):  # its problems are complete once its members are read
            report = SourceReport(src.name, src.format, None, "container", src.size)
            containers.append((report, src))
            result.sources.append(report)
            continue
        report = SourceReport(src.name, src.format, src.encoding, src.kind, src.size)

        def on_bytes(done: int, before: int = done_before) -> None:
            if progress:
                progress(before + done)

        try:
            if processes > 1 and src.size >= SPLIT_MIN and splittable(src):
                stats, records, problems = _scan_split(src, processes, report, writer, on_bytes)
            elif processes > 1 and src.size >= SPLIT_MIN and json_splittable(src):
                stats, records, problems = _scan_json_split(
                    src, processes, report, writer, on_bytes
                )
            else:
                stats, records = scan_batches(src, typing_for(report), writer, on_bytes)
                problems = src.problems
        except InputError as e:  # a damaged file in a folder or archive: the others still scan
            if not src.inside:
                raise
            stats, records = {}, 0
            problems = [*src.problems, Problem(src.name, expected_text(e), kind="unreadable")]
        merge_stats(result.kinds, stats)
        report.records = records
        _set_problems(report, problems)
        result.sources.append(report)
        done_before += src.size
        result.bytes_read += src.size
    for report, container in containers:
        _set_problems(report, container.problems)
    return [container for _report, container in containers]


def _set_problems(report: SourceReport, problems: list[Problem]) -> None:
    report.rows_skipped = sum(p.rows_skipped for p in problems)
    report.problems = [
        {
            "kind": p.kind,
            "place": p.place,
            "expected": p.expected.english(),
            "rows_skipped": p.rows_skipped,
            "places": p.places,
            "message": p.expected,
        }
        for p in problems
    ]


def _first_columns(src: Source, report: SourceReport) -> dict[str, list[ColumnReport]]:
    """The column types of a file's first table, from its first batch (as a scan in one process
    types them); none for text. Read from a copy, so its problems are not counted twice."""
    if src.kind != "table":
        return {}
    batches = dataclasses.replace(src, problems=[]).batches()
    try:
        first = next(batches, None)
    finally:
        batches.close()  # type: ignore[attr-defined]
    return {first.table: typing_for(report)(first)} if first is not None else {}


def _table_columns(parts: list[Source], report: SourceReport) -> dict[str, list[ColumnReport]]:
    """The column types of each table a SQL range starts inside, from the table's first batch
    (as a scan in one process types it); the workers type the tables that begin in their range."""
    typing = typing_for(report)
    return {batch.table: typing(batch) for batch in first_batches(parts)}


def _renumbered(rows: pa.Table, rows_before: dict[str, int]) -> pa.Table:
    """A SQL range numbers each table's rows from 1: add the rows of the ranges before it."""
    frame = pl.from_arrow(rows)
    assert isinstance(frame, pl.DataFrame)
    shift = pl.col("table").replace_strict(rows_before, default=0, return_dtype=pl.Int64)
    return frame.with_columns(pl.col("row") + shift).to_arrow().cast(rows.schema)


def _copy_rows(
    path: Path, writer: pq.ParquetWriter, rows_before: dict[str, int] | None = None
) -> None:
    """Append a worker's rows to ``writer`` one row group at a time, so memory holds one row
    group whatever the file's size (iterating batches over a whole file kept what it read:
    the parent reached 2.1 GB merging the parts of a 16 GiB scan)."""
    with pq.ParquetFile(path) as part:
        for i in range(part.num_row_groups):
            rows = part.read_row_group(i)
            writer.write_table(_renumbered(rows, rows_before) if rows_before else rows)


def _scan_json_split(
    src: Source,
    processes: int,
    report: SourceReport,
    writer: pq.ParquetWriter | None,
    on_bytes: Progress,
) -> tuple[dict[str, KindStats], int, list[Problem]]:
    """Scan JSON Lines, or a JSON array, in ranges as ``_scan_split`` does. An array's ranges
    start where an element seems to: if a range met a problem (as one cut inside an element
    does), the file is scanned again in one process and the ranges' results are dropped
    (their rows are held in a file of their own until then)."""
    if src.format == "jsonl":
        return _scan_split(src, processes, report, writer, on_bytes, split_json)
    held_path = held = None
    if writer is not None:
        held_path = Path(writer.where).with_name(f"{Path(writer.where).name}.json.tmp")
        held = pq.ParquetWriter(held_path, OUT_SCHEMA, compression="zstd")
    try:
        got = _scan_split(src, processes, report, held, on_bytes, split_json)
        if held is not None:
            held.close()
        if not got[2]:
            if writer is not None and held_path is not None:
                _copy_rows(held_path, writer)
            return got
    finally:
        if held is not None:
            held.close()
        if held_path is not None:
            held_path.unlink(missing_ok=True)
    report.columns.clear()
    stats, records = scan_batches(src, typing_for(report), writer, on_bytes)
    return stats, records, src.problems


def _scan_split(
    src: Source,
    processes: int,
    report: SourceReport,
    writer: pq.ParquetWriter | None,
    on_bytes: Progress,
    cut: Callable[[Source, int], list[Source]] = split,
) -> tuple[dict[str, KindStats], int, list[Problem]]:
    """Scan the ranges of ``src`` in worker processes, one thread each (a process per core
    is faster than threads that contend). They are started first and import while the ranges
    are found and the columns typed here; the results are merged in file order."""
    started: list[_Worker] = []
    try:
        for _ in range(processes):
            started.append(_Worker())
        parts = cut(src, processes)
        for i, w in enumerate(started):
            tmp = None
            if writer is not None and i < len(parts):
                tmp = Path(writer.where).with_name(f"{Path(writer.where).name}.part{i}.tmp")
            w.start(parts[i] if i < len(parts) else None, tmp)
        workers = [w for w in started if w.started]
        cols = _table_columns(parts, report) if src.format == "sql" else _first_columns(src, report)
        for w in workers:
            w.send(cols)

        def progress() -> None:
            on_bytes(sum(w.done for w in workers))

        stats: dict[str, KindStats] = {}
        records = 0
        problems: list[Problem] = []
        rows_before: dict[str, int] = {}  # SQL: each table's rows in the ranges before
        for w in workers:
            payload = w.result(progress)
            merge_stats(stats, payload["stats"])
            records += payload["records"]
            problems += payload["problems"]
            for table, table_cols in payload["columns"].items():
                report.columns.setdefault(table, table_cols)
            if writer is not None and w.tmp is not None:
                _copy_rows(w.tmp, writer, rows_before)
            if src.format == "sql":
                for table, count in payload["table_rows"].items():
                    rows_before[table] = rows_before.get(table, 0) + count
        return stats, records, problems
    finally:
        for w in started:
            w.close()


class _Worker:
    """One byte range scanned by ``python -m leaktrace.scan.worker``: its orders go by stdin,
    its progress and result come back by a pipe of pickled frames, read by a thread here."""

    def __init__(self) -> None:
        self.tmp: Path | None = None
        self.started = False
        self.done = 0
        self.payload: dict[str, Any] | None = None
        self.error: tuple[str, Any] | None = None
        read_fd, write_fd = os.pipe()
        # one thread per worker: the workers share the cores out among themselves
        env = os.environ | {"POLARS_MAX_THREADS": "1", "RAYON_NUM_THREADS": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "leaktrace.scan.worker", str(write_fd)],
            stdin=subprocess.PIPE,
            pass_fds=(write_fd,),
            env=env,
        )
        os.close(write_fd)
        self.frames = os.fdopen(read_fd, "rb")
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def start(self, part: Source | None, tmp: Path | None) -> None:
        """Give the worker its range (None: no range left for it; it ends)."""
        if part is None:
            self.send(None)
            return
        assert part.part is not None
        self.tmp, self.started = tmp, True
        self.send((part, tmp))  # sniffed here once: the worker opens no file to sniff again

    def send(self, obj: object) -> None:
        """Send the worker an order; one that has ended takes none (its result tells why)."""
        assert self.proc.stdin is not None
        try:
            pickle.dump(obj, self.proc.stdin)
            self.proc.stdin.flush()
        except BrokenPipeError:
            pass

    def _read(self) -> None:
        try:
            while True:
                status, value = pickle.load(self.frames)
                if status == "progress":
                    self.done = value
                elif status == "ok":
                    self.payload = value
                    return
                else:
                    self.error = (status, value)
                    return
        except (EOFError, OSError, ValueError, pickle.UnpicklingError):
            return  # the worker ended (or was stopped) without a result

    def result(self, tick: Any) -> dict[str, Any]:
        """Wait for the worker's result, calling ``tick`` meanwhile (progress)."""
        while self.reader.is_alive():
            self.reader.join(0.1)
            tick()
        if self.payload is not None:
            self.proc.wait()
            return self.payload
        self.proc.wait()
        if self.error and self.error[0] == "input":
            raise InputError(*self.error[1])
        what = self.error[1] if self.error else f"exit code {self.proc.returncode}"
        raise RuntimeError(
            f"a scan worker failed ({what}); its message is not shown, as it may quote the data"
        )

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait()
        self.reader.join(5)  # the worker's end of the pipe is closed: the reader sees EOF
        if self.proc.stdin is not None:
            try:
                self.proc.stdin.close()
            except BrokenPipeError:
                pass
        self.frames.close()
        if self.tmp is not None:
            self.tmp.unlink(missing_ok=True)
