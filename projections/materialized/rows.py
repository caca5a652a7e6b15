"""The pure part: an issuer's log -> the rows its views hold, each with an effective interval.

The fold of ``ledger.book`` keeps only the final state; the views need the state over time.
``derive`` books the whole corrected timeline entry by entry (the same fold the projections
run, so the same rules) and records, for every lot, warrant and class, its fields after each
effective date that changed it (same-day changes keep the last: "as of D" counts all of D).
A state holds from its date to the next state's date: the interval [eff_from, eff_to).

Rows are plain tuples of TEXT/INTEGER values in the column order of ``schema.TABLES`` (dates
as ISO text, Decimal amounts as their exact text), so a row set can be diffed as a set.

Positions (``view_positions``) are not booked separately: they are sums over the lot and
warrant segments above, per (holder, class), so they agree with them by construction.
"""

from __future__ import annotations

import json
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from ledger.book import Book, Lot, Warrant
from ledger.entries import IssuerCreated, StakeholderAdded, StockSplit
from ledger.records import RecordedEntry
from ledger.timeline import timeline
from projections.materialized.schema import fork

OPEN = "9999-12-31"  # eff_to of a state that still holds

Row = tuple[str | int | None, ...]
RowSets = dict[str, set[Row]]
Key = tuple[str, str]  # a position: (holder, share class)


def _day(d: date | None) -> str | None:
    return None if d is None else d.isoformat()


def _intervals(states: list[tuple[str, Hashable]]) -> list[tuple[Hashable, str, str]]:
    """(date, state) in date order, one per date -> (state, eff_from, eff_to), consecutive
    equal states merged so a row set is a function of the states alone."""
    merged: list[tuple[str, Hashable]] = []
    for day, state in states:
        if merged and merged[-1][1] == state:
            continue
        merged.append((day, state))
    ends = [day for day, _ in merged[1:]] + [OPEN]
    return [(state, day, end) for (day, state), end in zip(merged, ends, strict=True)]


def _warrant_fields(w: Warrant) -> tuple[str | int | None, ...]:
    adjustments = [
        [a.entry, a.effective.isoformat(), a.shares_before, a.shares_after,
         str(a.price_before.amount), a.price_before.currency, str(a.price_after.amount),
         a.price_after.currency]
        for a in w.adjustments
    ]
    return (w.holder, w.share_class, _day(w.issued), w.status, _day(w.status_date), w.shares, w.exercised,
            str(w.exercise_price.amount), w.exercise_price.currency, _day(w.exercisable_from),
            _day(w.expires), w.origin, w.replaces, w.replaced_by, w.issued_for, json.dumps(adjustments))


def _lot_segments(lot: Lot) -> list[Row]:
    """The lot's shares and cumulative changes after each date with a movement."""
    states: list[tuple[str, Hashable]] = []
    remaining = 0
    changes: dict[str, int] = {}
    for i, m in enumerate(lot.movements):
        remaining += m.shares
        if i:  # the first movement is the acquisition itself (as ``Position.changes``)
            changes[m.kind] = changes.get(m.kind, 0) + m.shares
        state = (remaining, json.dumps(changes, sort_keys=True))
        day = m.effective.isoformat()
        if states and states[-1][0] == day:
            states[-1] = (day, state)
        else:
            states.append((day, state))
    return [(lot.lot, lot.holder, lot.share_class, *state, start, end)  # type: ignore[misc]
            for state, start, end in _intervals(states)]


def _position_rows(key: Key, name: str, lot_segments: Iterable[Row],
                   warrant_segments: Iterable[Row]) -> list[Row]:
    """One position's rows: on each day, the sum of its lot segments' shares, and the sum of
    its warrant segments' shares where the cap table counts the warrant (status 'outstanding'
    and not past its expiry: ``Warrant.status_on``). A sum is NULL (None) when nothing counts,
    which is not the same as 0: the fold lists a holder whose lots with shares sum to 0.
    ``name`` is the holder's: added once (``duplicate-holder``) and before it holds anything,
    so the same on every date the position has a row."""
    # day -> changes on that day to (shares, lots with shares, warrant shares, warrants counted)
    deltas: dict[str, list[int]] = {}

    def add(start: str, end: str, change: tuple[int, int, int, int]) -> None:
        for day, sign in ((start, 1), (end, -1)):
            if day != OPEN:  # an open interval never ends
                d = deltas.setdefault(day, [0, 0, 0, 0])
                for i, n in enumerate(change):
                    d[i] += sign * n

    for _lot, _, _, shares, _, start, end in lot_segments:
        if shares:  # as the fold: a lot counts while it has shares (``if lot.remaining``)
            add(str(start), str(end), (int(shares), 1, 0, 0))
    for w in warrant_segments:
        status, shares, expires, start, end = w[4], w[6], w[11], str(w[-2]), str(w[-1])
        if status != "outstanding":
            continue
        if expires is not None and str(expires) < end:  # counts up to and including its expiry
            end = (date.fromisoformat(str(expires)) + timedelta(days=1)).isoformat()
        if start < end:
            add(start, end, (0, 0, int(shares or 0), 1))
    states: list[tuple[str, Hashable]] = []
    total = [0, 0, 0, 0]
    for day in sorted(deltas):
        total = [a + b for a, b in zip(total, deltas[day], strict=True)]
        held, lots, under_warrant, warrants = total
        states.append((day, (held if lots else None, under_warrant if warrants else None)))
    if not states:
        return []
    holder, share_class = key
    return [(holder, name, share_class, *state, fork(start, end), start, end)  # type: ignore[misc]
            for state, start, end in _intervals(states) if state != (None, None)]


class Deriver:
    """The fold of ``derive``, kept open: ``apply`` books one more record (in timeline order)
    and returns the objects it changed, ``rows_of`` gives their rows now. ``derive`` runs it
    over a whole log; the projector keeps one per issuer and appends recordings that only add
    entries effective on or after the last effective date (the common case: O(entries) per
    recording instead of re-folding the log)."""

    def __init__(self) -> None:
        self.book = Book()
        self.warrant_states: dict[str, list[tuple[str, Hashable]]] = {}
        self.class_states: dict[str, list[tuple[str, Hashable]]] = {}
        self.touched: dict[str, int] = {}  # warrant -> len(entries) when last captured
        self.payments: list[Row] = []
        self.last: tuple[date, int] | None = None  # timeline key of the last record applied
        # Positions: each one's lots and warrants, its rows when last derived, and the positions
        # changed since (``position_rows`` derives them again; ``settle`` derives them all).
        self.position_lots: dict[Key, set[str]] = {}
        self.position_warrants: dict[Key, set[str]] = {}
        self.positions: dict[Key, list[Row]] = {}
        self.stale: set[Key] = set()
        # Each class's rows when last made: (states seen, the last of them, rows, the index in
        # the states where each row's run of equal states starts). See ``class_rows``.
        self.class_cache: dict[str, tuple[int, Hashable, list[Row], list[int]]] = {}

    @staticmethod
    def _capture(states: list[tuple[str, Hashable]], day: str, state: Hashable) -> None:
        if states and states[-1][0] == day:
            states[-1] = (day, state)  # same day: the last change wins
        else:
            states.append((day, state))

    def apply(self, record: RecordedEntry) -> Changed:
        """Book ``record`` (after every record applied so far, in timeline order)."""
        book, entry = self.book, record.entry
        paid_before = len(book.payments)
        lot_moves = {}
        fields = entry.__dict__  # a pydantic model's fields (getattr of a missing one is slow)
        named = [v for v in (fields.get(f) for f in NAMES) if isinstance(v, str)]
        split = isinstance(entry, StockSplit)
        if split:
            lot_moves = {k: len(lot.movements) for k, lot in book.lots.items()}
        book.apply(entry)
        self.last = (entry.effective, record.sequence)
        day = entry.effective.isoformat()
        changed = Changed()
        changed.lots = [k for k in named if k in book.lots]
        if split:
            changed.lots += [k for k, n in lot_moves.items() if len(book.lots[k].movements) != n]
        candidates = book.warrants.keys() if split else [k for k in named if k in book.warrants]
        for k in candidates:  # every change to a warrant appends to its entries
            w = book.warrants[k]
            if self.touched.get(k) != len(w.entries):
                self.touched[k] = len(w.entries)
                self._capture(self.warrant_states.setdefault(k, []), day, _warrant_fields(w))
                changed.warrants.append(k)
        for c in book.classes.values():
            states = self.class_states.setdefault(c.share_class, [])
            state = (c.name, c.authorized, c.outstanding)
            if not states or states[-1][1] != state:
                self._capture(states, day, state)
                changed.classes.append(c.share_class)
        for k in changed.lots:
            lot = book.lots[k]
            key = (lot.holder, lot.share_class)
            self.position_lots.setdefault(key, set()).add(k)
            changed.positions.add(key)
        for k in changed.warrants:
            w = book.warrants[k]
            key = (w.holder, w.share_class)
            self.position_warrants.setdefault(key, set()).add(k)
            changed.positions.add(key)
        self.stale |= changed.positions
        for index, p in enumerate(book.payments[paid_before:]):
            # A payment counts as of D when its entry is booked by D and it is dated by D.
            counts_from = max(p.effective, entry.effective).isoformat()
            row: Row = (p.holder, p.effective.isoformat(), p.direction, str(p.amount.amount),
                        p.amount.currency, p.entry, p.security, day, record.sequence, index,
                        counts_from, OPEN)
            self.payments.append(row)
            changed.payments.append(row)
        if isinstance(entry, StakeholderAdded):
            changed.parties.append(self._party("holder", entry.holder))
        elif isinstance(entry, IssuerCreated):
            changed.parties.append(self._issuer_row())
        return changed

    def _party(self, role: str, party: str) -> Row:
        h = self.book.holders[party]
        return ("holder", h.holder, h.name, _day(h.effective), OPEN)

    def _issuer_row(self) -> Row:
        i = self.book.issuer
        assert i is not None
        return ("issuer", i.issuer, i.name, _day(i.effective), OPEN)

    def lot_rows(self, lot_id: str) -> tuple[Row, list[Row]]:
        lot = self.book.lots[lot_id]
        return ((lot.lot, lot.holder, lot.share_class, _day(lot.acquired), _day(lot.held_since),
                 lot.quantity, lot.origin, lot.from_warrant, lot.from_lot, _day(lot.acquired), OPEN),
                _lot_segments(lot))

    def warrant_rows(self, warrant: str) -> list[Row]:
        return [(warrant, *fields, start, end)  # type: ignore[misc]
                for fields, start, end in _intervals(self.warrant_states[warrant])]

    def class_rows(self, share_class: str) -> list[Row]:
        """The class's rows, as ``_intervals`` of its states. A class changes with most entries
        (its outstanding shares) and has a row per such date, and an in-order recording asks
        for its rows before and after: so they are kept, and only the rows from the end of the
        states seen last time are made again. States only change at their end (``_capture``
        replaces the last or appends), so the states before the last one seen are as they were,
        and so is every row whose next run of states starts among them."""
        states = self.class_states[share_class]
        count, last, rows, starts = self.class_cache.get(share_class, (0, None, [], []))
        if count == len(states) and last == states[-1]:
            return rows
        keep = 0
        while keep + 1 < len(starts) and starts[keep + 1] < count - 1:
            keep += 1
        begin = starts[keep] if starts else 0  # a run starts there, after an unchanged state
        merged: list[tuple[int, str, Hashable]] = []
        for i in range(begin, len(states)):
            day, state = states[i]
            if not merged or merged[-1][2] != state:
                merged.append((i, day, state))
        ends = [day for _, day, _ in merged[1:]] + [OPEN]
        rows = rows[:keep] + [(share_class, *state, fork(day, end), day, end)  # type: ignore[misc]
                              for (_, day, state), end in zip(merged, ends, strict=True)]
        starts = starts[:keep] + [i for i, _, _ in merged]
        self.class_cache[share_class] = (len(states), states[-1], rows, starts)
        return rows

    def position_rows(self, key: Key, segments: dict[str, list[Row]] | None = None) -> list[Row]:
        """A position's rows now (derived again if it changed since last time); ``segments``
        (lot -> its segment rows) saves deriving them again when the caller has them."""
        if key in self.stale or key not in self.positions:
            lots = [segments[k] if segments else self.lot_rows(k)[1] for k in self.position_lots.get(key, ())]
            warrants = [self.warrant_rows(w) for w in self.position_warrants.get(key, ())]
            self.positions[key] = _position_rows(key, self.book.holders[key[0]].name,
                                                 [row for rows in lots for row in rows],
                                                 [row for rows in warrants for row in rows])
            self.stale.discard(key)
        return self.positions[key]

    def settle(self) -> None:
        """Derive every changed position: afterwards ``positions`` holds every position's rows
        now, and keeps them while records are applied (until ``position_rows`` is asked)."""
        for key in list(self.stale):
            self.position_rows(key)

    def rows(self) -> RowSets:
        """Every row, for the whole log applied so far."""
        lots = {k: self.lot_rows(k) for k in self.book.lots}
        by_lot = {k: segments for k, (_, segments) in lots.items()}
        for key in list(self.stale):  # every position, after a fold: from the segments above
            self.position_rows(key, by_lot)
        rows: RowSets = {
            "view_lots": {lot for lot, _ in lots.values()},
            "view_lot_segments": {row for _, segments in lots.values() for row in segments},
            "view_warrant_segments": {row for w in self.warrant_states for row in self.warrant_rows(w)},
            "view_payments": set(self.payments),
            "view_classes": {row for c in self.class_states for row in self.class_rows(c)},
            "view_parties": {self._party("holder", h) for h in self.book.holders},
            "view_positions": {row for rows in self.positions.values() for row in rows},
        }
        if self.book.issuer is not None:
            rows["view_parties"].add(self._issuer_row())
        return rows


@dataclass
class Changed:
    """What one applied record changed: ids of lots, warrants and classes, new rows."""

    lots: list[str] = field(default_factory=list)
    warrants: list[str] = field(default_factory=list)
    classes: list[str] = field(default_factory=list)
    payments: list[Row] = field(default_factory=list)
    parties: list[Row] = field(default_factory=list)
    positions: set[Key] = field(default_factory=set)  # (holder, class) of changed lots, warrants


NAMES = ("lot", "new_lot", "warrant", "new_warrant", "security")


def derive(records: Sequence[RecordedEntry]) -> RowSets:
    """Every view row of one issuer's log (all of it counts: select a prefix for "known at")."""
    return fold(records).rows()


def fold(records: Sequence[RecordedEntry]) -> Deriver:
    """A deriver that has booked the whole corrected timeline of ``records``."""
    deriver = Deriver()
    for record in timeline(records):
        deriver.apply(record)
    return deriver
