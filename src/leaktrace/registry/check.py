"""What a person's check fetches: one bucket's (tag, leak) entries, padded to one size for every
bucket, and the public list of leaks those entries point to. The identifier and its keyed value
stay in the person's browser; the bucket it asks for is 16 bits of the keyed value, and every
answer has the same length, so the size of an answer tells nothing of the bucket it came from.

A bucket's answer is binary (``application/octet-stream``): :func:`entries_per_bucket` entries of
:data:`ENTRY_BYTES` bytes, each a 16-byte tag then the leak's id (4 bytes, big-endian), sorted by
tag so that padding (random tags, ids of existing leaks) is mixed with the real entries. The size
is the largest bucket rounded up to a power of two, and never below :data:`MIN_ENTRIES` (2,048:
about 120 million stored entries before the largest of 65,536 buckets passes it); with 40 KiB
per answer it stays one cheap, cacheable response.

Answers are cached in each process (an LRU per generation) and by HTTP caches: a generation is
the leaks' count and newest id, so its ETag changes when a leak is ingested (or removed).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import sqlalchemy as sa

from leaktrace.registry import audit
from leaktrace.registry.identifiers import TAG_BYTES
from leaktrace.registry.models import Leak, LeakIdentifier

#: Bytes of a leak's id in an entry.
LEAK_ID_BYTES = 4
#: Bytes of one entry: a tag and a leak's id.
ENTRY_BYTES = TAG_BYTES + LEAK_ID_BYTES
#: The fewest entries in a bucket's answer.
MIN_ENTRIES = 2048
#: Seconds a generation is trusted before the leaks table is asked again.
GENERATION_TTL = 1.0
#: A bucket's entries packed by PostgreSQL (``int4send``: the id's 4 bytes, big-endian).
_PACKED = sa.text(
    "SELECT string_agg(tag || int4send(leak_id), ''::bytea) FROM leak_identifiers "
    "WHERE bucket = :bucket"
)
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


def packed(real: list[tuple[bytes, int]]) -> bytes:
    """(tag, leak id) entries as a bucket's answer writes them."""
    return b"".join(tag + leak_id.to_bytes(LEAK_ID_BYTES, "big") for tag, leak_id in real)


def padded(real: bytes, entries: int, leak_ids: tuple[int, ...]) -> bytes:
    """The :func:`packed` entries ``real`` and random ones up to ``entries``, sorted."""
    count = len(real) // ENTRY_BYTES
    if count > entries:
        raise ValueError("real entries: more than the padded size")
    pad = entries - count
    rows = np.frombuffer(bytearray(os.urandom(entries * ENTRY_BYTES)), dtype=np.uint8)
    rows = rows.reshape(entries, ENTRY_BYTES)
    ids = np.array(leak_ids or (0,), dtype=">u4")
    # the modulo's bias over 2**32 is below one in a million for any number of leaks there is
    picks = np.frombuffer(os.urandom(4 * pad), dtype="<u4") % len(ids)
    rows[:pad, TAG_BYTES:] = ids[picks].view(np.uint8).reshape(pad, LEAK_ID_BYTES)
    rows[pad:] = np.frombuffer(real, dtype=np.uint8).reshape(count, ENTRY_BYTES)
    # by the tag's first 8 bytes (a tie among 2**64 values is as good as never)
    order = np.argsort(rows[:, :8].copy().view(">u8").ravel(), kind="stable")
    return rows[order].tobytes()


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
            sa.select(sa.func.count().label("n"))
            .select_from(LeakIdentifier)
            .group_by(LeakIdentifier.bucket)
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
        # one statement, no transaction around it (BEGIN and ROLLBACK would be two more trips)
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            if conn.dialect.name == "postgresql":  # one value, not a row per entry
                real = conn.execute(_PACKED, {"bucket": bucket}).scalar_one() or b""
            else:
                query = sa.select(LeakIdentifier.tag, LeakIdentifier.leak_id).where(
                    LeakIdentifier.bucket == bucket
                )
                real = packed([(bytes(t), i) for t, i in conn.execute(query)])
        if len(real) > generation.entries * ENTRY_BYTES:
            raise _Outgrown
        return padded(bytes(real), generation.entries, generation.leak_ids)

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
