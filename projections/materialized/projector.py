"""Catching the views up with the log: exactly once per event, from where they stopped.

``catch_up`` reads the notification log after the tracked position, a page at a time. A page
always ends at a recording boundary: an issuer's recording (one ``Ledger.record``, saved in
one transaction, so its notification ids are consecutive and all share a recorded time) is
never split between pages. For each issuer in the page and each of its recordings, in order:

  1. the issuer's log grows by the recording; its last sequence number is the version V;
  2. the fold gives the rows the views should hold at V: the issuer's live ``rows.Deriver``
     takes the recording in (rewound first to place back-dated entries, ``_insert``) and gives
     the rows of what it touched, or, for corrections, voids and entries back-dated before its
     window, ``rows.fold`` of the whole log gives every row;
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
from operator import itemgetter
from typing import Any

from eventsourcing.persistence import IntegrityError, Notification, Tracking

from ledger.collector import collector_paused
from ledger.entries import EntryCorrected, EntryVoided, StockSplit
from ledger.records import RecordedEntry, timeline_key
from ledger.store import LedgerStore
from projections.materialized.recorders import Statement, ViewRecorder
from projections.materialized.rows import NAMES, Deriver, Key, Row, RowSets, fold
from projections.materialized.schema import (
    BY_NAME,
    CURRENT,
    TABLES,
    VIEWS,
    close_statement,
    current_statement,
    insert_statement,
)

PAGE = 500  # notifications per transaction (more when a recording is longer)
# Records at the end of an issuer's timeline the live fold can take back to place a back-dated
# entry among them (``Deriver.rewind``); an entry effective before them folds the log again.
WINDOW = 10_000
RETRIES = 3  # another projector committed the same page first: resynchronise and go on


def moment(at: datetime) -> str:
    """A recorded time as fixed-width UTC text: text order is time order."""
    if at.tzinfo is None:
        raise TypeError("recorded times and known_at must be timezone-aware")
    return at.astimezone(UTC).isoformat(timespec="microseconds")


@dataclass
class _Issuer:
    log: list[RecordedEntry]  # every record projected so far, in sequence order
    # The rows held now (rec_to = CURRENT), once needed: a restarted projector reads them from
    # the tables only when it must fold the whole log again (a correction, or an entry back-dated
    # before the window), and until then keeps what it changed (``gone``, ``new``) to apply to
    # them. Tables of millions of rows are not read for the usual recording.
    rows: RowSets | None
    load: Callable[[], RowSets] = dict
    positions: dict[Key, list[Row]] | None = None  # a restart's view_positions rows, for the fold
    live: Deriver | None = None  # the fold at the end of ``log``, when known
    gone: RowSets = field(default_factory=dict)
    new: RowSets = field(default_factory=dict)

    def add(self, issuer: str, recording: list[RecordedEntry]) -> list[Statement]:
        """Extend the log by one recording (changing this state in place); the statements that
        take the tables from the rows held to the rows wanted at its last sequence."""
        version = recording[-1].sequence
        if not any(isinstance(r.entry, (EntryCorrected, EntryVoided)) for r in recording):
            if self.live is None:  # after a restart: fold the log once, then go on from it
                self.live = fold(self.log, WINDOW)
                if self.positions is not None:
                    # The positions' rows as the tables hold them, which is what deriving all of
                    # them again would give (a third of a restart at 1M events): only those a
                    # recording changes are derived.
                    self.live.positions, self.positions = self.positions, None
                    self.live.stale.clear()
            if self.live.reaches(min(r.entry.effective for r in recording)):
                self.log += recording
                held, wanted = _insert(self.live, recording)
                self._changed(held, wanted)
                return changes(issuer, version, held, wanted)
        # Corrections and voids, or entries back-dated before the window: fold the whole log.
        self.log += recording
        self.live = fold(self.log, WINDOW)
        wanted = self.live.rows()
        found = changes(issuer, version, self.held(), wanted)
        self.rows, self.gone, self.new = wanted, {}, {}
        return found

    def held(self) -> RowSets:
        """The rows held now: read from the tables (which hold what this process committed,
        not yet the page being made) with this process's changes applied again. Applying a
        committed change again changes nothing: rows are compared whole."""
        if self.rows is None:
            self.rows = self.load()
            for name, rows in self.gone.items():
                self.rows.setdefault(name, set()).difference_update(rows)
            for name, rows in self.new.items():
                self.rows.setdefault(name, set()).update(rows)
            self.gone, self.new = {}, {}
        return self.rows

    def _changed(self, held: RowSets, wanted: RowSets) -> None:
        for t in TABLES:
            old, now = held[t.name], wanted[t.name]
            if self.rows is not None:
                table = self.rows.setdefault(t.name, set())
                table -= old
                table |= now
                continue
            closed = old - now
            gone, new = self.gone.setdefault(t.name, set()), self.new.setdefault(t.name, set())
            gone -= now
            gone |= closed
            new -= closed
            new |= now


def _insert(live: Deriver, recording: list[RecordedEntry]) -> tuple[RowSets, RowSets]:
    """Apply a recording of new entries (no corrections) to ``live``, which ``reaches`` the
    earliest of them; the rows of what it changed, before and after.

    New entries go after every record of their date (their sequences are higher). The records
    applied after the earliest new entry's date are taken back (``Deriver.rewind``) and applied
    again with the new ones, in timeline order; for an in-order recording that is none of them.
    Only the objects these records name can change (for a split: every lot and warrant), so
    only their rows are compared: those lots and warrants, every class, the payments and
    parties of the records taken back and applied again, and the positions of the lots and
    warrants whose rows differ (a position's rows are a function of those)."""
    book = live.book
    live.settle()  # its positions are the rows held: they stay so while the recording applies
    day = min(r.entry.effective for r in recording)
    undone = live.after(day)
    named: set[str] = set()
    split = False
    for record in [*(u.record for u in undone), *recording]:
        fields = record.entry.__dict__
        named.update(v for v in (fields.get(f) for f in NAMES) if isinstance(v, str))
        split = split or isinstance(record.entry, StockSplit)
    if split:
        named.update(book.lots)
        named.update(live.warrant_states)
    lots = {k: live.lot_rows(k) for k in named if k in book.lots}
    warrants = {k: live.warrant_rows(k) for k in named if k in live.warrant_states}
    before: RowSets = {t.name: set() for t in TABLES}
    for c in live.class_states:
        before["view_classes"].update(live.class_rows(c))
    if undone:
        before["view_payments"].update(live.payments[undone[0].payments:])
    for u in undone:
        before["view_parties"].update(live.parties_of(u.record.entry))

    after: RowSets = {t.name: set() for t in TABLES}
    for record in sorted([*live.rewind(day), *recording], key=timeline_key):  # new ones go last
        changed = live.apply(record)
        named.update(changed.lots)
        named.update(changed.warrants)
        after["view_payments"].update(changed.payments)
        after["view_parties"].update(changed.parties)
    for c in live.class_states:
        after["view_classes"].update(live.class_rows(c))
    positions: set[tuple[str, str]] = set()  # of the lots and warrants whose rows differ
    for ident in named:
        old_lot, new_lot = lots.get(ident), live.lot_rows(ident) if ident in book.lots else None
        if old_lot != new_lot:
            for lot, into in ((old_lot, before), (new_lot, after)):
                if lot is not None:
                    into["view_lots"].add(lot[0])
                    into["view_lot_segments"].update(lot[1])
                    positions.add((str(lot[0][1]), str(lot[0][2])))  # (holder, share class)
        old_w = warrants.get(ident)
        new_w = live.warrant_rows(ident) if ident in live.warrant_states else None
        if old_w != new_w:
            for rows, into in ((old_w, before), (new_w, after)):
                if rows is not None:
                    into["view_warrant_segments"].update(rows)
                    positions.update((str(r[1]), str(r[2])) for r in rows)
    # A position none of whose lots and warrants has rows that differ keeps its rows (held, and
    # cached in ``live.positions``): it is not derived again.
    live.stale &= positions
    for key in positions:
        before["view_positions"].update(live.positions.get(key, ()))
        live.stale.add(key)
        after["view_positions"].update(live.position_rows(key))
    return before, after


@dataclass
class Projector:
    store: LedgerStore
    recorder: ViewRecorder
    page_size: int = PAGE
    position: int | None = None  # the tracked position the caches below agree with
    issuers: dict[str, _Issuer] = field(default_factory=dict)
    _decoded: dict[int, RecordedEntry] = field(default_factory=dict)  # by ``page``, for ``project``

    # --- reading -------------------------------------------------------------------------

    def tracked(self) -> int:
        return self.recorder.max_tracking_id(VIEWS) or 0

    def page(self, after: int) -> list[Notification]:
        """The next notifications after ``after``, extended to the end of the last recording.
        The records decoded to find that end are kept for ``project`` (``_decoded``)."""
        select = self.store.app.recorder.select_notifications
        found = list(select(after, self.page_size, inclusive_of_start=False))
        if len(found) < self.page_size:
            return found  # the end of the log: recordings are committed whole
        last = self._decode(found[-1])
        while True:
            more = select(found[-1].id, self.page_size, inclusive_of_start=False)
            for n in more:
                if not self._same_recording(last, self._decode(n)):
                    return found
                found.append(n)
            if len(more) < self.page_size:
                return found

    def _decode(self, notification: Notification) -> RecordedEntry:
        record = self._decoded.get(notification.id)
        if record is None:
            record = self._decoded[notification.id] = self.store._decode(notification)
        return record

    @staticmethod
    def _same_recording(a: RecordedEntry, b: RecordedEntry) -> bool:
        return (a.issuer, a.recorded_at) == (b.issuer, b.recorded_at)

    def _state(self, issuer: str, first: RecordedEntry) -> _Issuer:
        """An issuer's projected log and current rows: cached, or reloaded after a restart.
        ``first`` is the issuer's first record in the page: if it starts the issuer's stream,
        after the tracked position, nothing of the issuer was projected (nothing to read)."""
        if issuer not in self.issuers:
            tracked = self.tracked() if self.position is None else self.position
            if first.sequence == 1 and first.position > tracked:
                self.issuers[issuer] = _Issuer([], {t.name: set() for t in TABLES})
            else:
                log = [r for r in self.store.entries(issuer) if r.position <= tracked]
                positions: dict[Key, list[Row]] = {}
                for row in self.recorder.select(current_statement(BY_NAME["view_positions"]), (issuer,)):
                    positions.setdefault((row[0], row[2]), []).append(row)  # (holder, share class)
                self.issuers[issuer] = _Issuer(log, None, lambda: self._held(issuer), positions)
        return self.issuers[issuer]

    def _held(self, issuer: str) -> RowSets:
        return {t.name: set(self.recorder.select(current_statement(t), (issuer,))) for t in TABLES}

    # --- writing -------------------------------------------------------------------------

    def catch_up(self, on_page: Callable[[int], None] | None = None) -> int:
        """Project everything recorded since the tracked position; returns how many events.
        ``on_page`` is told each committed page's last position (progress, tests)."""
        with collector_paused():  # see ``ledger.collector``
            return self._catch_up(on_page)

    def _catch_up(self, on_page: Callable[[int], None] | None) -> int:
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
        records = [self._decode(n) for n in notifications]
        self._decoded.clear()
        try:
            statements, recordings = self._changes(records)
            statements.insert(0, ("INSERT INTO view_recordings (issuer, sequence, position, recorded_at) "
                                  "VALUES (?, ?, ?, ?)", recordings))
            self.recorder.write(statements, Tracking(VIEWS, notifications[-1].id))
        except BaseException:
            # The caches were changed in place: drop them (the next catch-up reloads from the
            # tables, which the failed transaction left as they were).
            self.issuers, self.position = {}, None
            raise
        self.position = notifications[-1].id

    def _changes(self, records: list[RecordedEntry]) -> tuple[list[Statement], list[tuple[Any, ...]]]:
        """The statements that project ``records`` (changing the caches in place), and the rows
        of ``view_recordings`` for them."""
        statements: list[Statement] = []
        recordings: list[tuple[Any, ...]] = []
        firsts: dict[str, RecordedEntry] = {}
        for r in records:
            firsts.setdefault(r.issuer, r)
        for issuer, first in firsts.items():
            state = self._state(issuer, first)
            # A replayed page (already projected) only has to fail on its tracking record.
            known = state.log[-1].sequence if state.log else 0
            mine = [r for r in records if r.issuer == issuer and r.sequence > known]
            start = 0
            for i, record in enumerate(mine):
                recordings.append((issuer, record.sequence, record.position, moment(record.recorded_at)))
                if i + 1 == len(mine) or not self._same_recording(record, mine[i + 1]):
                    statements += state.add(issuer, mine[start:i + 1])
                    start = i + 1
        return statements, recordings


def changes(issuer: str, version: int, held: RowSets, wanted: RowSets) -> list[Statement]:
    """Close the rows no longer believed at ``version``; insert the rows newly believed."""
    statements: list[Statement] = []
    for t in TABLES:
        old, new = held.get(t.name, set()), wanted.get(t.name, set())
        keys = [t.names.index(k) for k in t.key]
        by_key = itemgetter(*keys)  # unique among current rows: a fixed order for the statements
        closed: list[Row] = sorted(old - new, key=by_key)
        opened: list[Row] = sorted(new - old, key=by_key)
        if closed:
            statements.append((close_statement(t),
                               [(version, issuer, *(r[k] for k in keys)) for r in closed]))
        if opened:
            statements.append((insert_statement(t), [(issuer, *r, version, CURRENT) for r in opened]))
    return statements
