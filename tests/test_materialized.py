"""Materialized views against the pure fold, on every backend: the contract, a restart, and
exactly-once (a replayed page fails and changes nothing)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from eventsourcing.persistence import IntegrityError

from ledger.application import Ledger
from projections.materialized import MaterializedViews, Projector
from projections.materialized.schema import VIEWS
from tests.materialized_worker import Clock, dump, mismatches, record, recordings


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def opened(ledger_location: str, clock: Clock) -> Iterator[Ledger]:
    ledger = Ledger.open(ledger_location, clock=clock)
    yield ledger
    ledger.close()


def test_views_answer_as_the_fold_on_every_date_and_recorded_time(opened: Ledger, clock: Clock) -> None:
    record(opened, clock, recordings())
    views = MaterializedViews.open(opened.store)
    for issuer in opened.issuers():
        assert mismatches(views, opened.entries(issuer)) == []


def test_views_follow_new_recordings_between_queries(opened: Ledger, clock: Clock) -> None:
    views = MaterializedViews.open(opened.store)
    for issuer, entries in recordings():
        record(opened, clock, [(issuer, entries)])
        log = opened.entries(issuer)
        assert mismatches(views, log, times=[None, log[-1].recorded_at]) == []


def test_holder_position_is_holdings_of_one_holder(opened: Ledger, clock: Clock) -> None:
    record(opened, clock, recordings())
    views = MaterializedViews.open(opened.store)
    log = opened.entries("neotherapeutics")
    for day in {r.entry.effective for r in log}:
        everyone = views.holdings("neotherapeutics", day)
        for holder in {p.holder for p in everyone}:
            assert views.holder_position("neotherapeutics", holder, day) == [
                p for p in everyone if p.holder == holder]


def test_a_restarted_projector_carries_on_from_the_tables(ledger_location: str, clock: Clock) -> None:
    items = list(recordings())
    ledger = Ledger.open(ledger_location, clock=clock)
    record(ledger, clock, items[: len(items) // 2])
    views = MaterializedViews.open(ledger.store)
    assert views.catch_up() > 0
    if ledger_location != ":memory:":  # a real restart: everything closed and opened again
        ledger.close()
        ledger = Ledger.open(ledger_location, clock=clock)
        views = MaterializedViews.open(ledger.store)
    else:  # in memory the views live as long as the process: a new projector, same tables
        views = MaterializedViews(Projector(ledger.store, views.projector.recorder))
    record(ledger, clock, items[len(items) // 2:])
    assert views.catch_up() > 0 and views.catch_up() == 0
    for issuer in ledger.issuers():
        assert mismatches(views, ledger.entries(issuer)) == []
    ledger.close()


def test_a_replayed_page_raises_and_changes_nothing(opened: Ledger, clock: Clock) -> None:
    record(opened, clock, recordings())
    views = MaterializedViews.open(opened.store)
    views.catch_up()
    before = dump(views)
    tracked = views.projector.recorder.max_tracking_id(VIEWS)
    log = opened.store.app.recorder.select_notifications(0, 1000)
    assert tracked == log[-1].id
    for page in (log[-3:], log[:5], log):  # the last page again, an old one, everything
        with pytest.raises(IntegrityError):
            views.projector.project(page)
        fresh = Projector(opened.store, views.projector.recorder)  # no caches: same outcome
        with pytest.raises(IntegrityError):
            fresh.project(page)
    assert dump(views) == before
    assert views.projector.recorder.max_tracking_id(VIEWS) == tracked
    assert views.catch_up() == 0
    for issuer in opened.issuers():
        assert mismatches(views, opened.entries(issuer), times=[None]) == []
