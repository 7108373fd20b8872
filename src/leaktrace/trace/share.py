"""One hand-over: the recipient's marked copy of some customers' columns, recorded in the ledger.

The copy differs from the master in two ways only: each value that offers a format-variant slot
(:mod:`leaktrace.trace.variants`) is written with the share's code symbol there (position =
(customer number, slot number), symbols from :func:`leaktrace.trace.code.symbols`), and a few
canary records (:mod:`leaktrace.trace.canary`) are inserted at keyed places. The copy is made in
memory, recorded in the ledger, and only then written (atomically): a copy on disk is always in
the ledger.

Slot numbers are fixed by :data:`leaktrace.trace.variants.SLOTS` order, so one column of each
kind carries marks. Canaries take the customer numbers counted down from 2⁵⁶ - 1 for their
positions; columns a canary has no value for (other than its name, ID, sex, birth date, mobile,
card and address) are left empty in its row, and its customer number column too.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import polars as pl
from numpy.typing import ArrayLike

from leaktrace.report.files import write_atomic
from leaktrace.trace import canary as canaries_of
from leaktrace.trace import code, variants
from leaktrace.trace.ledger import MAX_CUSTOMER, Ledger, Share, new_share_id
from leaktrace.trace.secret import Secret

#: Canaries per share, unless asked otherwise.
DEFAULT_CANARIES = 3
#: File formats by suffix; CSV is written in UTF-8 or GBK.
FORMATS = {".csv": "csv", ".xlsx": "xlsx", ".parquet": "parquet"}
ENCODINGS = ("utf-8", "gbk")
#: A slot's number in position ids: its place among every kind's slots, in SLOTS order.
SLOT_NUMBERS = {
    (kind, slot.name): n
    for n, (kind, slot) in enumerate((k, s) for k, ss in variants.SLOTS.items() for s in ss)
}
#: The canary field filling a column of each role.
CANARY_FIELDS = {
    "person_name": "name",
    "resident_id": "resident_id",
    "mobile": "mobile",
    "bank_card": "card_no",
    "address": "address",
    "sex": "sex",
    "birth_date": "birth_date",
}
#: Sex as Chinese masters often write it.
SEX_WORDS = {"M": "男", "F": "女"}


def file_format(out: Path, encoding: str = "utf-8") -> str:
    """The ledger's name of the format ``out`` names by its suffix (csv-utf-8, csv-gbk, xlsx,
    parquet); ValueError for another suffix or encoding."""
    fmt = FORMATS.get(Path(out).suffix.lower())
    if fmt is None:
        raise ValueError(f"{out}: expected a file name ending in {', '.join(FORMATS)}")
    if encoding not in ENCODINGS:
        raise ValueError(f"the encoding must be one of {', '.join(ENCODINGS)}")
    return f"csv-{encoding}" if fmt == "csv" else fmt


def mark(
    rows: pl.DataFrame,
    customers: Sequence[int],
    roles: Mapping[str, str],
    key: bytes,
    share_id: str,
) -> pl.DataFrame:
    """``rows`` with every offered slot of the marked columns (``roles``: column -> variant kind)
    written with the share's symbol at (customer, slot)."""
    out = {}
    for column, kind in roles.items():
        values = rows[column].cast(pl.String).to_list()
        offered = [variants.slots(kind, v) if v else () for v in values]
        owner = np.repeat(np.asarray(customers, dtype=np.int64), [len(o) for o in offered])
        numbers = [SLOT_NUMBERS[(kind, name)] for o in offered for name in o]
        bits = iter(code.symbols(key, share_id, code.position_ids(owner, numbers)).tolist())
        out[column] = [
            variants.apply(kind, v, {name: int(next(bits)) for name in o}) if o else v
            for v, o in zip(values, offered, strict=True)
        ]
    return rows.with_columns(pl.Series(c, v, dtype=pl.String) for c, v in out.items())


def _canary_rows(
    master: pl.DataFrame,
    columns: Sequence[str],
    roles: Mapping[str, str],
    planted: list[canaries_of.Canary],
) -> pl.DataFrame:
    """The canaries as rows of the copy: a column of each role from the canary's field."""
    table = canaries_of.frame(planted).with_columns(pl.col("birth_date").cast(pl.String))
    sex = next((c for c in columns if roles.get(c) == "sex"), None)
    if sex is not None and master[sex].cast(pl.String).is_in(list(SEX_WORDS.values())).any():
        table = table.with_columns(pl.col("sex").replace_strict(SEX_WORDS))  # the master's 男/女
    return pl.DataFrame(
        {
            c: table[CANARY_FIELDS[roles[c]]] if roles.get(c) in CANARY_FIELDS else None
            for c in columns
        },
        schema={c: pl.String for c in columns},
        strict=False,
    ).cast({c: master.schema[c] for c in columns if master.schema[c] != pl.String}, strict=False)


def _taken(master: pl.DataFrame, roles: Mapping[str, str]) -> canaries_of.Taken:
    """The master's resident IDs, mobiles and cards, which no canary may take."""
    by_kind = {kind: c for c, kind in roles.items()}
    picked = {
        field: pl.col(by_kind[kind]).cast(pl.String)
        for field, kind in (
            ("resident_id", "resident_id"),
            ("mobile", "mobile"),
            ("card_no", "bank_card"),
        )
        if kind in by_kind
    }
    return canaries_of.Taken.of(master.select(**picked)) if picked else canaries_of.Taken()


def _given_names(master: pl.DataFrame, roles: Mapping[str, str]) -> canaries_of.GivenNames | None:
    """The master's given names by sex, so that canaries bear them as often as customers do."""
    by_kind = {kind: c for c, kind in roles.items()}
    if not {"person_name", "resident_id"} <= by_kind.keys():
        return None
    return canaries_of.GivenNames.of(
        master.select(name=by_kind["person_name"], resident_id=by_kind["resident_id"])
    )


def encode(frame: pl.DataFrame, fmt: str) -> bytes:
    """The file's bytes in ``fmt`` (see :func:`file_format`); ValueError naming the line of a
    character GBK cannot hold."""
    if fmt.startswith("csv-"):
        text = frame.write_csv()
        try:
            return text.encode(fmt.removeprefix("csv-"))
        except UnicodeEncodeError as e:
            line = text.count("\n", 0, e.start) + 1
            raise ValueError(f"line {line} has a character {e.encoding} cannot hold") from None
    buf = io.BytesIO()
    if fmt == "xlsx":
        frame.write_excel(buf, autofit=False)
    else:
        frame.write_parquet(buf)
    return buf.getvalue()


def share(
    master: pl.DataFrame,
    recipient: str,
    customers: ArrayLike,
    columns: Sequence[str],
    out: Path,
    secret: Secret,
    ledger: Ledger,
    *,
    customer_column: str,
    roles: Mapping[str, str],
    purpose: str | None = None,
    basis: str | None = None,
    encoding: str = "utf-8",
    canaries: int = DEFAULT_CANARIES,
    shared_at: dt.datetime | None = None,
    master_place: str | None = None,
) -> Share:
    """Write ``columns`` of the ``customers`` (numbers in ``customer_column``) to ``out``, marked
    for this share, with ``canaries`` canary records, and record the hand-over in ``ledger``.
    ``roles`` names the kind of the master's columns (person_name, resident_id, mobile,
    bank_card, address, sex, birth_date); one column of each variant kind is marked.
    ``master_place`` (where the master was read) is recorded for ``trace`` to link leaks to."""
    out = Path(out)
    fmt = file_format(out, encoding)
    missing = [c for c in (*columns, customer_column, *roles) if c not in master.columns]
    if missing:
        raise ValueError(f"the master has no column {', '.join(map(repr, missing))}")
    marked = {c: k for c, k in roles.items() if k in variants.SLOTS and c in columns}
    if len(set(marked.values())) < len(marked):
        raise ValueError("one column of each kind can be marked")
    wanted = np.unique(np.asarray(customers, dtype=np.int64))
    rows = master.filter(pl.col(customer_column).is_in(wanted.tolist())).sort(customer_column)
    numbers = rows[customer_column].cast(pl.Int64).to_numpy()
    if numbers.size != wanted.size or not np.array_equal(numbers, wanted):
        raise ValueError(
            f"{wanted.size - np.intersect1d(numbers, wanted).size} customers of the "
            f"share are not in the master, or appear in it more than once"
        )
    if numbers.size and numbers[-1] > MAX_CUSTOMER - canaries:
        raise ValueError("customer numbers must stay below the canaries' (2**56 - canaries)")
    when = (shared_at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    share_id = new_share_id()
    key = secret.derive("code")
    planted = canaries_of.plant(
        secret.derive("canary"),
        share_id,
        canaries,
        when.date(),
        _taken(master, roles),
        _given_names(master, roles),
    )
    copy = mark(rows.select(columns), numbers, marked, key, share_id)
    fakes = mark(
        _canary_rows(master, columns, roles, planted),
        [MAX_CUSTOMER - i for i in range(len(planted))],
        marked,
        key,
        share_id,
    )
    # Canaries go at places drawn from a generator seeded by a key derived for this share.
    seed = int.from_bytes(secret.derive(f"canary places\x00{share_id}"), "big")
    after = np.random.default_rng(seed).integers(0, copy.height + 1, size=len(planted))
    parts, start = [], 0
    for i in np.argsort(after, kind="stable"):
        parts += [copy.slice(start, after[i] - start), fakes.slice(int(i), 1)]
        start = int(after[i])
    parts.append(copy.slice(start))
    try:
        data = encode(pl.concat(parts), fmt)
    except ValueError as e:
        raise ValueError(f"{out}: {e}") from None
    recorded = ledger.record(
        recipient,
        wanted,
        columns,
        secret.key_id,
        fmt,
        purpose=purpose,
        basis=basis,
        share_id=share_id,
        shared_at=when,
        canaries=[c.attempt for c in planted],
        master=master_place,
    )
    write_atomic(out, data)
    return recorded
