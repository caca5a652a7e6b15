"""The store contract: every backend (memory, SQLite file, PostgreSQL) must pass these."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError

from ledger.application import Ledger
from ledger.entries import AnyEntry
from ledger.errors import Rejected, UnknownIssuer
from ledger.integrity import verify
from tests.helpers import entry

FROZEN = datetime(2026, 1, 1, tzinfo=UTC)


def opening(issuer: str) -> list[AnyEntry]:
    return [
        entry("IssuerCreated", f"{issuer}-issuer", "2001-01-01", issuer=issuer, name=issuer.title()),
        entry("StakeholderAdded", "h1", "2001-01-01", holder="h1", name="Holder One"),
        entry("ShareClassCreated", "common", "2001-01-01", share_class="common", name="Common",
              authorized=10_000_000, par_value="0.0010 USD"),
    ]


def purchase(id_: str, quantity: int, consideration: str = "1000.00 USD") -> AnyEntry:
    return entry("SharesPurchased", id_, "2001-02-01", lot=f"lot-{id_}", holder="h1",
                 share_class="common", quantity=quantity, price_per_share="0.23250 USD",
                 consideration=consideration)


def test_entries_round_trip_exactly(ledger: Ledger) -> None:
    written = [*opening("acme"), purchase("p1", 1_935_483, "450000.00 USD")]
    ledger.record("acme", written)
    read = [r.entry for r in ledger.entries("acme")]
    assert read == written
    assert [r.content() for r in read] == [w.content() for w in written]
    stored = read[-1]
    assert stored.price_per_share is not None
    assert str(stored.price_per_share.amount) == "0.23250"  # scale kept, not normalized
    assert str(stored.consideration.amount) == "450000.00"
    assert stored.consideration.amount == Decimal("450000")


def test_sequences_per_issuer_and_global_positions(ledger: Ledger) -> None:
    ledger.record("acme", opening("acme"))
    ledger.record("beta", opening("beta"))
    ledger.record("acme", [purchase("p1", 10)])
    acme, beta = ledger.entries("acme"), ledger.entries("beta")
    assert [r.sequence for r in acme] == [1, 2, 3, 4]
    assert [r.sequence for r in beta] == [1, 2, 3]
    positions = [r.position for r in acme + beta]
    assert len(set(positions)) == 7
    assert [r.position for r in acme] == sorted(r.position for r in acme)
    assert acme[-1].position > max(r.position for r in beta)  # recorded last, globally
    assert ledger.issuers() == ["acme", "beta"]
    assert {r.issuer for r in acme} == {"acme"}


def test_issuers_lists_each_stream_once_however_long(ledger: Ledger) -> None:
    """Each issuer once, from its first event, however many events its stream has and in
    whatever order the streams were recorded (the backends hop between streams on the key)."""
    assert ledger.issuers() == []
    names = ["delta", "acme", "zeta", "beta", "mid"]
    for name in names:
        ledger.record(name, opening(name))
    for n in range(3):
        ledger.record("acme", [purchase(f"p{n}", 10)])
    assert ledger.issuers() == sorted(names)
    assert len(ledger.store.reader.first_events()) == len(names)


def test_entries_read_plainly_are_what_the_librarys_decoding_gives(ledger: Ledger) -> None:
    """``entries`` reads most rows without the library's decoding (``_plain_record``): every
    record must equal ``_decode``'s, field for field, and rows it cannot read plainly (here a
    name the transcoder escapes) must still come back through the library."""
    from benchmarks.generate import ISSUER, generate
    from ledger.entries import parse_entry
    from ledger.store import _plain_record, stream_id

    workload = generate(400, 30, seed=5)
    entries = [parse_entry(e) for e in workload.entries]
    renamed = entry("StakeholderAdded", "h-\u00e9", entries[0].effective.isoformat(), holder="h-u",
                    name="Zo\u00eb \u2603 \"Q\" \x07")  # the bell is stored as \u0007
    ledger.record(ISSUER, [*entries[:1], renamed])
    for start in range(1, len(entries), 150):
        ledger.record(ISSUER, entries[start:start + 150])
    stream = ledger.store.reader.stream(stream_id(ISSUER))
    decoded = [ledger.store._decode(n) for n in stream]
    assert ledger.store.entries(ISSUER) == decoded
    assert ledger.store.entries(ISSUER, after=7) == decoded[7:]
    plain = [_plain_record(n, ISSUER, {}) for n in stream]
    assert [d.entry.id for d, p in zip(decoded, plain, strict=True) if p is None] == ["h-\u00e9"]
    assert [p for p in plain if p is not None] == [d for d, p in zip(decoded, plain, strict=True) if p]


def test_what_record_returns_is_what_the_store_reads_back(ledger: Ledger) -> None:
    """``record`` returns the stored records without reading them back: sequence, global
    position, recorded time, entry and chain digest must be exactly what a reader gets."""
    ledger.record("beta", opening("beta"))
    first = ledger.record("acme", opening("acme")).stored
    second = ledger.record("acme", [purchase("p1", 10), purchase("p2", 20)]).stored
    assert first + second == ledger.store.entries("acme")
    assert [r.position for r in second] == [r.position for r in ledger.store.entries("acme", after=3)]
    assert all(r.digest for r in first + second)


def test_recorded_time_is_utc_and_separates_recordings_even_with_a_stuck_clock(
    ledger_location: str,
) -> None:
    ledger = Ledger.open(ledger_location, clock=lambda: FROZEN)
    try:
        ledger.record("acme", opening("acme"))
        ledger.record("acme", [purchase("p1", 10)])
        times = [r.recorded_at for r in ledger.entries("acme")]
    finally:
        ledger.close()
    assert all(t.utcoffset() is not None and t.utcoffset().total_seconds() == 0 for t in times)  # type: ignore[union-attr]
    assert times[:3] == [FROZEN] * 3  # one journal, one recorded time
    assert times[3] > FROZEN


def test_append_is_all_or_nothing_and_detects_a_racing_writer(ledger: Ledger) -> None:
    ledger.record("acme", opening("acme"))
    before = ledger.entries("acme")
    with pytest.raises(IntegrityError):  # versions 2.. are taken: a stale writer loses
        ledger.store.append("acme", before[0], [purchase("p1", 10), purchase("p2", 20)], FROZEN)
    assert ledger.entries("acme") == before


def race(first: Ledger, second: Ledger, entries: list[AnyEntry]) -> None:
    """Make ``second`` record ``entries`` between ``first``'s decision and its append.

    Writers take turns under the issuer's writer lock, so ``second`` records without it
    here (``_record``), as a writer that ignores the lock would: the optimistic check on
    stream versions must still catch the race."""
    real_append = first.store.append

    def append_after_the_other_writer(*args: Any, **kwargs: Any) -> None:
        first.store.append = real_append  # type: ignore[method-assign]
        second._record("acme", entries)
        real_append(*args, **kwargs)

    first.store.append = append_after_the_other_writer  # type: ignore[method-assign]


@pytest.fixture
def two_writers(ledger_location: str) -> Iterator[tuple[Ledger, Ledger]]:
    if ledger_location == ":memory:":
        pytest.skip("two Ledger objects share nothing in memory")
    first, second = Ledger.open(ledger_location), Ledger.open(ledger_location)
    first.record("acme", opening("acme"))
    yield first, second
    first.close()
    second.close()


def test_losing_writer_is_redecided_and_retried(two_writers: tuple[Ledger, Ledger]) -> None:
    first, second = two_writers
    race(first, second, [purchase("p1", 10)])
    done = first.record("acme", [purchase("p2", 20)])
    assert [r.sequence for r in done.stored] == [5]
    assert [r.entry.id for r in second.entries("acme")][-2:] == ["p1", "p2"]
    assert verify("acme", first.store.links("acme")).ok


def test_losing_writer_is_rejected_when_now_invalid(two_writers: tuple[Ledger, Ledger]) -> None:
    first, second = two_writers
    first.record("acme", [purchase("p1", 100)])
    undo = {"lot": "lot-p1", "quantity": 100, "refund_per_share": "1 USD", "refund_total": "100 USD"}
    race(first, second, [entry("PurchaseRescinded", "undo-by-second", "2001-03-01", **undo)])
    with pytest.raises(Rejected, match=r"undo-by-first.*rescinds-more-than-remains.*only 0"):
        first.record("acme", [entry("PurchaseRescinded", "undo-by-first", "2001-03-01", **undo)])
    assert [r.entry.id for r in first.entries("acme")][-1] == "undo-by-second"


def test_reopened_store_has_everything(ledger_location: str) -> None:
    if ledger_location == ":memory:":
        pytest.skip("nothing outlives an in-memory store")
    with_clock = Ledger.open(ledger_location)
    with_clock.record("acme", opening("acme"))
    written = with_clock.entries("acme")
    with_clock.close()
    again = Ledger.open(ledger_location)
    try:
        assert again.entries("acme") == written
    finally:
        again.close()


def test_unknown_issuer_names_the_known_ones(ledger: Ledger) -> None:
    ledger.record("acme", opening("acme"))
    with pytest.raises(UnknownIssuer, match=r"'nope'.*acme"):
        ledger.entries("nope")
