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
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from eventsourcing.persistence import IntegrityError

from ledger.decisions import Decision, Tail, apply_all, decide
from ledger.entries import AnyEntry, IssuerCreated
from ledger.errors import NoLedger, Rejected, UnknownIssuer, Violation
from ledger.records import RecordedEntry
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


class Ledger:
    """One open ledger. It keeps each issuer's log and the booked state at its end in memory,
    refreshed from the store before every decision, so that a long-running process (a service,
    a bulk load, the benchmark) reads and books only what is new."""

    def __init__(self, store: LedgerStore, clock: Callable[[], datetime] = utc_now) -> None:
        self.store = store
        self.clock = clock
        self._logs: dict[str, list[RecordedEntry]] = {}
        self._ids: dict[str, dict[str, AnyEntry]] = {}  # each log's entries by id
        self._tails: dict[str, Tail] = {}

    @classmethod
    def open(cls, location: str, clock: Callable[[], datetime] = utc_now, create: bool = True) -> Ledger:
        """``create=False`` refuses a missing SQLite file instead of creating an empty one
        (a mistyped path in a query must not leave a stray ledger behind)."""
        if not create and is_file_location(location) and not os.path.exists(location):
            raise NoLedger(location)
        return cls(LedgerStore(location), clock)

    def close(self) -> None:
        self.store.close()

    def issuers(self) -> list[str]:
        return self.store.issuers()

    def entries(self, issuer: str) -> list[RecordedEntry]:
        """The issuer's log in recorded order; raises UnknownIssuer for an empty stream."""
        records = self._refresh(issuer)
        if not records:
            raise UnknownIssuer(issuer, self.issuers())
        return list(records)

    def _refresh(self, issuer: str) -> list[RecordedEntry]:
        """Read what other writers added since we last looked; keep the tail if it can take it."""
        log = self._logs.setdefault(issuer, [])
        new = self.store.entries(issuer, after=log[-1].sequence if log else 0)
        log.extend(new)
        self._ids.setdefault(issuer, {}).update((r.entry.id, r.entry) for r in new)
        tail = self._tails.get(issuer)
        entries = [r.entry for r in new if tail is not None and r.sequence > tail.version]
        if tail is not None and entries:
            ordered = sorted(entries, key=lambda e: e.effective)
            if tail.takes(entries) and apply_all(tail.book, ordered):
                tail.version = log[-1].sequence
                tail.last_effective = ordered[-1].effective
            else:
                del self._tails[issuer]
        return log

    def record(self, issuer: str, entries: Sequence[AnyEntry]) -> Recorded:
        """Store all of ``entries`` or none. Raises Rejected listing every problem."""
        with self.store.writer_lock(issuer):
            return self._record(issuer, entries)

    def _record(self, issuer: str, entries: Sequence[AnyEntry]) -> Recorded:
        for attempt in range(1, RETRIES + 1):
            recorded = list(self._refresh(issuer))  # a copy: the cached log grows on refresh
            if not recorded and not any(isinstance(e, IssuerCreated) for e in entries):
                first = entries[0].id if entries else "(empty journal)"
                raise Rejected([Violation(
                    first, "unknown-issuer",
                    f"issuer {issuer!r} has no ledger yet (known: "
                    f"{', '.join(self.issuers()) or 'none'}); start with an IssuerCreated entry",
                )])
            decision = decide(issuer, recorded, entries, self._tails.pop(issuer, None), self._ids[issuer])
            if decision.violations:
                raise Rejected(decision.violations)
            last = recorded[-1] if recorded else None
            if not decision.accepted:
                self._keep_tail(issuer, decision)
                return Recorded(issuer, [], decision.already_recorded)
            try:
                self.store.append(issuer, last, decision.accepted, self._recorded_time(last))
            except IntegrityError:
                time.sleep(random.uniform(0, 0.002 * min(attempt, 20)))
                continue  # another writer got there first; decide again on the new log
            self._keep_tail(issuer, decision)
            stored = self._refresh(issuer)[len(recorded):]
            return Recorded(issuer, stored, decision.already_recorded)
        raise RuntimeError(f"could not record for {issuer!r}: {RETRIES} concurrent conflicts")

    def _keep_tail(self, issuer: str, decision: Decision) -> None:
        """Keep the decision's end state for the next decision (``_refresh`` then reads back
        the entries just stored, versions up to tail.version, without applying them again)."""
        if decision.tail is not None:
            self._tails[issuer] = decision.tail

    def _recorded_time(self, last: RecordedEntry | None) -> datetime:
        """Now, but strictly after the stream's last recorded time, so that "known at T"
        always separates one recording from the next, even under a coarse or skewed clock."""
        now = self.clock()
        if last is not None and now <= last.recorded_at:
            return last.recorded_at + timedelta(microseconds=1)
        return now
