"""Reading a PostgreSQL table (``postgresql://…`` URL and a table name) into Parquet, with
the column types it had, and errors that never show the URL's password."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from leaktrace.errors import InputError, Verbatim
from leaktrace.extras import require
from leaktrace.i18n import N_

if TYPE_CHECKING:
    from psycopg import Column, sql

PG_SCHEMES = ("postgresql://", "postgres://")


def is_postgres_url(source: str | Path | None) -> bool:
    """Whether ``source`` names a PostgreSQL database (a ``postgresql://`` URL)."""
    return str(source).startswith(PG_SCHEMES)


def pg_secrets(url: str) -> tuple[str | None, list[str]]:
    """The URL without its password (``postgresql://user@host:port/db``; None when libpq
    cannot parse it) and the strings no message may show: the password as written and decoded,
    and the URL itself."""
    from urllib.parse import quote

    conninfo_to_dict = require("psycopg.conninfo", "postgres").conninfo_to_dict
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


def postgres_place(url: str, table: str | None = None) -> str:
    """How messages and reports name a PostgreSQL table: the URL without its password, with
    the table."""
    shown = pg_secrets(url)[0] or "a PostgreSQL URL"
    return f"{shown} table {table}" if table else shown


def pg_table(table: str, place: str) -> tuple[str, ...]:
    """``NAME`` or ``SCHEMA.NAME`` as identifier parts (quoted by psycopg when used, so any
    character but a control character is safe in them)."""
    parts = tuple(table.split("."))
    if not table or len(parts) > 2 or any(not p or any(ord(ch) < 32 for ch in p) for p in parts):
        raise InputError(place, N_("a table name as NAME or SCHEMA.NAME"), Verbatim(repr(table)))
    return parts


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
    sql = require("psycopg.sql", "postgres")
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


def read_postgres_table(url: str, table: str, out: Path) -> Path:
    """Copy a PostgreSQL table to the Parquet file ``out`` (written atomically): psycopg's
    COPY streams it as CSV (UTF-8, ISO dates, in one read-only transaction), then polars gives
    each column back the type it had in PostgreSQL (integers, floats, numerics, booleans,
    dates, timestamps; the rest as text)."""
    psycopg = require("psycopg", "postgres")
    sql = require("psycopg.sql", "postgres")
    shown, secrets = pg_secrets(url)
    place = f"{shown or 'a PostgreSQL URL'} table {table}"
    ident = sql.Identifier(*pg_table(table, place))

    def scrub(e: Exception) -> Verbatim:
        """The server's own words about ``e``, with the URL's secrets starred out."""
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        for s in sorted(secrets, key=len, reverse=True):
            if s:
                msg = msg.replace(s, "***")
        return Verbatim(msg)

    if shown is None:
        raise InputError(place, N_("a PostgreSQL URL libpq can parse (postgresql://user@host/db)"))
    csv_path = out.with_name(out.name + ".csv")
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
        raise InputError(place, N_("an existing table"), scrub(e)) from None
    except psycopg.errors.InsufficientPrivilege as e:
        raise InputError(place, N_("a table the user may read"), scrub(e)) from None
    except psycopg.OperationalError as e:
        raise InputError(
            place, N_("a PostgreSQL server that accepts the connection"), scrub(e)
        ) from None
    except psycopg.Error as e:
        raise InputError(place, N_("a readable PostgreSQL table"), scrub(e)) from None
    tmp = out.with_name(out.name + ".tmp")
    # COPY's own CSV (UTF-8, RFC 4180, typed back by the column types): not a user's file
    pl.scan_csv(csv_path, infer_schema=False).with_columns(casts).sink_parquet(tmp)
    csv_path.unlink()
    os.replace(tmp, out)
    return out
