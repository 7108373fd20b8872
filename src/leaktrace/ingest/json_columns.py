"""Build a string table from many flat-or-nested JSON records at once, in Arrow (the fast path);
None where only the record-by-record flattening gives the right cells."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.json as pj

_AS_TEXT = (pa.types.is_string, pa.types.is_integer, pa.types.is_boolean, pa.types.is_null)
_DATES = (pa.types.is_timestamp, pa.types.is_date, pa.types.is_time)
# Arrow's JSON parser recurses: a line with more opening brackets than this is not given to it.
_ARROW_BRACKETS = 256


def lines_table(data: bytes, text_fields: set[str]) -> pa.Table | None:
    """Whole JSON Lines ``data`` (UTF-8) read by Arrow's JSON reader as ``records_table``
    would give them; None where that needs the record-by-record path. Fields Arrow takes for
    dates are read again as text, and added to ``text_fields`` for the next call."""
    if not data.strip() or not _arrow_safe(data):
        return None
    read = pj.ReadOptions(use_threads=False, block_size=len(data) + 1)
    order: list[str] = []  # the fields in the order the data has them
    while True:
        parse = pj.ParseOptions(
            explicit_schema=pa.schema([(f, pa.string()) for f in sorted(text_fields)]),
            unexpected_field_behavior="infer",
        )
        try:
            table = pj.read_json(pa.py_buffer(data), read_options=read, parse_options=parse)
        except pa.ArrowException:
            return None
        order = order or table.column_names
        dates = {f.name for f in table.schema if any(test(f.type) for test in _DATES)}
        if not dates:
            table = table.select([*order, *(c for c in table.column_names if c not in order)])
            return string_columns(table)
        text_fields |= dates


def _arrow_safe(data: bytes) -> bool:
    """Whether Arrow's JSON parser, which recurses, may be given ``data``: every line opens
    an object ('{' first) and ends with a closing bracket (before a '\\r'), so no value it
    parses goes on past its line (a '{' cannot follow a value inside an open one), and no
    line holds more than _ARROW_BRACKETS opening brackets, which bounds the nesting."""
    codes = np.frombuffer(data, np.uint8)
    body = codes[:-1] if codes[-1] == 0x0A else codes
    if not len(body) or body[0] != 0x7B or body[-1] == 0x0A:
        return False
    breaks = np.flatnonzero(body == 0x0A)
    if not (body[breaks + 1] == 0x7B).all():
        return False
    last = np.append(breaks - 1, len(body) - 1)  # each line's last byte
    last -= body[last] == 0x0D
    if not ((body[last] == 0x7D) | (body[last] == 0x5D)).all():
        return False
    opens = np.flatnonzero((codes == 0x7B) | (codes == 0x5B))
    if len(opens) <= _ARROW_BRACKETS:
        return True
    return int(np.bincount(np.searchsorted(breaks, opens)).max()) <= _ARROW_BRACKETS


def records_table(values: list[Any]) -> pa.Table | None:
    """The records ``values`` (decoded JSON objects) as string columns named as ``flatten``
    names them; None if some value is not an object or holds a list or a non-integer number
    kept as text (those need the record-by-record path)."""
    try:
        array = pa.array(values)
    except (pa.ArrowException, OverflowError, TypeError, ValueError):
        return None
    if not pa.types.is_struct(array.type):
        return None
    return string_columns(pa.Table.from_struct_array(array))


def string_columns(table: pa.Table) -> pa.Table | None:
    """``table`` with nested objects flattened (``a.b``) and integers and booleans as their
    text; None if a column holds anything else (lists, floats, dates), names repeat or none
    are left (records without fields need the record-by-record path)."""
    while any(pa.types.is_struct(t) for t in table.schema.types):
        table = table.flatten()
    names = table.column_names
    if not names or len(set(names)) != len(names):
        return None
    columns = []
    for column in table.columns:
        if not any(test(column.type) for test in _AS_TEXT):
            return None
        columns.append(column if pa.types.is_string(column.type) else column.cast(pa.string()))
    return pa.Table.from_arrays(columns, names=names)
