"""One row per leak record of a verification: its place in the leak, the customer it was
linked to and how, and per field whether the leaked value is that customer's current one, an
earlier one (with when it held), another one, or absent. The values are the leak's, raw: they
stay in memory and are masked wherever they are shown or written (``report.records_*``)."""

from __future__ import annotations

import polars as pl

from leaktrace.verify.leak_input import LEAK_COLUMNS

# Identifiers a link can rest on in full, in the order they are named.
EXACT_ON = ("resident_id", "mobile", "bank_card", "email")
PLACE = ("source", "table", "row")
LINK = ("customer", "link", "exact_on", "weight", "prob")
DATES = pl.Date


def status_column(fld: str) -> str:
    """The table's column of ``fld``'s status (``field_status`` words: current, historical,
    disagrees, unknown, missing; null where the record is not linked)."""
    return f"{fld}_status"


def date_columns(fld: str) -> tuple[str, str]:
    """The table's columns of when ``fld``'s agreeing value held: from (current: since when),
    to (earlier values only)."""
    return f"{fld}_from", f"{fld}_to"


def fields_of(table: pl.DataFrame) -> list[str]:
    """The leak's fields the table holds, in the canonical order."""
    return [f for f in LEAK_COLUMNS if f in table.columns]


def _exact_on(matches: pl.DataFrame, top: dict[str, int]) -> pl.Expr:
    """The identifiers agreeing in full (their best comparison level) on an exact link."""
    named = [
        pl.when(pl.col(f"g_{n}") == top[n]).then(pl.lit(n))
        for n in EXACT_ON
        if n in top and f"g_{n}" in matches.columns
    ]
    agreeing = pl.concat_list(named).list.drop_nulls() if named else pl.lit(None)
    return (
        pl.when(pl.col("method") == "exact")
        .then(agreeing)
        .otherwise(pl.lit(None))
        .cast(pl.List(pl.String))
    )


def record_table(
    leak: pl.DataFrame,
    places: pl.DataFrame,
    matches: pl.DataFrame | None = None,
    statuses: pl.DataFrame | None = None,
    compared: list[str] | tuple[str, ...] = (),
    top: dict[str, int] | None = None,
) -> pl.DataFrame:
    """The per-record table: every row of ``leak`` (``rid`` and its canonical columns) in
    ``rid`` order with its place (``places``: rid, source, table, row), its link (``matches``
    of the linkage: rid, mid, weight, prob, method, g_* levels; ``top`` the best level of each
    comparison) and, per field, its value and status (``statuses``: rows of the engine's
    ``field_status`` for the ``compared`` fields). A field the leak has and the master lacks
    is ``unknown`` on linked records (``missing`` where the leak has no value either)."""
    fields = [f for f in LEAK_COLUMNS if f in leak.columns and leak[f].null_count() < leak.height]
    out = leak.select("rid", *fields).join(places.select("rid", *PLACE), on="rid", how="left")
    if matches is not None and matches.height:
        link = matches.select(
            "rid",
            pl.col("mid").alias("customer"),
            pl.col("method").alias("link"),
            _exact_on(matches, top or {}).alias("exact_on"),
            pl.col("weight").cast(pl.Float64),
            pl.col("prob").cast(pl.Float64),
        )
        out = out.join(link, on="rid", how="left")
    else:
        customer = matches["mid"].dtype if matches is not None else pl.String
        out = out.with_columns(
            pl.lit(None, customer).alias("customer"),
            pl.lit(None, pl.String).alias("link"),
            pl.lit(None, pl.List(pl.String)).alias("exact_on"),
            pl.lit(None, pl.Float64).alias("weight"),
            pl.lit(None, pl.Float64).alias("prob"),
        )
    linked = pl.col("customer").is_not_null()
    for f in fields:
        lo, hi = date_columns(f)
        if statuses is not None and f in compared:
            per = statuses.filter(pl.col("field") == f).select(
                "rid",
                pl.col("status").alias(status_column(f)),
                pl.col("lo").cast(DATES).alias(lo),
                pl.col("hi").cast(DATES).alias(hi),
            )
            out = out.join(per, on="rid", how="left")
        else:
            word = pl.when(pl.col(f).is_null()).then(pl.lit("missing")).otherwise(pl.lit("unknown"))
            out = out.with_columns(
                pl.when(linked).then(word).alias(status_column(f)),
                pl.lit(None, DATES).alias(lo),
                pl.lit(None, DATES).alias(hi),
            )
    columns = ["rid", *PLACE, *LINK]
    for f in fields:
        columns += [f, status_column(f), *date_columns(f)]
    return out.sort("rid").select(columns)
