"""Holdings as of a date: per holder, class and lot, with each lot's lineage."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from ledger.records import RecordedEntry
from ledger.state import Lot
from projections.timeline import snapshot


@dataclass(frozen=True)
class Position:
    holder: str
    share_class: str
    lot: str
    acquired: date
    held_since: date
    acquired_shares: int
    rescinded: int
    shares: int
    origin: str
    from_warrant: str | None
    from_lot: str | None
    changes: dict[str, int]


def position(lot: Lot) -> Position:
    changes: dict[str, int] = {}
    for m in lot.movements[1:]:  # the first movement is the acquisition itself
        changes[m.kind] = changes.get(m.kind, 0) + m.shares
    return Position(lot.holder, lot.share_class, lot.lot, lot.acquired, lot.held_since, lot.quantity,
                    -lot.total("rescinded"), lot.remaining, lot.origin, lot.from_warrant,
                    lot.from_lot, changes)


def holdings(
    records: Iterable[RecordedEntry], as_of: date, known_at: datetime | None = None
) -> list[Position]:
    """Lots with shares remaining, ordered by holder, class, acquisition date and lot."""
    book = snapshot(records, as_of, known_at).book
    positions = [position(lot) for lot in book.lots.values() if lot.remaining > 0]
    return sorted(positions, key=lambda p: (p.holder, p.share_class, p.acquired, p.lot))


def shares_by_holder(positions: Iterable[Position]) -> dict[tuple[str, str], int]:
    """Total shares per (holder, class)."""
    totals: dict[tuple[str, str], int] = {}
    for p in positions:
        key = (p.holder, p.share_class)
        totals[key] = totals.get(key, 0) + p.shares
    return totals
