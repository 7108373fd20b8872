"""Write a leak in every format leaks circulate in, atomically (temporary file, then rename).

CSV (UTF-8 or GBK), TSV, XLSX, JSON, JSONL, a MySQL ``INSERT`` dump, a PostgreSQL ``COPY``
dump, and a forum post: a seller's advertisement with a pasted sample of rows.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import xlsxwriter

from leaktrace.synth.leaks import Leak

FORMATS = ("csv", "tsv", "xlsx", "json", "jsonl", "mysql", "postgres", "forum")
TABLE = "customer_info"
FORUM_SAMPLE = 20  # rows pasted into a forum post


def _rows(leak: Leak) -> list[list[str | None]]:
    return [list(r) for r in leak.rows.iter_rows()]


def _delimited(leak: Leak, sep: str) -> str:
    buf = io.StringIO(newline="")
    w = csv.writer(buf, delimiter=sep, lineterminator="\r\n" if sep == "," else "\n")
    w.writerow(leak.rows.columns)
    w.writerows(["" if v is None else v for v in r] for r in _rows(leak))
    return buf.getvalue()


def _sql_str(v: str | None) -> str:
    if v is None:
        return "NULL"
    return "'" + v.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _mysql(leak: Leak) -> str:
    cols = leak.rows.columns
    out = [
        "-- MySQL dump 10.13  Distrib 8.0.36, for Linux (x86_64)",
        "--",
        f"-- Table structure for table `{TABLE}`",
        "--",
        "",
        f"DROP TABLE IF EXISTS `{TABLE}`;",
        f"CREATE TABLE `{TABLE}` (",
    ]
    out += [f"  `{c}` varchar(255) DEFAULT NULL," for c in cols[:-1]]
    out += [
        f"  `{cols[-1]}` varchar(255) DEFAULT NULL",
        ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;",
        "",
        f"LOCK TABLES `{TABLE}` WRITE;",
    ]
    rows = _rows(leak)
    for i in range(0, len(rows), 500):
        values = ",".join("(" + ",".join(_sql_str(v) for v in r) + ")" for r in rows[i : i + 500])
        out.append(f"INSERT INTO `{TABLE}` VALUES {values};")
    out += ["UNLOCK TABLES;", ""]
    return "\n".join(out)


def _copy_field(v: str | None) -> str:
    if v is None:
        return "\\N"
    return v.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _postgres(leak: Leak) -> str:
    cols = ", ".join(f'"{c}"' for c in leak.rows.columns)
    out = [
        "--",
        "-- PostgreSQL database dump",
        "--",
        "",
        "SET client_encoding = 'UTF8';",
        "",
        f"CREATE TABLE public.{TABLE} (",
    ]
    out += [
        ",\n".join(f'    "{c}" text' for c in leak.rows.columns),
        ");",
        "",
        f"COPY public.{TABLE} ({cols}) FROM stdin;",
    ]
    out += ["\t".join(_copy_field(v) for v in r) for r in _rows(leak)]
    out += ["\\.", "", "--", "-- PostgreSQL database dump complete", "--", ""]
    return "\n".join(out)


def forum_post(leak: Leak, bank: str = "某银行") -> str:
    """A seller's post: the offer in prose, then the first rows pasted as a sample."""
    sample = leak.head(FORUM_SAMPLE)
    lines = [
        f"【出售】{bank}客户资料 {leak.rows.height}条，新鲜一手，可验证",
        "字段：" + " ".join(leak.rows.columns),
        "价格：0.5元/条，量大从优，支持担保交易。",
        "联系：TG @data_seller  （下面是样本，自行验证）",
        "----------------------------------------",
        " ".join(leak.rows.columns),
    ]
    lines += [" ".join("" if v is None else v for v in r) for r in _rows(sample)]
    lines += ["----------------------------------------", "需要全量的私聊，不回复伸手党。", ""]
    return "\n".join(lines)


def _json(leak: Leak) -> str:
    return json.dumps(leak.rows.to_dicts(), ensure_ascii=False, indent=1)


def _jsonl(leak: Leak) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in leak.rows.to_dicts())


def _xlsx(leak: Leak, tmp: Path) -> None:
    book = xlsxwriter.Workbook(str(tmp), {"strings_to_numbers": False})
    sheet = book.add_worksheet("Sheet1")
    sheet.write_row(0, 0, leak.rows.columns)
    for i, r in enumerate(_rows(leak), start=1):
        for j, v in enumerate(r):
            if v is not None:
                sheet.write_string(i, j, v)  # IDs and cards stay text, as in real dumps
    book.close()


def write_leak(leak: Leak, path: Path, fmt: str, encoding: str = "utf-8") -> Path:
    """Write ``leak`` to ``path`` in ``fmt`` (see FORMATS); ``encoding`` applies to text formats
    (e.g. "gbk" for CSV as a Chinese Excel saves it). Returns ``path``."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    try:
        if fmt == "xlsx":
            _xlsx(leak, tmp)
        else:
            text = {
                "csv": lambda: _delimited(leak, ","),
                "tsv": lambda: _delimited(leak, "\t"),
                "json": lambda: _json(leak),
                "jsonl": lambda: _jsonl(leak),
                "mysql": lambda: _mysql(leak),
                "postgres": lambda: _postgres(leak),
                "forum": lambda: forum_post(leak),
            }[fmt]()
            tmp.write_bytes(text.encode(encoding))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
