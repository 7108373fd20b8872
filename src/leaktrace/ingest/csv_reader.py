"""Read delimited text (CSV, TSV, | or ; separated) with pyarrow's CSV parser, all columns as strings."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import pyarrow as pa
import pyarrow.csv as pacsv

from leaktrace.ingest.files import ByteStream
from leaktrace.ingest.limits import BATCH_ROWS, CSV_BLOCK, QUOTED_ROW_MAX, TABLE_LINE_MAX
from leaktrace.ingest.lines import LineChunk, line_chunks
from leaktrace.ingest.problems import ProblemLog
from leaktrace.ingest.sniff import TableDialect
from leaktrace.ingest.source import Batch, Source
from leaktrace.ingest.transcode import utf8_chunks


def read_csv(source: Source, name: str, table: str) -> Iterator[Batch]:
    """Yield the rows of a delimited file as string batches; ragged rows are skipped and counted.

    The bytes are transcoded to UTF-8 and cut into blocks of whole rows here, so encoding
    errors, over-long lines and unclosed quotes are counted with their line numbers; each block
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
            f"{name} lines 1-{dialect.preamble}",
            "table rows; found title lines above the table, skipped",
        )
    if dialect.has_header and dialect.header_fields != len(names) and at_start:
        log.add(
            "header",
            f"{name} line {dialect.preamble + 1}",
            f"a header with one name per field; it has {dialect.header_fields} names "
            f"but rows have {len(names)} fields (unnamed columns are col_N)",
        )
    parse = _Parser(names, dialect, log)
    row = part.first_row if part else 1
    first_line = part.first_line if part else 1
    try:
        # Parse block k (pyarrow, without the GIL) while the next block is transcoded and cut.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="leaktrace-csv") as worker:
            ahead: Future[list[pa.RecordBatch]] | None = None
            skip = dialect.skip_lines if at_start else 0
            chunks = utf8_chunks(stream, source.encoding, log, first_line)
            lines = line_chunks(chunks, TABLE_LINE_MAX, first_line)
            for block, block_line in _blocks(lines, dialect.quoted, log, first_line):
                job = worker.submit(parse, block, block_line, skip)
                skip = 0
                if ahead is not None:
                    for batch in ahead.result():
                        yield Batch(table, batch, row, stream.bytes_done)
                        row += batch.num_rows
                ahead = job
            for batch in ahead.result() if ahead is not None else ():
                yield Batch(table, batch, row, stream.bytes_done)
                row += batch.num_rows
    finally:
        stream.close()
        log.finish()


class _Parser:
    """Parses one block of whole rows with pyarrow; the block's first line number is added to
    pyarrow's row numbers so skipped rows are reported by their line in the file."""

    def __init__(self, names: list[str], dialect: TableDialect, log: ProblemLog) -> None:
        self.names = names
        self.log = log
        self.first_line = 1
        self.quoted = dialect.quoted
        self.block = b""
        self.cursor = (1, 0, 0, 0)  # (row, byte offset of its start, lines before, quotes)
        self.parse_options = pacsv.ParseOptions(
            delimiter=dialect.delimiter,
            quote_char='"' if dialect.quoted else False,
            double_quote=True,
            newlines_in_values=dialect.quoted,
            invalid_row_handler=self._skip_ragged,
        )
        self.convert_options = pacsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()),
            check_utf8=False,  # already validated while transcoding
            strings_can_be_null=False,
        )

    def __call__(self, block: bytes, first_line: int, skip: int) -> list[pa.RecordBatch]:
        self.first_line = first_line
        self.block, self.cursor = block, (1, 0, 0, 0)
        read_options = pacsv.ReadOptions(
            use_threads=False,
            block_size=len(block) + 1,  # one block: rows never straddle blocks
            column_names=self.names,
            skip_rows=skip,
        )
        try:
            parsed = pacsv.read_csv(
                pa.BufferReader(block),
                read_options=read_options,
                parse_options=self.parse_options,
                convert_options=self.convert_options,
            )
        except pa.ArrowInvalid as exc:
            if "Empty CSV file" not in str(exc):
                count = block.count(b"\n") or 1
                self.log.add(
                    "block",
                    f"{self.log.name} lines {first_line}-{first_line + count - 1}",
                    "rows the CSV parser accepts; these lines were skipped",
                    rows_skipped=count - skip,
                )
            return []
        batches = parsed.combine_chunks().to_batches(max_chunksize=BATCH_ROWS)
        return [batch for batch in batches if batch.num_rows]

    def _line_of(self, number: int) -> int:
        """The line on which the block's row ``number`` (pyarrow's, from 1) starts: rows with
        quoted newlines span several lines, so they are walked, from where the last one was."""
        if not self.quoted:
            return self.first_line + number - 1
        row, pos, lines, quotes = self.cursor
        block = self.block
        while row < number:
            newline = block.find(b"\n", pos)
            if newline < 0:
                break
            quotes += block.count(b'"', pos, newline)
            lines += 1
            pos = newline + 1
            if quotes % 2 == 0:
                row += 1
        self.cursor = (row, pos, lines, quotes)
        return self.first_line + lines

    def _skip_ragged(self, row: pacsv.InvalidRow) -> str:
        place = self.log.name
        if row.number is not None:
            place += f" line {self._line_of(row.number)}"
        self.log.add(
            "ragged",
            place,
            f"{row.expected_columns} fields, found {row.actual_columns}; row skipped",
            rows_skipped=1,
        )
        return "skip"


def _blocks(
    chunks: Iterator[LineChunk], quoted: bool, log: ProblemLog, first_line: int = 1
) -> Iterator[tuple[bytes, int]]:
    """Regroup line chunks into blocks of about CSV_BLOCK bytes that end between rows.

    An over-long line becomes an empty line (so line numbers stay right) and is counted. With
    quoting, a block ends only after a newline preceded by an even number of quotes, so quoted
    newlines stay inside their row; a quote left open over QUOTED_ROW_MAX is skipped, counted."""
    parts: list[bytes] = []
    size = 0
    lines = 0  # newlines in parts
    pending = b""  # the start of a row whose quoted field goes on
    # first_line: line number of the block's first line
    for chunk in chunks:
        if chunk.piece:
            if not chunk.last:
                continue
            log.add(
                "long line",
                f"{log.name} line {chunk.first_line}",
                f"rows under {TABLE_LINE_MAX >> 20} MB, found a line of "
                f"{chunk.length / 2**20:.0f} MB; skipped",
                rows_skipped=1,
            )
            data = b"\n"
        else:
            data = chunk.data
        if quoted:
            data = pending + data
            cut = _even_quote_cut(data)
            data, pending = data[:cut], data[cut:]
            if len(pending) > QUOTED_ROW_MAX:
                skipped = pending.count(b"\n")
                start = first_line + lines + data.count(b"\n")
                log.add(
                    "open quote",
                    f"{log.name} line {start}",
                    f"a closing quote within {QUOTED_ROW_MAX >> 20} MB; {skipped} lines skipped",
                    rows_skipped=1,
                )
                data += b"\n" * skipped  # keeps line numbers; empty lines are no rows
                pending = pending[pending.rfind(b"\n") + 1 :]
        parts.append(data)
        size += len(data)
        lines += data.count(b"\n")
        if size >= CSV_BLOCK:
            yield b"".join(parts), first_line
            first_line += lines
            parts, size, lines = [], 0, 0
    parts.append(pending)
    if any(parts):
        yield b"".join(parts), first_line


def _even_quote_cut(data: bytes) -> int:
    """Index after the last newline that has an even number of quotes before it (0 if none)."""
    quotes = data.count(b'"')
    end = len(data)
    while (newline := data.rfind(b"\n", 0, end)) >= 0:
        quotes -= data.count(b'"', newline + 1, end)
        if quotes % 2 == 0:
            return newline + 1
        end = newline
    return 0
