"""What every reader yields: batches of string columns, with the problems it met counted."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from leaktrace.errors import Message
from leaktrace.ingest.sniff import TableDialect


@dataclass(frozen=True)
class Problem:
    """One kind of trouble met while reading: where, what was expected, how many rows it cost.

    ``place`` and ``expected`` never quote the input's content (it is personal data)."""

    place: str  # "leak.csv line 1234" or "leak.sql table users, statement 17"; never translated
    expected: Message  # "5 fields, found 7": English in JSON, the language in use when shown
    rows_skipped: int = 0
    kind: str = "other"  # what went wrong, for summaries: ragged, encoding, open quote, …
    places: int = 1  # how many places this stands for (a summary of the overflow stands for many)


@dataclass
class Batch:
    """A slice of one table (or of a text's lines).

    For tables, every column is a pa.string(); ``first_row`` is the 1-based data row number of
    the batch's first row. For text, ``data`` has one column ``text`` (one line per row) and
    ``first_row`` is the 1-based line number of its first line.
    """

    table: str  # table name: file stem for CSV/XLSX sheets ("leak" / "leak:Sheet1"), SQL table name
    data: pa.RecordBatch  # (a pa.Table of several chunks once the scanner coalesces batches)
    first_row: int
    bytes_done: int  # bytes of the file consumed so far, for progress bars
    free_text: bool = False  # one column of free text (a CSV's ragged rows): typed as text
    # a piece of an over-long text line: the characters [start, end) of its one row that are
    # its own; the rest overlaps its neighbours, which answer for matches starting there
    own: tuple[int, int] | None = None


@dataclass(frozen=True)
class Part:
    """A byte range of a file that starts and ends between rows, read on its own (one of the
    pieces a large file is scanned in, in parallel). ``first_line`` is the file's line number
    of its first byte; ``first_row`` the row number its first row gets: its line less the
    header's, so a file whose quoted fields hold newlines, or that had rows skipped before the
    range, numbers rows a little differently than read whole (still unique and increasing)."""

    start: int
    end: int
    first_line: int
    first_row: int
    context: object = None  # what a reader needs to start there (SQL: tables, an open COPY)


@dataclass
class Source:
    """An opened input. ``kind`` is 'table' or 'text'; iterate :meth:`batches` once."""

    path: Path
    format: str  # csv, tsv, xlsx, json, jsonl, sql, text, html
    encoding: str | None  # detected text encoding (None for binary formats like XLSX)
    kind: str  # "table" or "text"
    size: int  # bytes on disk
    has_header: bool | None = None
    compression: str | None = None  # gzip, bz2 or xz when the bytes are compressed
    dialect: TableDialect | None = None  # for CSV/TSV: delimiter, quoting, header
    problems: list[Problem] = field(default_factory=list)
    _reader: object = None  # the reader's generator factory; set by open_source
    part: Part | None = None  # read only this byte range (plain CSV/TSV/text files)
    name: str = ""  # how reports name it: the path given, or ``a.zip!dir/x.csv`` for a member
    inside: bool = False  # found in a folder or container: its errors are its Problems

    def __post_init__(self) -> None:
        if not self.name:
            self.name = str(self.path)

    def batches(self) -> Iterator[Batch]:
        """Stream the content in bounded memory; problems met are appended to ``problems``."""
        assert callable(self._reader)
        yield from self._reader(self)

    @property
    def rows_skipped(self) -> int:
        return sum(p.rows_skipped for p in self.problems)


def string_batch(columns: dict[str, list[str | None]]) -> pa.RecordBatch:
    """Build a batch of string columns from Python lists (small readers use this)."""
    return pa.RecordBatch.from_pydict(
        {k: pa.array(v, type=pa.string()) for k, v in columns.items()}
    )
