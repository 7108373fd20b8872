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
        padded = np.concatenate(([0x0A], arr, [0x0A])).astype(np.uint8)
        keep = np.zeros(quotes.size, dtype=bool)
        for side in (padded[quotes], padded[quotes + 2]):  # the bytes before and after
            for edge in (0x0A, 0x0D, 0x22, self.delimiter[0]):
                keep |= side == edge
        return quotes[keep]

    def fits(self, data: bytes, closer: int, lo: int, hi: int, counted: int) -> bool:
        """Whether the row ``data[lo:hi]``, whose ``counted`` quotes all count and whose
        multi-line field ends at the quote at ``closer``, has the table's fields; and whether
        that quote can end a field (rather than open the next)."""
        if self.delimiter is None:
            return True
        after = data[closer + 1 : closer + 2]
        if after not in (b"", b"\n", b"\r", b'"', self.delimiter):
            return False
        row = data[lo:hi]
        if row.count(b'"') != counted:  # a quote inside a value: judge by field edges only
            return True
        outside = b"".join(row.split(b'"')[::2])
        return 1 + outside.count(self.delimiter) == self.fields


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
    odd_lines = np.flatnonzero(per_line & 1)
    odd = odd_lines.tolist()
    before = np.concatenate(([0], np.cumsum(per_line)))  # counted quotes before each line
    # for each odd line: where its line starts, the first quote on it, quotes before it
    starts_at = np.concatenate(([0], ends))[odd_lines].tolist()
    firsts = quotes[np.minimum(before[odd_lines], quotes.size - 1)].tolist()
    counts = before[odd_lines].tolist()
    after = (before[odd_lines + 1]).tolist()  # counted quotes up to each odd line's end
    line_ends = ends[odd_lines].tolist()
    broken: list[int] = []
    spans: list[tuple[int, int]] = []
    k = 0
    while k < len(odd):
        first = odd[k]
        last = odd[k + 1] if k + 1 < len(odd) else lines
        if last < lines and last - first < QUOTED_LINES_MAX:
            counted = after[k + 1] - counts[k]
            if layout.fits(data, firsts[k + 1], starts_at[k], line_ends[k + 1], counted):
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


def resync(data: bytes, layout: Layout) -> int | None:
    """The offset of the last certain row start in ``data`` (which starts at a line start)
    without knowing what came before it: the end of a line that is one of QUOTED_LINES_MAX or
    more lines in a row with no quote left open. A quote opened before them has been closed or
    taken as ordinary by then, whatever came before. None if there is none."""
    arr = np.frombuffer(data, np.uint8)
    ends = np.flatnonzero(arr == 0x0A) + 1
    quotes = layout.counted(arr, np.flatnonzero(arr[: ends[-1] if ends.size else 0] == 0x22))
    per_line = np.bincount(np.searchsorted(ends, quotes, side="right"), minlength=ends.size)
    odd = np.concatenate(([-1], np.flatnonzero(per_line & 1), [ends.size]))
    runs = np.flatnonzero(np.diff(odd) - 1 >= QUOTED_LINES_MAX)
    if runs.size == 0:
        return None
    line = int(odd[runs[-1] + 1])  # the line after the last such run
    return int(ends[line - 1])


def layout_of(delimiter: str, fields: int, encoding: str | None) -> Layout:
    """The layout rows of a file have, judged on its bytes in ``encoding`` and in UTF-8 alike:
    an ASCII delimiter below 0x40 is never part of a GBK character; "|" may be."""
    if encoding not in (None, "utf-8", "utf-8-sig", "ascii") and ord(delimiter) >= 0x40:
        return Layout()
    return Layout(delimiter.encode(), fields)
