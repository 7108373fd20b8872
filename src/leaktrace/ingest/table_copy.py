"""One table of any table source as one Parquet file: what verify reads masters and histories
through. Files go through :func:`open_source` (encoding and format detected, bounded memory,
problems counted) and come out with their raw columns as strings; Parquet files are used as
they are; a DuckDB file's table and a PostgreSQL table are copied with their types."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from leaktrace.errors import InputError, Message, Verbatim
from leaktrace.i18n import N_
from leaktrace.ingest.opener import open_source
from leaktrace.ingest.postgres import is_postgres_url, postgres_place, read_postgres_table
from leaktrace.ingest.problems import ProblemLog

DUCKDB_SUFFIXES = (".duckdb", ".db", ".ddb")


@dataclass
class TableCopy:
    """The table as Parquet, how messages name its source, and what of it was not read."""

    path: Path
    place: str  # how messages name the source (a PostgreSQL URL without its password)
    notes: list[Message] = field(default_factory=list)  # rows skipped and tables not read


def table_place(source: str | Path, table: str | None = None) -> str:
    """How messages and reports name a table source: its path, or a PostgreSQL URL without its
    password, with the table."""
    if is_postgres_url(source):
        return postgres_place(str(source), table)
    return f"{source} table {table}" if table else str(source)


def copy_table(
    source: str | Path, out: Path, table: str | None = None, default: str | None = None
) -> TableCopy:
    """``source`` as a Parquet file: the file itself when it is Parquet, else a copy at ``out``
    (written atomically). ``table`` picks a DuckDB or PostgreSQL table, a workbook's sheet or a
    SQL dump's table; a DuckDB file holding several tables uses ``default`` if it has it."""
    place = table_place(source, table)
    if is_postgres_url(source):
        if not table:
            raise InputError(place, N_("a table name with the PostgreSQL URL"))
        return TableCopy(read_postgres_table(str(source), table, out), place)
    path = Path(source)
    if not path.exists():
        raise InputError(str(path), N_("an existing file"))
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        try:
            pq.read_schema(path)
        except (pa.ArrowInvalid, OSError):
            raise InputError(str(path), N_("a readable Parquet file")) from None
        return TableCopy(path, place)
    if suffix in DUCKDB_SUFFIXES:
        return TableCopy(_from_duckdb(path, table, default, out), place)
    return _from_ingest(path, table, out)


def _from_duckdb(path: Path, table: str | None, default: str | None, out: Path) -> Path:
    """Copy one table of a DuckDB file to Parquet (its types kept)."""
    import duckdb  # only for DuckDB files: `import leaktrace` need not load it

    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error:
        raise InputError(str(path), N_("a readable DuckDB database file")) from None
    try:
        tables = [r[0] for r in con.execute("SHOW TABLES").fetchall()]
        name = table or (default if default in tables else None)
        if name is None and len(tables) == 1:
            name = tables[0]
        if name not in tables:
            raise InputError(
                str(path),
                N_("a table name (the file holds {tables})"),
                tables=", ".join(tables),
            )
        tmp = str(out) + ".tmp"
        ident = '"' + str(name).replace('"', '""') + '"'
        target = tmp.replace("'", "''")
        con.execute(f"COPY (SELECT * FROM {ident}) TO '{target}' (FORMAT parquet)")
    finally:
        con.close()
    os.replace(tmp, out)
    return out


def _from_ingest(path: Path, table: str | None, out: Path) -> TableCopy:
    """Stream one table of a file ingest reads into Parquet, every column a string. Batches
    whose columns differ (JSON records gaining keys) go to parts joined at the end."""
    src = open_source(path)
    if src.kind != "table":
        raise InputError(
            src.name,
            N_("a table (CSV, TSV, XLSX, JSON, JSONL or a SQL dump)"),
            Verbatim(src.format),
        )
    log = ProblemLog(src.name, src.problems)
    chosen: str | None = None
    others: dict[str, int] = {}
    parts: list[Path] = []
    writer: pq.ParquetWriter | None = None
    schema: pa.Schema | None = None
    free_rows = 0
    try:
        for batch in src.batches():
            if batch.free_text:  # a CSV's ragged rows: not records of the table
                free_rows += batch.data.num_rows
                continue
            name = batch.table
            if chosen is None and (table is None or table in (name, name.rsplit(":", 1)[-1])):
                chosen = name
            if name != chosen:
                others[name] = others.get(name, 0) + batch.data.num_rows
                continue
            data = batch.data
            if isinstance(data, pa.RecordBatch):
                data = pa.Table.from_batches([data])
            if schema is None or not data.schema.equals(schema):
                if writer is not None:
                    writer.close()
                schema = data.schema
                parts.append(out.with_name(f"{out.name}.part{len(parts)}"))
                writer = pq.ParquetWriter(parts[-1], schema, compression="zstd")
            writer.write_table(data)
    finally:
        if writer is not None:
            writer.close()
    if free_rows:
        log.add(
            "ragged",
            src.name,
            N_("rows with as many fields as the header; rows with other counts were not read"),
            free_rows,
        )
    log.finish()
    if chosen is None:
        for p in parts:
            p.unlink()
        if table:
            raise InputError(
                src.name,
                N_("a table or sheet named {table}"),
                N_("tables: {tables}"),
                table=table,
                tables=", ".join(others),
            )
        raise InputError(src.name, N_("at least one table row"), N_("none"))
    tmp = out.with_name(out.name + ".tmp")
    if len(parts) == 1:
        os.replace(parts[0], tmp)
    else:
        pl.concat([pl.scan_parquet(p) for p in parts], how="diagonal").sink_parquet(tmp)
        for p in parts:
            p.unlink()
    os.replace(tmp, out)
    notes = [
        Message(
            N_("{place}: expected {expected} ({rows} rows skipped)"),
            place=q.place,
            expected=q.expected,
            rows=q.rows_skipped,
        )
        for q in src.problems
        if q.rows_skipped
    ]
    if others:
        notes.append(
            Message(
                N_(
                    "{place}: read table {table}; not read (rows in brackets): {others} "
                    "(name one with --table)"
                ),
                place=src.name,
                table=chosen,
                others=", ".join(f"{t} ({n})" for t, n in others.items()),
            )
        )
    return TableCopy(out, src.name, notes)
