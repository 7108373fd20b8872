"""Read delimited text (CSV, TSV, | or ; separated) with pyarrow's CSV parser, all columns as strings.

Nothing is dropped: rows whose quoting is broken are re-read with the quote as an ordinary
character (``quote_rows``), and rows with more or fewer fields than the header (ragged rows)
are kept whole as free text in a second table, ``<table>#ragged``, scanned for identifiers by
what they are. Each is reported with its line."""

from __future__ import annotations

import csv
import dataclasses
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from leaktrace.i18n import N_
from leaktrace.ingest.files import ByteStream
from leaktrace.ingest.limits import BATCH_ROWS, CSV_BLOCK, TABLE_LINE_MAX
from leaktrace.ingest.lines import LineChunk, line_chunks
from leaktrace.ingest.problems import ProblemLog
from leaktrace.ingest.quote_rows import QUOTED_LINES_MAX, Layout, Rows, layout_of, settle
from leaktrace.ingest.sniff import TableDialect
from leaktrace.ingest.source import Batch, Source
from leaktrace.ingest.transcode import utf8_chunks

RAGGED = "#ragged"  # suffix of the table that holds a file's ragged rows, one text per row


def read_csv(source: Source, name: str, table: str) -> Iterator[Batch]:
    """Yield the rows of a delimited file as string batches, then its ragged rows as text.

    The bytes are transcoded to UTF-8 and cut into blocks of whole rows here, so encoding
    errors, over-long lines and broken quotes are counted with their line numbers; each block
    is parsed by pyarrow synchronously (no reader thread calls back into Python)."""
    assert source.encoding is not None and source.dialect is not None
    dialect = source.dialect
    log = ProblemLog(name, source.problems)
    part = source.part
    stream = ByteStream(
        source.path, source.compression, log, (part.start, part.end) if part else None
    )
    names = list(dialect.names)
    at_start = part is None or part.start == 0
    if dialect.preamble and at_start:
        log.add(
            "preamble",
            f"{name} line 1" if dialect.preamble == 1 else f"{name} lines 1-{dialect.preamble}",
            N_("table rows; found title lines above the table, skipped"),
        )
    if dialect.has_header and dialect.header_fields != len(names) and at_start:
        log.add(
            "header",
            f"{name} line {dialect.preamble + 1}",
            N_(
                "a header with one name per field; it has {names} names "
                "but rows have {fields} fields (unnamed columns are col_N)"
            ),
            names=dialect.header_fields,
            fields=len(names),
        )
    layout = layout_of(dialect.delimiter, len(names), source.encoding)
    parse = _Parser(names, dialect, layout, log)
    row = part.first_row if part else 1
    first_line = part.first_line if part else 1
    # ragged rows are numbered from the range's first line: unique across a file's ranges
    ragged = _RaggedRows(table + RAGGED, first_line)

    def emit(parsed: _Parsed) -> Iterator[Batch]:
        nonlocal row
        for batch in parsed.batches:
            yield Batch(table, batch, row, stream.bytes_done)
            row += batch.num_rows
        yield from ragged.add(parsed.ragged, stream.bytes_done)

    try:
        # Parse block k (pyarrow, without the GIL) while the next block is transcoded and cut.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="leaktrace-csv") as worker:
            ahead: Future[_Parsed] | None = None
            skip = dialect.skip_lines if at_start else 0
            chunks = utf8_chunks(stream, source.encoding, log, first_line)
            lines = line_chunks(chunks, TABLE_LINE_MAX, first_line)
            for block in _blocks(lines, dialect.quoted, layout, log, first_line, skip):
                job = worker.submit(parse, block)
                if ahead is not None:
                    yield from emit(ahead.result())
                ahead = job
            if ahead is not None:
                yield from emit(ahead.result())
            yield from ragged.flush(stream.bytes_done)
    finally:
        stream.close()
        log.finish()


@dataclass
class _RaggedRows:
    """Ragged rows gathered into free-text batches of up to BATCH_ROWS rows."""

    table: str
    row: int
    texts: list[str] = field(default_factory=list)

    def add(self, texts: list[str], done: int) -> Iterator[Batch]:
        self.texts += texts
        if len(self.texts) >= BATCH_ROWS:
            yield from self.flush(done)

    def flush(self, done: int) -> Iterator[Batch]:
        if self.texts:
            data = pa.record_batch({"text": pa.array(self.texts, pa.string())})
            yield Batch(self.table, data, self.row, done, free_text=True)
            self.row += len(self.texts)
            self.texts = []


@dataclass(frozen=True)
class _Block:
    """Whole rows of the file from line ``first_line``; ``broken``: one line whose quote never
    closed, to be read with that quote as an ordinary character."""

    data: bytes
    first_line: int
    rows: Rows | None = None  # how its lines group into rows, when already known
    broken: bool = False


@dataclass
class _Parsed:
    batches: list[pa.RecordBatch]
    ragged: list[str]  # texts of the block's ragged rows


class _Parser:
    """Parses one block of whole rows: with pyarrow when it sees the rows the block was cut
    into, else (a block it rejects, or reads otherwise) row by row with Python's csv module, so
    one bad row costs at most itself. Ragged rows are kept as text and reported by line."""

    def __init__(
        self, names: list[str], dialect: TableDialect, layout: Layout, log: ProblemLog
    ) -> None:
        self.names = names
        self.layout = layout
        self.width = len(names)
        self.delimiter = dialect.delimiter
        self.quoted = dialect.quoted
        self.log = log
        self.invalid: list[tuple[int, int, str]] = []  # pyarrow's (row number, fields, text)
        self.parse_options = pacsv.ParseOptions(
            delimiter=dialect.delimiter,
            quote_char='"' if dialect.quoted else False,
            double_quote=True,
            newlines_in_values=dialect.quoted,
            invalid_row_handler=self._keep_invalid,
        )
        self.convert_options = pacsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()),
            check_utf8=False,  # already validated while transcoding
            strings_can_be_null=False,
        )

    def __call__(self, block: _Block) -> _Parsed:
        if block.broken:
            return self._broken(block)
        rows = block.rows or settle(block.data, final=True, quoted=self.quoted, layout=self.layout)
        starts = _nonempty(block.data, rows.ends, rows.starts())
        self.invalid = []
        read_options = pacsv.ReadOptions(
            use_threads=False,
            block_size=len(block.data) + 1,  # one block: rows never straddle blocks
            column_names=self.names,
        )
        try:
            parsed = pacsv.read_csv(
                pa.BufferReader(block.data),
                read_options=read_options,
                parse_options=self.parse_options,
                convert_options=self.convert_options,
            )
        except pa.ArrowInvalid:
            parsed = None
        if parsed is None or not self._agrees(block.data, parsed, rows, starts):
            return self._row_by_row(block, rows, starts)
        ragged = []
        for number, found, text in self.invalid:
            self._ragged(block.first_line + int(starts[number - 1]), found)
            ragged.append(text)
        batches = parsed.combine_chunks().to_batches(max_chunksize=BATCH_ROWS)
        return _Parsed([b for b in batches if b.num_rows], ragged)

    def _agrees(self, data: bytes, parsed: pa.Table, rows: Rows, starts: np.ndarray) -> bool:
        """Whether pyarrow read the rows the block was cut into: as many, each ragged one's
        text where its row is, and the quoted newlines inside values where the spans are."""
        if parsed.num_rows + len(self.invalid) != starts.size:
            return False
        if b'"' not in data or not self.quoted:
            return True  # no quote: every row is one line
        newlines = sum(text.count("\n") for _, _, text in self.invalid)
        for column in parsed.columns:
            newlines += pc.sum(pc.count_substring(column, "\n")).as_py() or 0
        if newlines != sum(last - first for first, last in rows.spans):
            return False
        bounds = np.concatenate(([0], rows.ends))
        for number, _, text in self.invalid:
            if not 0 < number <= starts.size:
                return False
            end = starts[number] if number < starts.size else rows.ends.size
            if data[bounds[starts[number - 1]] : bounds[end]].decode().rstrip("\r\n") != text:
                return False
        return True

    def _keep_invalid(self, row: pacsv.InvalidRow) -> str:
        self.invalid.append((row.number or 0, row.actual_columns, row.text))
        return "skip"

    def _row_by_row(self, block: _Block, rows: Rows, starts: np.ndarray) -> _Parsed:
        """Read each row of the block on its own with Python's csv module."""
        good: list[list[str]] = []
        ragged: list[str] = []
        bounds = np.concatenate(([0], rows.ends))
        for i, first in enumerate(starts.tolist()):
            last = starts[i + 1] if i + 1 < starts.size else rows.ends.size
            text = block.data[bounds[first] : bounds[last]].decode().rstrip("\r\n")
            fields = self._fields(text)
            if fields is not None and len(fields) == self.width:
                good.append(fields)
            else:
                self._ragged(block.first_line + first, len(fields) if fields else 1)
                ragged.append(text)
        return _Parsed(self._batch(good), ragged)

    def _broken(self, block: _Block) -> _Parsed:
        """A line whose quote never closed: its fields as Python's csv reads the line alone, or
        split at each delimiter (the quote taken as an ordinary character); else ragged text."""
        self.log.add(
            "open quote",
            f"{self.log.name} line {block.first_line}",
            N_(
                "a quoted field closed within {lines} lines, in a row of {fields} fields; "
                "found none: the quote was read as an ordinary character"
            ),
            lines=QUOTED_LINES_MAX,
            fields=self.width,
        )
        text = block.data.decode().rstrip("\r\n")
        # split at each delimiter, the quote that opened a field and never closed is dropped:
        # it is the damage, not the value ('"110105…' is the ID 110105…)
        split = [_unopened(f) for f in text.split(self.delimiter)]
        for fields in (self._fields(text), split):
            if fields is not None and len(fields) == self.width:
                return _Parsed(self._batch([fields]), [])
        self._ragged(block.first_line, len(text.split(self.delimiter)))
        return _Parsed([], [text])

    def _fields(self, text: str) -> list[str] | None:
        """The fields of one row's text, or None if it is not exactly one row."""
        lines = text.split("\n")
        try:
            records = list(
                csv.reader(
                    [line + "\n" for line in lines[:-1]] + lines[-1:],
                    delimiter=self.delimiter,
                    quoting=csv.QUOTE_MINIMAL if self.quoted else csv.QUOTE_NONE,
                )
            )
        except csv.Error:
            return None
        records = [r for r in records if r]
        return records[0] if len(records) == 1 else None

    def _batch(self, rows: list[list[str]]) -> list[pa.RecordBatch]:
        if not rows:
            return []
        columns = [pa.array(col, pa.string()) for col in zip(*rows, strict=True)]
        return [pa.RecordBatch.from_arrays(columns, names=self.names)]

    def _ragged(self, line: int, found: int) -> None:
        self.log.add(
            "ragged",
            f"{self.log.name} line {line}",
            N_("{fields} fields, found {found}; the row is scanned as free text"),
            fields=self.width,
            found=found,
        )


def _unopened(field: str) -> str:
    """A field without the quote that opened it when nothing closes it."""
    return field[1:] if field.startswith('"') and not field.endswith('"') else field


def _nonempty(data: bytes, ends: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """The row starts whose row is not an empty line (pyarrow reads no row from those)."""
    if starts.size == 0:
        return starts
    arr = np.frombuffer(data, np.uint8)
    begin = np.concatenate(([0], ends[:-1]))[starts]
    length = ends[starts] - begin
    last = arr[np.maximum(ends[starts] - 1, 0)]
    before = arr[np.maximum(ends[starts] - 2, 0)]
    empty = (length == 0) | ((length == 1) & ((last == 0x0A) | (last == 0x0D)))
    empty |= (length == 2) & (last == 0x0A) & (before == 0x0D)
    return starts[~empty]


def _blocks(
    chunks: Iterator[LineChunk],
    quoted: bool,
    layout: Layout,
    log: ProblemLog,
    first_line: int,
    skip: int,
) -> Iterator[_Block]:
    """Regroup line chunks into blocks of about CSV_BLOCK bytes that end between rows, after
    skipping ``skip`` lines (title and header).

    An over-long line becomes an empty line (so line numbers stay right) and is counted. Rows
    are found by ``quote_rows.settle``; a line whose quote never closes comes as a block of its
    own, marked broken."""
    line = first_line + skip  # number of the first line not yet in a block
    pending = b""  # lines not settled yet (a quoted field that may go on)
    gathered: list[bytes] = []
    size = 0
    for data in _lines_kept(chunks, log, skip):
        gathered.append(data)
        size += len(data)
        if size < CSV_BLOCK:
            continue
        data = pending + b"".join(gathered)
        gathered, size = [], 0
        rows = settle(data, final=False, quoted=quoted, layout=layout)
        end = int(rows.ends[rows.done - 1]) if rows.done else 0
        yield from _cut(data[:end], rows, line)
        line += rows.done
        pending = data[end:]
    data = pending + b"".join(gathered)
    if data:  # the data ended: settle the last rows for good
        yield from _cut(data, settle(data, final=True, quoted=quoted, layout=layout), line)


def _cut(data: bytes, rows: Rows, line: int) -> Iterator[_Block]:
    """The settled rows of ``data`` (from file line ``line``) as one block, or as the pieces
    between its broken lines and each broken line alone."""
    if not rows.broken:
        if rows.done:
            yield _Block(data, line, dataclasses.replace(rows, ends=rows.ends[: rows.done]))
        return
    bounds = [0, *rows.ends[: rows.done].tolist()]
    start = 0
    for b in [*rows.broken, rows.done]:
        if bounds[b] > bounds[start]:
            yield _Block(data[bounds[start] : bounds[b]], line + start)
        if b < rows.done:
            yield _Block(data[bounds[b] : bounds[b + 1]], line + b, broken=True)
        start = b + 1


def _lines_kept(chunks: Iterator[LineChunk], log: ProblemLog, skip: int) -> Iterator[bytes]:
    """The data of whole lines, less the first ``skip``; a line over TABLE_LINE_MAX becomes an
    empty line, counted as a skipped row."""
    for chunk in chunks:
        if chunk.piece:
            if not chunk.last:
                continue
            log.add(
                "long line",
                f"{log.name} line {chunk.first_line}",
                N_("rows under {limit} MB, found a line of {size:.0f} MB; skipped"),
                rows_skipped=1,
                limit=TABLE_LINE_MAX >> 20,
                size=chunk.length / 2**20,
            )
            data = b"\n"
        else:
            data = chunk.data
        while skip and data:
            cut = data.find(b"\n") + 1 or len(data)
            data = data[cut:]
            skip -= 1
        if data:
            yield data
