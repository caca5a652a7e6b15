"""Materialized views against the pure fold, on every backend: the contract, a restart, and
exactly-once (a replayed page fails and changes nothing)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError

from ledger.application import Ledger
from ledger.entries import AnyEntry, parse_entry
from ledger.records import RecordedEntry
from projections import cap_table
from projections.materialized import MaterializedViews, Projector
from projections.materialized.queries import HOLDS
from projections.materialized.rows import Deriver, derive
from projections.materialized.schema import SCHEMA, TABLES, VIEWS, fork, path
from tests.materialized_worker import (
    Clock,
    dump,
    interesting_days,
    interesting_times,
    mismatches,
    record,
    recordings,
)


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


# --- positions (view_positions): the cap table's per-(holder, class) sums --------------------

POS = "positions-co"


def _cite(day: str) -> dict[str, str]:
    return {"document": "Agreement", "dated": day, "section": "1"}


def _e(ident: str, kind: str, day: str, **fields: Any) -> dict[str, Any]:
    return {"id": ident, "type": kind, "effective": day, "citation": _cite(day), **fields}


def _buy(ident: str, day: str, lot: str, holder: str, quantity: int) -> dict[str, Any]:
    return _e(ident, "SharesPurchased", day, lot=lot, holder=holder, share_class="common", quantity=quantity,
              price_per_share="1.00 USD", consideration=f"{quantity}.00 USD")


def _move(ident: str, day: str, lot: str, quantity: int, to: str, new_lot: str) -> dict[str, Any]:
    return _e(ident, "SharesTransferred", day, lot=lot, quantity=quantity, to_holder=to, new_lot=new_lot)


def _warrant(ident: str, warrant: str, holder: str, shares: int, expires: str) -> dict[str, Any]:
    return _e(ident, "WarrantIssued", "2010-04-01", warrant=warrant, holder=holder, share_class="common",
              shares=shares, exercise_price="2.00 USD", expires=expires)


def position_recordings() -> list[list[AnyEntry]]:
    """Recordings in order: a back-dated purchase and corrections (re-folds) between in-order
    recordings (appended to the live fold): a partial rescission, transfers, a split, warrants
    (exercise, expiry, an amendment extending it before it lapsed), a conversion to another
    class, and a holder whose lots of a class are emptied."""
    setup = [
        _e("issuer", "IssuerCreated", "2010-01-01", issuer=POS, name="P"),
        *(_e(h, "StakeholderAdded", "2010-01-01", holder=h, name=h.upper()) for h in ("ann", "bob", "cat")),
        _e("common", "ShareClassCreated", "2010-01-01", share_class="common", name="C", authorized=10**7),
        _e("pref", "ShareClassCreated", "2010-01-01", share_class="pref", name="P", authorized=10**6),
    ]
    recordings = [
        [*setup, _buy("buy-a1", "2010-03-01", "A-1", "ann", 1000),
         _warrant("w1", "W-1", "bob", 500, "2012-06-30"), _warrant("w2", "W-2", "ann", 70, "2010-12-31"),
         _buy("buy-b1", "2010-05-01", "B-1", "bob", 300)],
        # In order: a transfer (a new position) and a partial rescission.
        [_move("t1", "2011-01-10", "A-1", 400, "cat", "C-1"),
         _e("r1", "PurchaseRescinded", "2011-02-01", lot="B-1", quantity=100, refund_per_share="1.00 USD",
            refund_total="100.00 USD")],
        [_buy("buy-a2", "2010-02-15", "A-2", "ann", 200)],  # back-dated, before A-1
        # A split, then an exercise of part of the (adjusted) warrant.
        [_e("split", "StockSplit", "2011-06-01", share_class="common", ratio={"new": 2, "old": 1}),
         _e("x1", "WarrantExercised", "2012-01-10", warrant="W-1", shares=400, lot="B-2",
            payment="400.00 USD")],
        # The purchase of A-2 corrected, recorded later: every sum of ann's after it changes. And
        # bob's name: the name every position row of bob's carries.
        [_e("fix-a2", "EntryCorrected", "2012-02-01", target="buy-a2", reason="quantity", by="clerk",
            replacement=_buy("buy-a2", "2010-02-15", "A-2", "ann", 250)),
         _e("fix-bob", "EntryCorrected", "2012-02-01", target="bob", reason="name", by="clerk",
            replacement=_e("bob", "StakeholderAdded", "2010-01-01", holder="bob", name="Robert"))],
        # In order again: the warrant's expiry extended before it lapsed, a conversion to pref,
        # and cat's last common shares transferred: only pref is left to cat.
        [_e("amend-w1", "WarrantAmended", "2012-03-01", warrant="W-1", expires="2013-06-30"),
         _e("conv", "SharesConverted", "2012-04-01", lot="C-1", quantity=300, to_class="pref",
            ratio={"new": 1, "old": 2}, new_lot="C-2"),
         _move("t2", "2012-05-01", "B-1", 400, "ann", "A-3"),
         _move("t3", "2012-05-15", "C-1", 500, "ann", "A-4")],
    ]
    return [[parse_entry(e) for e in entries] for entries in recordings]


def _summed_from_segments(views: MaterializedViews, day: date, version: int) -> dict[Any, Any]:
    """What view_positions must say: the lot and warrant segments that hold, summed (the way
    the cap table read them before view_positions)."""
    select = views.projector.recorder.select
    when = (POS, version, version, day.isoformat(), day.isoformat())
    found: dict[tuple[str, str], list[int | None]] = {}
    for holder, cls, shares in select(
            f"SELECT holder, share_class, shares FROM view_lot_segments WHERE {HOLDS} AND shares <> 0", when):
        sums = found.setdefault((holder, cls), [None, None])
        sums[0] = (sums[0] or 0) + shares
    for holder, cls, shares in select(
            f"SELECT holder, share_class, shares FROM view_warrant_segments WHERE {HOLDS} "
            "AND status = 'outstanding' AND (expires IS NULL OR expires >= ?)", (*when, day.isoformat())):
        sums = found.setdefault((holder, cls), [None, None])
        sums[1] = (sums[1] or 0) + shares
    return {k: tuple(v) for k, v in found.items()}


def test_positions_are_the_sums_of_the_segments_at_every_date_and_version(
    opened: Ledger, clock: Clock
) -> None:
    views = MaterializedViews.open(opened.store)
    for entries in position_recordings():
        record(opened, clock, [(POS, entries)])
        views.catch_up()  # one recording at a time: in-order appends and re-folds both run
    log = opened.entries(POS)
    days = interesting_days(log)
    for version in range(log[-1].sequence + 1):  # every version, also inside a recording
        for day in days:
            held = views._held((POS, version, version, day.isoformat(), day.isoformat()), day)
            mine = {(h, c): (s, w) for h, _, c, s, w in held}
            assert len(mine) == len(held), f"two rows for one position on {day} at {version}"
            assert mine == _summed_from_segments(views, day, version), f"{day} at version {version}"


def history_mismatches(views: MaterializedViews, log: Sequence[RecordedEntry]) -> list[str]:
    """Every row ever believed, table by table: at each recording's version V, the rows with
    rec_from <= V < rec_to must be exactly what the pure derivation gives for the log up to V.
    (A recording's entries share its recorded time; its version is its last sequence.)"""
    issuer, ends = log[0].issuer, dict[Any, int]()
    for r in log:
        ends[r.recorded_at] = max(ends.get(r.recorded_at, 0), r.sequence)
    wanted = {v: derive([r for r in log if r.sequence <= v]) for v in ends.values()}
    found = []
    for t in TABLES:
        every = views.projector.recorder.select(
            f"SELECT {', '.join(t.names)}, rec_from, rec_to FROM {t.name} WHERE issuer = ?", (issuer,))
        for version, rows in sorted(wanted.items()):
            believed = {row[:-2] for row in every if row[-2] <= version < row[-1]}
            if believed != rows[t.name]:
                found.append(f"{issuer} {t.name} at version {version}: only in the table "
                             f"{sorted(believed - rows[t.name], key=repr)}, only in the fold "
                             f"{sorted(rows[t.name] - believed, key=repr)}")
    return found


def test_every_table_history_is_the_fold_of_each_prefix(opened: Ledger, clock: Clock) -> None:
    views = MaterializedViews.open(opened.store)
    for entries in position_recordings():
        record(opened, clock, [(POS, entries)])
        views.catch_up()  # one recording at a time: in-order appends and re-folds both run
    log = opened.entries(POS)
    assert len({r.recorded_at for r in log}) == len(position_recordings())
    assert history_mismatches(views, log) == []


def test_cap_tables_with_positions_agree_with_the_fold(opened: Ledger, clock: Clock) -> None:
    for entries in position_recordings():
        record(opened, clock, [(POS, entries)])
    views = MaterializedViews.open(opened.store)
    log = opened.entries(POS)
    assert mismatches(views, log) == []
    times = interesting_times(log)
    for day in (date(1, 1, 1), date(2010, 12, 31), date(2011, 1, 1), date(2012, 6, 30), date(2012, 7, 1),
                date(2013, 6, 30), date(2013, 7, 1), date(9999, 12, 30)):
        for known in times:
            assert views.cap_table(POS, day, known) == cap_table(log, day, known), (day, known)


def test_interval_tree_finds_exactly_the_rows_holding_on_a_day() -> None:
    chance = random.Random(5)
    start = date(1999, 1, 1)
    for _ in range(20_000):
        first = start + timedelta(days=chance.randint(0, 15_000))
        length = chance.choice([1, 2, chance.randint(1, 60), chance.randint(1, 9_000)])
        end = date.max if chance.random() < 0.2 else first + timedelta(days=length)
        day = chance.choice([start + timedelta(days=chance.randint(0, 16_000)), first,
                             first - timedelta(days=1), end - timedelta(days=1), min(end, date.max)])
        eff_from, eff_to = first.isoformat(), end.isoformat()
        node = fork(eff_from, eff_to)
        below, above = path(day)
        assert first.toordinal() <= node < end.toordinal()
        d = day.isoformat()
        found = (node in below and eff_to > d) or (node in above and eff_from <= d)
        assert found == (eff_from <= d < eff_to), (eff_from, eff_to, day)
    assert path(date(1, 1, 1))[0] == [] and fork("0001-01-01", "0001-01-02") == 1


# --- the layout mark: views made by an earlier layout are rebuilt on open ------------------------


def _projected(ledger_location: str, clock: Clock) -> tuple[Ledger, MaterializedViews, Any]:
    """A ledger with recordings and its views caught up, and the views' datastore (to change
    their tables as an older layout left them)."""
    if ledger_location == ":memory:":
        pytest.skip("in memory the views are private to one process: there is no older layout")
    ledger = Ledger.open(ledger_location, clock=clock)
    record(ledger, clock, [(POS, entries) for entries in position_recordings()])
    views = MaterializedViews.open(ledger.store)
    assert views.catch_up() > 0
    return ledger, views, getattr(views.projector.recorder, "datastore")  # noqa: B009 (not in the Protocol)


@pytest.mark.parametrize("older", ["no mark (before view_positions)", "another number"])
def test_views_of_another_layout_are_rebuilt_from_the_log(
    ledger_location: str, clock: Clock, older: str
) -> None:
    ledger, views, datastore = _projected(ledger_location, clock)
    with datastore.transaction(commit=True) as cursor:
        if older == "another number":  # layout 1: its key indexes ended in rec_from
            cursor.execute("UPDATE view_schema SET version = 1")
        else:  # the tables as the layout before view_positions left them
            cursor.execute("DROP TABLE view_positions")
            cursor.execute("DROP TABLE view_schema")
    ledger.close()

    ledger = Ledger.open(ledger_location, clock=clock)
    views = MaterializedViews.open(ledger.store)
    assert views.projector.recorder.max_tracking_id(VIEWS) is None  # reset with the tables
    assert views.projector.recorder.select("SELECT version FROM view_schema", ()) == [(SCHEMA,)]
    assert views.catch_up() == len(ledger.store.all_entries())  # the whole log again
    assert mismatches(views, ledger.entries(POS)) == []
    ledger.close()

    ledger = Ledger.open(ledger_location, clock=clock)  # the mark now matches: nothing to redo
    views = MaterializedViews.open(ledger.store)
    assert views.catch_up() == 0
    ledger.close()


def test_class_rows_kept_between_calls_are_those_made_afresh() -> None:
    """``Deriver.class_rows`` remakes only the rows from the end of the states it saw last."""
    chance = random.Random(3)
    for _ in range(300):
        deriver, fresh = Deriver(), Deriver()
        states = deriver.class_states.setdefault("c", [])
        day = date(2010, 1, 1)
        for _ in range(chance.randint(1, 40)):
            day += timedelta(days=chance.choice([0, 0, 1, 2, 30]))  # same day: the last is replaced
            state = ("C", 100, chance.choice([1, 2, 3]))
            if not states or states[-1][1] != state:
                Deriver._capture(states, day.isoformat(), state)
            if chance.random() < 0.5:
                fresh.class_states["c"] = list(states)
                assert deriver.class_rows("c") == fresh.class_rows("c")
                fresh.class_cache.clear()


def _index_columns(cursor: Any, name: str) -> list[str]:
    """An index's columns, as the database has them."""
    if type(cursor).__module__.startswith("eventsourcing.sqlite"):
        cursor.execute(f"PRAGMA index_info({name})")
        return [row["name"] for row in cursor.fetchall()]
    cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", (name,))
    (found,) = cursor.fetchall()
    return [c.strip() for c in found["indexdef"].rsplit("(", 1)[1].rstrip(")").split(",")]


def test_views_of_a_layout_that_changed_only_indexes_keep_their_rows(
    ledger_location: str, clock: Clock
) -> None:
    """Layout 2 differs from 3 in the two holder indexes only: opening its views swaps the
    indexes and the mark, and projects nothing again."""
    ledger, views, datastore = _projected(ledger_location, clock)
    tracked = views.projector.recorder.max_tracking_id(VIEWS)
    layout_2 = "(issuer, holder, rec_to, eff_to, eff_from)"
    with datastore.transaction(commit=True) as cursor:  # the tables as layout 2 left them
        for table in ("view_lots", "view_lot_segments"):
            cursor.execute(f"DROP INDEX {table}_by_holder")
            cursor.execute(f"CREATE INDEX {table}_by_holder ON {table} {layout_2}")
        cursor.execute("UPDATE view_schema SET version = 2")
    ledger.close()

    ledger = Ledger.open(ledger_location, clock=clock)
    views = MaterializedViews.open(ledger.store)
    recorder = views.projector.recorder
    assert recorder.max_tracking_id(VIEWS) == tracked  # kept: nothing to project again
    assert recorder.select("SELECT version FROM view_schema", ()) == [(SCHEMA,)]
    datastore = getattr(recorder, "datastore")  # noqa: B009
    with datastore.transaction(commit=False) as cursor:
        lots = _index_columns(cursor, "view_lots_by_holder")
        segments = _index_columns(cursor, "view_lot_segments_by_holder")
    assert lots[:5] == segments[:5] == ["issuer", "holder", "rec_to", "eff_to", "eff_from"]
    assert "from_lot" in lots and "changes" in segments  # covering, as layout 3 has them
    assert views.catch_up() == 0
    assert mismatches(views, ledger.entries(POS)) == []
    ledger.close()
