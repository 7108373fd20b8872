"""Read JSON and JSON Lines as flattened string tables: arrays and API envelopes streamed record
by record, at any nesting depth, broken records skipped and counted."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pyarrow as pa

from leaktrace.errors import Verbatim
from leaktrace.i18n import N_
from leaktrace.ingest.files import ByteStream
from leaktrace.ingest.json_columns import lines_table, records_table
from leaktrace.ingest.json_parse import decode_array, decode_bytes, decode_lines, raw_decode
from leaktrace.ingest.json_records import envelope_key, find_records, flatten
from leaktrace.ingest.limits import (
    BATCH_BYTES,
    BATCH_ROWS,
    CHUNK,
    JSON_VALUE_MAX,
    TABLE_LINE_MAX,
)
from leaktrace.ingest.lines import line_chunks
from leaktrace.ingest.problems import ProblemLog
from leaktrace.ingest.source import Batch, Source, string_batch
from leaktrace.ingest.textbuf import TextWindow
from leaktrace.ingest.transcode import utf8_chunks

_WHITESPACE = re.compile(r"[ \t\r\n]*")
_NEXT_ELEMENT = re.compile(r"[}\]]\s*,\s*(?=[{\[])")
_ELEMENT_END = re.compile(r"[}\]][ \t\r\n]*,")
_WINDOW = CHUNK  # characters of an array's elements decoded at once
_TAIL = 1 << 16  # an element's end is looked for in the window's last characters
_OPENING = re.compile(rb'\{[ \t\r\n]*"(?:[^"\\]|\\.)*"[ \t\r\n]*:')  # an object up to its first key
# A JSON document up to this size is decoded whole; a larger object is walked as a stream.
_WHOLE_MAX = TABLE_LINE_MAX


class _Rows:
    """Gathers flattened rows of one table into batches; a batch has every column seen so far.

    Columns only grow while streaming, so a later batch may have columns an earlier one lacks."""

    def __init__(self, table: str, first_row: int) -> None:
        self.table = table
        self.columns: dict[str, None] = {}
        self.rows: list[dict[str, str | None]] = []
        self.next_row = first_row

    def add(self, row: dict[str, str | None]) -> None:
        if len(row) != len(self.columns) or not self.columns.keys() >= row.keys():
            self.columns.update(dict.fromkeys(row))
        self.rows.append(row)

    def take(self, bytes_done: int) -> Iterator[Batch]:
        """Yield the gathered rows as one batch (nothing if none) and start afresh."""
        if not self.rows:
            return
        columns = {c: [r.get(c) for r in self.rows] for c in self.columns}
        try:
            data = string_batch(columns)
        except UnicodeEncodeError:  # a lone surrogate escape ("\ud800") has no UTF-8 form
            data = string_batch({_utf8(c): [_utf8(v) for v in vs] for c, vs in columns.items()})
        yield Batch(self.table, data, self.next_row, bytes_done)
        self.next_row += len(self.rows)
        self.rows = []


def _utf8(value: str | None) -> str | None:
    """``value`` with what UTF-8 cannot hold (lone surrogates) replaced by '?'."""
    return value if value is None else value.encode("utf-8", "replace").decode()


class _Tables:
    """The tables a JSON input's records go to: the file's own (``stem``) and, for API
    envelopes, one per path to a list of records (``stem:data.list[]``)."""

    def __init__(self, table: str, first_row: int) -> None:
        self.table = table
        self.first_row = first_row
        self.tables: dict[str, _Rows] = {}
        self.rows = 0
        self.size = 0  # input characters gathered since the last batch (about)
        self.text_fields: set[str] = set()  # read as text, not as the dates Arrow takes them for

    def get(self, path: str) -> _Rows:
        table = f"{self.table}:{path}" if path else self.table
        if table not in self.tables:
            self.tables[table] = _Rows(table, self.first_row)
        return self.tables[table]

    def add(self, rows: _Rows, value: Any) -> None:
        rows.add(flatten(value))
        self.rows += 1

    def add_value(self, value: Any) -> None:
        """A whole decoded value: the records of an envelope, else one record."""
        found = find_records(value) if isinstance(value, dict) else None
        for path, items in found or [("", [value])]:
            rows = self.get(path)
            for item in items:
                self.add(rows, item)

    def add_values(
        self, values: list[Any], path: str, envelopes: bool, bytes_done: int
    ) -> Iterator[Batch]:
        """Many values from the fast decoder (so not nested deeper than Arrow can take), records
        of ``path``: as one Arrow table when they are plain records, else one by one (with
        ``envelopes``, each may be an envelope of records)."""
        table = records_table(values)
        if table is not None:
            yield from self.add_table(table, path, bytes_done)
            return
        rows = self.get(path)
        for value in values:
            if envelopes:
                self.add_value(value)
            else:
                self.add(rows, value)

    def add_table(self, table: pa.Table, path: str, bytes_done: int) -> Iterator[Batch]:
        """Records already in a string table: passed on after the rows gathered before, with
        every column seen so far (so that batches of the same columns can be merged)."""
        rows = self.get(path)
        yield from rows.take(bytes_done)
        rows.columns.update(dict.fromkeys(table.column_names))
        have, n = set(table.column_names), table.num_rows
        table = pa.table(
            {c: table[c] if c in have else pa.nulls(n, pa.string()) for c in rows.columns}
        )
        for data in table.combine_chunks().to_batches():
            yield Batch(rows.table, data, rows.next_row, bytes_done)
            rows.next_row += data.num_rows

    def full(self) -> bool:
        return self.rows >= BATCH_ROWS or self.size >= BATCH_BYTES

    def take(self, bytes_done: int) -> Iterator[Batch]:
        for rows in self.tables.values():
            yield from rows.take(bytes_done)
        self.rows = self.size = 0


def read_jsonl(source: Source, name: str, table: str) -> Iterator[Batch]:
    """Yield JSON Lines as rows (an envelope on a line gives its records); a line that is not
    one JSON value is skipped and counted. Reads ``source.part`` only, if set."""
    assert source.encoding is not None
    part = source.part
    first_line = part.first_line if part else 1
    log = ProblemLog(name, source.problems)
    stream = ByteStream(
        source.path, source.compression, log, (part.start, part.end) if part else None
    )
    tables = _Tables(table, part.first_row if part else 1)
    chunks = utf8_chunks(stream, source.encoding, log, first_line)
    try:
        for chunk in line_chunks(chunks, TABLE_LINE_MAX, first_line):
            if chunk.piece:
                if chunk.last:
                    log.add(
                        "long line",
                        f"{name} line {chunk.first_line}",
                        N_("lines under {limit} MB, found one of {size:.0f} MB; skipped"),
                        rows_skipped=1,
                        limit=TABLE_LINE_MAX >> 20,
                        size=chunk.length / 2**20,
                    )
                continue
            fast = lines_table(chunk.data, tables.text_fields)
            if fast is not None:
                yield from tables.add_table(fast, "", stream.bytes_done)
            else:
                values = decode_lines(chunk.data)
                if values is not None:
                    yield from tables.add_values(values, "", True, stream.bytes_done)
                else:  # some line is broken (or nested too deep for the fast decoders)
                    for value in _line_values(chunk.data, chunk.first_line, log):
                        tables.add_value(value)
            tables.size += len(chunk.data)
            if tables.full():
                yield from tables.take(stream.bytes_done)
        yield from tables.take(stream.bytes_done)
    finally:
        stream.close()
        log.finish()


def _line_values(data: bytes, first_line: int, log: ProblemLog) -> Iterator[Any]:
    """The values of whole lines, one by one; a line that is not one JSON value is counted."""
    for i, line in enumerate(data.split(b"\n")):
        if not line.strip():
            continue
        try:
            yield decode_bytes(line)
        except ValueError:
            log.add(
                "json",
                f"{log.name} line {first_line + i}",
                N_("one JSON value per line; line skipped"),
                rows_skipped=1,
            )


def read_json(source: Source, name: str, table: str) -> Iterator[Batch]:
    """Yield a JSON document's records. A top-level array is streamed element by element;
    an object is an API envelope whose lists of records are streamed, or else one record.
    Reads ``source.part`` only, if set: a range of a top-level array's elements."""
    assert source.encoding is not None
    part = source.part
    log = ProblemLog(name, source.problems)
    stream = ByteStream(
        source.path, source.compression, log, (part.start, part.end) if part else None
    )
    tables = _Tables(table, part.first_row if part else 1)
    chunks = utf8_chunks(stream, source.encoding, log, part.first_line if part else 1)
    try:
        text = TextWindow(chunks, part.first_line if part else 1)
        closed = part is None or part.end == source.size  # the array's ']' is in the range
        if part is not None and part.start > 0:  # elements from the middle of an array
            yield from _array(text, tables, "", log, stream, closed)
            text.skip(_WHITESPACE)
            if text.peek():
                log.add(
                    "json",
                    f"{name} line {text.line(text.pos)}",
                    N_("elements of the array up to the end of the range; found its end early"),
                )
        else:
            yield from _documents(text, tables, log, stream, closed)
        yield from tables.take(stream.bytes_done)
    finally:
        stream.close()
        log.finish()


def _documents(
    text: TextWindow, tables: _Tables, log: ProblemLog, stream: ByteStream, closed: bool
) -> Iterator[Batch]:
    """Read the JSON values of the input one after the other (usually one document).
    ``closed``: the input is whole (not the first range of an array)."""
    while True:
        text.skip(_WHITESPACE)
        head = text.peek()
        if not head:
            return
        if head == "[":
            text.pos += 1
            yield from _array(text, tables, "", log, stream, closed)
            continue
        text.ensure(_WHOLE_MAX)
        start = text.pos
        window = text.buf[start : start + _WHOLE_MAX]
        try:
            value, end = raw_decode(window, 0)
        except json.JSONDecodeError as exc:
            cut_off = exc.pos >= len(window) - 2 or exc.msg.startswith("Unterminated")
            if head == "{" and cut_off and len(window) == _WHOLE_MAX:
                yield from _walk(text, tables, log, stream)  # too large to decode whole
                continue
            log.add(
                "json",
                f"{log.name} line {text.line(start + exc.pos)}",
                N_("a JSON value ({error}); the rest of the file is skipped"),
                rows_skipped=1,
                error=Verbatim(exc.msg),
            )
            return
        end += start
        text.pos = end
        tables.add_value(value)
        tables.size += end - start
        if tables.full():
            yield from tables.take(stream.bytes_done)


def _next_value(text: TextWindow) -> tuple[Any, int]:
    """Decode the value at ``pos`` (reading more while it is cut off by the window's end, up
    to JSON_VALUE_MAX); its end. Raises json.JSONDecodeError if it is broken."""
    while True:
        try:
            value, end = raw_decode(text.buf, text.pos)
        except json.JSONDecodeError as exc:
            incomplete = exc.pos >= len(text.buf) - 2 or exc.msg.startswith("Unterminated")
            if incomplete and len(text.buf) - text.pos < JSON_VALUE_MAX and text.more():
                continue
            raise
        if end >= len(text.buf) and text.more():
            continue  # a number at the end of the window may go on in the next chunk
        return value, end


def _array(
    text: TextWindow,
    tables: _Tables,
    path: str,
    log: ProblemLog,
    stream: ByteStream,
    closed: bool,
) -> Iterator[Batch]:
    """Stream the elements of a JSON array (after its '[') as records of ``path``, up to and
    past its ']'; a broken element is skipped up to the next one. ``closed``: the input holds
    the closing ']' (a range from the middle of an array may end without it)."""
    rows = tables.get(path)
    slow = 0  # characters to read element by element (after a window that did not decode)
    while True:
        text.skip(_WHITESPACE)
        head = text.peek()
        if head in ("{", "[") and slow <= 0:
            start = text.pos
            found = _elements(text, tables.text_fields)
            if isinstance(found, pa.Table):
                yield from tables.add_table(found, path, stream.bytes_done)
            elif found is not None:
                yield from tables.add_values(found, path, False, stream.bytes_done)
            if found is not None:
                tables.size += text.pos - start
                if tables.full():
                    yield from tables.take(stream.bytes_done)
                continue
            slow = _WINDOW
        if head == "]":
            text.pos += 1
            return
        if head == ",":
            text.pos += 1
            continue
        if not head:
            if closed:
                log.add(
                    "json",
                    f"{log.name} line {text.line(text.pos)}",
                    N_("the array's closing ']'; the file ends early"),
                )
            return
        try:
            value, end = _next_value(text)
        except json.JSONDecodeError as exc:
            log.add(
                "json",
                f"{log.name} line {text.line(exc.pos)} column {exc.colno}",
                N_("a JSON value ({error}); element skipped"),
                rows_skipped=1,
                error=Verbatim(exc.msg),
            )
            if not _resync(text, exc.pos):
                text.pos = len(text.buf)  # nothing readable is left
                return
            continue
        tables.add(rows, value)
        tables.size += end - text.pos
        slow -= end - text.pos
        text.pos = end
        if tables.full():
            yield from tables.take(stream.bytes_done)


def _elements(text: TextWindow, text_fields: set[str]) -> pa.Table | list[Any] | None:
    """The whole elements in the window from ``pos`` (an element's start) up to the last one
    followed by a comma, read at once, with ``pos`` moved past that comma: as a string table
    when Arrow reads them as lines (each element put on a line of its own), else decoded;
    None if there are none or they do not decode (then elements are read one by one).

    Sound: a cut inside a string or a nested value leaves some line, or the window, not
    one whole JSON value, so it does not read. Elements laid out on several lines each
    (pretty-printed) are first put on one line each: Arrow's reader takes a value a line."""
    text.ensure(_WINDOW)
    buf, pos = text.buf, text.pos
    last = None
    for last in _ELEMENT_END.finditer(buf, max(pos, len(buf) - _TAIL)):  # noqa: B007
        pass
    if last is None:
        return None
    data = buf[pos : last.start() + 1].encode()
    lines = _one_per_line(data)
    if lines is None and b"\n" in data:
        # Elements laid out on several lines (pretty-printed): a line break in JSON is only
        # ever whitespace between tokens, where a space does as well.
        lines = _one_per_line(data.translate(_BREAKS_TO_SPACES))
    table = lines_table(lines, text_fields) if lines is not None else None
    found = table if table is not None else decode_array(b"[" + data + b"]")
    if found is not None:
        text.pos = last.end()
    return found


_BREAKS_TO_SPACES = bytes.maketrans(b"\r\n", b"  ")


def _one_per_line(data: bytes) -> bytes | None:
    """The elements in ``data`` each on a line of its own, cut where one opens as the first
    does (the layout between the first two: compact, or one per line); None where the cuts
    do not give one element a line (then the elements are decoded)."""
    opening = _OPENING.match(data)
    between = opening and re.search(rb"[}\]][ \t\r\n]*,[ \t\r\n]*" + re.escape(opening[0]), data)
    if not between:
        return None
    cuts = data.count(between[0])
    lines = data.replace(between[0], between[0][:1] + b"\n" + opening[0])
    return lines if lines.count(b"\n") == cuts else None


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


def _walk(
    text: TextWindow, tables: _Tables, log: ProblemLog, stream: ByteStream
) -> Iterator[Batch]:
    """Stream one large JSON object (at '{') as an API envelope: each array of objects in it
    is streamed as records of its path; its other fields are gathered and, unless they are all
    the envelope's own (code, msg, total…) while records were found, make one more record."""
    text.pos += 1
    prefixes = [""]  # the paths of the objects open here
    fields: dict[str, Any] = {}  # the envelope's other fields, by path
    size = 0
    own = True  # every field so far is an envelope's own
    found = False
    while prefixes:
        text.skip(_WHITESPACE)
        head = text.peek()
        if not head:
            log.add(
                "json",
                f"{log.name} line {text.line(text.pos)}",
                N_("the object's closing '}'; the file ends early"),
            )
            break
        if head in ("}", ","):
            text.pos += 1
            if head == "}":
                prefixes.pop()
            continue
        try:
            key, text.pos = _next_value(text)
            text.skip(_WHITESPACE)
            if not isinstance(key, str) or text.peek() != ":":
                raise json.JSONDecodeError("Expecting a key and ':'", text.buf, text.pos)
            text.pos += 1
            text.skip(_WHITESPACE)
            path = prefixes[-1] + key
            head = text.peek()
            if head == "{" and text.peek_past(_WHITESPACE, 1) != "}":
                text.pos += 1
                prefixes.append(path + ".")
                continue
            if head == "[" and text.peek_past(_WHITESPACE, 1) in ("{", "["):
                text.pos += 1
                found = True
                yield from _array(text, tables, path + "[]", log, stream, closed=True)
                continue
            value, text.pos = _next_value(text)
        except json.JSONDecodeError as exc:
            log.add(
                "json",
                f"{log.name} line {text.line(min(exc.pos, len(text.buf)))}",
                N_("a JSON object ({error}); the rest of the file is skipped"),
                error=Verbatim(exc.msg),
            )
            while text.more():  # to the end, so that nothing more is read
                text.pos = len(text.buf)
            text.pos = len(text.buf)
            break
        fields[path] = value
        own = own and envelope_key(key)
        size += len(key) + len(str(value))
        if size >= BATCH_BYTES:  # a huge object of fields: a record every so many
            tables.add(tables.get(""), fields)
            fields, size, own = {}, 0, False
    if fields and (not own or not found):
        tables.add(tables.get(""), fields)
