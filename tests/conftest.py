"""Shared fixtures. Ingest fixtures are named ingest_*; ``postgres`` is a throwaway
PostgreSQL server for the session; ``registry_engine`` a migrated registry database on SQLite and
on that PostgreSQL server; ``keyd`` a key process for a test module."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
from faker import Faker
from postgres_server import PostgresServer, PostgresUnavailable, start_postgres

from bench.registry_keyd import KeyProcess, key_process
from leaktrace import i18n


@pytest.fixture(autouse=True)
def _english_after_each_test() -> Iterator[None]:
    """Each test starts in English and leaves English behind (``--lang zh`` through the CLI
    sets the language of the whole process)."""
    i18n.set_language("en")
    yield
    i18n.set_language("en")


@pytest.fixture(scope="session")
def ingest_header() -> list[str]:
    """Column labels as Chinese bank exports write them, matching ``ingest_people``."""
    return ["姓名", "身份证号", "手机", "地址", "卡号"]


@pytest.fixture(scope="session")
def ingest_people() -> list[list[str]]:
    """200 realistic Chinese customer rows: name, resident ID, mobile, address, card number."""
    fake = Faker("zh_CN")
    Faker.seed(20240601)
    return [
        [
            fake.name(),
            fake.ssn(),
            fake.phone_number(),
            fake.address().replace("\n", " "),
            fake.credit_card_number(),
        ]
        for _ in range(200)
    ]


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A throwaway PostgreSQL server of this session (see ``tests/postgres_server.py``). When it
    cannot start, the tests using it fail with the reason; they are never skipped."""
    try:
        server = start_postgres()
    except PostgresUnavailable as e:
        reason = str(e)
    else:
        reason = ""
    if reason:  # failed outside the except: the report shows no chained exception
        pytest.fail(f"the test PostgreSQL server did not start: {reason}", pytrace=False)
    try:
        yield server
    finally:
        server.stop()


_registry_dbs = itertools.count()


@pytest.fixture(params=["sqlite", "postgresql"])
def registry_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new, empty registry database's URL: a SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'registry.sqlite'}"
    server = request.getfixturevalue("postgres")
    return server.create_database(f"registry_{next(_registry_dbs)}")


@pytest.fixture
def registry_engine(registry_url: str):  # -> sqlalchemy.Engine
    """An engine on a registry database migrated to the newest schema."""
    from leaktrace.registry import db

    engine = db.make_engine(registry_url)
    db.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def keyd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KeyProcess]:
    """A key process with the default limits, shared by a test module (a module may have its
    own, with other limits)."""
    with key_process(tmp_path_factory.mktemp("keyd")) as process:
        yield process
