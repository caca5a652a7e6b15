"""Where the views live: one small recorder per backend, behind one interface.

Each is the library's own tracking recorder (so its tracking table and its exactly-once
insert, which raises IntegrityError for a position at or below the one recorded) with the
view tables added to the tables it creates, and one ``write`` that runs a page's statements
and the tracking record in a single transaction.

  SQLite ledger     -> the same file, through the application's own datastore (one pool)
  PostgreSQL ledger -> the same database, through the application's own datastore
  in-memory ledger  -> a private in-memory SQLite database: the events live in Python
                       objects, which have no tables and no transactions to join, and the
                       views must die with them anyway

Creating the tables also checks their layout (``schema.SCHEMA``, kept in ``view_schema``). When
the mark is another number, or missing (views made before it existed), every view table is
dropped and created again, and this projector's tracking record is deleted, in the same
transaction: the next catch-up projects the whole log from the start, as on a new ledger.
A layout that differs in indexes only (``INDEXES_ONLY``) keeps its rows and gets the new
indexes instead, in the same transaction (seconds, where re-projecting a million events takes
a quarter of an hour).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol
from uuid import uuid4

from eventsourcing.persistence import ApplicationRecorder, Tracking
from eventsourcing.popo import POPOApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteDatastore, SQLiteTrackingRecorder

from ledger.store import tolerating_create_races
from projections.materialized.schema import (
    POSTGRES,
    SCHEMA,
    SQLITE,
    VIEWS,
    Dialect,
    create_statements,
    drop_statements,
)

Statement = tuple[str, list[tuple[Any, ...]]]  # SQL with '?' marks, and its parameter rows
# Every statement is written with '?' marks; the PostgreSQL recorder turns them into '%s'.

# The layout mark: one row, the number of the layout the view tables were created with.
SCHEMA_TABLE = "CREATE TABLE IF NOT EXISTS view_schema (version INTEGER NOT NULL)"
SCHEMA_READ = "SELECT MAX(version) AS version FROM view_schema"


# Layouts that differ from this one in indexes only: dropping the indexes listed here and
# creating what is missing brings their tables up to date, with the rows they hold.
INDEXES_ONLY = {
    # Layout 3 made the holder indexes of view_lots and view_lot_segments covering.
    2: ("view_lots_by_holder", "view_lot_segments_by_holder"),
}


def _migrate(cursor: Any, dialect: Dialect, tracking_table: str, create: Callable[[], None]) -> None:
    """In ``create_table``'s transaction: if the view tables carry another layout, drop them
    (or only their changed indexes, for a layout in ``INDEXES_ONLY``); create every table and
    index (``create``); then, where the tables were dropped, reset this projector's tracking,
    so the next catch-up projects the log again from the start."""
    cursor.execute(dialect.sql(SCHEMA_READ))
    found = cursor.fetchone()["version"]
    reindex = INDEXES_ONLY.get(found, ()) if found != SCHEMA else ()
    stale = found != SCHEMA and not reindex
    for index in reindex:
        cursor.execute(f"DROP INDEX IF EXISTS {index}")
    if stale:
        for statement in drop_statements():
            cursor.execute(statement)
    create()  # the library's tracking table and the view tables (CREATE ... IF NOT EXISTS)
    if stale:
        cursor.execute(dialect.sql(f"DELETE FROM {tracking_table} WHERE application_name = ?"), (VIEWS,))
    if found != SCHEMA:
        cursor.execute("DELETE FROM view_schema")
        cursor.execute(dialect.sql("INSERT INTO view_schema (version) VALUES (?)"), (SCHEMA,))


class ViewRecorder(Protocol):
    dialect: Dialect

    def create_table(self) -> None: ...

    def max_tracking_id(self, application_name: str) -> int | None: ...

    def write(self, statements: Sequence[Statement], tracking: Tracking) -> None:
        """The tracking record first (a replayed position fails before any change), then the
        statements, all in one transaction: all of a page or none of it."""

    def select(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        """One statement. Reads need no transaction: rows for a fixed version never change."""


class SQLiteViewRecorder(SQLiteTrackingRecorder):
    dialect = SQLITE

    def construct_create_table_statements(self) -> list[str]:
        return [*super().construct_create_table_statements(), *create_statements(SQLITE)]

    def _create_table(self, c: Any) -> None:
        # One transaction (the library's). Two processes opening old tables at once: the
        # second fails to take the write lock ("database is locked"), and tries again
        # (``tolerating_create_races``) to find the tables new.
        c.execute(SCHEMA_TABLE)
        _migrate(c, SQLITE, "tracking", lambda: super(SQLiteViewRecorder, self)._create_table(c))

    def write(self, statements: Sequence[Statement], tracking: Tracking) -> None:
        with self.datastore.transaction(commit=True) as cursor:
            self._insert_tracking(cursor, tracking)
            for sql, rows in statements:
                cursor.executemany(sql, rows)

    def select(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        with self.datastore.transaction(commit=False) as cursor:
            plain = cursor.sqlite_cursor
            plain.row_factory = None  # tuples as they come (the pool's sqlite3.Row costs a copy)
            plain.execute(sql, tuple(params))
            return plain.fetchall()


def _postgres_recorder(datastore: Any) -> ViewRecorder:
    # Imported here: psycopg is an optional extra, needed only for a PostgreSQL ledger.
    from eventsourcing.postgres import PostgresTrackingRecorder
    from psycopg.sql import SQL, Composed

    class PostgresViewRecorder(PostgresTrackingRecorder):
        dialect = POSTGRES

        def __init__(self, datastore: Any) -> None:
            super().__init__(datastore, tracking_table_name="view_tracking")
            self.sql_create_statements += [Composed([SQL(s)]) for s in create_statements(POSTGRES)]

        def _create_table(self, curs: Any) -> None:
            # One transaction (the library's). The lock makes a second process opening old
            # tables wait for the first to commit, then find them new.
            curs.execute(SCHEMA_TABLE)
            curs.execute("LOCK TABLE view_schema IN EXCLUSIVE MODE")
            tracking = f'"{self.datastore.schema}"."{self.tracking_table_name}"'  # as the library's
            _migrate(curs, POSTGRES, tracking, lambda: super(PostgresViewRecorder, self)._create_table(curs))

        def write(self, statements: Sequence[Statement], tracking: Tracking) -> None:
            with self.datastore.transaction(commit=True) as cursor:
                self._insert_tracking(cursor, tracking)
                for sql, rows in statements:
                    cursor.executemany(POSTGRES.sql(sql).encode(), rows)

        def select(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
            # One statement on an autocommit connection: one round trip, no BEGIN/ROLLBACK.
            with self.datastore.get_connection() as conn, conn.cursor() as cursor:
                cursor.execute(POSTGRES.sql(sql).encode(), tuple(params))
                return [tuple(row.values()) for row in cursor.fetchall()]

    return PostgresViewRecorder(datastore)


def view_recorder(app_recorder: ApplicationRecorder) -> ViewRecorder:
    """The view recorder beside a ledger's event recorder; creates its tables."""
    recorder: ViewRecorder
    if isinstance(app_recorder, SQLiteApplicationRecorder):
        recorder = SQLiteViewRecorder(app_recorder.datastore)
    elif type(app_recorder).__module__ == "eventsourcing.postgres":
        recorder = _postgres_recorder(app_recorder.datastore)  # type: ignore[attr-defined]
    elif isinstance(app_recorder, POPOApplicationRecorder):
        # A name of its own, shared by the pool's connections and by nothing else.
        name = f"file:capledger-views-{uuid4().hex}?mode=memory&cache=shared"
        recorder = SQLiteViewRecorder(SQLiteDatastore(name))
    else:
        raise TypeError(f"no view recorder for {type(app_recorder).__name__}")
    tolerating_create_races(recorder.create_table)
    return recorder
