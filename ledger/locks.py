"""One writer at a time per issuer, across processes: a lock around decide-and-append.

Optimistic concurrency (the library's unique (stream, version) constraint) is always there
and catches any race, but under contention a writer whose decision is slow (a back-dated
entry re-books the timeline) can lose to fast writers again and again. Holding a per-issuer
lock while deciding and appending makes writers of one issuer take turns; writers of
different issuers never wait for each other.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol
from uuid import UUID


class IssuerLocks(Protocol):
    def hold(self, stream: UUID) -> Any:
        """A context manager holding the stream's writer lock."""

    def close(self) -> None: ...


def _slot(stream: UUID) -> int:
    return stream.int % (2**31 - 1)  # a byte offset (SQLite) or an advisory key (PostgreSQL)


class MemoryLocks:
    """In memory there is one process: a threading lock per issuer."""

    def __init__(self) -> None:
        self._locks: dict[UUID, threading.Lock] = {}
        self._guard = threading.Lock()

    @contextmanager
    def hold(self, stream: UUID) -> Iterator[None]:
        with self._guard:
            lock = self._locks.setdefault(stream, threading.Lock())
        with lock:
            yield

    def close(self) -> None:
        pass


class FileLocks:
    """SQLite: an fcntl byte-range lock in "<ledger file>.locks", one byte per issuer (the
    kernel releases it if the process dies)."""

    def __init__(self, ledger_path: str) -> None:
        self.path = f"{ledger_path}.locks"

    @contextmanager
    def hold(self, stream: UUID) -> Iterator[None]:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX, 1, _slot(stream))
            yield  # closing the descriptor releases the lock
        finally:
            os.close(fd)

    def close(self) -> None:
        pass


class AdvisoryLocks:
    """PostgreSQL: a session advisory lock keyed by the stream, on a connection of its own
    (the server releases it if the session dies)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._conn: Any = None

    @contextmanager
    def hold(self, stream: UUID) -> Iterator[None]:
        import psycopg

        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(self.url, autocommit=True)
        self._conn.execute("SELECT pg_advisory_lock(%s)", (_slot(stream),))
        try:
            yield
        finally:
            self._conn.execute("SELECT pg_advisory_unlock(%s)", (_slot(stream),))

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()


def issuer_locks(location: str) -> IssuerLocks:
    if location in (":memory:", "memory"):
        return MemoryLocks()
    if location.startswith(("postgresql://", "postgres://")):
        return AdvisoryLocks(location)
    return FileLocks(location)
