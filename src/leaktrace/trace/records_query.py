"""The QUERY form of ``share --records``: a SQL condition over the master's columns (``网点 =
'0101' AND 开户日期 < '2020-01-01'``) choosing the customers to share.

The condition is parsed by sqlglot and checked to hold only columns, values, operators and
scalar functions of an allow-list (no subquery, statement, table or file function), then run
by DuckDB as ``SELECT customer FROM master WHERE condition`` on the master's Parquet copy, in a
connection that may read that one file and no other. Errors name the condition's problem (an
unknown column, the syntax, a type) but never a value of the master.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb
import numpy as np
import sqlglot
from numpy.typing import NDArray
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from leaktrace.errors import InputError, Verbatim
from leaktrace.i18n import N_

PLACE = "--records"
EXPECTED = N_(
    "a condition over the master's columns, such as 网点 = '0101' AND 开户日期 < '2020-01-01'"
)
#: What a condition may hold: columns, values, operators and scalar functions without effects.
ALLOWED: tuple[type[exp.Expression], ...] = (
    exp.Column, exp.Identifier, exp.Literal, exp.Boolean, exp.Null, exp.Paren, exp.Tuple,
    exp.And, exp.Or, exp.Not, exp.Xor,
    exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.NullSafeEQ, exp.NullSafeNEQ,
    exp.Is, exp.In, exp.Between, exp.Like, exp.ILike, exp.RegexpLike, exp.StartsWith,
    exp.Add, exp.Sub, exp.Mul, exp.Div, exp.IntDiv, exp.Mod, exp.Neg, exp.DPipe, exp.Concat,
    exp.Cast, exp.TryCast, exp.DataType, exp.DataTypeParam, exp.Case, exp.If, exp.Coalesce,
    exp.Lower, exp.Upper, exp.Length, exp.Substring, exp.Trim, exp.Left, exp.Right,
    exp.StrPosition, exp.Abs, exp.Round, exp.Year, exp.Quarter, exp.Month, exp.Day,
    exp.Extract, exp.Var, exp.Interval, exp.CurrentDate, exp.DateDiff, exp.Date,
)  # fmt: skip


def customers_where(
    condition: str, parquet: Path, columns: Sequence[str], customer_column: str
) -> NDArray[np.int64]:
    """The customer numbers of the master's rows (``parquet``, with ``columns``) where
    ``condition`` holds, sorted; an InputError naming the condition's problem, or that no row
    meets it."""
    where = parse(condition, columns)
    con = duckdb.connect()
    try:
        con.execute("SET allowed_paths = [$1]", [str(parquet)])
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
        quoted = str(parquet).replace("'", "''")
        con.execute(f"CREATE VIEW master AS SELECT * FROM read_parquet('{quoted}')")
        customer = exp.column(customer_column, quoted=True).sql(dialect="duckdb")
        sql = f"SELECT DISTINCT CAST({customer} AS BIGINT) FROM master WHERE {where}"
        try:
            found = con.execute(sql).fetchnumpy()
        except duckdb.BinderException as e:  # types and names, never values
            why = str(e).split("\n", 1)[0].removeprefix("Binder Error: ")
            raise InputError(PLACE, EXPECTED, Verbatim(why)) from None
        except duckdb.Error as e:  # a conversion's message quotes the master's value
            raise InputError(
                PLACE,
                EXPECTED,
                N_("a condition DuckDB could not evaluate on the master ({kind})"),
                kind=Verbatim(type(e).__name__),
            ) from None
    finally:
        con.close()
    numbers = np.sort(next(iter(found.values())).astype(np.int64))
    if not numbers.size:
        raise InputError(PLACE, N_("a condition that some of the master's rows meet"), N_("none"))
    return numbers


def parse(condition: str, columns: Sequence[str]) -> str:
    """``condition`` checked and written again in DuckDB's dialect: what runs is what was
    checked. An InputError for a syntax error, more than one statement, anything beyond the
    allow-list, or a column the master does not have."""
    try:
        trees = [t for t in sqlglot.parse(condition, read="duckdb") if t is not None]
    except TokenError:  # its message quotes the text
        raise InputError(
            PLACE, EXPECTED, N_("text SQL cannot split into words (an unclosed quote?)")
        ) from None
    except ParseError as e:
        first = e.errors[0] if e.errors else {}
        raise InputError(
            PLACE,
            EXPECTED,
            N_("a syntax error at character {col}: {why}"),
            col=first.get("col", 0),
            why=Verbatim(str(first.get("description", "")).split(" for <")[0]),
        ) from None
    if len(trees) != 1:
        found = N_("nothing") if not trees else N_("more than one statement")
        raise InputError(PLACE, EXPECTED, found)
    tree = trees[0]
    for node in tree.walk():
        if not isinstance(node, ALLOWED):
            what = node.name if isinstance(node, exp.Anonymous) else node.key
            raise InputError(
                PLACE, EXPECTED, N_("{what}, which a condition may not use"), what=Verbatim(what)
            )
    known = {c.casefold() for c in columns}
    for column in tree.find_all(exp.Column):
        if column.table:
            raise InputError(PLACE, EXPECTED, N_("a column named with a table"))
        if column.name.casefold() not in known:
            raise InputError(
                PLACE,
                N_("a condition over the master's columns ({known})"),
                N_("no column {column}"),
                known=Verbatim(", ".join(columns)),
                column=Verbatim(column.name),
            )
    return tree.sql(dialect="duckdb", comments=False)  # a comment runs nothing: dropped
