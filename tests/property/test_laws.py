"""The consistency laws, each its own test, on generated ledgers.

Each test draws a valid ledger (``strategies.ledgers``), attaches it to the example as YAML
journals (printed for a failing, shrunk example: record them with ``capledger record`` to
replay it), and checks one law. The laws themselves live in ``projections.laws``, the same
functions ``capledger check`` runs over a user's ledger.
"""

from __future__ import annotations

import tempfile
from datetime import date, timedelta
from pathlib import Path

from hypothesis import given, note, settings
from hypothesis import strategies as st

from ledger.application import Ledger
from ledger.entries import AnyEntry, EntryCorrected, EntryVoided
from ledger.errors import Rejected
from ledger.values import Money
from projections import laws
from projections.timeline import ordered
from tests.property.conftest import examples
from tests.property.journal_report import note_journals
from tests.property.strategies import GeneratedLedger, ledgers, same_day_order_kept
from tests.property.support import Clock, pure_records, record_all, stored_form


def _show(gen: GeneratedLedger) -> None:
    note_journals(gen.issuer, gen.batches)


def _assert_holds(findings: list[laws.Finding]) -> None:
    assert not findings, "\n".join(str(f) for f in findings)


@given(ledgers())
def test_generated_ledgers_are_accepted_and_book_cleanly(gen: GeneratedLedger) -> None:
    """The strategies and the application agree on what is valid, and the log is sound."""
    _show(gen)
    ledger = record_all(gen)  # raises Rejected if the model accepted what the ledger refuses
    records = ledger.entries(gen.issuer)
    _assert_holds(laws.log_integrity(records) + laws.books_cleanly(records))


@given(ledgers())
def test_conservation_control_total_equals_holder_file(gen: GeneratedLedger) -> None:
    _show(gen)
    _assert_holds(laws.conservation(pure_records(gen)))


@given(ledgers())
def test_no_position_is_ever_negative(gen: GeneratedLedger) -> None:
    _show(gen)
    _assert_holds(laws.non_negative(pure_records(gen)))


@given(ledgers(), st.lists(st.dates(date(1990, 1, 1), date(2050, 12, 31)), max_size=3))
def test_effective_time_locality(gen: GeneratedLedger, more_days: list[date]) -> None:
    _show(gen)
    records = pure_records(gen)
    _assert_holds(laws.effective_locality(records, laws.event_dates(records) + more_days))


@given(ledgers())
def test_recorded_time_locality(gen: GeneratedLedger) -> None:
    _show(gen)
    records = pure_records(gen)
    between = [t + timedelta(microseconds=500) for t in gen.times]
    _assert_holds(laws.recorded_locality(records, times=[*gen.times, *between]))


@given(ledgers(), st.data())
def test_order_independence(gen: GeneratedLedger, data: st.DataObject) -> None:
    """Record the same entries in another order (same-day entries keep their relative order,
    corrections stay after what they correct), cut into other recordings; a recording the
    rules refuse at that point is merged into the next. The as-of answers are the same."""
    _show(gen)
    records = pure_records(gen)
    _assert_holds(laws.order_independence(records))

    fixes = [e for e in gen.entries if isinstance(e, (EntryCorrected, EntryVoided))]
    book = [e for e in gen.entries if not isinstance(e, (EntryCorrected, EntryVoided))]
    if fixes:
        # Same-day order is the order of the dates as corrected.
        effective = {r.entry.id: r.entry.effective for r in ordered(records)}
        book = [e.model_copy(update={"effective": effective.get(e.id, e.effective)}) for e in book]
    order = same_day_order_kept(book, data.draw(st.permutations(range(len(book)))))
    if fixes:
        originals = {e.id: e for e in gen.entries}
        order = [originals[e.id] for e in order]
    order += fixes
    cuts = sorted(data.draw(st.sets(st.integers(1, max(1, len(order) - 1)), max_size=5)))
    recordings = [order[a:b] for a, b in zip([0, *cuts], [*cuts, len(order)], strict=True)]
    note(f"recorded in this order instead, cut at {cuts}: {[e.id for e in order]}")

    clock = Clock(gen.times[0])
    other = Ledger.open(":memory:", clock=clock)
    pending: list[AnyEntry] = []
    for i, recording in enumerate(recordings):
        clock.now = gen.times[0] + timedelta(seconds=i)
        try:
            other.record(gen.issuer, [*pending, *recording])
            pending = []
        except Rejected:
            pending = [*pending, *recording]
    assert not pending, "the whole set, recorded last, must be accepted"
    reordered = other.entries(gen.issuer)
    for day in laws.event_dates(records):
        assert laws.answers(records, day) == laws.answers(reordered, day), day


@given(ledgers())
def test_replay_determinism(gen: GeneratedLedger) -> None:
    """Pure fold of the entries, the store's log, and a replay into a fresh store agree."""
    _show(gen)
    pure = pure_records(gen)
    stored = record_all(gen).entries(gen.issuer)
    assert stored_form(stored) == stored_form(pure)
    for day in laws.event_dates(pure):
        assert laws.answers(stored, day) == laws.answers(pure, day)
    _assert_holds(laws.replay(stored))


def _exact(gen: GeneratedLedger, ledger: Ledger) -> None:
    back = ledger.entries(gen.issuer)
    assert [r.entry for r in back] == gen.entries
    assert stored_form(back) == stored_form(pure_records(gen))  # ids, dates, amounts as text
    for r, original in zip(back, gen.entries, strict=True):
        for (name, a), (_, b) in zip(original, r.entry, strict=True):
            if isinstance(a, Money):
                assert isinstance(b, Money)
                assert (a.amount.as_tuple(), a.currency) == (b.amount.as_tuple(), b.currency), name
            else:
                assert type(a) is type(b) and a == b, name
    assert [r.recorded_at for r in back] == [t for batch, t in zip(gen.batches, gen.times, strict=True)
                                             for _ in batch]


@given(ledgers())
def test_exact_storage_round_trip_in_memory(gen: GeneratedLedger) -> None:
    _show(gen)
    _assert_holds(laws.storage_round_trip(pure_records(gen)))
    _exact(gen, record_all(gen))


@settings(max_examples=examples(0.2))
@given(ledgers())
def test_exact_storage_round_trip_sqlite_file(gen: GeneratedLedger) -> None:
    """Decimal digits and scale, dates, ids and recorded times survive an SQLite file, read
    back by a new process's worth of objects (a fresh Ledger on the same file)."""
    _show(gen)
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "ledger.sqlite")
        record_all(gen, path).close()
        reopened = Ledger.open(path)
        try:
            _exact(gen, reopened)
        finally:
            reopened.close()


@given(ledgers())
def test_warrant_shares_counted_once_across_reissues(gen: GeneratedLedger) -> None:
    _show(gen)
    _assert_holds(laws.warrant_counted_once(pure_records(gen)))


@given(ledgers())
def test_warrant_exercisable_only_inside_its_window(gen: GeneratedLedger) -> None:
    _show(gen)
    _assert_holds(laws.exercise_window(pure_records(gen)))


@given(ledgers(), st.data())
def test_re_recording_the_same_entries_is_a_no_op(gen: GeneratedLedger, data: st.DataObject) -> None:
    _show(gen)
    ledger = record_all(gen)
    before = stored_form(ledger.entries(gen.issuer))
    again = data.draw(st.sampled_from([gen.entries, *gen.batches]), label="recorded again")
    ledger.clock = Clock(gen.times[-1] + timedelta(hours=1))
    done = ledger.record(gen.issuer, again)
    assert (done.stored, done.already_recorded) == ([], len(again))
    assert stored_form(ledger.entries(gen.issuer)) == before
