"""each leak's entries packed per bucket: what a person's check fetches, one row per leak a bucket
holds instead of one per identifier

Revision ID: 0004
Revises: 0003

On PostgreSQL the table is partitioned by range of bucket like the keyed identifiers (its packed
entries stored uncompressed: they are random bytes); the rows of the leaks already ingested are
built from ``leak_identifiers``.
"""

from __future__ import annotations

import itertools

import sqlalchemy as sa
from alembic import op

from leaktrace.registry.check import PACK_BUCKETS, packed_buckets
from leaktrace.registry.identifiers import partitioned_ddl

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

#: Rows of the SQLite backfill per insert.
_CHUNK = 10_000


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        columns = (
            "bucket INTEGER NOT NULL, leak_id INTEGER NOT NULL, entries INTEGER NOT NULL, "
            "packed BYTEA NOT NULL"
        )
        for statement in partitioned_ddl("leak_buckets", columns, "bucket, leak_id"):
            op.execute(statement)
        op.execute("ALTER TABLE leak_buckets ALTER COLUMN packed SET STORAGE EXTERNAL")
        op.execute(PACK_BUCKETS)
        return
    table = op.create_table(
        "leak_buckets",
        sa.Column("bucket", sa.Integer(), nullable=False),
        sa.Column("leak_id", sa.Integer(), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("packed", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("bucket", "leak_id"),
        sqlite_with_rowid=False,
    )
    found = bind.execute(
        sa.text("SELECT leak_id, bucket, tag FROM leak_identifiers ORDER BY leak_id, bucket, tag")
    )
    rows = (
        {"bucket": bucket, "leak_id": leak_id, "entries": entries, "packed": blob}
        for leak_id, group in itertools.groupby(found, key=lambda r: r[0])
        for bucket, entries, blob in packed_buckets(leak_id, ((r[1], bytes(r[2])) for r in group))
    )
    while chunk := list(itertools.islice(rows, _CHUNK)):
        bind.execute(sa.insert(table), chunk)


def downgrade() -> None:
    op.drop_table("leak_buckets")  # on PostgreSQL its partitions go with it
