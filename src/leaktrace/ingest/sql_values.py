"""The rows of SQL INSERT tuples and PostgreSQL COPY blocks as Arrow string columns.

The parsing is done in C (``_sql.c``) over the dump's UTF-8 bytes: values are unescaped
straight into Arrow buffers, so no Python object is made per value."""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from leaktrace.ingest import _sql

MYSQL, POSTGRES = 0, 1  # how string literals are written: backslash escapes, or doubled quotes
END, MORE, OTHER, ERROR, FULL = range(5)  # why a parse stopped (see _sql.values)


@dataclass
class Rows:
    """What one call of the C parser gave: rows as columns, and where and why it stopped.

    ``bad`` holds the byte offset and width of each row left out for its width; ``stmt`` is the
    offset of the INSERT statement in progress (-1 once it lies before the buffer)."""

    state: int
    pos: int
    stmt: int
    width: int
    columns: list[pa.Array]
    bad: list[tuple[int, int]]

    @property
    def count(self) -> int:
        return len(self.columns[0]) if self.columns else 0


def insert_rows(
    buf: bytes,
    pos: int,
    dialect: int,
    *,
    head: bytes = b"",
    width: int = -1,
    fixed: bool = False,
    stmt: int = -1,
    max_rows: int = 1 << 62,
    final: bool = True,
) -> Rows:
    """The VALUES tuples from ``buf[pos:]``; statements that start with exactly ``head`` after
    a ';' continue them. ``width`` -1 takes the first row's; ``fixed`` says it is the table's."""
    return _rows(_sql.values(buf, pos, dialect, head, width, fixed, stmt, max_rows, final))


def copy_rows(
    buf: bytes, pos: int, *, width: int = -1, max_rows: int = 1 << 62, final: bool = True
) -> Rows:
    """The rows of a COPY … FROM stdin block from ``buf[pos:]`` up to its ``\\.`` line."""
    return _rows(_sql.copy(buf, pos, width, max_rows, final))


def _rows(raw: tuple) -> Rows:
    state, pos, stmt, width, count, columns, bad = raw
    arrays = [
        pa.Array.from_buffers(
            pa.string(),
            count,
            [pa.py_buffer(validity) if validity else None, pa.py_buffer(off), pa.py_buffer(data)],
            null_count=nulls,
        )
        for off, data, validity, nulls in columns
    ]
    return Rows(state, pos, stmt, width, arrays if count else [], bad)
