"""Detect a file's format from its content and name: table dialect, header row, JSON kind, SQL, HTML."""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import islice
from pathlib import PurePath

DELIMITERS = (",", "\t", "|", ";")
_SAMPLE_ROWS = 500
_MAX_PREAMBLE = 5
_MIN_CONSISTENCY = 0.7  # share of sampled rows with the usual field count, to call it a table

_LABEL = re.compile(
    r"姓名|名字|名称|身份|证件|证号|手机|电话|联系|地址|住址|卡号|账号|帐号|账户|银行|开户|性别|邮箱"
    r"|邮件|生日|出生|年龄|金额|余额|额度|贷款|保单|保险|日期|时间|编号|序号|客户|户名|省份|城市|区县"
    r"|备注|状态|类型|职业|单位|公司|学历|籍贯|民族"
    r"|(?i:(?<![a-z])(?:name|id|no|phone|mobile|tel|email|mail|addr|address|card|account|sex"
    r"|gender|birth|birthday|age|amount|balance|date|time|city|province|status|type|remark|note"
    r"|code)(?![a-z]))"
)
_NUMERIC = re.compile(r"[\d\s+\-.,:/()*xX#]*\d[\d\s+\-.,:/()*xX#]*")
_SQL_START = re.compile(
    r"\A(?:\s|--[^\n]*\n|/\*.*?\*/|#[^\n]*\n)*"
    r"(?:INSERT|REPLACE|CREATE|COPY|SET|DROP|LOCK|USE|BEGIN|START|ALTER|SELECT)\b",
    re.IGNORECASE | re.DOTALL,
)
_SQL_DATA = re.compile(
    r"^\s*(?:INSERT\s+(?:IGNORE\s+)?INTO|REPLACE\s+INTO|CREATE\s+TABLE|COPY\s+\S+.*\bFROM\s+stdin)",
    re.IGNORECASE | re.MULTILINE,
)
_HTML = re.compile(r"\A\s*(?:<!doctype\s+html|<html|<head|<body|<meta|<!--)", re.IGNORECASE)
_JSON_ARRAY = re.compile(r"\A\s*\[\s*(?:[\[{\"\]\-\d]|true|false|null)")


@dataclass(frozen=True)
class TableDialect:
    """How a delimited text file is laid out, as seen in its head."""

    delimiter: str
    quoted: bool  # some field starts with a double quote: honour quoting
    has_header: bool
    names: tuple[str, ...]  # column names: the header's (made unique) or col_1..col_n
    header_fields: int  # fields in the header row (0 without a header)
    preamble: int  # title rows above the header or data, skipped
    skip_lines: int  # physical lines before the first data row (preamble and header)
    consistency: float  # share of sampled rows having len(names) fields


ZIP_MAGIC = b"PK\x03\x04"  # a zip archive's first local file header (xlsx, docx, ods are zips)
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # an OLE2 compound file (xls)


def sniff_binary(head: bytes, name: str) -> str | None:
    """Spreadsheet and archive formats by magic bytes: xlsx, ods, xls, docx, zip; None for text.

    Zip-based formats are told apart by the parts named in the head; :func:`sniff_zip` decides
    surely from the archive's directory."""
    suffix = PurePath(name).suffix.lower()
    if head.startswith(ZIP_MAGIC):
        if b"opendocument.spreadsheet" in head[:200]:
            return "ods"
        if b"word/document.xml" in head or suffix == ".docx":
            return "docx"
        if (
            b"xl/" in head
            or b"[Content_Types].xml" in head
            or suffix in {".xlsx", ".xlsm", ".xlsb"}
        ):
            return "xlsx"
        return "zip"
    if head.startswith(OLE_MAGIC):
        return "xls"
    return None


_MAGICS = (
    (b"7z\xbc\xaf\x27\x1c", "7z"),
    (b"Rar!\x1a\x07", "rar"),
    (b"PK\x05\x06", "zip"),  # an empty zip archive
)
_MAIL_HEADER = re.compile(
    rb"^(?:from|to|cc|subject|date|message-id|mime-version|received|return-path|content-type"
    rb"|reply-to|delivered-to|x-[\w-]+):",
    re.IGNORECASE | re.MULTILINE,
)
_HEADER_LINE = re.compile(rb"[!-9;-~]+:[ \t]")
_CONTROL = bytes(b for b in range(32) if b not in b"\t\n\r\f\v\x1b")
_BINARY_SHARE = 0.1  # control bytes in the head past this share: not text


def sniff_container(head: bytes, tar_head: bytes | None, name: str) -> str | None:
    """What holds other files: zip (docx, xlsx...: see :func:`sniff_zip`), tar, 7z, rar, pdf,
    eml, mbox; "binary" for other non-text data; None for text and spreadsheets.

    ``tar_head`` is the head after gzip/bzip2/xz decompression (None if not compressed)."""
    if head.startswith(ZIP_MAGIC):
        return "zip"
    for magic, kind in _MAGICS:
        if head.startswith(magic):
            return kind
    if (tar_head or head)[257:262] == b"ustar":
        return "tar"
    if tar_head is not None:
        return None  # a compressed file: its content is read as text
    if b"%PDF-" in head[:1024]:
        return "pdf"
    if head.startswith(OLE_MAGIC):
        return None  # xls
    mail = _sniff_mail(head, PurePath(name).suffix.lower())
    if mail:
        return mail
    return "binary" if looks_binary(head) else None


def sniff_zip(names: Sequence[str]) -> str:
    """A zip archive's format by the parts it holds: docx, xlsx, ods or (other) zip."""
    parts = set(names)
    if "word/document.xml" in parts:
        return "docx"
    if "xl/workbook.xml" in parts or "xl/workbook.bin" in parts:
        return "xlsx"
    if "content.xml" in parts and "mimetype" in parts:
        return "ods"
    return "zip"


def _sniff_mail(head: bytes, suffix: str) -> str | None:
    """mbox (a "From " line, then headers) or eml (a block of RFC 822 headers)."""
    if head.startswith(b"From ") and (suffix == ".mbox" or _MAIL_HEADER.search(head[:4096])):
        return "mbox"
    block = head.split(b"\n\n", 1)[0].split(b"\r\n\r\n", 1)[0]
    lines = [ln for ln in block.splitlines() if ln and ln[:1] not in b" \t"]
    if lines and all(_HEADER_LINE.match(ln) for ln in lines):
        known = len(_MAIL_HEADER.findall(block))
        if known >= 2 or (suffix == ".eml" and known):
            return "eml"
    return None


def looks_binary(head: bytes) -> bool:
    """Whether ``head`` is not text in any encoding leaktrace reads: many control bytes, unless
    it is UTF-16 (whose NULs are the high bytes of ASCII, 一 and the like). A stray NUL or a few
    control bytes keep a file text."""
    sample = head[:8192]
    if not sample or sample.startswith((b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf")):
        return False
    limit = _BINARY_SHARE * len(sample)
    if len(sample) - len(sample.translate(None, _CONTROL)) <= limit:
        return False
    for encoding in ("utf-16-le", "utf-16-be"):
        try:
            text = codecs.getincrementaldecoder(encoding)("strict").decode(
                sample[: len(sample) & ~1]
            )
        except UnicodeDecodeError:
            continue
        if sum(ch < " " and ch not in "\t\n\r\f\v" for ch in text) <= limit / 2:
            return False
    return True


def sniff_text(text: str, name: str, at_eof: bool) -> str:
    """The format of decoded text: json, jsonl, sql, html, csv, tsv or text."""
    suffix = PurePath(name).suffix.lower()
    if suffix in {".jsonl", ".ndjson"}:
        return "jsonl"
    if _JSON_ARRAY.match(text):
        return "json"
    if text.lstrip().startswith("{"):
        return "jsonl" if _is_json_lines(text) else "json"
    if suffix == ".sql" or (_SQL_START.match(text) and _SQL_DATA.search(text)):
        return "sql"
    if suffix in {".html", ".htm"} or _HTML.match(text):
        return "html"
    if suffix == ".tsv":
        return "tsv"
    dialect = sniff_dialect(text, at_eof)
    if suffix == ".csv" or (len(dialect.names) > 1 and dialect.consistency >= _MIN_CONSISTENCY):
        return "tsv" if dialect.delimiter == "\t" else "csv"
    return "text"


def sniff_dialect(text: str, at_eof: bool, delimiter: str | None = None) -> TableDialect:
    """Find the delimiter (or use ``delimiter``), quoting and header of delimited text."""
    body = text if at_eof else text[: text.rfind("\n") + 1] or text
    best: TableDialect | None = None
    for delim in (delimiter,) if delimiter else DELIMITERS:
        dialect = _try_delimiter(body, at_eof, delim)
        if best is None or _score(dialect) > _score(best):
            best = dialect
    assert best is not None
    return best


def _score(d: TableDialect) -> float:
    return d.consistency if len(d.names) > 1 else 0.0


def _try_delimiter(body: str, at_eof: bool, delim: str) -> TableDialect:
    quoted = re.search(rf'(?:^|{re.escape(delim)})"', body, re.MULTILINE) is not None
    reader = csv.reader(
        io.StringIO(body),
        delimiter=delim,
        quotechar='"',
        quoting=csv.QUOTE_MINIMAL if quoted else csv.QUOTE_NONE,
        strict=False,
    )
    rows: list[list[str]] = []
    ends: list[int] = []  # physical line number at the end of each row
    try:
        for row in islice(reader, _SAMPLE_ROWS):
            if row:
                rows.append(row)
                ends.append(reader.line_num)
    except csv.Error:
        pass
    if len(rows) > 1 and not at_eof:
        rows.pop()  # may be cut short by the end of the sample
    if not rows:
        return TableDialect(delim, quoted, False, ("col_1",), 0, 0, 0, 0.0)
    width = Counter(len(r) for r in rows[1:] or rows).most_common(1)[0][0]
    consistency = sum(len(r) == width for r in rows) / len(rows)
    preamble, header = table_start(rows, width)
    first = rows[preamble]
    skip = ends[preamble] if header else ends[preamble - 1] if preamble else 0
    return TableDialect(
        delimiter=delim,
        quoted=quoted,
        has_header=header,
        names=tuple(column_names(first if header else [], width)),
        header_fields=len(first) if header else 0,
        preamble=preamble,
        skip_lines=skip,
        consistency=consistency,
    )


def table_start(rows: Sequence[Sequence[str]], width: int) -> tuple[int, bool]:
    """Where a table begins in its first ``rows`` (CSV lines or sheet rows) of ``width``
    fields: how many rows above it are titles ("客户信息表" alone on its row) or blank, and
    whether the row after them is a header. At most _MAX_PREAMBLE titles are passed over;
    blank rows do not count towards that."""
    preamble = titles = 0
    while width > 1 and preamble < len(rows) - 1:
        filled = sum(bool(c.strip()) for c in rows[preamble])
        if filled > 1 or (filled == 1 and titles == _MAX_PREAMBLE):
            break
        titles += filled
        preamble += 1
    return preamble, looks_like_header(rows[preamble], rows[preamble + 1 :])


def looks_like_header(first: Sequence[str], body: Sequence[Sequence[str]]) -> bool:
    """Whether ``first`` is a row of labels (姓名, 身份证号, phone…) above rows of values.

    Every cell must be a short, digit-free, distinct word; then a known label, or a column
    whose body is mostly numbers where the first row has a word, makes it a header."""
    cells = [c.strip() for c in first]
    if not cells or any(not c or len(c) > 40 or any(ch.isdigit() for ch in c) for c in cells):
        return False
    if len(set(cells)) < len(cells):
        return False
    if any(_LABEL.search(c) for c in cells):
        return True
    for j in range(len(cells)):
        column = [row[j] for row in body if j < len(row) and row[j].strip()]
        if column and sum(bool(_NUMERIC.fullmatch(v.strip())) for v in column) > len(column) / 2:
            return True
    return False


def column_names(header: Sequence[str], width: int) -> list[str]:
    """``width`` unique column names: the header's where present, else col_N; repeats get _2, _3."""
    names: list[str] = []
    seen: set[str] = set()
    for i in range(width):
        base = header[i].strip() if i < len(header) and header[i].strip() else f"col_{i + 1}"
        name, k = base, 2
        while name in seen:
            name, k = f"{base}_{k}", k + 1
        seen.add(name)
        names.append(name)
    return names


def _is_json_lines(text: str) -> bool:
    """JSON Lines: a line that is a whole JSON object, then another line opening one. A
    single line (such as a compact API response) is a JSON document."""
    first, _, rest = text.lstrip().partition("\n")
    if not rest.lstrip().startswith("{"):
        return False
    try:
        return isinstance(json.loads(first), dict)
    except (ValueError, RecursionError):
        return False
