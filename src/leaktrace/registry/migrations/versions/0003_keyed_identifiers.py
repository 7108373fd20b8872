"""keyed identifiers: leaks, their keyed identifiers, enrolments, alerts

Revision ID: 0003
Revises: 0002

On PostgreSQL the two keyed-identifier tables are partitioned by range of bucket into
``PARTITIONS`` tables each, kept in their own schema (``registry_partitions.leak_identifiers_p00``
…), so that they can be spread over nodes (postgres_fdw or Citus); on SQLite they are plain tables
without rowid.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from leaktrace.registry.identifiers import PARTITION_SCHEMA, partitioned_ddl

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

#: The partitioned tables: name -> (columns' SQL, primary key).
KEYED = {
    "leak_identifiers": (
        "bucket INTEGER NOT NULL, tag BYTEA NOT NULL, leak_id INTEGER NOT NULL, "
        "kind SMALLINT NOT NULL",
        "bucket, tag, leak_id",
    ),
    "enrolled_identifiers": (
        "bucket INTEGER NOT NULL, tag BYTEA NOT NULL, org_id INTEGER NOT NULL",
        "bucket, tag, org_id",
    ),
}


def _keyed_tables() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table, (columns, key) in KEYED.items():
            for statement in partitioned_ddl(table, columns, key):
                op.execute(statement)
        return
    op.create_table(
        "leak_identifiers",
        sa.Column("bucket", sa.Integer(), nullable=False),
        sa.Column("tag", sa.LargeBinary(length=16), nullable=False),
        sa.Column("leak_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.SmallInteger(), nullable=False),
        sa.PrimaryKeyConstraint("bucket", "tag", "leak_id"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "enrolled_identifiers",
        sa.Column("bucket", sa.Integer(), nullable=False),
        sa.Column("tag", sa.LargeBinary(length=16), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("bucket", "tag", "org_id"),
        sqlite_with_rowid=False,
    )


def upgrade() -> None:
    op.create_table(
        "leaks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_org_id", sa.Integer(), nullable=True),
        sa.Column("claimed_sector", sa.String(length=20), nullable=True),
        sa.Column("data_kinds", sa.JSON(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("verdict", sa.String(length=40), nullable=True),
        sa.Column("attachment_sha256", sa.String(length=64), nullable=True),
        sa.Column("ingested_by", sa.String(length=60), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["claimed_org_id"], ["organisations.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    _keyed_tables()
    op.create_index("ix_leak_identifiers_leak_id", "leak_identifiers", ["leak_id"])
    op.create_table(
        "enrolments",
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("declared_customers", sa.BigInteger(), nullable=False),
        sa.Column("enrolled", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["organisations.id"]),
        sa.PrimaryKeyConstraint("org_id"),
    )
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("leak_id", sa.Integer(), nullable=False),
        sa.Column("matches", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["leak_id"], ["leaks.id"]),
        sa.ForeignKeyConstraint(["org_id"], ["organisations.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("org_id", "leak_id"),
    )
    op.create_index("ix_alerts_org_id", "alerts", ["org_id"])
    op.create_index("ix_alerts_leak_id", "alerts", ["leak_id"])
    op.create_table(
        "alert_matches",
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.LargeBinary(length=16), nullable=False),
        sa.ForeignKeyConstraint(["alert_id"], ["alerts.id"]),
        sa.PrimaryKeyConstraint("alert_id", "tag"),
    )


def downgrade() -> None:
    op.drop_table("alert_matches")
    op.drop_index("ix_alerts_leak_id", table_name="alerts")
    op.drop_index("ix_alerts_org_id", table_name="alerts")
    op.drop_table("alerts")
    op.drop_table("enrolments")
    op.drop_index("ix_leak_identifiers_leak_id", table_name="leak_identifiers")
    op.drop_table("enrolled_identifiers")  # on PostgreSQL its partitions go with it
    op.drop_table("leak_identifiers")
    op.drop_table("leaks")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP SCHEMA IF EXISTS {PARTITION_SCHEMA}")
