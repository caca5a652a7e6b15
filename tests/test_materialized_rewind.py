"""Back-dated recordings without corrections are placed by rewinding the live fold
(``Deriver.rewind``), not by folding the issuer's whole log again; what the views hold after
each recording must still be exactly ``derive`` of the whole log at that version.

Counted here: the projector's calls to ``fold`` (the full re-fold) and the records each
``Deriver.rewind`` took back, so a test can tell the rewind ran and the re-fold did not.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

import pytest

from benchmarks.generate import ISSUER, generate
from ledger.application import Ledger
from ledger.entries import AnyEntry, parse_entry
from ledger.records import RecordedEntry
from projections.materialized import MaterializedViews, projector
from projections.materialized.rows import Deriver, derive, fold
from projections.materialized.schema import TABLES, current_statement
from tests.materialized_worker import Clock, record
from tests.test_materialized import _buy, _e, _move, history_mismatches

JOURNAL = 25  # entries per recording: generate(1000, 300, seed=7) then has back-dated ones


class Counted:
    """Calls to the projector's ``fold`` (the length of each log folded) and the number of
    records each ``Deriver.rewind`` took back."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.folds: list[int] = []
        self.rewinds: list[int] = []
        fold, rewind = projector.fold, Deriver.rewind

        def counted_fold(records: Sequence[RecordedEntry], window: int = 0) -> Deriver:
            self.folds.append(len(records))
            return fold(records, window)

        def counted_rewind(deriver: Deriver, day: Any) -> list[RecordedEntry]:
            undone = rewind(deriver, day)
            self.rewinds.append(len(undone))
            return undone

        monkeypatch.setattr(projector, "fold", counted_fold)
        monkeypatch.setattr(Deriver, "rewind", counted_rewind)

    @property
    def refolds(self) -> list[int]:
        """Folds of a log that was not empty (the first recording folds the empty log once)."""
        return [n for n in self.folds if n]


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> Counted:
    return Counted(monkeypatch)


def table_mismatches(views: MaterializedViews, log: Sequence[RecordedEntry]) -> list[str]:
    """The rows each table holds now (rec_to = CURRENT) against ``derive`` of the whole log."""
    wanted = derive(log)
    found = []
    for t in TABLES:
        held = set(views.projector.recorder.select(current_statement(t), (log[0].issuer,)))
        if held != wanted[t.name]:
            found.append(f"{t.name}: only in the table {sorted(held - wanted[t.name], key=repr)[:3]}, "
                         f"only in derive {sorted(wanted[t.name] - held, key=repr)[:3]}")
    return found


def workload() -> list[AnyEntry]:
    return [parse_entry(e) for e in generate(1000, 300, seed=7).entries]


def record_and_check(ledger: Ledger, clock: Clock, views: MaterializedViews, entries: list[AnyEntry],
                     size: int = JOURNAL) -> int:
    """Record ``entries`` in journals of ``size``, catching the views up after each and checking
    every table against ``derive``; returns how many journals were back-dated."""
    back_dated, last = 0, None
    for i in range(0, len(entries), size):
        journal = entries[i:i + size]
        record(ledger, clock, [(ISSUER, journal)])
        assert views.catch_up() == len(journal)
        assert table_mismatches(views, ledger.entries(ISSUER)) == [], f"after journal {i // size}"
        first = min(e.effective for e in journal)
        back_dated += last is not None and first < last
        last = max([e.effective for e in journal] + ([last] if last else []))
    return back_dated


def test_back_dated_journals_rewind_the_live_fold(opened: Ledger, clock: Clock, counted: Counted) -> None:
    views = MaterializedViews.open(opened.store)
    back_dated = record_and_check(opened, clock, views, workload())
    assert back_dated >= 5
    assert counted.refolds == []  # never the whole log again
    assert sum(1 for n in counted.rewinds if n) >= 5  # records were taken back and applied again
    log = opened.entries(ISSUER)
    assert history_mismatches(views, log) == []  # every version, every table
    live = views.projector.issuers[ISSUER].live
    assert live is not None and live.rows() == derive(log)  # the live fold itself, too


def test_entries_back_dated_beyond_the_window_fold_the_log_again(
    opened: Ledger, clock: Clock, counted: Counted, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a window of 20 records some journals reach back further than the window (re-fold),
    others do not (rewind); the views must be exact either way, and the undo kept bounded."""
    monkeypatch.setattr(projector, "WINDOW", 20)
    views = MaterializedViews.open(opened.store)
    record_and_check(opened, clock, views, workload())
    assert counted.refolds and sum(1 for n in counted.rewinds if n)
    live = views.projector.issuers[ISSUER].live
    assert live is not None and live.window == 20 and len(live.undo) <= 40
    assert history_mismatches(views, opened.entries(ISSUER)) == []


# --- small ledgers written by hand -------------------------------------------------------------

CO = ISSUER


def _setup() -> list[dict[str, Any]]:
    return [
        _e("issuer", "IssuerCreated", "2010-01-01", issuer=CO, name="Co"),
        *(_e(h, "StakeholderAdded", "2010-01-01", holder=h, name=h.upper()) for h in ("ann", "bob")),
        _e("common", "ShareClassCreated", "2010-01-01", share_class="common", name="C", authorized=10**7),
    ]


def _split(ident: str, day: str) -> dict[str, Any]:
    return _e(ident, "StockSplit", day, share_class="common", ratio={"new": 2, "old": 1})


def _segments(views: MaterializedViews, lot: str) -> list[tuple[Any, ...]]:
    return sorted(views.projector.recorder.select(
        "SELECT shares, eff_from, eff_to FROM view_lot_segments WHERE issuer = ? AND lot = ? "
        f"AND rec_to = {projector.CURRENT}", (CO, lot)))


def test_new_entries_go_after_those_recorded_on_the_same_day(
    opened: Ledger, clock: Clock, counted: Counted
) -> None:
    """A purchase recorded late on a split's date goes after the split (not doubled); a split
    recorded late on the date of recorded purchases goes after them (they are doubled)."""
    views = MaterializedViews.open(opened.store)
    first = [*_setup(), _buy("buy-a", "2010-02-01", "A", "ann", 1000), _split("split-1", "2010-06-01"),
             _buy("buy-b", "2010-09-01", "B", "bob", 100), _move("t1", "2010-09-01", "A", 300, "bob", "A-t"),
             _buy("buy-c", "2010-12-01", "C", "ann", 10)]
    late = [_buy("buy-n", "2010-06-01", "N", "ann", 50), _split("split-2", "2010-09-01")]
    for journal in (first, late):
        record(opened, clock, [(CO, [parse_entry(e) for e in journal])])
        views.catch_up()
        assert table_mismatches(views, opened.entries(CO)) == []
    assert counted.refolds == []
    assert counted.rewinds[-1] == 3  # B, the transfer and C: every record after 2010-06-01
    assert _segments(views, "N") == [(50, "2010-06-01", "2010-09-01"), (100, "2010-09-01", "9999-12-31")]
    assert _segments(views, "B") == [(200, "2010-09-01", "9999-12-31")]  # same day: the last state
    assert _segments(views, "A-t") == [(600, "2010-09-01", "9999-12-31")]
    assert history_mismatches(views, opened.entries(CO)) == []


def test_an_entry_on_the_window_floor_rewinds_one_before_it_folds(
    opened: Ledger, clock: Clock, counted: Counted, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Window 3: after purchases on ten dates, an entry on the date of the last record outside the
    window (the floor) is placed by rewinding; one the day before it folds the log again."""
    monkeypatch.setattr(projector, "WINDOW", 3)
    views = MaterializedViews.open(opened.store)
    days = [f"2010-{m:02d}-01" for m in range(2, 12)]
    record(opened, clock, [(CO, [parse_entry(e) for e in _setup()])])
    for k, day in enumerate(days):
        record(opened, clock, [(CO, [parse_entry(_buy(f"buy-{k}", day, f"L{k}", "ann", 100 + k))])])
    views.catch_up()
    live = views.projector.issuers[CO].live
    assert live is not None and live.floor is not None
    floor = live.floor.isoformat()
    assert floor in days and days.index(floor) < len(days) - 3
    steps = [(_move("on-floor", floor, f"L{days.index(floor)}", 10, "bob", "F-1"), False),
             (_move("before", days[days.index(floor) - 1], f"L{days.index(floor) - 1}", 10, "bob", "F-2"),
              True)]
    for entry, folds in steps:
        record(opened, clock, [(CO, [parse_entry(entry)])])
        refolds = len(counted.refolds)
        views.catch_up()
        assert len(counted.refolds) == refolds + folds, entry["id"]
        assert table_mismatches(views, opened.entries(CO)) == []
    assert history_mismatches(views, opened.entries(CO)) == []


# --- the deriver's undo, on its own --------------------------------------------------------------


def _state(d: Deriver) -> dict[str, Any]:
    """Everything a deriver keeps, rows made afresh from its caches included."""
    return {"book": d.book, "warrants": d.warrant_states, "classes": d.class_states, "touched": d.touched,
            "payments": d.payments, "last": d.last, "position_lots": d.position_lots,
            "position_warrants": d.position_warrants,
            "lot_rows": {k: d.lot_rows(k) for k in d.book.lots},
            "class_rows": {c: d.class_rows(c) for c in d.class_states},
            "warrant_rows": {w: d.warrant_rows(w) for w in d.warrant_states}}


def test_a_rewound_deriver_is_the_fold_of_the_records_before_the_day() -> None:
    """Rewinding to a day leaves exactly the state of folding the records effective by that
    day (caches included); applying the records taken back gives the whole fold again."""
    at = datetime(2030, 1, 1, tzinfo=UTC)
    records = [RecordedEntry(ISSUER, n, n, at, e) for n, e in enumerate(workload(), start=1)]
    ordered = sorted(records, key=lambda r: (r.effective, r.sequence))
    splits = [r.effective for r in ordered if r.entry.type == "StockSplit"]
    assert splits
    days = {ordered[-k].effective for k in (1, 2, 10, 100, 400)} | set(splits) | {
        date.fromordinal(s.toordinal() - 1) for s in splits}
    whole = fold(records).rows()
    for day in sorted(days):
        live = fold(records, window=len(records))
        _state(live)  # fill the row caches: a rewind must not leave them stale
        live.settle()
        undone = live.rewind(day)
        assert undone == [r for r in ordered if r.effective > day]
        assert _state(live) == _state(fold([r for r in records if r.effective <= day])), day
        for r in undone:
            live.apply(r)
        assert live.rows() == whole, day
