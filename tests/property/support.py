"""Shared helpers: records without a store, recording into a store, a settable clock."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from ledger.application import Ledger
from ledger.records import RecordedEntry
from tests.property.strategies import GeneratedLedger


@dataclass
class Clock:
    """The recorded time the next recording gets (the test sets it before each one)."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now


def pure_records(gen: GeneratedLedger) -> list[RecordedEntry]:
    """The records a store would hand back, built without one (for the pure laws)."""
    records: list[RecordedEntry] = []
    for batch, at in zip(gen.batches, gen.times, strict=True):
        for e in batch:
            n = len(records) + 1
            records.append(RecordedEntry(gen.issuer, n, n, at, e))
    return records


def record_all(gen: GeneratedLedger, location: str = ":memory:") -> Ledger:
    """A fresh ledger with every recording of ``gen`` made at its recorded time."""
    clock = Clock(gen.times[0])
    ledger = Ledger.open(location, clock=clock)
    for batch, at in zip(gen.batches, gen.times, strict=True):
        clock.now = at
        ledger.record(gen.issuer, batch)
    return ledger


def stored_form(records: Sequence[RecordedEntry]) -> list[tuple[int, datetime, dict[str, object]]]:
    return [(r.sequence, r.recorded_at, r.entry.content()) for r in records]


def around(days: Sequence[date]) -> list[date]:
    """Each date, the day before and the day after: where answers change and where not."""
    return sorted({d + timedelta(days=k) for d in days for k in (-1, 0, 1)})
