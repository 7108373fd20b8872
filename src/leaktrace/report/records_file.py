"""The per-record results of a verification as a file for people (``verify --records``): CSV
(UTF-8 with a BOM, so Excel on Chinese Windows reads it right), XLSX or Parquet, by suffix.

Headers and words are in the language in use. The leak's values are masked unless asked
otherwise. Columns, in this order:

- leak record number (from 1, in the order the scan read the leak), source file or archive
  member, table or sheet, row (data rows from 1; in text, the line);
- customer ID (empty: not linked), how it was linked (exact, with the identifiers that agree in
  full; probabilistic), match weight (log2 Bayes factor) and probability;
- per field the leak holds (name, resident ID, mobile, bank card, address, email): the leak's
  value, its status (current, earlier, differs, absent from the leak, unknown to us), and from
  and until when the agreeing value held (current: since when; earlier: from and to).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
from xlsxwriter.exceptions import FileCreateError

from leaktrace.errors import LeaktraceError
from leaktrace.i18n import N_, _
from leaktrace.pii import mask
from leaktrace.report.files import atomic_path
from leaktrace.verify.records import EXACT_ON, date_columns, fields_of, status_column

SUFFIXES = (".csv", ".xlsx", ".parquet")
FORMULA = r"^[=+\-@\t\r]"  # how a cell that a spreadsheet takes for a formula starts
XLSX_ROWS = 1_048_575  # an Excel sheet's rows, less its header: more go to further sheets

FIELD_LABELS = {
    "person_name": N_("Name"),
    "resident_id": N_("Resident ID"),
    "mobile": N_("Mobile"),
    "bank_card": N_("Bank card"),
    "address": N_("Address"),
    "email": N_("Email"),
}
STATUS_WORDS = {
    "current": N_("current"),
    "historical": N_("earlier"),
    "disagrees": N_("differs"),
    "missing": N_("absent from the leak"),
    "unknown": N_("unknown to us"),
}


def check_suffix(path: Path) -> str:
    """The format ``path`` names by its suffix (``csv``, ``xlsx``, ``parquet``); ValueError
    naming the suffix and the three expected otherwise."""
    suffix = Path(path).suffix
    if suffix.lower() not in SUFFIXES:
        raise ValueError(
            _("{path}: expected a file name ending in {expected}, found {suffix}").format(
                path=path,
                expected=", ".join(SUFFIXES),
                suffix=repr(suffix) if suffix else _("no suffix"),
            )
        )
    return suffix.lower()[1:]


def masked(values: pl.Series, kind: str) -> pl.Series:
    """``values`` of ``kind`` with their middles hidden (nulls stay null)."""
    return values.map_elements(lambda v: mask(kind, v), return_dtype=pl.String, skip_nulls=True)


def link_words() -> pl.Expr:
    """How each record was linked, in words: exact (on which identifiers), probabilistic, or
    not linked."""
    names = {n: _(FIELD_LABELS[n]) for n in EXACT_ON}
    on = pl.col("exact_on").list.eval(pl.element().replace_strict(names)).list.join(" / ")
    before, _mark, after = _("exact on {identifiers}").partition("{identifiers}")
    exact = (
        pl.when(on.str.len_chars() > 0)
        .then(pl.lit(before) + on + pl.lit(after))
        .otherwise(pl.lit(_("exact")))
    )
    return (
        pl.when(pl.col("link") == "exact")
        .then(exact)
        .when(pl.col("link") == "probabilistic")
        .then(pl.lit(_("probabilistic")))
        .otherwise(pl.lit(_("not linked")))
    )


def readable(table: pl.DataFrame, unmasked: bool = False) -> pl.DataFrame:
    """The per-record table (:func:`leaktrace.verify.records.record_table`) as people read it:
    headers and words in the language in use, values masked unless ``unmasked``."""
    words = {k: _(v) for k, v in STATUS_WORDS.items()}
    cols = [
        (pl.col("rid") + 1).alias(_("Leak record no.")),
        pl.col("source").alias(_("Source file")),
        pl.col("table").alias(_("Table or sheet")),
        pl.col("row").alias(_("Row")),
        pl.col("customer").cast(pl.String).alias(_("Customer ID")),
        link_words().alias(_("Linked by")),
        pl.col("weight").round(2).alias(_("Match weight")),
        pl.col("prob").round(4).alias(_("Match probability")),
    ]
    for f in fields_of(table):
        label = _(FIELD_LABELS[f])
        lo, hi = date_columns(f)
        value = table[f] if unmasked else masked(table[f], f)
        cols += [
            value.alias(label),
            pl.col(status_column(f))
            .replace_strict(words, default=None)
            .alias(_("{field} status").format(field=label)),
            pl.col(lo).alias(_("{field} held from").format(field=label)),
            pl.col(hi).alias(_("{field} held until").format(field=label)),
        ]
    return table.select(cols)


def _inert(frame: pl.DataFrame) -> pl.DataFrame:
    """Text cells a spreadsheet would run as a formula (a leak's values and its file names are
    anyone's to choose: ``=HYPERLINK(…)``) start with an apostrophe, which Excel shows as text."""
    text = pl.col(pl.String)
    return frame.with_columns(
        pl.when(text.str.contains(FORMULA)).then(pl.lit("'") + text).otherwise(text).name.keep()
    )


def _write_xlsx(frame: pl.DataFrame, path: Path) -> None:
    """Sheets of at most ``XLSX_ROWS`` records each, with the header frozen on every one."""
    import xlsxwriter

    options = {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    with xlsxwriter.Workbook(path, options) as book:
        bold = book.add_format({"bold": True})
        for part, start in enumerate(range(0, max(frame.height, 1), XLSX_ROWS)):
            name = _("Records") + (f" {part + 1}" if frame.height > XLSX_ROWS else "")
            sheet = book.add_worksheet(name)
            sheet.write_row(0, 0, frame.columns, bold)
            sheet.freeze_panes(1, 0)
            chunk = frame.slice(start, XLSX_ROWS)
            for i, row in enumerate(chunk.iter_rows(), start=1):
                sheet.write_row(i, 0, row)


def write_records(table: pl.DataFrame, path: Path, unmasked: bool = False) -> Path:
    """Write the per-record table to ``path`` (CSV, XLSX or Parquet by its suffix), whole or
    not at all, values masked unless ``unmasked``."""
    path = Path(path)
    fmt = check_suffix(path)
    frame = readable(table, unmasked)
    try:
        with atomic_path(path) as tmp:
            if fmt == "csv":
                _inert(frame).write_csv(tmp, include_bom=True)
            elif fmt == "xlsx":
                _write_xlsx(frame.with_columns(pl.col(pl.Date).cast(pl.String)), tmp)
            else:
                frame.write_parquet(tmp)
    except (OSError, FileCreateError) as e:
        raise LeaktraceError(
            _("{path}: the per-record file could not be written ({reason})").format(
                path=path, reason=getattr(e, "strerror", None) or type(e).__name__
            )
        ) from None
    return path
