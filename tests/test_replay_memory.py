"""The streamed replay (``projections.replay``): two passes over the log, never holding it, must
give exactly ``rows.derive``'s rows, feed the fold in exactly ``ledger.timeline.timeline``'s
order (corrections and voids applied), stop on a broken chain, notice a log that changed
between its passes, and hold only a bounded buffer of records."""

from __future__ import annotations

import sqlite3
import tracemalloc
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks import replay as bench
from benchmarks.generate import LATE_MAX, generate
from ledger.application import Ledger
from ledger.entries import AnyEntry, parse_entry
from ledger.records import RecordedEntry
from ledger.store import LedgerStore, stream_id
from ledger.timeline import timeline
from projections.materialized.rows import derive
from projections.replay import (
    DROPPED,
    REPLACED,
    LogChanged,
    TimelineFeed,
    plan_timeline,
    rebuild,
    replay,
)
from tests.helpers import entry, store_at

ISSUER = "bench-co"  # benchmarks.generate's issuer
MOMENT = datetime(2030, 1, 1, tzinfo=UTC)


# --- a generated ledger with back-dated entries, corrections and voids ---------------------------


def _unreferenced_purchases(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Purchases whose lot no other entry names: they can be corrected, moved or voided."""
    named: dict[str, int] = {}
    for e in entries:
        for value in e.values():
            if isinstance(value, str):
                named[value] = named.get(value, 0) + 1
    return [e for e in entries if e["type"] == "SharesPurchased" and named[e["lot"]] == 1]


def record_workload(ledger: Ledger, size: int = 1_500) -> None:
    """``generate``'s workload (about 5% recorded late, up to LATE_MAX places) in journals of
    300, then: a holder moved back to the first day and renamed; a purchase corrected twice
    (moved to the last day, then to the middle, new quantity); a purchase voided; a holder
    added, corrected and voided; a purchase back-dated by years, recorded last."""
    w = generate(size, 60, seed=3)
    entries = [parse_entry(e) for e in w.entries]
    for start in range(0, len(entries), 300):
        ledger.record(ISSUER, entries[start:start + 300])
    first, last = w.first_day, w.last_day
    middle = first + (last - first) / 2
    holder = [e for e in w.entries if e["type"] == "StakeholderAdded"][10]
    moved, voided, *_ = _unreferenced_purchases(w.entries)
    ledger.record(ISSUER, [
        _correct("fix-holder", last, {**holder, "name": "Renamed", "effective": first.isoformat()}),
        _correct("move-1", last, {**moved, "effective": last.isoformat(), "quantity": 7}),
        _correct("move-2", last, {**moved, "effective": middle.isoformat(), "quantity": 9}),
        entry("EntryVoided", "void-1", last, target=voided["id"], reason="duplicate", by="A. Clerk"),
        entry("StakeholderAdded", "temp", last, holder="temp", name="Temp"),
        entry("EntryCorrected", "fix-temp", last, target="temp", reason="typo", by="A. Clerk",
              replacement={"type": "StakeholderAdded", "id": "temp", "effective": str(last),
                           "citation": holder["citation"], "holder": "temp", "name": "Temp 2"}),
        entry("EntryVoided", "void-temp", last, target="temp", reason="not a holder", by="A. Clerk"),
        entry("SharesPurchased", "late-buy", first + timedelta(days=400), lot="late-lot",
              holder=holder["holder"], share_class="common", quantity=5, consideration="5 USD"),
    ])


def _correct(id_: str, day: date, replacement: dict[str, Any]) -> AnyEntry:
    return entry("EntryCorrected", id_, day, target=replacement["id"], replacement=replacement,
                 reason="clerical", by="A. Clerk")


def record_at(location: str, size: int = 1_500) -> None:
    ledger = Ledger.open(location)
    try:
        record_workload(ledger, size)
    finally:
        ledger.close()


@pytest.fixture(params=["sqlite", "memory", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LedgerStore]:
    if request.param != "memory":
        location = str(tmp_path / "replay.sqlite") if request.param == "sqlite" else str(
            request.getfixturevalue("postgres_location"))
        record_at(location)
        with store_at(location) as found:
            yield found
        return
    ledger = Ledger.open(":memory:")  # an in-memory store lives as long as its ledger
    try:
        record_workload(ledger)
        yield ledger.store
    finally:
        ledger.close()


# --- the same rows and the same order as the whole-log way --------------------------------------


@pytest.mark.parametrize("page", [7, 5_000])
def test_streamed_replay_gives_derive_rows(store: LedgerStore, page: int) -> None:
    records = store.entries(ISSUER)
    done = replay(store, ISSUER, page=page)
    assert done.report.ok and done.events == len(records)
    assert done.rows == derive(records)
    assert rebuild(lambda: iter(store.entries(ISSUER))) == done.rows


def test_workload_exercises_corrections_voids_and_reordering(store: LedgerStore) -> None:
    """Not a tautology: the workload corrects, voids and back-dates, so the feed reorders."""
    records = store.entries(ISSUER)
    plan = plan_timeline(records)
    assert sorted(plan.replacements) == [i for i, m in enumerate(plan.marks) if m == REPLACED]
    assert len(plan.replacements) == 2  # the holder and the purchase; "temp" is voided after
    assert plan.marks.count(DROPPED) == 6 + 2  # four corrections, two voids; their two targets
    feed = TimelineFeed(records, plan)
    ordered = list(feed)
    assert ordered == timeline(records)
    assert ordered != sorted(ordered, key=lambda r: r.sequence)
    assert feed.held_max > 0
    assert replay(store, ISSUER).held_max == feed.held_max


def test_buffer_is_bounded_by_how_late_entries_are_recorded() -> None:
    """``generate`` records entries up to LATE_MAX places late: the buffer holds no more,
    whatever the log's length; an in-order log needs none."""
    for size in (2_000, 6_000):
        records = list(lazy_records(size))
        feed = TimelineFeed(records, plan_timeline(records))
        assert list(feed) == timeline(records)
        assert 0 < feed.held_max <= LATE_MAX
    in_order = [replace(r, sequence=i) for i, r in enumerate(timeline(records), start=1)]
    feed = TimelineFeed(in_order, plan_timeline(in_order))
    assert list(feed) == in_order and feed.held_max == 0


def lazy_records(size: int, entries: list[dict[str, Any]] | None = None) -> Iterator[RecordedEntry]:
    """``generate``'s entries (or ``entries``) as records, decoded one at a time (never all
    alive at once)."""
    for sequence, data in enumerate(entries or generate(size, 100, seed=4).entries, start=1):
        yield RecordedEntry(ISSUER, sequence, sequence, MOMENT, parse_entry(data))


def test_passes_hold_a_small_fraction_of_the_log() -> None:
    """Both passes over a log decoded on the fly keep far less than the log's records: what
    ``audit_entries`` + ``derive`` held (about 2.8 KB a record) is not held here."""
    size = 4_000
    entries = generate(size, 100, seed=4).entries  # the source's own memory, not measured
    tracemalloc.start()
    try:
        kept = list(lazy_records(size, entries))
        whole = tracemalloc.get_traced_memory()[0]
        del kept
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        plan = plan_timeline(lazy_records(size, entries))
        fed = sum(1 for _ in TimelineFeed(lazy_records(size, entries), plan))
        streamed = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert fed == size
    assert streamed < whole / 4, (streamed, whole)


# --- the plan against ``timeline`` on any log: duplicates, edits before targets, re-records -------

IDS = st.sampled_from(["a", "b", "c", "d"])
DAYS = st.integers(0, 5).map(lambda n: date(2020, 1, 1) + timedelta(days=n))


def _holder(id_: str, day: date) -> dict[str, Any]:
    return {"type": "StakeholderAdded", "id": id_, "effective": day.isoformat(),
            "citation": {"document": "D", "dated": "2020-01-01", "section": "1"}, "holder": id_, "name": "N"}


@st.composite
def any_entry(draw: st.DrawFn) -> AnyEntry:
    kind, target, day = draw(st.sampled_from(["book", "correct", "void"])), draw(IDS), draw(DAYS)
    if kind == "book":
        return parse_entry(_holder(target, day))
    if kind == "correct":
        return entry("EntryCorrected", f"fix-{draw(st.integers(0, 10**6))}", day, target=target,
                     replacement=_holder(target, draw(DAYS)), reason="r", by="b")
    return entry("EntryVoided", f"void-{draw(st.integers(0, 10**6))}", day, target=target, reason="r", by="b")


@settings(max_examples=300, deadline=None)
@given(entries=st.lists(any_entry(), max_size=30), gaps=st.lists(st.integers(1, 3), min_size=30, max_size=30))
def test_feed_is_timeline_on_any_log(entries: list[AnyEntry], gaps: list[int]) -> None:
    sequences = [sum(gaps[:i + 1]) for i in range(len(entries))]  # increasing, not gapless
    records = [RecordedEntry(ISSUER, s, s, MOMENT, e, f"d{s}")
               for s, e in zip(sequences, entries, strict=True)]
    assert list(TimelineFeed(records, plan_timeline(records))) == timeline(records)


def test_hash_collisions_are_decided_on_the_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every id hashing alike (as a collision would) changes nothing: ids are compared exactly."""
    import projections.replay as module

    monkeypatch.setattr(module, "hash", lambda value: 42, raising=False)
    records = list(lazy_records(600))
    records.append(RecordedEntry(ISSUER, 601, 601, MOMENT, entry(
        "EntryVoided", "void-x", "2030-01-01", target=records[5].entry.id, reason="r", by="b")))
    assert list(TimelineFeed(records, plan_timeline(records))) == timeline(records)


def test_records_out_of_recorded_order_are_refused() -> None:
    records = list(lazy_records(5))
    with pytest.raises(ValueError, match="out of recorded order"):
        plan_timeline([records[1], records[0]])


# --- the chain: a broken one stops the replay; a log that changed between passes is noticed ------


def tamper(location: str, version: int) -> None:
    """A quantity changed in the stored row, its hashes left as they were."""
    where = "WHERE originator_id = ? AND originator_version = ?"
    with sqlite3.connect(location) as db:
        (state,) = db.execute(f"SELECT state FROM stored_events {where}",
                              (stream_id(ISSUER).hex, version)).fetchone()
        db.execute(f"UPDATE stored_events SET state = ? {where}",
                   (state.replace(b'"quantity":', b'"quantity":1'), stream_id(ISSUER).hex, version))


def first_with_quantity(store: LedgerStore) -> int:
    return next(r.sequence for r in store.entries(ISSUER) if "quantity" in r.entry.__dict__)


@pytest.fixture
def location(tmp_path: Path) -> str:
    where = str(tmp_path / "replay.sqlite")
    record_at(where, size=400)
    return where


def test_broken_chain_stops_the_replay(location: str) -> None:
    with store_at(location) as store:
        version = first_with_quantity(store)
    tamper(location, version)
    with store_at(location) as store:
        done = replay(store, ISSUER, stage=lambda name: pytest.fail(f"went on to {name}"))
        assert done.rows is None and not done.report.ok
        assert done.report == store.audit(ISSUER)
        assert done.report.broken is not None and done.report.broken.sequence == version
    with pytest.raises(SystemExit, match="chain broken"):
        bench.replay(location, ISSUER)


def test_a_log_changed_between_the_passes_is_noticed(location: str) -> None:
    with store_at(location) as store:
        version = first_with_quantity(store)
        with pytest.raises(LogChanged):
            replay(store, ISSUER, stage=lambda name: tamper(location, version) if name == "planned" else None)


def test_entries_appended_between_the_passes_wait_for_the_next_replay(location: str) -> None:
    with store_at(location) as store:
        before = store.entries(ISSUER)

        def append(name: str) -> None:
            if name == "planned":
                ledger = Ledger.open(location)
                later = entry("StakeholderAdded", "later", "2030-01-01", holder="later", name="L")
                ledger.record(ISSUER, [later])
                ledger.close()

        done = replay(store, ISSUER, stage=append)
        assert done.events == len(before) and done.rows == derive(before)
        assert len(store.entries(ISSUER)) == len(before) + 1


def test_a_second_read_that_differs_is_refused() -> None:
    logs = iter([list(lazy_records(50)), list(lazy_records(49))])
    with pytest.raises(LogChanged):
        rebuild(lambda: next(logs))
    logs = iter([list(lazy_records(50)), list(lazy_records(50))[::-1]])
    with pytest.raises(LogChanged):
        rebuild(lambda: next(logs))
    # The same ids and dates, another head: in a store, any row rewritten and the chain
    # recomputed after it (both passes verify the chain, so the heads decide).
    rewritten = list(lazy_records(50))
    rewritten[-1] = replace(rewritten[-1], digest="another")
    logs = iter([list(lazy_records(50)), rewritten])
    with pytest.raises(LogChanged, match="record 50 is not"):
        rebuild(lambda: next(logs))


# --- the benchmark's modes ------------------------------------------------------------------------


def test_benchmark_modes(location: str) -> None:
    streamed, listed = bench.replay(location, ISSUER), bench.replay_list(location, ISSUER)
    assert streamed["events"] == listed["events"] > 400
    assert streamed["rows"] == listed["rows"] > 0 and streamed["passes"] == 2
    assert streamed["rebuild_s"] == pytest.approx(streamed["fold_s"] + streamed["rows_s"])
    assert bench.audit_only(location, ISSUER)["ok"]
    assert bench.library(location, ISSUER)["events"] == streamed["events"]
