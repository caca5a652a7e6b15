"""The fully diluted cap table as of a date.

Fully diluted = outstanding shares + shares under outstanding warrants, whether or not they
are exercisable yet (the usual convention: an unvested right still dilutes). A surrendered
warrant counts zero; its replacement carries the shares, so they count once.
Percentages are derived figures: exact ratios rounded half-even to 4 decimal places.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal

from ledger.records import RecordedEntry
from projections.timeline import snapshot

PERCENT_PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class CapTableRow:
    holder: str
    name: str
    shares: dict[str, int]
    warrant_shares: int
    fully_diluted: int
    percent_fully_diluted: Decimal


@dataclass(frozen=True)
class CapTable:
    issuer: str
    as_of: date
    known_at: datetime | None
    authorized: dict[str, int]
    outstanding: dict[str, int]
    warrant_shares: int
    fully_diluted: int
    rows: list[CapTableRow]


def percent(part: int, whole: int) -> Decimal:
    if whole == 0:
        return Decimal(0).quantize(PERCENT_PLACES)
    return (Decimal(part) * 100 / Decimal(whole)).quantize(PERCENT_PLACES, ROUND_HALF_EVEN)


def cap_table(
    records: Iterable[RecordedEntry], as_of: date, known_at: datetime | None = None
) -> CapTable:
    book = snapshot(records, as_of, known_at).book
    shares: dict[str, dict[str, int]] = {}
    for lot in book.lots.values():
        if lot.remaining:
            by_class = shares.setdefault(lot.holder, {})
            by_class[lot.share_class] = by_class.get(lot.share_class, 0) + lot.remaining
    warrant_shares: dict[str, int] = {}
    for w in book.warrants.values():
        if w.status_on(as_of) == "outstanding":
            warrant_shares[w.holder] = warrant_shares.get(w.holder, 0) + w.shares
    total = sum(sum(c.values()) for c in shares.values()) + sum(warrant_shares.values())
    rows = []
    for holder in sorted(shares.keys() | warrant_shares.keys()):
        fd = sum(shares.get(holder, {}).values()) + warrant_shares.get(holder, 0)
        rows.append(CapTableRow(
            holder, book.holders[holder].name, dict(sorted(shares.get(holder, {}).items())),
            warrant_shares.get(holder, 0), fd, percent(fd, total),
        ))
    issuer = book.issuer.issuer if book.issuer else ""
    return CapTable(
        issuer, as_of, known_at,
        {c.share_class: c.authorized for c in book.classes.values()},
        {c.share_class: c.outstanding for c in book.classes.values()},
        sum(warrant_shares.values()), total, rows,
    )
