"""Leak and master data in, canonical Parquet out: column mapping, normalisation where the
values need it, and clear errors for inputs that cannot be verified.

The leak goes through ``leaktrace.scan`` (any format ingest reads) unless it already is a
scanned Parquet table. The master may be Parquet, CSV, a DuckDB file or a PostgreSQL table;
anything not Parquet is first copied to Parquet so every engine reads the same file.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import polars as pl
import pyarrow.parquet as pq

from leaktrace.errors import InputError
from leaktrace.pii import KINDS
from leaktrace.scan import OUT_SCHEMA, scan

if TYPE_CHECKING:
    from psycopg import Column, sql

# Scan columns -> canonical linkage columns.
LEAK_COLUMNS = {
    "person_name": "name",
    "resident_id": "id",
    "mobile": "mobile",
    "bank_card": "card",
    "address": "addr",
    "email": "email",
}
CANON_KIND = {v: k for k, v in LEAK_COLUMNS.items()}
ID_NAMES = ("customer_id", "cust_id", "client_id", "客户号", "客户编号", "客户id", "id")
EXTRA_NAMES = {
    "birth": ("birth_date", "birthday", "dob", "date_of_birth", "出生日期", "生日"),
    "opened": ("opened_on", "open_date", "opened", "开户日期"),
}
LINKABLE = ("id", "mobile", "card", "name")
HISTORY_FIELDS = {"mobile": "mobile", "address": "addr", "addr": "addr", "email": "email"}
NORMAL_CHECK_ROWS = 20_000


@dataclass
class LeakInput:
    """The canonical leak: ``rid`` (0-based record number) and the values present."""

    path: Path  # canonical Parquet
    rows: int
    present: set[str]


@dataclass
class MasterInput:
    """The master as one Parquet file and the SQL projecting it onto canonical columns."""

    path: Path
    select: dict[str, str]  # canonical column -> SQL expression over the source columns
    rows: int
    present: set[str]
    history: Path | None = None
    as_of: dt.date | None = None
    notes: list[str] = field(default_factory=list)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def prepare_leak(leak: Path, work: Path) -> LeakInput:
    """Scan ``leak`` (unless it is a scanned table) and write its canonical columns."""
    leak = Path(leak)
    scanned = leak
    is_scan = leak.suffix.lower() == ".parquet" and set(OUT_SCHEMA.names) <= set(
        pq.read_schema(leak).names
    )
    if not is_scan:
        scanned = work / "leak_scan.parquet"
        scan([leak], out=scanned)
    df = pl.read_parquet(scanned, columns=list(LEAK_COLUMNS))
    if df.height == 0:
        raise InputError(str(leak), "at least one record", "no records")
    df = (
        df.rename(LEAK_COLUMNS)
        .with_row_index("rid")
        .with_columns(pl.col("rid").cast(pl.Int64), pl.lit(None, pl.String).alias("birth"))
    )
    present = {c for c in LEAK_COLUMNS.values() if df[c].null_count() < df.height}
    if not present & {"id", "mobile", "card", "email"} and not {"name", "addr"} <= present:
        raise InputError(
            str(leak),
            "a column of resident IDs, mobile numbers, card numbers or emails, "
            "or names together with addresses",
            "columns: " + (", ".join(sorted(CANON_KIND[c] for c in present)) or "none usable"),
        )
    if "id" in present:
        present.add("birth")
    out = work / "leak.parquet"
    df.write_parquet(out)
    return LeakInput(out, df.height, present)


PG_SCHEMES = ("postgresql://", "postgres://")


def is_postgres_url(master: str | Path | None) -> bool:
    """Whether ``master`` names a PostgreSQL database (a ``postgresql://`` URL)."""
    return str(master).startswith(PG_SCHEMES)


def _pg_secrets(url: str) -> tuple[str | None, list[str]]:
    """The URL without its password (``postgresql://user@host:port/db``; None when libpq
    cannot parse it) and the strings no message may show: the password as written and decoded,
    and the URL itself."""
    from urllib.parse import quote

    from psycopg.conninfo import conninfo_to_dict

    secrets = [url]
    try:
        parts = conninfo_to_dict(url)
    except Exception:  # psycopg's message quotes the whole URL: none of it is shown
        return None, secrets
    if pw := parts.get("password"):
        secrets += [str(pw), quote(str(pw), safe=""), quote(str(pw))]
    user = f"{parts['user']}@" if parts.get("user") else ""
    host = str(parts.get("host") or "")
    port = f":{parts['port']}" if parts.get("port") else ""
    return f"postgresql://{user}{host}{port}/{parts.get('dbname') or ''}", secrets


def master_place(master: str | Path, table: str | None = None) -> str:
    """How messages and reports name the master: its path, or a PostgreSQL URL without its
    password, with the table."""
    if not is_postgres_url(master):
        return str(master)
    shown = _pg_secrets(str(master))[0] or "a PostgreSQL URL"
    return f"{shown} table {table}" if table else shown


def _pg_table(table: str, place: str) -> tuple[str, ...]:
    """``NAME`` or ``SCHEMA.NAME`` as identifier parts (quoted by psycopg when used, so any
    character but a control character is safe in them)."""
    parts = tuple(table.split("."))
    if not table or len(parts) > 2 or any(not p or any(ord(ch) < 32 for ch in p) for p in parts):
        raise InputError(place, "a table name as NAME or SCHEMA.NAME", f"{table!r}")
    return parts


def _to_parquet(master: str | Path, table: str | None, work: Path) -> Path:
    """``master`` as a Parquet file (a copy for CSV, DuckDB and PostgreSQL sources)."""
    if is_postgres_url(master):
        if not table:
            raise InputError(master_place(master), "a table name with the PostgreSQL URL")
        return _from_postgres(str(master), table, work)
    path = Path(master)
    if not path.exists():
        raise InputError(str(path), "an existing master data file")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return path
    out = work / "master.parquet"
    if suffix in (".csv", ".tsv", ".txt"):
        sep = "\t" if suffix == ".tsv" else ","
        pl.scan_csv(path, separator=sep, infer_schema=False).sink_parquet(out)
        return out
    if suffix in (".duckdb", ".db", ".ddb"):
        con = duckdb.connect(str(path), read_only=True)
        try:
            tables = [r[0] for r in con.execute("SHOW TABLES").fetchall()]
            name = table or ("customers" if "customers" in tables else None)
            if name is None and len(tables) == 1:
                name = tables[0]
            if name not in tables:
                raise InputError(
                    str(path), "a table name (the file holds " + ", ".join(tables) + ")"
                )
            o = str(out).replace("'", "''")
            con.execute(f"COPY (SELECT * FROM {_quote(name)}) TO '{o}' (FORMAT parquet)")
        finally:
            con.close()
        return out
    raise InputError(str(path), "master data as Parquet, CSV, a DuckDB file or a PostgreSQL URL")


# PostgreSQL type OIDs whose text form polars parses into a typed column; every other type
# (text, varchar, uuid, json, time, interval, ...) stays text.
_PG_INTS = {21: pl.Int16, 23: pl.Int32, 20: pl.Int64}
_PG_FLOATS = {700: pl.Float32, 701: pl.Float64}
_PG_BOOL, _PG_BPCHAR, _PG_NUMERIC = 16, 1042, 1700
_PG_DATE, _PG_TIMESTAMP, _PG_TIMESTAMPTZ = 1082, 1114, 1184
_PG_TS_FORMAT = "%Y-%m-%d %H:%M:%S%.f"


def _pg_column(col: Column) -> tuple[sql.Composable, pl.Expr | None]:
    """The SELECT item copying ``col`` as text, and the polars expression turning that text
    back into the type the column had in PostgreSQL."""
    from psycopg import sql

    name, oid = col.name, col.type_code
    ident = sql.Identifier(name)
    item: sql.Composable = ident
    text = pl.col(name)
    expr: pl.Expr | None = None
    if oid in _PG_INTS:
        expr = text.cast(_PG_INTS[oid])
    elif oid in _PG_FLOATS:
        expr = text.cast(_PG_FLOATS[oid])
    elif oid == _PG_NUMERIC:
        p, s = col.precision, col.scale
        exact = p is not None and p <= 38
        # 'NaN' has no Decimal: it becomes null, as 'infinity' dates do
        expr = text.cast(pl.Decimal(p, s or 0) if exact else pl.Float64, strict=False)
    elif oid == _PG_BOOL:
        expr = pl.when(text.is_null()).then(None).otherwise(text == "t")
    elif oid == _PG_DATE:
        # 'infinity' and BC dates have no polars date: they become null.
        expr = text.str.to_date("%Y-%m-%d", strict=False)
    elif oid == _PG_TIMESTAMP:
        expr = text.str.to_datetime(_PG_TS_FORMAT, time_unit="us", strict=False)
    elif oid == _PG_TIMESTAMPTZ:
        item = sql.SQL("({} AT TIME ZONE 'UTC')").format(ident)
        expr = text.str.to_datetime(_PG_TS_FORMAT, time_unit="us", strict=False)
        expr = expr.dt.replace_time_zone("UTC")
    elif oid == _PG_BPCHAR:  # char(n) pads with blanks; its text value does not
        item = sql.SQL("{}::text").format(ident)
    if item is not ident:
        item = sql.SQL("{} AS {}").format(item, ident)
    return item, (expr.alias(name) if expr is not None else None)


def _from_postgres(url: str, table: str, work: Path) -> Path:
    """Copy a PostgreSQL table to Parquet: psycopg's COPY streams it as CSV (UTF-8, ISO dates,
    in one read-only transaction), then polars gives each column back the type it had in
    PostgreSQL (integers, floats, numerics, booleans, dates, timestamps; the rest as text)."""
    import psycopg
    from psycopg import sql

    shown, secrets = _pg_secrets(url)
    place = f"{shown or 'a PostgreSQL URL'} table {table}"
    ident = sql.Identifier(*_pg_table(table, place))

    def scrub(e: Exception) -> str:
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        for s in sorted(secrets, key=len, reverse=True):
            if s:
                msg = msg.replace(s, "***")
        return msg

    if shown is None:
        raise InputError(place, "a PostgreSQL URL libpq can parse (postgresql://user@host/db)")
    csv_path = work / "master.csv"
    casts: list[pl.Expr] = []
    try:
        with psycopg.connect(
            url, client_encoding="utf8", connect_timeout=15, application_name="leaktrace"
        ) as conn:
            conn.read_only = True
            with conn.cursor() as cur:
                cur.execute("SET DateStyle = 'ISO, YMD'")
                cur.execute("SET extra_float_digits = 3")
                cur.execute(sql.SQL("SELECT * FROM {} LIMIT 0").format(ident))
                items = []
                for col in cur.description or []:
                    item, expr = _pg_column(col)
                    items.append(item)
                    if expr is not None:
                        casts.append(expr)
                query = sql.SQL("COPY (SELECT {} FROM {}) TO STDOUT WITH (FORMAT csv, HEADER)")
                with (
                    open(csv_path, "wb") as f,
                    cur.copy(query.format(sql.SQL(", ").join(items), ident)) as copy,
                ):
                    for chunk in copy:
                        f.write(chunk)
    except psycopg.errors.UndefinedTable as e:
        raise InputError(place, "an existing table", scrub(e)) from None
    except psycopg.errors.InsufficientPrivilege as e:
        raise InputError(place, "a table the user may read", scrub(e)) from None
    except psycopg.OperationalError as e:
        raise InputError(
            place, "a PostgreSQL server that accepts the connection", scrub(e)
        ) from None
    except psycopg.Error as e:
        raise InputError(place, "a readable PostgreSQL table", scrub(e)) from None
    out = work / "master.parquet"
    pl.scan_csv(csv_path, infer_schema=False).with_columns(casts).sink_parquet(out)
    csv_path.unlink()
    return out


def _find(names: list[str], wanted: tuple[str, ...]) -> str | None:
    low = {n.lower(): n for n in names}
    for w in wanted:
        if w.lower() in low:
            return low[w.lower()]
    return None


def _map_columns(names: list[str]) -> dict[str, str]:
    """Canonical column -> master column, by exact names first, then the kinds' header words."""
    out: dict[str, str] = {}
    for canon, kind in CANON_KIND.items():
        words = (kind, canon, *KINDS[kind].header_words)
        if canon == "card":
            words = ("card_no", *words)
        if hit := _find(names, words):
            out[canon] = hit
    for canon, words in EXTRA_NAMES.items():
        if hit := _find(names, words):
            out[canon] = hit
    return out


def _needs_normalising(path: Path, col: str, kind: str) -> bool:
    """Whether a sample of ``col`` changes under the kind's normalisation."""
    s = pl.scan_parquet(path).select(pl.col(col).cast(pl.String)).head(NORMAL_CHECK_ROWS).collect()
    e = pl.col(col)
    changed = s.select((KINDS[kind].normalize_expr(e) != e).any()).item()
    return bool(changed)


def prepare_master(
    master: str | Path, table: str | None, history: Path | None, work: Path
) -> MasterInput:
    """Locate, copy if needed, map and (where needed) normalise the master data."""
    hist = Path(history) if history else None
    p = None if is_postgres_url(master) else Path(master)
    if p is not None and p.is_dir():
        if not (p / "customers.parquet").exists():
            raise InputError(str(p), "a directory holding customers.parquet (a leaktrace world)")
        if hist is None and (p / "history.parquet").exists():
            hist = p / "history.parquet"
        master = p / "customers.parquet"
    place = master_place(master, table)
    path = _to_parquet(master, table, work)
    schema = pq.read_schema(path)
    names = list(schema.names)
    idcol = _find(names, ID_NAMES)
    mapping = _map_columns(names)
    if idcol is None:
        raise InputError(place, "a customer id column (" + ", ".join(ID_NAMES[:3]) + ", …)")
    if not set(mapping) & set(LINKABLE):
        raise InputError(
            place,
            "columns to link on: resident_id, mobile, card_no or name",
            "columns: " + ", ".join(names),
        )
    to_norm = [
        c
        for c in CANON_KIND
        if c in mapping and _needs_normalising(path, mapping[c], CANON_KIND[c])
    ]
    notes = []
    if to_norm:
        out = work / "master_norm.parquet"
        pl.scan_parquet(path).with_columns(
            KINDS[CANON_KIND[c]]
            .normalize_expr(pl.col(mapping[c]).cast(pl.String))
            .alias(mapping[c])
            for c in to_norm
        ).sink_parquet(out)
        path = out
        notes.append("normalised: " + ", ".join(CANON_KIND[c] for c in to_norm))
    select = {"mid": _quote(idcol)}
    for canon in ("name", "id", "mobile", "card", "addr", "email"):
        select[canon] = (
            f"CAST({_quote(mapping[canon])} AS VARCHAR)"
            if canon in mapping
            else "CAST(NULL AS VARCHAR)"
        )
    if "birth" in mapping:
        select["birth"] = f"replace(CAST({_quote(mapping['birth'])} AS VARCHAR), '-', '')"
    else:
        select["birth"] = "CAST(NULL AS VARCHAR)"
    select["opened"] = (
        f"CAST({_quote(mapping['opened'])} AS DATE)"
        if "opened" in mapping
        else "CAST(NULL AS DATE)"
    )
    rows = pq.ParquetFile(path).metadata.num_rows
    if rows == 0:
        raise InputError(place, "at least one customer record", "no rows")
    present = {c for c in ("name", "id", "mobile", "card", "addr", "email") if c in mapping}
    if "birth" in mapping or "id" in mapping:
        present.add("birth")
    hist_path = _prepare_history(hist, work) if hist else None
    as_of = _as_of(path, mapping.get("opened"), hist_path)
    return MasterInput(path, select, rows, present, hist_path, as_of, notes)


def _prepare_history(history: Path, work: Path) -> Path:
    """History as a Parquet file (a copy only when it is not Parquet already), checked for
    the columns (customer_id, field, value, valid_from, valid_to). Engines read it through
    :func:`history_select`, which maps the field names and types: no copy of its millions of
    rows is written, and reading the compressed file costs about what a copy's reads save."""
    sub = work / "history_src"
    sub.mkdir(exist_ok=True)
    src = _to_parquet(history, None, sub)
    names = pq.read_schema(src).names
    need = ("customer_id", "field", "value", "valid_from", "valid_to")
    if missing := [c for c in need if c not in names]:
        raise InputError(
            str(history), "history columns " + ", ".join(need), "missing " + ", ".join(missing)
        )
    return src


def history_select(table: str) -> str:
    """The history ``table`` (as :func:`_prepare_history` checked it) as (mid, field, value,
    valid_from, valid_to) with canonical field names, the fields without history dropped."""
    names = ", ".join(f"'{k}'" for k in HISTORY_FIELDS)
    field = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in HISTORY_FIELDS.items())
    return (
        f"SELECT customer_id AS mid, CASE field {field} END AS field, "
        "CAST(value AS VARCHAR) AS value, CAST(valid_from AS DATE) AS valid_from, "
        f"CAST(valid_to AS DATE) AS valid_to FROM {table} WHERE field IN ({names})"
    )


def _as_of(path: Path, opened: str | None, history: Path | None) -> dt.date | None:
    """The latest date the master data knows of: its last opening or last change."""
    dates = []
    if opened:
        lf = pl.scan_parquet(path)
        # A Date column is taken as it is: parsing its text back would give the same dates.
        col = pl.col(opened)
        dtype = lf.collect_schema()[opened]
        if isinstance(dtype, pl.Datetime):  # a timestamp column (as PostgreSQL often has)
            col = col.dt.date()
        elif dtype != pl.Date:
            col = col.cast(pl.String).str.to_date(strict=False)
        dates.append(lf.select(col.max()).collect().item())
    if history:
        valid_to = (
            pl.scan_parquet(history)
            .filter(pl.col("field").is_in(list(HISTORY_FIELDS)))
            .select(pl.col("valid_to").cast(pl.Date).max())
        )
        dates.append(valid_to.collect().item())
    dates = [d for d in dates if d is not None]
    return max(dates) if dates else None
