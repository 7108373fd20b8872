"""Where the rows of a quoted delimited file begin and end, as a careful reader sees them.

A row ends at a newline preceded by an even number of double quotes. A line that leaves a quote
open starts a row spanning lines; if no later line closes it within ``QUOTED_LINES_MAX`` lines
(or before the data ends), the quote is taken for an ordinary character: that line is a row of
its own ("broken") and reading goes on from the next line as if the quote had not been there.
A quote that closes within the limit is still taken as broken when the row it makes has not
the table's number of fields: a quote opened by mistake pairs with the next real multi-line
field, and the rows between are not one row. The reader and the splitter both use these rules, so a file read whole and one read in byte
ranges agree on every row, however damaged its quoting."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

QUOTED_LINES_MAX = 16
"""Lines one quoted row may span. Addresses and remarks of a few lines stay far below it; a
quote opened by mistake is found within it, so it costs one row, never the rest of the file."""


@dataclass(frozen=True)
class Layout:
    """What a whole row looks like: ``fields`` fields, separated by the byte ``delimiter``
    (None when rows cannot be judged by their bytes, as "|" inside GBK characters)."""

    delimiter: bytes | None = None
    fields: int = 0

    def fits(self, row: bytes) -> bool:
        """Whether ``row`` has the table's number of fields (delimiters outside quotes)."""
        if self.delimiter is None:
            return True
        outside = row.split(b'"')[::2]
        return 1 + sum(part.count(self.delimiter) for part in outside) == self.fields


@dataclass(frozen=True)
class Rows:
    """How the lines of some data group into rows."""

    ends: np.ndarray  # byte offset just after each line (its newline included)
    done: int  # lines settled; later lines wait for more data to decide
    broken: list[int]  # lines (indexes) holding a quote that never closed: each a row alone
    spans: list[tuple[int, int]]  # (first, last) line of each row that spans several lines

    def starts(self) -> np.ndarray:
        """Indexes of the settled lines that begin a row (the lines in a span's tail do not)."""
        begins = np.ones(self.done, dtype=bool)
        for first, last in self.spans:
            begins[first + 1 : last + 1] = False
        return np.flatnonzero(begins)


def settle(data: bytes, final: bool, quoted: bool = True, layout: Layout = Layout()) -> Rows:
    """Group the lines of ``data`` (which starts at a row start) into rows; without ``quoted``
    each line is a row.

    Without ``final`` the last line counted is the last one ending in a newline, and a quote
    still open near the end is left unsettled; with it, the data ends the file (or range).
    ``layout`` tells rows of the table's shape (see the module's rules)."""
    arr = np.frombuffer(data, np.uint8)
    ends = np.flatnonzero(arr == 0x0A) + 1
    if final and arr.size and (ends.size == 0 or ends[-1] != arr.size):
        ends = np.append(ends, arr.size)
    quotes = np.flatnonzero(arr == 0x22) if quoted else np.empty(0, np.int64)
    if quotes.size == 0:
        return Rows(ends, int(ends.size), [], [])
    quotes = quotes[quotes < (ends[-1] if ends.size else 0)]
    per_line = np.bincount(np.searchsorted(ends, quotes, side="right"), minlength=ends.size)
    odd = np.flatnonzero(per_line & 1).tolist()
    lines = int(ends.size)
    broken: list[int] = []
    spans: list[tuple[int, int]] = []
    k = 0
    while k < len(odd):
        first = odd[k]
        last = odd[k + 1] if k + 1 < len(odd) else lines
        if last < lines and last - first < QUOTED_LINES_MAX:
            if layout.fits(data[ends[first - 1] if first else 0 : ends[last]]):
                spans.append((first, last))
                k += 2
            else:
                broken.append(first)
                k += 1
        elif final or lines - first >= QUOTED_LINES_MAX:
            broken.append(first)
            k += 1
        else:
            return Rows(ends, first, broken, spans)
    return Rows(ends, lines, broken, spans)


def layout_of(delimiter: str, fields: int, encoding: str | None) -> Layout:
    """The layout rows of a file have, judged on its bytes in ``encoding`` and in UTF-8 alike:
    an ASCII delimiter below 0x40 is never part of a GBK character; "|" may be."""
    if encoding not in (None, "utf-8", "utf-8-sig", "ascii") and ord(delimiter) >= 0x40:
        return Layout()
    return Layout(delimiter.encode(), fields)
