"""The event store: each issuer's entries as one stream in an ``eventsourcing`` application.

An issuer's ledger is an append-only stream of ``EntryRecorded`` events (one per entry),
written without rebuilding any aggregate: the next version number is the only state a
writer needs, and the library's unique (stream, version) constraint makes a racing writer
fail instead of interleaving. The entry is stored as its canonical JSON (Decimal and dates as
strings) so figures come back exactly as stated.

Where the store lives is one setting, a *location*:
  ``path/to/ledger.sqlite``   an SQLite file (the default; created on first use)
  ``:memory:``                in memory, for tests
  ``postgresql://user@host:port/dbname``  a PostgreSQL database
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import Any, TypeVar
from urllib.parse import unquote, urlparse
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.application import Application
from eventsourcing.domain import DomainEvent
from eventsourcing.persistence import (
    AggregateRecorder,
    IntegrityError,
    InternalError,
    Notification,
    OperationalError,
    StoredEvent,
)

from ledger.backends import prune_snapshots, stream_reader
from ledger.entries import AnyEntry, parse_entry
from ledger.errors import TargetNotEmpty
from ledger.integrity import GENESIS, StoredLink, chain_digest
from ledger.locks import issuer_locks
from ledger.records import RecordedEntry, StreamHead

T = TypeVar("T")

PAGE = 5_000  # notifications read per query while scanning the log
SNAPSHOT_TOPIC = "capledger:snapshot"  # the stored row's topic; the image carries its format


@dataclass(frozen=True)
class EntryRecorded(DomainEvent):
    """The stored event. ``timestamp`` (from DomainEvent) is the recorded time, in UTC."""

    issuer: str
    entry: dict[str, Any]
    previous: str  # the hash chain (ledger.integrity): the digest of the event before
    digest: str


class LedgerApplication(Application[UUID]):
    name = "capledger"


def stream_id(issuer: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"capledger:issuer:{issuer}")


def snapshot_id(issuer: str) -> UUID:
    """Snapshots go under an id of their own, not the stream's: they are not the library's
    aggregate snapshots, and ``repository.get`` must never mistake one for its own."""
    return uuid5(NAMESPACE_URL, f"capledger:issuer-snapshot:{issuer}")


def is_file_location(location: str) -> bool:
    return location not in (":memory:", "memory") and not location.startswith(
        ("postgresql://", "postgres://"))


def environment(location: str) -> dict[str, str]:
    """Translate a location into the library's settings (they win over stray env vars)."""
    if location in (":memory:", "memory"):
        return {"PERSISTENCE_MODULE": "eventsourcing.popo", "IS_SNAPSHOTTING_ENABLED": "y"}
    if location.startswith(("postgresql://", "postgres://")):
        url = urlparse(location)
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": url.path.lstrip("/") or "postgres",
            "POSTGRES_HOST": url.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(url.port or 5432),
            "POSTGRES_USER": unquote(url.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(url.password or ""),
            "POSTGRES_LOCK_TIMEOUT": "10",  # seconds; the library's default 0 waits forever
            # Insert a recording with one INSERT ... SELECT FROM unnest(...) in a database
            # function. The library's default pipelined executemany deadlocks on large journals
            # (tens of thousands of events): both sides' socket buffers fill and neither reads.
            "POSTGRES_ENABLE_DB_FUNCTIONS": "y",
            "CREATE_TABLE": "y",
            "IS_SNAPSHOTTING_ENABLED": "y",  # a table for ledger.snapshots
        }
    return {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": location,
        "CREATE_TABLE": "y",
        "IS_SNAPSHOTTING_ENABLED": "y",  # a table for ledger.snapshots
    }


def tolerating_create_races(create: Callable[[], T], attempts: int = 5) -> T:
    """Run ``create``, which issues CREATE TABLE IF NOT EXISTS. PostgreSQL can refuse that when
    several processes create the same table at once ("tuple concurrently updated", or a
    duplicate key in pg_type): the table then exists, so trying again succeeds."""
    for attempt in range(1, attempts + 1):
        try:
            return create()
        except (IntegrityError, InternalError, OperationalError):
            if attempt == attempts:
                raise
            time.sleep(0.05 * attempt)
    raise AssertionError("unreachable")


def _open_application(env: dict[str, str]) -> LedgerApplication:
    """The library creates its tables on open."""
    return tolerating_create_races(lambda: LedgerApplication(env=env))


class LedgerStore:
    """Reads and appends issuer streams. Knows nothing of the rules (see ``ledger.decisions``)."""

    def __init__(self, location: str) -> None:
        self.location = location
        self.app = _open_application(environment(location))
        self.reader = stream_reader(self.app.recorder)
        self.locks = issuer_locks(location)

    def close(self) -> None:
        self.locks.close()
        self.app.close()

    def writer_lock(self, issuer: str) -> Any:
        """Held while deciding and appending, so writers of one issuer take turns."""
        return self.locks.hold(stream_id(issuer))

    def _notifications(self) -> Iterator[Notification]:
        start = 0
        while True:
            page = self.app.recorder.select_notifications(start, PAGE, inclusive_of_start=False)
            yield from page
            if len(page) < PAGE:
                return
            start = page[-1].id

    def _decode(self, notification: Notification) -> RecordedEntry:
        event = self.app.mapper.to_domain_event(notification)
        assert isinstance(event, EntryRecorded), notification.topic
        return RecordedEntry(
            issuer=event.issuer,
            sequence=event.originator_version,
            position=notification.id,
            recorded_at=event.timestamp,
            entry=parse_entry(event.entry),
            digest=getattr(event, "digest", ""),  # "" in ledgers written before the chain
        )

    def all_entries(self) -> list[RecordedEntry]:
        """Every stored entry of every issuer, in recorded (global) order."""
        return [self._decode(n) for n in self._notifications()]

    def entries(self, issuer: str, after: int = 0) -> list[RecordedEntry]:
        """One issuer's entries (after sequence ``after``) in recorded order, read from its
        stream alone."""
        return [self._decode(n) for n in self.reader.stream(stream_id(issuer), after)]

    def issuers(self) -> list[str]:
        return sorted(self._decode(n).issuer for n in self.reader.first_events())

    def links(self, issuer: str) -> list[StoredLink]:
        """The raw rows of a stream for chain verification: decoded as JSON only, so that a
        tampered row is reported rather than raising."""
        links = []
        for n in self.reader.stream(stream_id(issuer)):
            try:
                state = self.app.mapper.transcoder.decode(n.state)
                recorded_at = state["timestamp"]
                assert isinstance(state, dict) and isinstance(recorded_at, datetime)
            except Exception:  # any undecodable row is exactly what verification reports
                state, recorded_at = None, None
            links.append(StoredLink(n.id, n.originator_version, state, recorded_at))
        return links

    def append(
        self, issuer: str, after: StreamHead | RecordedEntry | None, entries: Sequence[AnyEntry],
        recorded_at: datetime,
    ) -> None:
        """Store ``entries`` after ``after`` (the stream's last record, or None) in one
        transaction: all or none. Raises the library's IntegrityError if another writer
        took those versions first."""
        originator = stream_id(issuer)
        version = after.sequence if after else 0
        previous = after.digest if after else GENESIS
        events = []
        for entry in entries:
            version += 1
            content = entry.content()
            digest = chain_digest(previous, issuer, version, recorded_at, content)
            events.append(EntryRecorded(
                originator_id=originator, originator_version=version, timestamp=recorded_at,
                issuer=issuer, entry=content, previous=previous, digest=digest,
            ))
            previous = digest
        self.app.save(*events)

    def event_at(self, issuer: str, sequence: int) -> EntryRecorded | None:
        """One stored event, read alone (no scan of the stream)."""
        stored = self.app.recorder.select_events(stream_id(issuer), gt=sequence - 1, lte=sequence)
        if not stored:
            return None
        event = self.app.mapper.to_domain_event(stored[0])
        assert isinstance(event, EntryRecorded), stored[0].topic
        return event

    # --- snapshots: ledger.snapshots says what is in one; here they are opaque bytes -------

    def _snapshots(self) -> AggregateRecorder:
        assert self.app.snapshots is not None, "IS_SNAPSHOTTING_ENABLED is set by environment()"
        return self.app.snapshots.recorder

    def put_snapshot(self, issuer: str, version: int, image: bytes) -> None:
        """Keep ``image`` as the issuer's snapshot at ``version`` and drop older ones. If a
        snapshot of that version is already there (another writer's), it stays."""
        stored = StoredEvent(originator_id=snapshot_id(issuer), originator_version=version,
                             topic=SNAPSHOT_TOPIC, state=image)
        try:
            self._snapshots().insert_events([stored])
        except IntegrityError:
            return
        prune_snapshots(self._snapshots(), snapshot_id(issuer), before=version)

    def latest_snapshot(self, issuer: str) -> tuple[int, bytes] | None:
        """The issuer's newest snapshot: (version, image), or None."""
        rows = self._snapshots().select_events(snapshot_id(issuer), desc=True, limit=1)
        if not rows or rows[0].topic != SNAPSHOT_TOPIC:
            return None
        return rows[0].originator_version, rows[0].state

    def copy_to(self, target: LedgerStore, progress: Callable[[int], None] = lambda n: None) -> int:
        """Copy every stored event, byte for byte and in the global order, into ``target``,
        which must hold none (a copy never merges). Sequences, recorded times and the hash
        chain come across unchanged; global positions are the target's own. Snapshots do not
        (a cache, rebuilt there). One transaction per page: a copy cut short leaves a partial
        target, which the caller discards before trying again. Returns the events copied."""
        if target.app.recorder.max_notification_id():
            raise TargetNotEmpty(target.location)
        copied = 0
        notifications = self._notifications()
        while page := [StoredEvent(originator_id=n.originator_id, originator_version=n.originator_version,
                                   topic=n.topic, state=n.state) for n in islice(notifications, PAGE)]:
            target.app.recorder.insert_events(page)
            copied += len(page)
            progress(copied)
        return copied

