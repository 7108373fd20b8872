"""Read JSON arrays (streamed element by element) and JSON Lines as flattened string tables."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from leaktrace.errors import InputError
from leaktrace.ingest.files import ByteStream
from leaktrace.ingest.limits import BATCH_BYTES, BATCH_ROWS, JSON_VALUE_MAX, TABLE_LINE_MAX
from leaktrace.ingest.lines import line_chunks
from leaktrace.ingest.problems import ProblemLog
from leaktrace.ingest.source import Batch, Source, string_batch
from leaktrace.ingest.textbuf import TextWindow
from leaktrace.ingest.transcode import utf8_chunks

# Numbers keep their literal text: an 18-digit ID written as a JSON number stays exact.
_DECODER = json.JSONDecoder(parse_int=str, parse_float=str)
_WHITESPACE = re.compile(r"[ \t\r\n]*")
_NEXT_ELEMENT = re.compile(r"[}\]]\s*,\s*(?=[{\[])")


def flatten(value: Any) -> dict[str, str | None]:
    """One row from a JSON value: nested keys joined with '.', lists kept as JSON text.

    A top-level list becomes col_1..col_n; a scalar becomes the column ``value``."""
    if isinstance(value, list):
        return {f"col_{i + 1}": _cell(v) for i, v in enumerate(value)}
    if not isinstance(value, dict):
        return {"value": _cell(value)}
    row: dict[str, str | None] = {}
    _flatten_into(row, "", value)
    return row


def _flatten_into(row: dict[str, str | None], prefix: str, obj: dict[str, Any]) -> None:
    for key, v in obj.items():
        if isinstance(v, dict) and v:
            _flatten_into(row, f"{prefix}{key}.", v)
        else:
            row[f"{prefix}{key}"] = _cell(v)


def _cell(v: Any) -> str | None:
    if v is None or isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    return json.dumps(v, ensure_ascii=False)


class _Rows:
    """Gathers flattened rows into batches; a batch has every column seen so far in the file.

    Columns only grow while streaming, so a later batch may have columns an earlier one lacks."""

    def __init__(self, table: str) -> None:
        self.table = table
        self.columns: dict[str, None] = {}
        self.rows: list[dict[str, str | None]] = []
        self.size = 0
        self.next_row = 1

    def add(self, row: dict[str, str | None], size: int) -> None:
        self.columns.update(dict.fromkeys(row))
        self.rows.append(row)
        self.size += size

    def full(self) -> bool:
        return len(self.rows) >= BATCH_ROWS or self.size >= BATCH_BYTES

    def take(self, bytes_done: int) -> Iterator[Batch]:
        """Yield the gathered rows as one batch (nothing if none) and start afresh."""
        if not self.rows:
            return
        data = string_batch({c: [r.get(c) for r in self.rows] for c in self.columns})
        yield Batch(self.table, data, self.next_row, bytes_done)
        self.next_row += len(self.rows)
        self.rows, self.size = [], 0


def read_jsonl(source: Source, name: str, table: str) -> Iterator[Batch]:
    """Yield JSON Lines as rows; a line that is not one JSON value is skipped and counted."""
    assert source.encoding is not None
    log = ProblemLog(name, source.problems)
    stream = ByteStream(source.path, source.compression, log)
    rows = _Rows(table)
    try:
        for chunk in line_chunks(utf8_chunks(stream, source.encoding, log), TABLE_LINE_MAX):
            if chunk.piece:
                if chunk.last:
                    log.add(
                        "long line",
                        f"{name} line {chunk.first_line}",
                        f"lines under {TABLE_LINE_MAX >> 20} MB, found one of "
                        f"{chunk.length / 2**20:.0f} MB; skipped",
                        rows_skipped=1,
                    )
                continue
            for i, line in enumerate(chunk.data.decode().split("\n")):
                if not line.strip():
                    continue
                try:
                    value = _DECODER.decode(line)
                except ValueError:
                    log.add(
                        "json",
                        f"{name} line {chunk.first_line + i}",
                        "one JSON value per line; line skipped",
                        rows_skipped=1,
                    )
                    continue
                rows.add(flatten(value), len(line))
                if rows.full():
                    yield from rows.take(stream.bytes_done)
        yield from rows.take(stream.bytes_done)
    finally:
        stream.close()
        log.finish()


def read_json(source: Source, name: str, table: str) -> Iterator[Batch]:
    """Yield a JSON document's records: an array is streamed element by element; any other
    document (up to 64 MB) is read whole, each top-level list of objects becoming a table."""
    assert source.encoding is not None
    log = ProblemLog(name, source.problems)
    stream = ByteStream(source.path, source.compression, log)
    try:
        text = TextWindow(utf8_chunks(stream, source.encoding, log))
        text.skip(_WHITESPACE)
        if text.peek() == "[":
            text.pos += 1
            yield from _array(text, _Rows(table), log, stream)
        else:
            yield from _document(text, table, name, stream)
    finally:
        stream.close()
        log.finish()


def _array(text: TextWindow, rows: _Rows, log: ProblemLog, stream: ByteStream) -> Iterator[Batch]:
    """Stream the elements of a JSON array; a broken element is skipped up to the next one."""
    while True:
        text.skip(_WHITESPACE)
        head = text.peek()
        if head == "]":
            break
        if head == ",":
            text.pos += 1
            continue
        if not head:
            log.add(
                "json",
                f"{log.name} line {text.line(text.pos)}",
                "the array's closing ']'; the file ends early",
            )
            break
        try:
            value, end = _DECODER.raw_decode(text.buf, text.pos)
        except json.JSONDecodeError as exc:
            incomplete = exc.pos >= len(text.buf) - 2 or exc.msg.startswith("Unterminated")
            if incomplete and len(text.buf) - text.pos < JSON_VALUE_MAX and text.more():
                continue
            log.add(
                "json",
                f"{log.name} line {text.line(exc.pos)} column {exc.colno}",
                f"a JSON value ({exc.msg}); element skipped",
                rows_skipped=1,
            )
            if not _resync(text, exc.pos):
                break
            continue
        if end >= len(text.buf) and text.more():
            continue  # a number at the end of the window may go on in the next chunk
        rows.add(flatten(value), end - text.pos)
        text.pos = end
        if rows.full():
            yield from rows.take(stream.bytes_done)
    yield from rows.take(stream.bytes_done)


def _resync(text: TextWindow, start: int) -> bool:
    """Move to the next element after a broken one (after '},' or '],'); False if none is left."""
    while True:
        found = _NEXT_ELEMENT.search(text.buf, max(start, text.pos))
        if found:
            text.pos = found.end()
            return True
        if text.eof:
            return False
        text.pos = max(text.pos, len(text.buf) - 16)
        start = 0
        if not text.more():
            return False


def _document(text: TextWindow, table: str, name: str, stream: ByteStream) -> Iterator[Batch]:
    """Read a whole non-array JSON document (size-capped) and yield its tables."""
    while text.more():
        if len(text.buf) - text.pos > JSON_VALUE_MAX:
            raise InputError(
                name,
                f"a JSON array, JSON Lines, or a JSON document under {JSON_VALUE_MAX >> 20} MB",
                "a larger document that is not an array",
            )
    try:
        value = _DECODER.decode(text.buf[text.pos :])
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{name} line {text.line(text.pos) + exc.lineno - 1} column {exc.colno}",
            "valid JSON",
            exc.msg,
        ) from None
    lists = {
        key: v
        for key, v in (value.items() if isinstance(value, dict) else ())
        if isinstance(v, list) and v and all(isinstance(x, dict) for x in v)
    }
    groups = [(f"{table}:{key}", items) for key, items in lists.items()] or [(table, [value])]
    for group, items in groups:
        rows = _Rows(group)
        for item in items:
            rows.add(flatten(item), 0)
            if rows.full():
                yield from rows.take(stream.bytes_done)
        yield from rows.take(stream.bytes_done)
