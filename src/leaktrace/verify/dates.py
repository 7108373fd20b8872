"""Dates as bank exports write them (2020-06-30, 2020/6/30, 2020.6.30, 20200630, 2020年6月30日,
timestamps such as 2020-06-30 12:01:02 or 2020-06-30T12:01:02Z) read into polars Dates, and how
much of a column reads as dates."""

from __future__ import annotations

import polars as pl

from leaktrace.errors import InputError
from leaktrace.i18n import N_

_TIME = r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:Z|[+-]\d{2}:?\d{2})?)?"
# year, month, day as groups 1-3: with separators (2020-06-30, 2020/6/30, 2020.6.30,
# 2020年6月30日) and a time (12:01:02, T12:01:02Z), or digits only (20200630, 20200630120102)
PATTERNS = (
    r"^(\d{4})(?:[-/.]|年)(\d{1,2})(?:[-/.]|月)(\d{1,2})日?" + _TIME + "$",
    r"^(\d{4})(\d{2})(\d{2})(?:\d{6})?$",
)
# A column is a date column when this share of its non-empty values are dates.
MIN_DATE_SHARE = 0.9
DATE_HELP = N_("dates such as 2020-06-30, 2020/6/30, 20200630, 2020年6月30日 or timestamps")
# Dates from this year on mean "no end" (9999-12-31 closes no version).
OPEN_END_YEAR = 9000


def _parse_text(text: pl.Expr) -> pl.Expr:
    """Dates from text in one of PATTERNS; null where none fits or the day does not exist."""
    text = text.str.strip_chars()
    found = []
    for pattern in PATTERNS:
        y, m, d = (text.str.extract(pattern, i) for i in (1, 2, 3))
        found.append(pl.concat_str(y, m.str.zfill(2), d.str.zfill(2), separator="-"))
    return pl.coalesce(found).str.to_date("%Y-%m-%d", strict=False)


def to_date(col: str, dtype: pl.DataType) -> pl.Expr:
    """Column ``col`` (of ``dtype``) as Dates: Date as it is, timestamps cut to their day,
    text and integers (20200630) parsed; null where no date can be read."""
    e = pl.col(col)
    if dtype == pl.Date:
        return e
    if isinstance(dtype, pl.Datetime):
        return e.dt.date()
    return _parse_text(e.cast(pl.String))


def date_share(values: pl.Series) -> float:
    """Share of the non-empty values of ``values`` that read as dates (0 when none is set)."""
    s = values.cast(pl.String).str.strip_chars()
    s = s.filter(s.is_not_null() & (s != ""))
    if s.is_empty():
        return 0.0
    df = s.to_frame("v")
    return float(df.select(_parse_text(pl.col("v")).is_not_null().mean()).item())


def check_dates(sample: pl.DataFrame, col: str, place: str) -> None:
    """A column taken as dates (by its header or a mapping) must read as dates: else a clear
    InputError naming the column and the formats known."""
    share = date_share(sample[col])
    if share < MIN_DATE_SHARE:
        raise InputError(
            f"{place} column {col}",
            DATE_HELP,
            N_("{share:.0%} of the first {n} values read as dates"),
            share=share,
            n=sample.height,
        )
