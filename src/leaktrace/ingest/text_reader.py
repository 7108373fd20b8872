"""Read plain text, forum posts and HTML as batches of lines (one column ``text``)."""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa
import pyarrow.compute as pc

from leaktrace.i18n import N_
from leaktrace.ingest.files import ByteStream
from leaktrace.ingest.html_text import html_text
from leaktrace.ingest.limits import BATCH_ROWS, PIECE_OVERLAP, TEXT_LINE_MAX
from leaktrace.ingest.lines import LineChunk, line_chunks
from leaktrace.ingest.problems import ProblemLog
from leaktrace.ingest.source import Batch, Source
from leaktrace.ingest.transcode import utf8_chunks


def read_text(source: Source, name: str, table: str, html: bool) -> Iterator[Batch]:
    """Yield the lines of a text (or of HTML's visible text), a line per row, ``first_row`` = line number.

    A line over 1 MiB comes as several one-row batches with the same line number, so a
    single 1 GB line streams in bounded memory; the pieces overlap by PIECE_OVERLAP bytes, so
    a value cut by one piece's end is whole in a neighbour (``Batch.own`` says whose it is)."""
    assert source.encoding is not None
    log = ProblemLog(name, source.problems)
    part = source.part
    first_line = part.first_line if part else 1
    stream = ByteStream(
        source.path, source.compression, log, (part.start, part.end) if part else None
    )
    try:
        chunks = utf8_chunks(stream, source.encoding, log, first_line)
        text = html_text(chunks) if html else chunks
        for chunk in line_chunks(text, TEXT_LINE_MAX, first_line, PIECE_OVERLAP):
            if chunk.piece:
                if chunk.data:
                    yield Batch(
                        table,
                        _lines_batch(pa.array([chunk.data], pa.binary())),
                        chunk.first_line,
                        stream.bytes_done,
                        own=_own_chars(chunk),
                    )
                if chunk.last:
                    log.add(
                        "long line",
                        f"{name} line {chunk.first_line}",
                        N_("lines under {limit} MiB; line is {size:.1f} MB long; read in pieces"),
                        limit=TEXT_LINE_MAX >> 20,
                        size=chunk.length / 2**20,
                    )
                continue
            data = chunk.data[:-1] if chunk.data.endswith(b"\n") else chunk.data
            lines = pc.split_pattern(pa.array([data], pa.binary()), b"\n").flatten()
            batch = _lines_batch(lines)
            for start in range(0, batch.num_rows, BATCH_ROWS):
                yield Batch(
                    table,
                    batch.slice(start, BATCH_ROWS),
                    chunk.first_line + start,
                    stream.bytes_done,
                )
    finally:
        stream.close()
        log.finish()


def _lines_batch(lines: pa.Array) -> pa.RecordBatch:
    """A one-column ``text`` batch of UTF-8 lines (binary), carriage returns at line ends removed."""
    text = lines.cast(pa.string())
    return pa.RecordBatch.from_arrays([pc.utf8_rtrim(text, characters="\r")], names=["text"])


def _own_chars(piece: LineChunk) -> tuple[int, int]:
    """The characters of a piece that are its own, not its neighbours' overlap: [start, end)."""
    start = len(piece.data[: piece.lead].decode("utf-8"))
    own = piece.data[piece.lead : len(piece.data) - piece.ahead]
    return start, start + len(own.decode("utf-8"))
