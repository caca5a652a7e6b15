"""Reading one issuer's stream with each event's global position, one small reader per backend.

The library reads a stream without notification ids and the notification log without a
stream filter; a ledger needs both at once (an issuer's entries, each with its global
sequence number), without scanning other issuers' events. Each reader below is the SQL the
library's own schema supports, behind one interface.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol
from uuid import UUID

from eventsourcing.persistence import AggregateRecorder, ApplicationRecorder, Notification
from eventsourcing.popo import POPOApplicationRecorder
from eventsourcing.sqlite import SQLiteAggregateRecorder, SQLiteApplicationRecorder

if TYPE_CHECKING:  # psycopg is an optional extra; imported only when PostgreSQL is used
    from eventsourcing.postgres import PostgresApplicationRecorder


class StreamReader(Protocol):
    def stream(self, originator_id: UUID, after: int = 0) -> list[Notification]:
        """The stream's events after version ``after``, in version order, each carrying its
        notification id."""

    def first_events(self) -> list[Notification]:
        """Version 1 of every stream: one per issuer."""


class SQLiteStreamReader:
    # In the library's SQLite table the rowid is the notification id; the primary key
    # (originator_id, originator_version) serves both the filter and the order.
    STREAM = (
        "SELECT rowid, originator_id, originator_version, topic, state FROM stored_events "
        "WHERE originator_id = ? AND originator_version > ? ORDER BY originator_version"
    )
    # Version 1 of each stream without scanning the table (no index starts with the version:
    # a scan cost 0.15 s of every cold query at 1M events): hop from one originator_id to the
    # next on the primary key, one index search per stream, then read each one's version 1.
    FIRSTS = (
        "WITH RECURSIVE streams(id) AS ("
        " SELECT MIN(originator_id) FROM stored_events"
        " UNION ALL"
        " SELECT (SELECT MIN(originator_id) FROM stored_events WHERE originator_id > streams.id)"
        " FROM streams WHERE streams.id IS NOT NULL) "
        "SELECT e.rowid, e.originator_id, e.originator_version, e.topic, e.state "
        "FROM streams JOIN stored_events e ON e.originator_id = streams.id AND e.originator_version = 1 "
        "ORDER BY e.rowid"
    )

    def __init__(self, recorder: SQLiteApplicationRecorder) -> None:
        self.recorder = recorder

    def _select(self, sql: str, params: tuple[Any, ...]) -> list[Notification]:
        with self.recorder.datastore.transaction(commit=False) as cursor:
            cursor.execute(sql, params)
            return [_notification(row[0], row[1], row[2], row[3], row[4]) for row in cursor.fetchall()]

    def stream(self, originator_id: UUID, after: int = 0) -> list[Notification]:
        return self._select(self.STREAM, (originator_id.hex, after))

    def first_events(self) -> list[Notification]:
        return self._select(self.FIRSTS, ())


class PostgresStreamReader:
    # notification_id is a bigserial column with a unique index; the primary key
    # (originator_id, originator_version) serves the filter and the order.
    STREAM = (
        "SELECT notification_id, originator_id, originator_version, topic, state FROM {table} "
        "WHERE originator_id = %s AND originator_version > %s ORDER BY originator_version"
    )
    # As SQLite's: one primary-key search per stream instead of a scan (ORDER BY ... LIMIT 1,
    # not MIN: PostgreSQL before 16 has no MIN over uuid).
    FIRSTS = (
        "WITH RECURSIVE streams(id) AS ("
        " (SELECT originator_id FROM {table} ORDER BY originator_id LIMIT 1)"
        " UNION ALL"
        " SELECT (SELECT t.originator_id FROM {table} t WHERE t.originator_id > streams.id"
        " ORDER BY t.originator_id LIMIT 1) FROM streams WHERE streams.id IS NOT NULL) "
        "SELECT e.notification_id, e.originator_id, e.originator_version, e.topic, e.state "
        "FROM streams JOIN {table} e ON e.originator_id = streams.id AND e.originator_version = 1 "
        "ORDER BY e.notification_id"
    )

    def __init__(self, recorder: PostgresApplicationRecorder) -> None:
        self.recorder = recorder
        self.table = f'"{recorder.datastore.schema}"."{recorder.events_table_name}"'

    def _select(self, sql: str, params: tuple[Any, ...]) -> list[Notification]:
        with self.recorder.datastore.transaction(commit=False) as cursor:
            cursor.execute(sql.format(table=self.table), params)
            return [
                _notification(r["notification_id"], r["originator_id"], r["originator_version"],
                              r["topic"], bytes(r["state"]))
                for r in cursor.fetchall()
            ]

    def stream(self, originator_id: UUID, after: int = 0) -> list[Notification]:
        return self._select(self.STREAM, (originator_id, after))

    def first_events(self) -> list[Notification]:
        return self._select(self.FIRSTS, ())


class MemoryStreamReader:
    """The in-memory recorder keeps a list (notification id = index + 1) and a per-stream index."""

    def __init__(self, recorder: POPOApplicationRecorder) -> None:
        self.recorder = recorder

    def _at(self, index: int) -> Notification:
        s = self.recorder._stored_events[index]
        return _notification(index + 1, s.originator_id, s.originator_version, s.topic, s.state)

    def stream(self, originator_id: UUID, after: int = 0) -> list[Notification]:
        with self.recorder._database_lock:
            by_version = self.recorder._stored_events_index.get(str(originator_id), {})
            return [self._at(by_version[v]) for v in sorted(by_version) if v > after]

    def first_events(self) -> list[Notification]:
        with self.recorder._database_lock:
            return [self._at(i) for i, s in enumerate(self.recorder._stored_events)
                    if s.originator_version == 1]


def prune_snapshots(recorder: AggregateRecorder, originator_id: UUID, before: int) -> None:
    """Delete a stream's snapshots older than version ``before``. Snapshots are a cache (the
    events stay the record), and each holds a whole booked state: keeping them all would grow
    the database by the ledger's size at every snapshot. The library has no delete, so this is
    the SQL for its schema. In memory they are left alone: they die with the process."""
    if isinstance(recorder, SQLiteAggregateRecorder):
        with recorder.datastore.transaction(commit=True) as cursor:
            cursor.execute(
                f"DELETE FROM {recorder.events_table_name} "
                "WHERE originator_id = ? AND originator_version < ?", (originator_id.hex, before))
    elif type(recorder).__module__ == "eventsourcing.postgres":
        pg: Any = recorder
        with pg.datastore.transaction(commit=True) as cursor:
            cursor.execute(
                f'DELETE FROM "{pg.datastore.schema}"."{pg.events_table_name}" '
                "WHERE originator_id = %s AND originator_version < %s", (originator_id, before))


def _notification(position: int, originator: Any, version: int, topic: str, state: bytes) -> Notification:
    ident = originator if isinstance(originator, UUID) else UUID(str(originator))
    return Notification(originator_id=ident, originator_version=version, topic=topic, state=state,
                        id=position)


def stream_reader(recorder: ApplicationRecorder) -> StreamReader:
    if isinstance(recorder, SQLiteApplicationRecorder):
        return SQLiteStreamReader(recorder)
    if type(recorder).__module__ == "eventsourcing.postgres":
        return PostgresStreamReader(recorder)  # type: ignore[arg-type]
    if isinstance(recorder, POPOApplicationRecorder):
        return MemoryStreamReader(recorder)
    raise TypeError(f"no stream reader for {type(recorder).__name__}")
