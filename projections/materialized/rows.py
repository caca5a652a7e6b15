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
from bisect import bisect_left, bisect_right
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache, lru_cache
from typing import Any

from ledger.book import Book, Lot, Mark, Warrant
from ledger.collector import collector_paused
from ledger.entries import AnyEntry, IssuerCreated, StakeholderAdded, StockSplit
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


@cache
def _quoted(kind: str) -> str:
    return json.dumps(kind)


def _changes_text(changes: dict[str, int]) -> str:
    """``json.dumps(changes, sort_keys=True)`` for a lot's changes (kind -> shares), faster."""
    return "{" + ", ".join(f"{_quoted(k)}: {changes[k]}" for k in sorted(changes)) + "}"


def _lot_segments(lot: Lot) -> list[Row]:
    """The lot's shares and cumulative changes after each date with a movement."""
    states: list[tuple[str, Hashable]] = []
    remaining = 0
    changes: dict[str, int] = {}
    text = "{}"
    for i, m in enumerate(lot.movements):
        remaining += m.shares
        if i:  # the first movement is the acquisition itself (as ``Position.changes``)
            changes[m.kind] = changes.get(m.kind, 0) + m.shares
            text = _changes_text(changes)
        state = (remaining, text)
        day = m.effective.isoformat()
        if states and states[-1][0] == day:
            states[-1] = (day, state)
        else:
            states.append((day, state))
    return [(lot.lot, lot.holder, lot.share_class, *state, start, end)  # type: ignore[misc]
            for state, start, end in _intervals(states)]


@lru_cache(maxsize=1 << 14)
def _day_after(day: str) -> str:
    return (date.fromisoformat(day) + timedelta(days=1)).isoformat()


def _position_rows(key: Key, name: str, lot_segments: Iterable[Sequence[tuple[Any, ...]]],
                   warrant_segments: Iterable[Sequence[tuple[Any, ...]]]) -> list[Row]:
    """One position's rows: on each day, the sum of its lot segments' shares, and the sum of
    its warrant segments' shares where the cap table counts the warrant (status 'outstanding'
    and not past its expiry: ``Warrant.status_on``). A sum is NULL (None) when nothing counts,
    which is not the same as 0: the fold lists a holder whose lots with shares sum to 0.
    ``name`` is the holder's: added once (``duplicate-holder``) and before it holds anything,
    so the same on every date the position has a row."""
    # day -> changes on that day to (shares, lots with shares, warrant shares, warrants counted)
    deltas: dict[str, list[int]] = {}
    get = deltas.get
    for rows in lot_segments:  # each lot's segment rows
        for row in rows:
            shares = row[3]
            if shares:  # as the fold: a lot counts while it has shares (``if lot.remaining``)
                start, end = row[5], row[6]
                d = get(start)
                if d is None:
                    d = deltas[start] = [0, 0, 0, 0]
                d[0] += shares
                d[1] += 1
                if end != OPEN:  # an open interval never ends
                    d = get(end)
                    if d is None:
                        d = deltas[end] = [0, 0, 0, 0]
                    d[0] -= shares
                    d[1] -= 1
    for rows in warrant_segments:  # each warrant's segment rows
        for w in rows:
            if w[4] != "outstanding":
                continue
            shares, expires, start, end = w[6] or 0, w[11], w[-2], w[-1]
            if expires is not None and expires < end:  # counts up to and including its expiry
                end = _day_after(expires)
            if start < end:
                d = get(start)
                if d is None:
                    d = deltas[start] = [0, 0, 0, 0]
                d[2] += shares
                d[3] += 1
                if end != OPEN:
                    d = get(end)
                    if d is None:
                        d = deltas[end] = [0, 0, 0, 0]
                    d[2] -= shares
                    d[3] -= 1
    if not deltas:
        return []
    states: list[tuple[str, Hashable]] = []
    held = lots = under_warrant = warrants = 0
    for day in sorted(deltas):
        d = deltas[day]
        held += d[0]
        lots += d[1]
        under_warrant += d[2]
        warrants += d[3]
        states.append((day, (held if lots else None, under_warrant if warrants else None)))
    holder, share_class = key
    return [(holder, name, share_class, *state, fork(start, end), start, end)  # type: ignore[misc]
            for state, start, end in _intervals(states) if state != (None, None)]


History = list[tuple[str, Hashable]]  # (day, state) in date order, one per date


@dataclass(slots=True)
class Undo:
    """What ``Deriver.rewind`` needs to take back one applied record: the book's ``Mark``, and
    for every history the record changed its length before and its last (day, state) then
    (``_capture`` appends or replaces the last: restoring both undoes either), the warrants'
    ``touched`` counts before (None: absent), the lots and warrants the record added to a
    position, the lots it changed (their cached rows go), and the number of payments and the
    timeline key before it."""

    record: RecordedEntry
    mark: Mark
    last: tuple[date, int] | None
    payments: int
    histories: list[tuple[dict[str, History], str, int, tuple[str, Hashable] | None]] = field(
        default_factory=list)  # (the dict, its key, length before (-1: no key), last before)
    touched: list[tuple[str, int | None]] = field(default_factory=list)
    members: list[tuple[dict[Key, set[str]], Key, str]] = field(default_factory=list)
    lots: list[str] = field(default_factory=list)  # the lots it changed (or created)


class Deriver:
    """The fold of ``derive``, kept open: ``apply`` books one more record (in timeline order)
    and returns the objects it changed; ``lot_rows``, ``warrant_rows``, ``class_rows`` and
    ``position_rows`` give their rows now. ``derive`` runs it over a whole log; the projector
    keeps one per issuer and applies each recording of new entries to it, rewinding it first
    when they are back-dated (O(entries) per recording instead of re-folding the log).

    With a ``window`` > 0 it also keeps an ``Undo`` for each of the last ``window`` to
    ``2 * window`` records applied (``undo``, in timeline order): ``rewind(day)`` takes back every
    one of them effective after ``day``, leaving the state exactly as applying the records before
    them gave it, so that entries effective on or after ``floor`` (every record before the kept
    ones is effective on or before it) can be placed where they belong on the timeline."""

    def __init__(self, window: int = 0) -> None:
        self.window = window
        self.undo: list[Undo] = []
        self.days: list[date] = []  # the effective date of each ``undo``'s record
        self.floor: date | None = None  # the last date applied without an undo (None: none)
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
        # Each lot's and warrant's rows when last made (``lot_rows``, ``warrant_rows``), dropped
        # whenever it changes (or a change to it is taken back).
        self.lot_cache: dict[str, tuple[Row, list[Row]]] = {}
        self.warrant_cache: dict[str, list[Row]] = {}

    @staticmethod
    def _capture(states: list[tuple[str, Hashable]], day: str, state: Hashable) -> None:
        if states and states[-1][0] == day:
            states[-1] = (day, state)  # same day: the last change wins
        else:
            states.append((day, state))

    def apply(self, record: RecordedEntry, undoable: bool | None = None) -> Changed:
        """Book ``record`` (after every record applied so far, in timeline order); keep an
        ``Undo`` for it if ``undoable`` (by default: when the deriver has a window)."""
        book, entry = self.book, record.entry
        paid_before = len(book.payments)
        lot_moves = {}
        fields = entry.__dict__  # a pydantic model's fields (getattr of a missing one is slow)
        named = [v for v in (fields.get(f) for f in NAMES) if isinstance(v, str)]
        split = isinstance(entry, StockSplit)
        if split:
            lot_moves = {k: len(lot.movements) for k, lot in book.lots.items()}
        undo = None
        if self.window if undoable is None else undoable:
            undo = Undo(record, book.mark(entry), self.last, len(self.payments))
        book.apply(entry)
        if undo is None:
            self.floor = entry.effective
        else:
            self.undo.append(undo)
            self.days.append(entry.effective)
        self.last = (entry.effective, record.sequence)
        day = entry.effective.isoformat()
        changed = Changed()
        changed.lots = [k for k in named if k in book.lots]
        if split:
            changed.lots += [k for k, n in lot_moves.items() if len(book.lots[k].movements) != n]
        for k in changed.lots:  # every change to a lot appends a movement: its rows are made again
            self.lot_cache.pop(k, None)
        if undo is not None:
            undo.lots = changed.lots
        candidates = book.warrants.keys() if split else [k for k in named if k in book.warrants]
        for k in candidates:  # every change to a warrant appends to its entries
            w = book.warrants[k]
            touched = self.touched.get(k)
            if touched != len(w.entries):
                self.touched[k] = len(w.entries)
                if undo is not None:
                    undo.touched.append((k, touched))
                    self._remember(undo, self.warrant_states, k)
                self._capture(self.warrant_states.setdefault(k, []), day, _warrant_fields(w))
                self.warrant_cache.pop(k, None)
                changed.warrants.append(k)
        for c in book.classes.values():
            states = self.class_states.get(c.share_class)
            state = (c.name, c.authorized, c.outstanding)
            if not states or states[-1][1] != state:
                if undo is not None:
                    self._remember(undo, self.class_states, c.share_class)
                self._capture(self.class_states.setdefault(c.share_class, []), day, state)
                changed.classes.append(c.share_class)
        for k in changed.lots:
            lot = book.lots[k]
            key = (lot.holder, lot.share_class)
            self._join(undo, self.position_lots, key, k)
            changed.positions.add(key)
        for k in changed.warrants:
            w = book.warrants[k]
            key = (w.holder, w.share_class)
            self._join(undo, self.position_warrants, key, k)
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
        changed.parties = self.parties_of(entry)
        if undo is not None and len(self.undo) > 2 * self.window:  # amortised: drop the oldest half
            cut = len(self.undo) - self.window
            self.floor = self.days[cut - 1]
            del self.undo[:cut], self.days[:cut]
        return changed

    def parties_of(self, entry: AnyEntry) -> list[Row]:
        """The party row an applied entry made (a holder's, or the issuer's)."""
        if isinstance(entry, StakeholderAdded):
            return [self._party("holder", entry.holder)]
        if isinstance(entry, IssuerCreated):
            return [self._issuer_row()]
        return []

    @staticmethod
    def _remember(undo: Undo, histories: dict[str, History], key: str) -> None:
        states = histories.get(key)
        if states is None:
            undo.histories.append((histories, key, -1, None))
        else:
            undo.histories.append((histories, key, len(states), states[-1] if states else None))

    @staticmethod
    def _join(undo: Undo | None, members: dict[Key, set[str]], key: Key, ident: str) -> None:
        found = members.setdefault(key, set())
        if ident not in found:
            found.add(ident)
            if undo is not None:
                undo.members.append((members, key, ident))

    # --- rewinding: taking back the last records applied ----------------------------------

    def reaches(self, day: date) -> bool:
        """Whether entries effective on ``day`` (after every record applied on that day) can be
        placed by ``rewind``: every record applied without an undo is effective by ``day``."""
        return self.window > 0 and (self.floor is None or day >= self.floor)

    def after(self, day: date) -> list[Undo]:
        """The undos of the records applied that are effective after ``day``, in timeline order:
        what ``rewind(day)`` takes back."""
        return self.undo[bisect_right(self.days, day):]

    def rewind(self, day: date) -> list[RecordedEntry]:
        """Take back every record applied that is effective after ``day`` (``reaches(day)``
        must hold); returns them in timeline order. Positions they changed are marked stale;
        ``positions`` keeps the rows last derived until they are asked again."""
        start = bisect_right(self.days, day)
        undone = self.undo[start:]
        shortest: dict[str, int] = {}
        for u in reversed(undone):
            self.book.rewind(u.mark)
            for histories, key, length, last in reversed(u.histories):
                if histories is self.warrant_states:
                    self.warrant_cache.pop(key, None)
                if length < 0:
                    del histories[key]
                    if histories is self.class_states:
                        shortest[key] = 0
                    continue
                states = histories[key]
                del states[length:]
                if last is not None:
                    states[-1] = last
                if histories is self.class_states:
                    shortest[key] = min(length, shortest.get(key, length))
            for k, touched in reversed(u.touched):
                if touched is None:
                    del self.touched[k]
                else:
                    self.touched[k] = touched
            for members, position, ident in reversed(u.members):
                found = members[position]
                found.discard(ident)
                self.stale.add(position)
                if not found:
                    del members[position]
            for k in u.lots:
                self.lot_cache.pop(k, None)
            self.last = u.last
            del self.payments[u.payments:]
        for share_class, length in shortest.items():
            # ``class_rows`` trusts the states before the last one it saw to be as they were:
            # after a rewind, only those before the shortest length the states went back to are.
            cached = self.class_cache.get(share_class)
            if cached is not None and cached[0] > length:
                _, _, rows, starts = cached
                self.class_cache[share_class] = (length, None, rows, starts)
        del self.undo[start:], self.days[start:]
        return [u.record for u in undone]

    def _party(self, role: str, party: str) -> Row:
        h = self.book.holders[party]
        return ("holder", h.holder, h.name, _day(h.effective), OPEN)

    def _issuer_row(self) -> Row:
        i = self.book.issuer
        assert i is not None
        return ("issuer", i.issuer, i.name, _day(i.effective), OPEN)

    def lot_rows(self, lot_id: str) -> tuple[Row, list[Row]]:
        found = self.lot_cache.get(lot_id)
        if found is None:
            lot = self.book.lots[lot_id]
            found = ((lot.lot, lot.holder, lot.share_class, _day(lot.acquired), _day(lot.held_since),
                      lot.quantity, lot.origin, lot.from_warrant, lot.from_lot, _day(lot.acquired), OPEN),
                     _lot_segments(lot))
            self.lot_cache[lot_id] = found
        return found

    def warrant_rows(self, warrant: str) -> list[Row]:
        found = self.warrant_cache.get(warrant)
        if found is None:
            found = self.warrant_cache[warrant] = [
                (warrant, *fields, start, end)  # type: ignore[misc]
                for fields, start, end in _intervals(self.warrant_states[warrant])]
        return found

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
        keep = bisect_left(starts, count - 1, 1) - 1  # the runs after the first that start before it
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
            self.positions[key] = _position_rows(key, self.book.holders[key[0]].name, lots, warrants)
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
    with collector_paused():
        return fold(records).rows()


def fold(records: Sequence[RecordedEntry], window: int = 0) -> Deriver:
    """A deriver that has booked the whole corrected timeline of ``records``, able to rewind
    its last ``window`` records."""
    deriver = Deriver(window)
    ordered = timeline(records)
    marked_from = len(ordered) - window
    with collector_paused():
        for index, record in enumerate(ordered):
            deriver.apply(record, undoable=index >= marked_from)
    return deriver
