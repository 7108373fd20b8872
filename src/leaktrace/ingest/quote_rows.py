"""Where the rows of a quoted delimited file begin and end, as a careful reader sees them.

A row ends at a newline preceded by an even number of double quotes. A line that leaves a quote
open starts a row spanning lines; if no later line closes it within ``QUOTED_LINES_MAX`` lines
(or before the data ends), the quote is taken for an ordinary character: that line is a row of
its own ("broken") and reading goes on from the next line as if the quote had not been there.
The reader and the splitter both use this one rule, so a file read whole and one read in byte
ranges agree on every row, however damaged its quoting."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

QUOTED_LINES_MAX = 16
"""Lines one quoted row may span. Addresses and remarks of a few lines stay far below it; a
quote opened by mistake is found within it, so it costs one row, never the rest of the file."""


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


def settle(data: bytes, final: bool, quoted: bool = True) -> Rows:
    """Group the lines of ``data`` (which starts at a row start) into rows; without ``quoted``
    each line is a row.

    Without ``final`` the last line counted is the last one ending in a newline, and a quote
    still open near the end is left unsettled; with it, the data ends the file (or range)."""
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
        if k + 1 < len(odd) and odd[k + 1] - first < QUOTED_LINES_MAX:
            spans.append((first, odd[k + 1]))
            k += 2
        elif final or lines - first >= QUOTED_LINES_MAX:
            broken.append(first)
            k += 1
        else:
            return Rows(ends, first, broken, spans)
    return Rows(ends, lines, broken, spans)
