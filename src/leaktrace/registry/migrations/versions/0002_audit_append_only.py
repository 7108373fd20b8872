"""the audit log is append-only: its head row, and triggers refusing UPDATE and DELETE

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

#: The triggers' and the function's names (tests and operators refer to them: keep them stable).
NO_UPDATE = "audit_log_no_update"
NO_DELETE = "audit_log_no_delete"
NO_TRUNCATE = "audit_log_no_truncate"  # PostgreSQL only: TRUNCATE fires no DELETE trigger
FUNCTION = "audit_log_append_only"
MESSAGE = "audit_log is append-only"
GENESIS = "0" * 64


def upgrade() -> None:
    op.execute(
        "INSERT INTO audit_head (id, last_id, last_hash) "
        f"SELECT 1, 0, '{GENESIS}' WHERE NOT EXISTS (SELECT 1 FROM audit_head)"
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION '{MESSAGE}'; END; $$"
        )
        for name, when in ((NO_UPDATE, "UPDATE"), (NO_DELETE, "DELETE")):
            op.execute(
                f"CREATE TRIGGER {name} BEFORE {when} ON audit_log "
                f"FOR EACH ROW EXECUTE FUNCTION {FUNCTION}()"
            )
        op.execute(
            f"CREATE TRIGGER {NO_TRUNCATE} BEFORE TRUNCATE ON audit_log "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}()"
        )
        return
    for name, when in ((NO_UPDATE, "UPDATE"), (NO_DELETE, "DELETE")):
        op.execute(
            f"CREATE TRIGGER {name} BEFORE {when} ON audit_log "
            f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
        )


def downgrade() -> None:
    """Drop the triggers; the head row stays (it belongs to the chain, not to this revision)."""
    if op.get_bind().dialect.name == "postgresql":
        for name in (NO_UPDATE, NO_DELETE, NO_TRUNCATE):
            op.execute(f"DROP TRIGGER {name} ON audit_log")
        op.execute(f"DROP FUNCTION {FUNCTION}()")
        return
    for name in (NO_UPDATE, NO_DELETE):
        op.execute(f"DROP TRIGGER {name}")
