"""open_source: check the path, detect compression, encoding and format, and pick the reader."""

from __future__ import annotations

import functools
import os
from pathlib import Path

from leaktrace.errors import InputError, Verbatim
from leaktrace.i18n import N_
from leaktrace.ingest.csv_reader import read_csv
from leaktrace.ingest.encoding import detect_encoding, normalize_encoding
from leaktrace.ingest.files import check_file, compression_of, inner_name, read_head
from leaktrace.ingest.json_reader import read_json, read_jsonl
from leaktrace.ingest.limits import HEAD
from leaktrace.ingest.sniff import sniff_binary, sniff_dialect, sniff_text
from leaktrace.ingest.source import Source
from leaktrace.ingest.sql_dump import read_sql
from leaktrace.ingest.text_reader import read_text
from leaktrace.ingest.xlsx_reader import read_spreadsheet

FORMATS = ("csv", "tsv", "xlsx", "xls", "ods", "json", "jsonl", "sql", "text", "html")
_SPREADSHEETS = {"xlsx", "xls", "ods"}
_TEXT_KINDS = {"text", "html"}
_BLANK = b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"


def open_source(
    path: str | os.PathLike[str],
    *,
    format: str | None = None,
    encoding: str | None = None,
    name: str | None = None,
) -> Source:
    """Open ``path`` for streaming; the format and encoding are detected unless given.

    ``name`` is what reports and problems call it (an archive member's ``a.zip!dir/x.csv``,
    spooled to a temporary ``path``); the path's own name by default. Raises InputError for a
    missing path, a directory, an empty file, an archive (``leaktrace.scan`` opens those) or an
    unknown format. gzip, bzip2 and xz files are decompressed on the fly (``leak.csv.gz`` reads
    as CSV)."""
    path = Path(path)
    label = name or path.name
    size = check_file(path)
    if format is not None and format.lower() not in FORMATS:
        raise InputError(
            "format", N_("one of {formats}"), Verbatim(format), formats=", ".join(FORMATS)
        )
    fmt = format.lower() if format else None
    compression = compression_of(path) if size else None
    inner = inner_name(Path(label.rsplit("!", 1)[-1]) if name else path, compression)
    head, at_eof = read_head(path, compression, HEAD)
    if at_eof and not head.strip(_BLANK):
        raise InputError(label, N_("at least one row"), N_("an empty file"))

    fmt = fmt or sniff_binary(head, inner)
    if fmt in ("zip", "docx"):
        raise InputError(
            label,
            N_(
                "a spreadsheet or a text file (CSV, JSON, SQL, text); leaktrace scan opens "
                "archives and documents"
            ),
            N_("a zip archive") if fmt == "zip" else N_("a Word document"),
        )
    if fmt in _SPREADSHEETS:
        if compression:
            raise InputError(
                label,
                N_("an uncompressed {format} file"),
                N_("{compression}-compressed"),
                format=fmt,
                compression=compression,
            )
        source = Source(path, fmt, None, "table", size, name=name or "")
        source._reader = functools.partial(read_spreadsheet, name=label, table=Path(inner).stem)
        return source

    enc = normalize_encoding(encoding) if encoding else detect_encoding(head, at_eof)
    text = head.decode("utf-8" if enc == "utf-8-sig" else enc, "replace").lstrip("\ufeff")
    fmt = fmt or sniff_text(text, inner, at_eof)
    kind = "text" if fmt in _TEXT_KINDS else "table"
    source = Source(path, fmt, enc, kind, size, compression=compression, name=name or "")
    common = {"name": label, "table": Path(inner).stem}
    if fmt in {"csv", "tsv"}:
        dialect = sniff_dialect(text, at_eof, "\t" if fmt == "tsv" else None)
        source.has_header = dialect.has_header
        source.dialect = dialect
        source._reader = functools.partial(read_csv, **common)
    elif fmt == "json":
        source._reader = functools.partial(read_json, **common)
    elif fmt == "jsonl":
        source._reader = functools.partial(read_jsonl, **common)
    elif fmt == "sql":
        source._reader = functools.partial(read_sql, **common)
    else:
        source._reader = functools.partial(read_text, html=fmt == "html", **common)
    return source
