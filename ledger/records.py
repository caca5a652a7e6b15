"""What the store adds to an entry: its issuer, recorded time and place in the log.

``sequence`` is the entry's place in its issuer's stream (1, 2, 3, ... in recorded order,
gapless); ``position`` is its place in the whole store's log (the global sequence number).
Timeline order is effective date, then ``sequence``: events of one effective date apply in
the order they were recorded, so the same log always gives the same figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from ledger.entries import AnyEntry


@dataclass(frozen=True, slots=True)
class RecordedEntry:
    issuer: str
    sequence: int
    position: int
    recorded_at: datetime
    entry: AnyEntry
    digest: str = ""  # its link in the issuer's hash chain (ledger.integrity); "" before storing

    @property
    def effective(self) -> date:
        return self.entry.effective


@dataclass(frozen=True, slots=True)
class StreamHead:
    """The last event of an issuer's stream: what the next recording appends after."""

    sequence: int
    digest: str
    recorded_at: datetime

    @classmethod
    def of(cls, record: RecordedEntry) -> StreamHead:
        return cls(record.sequence, record.digest, record.recorded_at)


def timeline_key(record: RecordedEntry) -> tuple[date, int]:
    """The order in which entries take effect: effective date, then recorded order."""
    return (record.entry.effective, record.sequence)
