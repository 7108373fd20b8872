"""The registry's database: one SQLAlchemy URL (``--db``, else ``LEAKTRACE_DB``, else a SQLite file
under the user's data directory), its engine, and its schema through Alembic migrations.

SQLite takes a write lock at the start of every transaction (``BEGIN IMMEDIATE``), so that two
writers never interleave (the audit chain needs it); PostgreSQL locks the chain's head row.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from platformdirs import user_data_path
from sqlalchemy.orm import Session, sessionmaker

#: Environment variable naming the database by SQLAlchemy URL (shared with the share ledger).
DB_ENV = "LEAKTRACE_DB"
#: Alembic's bookkeeping table, apart from the share ledger's tables in a shared database.
VERSION_TABLE = "registry_alembic_version"


def default_url() -> str:
    """``LEAKTRACE_DB``, else ``registry.sqlite`` under the user's data directory."""
    url = os.environ.get(DB_ENV, "").strip()
    if url:
        return url
    return f"sqlite:///{user_data_path('leaktrace', appauthor=False) / 'registry.sqlite'}"


def make_engine(url: str | None = None) -> sa.Engine:
    """An engine for ``url`` (the default URL when None), with SQLite set up for a service."""
    parsed = sa.make_url(url or default_url())
    if parsed.drivername == "postgresql":  # the project's driver is psycopg 3, not psycopg2
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() != "sqlite":
        return sa.create_engine(parsed, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(parsed, connect_args={"check_same_thread": False, "timeout": 30})

    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # SQLAlchemy's BEGIN below, not the driver's
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @sa.event.listens_for(engine, "begin")
    def _begin(conn: sa.Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _config(connection: sa.Connection) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(files("leaktrace.registry") / "migrations"))
    cfg.attributes["connection"] = connection
    return cfg


def upgrade(engine: sa.Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (the newest by default)."""
    with engine.begin() as conn:
        command.upgrade(_config(conn), revision)


def downgrade(engine: sa.Engine, revision: str = "base") -> None:
    """Take the schema back to ``revision`` (no registry table at all by default)."""
    with engine.begin() as conn:
        command.downgrade(_config(conn), revision)


def current_revision(engine: sa.Engine) -> str | None:
    """The schema's revision, or None before the first migration."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        return ctx.get_current_revision()


@cache
def _factory(engine: sa.Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(engine: sa.Engine) -> Iterator[Session]:
    """A session whose work commits at the end of the block, or rolls back on an error."""
    with _factory(engine).begin() as session:
        yield session
