"""`python -m bench.formats_bench`: the same customer records written as CSV, a MySQL INSERT
dump, PostgreSQL COPY and INSERT dumps, a JSON array and JSON Lines, each scanned with
``leaktrace.scan.scan``; MB/s, records/s and the ratio to the CSV's MB/s, with the counts
checked identical across formats. Appended as a dated section to bench/RESULTS.md.

Start-up is excluded: leaktrace is imported and a small file scanned before the clock starts.
Each format is scanned ``--repeat`` times, the formats in turn (a busy spell of a shared machine
then slows all of them), and the fastest wall time is kept; the CPU time (user + system, this
process and its scan workers) of that run is shown too.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import polars as pl

from bench.results import append_section, header
from leaktrace.scan import scan
from leaktrace.synth.people import draw_people

OUT_DIR = Path(__file__).resolve().parent / "out" / "formats"
SEED = 20261206
MB = 1_000_000
CHUNK = 200_000  # records drawn and written at a time
STATEMENT_BYTES = 1 << 20  # mysqldump's extended INSERTs are cut near --net-buffer-length
TARGET = 0.80  # every dump format (SQL, JSON) at this share of the CSV's MB/s or more
COLUMNS = ["客户号", "姓名", "身份证号", "手机号", "银行卡号", "邮箱", "地址", "备注"]
SQL_COLUMNS = ["id", "name", "id_no", "mobile", "card_no", "email", "address", "note"]
NOTES = [
    "VIP客户, 已核实",
    '客户说"尽快办理"',
    "第一行\n第二行",
    "路径 C:\\data\\客户",
    "O'Brien 代办; (加急)",
    "tab\there",
]


def customers(n: int, seed: int) -> Iterator[pl.DataFrame]:
    """``n`` synthetic customers in chunks, with the variety of real exports: Chinese names and
    addresses, notes holding commas, quotes, newlines, backslashes and tabs, NULLs, and a share
    of masked resident IDs and mobiles."""
    for start in range(0, n, CHUNK):
        m = min(CHUNK, n - start)
        rng = np.random.default_rng([seed, start // CHUNK])
        people = draw_people(rng, m, dt.date(2026, 1, 1))
        masked = rng.random(m) < 0.05
        note = pl.Series(rng.choice(NOTES, m)).set(pl.Series(rng.random(m) >= 0.3), None)
        frame = people.select(
            pl.Series("客户号", np.arange(start + 1, start + m + 1)).cast(pl.String),
            pl.col("name").alias("姓名"),
            pl.when(pl.Series(masked))
            .then(
                pl.col("resident_id").str.slice(0, 6)
                + "********"
                + pl.col("resident_id").str.slice(14)
            )
            .otherwise(pl.col("resident_id"))
            .alias("身份证号"),
            pl.when(pl.Series(rng.random(m) < 0.03))
            .then(pl.col("mobile").str.slice(0, 3) + "****" + pl.col("mobile").str.slice(7))
            .otherwise(pl.col("mobile"))
            .alias("手机号"),
            pl.when(pl.Series(rng.random(m) < 0.2))
            .then(None)
            .otherwise(pl.col("card_no"))
            .alias("银行卡号"),
            pl.col("email").alias("邮箱"),
            pl.col("address").alias("地址"),
            note.alias("备注"),
        )
        yield frame


def _escaped(col: str, escapes: tuple[tuple[str, str], ...]) -> pl.Expr:
    """A string column with each character of ``escapes`` replaced, backslash first."""
    e = pl.col(col)
    for char, escape in escapes:
        e = e.str.replace_all(char, escape, literal=True)
    return e


_LINE_ESCAPES = (("\\", "\\\\"), ("\n", "\\n"), ("\r", "\\r"))


def _mysql(col: str) -> pl.Expr:
    """A column as mysqldump writes a string value: backslash escapes, NULL bare."""
    escaped = _escaped(col, (*_LINE_ESCAPES, ("'", "\\'"), ('"', '\\"')))
    return pl.when(pl.col(col).is_null()).then(pl.lit("NULL")).otherwise("'" + escaped + "'")


def _pg(col: str) -> pl.Expr:
    """A column as pg_dump --inserts writes it: quotes doubled, everything else as it is."""
    quoted = "'" + pl.col(col).str.replace_all("'", "''", literal=True) + "'"
    return pl.when(pl.col(col).is_null()).then(pl.lit("NULL")).otherwise(quoted)


def _copy(col: str) -> pl.Expr:
    """A column as COPY text format writes it: \\N for NULL, backslash escapes."""
    escaped = _escaped(col, (*_LINE_ESCAPES, ("\t", "\\t")))
    return pl.when(pl.col(col).is_null()).then(pl.lit("\\N")).otherwise(escaped)


def _tuples(frame: pl.DataFrame, literal: Callable[[str], pl.Expr], sep: str) -> list[str]:
    values = [pl.col(COLUMNS[0])] + [literal(c) for c in COLUMNS[1:]]
    return frame.select(("(" + pl.concat_str(values, separator=sep) + ")").alias("t"))[
        "t"
    ].to_list()


def _create(quote: str, table: str) -> str:
    cols = [f"  {quote}id{quote} bigint NOT NULL"] + [
        f"  {quote}{c}{quote} varchar(255) DEFAULT NULL" for c in SQL_COLUMNS[1:]
    ]
    return f"CREATE TABLE {table} (\n" + ",\n".join(cols) + "\n);\n"


def write_formats(
    n: int, seed: int, out: Path, statement_bytes: int = STATEMENT_BYTES
) -> dict[str, Path]:
    """The same ``n`` customers in each format (MySQL INSERTs of about ``statement_bytes``);
    returns the paths by format name."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "csv": out / "customers.csv",
        "mysql_insert": out / "customers_mysql.sql",
        "pg_copy": out / "customers_pg_copy.sql",
        "pg_insert": out / "customers_pg_insert.sql",
        "json": out / "customers.json",
        "json_pretty": out / "customers_pretty.json",
        "jsonl": out / "customers.jsonl",
    }
    files = {k: p.open("w", encoding="utf-8", newline="") for k, p in paths.items()}
    f = files
    f["mysql_insert"].write(
        "-- MySQL dump 10.13  Distrib 8.0.36\n/*!40101 SET NAMES utf8mb4 */;\n"
        "DROP TABLE IF EXISTS `customer`;\n"
        + _create("`", "`customer`").replace(");\n", ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;\n")
        + "LOCK TABLES `customer` WRITE;\n/*!40000 ALTER TABLE `customer` DISABLE KEYS */;\n"
    )
    pg_head = "--\n-- PostgreSQL database dump\n--\nSET standard_conforming_strings = on;\n"
    f["pg_copy"].write(
        pg_head
        + _create("", "public.customer")
        + f"COPY public.customer ({', '.join(SQL_COLUMNS)}) FROM stdin;\n"
    )
    f["pg_insert"].write(pg_head + _create("", "public.customer"))
    f["json"].write("[")
    f["json_pretty"].write("[\n")
    first = True
    for frame in customers(n, seed):
        f["csv"].write(frame.write_csv(include_header=first))
        statement: list[str] = []
        size = 0
        for t in _tuples(frame, _mysql, ","):
            statement.append(t)
            size += len(t) + 1
            if size >= statement_bytes:
                f["mysql_insert"].write(
                    "INSERT INTO `customer` VALUES " + ",".join(statement) + ";\n"
                )
                statement, size = [], 0
        if statement:
            f["mysql_insert"].write("INSERT INTO `customer` VALUES " + ",".join(statement) + ";\n")
        copy = frame.select(pl.concat_str([_copy(c) for c in COLUMNS], separator="\t").alias("r"))
        f["pg_copy"].write("\n".join(copy["r"].to_list()) + "\n")
        f["pg_insert"].write(
            "".join(f"INSERT INTO public.customer VALUES {t};\n" for t in _tuples(frame, _pg, ", "))
        )
        lines = frame.write_ndjson()
        f["jsonl"].write(lines)
        f["json"].write(("" if first else ",\n") + ",\n".join(lines.splitlines()))
        # as json.dumps(indent=2) and API tools write arrays: every key on a line of its own
        pretty = json.dumps(frame.to_dicts(), ensure_ascii=False, indent=2)[2:-2]
        f["json_pretty"].write(("" if first else ",\n") + pretty)
        first = False
    f["mysql_insert"].write("/*!40000 ALTER TABLE `customer` ENABLE KEYS */;\nUNLOCK TABLES;\n")
    f["pg_copy"].write("\\.\n\n")
    f["json"].write("]\n")
    f["json_pretty"].write("\n]\n")
    for handle in files.values():
        handle.close()
    return paths


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def measure(path: Path, processes: int | None) -> dict[str, object]:
    """One scan of ``path``: wall and CPU seconds, records, rows skipped, counts per kind."""
    cpu, t0 = _cpu(), time.perf_counter()
    res = scan([path], processes=processes)
    wall, cpu = time.perf_counter() - t0, _cpu() - cpu
    return {
        "seconds": wall,
        "cpu_seconds": cpu,
        "bytes": path.stat().st_size,
        "records": res.records,
        "rows_skipped": sum(s.rows_skipped for s in res.sources),
        "counts": {k: [s.found, s.valid, s.invalid, s.masked] for k, s in res.kinds.items()},
    }


def render(results: dict[str, dict[str, object]], n: int, repeat: int) -> str:
    csv = results["csv"]
    csv_mbs = csv["bytes"] / csv["seconds"] / MB  # type: ignore[operator]
    lines = [
        header("scan throughput by format", ("leaktrace", "polars", "pyarrow")),
        f"- Records: {n:,} synthetic customers (leaktrace.synth), the same in every format; "
        f"fastest of {repeat} scans each (taken in turn), start-up excluded. MB = 10^6 bytes. CPU = user + "
        "system of the scan and its workers.",
        "",
        "| format | MB | seconds | CPU s | MB/s | records/s | vs CSV | MB per CPU s | records "
        "| same counts |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for fmt, r in results.items():
        mbs = r["bytes"] / r["seconds"] / MB  # type: ignore[operator]
        same = r["records"] == csv["records"] and r["counts"] == csv["counts"]
        lines.append(
            f"| {fmt} | {r['bytes'] / MB:.1f} | {r['seconds']:.2f} | {r['cpu_seconds']:.2f} "  # type: ignore[operator]
            f"| {mbs:.1f} | {r['records'] / r['seconds']:,.0f} | {mbs / csv_mbs:.2f} "  # type: ignore[operator]
            f"| {r['bytes'] / r['cpu_seconds'] / MB:.1f} "  # type: ignore[operator]
            f"| {r['records']:,} | {'yes' if same else 'NO'} |"
        )
    dumps = [f for f in results if f != "csv"]
    ratios = [results[f]["bytes"] / results[f]["seconds"] / MB / csv_mbs for f in dumps]  # type: ignore[operator]
    if ratios:
        met = "met" if min(ratios) >= TARGET else "not met"
        lines += ["", f"- Target: every dump format ≥ {TARGET:.0%} of the CSV's MB/s: "
                  f"{met} (lowest {min(ratios):.2f})."]  # fmt: skip
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=2_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--processes", type=int, default=None, help="default: one per core")
    ap.add_argument("--formats", default="", help="comma-separated subset, e.g. csv,pg_copy")
    ap.add_argument("--no-record", action="store_true", help="print, do not append to RESULTS.md")
    args = ap.parse_args(argv)
    out = OUT_DIR / str(args.records)
    stamp = out / "done.json"
    done = json.loads(stamp.read_text()) if stamp.exists() else {}
    if done.get("seed") == SEED and "json_pretty" in done["paths"]:
        paths = {k: Path(v) for k, v in done["paths"].items()}
    else:
        paths = write_formats(args.records, SEED, out)
        stamp.write_text(json.dumps({"seed": SEED, "paths": {k: str(v) for k, v in paths.items()}}))
    wanted = [f for f in args.formats.split(",") if f] or list(paths)
    warm = out / "warm-up.csv"
    warm.write_text(next(customers(1000, SEED + 1)).write_csv(), encoding="utf-8")
    scan([warm], processes=1)  # imports and reference tables loaded before any clock starts
    results: dict[str, dict[str, object]] = {}
    for _ in range(args.repeat):  # round-robin, so a busy spell of the machine hits all formats
        for fmt in ["csv", *[f for f in wanted if f != "csv"]]:
            r = measure(paths[fmt], args.processes)
            print(f"{fmt}: {r['bytes'] / r['seconds'] / MB:.1f} MB/s, "  # type: ignore[operator]
                  f"{r['cpu_seconds']:.2f} CPU s", file=sys.stderr)  # fmt: skip
            if fmt not in results or r["seconds"] < results[fmt]["seconds"]:  # type: ignore[operator]
                results[fmt] = r
    section = render(results, args.records, args.repeat)
    print(section)
    if not args.no_record:
        append_section(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
