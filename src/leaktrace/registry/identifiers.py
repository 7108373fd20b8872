"""What the registry keys and how it stores a keyed value: the OPRF input of a resident ID or a
mobile (its kind and normalised value), and the tag and bucket cut from the 64-byte output.

A tag is the output's first 16 bytes (128 bits: no collision among 10^12 identifiers); the bucket
is its first 16 bits, which partition the tables and choose what a person's check fetches.
"""

from __future__ import annotations

import polars as pl

from leaktrace.pii import KINDS as PII_KINDS
from leaktrace.pii.columns import EMPTY, check_column

#: Bytes of a stored tag: the OPRF output's prefix.
TAG_BYTES = 16
#: Bits of the bucket: the tag's first bits (65,536 buckets).
BUCKET_BITS = 16
#: The kinds keyed, and the small integers they are stored as.
KINDS = {"resident_id": 1, "mobile": 2}
#: Partitions of the keyed-identifier tables on PostgreSQL, each a range of buckets.
PARTITIONS = 16
BUCKETS_PER_PARTITION = (1 << BUCKET_BITS) // PARTITIONS
#: The schema holding the partitions on PostgreSQL (the tables proper stay in the default one).
PARTITION_SCHEMA = "registry_partitions"


def partitioned_ddl(table: str, columns: str, key: str) -> list[str]:
    """PostgreSQL's statements making ``table`` partitioned by range of bucket into
    :data:`PARTITIONS` tables in :data:`PARTITION_SCHEMA` (``registry_partitions.<table>_p00``
    …), so that they can be spread over nodes (postgres_fdw or Citus)."""
    statements = [
        f"CREATE SCHEMA IF NOT EXISTS {PARTITION_SCHEMA}",
        f"CREATE TABLE {table} ({columns}, PRIMARY KEY ({key})) PARTITION BY RANGE (bucket)",
    ]
    for i in range(PARTITIONS):
        low, high = i * BUCKETS_PER_PARTITION, (i + 1) * BUCKETS_PER_PARTITION
        statements.append(
            f"CREATE TABLE {PARTITION_SCHEMA}.{table}_p{i:02d} PARTITION OF {table} "
            f"FOR VALUES FROM ({low}) TO ({high})"
        )
    return statements


def oprf_input(kind: str, value: str) -> bytes:
    """The OPRF input of a normalised identifier: ``kind:value`` in UTF-8."""
    if kind not in KINDS:
        raise ValueError(f"kind: expected one of {', '.join(KINDS)}")
    return f"{kind}:{value}".encode()


def tag_and_bucket(output: bytes) -> tuple[int, bytes]:
    """The bucket and the tag of a 64-byte OPRF output."""
    tag = output[:TAG_BYTES]
    return bucket_of(tag), tag


def bucket_of(tag: bytes) -> int:
    """The bucket a tag belongs to: its first :data:`BUCKET_BITS` bits."""
    return int.from_bytes(tag[:2], "big") >> (16 - BUCKET_BITS)


def checked_values(kind: str, values: pl.Series) -> tuple[pl.Series, int]:
    """Raw ``values`` of ``kind`` normalised, in order, null where not valid; and how many
    non-empty values were left out as invalid or masked."""
    checked = check_column(PII_KINDS[kind], values.cast(pl.String))
    reason = checked.get_column("reason")
    valid = pl.select(
        pl.when(reason.is_null()).then(checked.get_column("value")).alias(kind)
    ).to_series()
    skipped = int(reason.is_not_null().sum()) - int((reason == EMPTY).sum())
    return valid, skipped


def valid_values(kind: str, values: pl.Series) -> tuple[pl.Series, int]:
    """The distinct valid values of ``kind`` among raw ``values``, normalised, and how many
    non-empty values were left out as invalid or masked."""
    checked, skipped = checked_values(kind, values)
    return checked.drop_nulls().unique(maintain_order=True), skipped
