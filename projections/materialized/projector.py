"""Catching the views up with the log: exactly once per event, from where they stopped.

``catch_up`` reads the notification log after the tracked position, a page at a time. A page
always ends at a recording boundary: an issuer's recording (one ``Ledger.record``, saved in
one transaction, so its notification ids are consecutive and all share a recorded time) is
never split between pages. For each issuer in the page and each of its recordings, in order:

  1. the issuer's log grows by the recording; its last sequence number is the version V;
  2. ``rows.derive`` (the pure fold) gives every row the views should hold at V;
  3. rows held now but not at V are closed (rec_to = V); rows new at V are inserted
     (rec_from = V, rec_to = CURRENT). Nothing else is ever updated or deleted.

The page's changes and the library's tracking record for its last notification id commit in
one transaction. A crash before the commit leaves nothing of the page (the next catch-up
redoes it); a page replayed after its commit fails on the tracking record, which is written
first, and changes nothing.

Versions: "known at V" is exact for every V that ends a recording, and "known at T" always
maps to such a V (the versions of one recording share its recorded time). A V inside a
recording reads as the recording before it: no reader could ever see half a recording.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from eventsourcing.persistence import IntegrityError, Notification, Tracking

from ledger.entries import EntryCorrected, EntryVoided, StockSplit
from ledger.records import RecordedEntry, timeline_key
from ledger.store import LedgerStore
from ledger.timeline import resolve
from projections.materialized.recorders import Statement, ViewRecorder
from projections.materialized.rows import NAMES, Deriver, Row, RowSets, fold
from projections.materialized.schema import (
    CURRENT,
    TABLES,
    VIEWS,
    close_statement,
    current_statement,
    insert_statement,
)

PAGE = 500  # notifications per transaction (more when a recording is longer)
RETRIES = 3  # another projector committed the same page first: resynchronise and go on


def moment(at: datetime) -> str:
    """A recorded time as fixed-width UTC text: text order is time order."""
    if at.tzinfo is None:
        raise TypeError("recorded times and known_at must be timezone-aware")
    return at.astimezone(UTC).isoformat(timespec="microseconds")


@dataclass
class _Issuer:
    log: list[RecordedEntry]  # every record projected so far, in sequence order
    rows: RowSets  # the rows held now (rec_to = CURRENT)
    live: Deriver | None = None  # the fold at the end of ``log``, when known

    def add(self, issuer: str, recording: list[RecordedEntry]) -> list[Statement]:
        """Extend the log by one recording (changing this state in place); the statements that
        take the tables from the rows held to the rows wanted at its last sequence."""
        version = recording[-1].sequence
        if not self._in_order(recording):
            # Back-dated entries or corrections: fold the whole corrected timeline again.
            self.log += recording
            self.live = fold(self.log)
            wanted = self.live.rows()
            found = changes(issuer, version, self.rows, wanted)
            self.rows = wanted
            return found
        if self.live is None:  # after a restart: fold the log once, then go on from it
            self.live = fold(self.log)
        self.log += recording
        held, wanted = _append(self.live, recording)
        for t in TABLES:
            table = self.rows.setdefault(t.name, set())
            table -= held[t.name]
            table |= wanted[t.name]
        return changes(issuer, version, held, wanted)

    def _in_order(self, recording: list[RecordedEntry]) -> bool:
        """Only new entries, none effective before the last effective date projected (timeline
        order is effective date, then sequence: these go after everything)."""
        if any(isinstance(r.entry, (EntryCorrected, EntryVoided)) for r in recording):
            return False
        if self.live is None:
            last = max((r.entry.effective for r in resolve(self.log)), default=None)
        else:
            last = self.live.last[0] if self.live.last is not None else None
        return last is None or all(r.entry.effective >= last for r in recording)


def _append(live: Deriver, recording: list[RecordedEntry]) -> tuple[RowSets, RowSets]:
    """Apply an in-order recording to ``live``; the rows of what it changed, before and after."""
    book = live.book
    live.settle()  # its positions are the rows held: they stay so while the recording applies
    before: dict[str, set[Row]] = {t.name: set() for t in TABLES}
    seen: set[tuple[str, str]] = set()

    def snapshot(kind: str, ident: str) -> None:
        if (kind, ident) in seen:
            return
        seen.add((kind, ident))
        if kind == "lot" and ident in book.lots:
            lot, segments = live.lot_rows(ident)
            before["view_lots"].add(lot)
            before["view_lot_segments"].update(segments)
        elif kind == "warrant" and ident in live.warrant_states:
            before["view_warrant_segments"].update(live.warrant_rows(ident))
        elif kind == "class" and ident in live.class_states:
            before["view_classes"].update(live.class_rows(ident))

    for c in live.class_states:
        snapshot("class", c)
    for record in recording:
        entry = record.entry
        for name in NAMES:
            ident = entry.__dict__.get(name)
            if isinstance(ident, str):
                snapshot("lot", ident)
                snapshot("warrant", ident)
        if isinstance(entry, StockSplit):
            for ident in list(book.lots):
                snapshot("lot", ident)
            for ident in list(live.warrant_states):
                snapshot("warrant", ident)
    after: dict[str, set[Row]] = {t.name: set() for t in TABLES}
    lots: set[str] = set()
    warrants: set[str] = set()
    classes: set[str] = set()
    positions: set[tuple[str, str]] = set()
    for record in sorted(recording, key=timeline_key):  # a recording need not be in date order
        changed = live.apply(record)
        lots.update(changed.lots)
        warrants.update(changed.warrants)
        classes.update(changed.classes)
        positions.update(changed.positions)
        after["view_payments"].update(changed.payments)
        after["view_parties"].update(changed.parties)
    for ident in lots:
        lot, segments = live.lot_rows(ident)
        after["view_lots"].add(lot)
        after["view_lot_segments"].update(segments)
        if ("lot", ident) not in seen:
            raise AssertionError(f"lot {ident!r} changed without being named")  # pragma: no cover
    for ident in warrants:
        after["view_warrant_segments"].update(live.warrant_rows(ident))
    for ident in classes:
        after["view_classes"].update(live.class_rows(ident))
    for key in positions:  # a changed lot or warrant: its position's rows before, and now
        before["view_positions"].update(live.positions.get(key, ()))
        after["view_positions"].update(live.position_rows(key))
    # Objects snapshotted but unchanged: their rows are the same before and after.
    for ident in {i for k, i in seen if k == "lot"} - lots:
        if ident in book.lots:
            lot, segments = live.lot_rows(ident)
            after["view_lots"].add(lot)
            after["view_lot_segments"].update(segments)
    for ident in {i for k, i in seen if k == "warrant"} - warrants:
        if ident in live.warrant_states:
            after["view_warrant_segments"].update(live.warrant_rows(ident))
    for ident in {i for k, i in seen if k == "class"} - classes:
        after["view_classes"].update(live.class_rows(ident))
    return before, after


@dataclass
class Projector:
    store: LedgerStore
    recorder: ViewRecorder
    page_size: int = PAGE
    position: int | None = None  # the tracked position the caches below agree with
    issuers: dict[str, _Issuer] = field(default_factory=dict)

    # --- reading -------------------------------------------------------------------------

    def tracked(self) -> int:
        return self.recorder.max_tracking_id(VIEWS) or 0

    def page(self, after: int) -> list[Notification]:
        """The next notifications after ``after``, extended to the end of the last recording."""
        select = self.store.app.recorder.select_notifications
        found = list(select(after, self.page_size, inclusive_of_start=False))
        if len(found) < self.page_size:
            return found  # the end of the log: recordings are committed whole
        last = self.store._decode(found[-1])
        while True:
            more = select(found[-1].id, self.page_size, inclusive_of_start=False)
            for n in more:
                if not self._same_recording(last, self.store._decode(n)):
                    return found
                found.append(n)
            if len(more) < self.page_size:
                return found

    @staticmethod
    def _same_recording(a: RecordedEntry, b: RecordedEntry) -> bool:
        return (a.issuer, a.recorded_at) == (b.issuer, b.recorded_at)

    def _state(self, issuer: str) -> _Issuer:
        """An issuer's projected log and current rows: cached, or reloaded after a restart."""
        if issuer not in self.issuers:
            tracked = self.tracked() if self.position is None else self.position
            log = [r for r in self.store.entries(issuer) if r.position <= tracked]
            rows = {t.name: set(self.recorder.select(current_statement(t), (issuer,))) for t in TABLES}
            self.issuers[issuer] = _Issuer(log, rows)
        return self.issuers[issuer]

    # --- writing -------------------------------------------------------------------------

    def catch_up(self, on_page: Callable[[int], None] | None = None) -> int:
        """Project everything recorded since the tracked position; returns how many events.
        ``on_page`` is told each committed page's last position (progress, tests)."""
        done = 0
        conflicts = 0
        while True:
            if self.position is None:  # first run, or after a conflict: start from the tables
                self.position, self.issuers = self.tracked(), {}
            notifications = self.page(self.position)
            if not notifications:
                return done  # nothing new: one query, the common case before every read
            if self.tracked() != self.position:  # another projector moved on: follow it
                self.position = None
                continue
            try:
                self.project(notifications)
            except IntegrityError:
                conflicts += 1
                if conflicts > RETRIES:
                    raise
                self.position = None
                continue
            done += len(notifications)
            if on_page is not None:
                on_page(notifications[-1].id)

    def project(self, notifications: Sequence[Notification]) -> None:
        """Project one page in one transaction; raises IntegrityError (changing nothing) if its
        last position is already tracked."""
        records = [self.store._decode(n) for n in notifications]
        statements: list[Statement] = []
        recordings: list[tuple[Any, ...]] = []
        try:
            for issuer in dict.fromkeys(r.issuer for r in records):
                state = self._state(issuer)
                # A replayed page (already projected) only has to fail on its tracking record.
                known = state.log[-1].sequence if state.log else 0
                mine = [r for r in records if r.issuer == issuer and r.sequence > known]
                start = 0
                for i, record in enumerate(mine):
                    recordings.append((issuer, record.sequence, record.position, moment(record.recorded_at)))
                    if i + 1 == len(mine) or not self._same_recording(record, mine[i + 1]):
                        statements += state.add(issuer, mine[start:i + 1])
                        start = i + 1
            statements.insert(0, ("INSERT INTO view_recordings (issuer, sequence, position, recorded_at) "
                                  "VALUES (?, ?, ?, ?)", recordings))
            self.recorder.write(statements, Tracking(VIEWS, notifications[-1].id))
        except BaseException:
            # The caches were changed in place: drop them (the next catch-up reloads from the
            # tables, which the failed transaction left as they were).
            self.issuers, self.position = {}, None
            raise
        self.position = notifications[-1].id


def changes(issuer: str, version: int, held: RowSets, wanted: RowSets) -> list[Statement]:
    """Close the rows no longer believed at ``version``; insert the rows newly believed."""
    statements: list[Statement] = []
    for t in TABLES:
        old, new = held.get(t.name, set()), wanted.get(t.name, set())
        keys = [t.names.index(k) for k in t.key]
        closed: list[Row] = sorted(old - new, key=repr)
        opened: list[Row] = sorted(new - old, key=repr)
        if closed:
            statements.append((close_statement(t),
                               [(version, issuer, *(r[k] for k in keys)) for r in closed]))
        if opened:
            statements.append((insert_statement(t), [(issuer, *r, version, CURRENT) for r in opened]))
    return statements
