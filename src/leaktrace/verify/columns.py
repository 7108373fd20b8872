"""Picking a table's columns for roles (customer id, resident ID, valid_from …): header
synonyms compared loosely, the user's explicit mapping checked, and the errors that say which
option maps a column when the table alone does not tell."""

from __future__ import annotations

import re
from collections.abc import Iterable

import polars as pl

from leaktrace.errors import InputError
from leaktrace.i18n import N_

# Sampled rows for typing columns by their values (as scan types a leak's batch).
SAMPLE_ROWS = 2000
# Headers naming the customer id column, in masters and histories alike: English, Chinese and
# the pinyin initials bank systems use (KHH = 客户号).
CUSTOMER_HEADERS = (
    "customer_id", "cust_id", "client_id", "customer_no", "cust_no", "customer_number",
    "customer", "客户号", "客户编号", "客户id", "客户代码", "客户号码", "客户编码", "客户标识",
    "khh", "khbh", "khdm", "khid", "id",
)  # fmt: skip


def norm_header(header: str) -> str:
    """A header compared loosely: case, blanks, ``_``, ``-`` and ``.`` ignored."""
    return re.sub(r"[\s_\-.]", "", header).lower()


def by_header(columns: Iterable[str], synonyms: Iterable[str]) -> list[str]:
    """The columns whose header is one of ``synonyms`` (loosely compared)."""
    words = {norm_header(s) for s in synonyms}
    return [c for c in columns if norm_header(c) in words]


def sample_strings(path: object, rows: int = SAMPLE_ROWS) -> pl.DataFrame:
    """The first ``rows`` rows of a Parquet file, every column as text (for typing)."""
    lf = pl.scan_parquet(path)  # type: ignore[arg-type]
    return lf.head(rows).select(pl.all().cast(pl.String)).collect()


def mapping_help(option: str, roles: Iterable[str]) -> str:
    """How to map columns explicitly: ``--master-columns customer=COLUMN,...``."""
    return f"{option} " + ",".join(f"{r}=COLUMN" for r in roles)


def check_mapping(
    mapping: dict[str, str],
    aliases: dict[str, str],
    columns: list[str],
    place: str,
    option: str,
) -> dict[str, str]:
    """The user's ``role -> column`` mapping with roles made canonical (``aliases`` maps every
    accepted spelling to its role); a role or column that does not exist is an InputError."""
    out: dict[str, str] = {}
    for role, col in mapping.items():
        canon = aliases.get(norm_header(role))
        if canon is None:
            raise InputError(
                f"{option} {role}",
                N_("one of the roles {roles}"),
                roles=", ".join(dict.fromkeys(aliases.values())),
            )
        if col not in columns:
            raise InputError(
                f"{option} {role}={col}",
                N_("a column of {source}"),
                N_("columns: {columns}"),
                source=place,
                columns=", ".join(columns),
            )
        if canon in out:
            raise InputError(f"{option} {role}", N_("each role mapped once"))
        out[canon] = col
    return out


def unsure(
    place: str, role: str, candidates: list[str], columns: list[str], option: str
) -> InputError:
    """The error for a role no column or several columns fit: names them and the option."""
    return InputError(
        place,
        N_("one customer id column; name it with {option} {role}=COLUMN")
        if role == "customer"
        else N_("one {role} column; name it with {option} {role}=COLUMN"),
        N_("candidates {candidates}; columns: {columns}")
        if candidates
        else N_("no column that fits; columns: {columns}"),
        option=option,
        role=role,
        candidates=", ".join(candidates),
        columns=", ".join(columns),
    )
