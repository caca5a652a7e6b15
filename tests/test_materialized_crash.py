"""Crash: a separate process catching the views up with a long log is killed (SIGKILL) at
random moments; each restart carries on from the last committed page, and in the end the
tables are exactly those of an uninterrupted projection, and agree with the pure fold.

Runs on an SQLite file and on PostgreSQL (the views live beside the events on both, so a kill
lands inside the backend's own transactions)."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from ledger.application import Ledger
from ledger.store import is_file_location
from projections.materialized import MaterializedViews
from projections.materialized.schema import VIEWS
from tests.materialized_worker import ROOT, Clock, dump, mismatches, record, recordings

KILLS = 5
PAGE = 25  # small pages: many commits, so a kill lands between and inside them


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "ledger.sqlite")
    return str(request.getfixturevalue("postgres_location"))


@contextmanager
def same_log(location: str, tmp_path: Path) -> Iterator[str]:
    """A second ledger holding exactly the log at ``location`` (closed: nothing connected to
    it), for an uninterrupted projection to compare with.

    SQLite: a copy of the file. PostgreSQL: a second database that the server copies from the
    first (CREATE DATABASE ... TEMPLATE), dropped afterwards. This is the server's counterpart
    of the file copy: the same rows, notification ids included, projected by the same backend's
    code. Re-recording the journals into a fresh database would trust the id sequence to hand
    out the same numbers again, and projecting into SQLite instead would compare two backends
    rather than an interrupted run with an uninterrupted one (the pure fold is checked anyway).
    """
    if is_file_location(location):
        pristine = tmp_path / "pristine.sqlite"
        shutil.copy(location, pristine)
        yield str(pristine)
        return
    import psycopg

    from tests.conftest import ADMIN_URL  # where the session database was created from

    base, name = location.rsplit("/", 1)
    pristine_name = f"{name}_pristine"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{pristine_name}"')
        conn.execute(f'CREATE DATABASE "{pristine_name}" TEMPLATE "{name}"')
    try:
        yield f"{base}/{pristine_name}"
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{pristine_name}" WITH (FORCE)')


def run_worker(location: str, kill_after: float) -> tuple[str, int]:
    """Start the worker; SIGKILL it ``kill_after`` seconds after its first committed page.
    Returns its output and its exit status."""
    worker = subprocess.Popen(
        [sys.executable, "-m", "tests.materialized_worker", location, str(PAGE)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert worker.stdout is not None
    first = worker.stdout.readline()
    if first.startswith("page"):
        time.sleep(kill_after)
        worker.send_signal(signal.SIGKILL)  # no effect if it has already finished
    out, _ = worker.communicate(timeout=120)
    sessions_ended(location)
    return first + out, worker.returncode


def sessions_ended(location: str) -> None:
    """PostgreSQL: wait until no session but ours is left on the database. The server carries on
    with a killed client's session until it reads the closed socket, so a COMMIT already sent
    could still land after the process is gone; once its sessions have ended, what we read is
    final. (SQLite needs nothing: the kernel drops a dead process's locks, and a transaction it
    did not finish is rolled back by the next reader.)"""
    if is_file_location(location):
        return
    import psycopg

    others = ("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
              "AND backend_type = 'client backend' AND pid <> pg_backend_pid()")  # not autovacuum
    deadline = time.monotonic() + 10
    with psycopg.connect(location, autocommit=True) as conn:
        while (row := conn.execute(others).fetchone()) is not None and row[0] > 0:
            assert time.monotonic() < deadline, f"{row[0]} sessions still open on the database"
            time.sleep(0.01)


def tracked(location: str) -> tuple[int, list[int], list[int]]:
    """The views' tracked position, the positions of the events they hold, and the positions
    of the events in the log up to the tracked one."""
    ledger = Ledger.open(location)
    try:
        views = MaterializedViews.open(ledger.store)
        position = views.projector.recorder.max_tracking_id(VIEWS) or 0
        rows = views.projector.recorder.select("SELECT position FROM view_recordings", ())
        held = sorted(p for (p,) in rows)
        logged = [r.position for r in ledger.store.all_entries() if r.position <= position]
        return position, held, logged
    finally:
        ledger.close()


def test_killed_projections_resume_without_loss_or_duplicates(location: str, tmp_path: Path) -> None:
    clock = Clock()
    ledger = Ledger.open(location, clock=clock)
    record(ledger, clock, recordings(copies=60))  # 240 issuers, 540 recordings, 1800 events
    issuers = ledger.issuers()
    ledger.close()
    with same_log(location, tmp_path) as pristine:
        chance = random.Random(20260105)
        progress = []
        for _ in range(KILLS):
            output, status = run_worker(location, kill_after=chance.uniform(0.0, 0.05))
            assert output.startswith("page"), output  # every run committed a page at least
            assert status == -signal.SIGKILL or (status == 0 and output.endswith("done\n")), (status, output)
            position, held, logged = tracked(location)
            # Exactly the pages committed, each once: nothing of the page the kill cut short.
            assert held == logged, f"position {position}: views hold {len(held)} events of {len(logged)}"
            progress.append(position)
            if status == 0:  # a fast machine may finish the log before a late kill
                break
        interrupted = len(progress) - (status == 0)
        assert interrupted >= 3, f"only {interrupted} kills landed before the worker finished"
        # Each run carried on from the last committed page, and committed one more at least.
        assert progress == sorted(set(progress)) and progress[0] > 0, progress

        ledger = Ledger.open(location)
        uninterrupted_ledger = Ledger.open(pristine)
        try:
            views = MaterializedViews.open(ledger.store)
            views.catch_up()
            uninterrupted = MaterializedViews.open(uninterrupted_ledger.store)
            assert uninterrupted.projector.tracked() == 0  # the copy was taken before any projection
            uninterrupted.catch_up()
            tables = dump(views)
            assert tables == dump(uninterrupted)  # nothing lost, nothing twice
            entries = ledger.store.all_entries()
            assert sorted(row[2] for row in tables["view_recordings"]) == [r.position for r in entries]
            for issuer in issuers[::10]:
                log = ledger.entries(issuer)
                assert mismatches(views, log, times=[None, log[0].recorded_at]) == []
        finally:
            uninterrupted_ledger.close()
            ledger.close()
    print(f"tracked position after each run: {progress}; {interrupted} kills landed")
