"""Alembic's environment for the registry: runs on the connection leaktrace hands it."""

from __future__ import annotations

from alembic import context

from leaktrace.registry.db import VERSION_TABLE
from leaktrace.registry.models import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    version_table=VERSION_TABLE,
    render_as_batch=connection.dialect.name == "sqlite",
    include_name=lambda name, type_, _parent: type_ != "table" or name in Base.metadata.tables,
)
with context.begin_transaction():
    context.run_migrations()
