"""The hash chain (issue 7): tampering with the database directly, bypassing the application,
is detected on SQLite and PostgreSQL; a published head hash catches a recomputed chain."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from ledger.application import Ledger
from ledger.integrity import chain_digest, verify
from ledger.journal import load_journal
from tests.conftest import SEED_JOURNALS
from tests.helpers import run_cli

ISSUER = "neotherapeutics"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def location(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    where = str(tmp_path / "chain.sqlite") if request.param == "sqlite" else str(
        request.getfixturevalue("postgres_location"))
    ledger = Ledger.open(where)
    for path in SEED_JOURNALS:
        journal = load_journal(path)
        ledger.record(journal.issuer, journal.entries)
    ledger.close()
    return where


@contextmanager
def raw_sql(location: str) -> Iterator[Callable[..., list[tuple[Any, ...]]]]:
    """Run SQL straight against the store's table, as someone with database access could."""
    if location.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(location, autocommit=True) as conn:
            def run(sql: str, *params: Any) -> list[tuple[Any, ...]]:
                cursor = conn.execute(sql.replace("?", "%s").replace("stored_events", "capledger_events")
                                      .replace("rowid", "notification_id"), params)
                return cursor.fetchall() if cursor.description else []
            yield run
    else:
        with sqlite3.connect(location) as conn:
            def run(sql: str, *params: Any) -> list[tuple[Any, ...]]:
                return conn.execute(sql, params).fetchall()
            yield run
            conn.commit()


def state_of(run: Callable[..., list[tuple[Any, ...]]], version: int) -> dict[str, Any]:
    ((state,),) = run("SELECT state FROM stored_events WHERE originator_version = ?", version)
    return dict(json.loads(bytes(state)))


def put_state(run: Callable[..., list[tuple[Any, ...]]], version: int, state: dict[str, Any]) -> None:
    run("UPDATE stored_events SET state = ? WHERE originator_version = ?",
        json.dumps(state, separators=(",", ":")).encode(), version)


def check(location: str, *args: str) -> tuple[int, str]:
    result = run_cli("audit", "verify", "--ledger", location, *args)
    return result.exit_code, result.output


def test_untouched_ledger_verifies(location: str) -> None:
    code, output = check(location)
    assert code == 0 and "verified 8 events; head " in output


def test_changed_quantity(location: str) -> None:
    with raw_sql(location) as run:
        state = state_of(run, 6)
        state["entry"]["quantity"] = 300000  # the rescission of 400,000, quietly reduced
        put_state(run, 6, state)
    code, output = check(location)
    assert code == 1 and "BROKEN at event 6" in output and "mra-2002-07-25-rescission" in output
    assert "no longer matches its hash" in output and "first 5 events verify" in output


def test_deleted_row(location: str) -> None:
    with raw_sql(location) as run:
        run("DELETE FROM stored_events WHERE originator_version = 4")
    code, output = check(location)
    assert code == 1 and "event 4 is missing" in output and "sequence 5" in output


def test_swapped_rows(location: str) -> None:
    with raw_sql(location) as run:
        six, seven = state_of(run, 6), state_of(run, 7)
        put_state(run, 6, seven)
        put_state(run, 7, six)
    code, output = check(location)
    assert code == 1 and "BROKEN at event 6" in output and "link to the event before" in output


def test_forged_row(location: str) -> None:
    with raw_sql(location) as run:
        ((originator, topic),) = run("SELECT originator_id, topic FROM stored_events "
                                     "WHERE originator_version = 8")
        forged = state_of(run, 8)
        forged["entry"] = {**forged["entry"], "id": "forged-reissue", "new_warrant": "W-FORGED"}
        forged["previous"] = forged["digest"]
        forged["digest"] = "f" * 64
        run("INSERT INTO stored_events (originator_id, originator_version, topic, state) "
            "VALUES (?, ?, ?, ?)", originator, 9, topic, json.dumps(forged).encode())
    code, output = check(location)
    assert code == 1 and "BROKEN at event 9" in output and "forged-reissue" in output


def test_changed_recorded_time(location: str) -> None:
    with raw_sql(location) as run:
        state = state_of(run, 3)
        state["timestamp"]["_data_"] = "2002-07-24T12:00:00+00:00"  # pretend it was known earlier
        put_state(run, 3, state)
    code, output = check(location)
    assert code == 1 and "BROKEN at event 3" in output and "recorded time" in output


def test_published_head_catches_a_recomputed_chain(location: str) -> None:
    code, output = check(location, "--json")
    published = json.loads(output)[0]["head"]
    # A writer with database access changes event 6 and recomputes every hash after it.
    with raw_sql(location) as run:
        previous = state_of(run, 5)["digest"]
        for version in range(6, 9):
            state = state_of(run, version)
            if version == 6:
                state["entry"]["quantity"] = 300000
                state["entry"]["refund_total"] = {"amount": "69750.0000", "currency": "USD"}
            from datetime import datetime
            recorded = datetime.fromisoformat(state["timestamp"]["_data_"])
            state["previous"] = previous
            state["digest"] = previous = chain_digest(previous, ISSUER, version, recorded, state["entry"])
            put_state(run, version, state)
    assert check(location)[0] == 0  # the chain alone cannot tell
    code, output = check(location, "--expect-head", published)
    assert code == 1 and f"expected head {published} is not in the chain" in output


def test_published_head_of_an_earlier_state_still_verifies(location: str) -> None:
    ledger = Ledger.open(location)
    try:
        links = ledger.store.links(ISSUER)
        earlier = verify(ISSUER, links[:5]).head
        report = verify(ISSUER, links, expect_head=earlier)
    finally:
        ledger.close()
    assert report.ok and report.expected_head_found_at == 5 and report.events == 8
