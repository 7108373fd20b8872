"""Where the rows of a quoted delimited file begin and end, as a careful reader sees them.

A quote counts when it stands at the edge of a field (next to a delimiter, a line end or
another quote); one inside an unquoted value (张"三) is an ordinary character, as CSV parsers
read it. A row ends at a newline preceded by an even number of counted quotes. A line that
leaves a quote open starts a row spanning lines; the quote is taken for an ordinary character
when no later line closes it within ``QUOTED_LINES_MAX`` lines (or before the data ends), or
when the row it closes has not the table's number of fields (a quote opened by mistake pairs
with the next real multi-line field, and the rows between are not one row). Such a line is a
row of its own ("broken") and reading goes on from the next line as if the quote had not been
there. The reader and the splitter both use these rules, so a file read whole and one read in
byte ranges agree on every row, however damaged its quoting."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

QUOTED_LINES_MAX = 16
"""Lines one quoted row may span. Addresses and remarks of a few lines stay far below it; a
quote opened by mistake is found within it, so it costs one row, never the rest of the file."""


@dataclass(frozen=True)
class Layout:
    """What a whole row looks like: ``fields`` fields, separated by the byte ``delimiter``
    (None when rows cannot be judged by their bytes, as "|" inside GBK characters: then every
    quote counts and any number of fields fits)."""

    delimiter: bytes | None = None
    fields: int = 0

    def counted(self, arr: np.ndarray, quotes: np.ndarray) -> np.ndarray:
        """The quotes (positions in ``arr``) at the edge of a field."""
        if self.delimiter is None:
            return quotes
        edge = np.array([0x0A, 0x0D, 0x22, self.delimiter[0]], np.uint8)
        before = np.where(quotes > 0, arr[np.maximum(quotes - 1, 0)], 0x0A)
        after = np.where(quotes + 1 < arr.size, arr[np.minimum(quotes + 1, arr.size - 1)], 0x0A)
        return quotes[np.isin(before, edge) | np.isin(after, edge)]

    def fits(self, arr: np.ndarray, quotes: np.ndarray, lo: int, closing: int, hi: int) -> bool:
        """Whether the row ``arr[lo:hi]`` (its counted ``quotes``), its quoted field spanning
        lines up to the line starting at ``closing``, has the table's fields, and that field
        closes with a quote that can end a field (not one that opens the next)."""
        if self.delimiter is None:
            return True
        shut = int(quotes[np.searchsorted(quotes, closing)]) + 1
        if shut < arr.size and arr[shut] not in (0x0A, 0x0D, 0x22, self.delimiter[0]):
            return False
        delims = np.flatnonzero(arr[lo:hi] == self.delimiter[0]) + lo
        inside = (np.searchsorted(quotes, delims) - np.searchsorted(quotes, lo)) % 2 == 1
        return 1 + int(delims.size - inside.sum()) == self.fields


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
    ``layout`` tells which quotes count and which rows have the table's shape."""
    arr = np.frombuffer(data, np.uint8)
    ends = np.flatnonzero(arr == 0x0A) + 1
    if final and arr.size and (ends.size == 0 or ends[-1] != arr.size):
        ends = np.append(ends, arr.size)
    lines = int(ends.size)
    quotes = np.flatnonzero(arr[: ends[-1] if lines else 0] == 0x22) if quoted else None
    if quotes is None or quotes.size == 0:
        return Rows(ends, lines, [], [])
    quotes = layout.counted(arr, quotes)
    per_line = np.bincount(np.searchsorted(ends, quotes, side="right"), minlength=lines)
    odd = np.flatnonzero(per_line & 1).tolist()
    broken: list[int] = []
    spans: list[tuple[int, int]] = []
    k = 0
    while k < len(odd):
        first = odd[k]
        last = odd[k + 1] if k + 1 < len(odd) else lines
        if last < lines and last - first < QUOTED_LINES_MAX:
            lo = int(ends[first - 1]) if first else 0
            if layout.fits(arr, quotes, lo, int(ends[last - 1]), int(ends[last])):
                spans.append((first, last))
                k += 2
                continue
            broken.append(first)
        elif final or lines - first >= QUOTED_LINES_MAX:
            broken.append(first)
        else:
            return Rows(ends, first, broken, spans)
        k += 1
    return Rows(ends, lines, broken, spans)


def layout_of(delimiter: str, fields: int, encoding: str | None) -> Layout:
    """The layout rows of a file have, judged on its bytes in ``encoding`` and in UTF-8 alike:
    an ASCII delimiter below 0x40 is never part of a GBK character; "|" may be."""
    if encoding not in (None, "utf-8", "utf-8-sig", "ascii") and ord(delimiter) >= 0x40:
        return Layout()
    return Layout(delimiter.encode(), fields)
