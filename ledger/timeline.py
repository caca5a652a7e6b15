"""From a log of records to the timeline that is booked.

Two steps, both pure:
1. resolve: apply corrections and voids in recorded order. A corrected entry keeps its place
   in recorded order (its sequence) with the replacement's content; a voided one drops out.
   Filtering by known-at time first gives the ledger exactly as it was believed then.
2. order: by effective date, then sequence (events of one date apply in recorded order).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import date, datetime

from ledger.entries import EntryCorrected, EntryVoided
from ledger.records import RecordedEntry, timeline_key


def known_at(records: Iterable[RecordedEntry], moment: datetime | None) -> list[RecordedEntry]:
    return [r for r in records if moment is None or r.recorded_at <= moment]


def resolve(records: Iterable[RecordedEntry]) -> list[RecordedEntry]:
    """The book entries as they stand after every correction in ``records``."""
    current: dict[str, RecordedEntry] = {}
    for record in sorted(records, key=lambda r: r.sequence):
        entry = record.entry
        if isinstance(entry, EntryCorrected):
            if entry.target in current:  # decisions guarantee it; a corrupt log is skipped
                current[entry.target] = replace(current[entry.target], entry=entry.replacement)
        elif isinstance(entry, EntryVoided):
            current.pop(entry.target, None)
        else:
            current[entry.id] = record
    return list(current.values())


def timeline(
    records: Iterable[RecordedEntry], as_of: date | None = None, moment: datetime | None = None
) -> list[RecordedEntry]:
    """Book entries known at ``moment``, as corrected by then, effective by ``as_of``, in the
    order they apply."""
    resolved = resolve(known_at(records, moment))
    kept = [r for r in resolved if as_of is None or r.entry.effective <= as_of]
    kept.sort(key=timeline_key)
    return kept
