"""What a share is made from: the master read and its columns recognised as verify reads it
(customer number, and each column's kind for marks and canaries), and the customers to share
read from a file of customer numbers, one a line."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
from numpy.typing import NDArray

from leaktrace.errors import InputError
from leaktrace.i18n import N_
from leaktrace.ingest.postgres import is_postgres_url
from leaktrace.ingest.table_copy import copy_table
from leaktrace.trace.ledger import MAX_CUSTOMER
from leaktrace.verify.columns import by_header, sample_strings
from leaktrace.verify.master_input import recognise

#: verify's roles that name a kind of column a share marks or fills in canaries.
SHARE_ROLES = {
    "person_name": "person_name",
    "resident_id": "resident_id",
    "mobile": "mobile",
    "bank_card": "bank_card",
    "address": "address",
    "birth": "birth_date",
}
#: Headers of a sex column (verify does not use one; canaries fill it).
SEX_HEADERS = ("sex", "gender", "性别", "xb")


@dataclass(frozen=True)
class MasterTable:
    """The master as a Parquet file, its customer number column and each column's kind, and
    the role -> column mapping verify reads it by."""

    path: Path
    place: str
    customer_column: str
    roles: dict[str, str]  # column -> kind (person_name, resident_id, ..., sex, birth_date)
    found: dict[str, str]  # verify's role -> column (customer, resident_id, birth, ...)


@dataclass(frozen=True)
class ShareMaster:
    """The master a share is cut from, its Parquet copy (what a ``--records`` condition runs on),
    its customer number column and each column's kind."""

    frame: pl.DataFrame
    path: Path
    place: str
    customer_column: str
    roles: dict[str, str]  # column -> kind (person_name, resident_id, ..., sex, birth_date)


def open_master(
    master: str | Path,
    work: Path,
    table: str | None = None,
    columns: dict[str, str] | None = None,
) -> MasterTable:
    """The master (any table file scan reads, Parquet, DuckDB, a synth world directory or a
    PostgreSQL URL with ``table``) as Parquet, with its columns recognised as verify does
    (``columns`` maps roles to columns where recognition should not decide); nothing is read
    into memory but a sample."""
    path = None if is_postgres_url(master) else Path(master)
    if path is not None and path.is_dir():
        if not (path / "customers.parquet").exists():
            raise InputError(
                str(path), N_("a directory holding customers.parquet (a leaktrace world)")
            )
        master = path / "customers.parquet"
    copy = copy_table(master, work / "master.parquet", table, default="customers")
    schema = pl.read_parquet_schema(copy.path)
    not_text = frozenset(
        c for c, t in schema.items() if t.is_temporal() or t.is_float() or t == pl.Boolean
    )
    found, _notes = recognise(sample_strings(copy.path), copy.place, columns, not_text)
    roles = {found[r]: kind for r, kind in SHARE_ROLES.items() if r in found}
    sex = by_header([c for c in schema if c not in roles], SEX_HEADERS)
    if sex:
        roles[sex[0]] = "sex"
    return MasterTable(copy.path, copy.place, found["customer"], roles, found)


def customer_numbers(frame: pl.DataFrame, column: str, place: str) -> pl.Series:
    """The customer column as whole numbers; an InputError when one is not a whole
    non-negative number."""
    numbers = frame[column].cast(pl.Int64, strict=False)
    if numbers.null_count() or bool((numbers < 0).any()) or bool((numbers > MAX_CUSTOMER).any()):
        raise InputError(
            place,
            N_("whole, non-negative customer numbers below 2^56 in column {column}"),
            column=column,
        )
    return numbers


def read_master(
    master: str | Path,
    work: Path,
    table: str | None = None,
    columns: dict[str, str] | None = None,
) -> ShareMaster:
    """The master read whole (see :func:`open_master`); an InputError when its customer
    numbers are not whole non-negative numbers."""
    opened = open_master(master, work, table, columns)
    frame = pl.read_parquet(opened.path)
    customer = opened.customer_column
    numbers = customer_numbers(frame, customer, opened.place)
    return ShareMaster(
        frame.with_columns(numbers), opened.path, opened.place, customer, opened.roles
    )


def read_ids(path: Path) -> NDArray[np.int64]:
    """The customer numbers in ``path``, one a line (blank lines skipped, repeats counted once);
    an InputError naming the first line that holds no customer number."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as e:
        raise InputError(str(path), N_("a readable file of customer numbers, one a line")) from e
    except UnicodeDecodeError:
        raise InputError(str(path), N_("customer numbers written in UTF-8, one a line")) from None
    ids = []
    for line_no, line in enumerate(text.splitlines(), 1):
        word = line.strip()
        if not word:
            continue
        if not word.isascii() or not word.isdigit() or int(word) > MAX_CUSTOMER:
            raise InputError(f"{path}:{line_no}", N_("a customer number (digits)"))
        ids.append(int(word))
    if not ids:
        raise InputError(str(path), N_("at least one customer number"), N_("none"))
    return np.unique(np.asarray(ids, dtype=np.int64))
