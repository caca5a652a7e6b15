"""Snapshots (issue 5, long streams): a cold writer starts from the newest snapshot and reads
only what was recorded after it; answers are those of booking the whole log, back-dated
entries and corrections included. Run on every backend."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest

from benchmarks.generate import ISSUER, generate
from ledger import snapshots
from ledger.application import Ledger
from ledger.entries import AnyEntry, parse_entry
from ledger.errors import Rejected
from ledger.store import LedgerStore, snapshot_id
from projections import holdings, warrants
from tests.helpers import entry

EVERY = 40  # small, so that a few hundred entries cross several snapshots



@pytest.fixture(autouse=True)
def small_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(snapshots, "EVERY", EVERY)


@pytest.fixture
def store(ledger_location: str) -> Iterator[LedgerStore]:
    s = LedgerStore(ledger_location)
    yield s
    s.close()


class ReadSpy:
    """Counts what a ledger reads of the stream: the ``after`` of every ``entries`` call."""

    def __init__(self, store: LedgerStore, monkeypatch: pytest.MonkeyPatch) -> None:
        self.afters: list[int] = []
        real = store.entries

        def entries(issuer: str, after: int = 0) -> Any:
            self.afters.append(after)
            return real(issuer, after)

        monkeypatch.setattr(store, "entries", entries)


def opening() -> list[AnyEntry]:
    return [
        entry("IssuerCreated", "issuer", "2001-01-01", issuer="acme", name="Acme"),
        entry("StakeholderAdded", "h1", "2001-01-01", holder="h1", name="Holder One"),
        entry("StakeholderAdded", "h2", "2001-01-01", holder="h2", name="Holder Two"),
        entry("ShareClassCreated", "common", "2001-01-01", share_class="common", name="Common",
              authorized=10_000_000),
    ]


def purchase(n: int, day: date) -> AnyEntry:
    return entry("SharesPurchased", f"p{n}", day, lot=f"lot-{n}", holder="h1", share_class="common",
                 quantity=100 + n, consideration=f"{100 + n}.00 USD")


def long_stream(store: LedgerStore, count: int) -> Ledger:
    """``count`` purchases, one a day from 2002-01-01, recorded in date order."""
    ledger = Ledger(store)
    ledger.record("acme", opening())
    for n in range(count):
        ledger.record("acme", [purchase(n, date(2002, 1, 1) + timedelta(days=n))])
    return ledger


def test_a_cold_writer_reads_only_what_follows_the_snapshot(
    store: LedgerStore, ledger_location: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    long_stream(store, 100)  # 104 entries: snapshots at 40 and 80 (the older one dropped)
    found = store.latest_snapshot("acme")
    assert found is not None and found[0] == 80
    kept = store._snapshots().select_events(snapshot_id("acme"))
    assert [s.originator_version for s in kept] == ([40, 80] if ledger_location == ":memory:" else [80])
    spy = ReadSpy(store, monkeypatch)
    cold = Ledger(store)
    stored = cold.record("acme", [purchase(100, date(2002, 6, 1))]).stored
    assert [r.sequence for r in stored] == [105]
    assert 0 not in spy.afters  # the log was never read from its start
    assert spy.afters[0] == 80  # the snapshot's version: 24 entries read, not 104
    held = holdings(cold.entries("acme"), date(2003, 1, 1))
    assert sum(p.shares for p in held) == sum(100 + n for n in range(101))


def test_a_cold_writer_refuses_what_breaks_a_rule_without_reading_the_log(
    store: LedgerStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    long_stream(store, 50)
    spy = ReadSpy(store, monkeypatch)
    cold = Ledger(store)
    too_many = entry("SharesPurchased", "big", "2003-01-01", lot="lot-big", holder="h1",
                     share_class="common", quantity=20_000_000, consideration="1.00 USD")
    with pytest.raises(Rejected) as refused:
        cold.record("acme", [too_many, purchase(60, date(2003, 1, 2)),
                             entry("PurchaseRescinded", "r", "2003-01-03", lot="lot-nope", quantity=1,
                                   refund_per_share="1.00 USD", refund_total="1.00 USD")])
    rules = [(v.entry, v.rule) for v in refused.value.violations]
    assert rules[0] == ("big", "exceeds-authorized")
    assert rules[1][0] == "r"
    assert 0 not in spy.afters
    assert len(cold.entries("acme")) == 54  # nothing stored


def test_back_dated_entries_on_a_snapshot_are_judged_on_the_whole_timeline(store: LedgerStore) -> None:
    ledger = long_stream(store, 60)
    ledger.record("acme", [
        entry("WarrantIssued", "w", "2002-03-01", warrant="w", holder="h2", share_class="common",
              shares=500, exercise_price="1.00 USD", exercisable_from="2002-03-01"),
    ])
    ledger.record("acme", [
        entry("WarrantExercised", "x", "2002-03-02", warrant="w", lot="lot-x", shares=500,
              payment="500.00 USD"),
    ])
    cold = Ledger(store)  # starts from the snapshot at 40, effective 2002-02-05
    cancel = entry("WarrantCancelled", "c", "2002-03-01", warrant="w")
    with pytest.raises(Rejected) as refused:
        cold.record("acme", [cancel])
    assert [(v.entry, v.rule) for v in refused.value.violations] == [("c", "invalidates-later-entry")]
    assert "'x'" in refused.value.violations[0].message
    # A back-dated entry that breaks nothing is accepted and lands in its place on the timeline.
    cold = Ledger(store)
    cold.record("acme", [purchase(1000, date(2002, 1, 15))])
    held = holdings(cold.entries("acme"), date(2002, 1, 15))
    assert sum(p.shares for p in held) == sum(100 + n for n in range(15)) + 1100
    after_exercise = holdings(cold.entries("acme"), date(2002, 3, 2))
    assert [p.shares for p in after_exercise if p.holder == "h2"] == [500]
    assert [w.warrant for w in warrants(cold.entries("acme"), date(2002, 3, 1))] == ["w"]


def test_a_reused_id_is_told_from_a_repeat_by_its_fingerprint(store: LedgerStore) -> None:
    long_stream(store, 50)
    cold = Ledger(store)
    outcome = cold.record("acme", [purchase(3, date(2002, 1, 4))])  # recorded, before the snapshot
    assert outcome.already_recorded == 1 and outcome.stored == []
    changed = entry("SharesPurchased", "p3", "2002-01-04", lot="lot-3", holder="h1",
                    share_class="common", quantity=999, consideration="103.00 USD")
    with pytest.raises(Rejected) as refused:
        Ledger(store).record("acme", [changed])
    (violation,) = refused.value.violations
    assert violation.rule == "entry-id-reused"
    assert "quantity: 103 -> 999" in violation.message  # the old entry, fetched by its sequence


def test_corrections_after_a_snapshot(store: LedgerStore) -> None:
    long_stream(store, 50)
    cold = Ledger(store)
    fixed = entry("EntryCorrected", "fix-p2", "2002-01-03", target="p2",
                  replacement=purchase(2, date(2002, 1, 3)).content() | {"quantity": 5},
                  reason="clerical error", by="the company secretary")
    cold.record("acme", [fixed])
    held = holdings(Ledger(store).entries("acme"), date(2002, 1, 3))
    assert sum(p.shares for p in held) == 100 + 101 + 5


def test_a_stale_or_unreadable_snapshot_is_ignored(
    store: LedgerStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    long_stream(store, 50)
    version, image = store.latest_snapshot("acme") or (0, b"")
    assert version == 40
    # A snapshot whose head is not the stream's event at its version (a restored or rewritten
    # database) and one that does not decode: both ignored, the log read in full.
    lying = snapshots.restore("acme", version, image)
    assert lying is not None
    lying.head = type(lying.head)(version + 10, "0" * 64, lying.head.recorded_at)
    lie = snapshots.image("acme", lying.head, lying.tail, lying.known, {})
    store.put_snapshot("acme", version + 10, lie)
    for attempt in (store.latest_snapshot("acme"), (version + 11, b"not a snapshot")):
        assert attempt is not None
        monkeypatch.setattr(store, "latest_snapshot", lambda issuer, found=attempt: found)
        spy = ReadSpy(store, monkeypatch)
        cold = Ledger(store)
        cold.record("acme", [purchase(500, date(2003, 1, 1))])
        assert spy.afters[0] == 0
        monkeypatch.undo()
        monkeypatch.setattr(snapshots, "EVERY", EVERY)


def test_snapshots_and_full_booking_record_the_same_log(
    ledger_location: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The generated workload (every kind of entry, 5% recorded out of date order) recorded in
    small journals, each by a cold writer starting from a snapshot, stores exactly what one
    writer booking the whole log every time stores."""
    w = generate(600, 12, seed=7)
    journals = [w.entries[i:i + 25] for i in range(0, len(w.entries), 25)]
    with_snapshots = LedgerStore(ledger_location)
    reference = LedgerStore(str(tmp_path / "reference.sqlite"))
    try:
        for journal in journals:
            cold = Ledger(with_snapshots)
            cold.record(ISSUER, [parse_entry(e) for e in journal])
        monkeypatch.setattr(snapshots, "EVERY", 10**9)
        full = Ledger(reference)
        for journal in journals:
            full._writers.clear()  # no tail kept: every decision books the whole timeline
            full.record(ISSUER, [parse_entry(e) for e in journal])
        got = [(r.sequence, r.entry) for r in with_snapshots.entries(ISSUER)]
        want = [(r.sequence, r.entry) for r in reference.entries(ISSUER)]
        assert got == want and len(got) == len(w.entries)
        assert with_snapshots.latest_snapshot(ISSUER) is not None
        # Entries at the rules' edges, decided on a snapshot and on the whole log alike: every
        # lot rescinded by exactly what remains, then by one share more.
        probes = [verdict(Ledger(s), probe) for s in (with_snapshots, reference)
                  for probe in rescissions(full, w.last_day)]
        half = len(probes) // 2
        assert probes[:half] == probes[half:]
        assert {"accepted", "rescinds-more-than-remains"} <= {p[0] for p in probes}
    finally:
        with_snapshots.close()
        reference.close()


def rescissions(ledger: Ledger, day: date) -> list[AnyEntry]:
    writer = ledger._writer(ISSUER)
    assert writer.tail is not None
    probes = []
    for lot in list(writer.tail.book.lots.values())[::7]:
        if lot.price_per_share is None or lot.remaining == 0:
            continue
        for n in (lot.remaining, lot.remaining + 1):
            probes.append(entry("PurchaseRescinded", f"probe-{lot.lot}-{n}", day, lot=lot.lot, quantity=n,
                                refund_per_share=f"{lot.price_per_share.amount} USD",
                                refund_total=f"{lot.price_per_share.amount * n} USD"))
    return probes


def verdict(ledger: Ledger, probe: AnyEntry) -> tuple[str, ...]:
    try:
        ledger.record(ISSUER, [probe])
    except Rejected as refused:
        return (refused.violations[0].rule, *(f"{v.entry} {v.message}" for v in refused.violations))
    return ("accepted", probe.id)
