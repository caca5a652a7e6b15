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
from typing import Any, Literal, TypeVar
from urllib.parse import unquote, urlparse
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.application import Application
from eventsourcing.domain import DomainEvent
from eventsourcing.persistence import (
    AggregateRecorder,
    ApplicationRecorder,
    IntegrityError,
    InternalError,
    JSONTranscoder,
    Mapper,
    Notification,
    OperationalError,
    ProgrammingError,
    StoredEvent,
)
from eventsourcing.sqlite import SQLiteApplicationRecorder
from eventsourcing.utils import get_topic

from ledger.backends import prune_snapshots, stream_reader
from ledger.collector import collector_paused
from ledger.entries import AnyEntry, parse_entry
from ledger.errors import TargetNotEmpty
from ledger.integrity import (
    GENESIS,
    ChainCheck,
    ChainReport,
    StoredLink,
    chain_digest,
    own_sha256,
    plain_json,
)
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
    several processes create the same table at once ("tuple concurrently updated", a
    duplicate key in pg_type, or "relation ... already exists" for a table or an index another
    process created between the check and the create): it then exists, so trying again
    succeeds."""
    for attempt in range(1, attempts + 1):
        try:
            return create()
        except (IntegrityError, InternalError, OperationalError, ProgrammingError) as err:
            lost_race = not isinstance(err, ProgrammingError) or "already exists" in str(err)
            if attempt == attempts or not lost_race:
                raise
            time.sleep(0.05 * attempt)
    raise AssertionError("unreachable")


def _open_application(env: dict[str, str]) -> LedgerApplication:
    """The library creates its tables on open."""
    return tolerating_create_races(lambda: LedgerApplication(env=env))


Row = tuple[int, int, str, bytes]  # one stored event: position, version, topic, state
ENTRY_TOPIC = get_topic(EntryRecorded)


def _windows(select: Callable[[int, int | None], list[Row]], page: int) -> Iterator[list[Row]]:
    """A stream's rows in pages, by version windows: ``select(after, upto)`` gives the rows of
    versions in (after, upto], in order. A stream's versions are gapless, so a window of
    ``page`` versions holds ``page`` rows; a range bound on both sides keeps each query to its
    window whatever plan the database picks (PostgreSQL, without statistics on a freshly
    loaded table, sorts every later row for an ``ORDER BY ... LIMIT`` alone). Only when a
    window is empty does ``select(after, None)`` (the next ``page`` rows after ``after``,
    with a LIMIT) look further: past a gap of deleted rows, or at the end (no rows)."""
    after = 0
    while True:
        rows = select(after, after + page)
        if rows:
            yield rows
            after += page
            continue
        rows = select(after, None)
        if not rows:
            return
        yield rows
        after = rows[-1][1]


def _sqlite_pages(recorder: SQLiteApplicationRecorder, originator: UUID, page: int) -> Iterator[list[Row]]:
    # The library's SQLite table (``stored_events`` for this application): originator_id is
    # the UUID's hex text, the rowid is the notification id (the global position); the
    # primary key (originator_id, originator_version) serves the filter and the order.
    head = (f"SELECT rowid, originator_version, topic, state FROM {recorder.events_table_name} "
            "WHERE originator_id = ? AND originator_version > ? ")
    window = head + "AND originator_version <= ? ORDER BY originator_version"
    further = head + "ORDER BY originator_version LIMIT ?"

    def select(after: int, upto: int | None) -> list[Row]:
        with recorder.datastore.transaction(commit=False) as cursor:
            if upto is None:
                cursor.execute(further, (originator.hex, after, page))
            else:
                cursor.execute(window, (originator.hex, after, upto))
            rows: list[Row] = cursor.fetchall()
        return rows

    return _windows(select, page)


def _postgres_pages(recorder: ApplicationRecorder, originator: UUID, page: int) -> Iterator[list[Row]]:
    # The library's PostgreSQL table ("<schema>"."capledger_events": one table per
    # application): originator_id is a uuid column, notification_id a bigserial with a unique
    # index, state a bytea; the primary key (originator_id, originator_version) serves the
    # filter and the order. Plain tuples rather than the pool's dict rows (one dict fewer per
    # row), in binary format (bytea as it is stored, not as hex text).
    from psycopg.rows import tuple_row

    pg: Any = recorder
    head = ('SELECT notification_id, originator_version, topic, state '
            f'FROM "{pg.datastore.schema}"."{pg.events_table_name}" '
            "WHERE originator_id = %s AND originator_version > %s ")
    window = head + "AND originator_version <= %s ORDER BY originator_version"
    further = head + "ORDER BY originator_version LIMIT %s"

    def select(after: int, upto: int | None) -> list[Row]:
        with pg.datastore.transaction(commit=False) as cursor:
            cursor.row_factory = tuple_row
            if upto is None:
                cursor.execute(further, (originator, after, page), binary=True)
            else:
                cursor.execute(window, (originator, after, upto), binary=True)
            return [(p, v, t, s if type(s) is bytes else bytes(s)) for p, v, t, s in cursor.fetchall()]

    return _windows(select, page)


class ChainAudit:
    """One pass over an issuer's stored rows (``LedgerStore.audit_stream``): each row's link of
    the hash chain is verified and, with ``decode``, the row becomes its ``RecordedEntry``;
    iterating yields them in recorded order and stops at the first broken link. ``report``
    is then what ``integrity.verify`` reports for the same rows.

    Each row is decoded once. The common row takes the fast path: ``plain_json`` (the JSON the
    library's transcoder reads, without its per-object hook) and ``ChainCheck.fast`` (the
    digest over orjson's canonical bytes, then the entry parsed once, for the check and the
    record alike). Anything else goes the exact way: the library's decoding (``StoredLink``)
    and ``ChainCheck.link``, which decide and explain a broken link; a link is only ever
    accepted where that exact check would accept it, so reports do not depend on the path.
    Without ``decode`` (an audit that only reports) no records are made."""

    def __init__(self, store: LedgerStore, issuer: str, expect_head: str | None, page: int,
                 decode: bool) -> None:
        self.store = store
        self.issuer = issuer
        self.page = page
        self.decode = decode
        self.chain = ChainCheck(issuer, expect_head)
        self._started = self._done = False
        # The fast path reads the transcoder's JSON straight from the row: not for a store
        # whose rows are compressed or encrypted (``links`` does not decode those either).
        self._plain = plain_rows(store.app.mapper)
        self._times: dict[str, datetime] = {}  # recorded times by stored text: one per recording

    @property
    def report(self) -> ChainReport:
        if not self._done:
            raise RuntimeError("read the audit to its end first: a report covers the whole stream")
        return self.chain.report()

    def __iter__(self) -> Iterator[RecordedEntry]:
        if self._started:
            raise RuntimeError("an audit is read once")
        self._started = True
        for rows in self.store._pages(self.issuer, self.page):
            for row in rows:
                record: RecordedEntry | bool | None = self._fast(row) if self._plain else None
                if record is None:
                    record = self._exact(row)
                if record is False:  # a broken link: the report says which
                    self._done = True
                    return
                if record is not True:
                    assert record is not None
                    yield record
        self._done = True

    def _fast(self, row: Row) -> RecordedEntry | Literal[True] | None:
        """The row's record (True without ``decode``) if its link holds; None to go the exact
        way. The library's transcoder turns every object of exactly the keys _type_ and _data_
        into a value; only the row's ``timestamp`` is one (a datetime_iso), which is decoded
        here. With "_type_" once in the raw bytes and no \\u escape (which could spell it),
        no other object can be one, so ``plain_json`` decodes every other value as the
        library does."""
        position, sequence, topic, raw = row
        plain = _plain_state(topic, raw, self._times)
        if plain is None:  # not decodable here: the exact way decides what it is
            return None
        state, recorded_at = plain
        issuer = state["issuer"]
        entry = self.chain.fast(sequence, state, recorded_at)
        if entry is None:
            return None
        if not self.decode:
            return True
        if issuer == self.issuer:
            issuer = self.issuer  # one string for the whole stream, not one per record
        return RecordedEntry(issuer=issuer, sequence=sequence, position=position,
                             recorded_at=recorded_at, entry=entry, digest=state["digest"])

    def _exact(self, row: Row) -> RecordedEntry | bool:
        """The row decoded and checked as ``links`` and ``verify`` do it, then (with
        ``decode``) decoded as ``entries`` does it; False if its link is broken."""
        position, sequence, topic, raw = row
        notification = Notification(originator_id=stream_id(self.issuer), originator_version=sequence,
                                    topic=topic, state=raw, id=position)
        if self.chain.link(self.store._link(notification)) is None:
            return False
        return self.store._decode(notification) if self.decode else True


def plain_rows(mapper: Any) -> bool:
    """Whether the stored rows are the library's JSON as is (not compressed or encrypted)."""
    return (type(mapper) is Mapper and type(mapper.transcoder) is JSONTranscoder
            and mapper.cipher is None and mapper.compressor is None)


def _plain_state(topic: str, raw: bytes,
                 times: dict[str, datetime]) -> tuple[dict[str, Any], datetime] | None:
    """A row's state and recorded time, decoded by ``plain_json`` where that gives exactly what
    the library's transcoder gives (see ``ChainAudit._fast`` why); None where only the
    library's decoding will do. ``times`` caches recorded times by their text (one per
    recording)."""
    if topic != ENTRY_TOPIC or raw.count(b"_type_") != 1 or b"\\u" in raw:
        return None
    try:
        state = plain_json(raw)
        stamp = state["timestamp"]
        if type(stamp) is not dict or len(stamp) != 2 or stamp["_type_"] != "datetime_iso":
            return None
        text = stamp["_data_"]
        recorded_at = times.get(text)
        if recorded_at is None:
            if len(times) > 1024:
                times.clear()
            recorded_at = times[text] = datetime.fromisoformat(text)
        if "issuer" not in state:
            return None
    except Exception:
        return None
    return state, recorded_at


def _plain_record(n: Notification, issuer: str, times: dict[str, datetime]) -> RecordedEntry | None:
    """``LedgerStore._decode``'s record, read as ``ChainAudit._fast`` reads a row, without
    checking the chain; None where only the library's decoding will do."""
    plain = _plain_state(n.topic, n.state, times)
    if plain is None:
        return None
    state, recorded_at = plain
    try:
        entry = parse_entry(state["entry"])
        return RecordedEntry(issuer=issuer if state["issuer"] == issuer else state["issuer"],
                             sequence=n.originator_version, position=n.id, recorded_at=recorded_at,
                             entry=entry, digest=state.get("digest", ""))
    except Exception:  # not decodable here: the library's decoding decides (and raises)
        return None


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
        stream alone. Each row is read as the audit reads it (``_plain_record``) where it can
        be: half the cost of the library's decoding, which the rest goes through."""
        plain = plain_rows(self.app.mapper)
        times: dict[str, datetime] = {}
        return [(plain and _plain_record(n, issuer, times)) or self._decode(n)
                for n in self.reader.stream(stream_id(issuer), after)]

    def issuers(self) -> list[str]:
        # The issuer from each stream's first event as the library decodes it; its entry is not
        # validated (a cold query asks this first, and would otherwise build every validator).
        return sorted(self._issuer_of(n) for n in self.reader.first_events())

    def _issuer_of(self, notification: Notification) -> str:
        event = self.app.mapper.to_domain_event(notification)
        assert isinstance(event, EntryRecorded), notification.topic
        return event.issuer

    def links(self, issuer: str) -> list[StoredLink]:
        """The raw rows of a stream for chain verification: decoded as JSON only, so that a
        tampered row is reported rather than raising."""
        return [self._link(n) for n in self.reader.stream(stream_id(issuer))]

    def _link(self, n: Notification) -> StoredLink:
        try:
            state = self.app.mapper.transcoder.decode(n.state)
            recorded_at = state["timestamp"]
            assert isinstance(state, dict) and isinstance(recorded_at, datetime)
        except Exception:  # any undecodable row is exactly what verification reports
            state, recorded_at = None, None
        return StoredLink(n.id, n.originator_version, state, recorded_at)

    def audit_stream(self, issuer: str, expect_head: str | None = None, page: int = PAGE) -> ChainAudit:
        """The issuer's records in recorded order, each decoded once, right after its link of
        the hash chain is verified, read ``page`` rows at a time (memory: one page, plus what
        the caller keeps). Iteration stops at the first broken link; ``report`` afterwards
        is what ``verify(issuer, self.links(issuer), expect_head)`` returns."""
        return ChainAudit(self, issuer, expect_head, page, decode=True)

    def audit_entries(self, issuer: str, expect_head: str | None = None,
                      page: int = PAGE) -> tuple[list[RecordedEntry], ChainReport]:
        """``audit_stream`` into a list, for a caller that needs every record at once (a
        rebuild): the records up to the first broken link, and the report. The cyclic garbage
        collector is paused while the list grows: decoding makes no reference cycles, and a
        collection every few hundred new objects would otherwise scan again all the records
        kept so far (about 40% of the pass at 100,000 records)."""
        audit = self.audit_stream(issuer, expect_head, page)
        with collector_paused():
            records = list(audit)
        return records, audit.report

    def audit(self, issuer: str, expect_head: str | None = None, page: int = PAGE) -> ChainReport:
        """``verify(issuer, self.links(issuer), expect_head)`` in one streamed pass, keeping
        nothing but the chain's head."""
        audit = ChainAudit(self, issuer, expect_head, page, decode=False)
        for _ in audit:
            pass
        return audit.report

    def _pages(self, issuer: str, page: int) -> Iterator[list[Row]]:
        """The stream's rows, about ``page`` at a time in version order, as (position,
        version, topic, state). Each page is its own query (see ``_windows``), so no
        transaction stays open between pages; a writer appending meanwhile only makes the
        stream read longer."""
        recorder = self.app.recorder
        originator = stream_id(issuer)
        if isinstance(recorder, SQLiteApplicationRecorder):
            yield from _sqlite_pages(recorder, originator, page)
        elif type(recorder).__module__ == "eventsourcing.postgres":
            yield from _postgres_pages(recorder, originator, page)
        else:  # in memory: the reader's list, cut into pages
            rows = [(n.id, n.originator_version, n.topic, n.state) for n in self.reader.stream(originator)]
            for start in range(0, len(rows), page):
                yield rows[start:start + page]

    def append(
        self, issuer: str, after: StreamHead | RecordedEntry | None, entries: Sequence[AnyEntry],
        recorded_at: datetime,
    ) -> list[RecordedEntry]:
        """Store ``entries`` after ``after`` (the stream's last record, or None) in one
        transaction: all or none; returns them as stored (no need to read them back). Raises
        the library's IntegrityError if another writer took those versions first."""
        originator = stream_id(issuer)
        version = after.sequence if after else 0
        previous = after.digest if after else GENESIS
        events = []
        for entry in entries:
            version += 1
            content = entry.content()
            digest = chain_digest(previous, issuer, version, recorded_at, content, own_sha256)
            events.append(EntryRecorded(
                originator_id=originator, originator_version=version, timestamp=recorded_at,
                issuer=issuer, entry=content, previous=previous, digest=digest,
            ))
            previous = digest
        # The event store directly: ``Application.save`` only adds collecting events from
        # aggregates (a runtime protocol check per event: 20 us) and notifying followers,
        # neither of which applies to events made here.
        recordings = self.app.events.put(events)
        return [RecordedEntry(issuer, event.originator_version, recording.notification.id, recorded_at,
                              entry, event.digest)
                for entry, event, recording in zip(entries, events, recordings, strict=True)]

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

