"""Read spreadsheets (xlsx, xls, ods) with python-calamine: every sheet a table, cells as text."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from python_calamine import CalamineError, CalamineWorkbook

from leaktrace.errors import InputError
from leaktrace.i18n import N_
from leaktrace.ingest.limits import BATCH_ROWS
from leaktrace.ingest.problems import ProblemLog
from leaktrace.ingest.sniff import column_names, table_start
from leaktrace.ingest.source import Batch, Source, string_batch

_HEADER_SAMPLE = 50  # rows looked at to decide whether the first is a header
_EXACT_DIGITS = 1e15  # Excel keeps 15 significant digits; integers from here on may be rounded


def cell_text(value: Any) -> str:
    """A cell as text: integers without '.0' or exponent, dates in ISO form, booleans as TRUE/FALSE."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 2**53:
            return str(int(value))
        text = repr(value)  # shortest digits that round-trip; no invented binary digits
        return format(Decimal(text), "f") if "e" in text else text.removesuffix(".0")
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if value is None:
        return ""
    return str(value)


def read_spreadsheet(source: Source, name: str, table: str) -> Iterator[Batch]:
    """Yield each non-empty sheet as the table ``stem:Sheet``; a damaged file is an InputError."""
    log = ProblemLog(name, source.problems)
    try:
        try:
            book = CalamineWorkbook.from_path(str(source.path))
        except (CalamineError, OSError, ValueError):
            raise InputError(
                name,
                N_("a readable {format} workbook"),
                N_("a damaged or truncated file"),
                format=source.format,
            ) from None
        for index, sheet_name in enumerate(book.sheet_names):
            try:
                sheet = book.get_sheet_by_index(index)
                yield from _sheet_batches(
                    sheet.iter_rows(), f"{table}:{sheet_name}", name, sheet_name, log, source
                )
            except (CalamineError, ValueError):
                log.add(
                    "sheet",
                    f"{name} sheet {sheet_name}",
                    N_("a readable worksheet; found it damaged, sheet skipped"),
                )
        book.close()
    finally:
        log.finish()


def _sheet_batches(
    rows: Iterator[list[Any]], table: str, name: str, sheet: str, log: ProblemLog, source: Source
) -> Iterator[Batch]:
    """Convert a sheet's rows to string batches. The first rows decide where the table starts
    (below title and blank rows, as in a CSV) and whether it has a header; the header's cells
    name the columns and are never values."""
    long_numbers: Counter[int] = Counter()

    def convert(raw: list[Any]) -> list[str]:
        for j, v in enumerate(raw):
            if isinstance(v, float) and abs(v) >= _EXACT_DIGITS and v.is_integer():
                long_numbers[j] += 1
        return [cell_text(v) for v in raw]

    head = [convert(row) for _, row in zip(range(_HEADER_SAMPLE), rows, strict=False)]
    if not head:
        return
    width = max(len(r) for r in head)
    preamble, has_header = table_start(head, width)
    titles = [i + 1 for i, row in enumerate(head[:preamble]) if any(c.strip() for c in row)]
    if titles:
        rows_at = f"row {titles[0]}" if len(titles) == 1 else f"rows {titles[0]}-{titles[-1]}"
        log.add(
            "preamble",
            f"{name} sheet {sheet} {rows_at}",
            N_("table rows; found title rows above the table, skipped"),
        )
    source.has_header = (
        has_header if source.has_header is None else source.has_header and has_header
    )
    names = column_names(head[preamble] if has_header else [], width)
    columns: list[list[str | None]] = [[] for _ in names]
    next_row = 1

    def add(cells: list[str]) -> None:
        for j, column in enumerate(columns):
            column.append(cells[j] if j < len(cells) else "")

    for row in head[preamble + 1 :] if has_header else head[preamble:]:
        add(row)
    for raw in rows:
        add(convert(raw))
        if len(columns[0]) >= BATCH_ROWS:
            yield Batch(
                table, string_batch(dict(zip(names, columns, strict=True))), next_row, source.size
            )
            next_row += len(columns[0])
            columns = [[] for _ in names]
    if columns[0]:
        yield Batch(
            table, string_batch(dict(zip(names, columns, strict=True))), next_row, source.size
        )
    for j, count in sorted(long_numbers.items()):
        log.add(
            "precision",
            f"{name} sheet {sheet} column {names[j]}",
            N_(
                "long numbers stored as text; {count} numeric cells have more than 15 digits, "
                "and Excel keeps only 15, so their last digits may be lost"
            ),
            count=count,
        )
