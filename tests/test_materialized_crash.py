"""Crash: a separate process catching the views up with a long log is killed (SIGKILL) at
random moments; each restart carries on from the last committed page, and in the end the
tables are exactly those of an uninterrupted projection, and agree with the pure fold."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from ledger.application import Ledger
from projections.materialized import MaterializedViews
from projections.materialized.schema import VIEWS
from tests.materialized_worker import ROOT, Clock, dump, mismatches, record, recordings

KILLS = 5
PAGE = 25  # small pages: many commits, so a kill lands between and inside them


def run_worker(location: str, kill_after: float | None) -> str:
    """Start the worker; SIGKILL it ``kill_after`` seconds after its first committed page."""
    worker = subprocess.Popen(
        [sys.executable, "-m", "tests.materialized_worker", location, str(PAGE)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert worker.stdout is not None
    first = worker.stdout.readline()
    if kill_after is not None and first.startswith("page"):
        time.sleep(kill_after)
        worker.send_signal(signal.SIGKILL)
    out, _ = worker.communicate(timeout=120)
    return first + out


def test_killed_projections_resume_without_loss_or_duplicates(tmp_path: Path) -> None:
    location = str(tmp_path / "ledger.sqlite")
    clock = Clock()
    ledger = Ledger.open(location, clock=clock)
    record(ledger, clock, recordings(copies=60))  # 240 issuers, 540 recordings, 1800 events
    issuers = ledger.issuers()
    ledger.close()
    pristine = tmp_path / "pristine.sqlite"
    shutil.copy(location, pristine)  # the same log, for an uninterrupted projection

    chance = random.Random(20260105)
    progress = []
    for _ in range(KILLS):
        output = run_worker(location, kill_after=chance.uniform(0.0, 0.05))
        ledger = Ledger.open(location)
        progress.append(MaterializedViews.open(ledger.store).projector.recorder.max_tracking_id(VIEWS) or 0)
        ledger.close()
        if "done" in output:  # a fast machine may finish the log before a late kill
            break
    interrupted = len(progress) - ("done" in output)
    assert interrupted >= 3, f"only {interrupted} kills landed before the worker finished"
    assert progress == sorted(progress)  # each run carried on from the last committed page

    ledger = Ledger.open(location)
    views = MaterializedViews.open(ledger.store)
    views.catch_up()
    uninterrupted_ledger = Ledger.open(str(pristine))
    uninterrupted = MaterializedViews.open(uninterrupted_ledger.store)
    uninterrupted.catch_up()
    assert dump(views) == dump(uninterrupted)  # nothing lost, nothing twice
    events = len(ledger.store.all_entries())
    assert len(dump(views)["view_recordings"]) == events
    for issuer in issuers[::10]:
        log = ledger.entries(issuer)
        assert mismatches(views, log, times=[None, log[0].recorded_at]) == []
    uninterrupted_ledger.close()
    ledger.close()
