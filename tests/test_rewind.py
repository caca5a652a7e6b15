"""A warm writer places back-dated entries by rewinding the last entries of its tail
(``Book.mark`` / ``Book.rewind``, ``decisions.Recent``) instead of booking the whole log
again. What it decides and stores must be exactly what booking the whole timeline gives."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest

from benchmarks.generate import ISSUER, generate
from ledger import decisions, snapshots
from ledger.application import Ledger
from ledger.book import Book, book_entries
from ledger.entries import AnyEntry, parse_entry
from ledger.errors import Rejected
from ledger.records import timeline_key
from ledger.store import LedgerStore
from ledger.timeline import resolve
from projections import holdings
from tests.helpers import entry
from tests.test_snapshots import long_stream, purchase


class FullBookings:
    """Counts the decisions that booked the whole timeline."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        real = decisions._book_timeline

        def counted(*args: Any) -> Any:
            self.count += 1
            return real(*args)

        monkeypatch.setattr(decisions, "_book_timeline", counted)


@pytest.fixture
def store(ledger_location: str) -> Iterator[LedgerStore]:
    s = LedgerStore(ledger_location)
    yield s
    s.close()


@pytest.fixture(autouse=True)
def no_snapshots(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(snapshots, "EVERY", 10**9)  # every writer here is warm or starts empty


def timeline_order(entries: list[AnyEntry]) -> list[AnyEntry]:
    """Effective date, then recorded order: the order the books are folded in."""
    return sorted(entries, key=lambda e: e.effective)


def workload(size: int, holders: int, seed: int) -> list[AnyEntry]:
    return [parse_entry(e) for e in generate(size, holders, seed=seed).entries]


def test_rewinding_restores_the_book_exactly() -> None:
    """Every kind of entry: mark, apply, rewind gives back the state before, field for field;
    so does rewinding a run of 40 entries at once, newest first."""
    entries = timeline_order(workload(700, 12, seed=3))
    assert {"StockSplit", "WarrantExercised", "WarrantReissued", "WarrantAmended",
            "PurchaseRescinded", "SharesTransferred"} <= {e.type for e in entries}
    book = Book()
    for i, e in enumerate(entries):
        before = copy.deepcopy(book)
        mark = book.mark(e)
        book.apply(e)
        assert book != before, (i, e.id)  # every entry changes something
        book.rewind(mark)
        assert book == before, (i, e.id, e.type)
        book.apply(e)
    assert book == book_entries(entries)

    book = book_entries(entries[:300])
    before = copy.deepcopy(book)
    marks = []
    for e in entries[300:340]:
        marks.append(book.mark(e))
        book.apply(e)
    for mark in reversed(marks):
        book.rewind(mark)
    assert book == before


def test_a_warm_writer_records_back_dated_journals_as_booking_everything_does(
    store: LedgerStore, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The generated workload (some entries recorded out of date order) in journals of 25, recorded by one
    warm writer: the whole timeline is booked once (the first journal), every later journal
    on the tail, back-dated ones included; stored events and final state equal a writer that
    books the whole log every time."""
    entries = workload(1000, 300, seed=7)  # many holders: room to record entries late
    journals = [entries[i:i + 25] for i in range(0, len(entries), 25)]
    back_dated = sum(1 for i in range(1, len(journals))
                     if min(e.effective for e in journals[i])
                     < max(e.effective for j in journals[:i] for e in j))
    assert back_dated >= 4  # the case under test does occur

    full = FullBookings(monkeypatch)
    warm = Ledger(store)
    for journal in journals:
        warm.record(ISSUER, journal)
    assert full.count == 1

    reference = LedgerStore(str(tmp_path / "reference.sqlite"))
    try:
        ledger = Ledger(reference)
        for journal in journals:
            ledger._writers.clear()  # no tail: every decision books the whole timeline
            ledger.record(ISSUER, journal)
        want = [(r.sequence, r.entry) for r in reference.entries(ISSUER)]
    finally:
        reference.close()
    got = [(r.sequence, r.entry) for r in store.entries(ISSUER)]
    assert got == want
    tail = warm._writers[ISSUER].tail
    assert tail is not None
    booked = book_entries(r.entry for r in sorted(resolve(store.entries(ISSUER)), key=timeline_key))
    booked.defined_later = tail.book.defined_later  # where ids are defined: for messages only
    assert tail.book == booked


def test_a_back_dated_entry_that_breaks_a_later_one_is_refused_on_the_tail(
    store: LedgerStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = long_stream(store, 30)
    ledger.record("acme", [entry("WarrantIssued", "w", "2002-01-10", warrant="w", holder="h2",
                                 share_class="common", shares=500, exercise_price="1.00 USD")])
    ledger.record("acme", [entry("WarrantExercised", "x", "2002-01-12", warrant="w", lot="lot-x",
                                 shares=500, payment="500.00 USD")])
    stored = len(store.entries("acme"))
    full = FullBookings(monkeypatch)
    with pytest.raises(Rejected) as refused:
        ledger.record("acme", [entry("WarrantCancelled", "c", "2002-01-11", warrant="w")])
    assert [(v.entry, v.rule) for v in refused.value.violations] == [("c", "invalidates-later-entry")]
    assert "back-dated before recorded entry 'x' (WarrantExercised effective 2002-01-12)" in \
        refused.value.violations[0].message
    assert "exercise warrant 'w' on 2002-01-12: it was cancelled on 2002-01-11" in \
        refused.value.violations[0].message
    assert full.count == 0 and len(store.entries("acme")) == stored
    # The writer goes on, placing a valid back-dated purchase among the recorded entries.
    ledger.record("acme", [purchase(1000, date(2002, 1, 11))])
    held = holdings(ledger.entries("acme"), date(2002, 1, 11))
    assert sum(p.shares for p in held if p.holder == "h1") == sum(100 + n for n in range(11)) + 1100
    assert [p.shares for p in holdings(ledger.entries("acme"), date(2002, 1, 12))
            if p.holder == "h2"] == [500]


def test_beyond_the_recent_entries_the_whole_timeline_is_booked(
    store: LedgerStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(decisions, "RECENT", 5)
    full = FullBookings(monkeypatch)
    ledger = long_stream(store, 40)  # trims to the last 5-10 entries as it goes
    assert full.count == 1
    tail = ledger._writers["acme"].tail
    assert tail is not None and tail.recent is not None
    floor = tail.recent.floor
    assert date(2002, 1, 1) < floor < date(2002, 2, 9)
    ledger.record("acme", [purchase(500, floor)])  # within reach: still on the tail
    assert full.count == 1
    ledger.record("acme", [purchase(501, date(2002, 1, 2))])  # before it: the whole log
    assert full.count == 2
    held = holdings(ledger.entries("acme"), date(2002, 1, 2))
    assert sum(p.shares for p in held) == 100 + 101 + 601


def test_entries_another_writer_back_dated_are_placed_on_the_tail(
    store: LedgerStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = long_stream(store, 20)
    second = Ledger(store)
    second.record("acme", [purchase(900, date(2002, 1, 5))])
    full = FullBookings(monkeypatch)
    first.record("acme", [purchase(901, date(2002, 1, 20) + timedelta(days=1))])
    assert full.count == 0  # the other writer's entry was booked into this writer's tail
    tail = first._writers["acme"].tail
    assert tail is not None
    assert tail.book.lots["lot-900"].remaining == 1000
    booked = book_entries(r.entry for r in sorted(resolve(store.entries("acme")), key=timeline_key))
    booked.defined_later = tail.book.defined_later
    assert tail.book == booked


def test_new_entries_go_after_recorded_entries_of_the_same_day(
    store: LedgerStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Recorded later, so on the timeline after what is recorded on their dates: the rescission
    of 2002-01-12 meets the lot after the transfer recorded on that day, and it is the new
    entry that breaks a rule, not the recorded transfer."""
    ledger = long_stream(store, 20)  # lot-10 (110 shares) bought 2002-01-11
    ledger.record("acme", [entry("SharesTransferred", "t", "2002-01-12", lot="lot-10", quantity=60,
                                 to_holder="h2", new_lot="lot-t")])
    full = FullBookings(monkeypatch)
    rescind = entry("PurchaseRescinded", "r", "2002-01-12", lot="lot-10", quantity=55,
                    refund_per_share="1.00 USD", refund_total="55.00 USD")
    with pytest.raises(Rejected) as refused:
        ledger.record("acme", [purchase(700, date(2002, 1, 3)), rescind])
    assert [(v.entry, v.rule) for v in refused.value.violations] == [("r", "rescinds-more-than-remains")]
    assert "only 50 of its 110 remain on 2002-01-12" in refused.value.violations[0].message
    assert full.count == 0
