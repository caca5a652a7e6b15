"""The write side's public API: record entries for an issuer, read its log.

    ledger = Ledger.open("ledger.sqlite")
    outcome = ledger.record("neotherapeutics", entries)   # raises Rejected, storing nothing
    records = ledger.entries("neotherapeutics")          # what projections fold
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from eventsourcing.persistence import IntegrityError

from ledger import snapshots
from ledger.collector import collector_paused
from ledger.decisions import Fingerprint, Known, RecordedStream, Tail, decide
from ledger.entries import AnyEntry, IssuerCreated, parse_entry
from ledger.errors import NoLedger, Rejected, UnknownIssuer, Violation
from ledger.records import RecordedEntry, StreamHead
from ledger.snapshots import restore
from ledger.store import LedgerStore, is_file_location

# A concurrent writer took our versions: re-read, re-decide, try again after a short random
# pause (so that racing writers spread out instead of colliding again in lockstep).
RETRIES = 100


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Recorded:
    """What ``record`` did: entries stored (with their sequence numbers) and repeats skipped."""

    issuer: str
    stored: list[RecordedEntry]
    already_recorded: int


@dataclass
class Writer:
    """What recording on one issuer needs, kept between recordings: the stream's head, every
    recorded id, the booked state at the end of the timeline (None: book the log in full next
    time) and the version of the last snapshot written or read."""

    head: StreamHead | None = None
    known: dict[str, Known] = field(default_factory=dict)
    tail: Tail | None = None
    snapshot_at: int = 0
    prints: dict[str, Fingerprint] = field(default_factory=dict)  # fingerprints computed so far

    @property
    def version(self) -> int:
        return self.head.sequence if self.head else 0


class Ledger:
    """One open ledger. Recording keeps each issuer's ``Writer`` in memory, refreshed from the
    store before every decision, and starts a cold process from the newest snapshot
    (``ledger.snapshots``): recording in date order reads and books only what is new, however
    long the stream. ``entries`` reads (and keeps) the whole log, for the projections."""

    def __init__(self, store: LedgerStore, clock: Callable[[], datetime] = utc_now) -> None:
        self.store = store
        self.clock = clock
        self._logs: dict[str, list[RecordedEntry]] = {}
        self._writers: dict[str, Writer] = {}

    @classmethod
    def open(cls, location: str, clock: Callable[[], datetime] = utc_now, create: bool = True) -> Ledger:
        """``create=False`` refuses a missing SQLite file instead of creating an empty one
        (a mistyped path in a query must not leave a stray ledger behind)."""
        if not create and is_file_location(location) and not os.path.exists(location):
            raise NoLedger(location)
        return cls(LedgerStore(location), clock)

    def close(self) -> None:
        """Leave a snapshot for the next process where this one booked many entries since."""
        try:
            for issuer, writer in self._writers.items():
                with self.store.writer_lock(issuer):
                    self._snapshot_if_due(issuer, writer, snapshots.EVERY)
        finally:
            self.store.close()

    def issuers(self) -> list[str]:
        return self.store.issuers()

    def entries(self, issuer: str) -> list[RecordedEntry]:
        """The issuer's log in recorded order; raises UnknownIssuer for an empty stream."""
        log = self._logs.setdefault(issuer, [])
        log.extend(self.store.entries(issuer, after=log[-1].sequence if log else 0))
        if not log:
            raise UnknownIssuer(issuer, self.issuers())
        return list(log)

    # --- recording ---------------------------------------------------------------------------

    def record(self, issuer: str, entries: Sequence[AnyEntry]) -> Recorded:
        """Store all of ``entries`` or none. Raises Rejected listing every problem."""
        with self.store.writer_lock(issuer), collector_paused():
            return self._record(issuer, entries)

    def _record(self, issuer: str, entries: Sequence[AnyEntry]) -> Recorded:
        for attempt in range(1, RETRIES + 1):
            writer = self._writer(issuer)
            if writer.head is None and not any(isinstance(e, IssuerCreated) for e in entries):
                first = entries[0].id if entries else "(empty journal)"
                raise Rejected([Violation(
                    first, "unknown-issuer",
                    f"issuer {issuer!r} has no ledger yet (known: "
                    f"{', '.join(self.issuers()) or 'none'}); start with an IssuerCreated entry",
                )])
            decision = decide(issuer, self._recorded(issuer, writer), entries, writer.tail)
            writer.tail = decision.tail  # None unless clean: deciding may have changed the old one
            if decision.violations:
                self._writers.pop(issuer)  # start again from the store (and snapshot) next time
                raise Rejected(decision.violations)
            if not decision.accepted:
                return Recorded(issuer, [], decision.already_recorded)
            try:
                stored = self.store.append(issuer, writer.head, decision.accepted,
                                           self._recorded_time(writer.head))
            except IntegrityError:
                writer.tail = None  # it includes entries that were not stored
                time.sleep(random.uniform(0, 0.002 * min(attempt, 20)))
                continue  # another writer got there first; decide again on the new log
            self._catch_up(writer, stored)
            # While recording, only when the stream has grown by half since the last snapshot:
            # the cost of snapshots stays in proportion to the entries recorded (``close``
            # leaves one for the next process anyway).
            self._snapshot_if_due(issuer, writer, max(snapshots.EVERY, writer.version // 2))
            return Recorded(issuer, stored, decision.already_recorded)
        raise RuntimeError(f"could not record for {issuer!r}: {RETRIES} concurrent conflicts")

    def _writer(self, issuer: str) -> Writer:
        """The issuer's writer, brought up to date with what other writers have stored."""
        writer = self._writers.get(issuer)
        if writer is None:
            writer = self._writers[issuer] = self._from_snapshot(issuer) or Writer()
        self._catch_up(writer, self.store.entries(issuer, after=writer.version))
        return writer

    def _from_snapshot(self, issuer: str) -> Writer | None:
        found = self.store.latest_snapshot(issuer)
        snapshot = restore(issuer, *found) if found else None
        if snapshot is None:
            return None
        event = self.store.event_at(issuer, snapshot.head.sequence)
        if event is None or event.digest != snapshot.head.digest:
            return None  # the stream is not the one the snapshot was taken of
        return Writer(snapshot.head, snapshot.known, snapshot.tail, snapshot.head.sequence)

    @staticmethod
    def _catch_up(writer: Writer, new: list[RecordedEntry]) -> list[RecordedEntry]:
        """Add newly read records; book them on the tail if it can take them (entries the
        tail already includes, up to ``tail.version``, are not booked twice)."""
        if not new:
            return new
        writer.known.update((r.entry.id, r) for r in new)
        writer.head = StreamHead.of(new[-1])
        tail = writer.tail
        entries = [r.entry for r in new if tail is not None and r.sequence > tail.version]
        if tail is None or not entries:
            return new
        if tail.takes(entries) and not tail.insert(entries):
            tail.version = new[-1].sequence
        else:
            writer.tail = None  # rebuilt from the log by the next decision
        return new

    def _recorded(self, issuer: str, writer: Writer) -> RecordedStream:
        """The stream as a decision sees it: the whole log is read only if it must be."""
        def read_entry(sequence: int) -> AnyEntry:
            event = self.store.event_at(issuer, sequence)
            assert event is not None, (issuer, sequence)
            return parse_entry(event.entry)

        def read_log() -> Sequence[RecordedEntry]:
            # A writer that started from an empty stream holds the whole log already.
            held = [k for k in writer.known.values() if isinstance(k, RecordedEntry)]
            return held if len(held) == writer.version else self.store.entries(issuer)

        return RecordedStream(writer.version, writer.known, read_log, read_entry)

    def _snapshot_if_due(self, issuer: str, writer: Writer, every: int) -> None:
        """Write a snapshot once ``every`` entries have been recorded since the last one."""
        if writer.tail is None or writer.head is None or writer.tail.version != writer.version:
            return
        if writer.version - writer.snapshot_at < every:
            return
        image = snapshots.image(issuer, writer.head, writer.tail, writer.known, writer.prints)
        self.store.put_snapshot(issuer, writer.version, image)
        writer.snapshot_at = writer.version

    def _recorded_time(self, last: StreamHead | None) -> datetime:
        """Now, but strictly after the stream's last recorded time, so that "known at T"
        always separates one recording from the next, even under a coarse or skewed clock."""
        now = self.clock()
        if last is not None and now <= last.recorded_at:
            return last.recorded_at + timedelta(microseconds=1)
        return now
