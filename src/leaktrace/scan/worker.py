"""A scan worker: ``python -m leaktrace.scan.worker FD`` scans one byte range of a file.

Its orders come pickled on stdin: (source, tmp), the source being one of ``split``'s ranges
(format, encoding and dialect as the parent sniffed them), then the column types the parent
found, by table (the file's first table; for SQL, the tables begun before the range). Progress
and the result go back pickled on file descriptor FD."""

from __future__ import annotations

import os
import pickle
import signal
import sys
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq

from leaktrace.errors import InputError
from leaktrace.ingest.files import check_file
from leaktrace.scan.result import ColumnReport, SourceReport
from leaktrace.scan.scanner import OUT_SCHEMA, scan_batches, typing_for


def run(orders: BinaryIO, frames: BinaryIO) -> None:
    def send(status: str, value: Any) -> None:
        pickle.dump((status, value), frames)
        frames.flush()

    try:
        order = pickle.load(orders)
        if order is None:  # no range was left for this worker
            return
        src, tmp = order
        check_file(src.path)  # still there, still a file: an InputError naming it otherwise
        report = SourceReport(str(src.path), src.format, src.encoding, src.kind, src.size)
        own_typing = typing_for(report)
        state: dict[str, Any] = {}
        table_rows: dict[str, int] = {}  # rows numbered per table (SQL ranges count from 1)

        def typing(batch: Any) -> list[ColumnReport]:
            last = batch.first_row + batch.data.num_rows - 1
            table_rows[batch.table] = max(table_rows.get(batch.table, 0), last)
            if "cols" not in state:
                state["cols"] = pickle.load(orders)
            given = state["cols"].get(batch.table)
            if given is not None and not batch.free_text:
                report.columns.setdefault(batch.table, list(given))
            # the parent's types where it gave them (the first table; for SQL, the tables begun
            # before this range); other tables, ragged rows and keys first seen later are typed here
            return own_typing(batch)

        writer = pq.ParquetWriter(tmp, OUT_SCHEMA, compression="zstd") if tmp else None
        try:
            stats, records = scan_batches(src, typing, writer, lambda n: send("progress", n))
        finally:
            if writer is not None:
                writer.close()
        send(
            "ok",
            {
                "stats": stats,
                "records": records,
                "problems": src.problems,
                "columns": report.columns,
                "table_rows": table_rows,
            },
        )
    except InputError as exc:  # its message names places and shapes only: passed on whole
        send("input", (exc.place, exc.expected, exc.found))
    except Exception as exc:  # a library's message may quote the data: only its type goes
        send("error", type(exc).__name__)


if __name__ == "__main__":
    pa.set_cpu_count(1)  # one thread: the parent runs one worker per core
    # Ctrl-C reaches the whole process group: the parent stops its workers itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with os.fdopen(int(sys.argv[1]), "wb") as out:
        run(sys.stdin.buffer, out)
