"""A Word document as a container: each table becomes a CSV member (``table-1.csv``), read as any
CSV is, header row found the same way; the body's paragraphs become ``text.txt``."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Generator
from pathlib import Path

import docx
from docx.table import Table

from leaktrace.errors import InputError
from leaktrace.i18n import N_
from leaktrace.ingest import limits
from leaktrace.ingest.member import Member


def docx_members(path: Path, name: str, password: str | None) -> Generator[Member, None, None]:
    """The tables (CSV, UTF-8) and the paragraphs (text) of a DOCX file."""
    del password
    _check_size(path, name)
    try:
        document = docx.Document(str(path))
    except Exception:  # python-docx raises many kinds (KeyError, lxml's, zipfile's) on damage
        raise InputError(name, N_("a readable Word document"), N_("a damaged one")) from None
    for number, table in enumerate(document.tables, 1):
        data = _table_csv(table)
        yield Member(
            f"table-{number}.csv", lambda data=data: iter((data,)), format="csv", encoding="utf-8"
        )
    text = "\n".join(p.text for p in document.paragraphs).encode("utf-8")
    if text.strip():
        yield Member("text.txt", lambda: iter((text,)), format="text", encoding="utf-8")


def _check_size(path: Path, name: str) -> None:
    """python-docx parses the whole document: refuse one whose parts expand past the limits."""
    try:
        with zipfile.ZipFile(path) as zf:
            expanded = sum(i.file_size for i in zf.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        raise InputError(name, N_("a readable Word document"), N_("a damaged one")) from None
    if expanded > limits.MEMBER_BYTES_MAX or (
        expanded > limits.RATIO_FLOOR
        and expanded > limits.EXPANSION_RATIO_MAX * path.stat().st_size
    ):
        raise InputError(
            name, N_("a Word document of a plausible expanded size"), N_("a zip bomb?")
        )


def _table_csv(table: Table) -> bytes:
    """A table's rows as CSV; a merged cell keeps its text once (its other grid places empty),
    so a title row merged across the table reads as a title, not as a row of repeats."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    above: list[object] = []
    for row in table.rows:
        cells = row.cells
        texts = []
        for j, cell in enumerate(cells):
            merged = (j and cell._tc is cells[j - 1]._tc) or (
                j < len(above) and cell._tc is above[j]
            )
            texts.append("" if merged else cell.text)
        writer.writerow(texts)
        above = [c._tc for c in cells]
    return out.getvalue().encode("utf-8")
