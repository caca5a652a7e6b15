"""Shared fixtures: a ledger on every backend, real files and a real server.

``ledger_location`` is parametrized over in-memory, an SQLite file in a temporary directory,
and a PostgreSQL database created for the test session and dropped after it. PostgreSQL is
looked for at CAPLEDGER_TEST_POSTGRES (default postgresql://postgres@127.0.0.1:5432/postgres);
where none is reachable its tests skip with the reason shown, except under CI=true, where
they fail instead: CI must exercise the real server.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.application import Ledger
from tests.materialized_worker import Clock

ADMIN_URL = os.environ.get("CAPLEDGER_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "neotherapeutics-2002"
SEED_JOURNALS = (
    EXAMPLES / "1-securities-purchase-2002-06-07.yaml",
    EXAMPLES / "2-mutual-rescission-2002-07-25.yaml",
)


def _postgres_unavailable() -> str | None:
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed (pip install 'capledger[postgres]')"
    try:
        psycopg.connect(ADMIN_URL, connect_timeout=3).close()
    except psycopg.Error as err:
        return f"no PostgreSQL at {ADMIN_URL}: {err}".strip()
    return None


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A fresh database on the real server for this test session; yields its URL."""
    reason = _postgres_unavailable()
    if reason:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true requires PostgreSQL: {reason}")
        pytest.skip(reason)
    import psycopg

    name = f"capledger_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def postgres_location(postgres_server: str) -> Iterator[str]:
    """The session database, emptied before each test (the library creates its tables)."""
    import psycopg

    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    yield postgres_server


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def ledger_location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "memory":
        return ":memory:"
    if request.param == "sqlite":
        return str(tmp_path / "ledger.sqlite")
    return str(request.getfixturevalue("postgres_location"))


@pytest.fixture
def ledger(ledger_location: str) -> Iterator[Ledger]:
    opened = Ledger.open(ledger_location)
    yield opened
    opened.close()


@pytest.fixture
def clock() -> Clock:
    """A recorded-time clock the test advances; modules with their own ``clock`` override it."""
    return Clock()


@pytest.fixture
def opened(ledger_location: str, clock: Clock) -> Iterator[Ledger]:
    ledger = Ledger.open(ledger_location, clock=clock)
    yield ledger
    ledger.close()
