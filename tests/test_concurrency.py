"""Concurrent writers and crashes, with real processes on real SQLite files and PostgreSQL
(issue 5): no lost or duplicated event, every invariant holds, a journal is all or nothing."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ledger.application import Ledger
from ledger.integrity import verify
from projections import holdings
from tests.workers.recorder import ISSUER, opening, purchase

ROOT = Path(__file__).resolve().parent.parent
SIZE = 10_000  # entries in the journal the crash test kills


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def shared_location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "shared.sqlite")
    return str(request.getfixturevalue("postgres_location"))


def worker(location: str, mode: str, name: str, count: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.workers.recorder", location, mode, name, str(count)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def finish(process: subprocess.Popen[str]) -> None:
    _, err = process.communicate(timeout=600)
    assert process.returncode == 0, err[-2000:]


def test_four_processes_racing_on_one_issuer(shared_location: str) -> None:
    ledger = Ledger.open(shared_location)
    ledger.record(ISSUER, opening(ISSUER))
    per_process = 500
    processes = [worker(shared_location, "concurrent", f"w{n}", per_process) for n in range(4)]
    for p in processes:
        finish(p)
    log = ledger.entries(ISSUER)
    try:
        ids = [r.entry.id for r in log]
        assert len(ids) == 3 + 4 * per_process == len(set(ids))  # nothing lost, nothing twice
        assert [r.sequence for r in log] == list(range(1, len(log) + 1))
        expected = sum(purchase(f"w{n}", i).quantity for n in range(4) for i in range(per_process))  # type: ignore[union-attr]
        held = holdings(log, __import__("datetime").date(2021, 1, 1))
        assert sum(p.shares for p in held) == expected
        assert verify(ISSUER, ledger.store.links(ISSUER)).ok  # the chain survived the race
    finally:
        ledger.close()


def test_issuers_record_side_by_side(shared_location: str) -> None:
    processes = [worker(shared_location, "issuer", f"issuer-{n}", 100) for n in range(3)]
    for p in processes:
        finish(p)
    ledger = Ledger.open(shared_location)
    try:
        assert ledger.issuers() == ["issuer-0", "issuer-1", "issuer-2"]
        for n in range(3):
            assert [r.sequence for r in ledger.entries(f"issuer-{n}")] == list(range(1, 104))
    finally:
        ledger.close()


def test_kill_during_a_large_journal_stores_all_or_nothing(shared_location: str) -> None:
    """SIGKILL at random moments (four times) while a 10,000-entry journal is decided and
    written: each time either all of it is stored or none, and the log and its chain stay whole."""
    ledger = Ledger.open(shared_location)
    ledger.record(ISSUER, opening(ISSUER))
    started = time.monotonic()
    finish(worker(shared_location, "bulk", "bulk0", SIZE))  # how long one undisturbed run takes
    duration = time.monotonic() - started
    rng = random.Random(20021207)
    outcomes = []
    for attempt in range(1, 5):
        process = worker(shared_location, "bulk", f"bulk{attempt}", SIZE)
        time.sleep(rng.uniform(0.3, 2.5) * duration)  # later runs decide on a longer log
        process.send_signal(signal.SIGKILL)
        process.wait()
        stored = sum(r.entry.id.startswith(f"bulk{attempt}-") for r in ledger.entries(ISSUER))
        assert stored in (0, SIZE), f"attempt {attempt}: {stored} of {SIZE:,} entries stored"
        outcomes.append(stored)
    log = ledger.entries(ISSUER)
    assert [r.sequence for r in log] == list(range(1, len(log) + 1))
    assert verify(ISSUER, ledger.store.links(ISSUER)).ok
    ledger.close()
    print(f"one run {duration:.1f}s; entries stored per killed attempt: {outcomes}")


@pytest.mark.postgres
def test_many_processes_opening_a_new_postgres_database_at_once(postgres_location: str) -> None:
    """Every process creates the tables on open (CREATE TABLE IF NOT EXISTS); PostgreSQL refuses
    the losers of that race with a duplicate key in pg_type. Opening must still succeed."""
    import psycopg

    for _ in range(3):  # the race is timing-dependent: try it on a few empty schemas
        with psycopg.connect(postgres_location, autocommit=True) as conn:
            conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        processes = [worker(postgres_location, "open", f"o{n}", 0) for n in range(6)]
        for p in processes:
            finish(p)
