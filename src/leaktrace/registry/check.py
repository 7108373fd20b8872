"""What a person's check fetches: one bucket's (tag, leak) entries, padded to one size for every
bucket, and the public list of leaks those entries point to. The identifier and its keyed value
stay in the person's browser; the bucket it asks for is 16 bits of the keyed value, and every
answer has the same length, so the size of an answer tells nothing of the bucket it came from.

A bucket's answer is binary (``application/octet-stream``): :func:`entries_per_bucket` entries of
:data:`ENTRY_BYTES` bytes, each a 16-byte tag then the leak's id (4 bytes, big-endian), sorted by
tag so that padding (random tags, ids of existing leaks) is mixed with the real entries. The size
is the largest bucket rounded up to a power of two, and never below :data:`MIN_ENTRIES` (2,048:
about 120 million stored entries before the largest of 65,536 buckets passes it); with 40 KiB
per answer it stays one cheap, cacheable response. The real entries are read from
``leak_buckets``, where each leak's entries of a bucket are kept packed in one row.

Answers are cached in each process (an LRU per generation) and by HTTP caches: a generation is
the leaks' count and newest id, so its ETag changes when a leak is ingested (or removed).
"""

from __future__ import annotations

import itertools
import os
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import sqlalchemy as sa

from leaktrace.registry import audit
from leaktrace.registry.identifiers import TAG_BYTES
from leaktrace.registry.models import Leak, LeakBucket

#: Bytes of a leak's id in an entry.
LEAK_ID_BYTES = 4
#: Bytes of one entry: a tag and a leak's id.
ENTRY_BYTES = TAG_BYTES + LEAK_ID_BYTES
#: The fewest entries in a bucket's answer.
MIN_ENTRIES = 2048
#: Seconds a generation is trusted before the leaks table is asked again.
GENERATION_TTL = 1.0
#: ``leak_buckets`` built from ``leak_identifiers`` in PostgreSQL (for rows loaded in bulk).
PACK_BUCKETS = (
    "INSERT INTO leak_buckets (bucket, leak_id, entries, packed) "
    "SELECT bucket, leak_id, count(*), "
    "string_agg(tag || int4send(leak_id), ''::bytea ORDER BY tag) "
    "FROM leak_identifiers GROUP BY bucket, leak_id"
)
#: A bucket's entries from every leak, as one value (PostgreSQL).
_PACKED = "SELECT string_agg(packed, ''::bytea) FROM leak_buckets WHERE bucket = %s"
#: Connections kept by each process for the buckets (PostgreSQL).
READERS = 8
#: Padded buckets kept in each process (40 KiB each at the minimum size: 160 MiB).
CACHED_BUCKETS = 4096


@dataclass(frozen=True)
class Generation:
    """The leaks as they stand: how many, the newest id, every id (padding points to them), and
    the entries every bucket's answer holds."""

    leaks: int
    newest: int
    leak_ids: tuple[int, ...]
    entries: int

    @property
    def etag(self) -> str:
        """A weak ETag (padding is drawn afresh by each process; the entries are the same)."""
        return f'W/"{self.leaks}-{self.newest}-{self.entries}"'


def entries_per_bucket(largest: int, minimum: int = MIN_ENTRIES) -> int:
    """Entries in every bucket's answer: the largest bucket rounded up to a power of two, at
    least ``minimum``."""
    return max(minimum, 1 << max(0, largest - 1).bit_length())


def packed(real: Iterable[tuple[bytes, int]]) -> bytes:
    """(tag, leak id) entries as a bucket's answer writes them."""
    return b"".join(tag + leak_id.to_bytes(LEAK_ID_BYTES, "big") for tag, leak_id in real)


def packed_buckets(
    leak_id: int, tags: Iterable[tuple[int, bytes]]
) -> Iterator[tuple[int, int, bytes]]:
    """(bucket, entries, packed entries) of leak ``leak_id``'s (bucket, tag) pairs, which come
    sorted by bucket then tag: the rows of ``leak_buckets``."""
    for bucket, group in itertools.groupby(tags, key=lambda pair: pair[0]):
        found = [(tag, leak_id) for _bucket, tag in group]
        yield bucket, len(found), packed(found)


#: An entry as numpy reads it: the tag's first 8 bytes (the sort key), then the rest.
_ENTRY = np.dtype([("key", ">u8"), ("rest", f"V{ENTRY_BYTES - 8}")])


def padded(real: bytes, entries: int, leak_ids: tuple[int, ...]) -> bytes:
    """The :func:`packed` entries ``real`` and random ones up to ``entries``, sorted."""
    count = len(real) // ENTRY_BYTES
    if count > entries:
        raise ValueError("real entries: more than the padded size")
    pad = entries - count
    rows = np.empty(entries, dtype=_ENTRY)
    raw = rows.view(np.uint8).reshape(entries, ENTRY_BYTES)
    raw[:pad, :TAG_BYTES] = np.frombuffer(os.urandom(pad * TAG_BYTES), np.uint8).reshape(
        pad, TAG_BYTES
    )
    ids = np.array(leak_ids or (0,), dtype=">u4")
    # the modulo's bias over 2**32 is below one in a million for any number of leaks there is
    picks = np.frombuffer(os.urandom(4 * pad), dtype="<u4") % len(ids)
    raw[:pad, TAG_BYTES:] = ids[picks].view(np.uint8).reshape(pad, LEAK_ID_BYTES)
    raw[pad:] = np.frombuffer(real, dtype=np.uint8).reshape(count, ENTRY_BYTES)
    # by the tag's first 8 bytes (a tie among 2**64 values is as good as never)
    return rows[np.argsort(rows["key"].astype(np.uint64))].tobytes()


def entries_of(blob: bytes) -> list[tuple[bytes, int]]:
    """The (tag, leak id) entries of a bucket's answer (what the browser reads)."""
    return [
        (blob[i : i + TAG_BYTES], int.from_bytes(blob[i + TAG_BYTES : i + ENTRY_BYTES], "big"))
        for i in range(0, len(blob), ENTRY_BYTES)
    ]


class BucketStore:
    """The padded buckets and the leaks' list of one database, cached per generation; safe to
    share between threads."""

    def __init__(
        self,
        engine: sa.Engine,
        *,
        ttl: float = GENERATION_TTL,
        cached: int = CACHED_BUCKETS,
        minimum: int = MIN_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.ttl = ttl
        self.minimum = minimum
        self._clock = clock
        self._lock = threading.Lock()
        self._current: tuple[float, Generation] | None = None
        self._counting = False  # a request is counting a new generation
        self._bucket = lru_cache(maxsize=cached)(self._load_bucket)
        self._reader: sa.Engine | None = None  # PostgreSQL: the buckets' own autocommit pool
        if engine.dialect.name == "postgresql":
            self._reader = sa.create_engine(
                engine.url,
                isolation_level="AUTOCOMMIT",
                pool_reset_on_return=None,
                pool_size=READERS,
                max_overflow=READERS * 4,
            )
            # its connections closed with the store (an application made and dropped in a test)
            weakref.finalize(self, self._reader.dispose)
        self._leaks = lru_cache(maxsize=2)(self._load_leaks)

    def generation(self, *, fresh: bool = False) -> Generation:
        """The current generation, asked of the database at most once per ``ttl`` (``fresh``:
        now). A new one counts the largest bucket again; while one request counts it, the
        others are answered with the previous generation rather than wait."""
        with self._lock:
            now = self._clock()
            if not fresh and self._current and now - self._current[0] < self.ttl:
                return self._current[1]
            with self.engine.connect() as conn:
                count, newest = conn.execute(
                    sa.select(sa.func.count(Leak.id), sa.func.coalesce(sa.func.max(Leak.id), 0))
                ).one()
            known = self._current[1] if self._current else None
            if (
                known
                and not fresh
                and (self._counting or (known.leaks, known.newest) == (count, newest))
            ):
                self._current = (now, known)
                return known
            self._counting = True
        try:
            with self.engine.connect() as conn:
                generation = self._count(conn, count, newest)
        finally:
            with self._lock:
                self._counting = False
        with self._lock:
            self._current = (self._clock(), generation)
        return generation

    def _count(self, conn: sa.Connection, count: int, newest: int) -> Generation:
        per_bucket = (
            sa.select(sa.func.sum(LeakBucket.entries).label("n"))
            .group_by(LeakBucket.bucket)
            .subquery()
        )
        largest = conn.execute(sa.select(sa.func.coalesce(sa.func.max(per_bucket.c.n), 0)))
        ids = tuple(conn.scalars(sa.select(Leak.id).order_by(Leak.id)))
        return Generation(
            count, newest, ids, entries_per_bucket(largest.scalar_one(), self.minimum)
        )

    def bucket(self, bucket: int) -> tuple[Generation, bytes]:
        """Bucket ``bucket``'s padded answer and the generation it belongs to."""
        generation = self.generation()
        try:
            return generation, self._bucket(generation, bucket)
        except _Outgrown:  # a leak came in since the generation was read
            generation = self.generation(fresh=True)
            return generation, self._bucket(generation, bucket)

    def _load_bucket(self, generation: Generation, bucket: int) -> bytes:
        if self._reader is None:
            with self.engine.connect() as conn:
                found = conn.scalars(
                    sa.select(LeakBucket.packed).where(LeakBucket.bucket == bucket)
                )
                real = b"".join(found)
        else:
            real = self._fetch(bucket)
        if len(real) > generation.entries * ENTRY_BYTES:
            raise _Outgrown
        return padded(real, generation.entries, generation.leak_ids)

    def _fetch(self, bucket: int, *, again: bool = True) -> bytes:
        """A bucket's packed entries from PostgreSQL: one prepared statement on a pooled driver
        connection in autocommit (no transaction, no ping: a dead connection is dropped and
        the statement sent once more on another)."""
        assert self._reader is not None
        conn = self._reader.raw_connection()
        try:
            with conn.cursor() as cur:
                cur.execute(_PACKED, (bucket,), prepare=True)
                row = cur.fetchone()
        except self._reader.dialect.loaded_dbapi.OperationalError:
            conn.invalidate()
            if not again:
                raise
            return self._fetch(bucket, again=False)
        finally:
            conn.close()
        return bytes(row[0]) if row and row[0] is not None else b""

    def leaks(self) -> tuple[Generation, list[dict[str, Any]]]:
        """What a check may say of each leak (id, when first seen, the kind of institution
        claimed to have lost it, the kinds of data it holds) and the generation."""
        generation = self.generation()
        return generation, self._leaks(generation)

    def _load_leaks(self, generation: Generation) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            found = conn.execute(
                sa.select(Leak.id, Leak.first_seen_at, Leak.claimed_sector, Leak.data_kinds)
                .where(Leak.id <= generation.newest)
                .order_by(Leak.id)
            )
            return [
                {
                    "id": leak_id,
                    "first_seen_at": audit.iso_utc(seen),
                    "sector": sector,
                    "data_kinds": list(kinds),
                }
                for leak_id, seen, sector, kinds in found
            ]


class _Outgrown(Exception):
    """A bucket holds more entries than its generation's size."""
