"""The share ledger: who received which customers, when, why and under which key, in one database.

The ledger is named by one SQLAlchemy URL (``--db URL``, else ``LEAKTRACE_DB``, else a SQLite file
under the user's data directory). It holds customer numbers, never personal values, and the key id
of the marking secret, never the secret. A share's customers are stored as sorted, delta-encoded
LEB128 varints compressed by zlib, in chunks of :data:`CHUNK` customers: a row per customer would
cost 20 to 40 bytes in SQLite or PostgreSQL, the blob about 1 byte per shared record or less.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sqlalchemy as sa
from numpy.typing import ArrayLike, NDArray
from platformdirs import user_data_path

#: Environment variable naming the ledger's database by SQLAlchemy URL.
DB_ENV = "LEAKTRACE_DB"
#: Customers per stored chunk, so that no single value grows beyond a few megabytes.
CHUNK = 1 << 20
#: Customer numbers are position ids' upper 56 bits (see ``trace.code.position_ids``).
MAX_CUSTOMER = (1 << 56) - 1
#: Fields whose absence is recorded and shown as a gap in the ledger.
GAP_FIELDS = ("purpose", "basis")

_metadata = sa.MetaData()

shares_table = sa.Table(
    "shares",
    _metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("recipient", sa.Text, nullable=False),
    sa.Column("shared_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("purpose", sa.Text, nullable=True),  # None: a gap
    sa.Column("basis", sa.Text, nullable=True),  # legal basis; None: a gap
    sa.Column("columns", sa.JSON, nullable=False),
    sa.Column("key_id", sa.String(64), nullable=False),
    sa.Column("customer_count", sa.BigInteger, nullable=False),
    sa.Column("file_format", sa.String(32), nullable=False),
    # Attempt number of each canary planted (see ``trace.canary``), to rebuild them from the key.
    sa.Column("canaries", sa.JSON, nullable=False),
    # Where the master was read (a resolved path, or a URL without password and its table).
    sa.Column("master", sa.Text, nullable=True),
)

share_members_table = sa.Table(
    "share_members",
    _metadata,
    sa.Column("share_id", sa.ForeignKey("shares.id"), primary_key=True),
    sa.Column("chunk", sa.Integer, primary_key=True),
    sa.Column("count", sa.Integer, nullable=False),
    sa.Column("customers", sa.LargeBinary, nullable=False),
)


class UnknownShare(LookupError):
    """No share with this id is in the ledger."""


@dataclass(frozen=True)
class Share:
    """One hand-over of records to one recipient, as the ledger records it."""

    id: str
    recipient: str
    shared_at: dt.datetime
    purpose: str | None
    basis: str | None
    columns: tuple[str, ...]
    key_id: str
    customer_count: int
    file_format: str
    canaries: tuple[int, ...] = ()
    master: str | None = None  # where the master was read, for trace to link a leak to it

    @property
    def gaps(self) -> tuple[str, ...]:
        """The fields this share was recorded without (a missing purpose or legal basis)."""
        return tuple(name for name in GAP_FIELDS if getattr(self, name) is None)


def default_url() -> str:
    """The ledger's URL when ``--db`` is not given: ``LEAKTRACE_DB``, else a SQLite file under
    the user's data directory."""
    url = os.environ.get(DB_ENV, "").strip()
    if url:
        return url
    return f"sqlite:///{user_data_path('leaktrace', appauthor=False) / 'ledger.sqlite'}"


def new_share_id() -> str:
    """A fresh share id: random, so that two hand-overs never share one even across ledgers."""
    return uuid.uuid4().hex[:16]


def encode_customers(customers: NDArray[np.int64]) -> bytes:
    """Sorted distinct customer numbers as zlib-compressed LEB128 varints of their gaps (the
    first counted from -1, so every gap is at least 1)."""
    gaps = np.diff(customers, prepend=-1).astype(np.uint64)
    width = np.ones(gaps.size, dtype=np.int64)
    for k in range(1, 9):
        width += gaps >= np.uint64(1 << (7 * k))
    starts = np.cumsum(width) - width
    out = np.empty(int(width.sum()), dtype=np.uint8)
    for k in range(int(width.max(initial=0))):
        has = width > k
        low = (gaps[has] >> np.uint64(7 * k)) & np.uint64(0x7F)
        more = np.where(width[has] > k + 1, 0x80, 0).astype(np.uint64)
        out[starts[has] + k] = (low | more).astype(np.uint8)
    return zlib.compress(out.tobytes(), 9)


def decode_customers(blob: bytes, count: int) -> NDArray[np.int64]:
    """The customer numbers :func:`encode_customers` stored; ValueError if the blob is damaged."""
    try:
        raw = np.frombuffer(zlib.decompress(blob), dtype=np.uint8)
    except zlib.error as err:
        raise ValueError("a share's stored customers are damaged") from err
    last = np.flatnonzero(raw < 0x80)
    if last.size != count or (raw.size and last[-1] != raw.size - 1):
        raise ValueError("a share's stored customers are damaged")
    first = np.concatenate(([0], last[:-1] + 1)) if count else last
    value_of = np.repeat(np.arange(count), np.diff(np.concatenate((first, [raw.size]))))
    shift = (np.arange(raw.size) - first[value_of]) * 7
    parts = (raw & 0x7F).astype(np.uint64) << shift.astype(np.uint64)
    gaps = np.add.reduceat(parts, first) if count else parts
    return np.cumsum(gaps.astype(np.int64)) - 1


def _sorted_customers(customers: ArrayLike) -> NDArray[np.int64]:
    c = np.asarray(customers)
    if c.ndim != 1 or (c.size and c.dtype.kind not in "iu"):
        raise ValueError("customer numbers must be a 1-d array of integers")
    c = np.sort(c.astype(np.int64))
    if c.size and (c[0] < 0 or c[-1] > MAX_CUSTOMER):
        raise ValueError("customer numbers must lie in [0, 2**56)")
    if c.size > 1 and not (np.diff(c) > 0).all():
        raise ValueError("a share lists each customer once")
    return c


def _blank_as_gap(text: str | None) -> str | None:
    return text.strip() or None if text is not None else None


class Ledger:
    """The share ledger in one database; tables are created on first use."""

    def __init__(self, url: str | None = None) -> None:
        parsed = sa.make_url(url or default_url())
        if parsed.drivername == "postgresql":  # the project's driver is psycopg 3, not psycopg2
            parsed = parsed.set(drivername="postgresql+psycopg")
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        self.engine = sa.create_engine(parsed)
        _metadata.create_all(self.engine)

    def record(
        self,
        recipient: str,
        customers: ArrayLike,
        columns: Sequence[str],
        key_id: str,
        file_format: str,
        purpose: str | None = None,
        basis: str | None = None,
        share_id: str | None = None,
        shared_at: dt.datetime | None = None,
        canaries: Sequence[int] = (),
        master: str | None = None,
    ) -> Share:
        """Record one hand-over in one transaction; a blank purpose or basis is a gap."""
        if not recipient.strip():
            raise ValueError("the recipient must not be empty")
        ids = _sorted_customers(customers)
        share = Share(
            id=share_id or new_share_id(),
            recipient=recipient.strip(),
            shared_at=(shared_at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC),
            purpose=_blank_as_gap(purpose),
            basis=_blank_as_gap(basis),
            columns=tuple(columns),
            key_id=key_id,
            customer_count=int(ids.size),
            file_format=file_format,
            canaries=tuple(int(a) for a in canaries),
            master=master,
        )
        row = {f: getattr(share, f) for f in Share.__dataclass_fields__}
        row |= {"columns": list(share.columns), "canaries": list(share.canaries)}
        chunks = [
            {
                "share_id": share.id,
                "chunk": i,
                "count": int(part.size),
                "customers": encode_customers(part),
            }
            for i, part in enumerate(np.split(ids, range(CHUNK, ids.size, CHUNK)))
        ]
        with self.engine.begin() as conn:
            conn.execute(shares_table.insert(), row)
            conn.execute(share_members_table.insert(), chunks)
        return share

    def shares(self) -> list[Share]:
        """Every share, oldest first."""
        query = sa.select(shares_table).order_by(shares_table.c.shared_at, shares_table.c.id)
        with self.engine.connect() as conn:
            return [_share(row) for row in conn.execute(query).mappings()]

    def show(self, share_id: str) -> Share:
        """One share by id; :class:`UnknownShare` if the ledger has none by that id."""
        query = sa.select(shares_table).where(shares_table.c.id == share_id)
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().one_or_none()
        if row is None:
            raise UnknownShare(share_id)
        return _share(row)

    def customers(self, share_id: str) -> NDArray[np.int64]:
        """The sorted customer numbers share ``share_id`` received."""
        share = self.show(share_id)
        members = share_members_table.c
        query = (
            sa.select(members.count, members.customers)
            .where(members.share_id == share_id)
            .order_by(members.chunk)
        )
        with self.engine.connect() as conn:
            parts = [decode_customers(blob, count) for count, blob in conn.execute(query)]
        ids = np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)
        if ids.size != share.customer_count:
            raise ValueError("a share's stored customers are damaged")
        return ids


def _share(row: sa.RowMapping) -> Share:
    shared_at = row["shared_at"]
    if shared_at.tzinfo is None:  # SQLite keeps no offset; the ledger writes UTC
        shared_at = shared_at.replace(tzinfo=dt.UTC)
    return Share(
        id=row["id"],
        recipient=row["recipient"],
        shared_at=shared_at,
        purpose=row["purpose"],
        basis=row["basis"],
        columns=tuple(row["columns"]),
        key_id=row["key_id"],
        customer_count=row["customer_count"],
        file_format=row["file_format"],
        canaries=tuple(row["canaries"]),
        master=row["master"],
    )
