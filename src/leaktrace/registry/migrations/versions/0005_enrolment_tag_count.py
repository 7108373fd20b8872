"""an enrolment counts its tags, so that enrolling a batch does not count an institution's
enrolled identifiers again (a scan of the whole partitioned table: it has no index by
institution)

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("enrolments") as batch:
        batch.add_column(sa.Column("tags", sa.BigInteger(), nullable=False, server_default="0"))
    op.execute(
        "UPDATE enrolments SET tags = (SELECT count(*) FROM enrolled_identifiers "
        "WHERE enrolled_identifiers.org_id = enrolments.org_id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("enrolments") as batch:
        batch.drop_column("tags")
