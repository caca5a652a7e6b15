"""Property: on generated ledgers (back-dated entries, corrections, voids, splits, warrants),
the materialized views answer every query as the pure fold does, on SQLite and PostgreSQL.

The ledgers come from the property suite's own strategy (``tests.property.strategies``,
used read-only). Each example is recorded into a fresh store, projected, and compared at
every date an entry mentions (+-1 day) and at every recorded time (and the instant before).
Then every table's full history (all rows ever believed, ``view_positions`` included) is
compared with the pure derivation of each recording's prefix of the log.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from projections.materialized import MaterializedViews
from tests.materialized_worker import mismatches
from tests.property.strategies import GeneratedLedger, ledgers
from tests.property.support import record_all
from tests.test_materialized import history_mismatches

SQLITE_EXAMPLES, POSTGRES_EXAMPLES = 30, 12  # about 8 s and 25 s on 2 cores
SETTINGS = settings( derandomize=True, database=None, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture])


def agree(location: str, gen: GeneratedLedger) -> None:
    ledger = record_all(gen, location)
    try:
        views = MaterializedViews.open(ledger.store)
        log = ledger.entries(gen.issuer)
        assert mismatches(views, log) == []
        assert history_mismatches(views, log) == []  # every table, every recording's version
    finally:
        ledger.close()


@pytest.fixture
def sqlite_file() -> Iterator[Callable[[], str]]:
    with tempfile.TemporaryDirectory() as folder:
        made = iter(range(10**6))
        yield lambda: str(Path(folder) / f"ledger-{next(made)}.sqlite")


@pytest.fixture
def fresh_postgres(postgres_server: str) -> Callable[[], str]:
    import psycopg

    def fresh() -> str:
        with psycopg.connect(postgres_server, autocommit=True) as conn:
            conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        return postgres_server

    return fresh


@settings(SETTINGS, max_examples=SQLITE_EXAMPLES)
@given(gen=ledgers(max_steps=16))
def test_views_agree_with_the_fold_on_sqlite(sqlite_file: Callable[[], str], gen: GeneratedLedger) -> None:
    agree(sqlite_file(), gen)


@pytest.mark.postgres
@settings(SETTINGS, max_examples=POSTGRES_EXAMPLES)
@given(gen=ledgers(max_steps=16))
def test_views_agree_with_the_fold_on_postgres(
    fresh_postgres: Callable[[], str], gen: GeneratedLedger
) -> None:
    agree(fresh_postgres(), gen)
