"""Which entries count for a question, and in what order they apply.

"As of D" keeps entries effective on or before D (D itself included); "known at T" keeps
entries recorded at or before T, with the corrections recorded by then applied. What is
kept applies by effective date, then recorded sequence, whatever order the records arrive in
(see ``ledger.timeline``, which the write side's decisions use too).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from ledger.book import Book, book_entries
from ledger.records import RecordedEntry
from ledger.timeline import timeline


@dataclass(frozen=True)
class Snapshot:
    """The booked state of one issuer as of a date, as known at a time."""

    as_of: date
    known_at: datetime | None
    book: Book


def ordered(
    records: Iterable[RecordedEntry], as_of: date | None = None, known_at: datetime | None = None
) -> list[RecordedEntry]:
    """The corrected book entries that count, in the order they apply."""
    kept = timeline(records, as_of, known_at)
    issuers = {r.issuer for r in kept}
    if len(issuers) > 1:
        raise ValueError(f"records of several issuers mixed in one query: {sorted(issuers)}")
    return kept


def snapshot(
    records: Iterable[RecordedEntry], as_of: date, known_at: datetime | None = None
) -> Snapshot:
    return Snapshot(as_of, known_at, book_entries(r.entry for r in ordered(records, as_of, known_at)))
