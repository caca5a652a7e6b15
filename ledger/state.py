"""The state booking builds: classes, lots, warrants and the money that moved.

Plain mutable dataclasses, private to one fold: ``ledger.book`` creates them, the rules in
``ledger.rules`` change them, projections read them and never keep them. Slotted, since a
fold of a long log holds millions of them (a tenth less memory, and faster, at 100k events).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Literal

from ledger.values import Money

WarrantStatus = Literal["outstanding", "surrendered", "exercised", "cancelled", "rescinded", "expired"]
LotChange = Literal[
    "acquired", "rescinded", "transferred", "repurchased", "cancelled", "converted", "split", "voided"
]
PaymentKind = Literal["paid", "refunded", "repurchased", "cash in lieu"]


class RuleBroken(Exception):
    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message


@dataclass(slots=True)
class ShareClass:
    share_class: str
    name: str
    authorized: int
    outstanding: int = 0


@dataclass(frozen=True, slots=True)
class Movement:
    """One change to a lot's share count, and the entry that made it."""

    entry: str
    effective: date
    kind: LotChange
    shares: int  # signed


@dataclass(slots=True)
class Lot:
    """Shares acquired together: by purchase, exercise, transfer in or conversion.

    ``held_since`` is where the holding period starts: the acquisition date, or for a lot
    received by transfer or conversion, the source lot's ``held_since`` (tacking).
    """

    lot: str
    holder: str
    share_class: str
    acquired: date
    quantity: int
    origin: str
    price_per_share: Money | None
    held_since: date
    from_warrant: str | None = None
    from_lot: str | None = None
    remaining: int = 0
    movements: list[Movement] = field(default_factory=list)

    @classmethod
    def acquire(
        cls, lot: str, holder: str, share_class: str, acquired: date, quantity: int, origin: str,
        price_per_share: Money | None, held_since: date, from_warrant: str | None = None,
        from_lot: str | None = None,
    ) -> Lot:
        """A new lot: every share remains; its first movement is the acquisition. (A plain
        constructor, with no side effects, is what lets a snapshot rebuild a lot as it was.)"""
        return cls(lot, holder, share_class, acquired, quantity, origin, price_per_share, held_since,
                   from_warrant, from_lot, remaining=quantity,
                   movements=[Movement(origin, acquired, "acquired", quantity)])

    def change(self, entry: str, day: date, kind: LotChange, shares: int) -> None:
        self.remaining += shares
        self.movements.append(Movement(entry, day, kind, shares))

    def total(self, kind: LotChange) -> int:
        return sum(m.shares for m in self.movements if m.kind == kind)

    @property
    def is_purchase(self) -> bool:
        return self.from_warrant is None and self.from_lot is None


@dataclass(frozen=True, slots=True)
class Adjustment:
    """A warrant's shares and price adjusted for a split: derived, never recorded by hand."""

    entry: str
    effective: date
    shares_before: int
    shares_after: int
    price_before: Money
    price_after: Money


@dataclass  # not slotted: ``Book.mark`` keeps and restores its fields through __dict__
class Warrant:
    warrant: str
    holder: str
    share_class: str
    issued: date
    shares: int
    exercise_price: Money
    exercisable_from: date
    expires: date | None
    origin: str
    exercised: int = 0
    status: WarrantStatus = "outstanding"
    status_date: date | None = None
    replaces: str | None = None
    replaced_by: str | None = None
    issued_for: str | None = None
    entries: list[str] = field(default_factory=list)
    adjustments: list[Adjustment] = field(default_factory=list)

    def status_on(self, day: date) -> WarrantStatus:
        """Expiry needs no event: an outstanding warrant is expired after its expiry date."""
        if self.status == "outstanding" and self.expires is not None and day > self.expires:
            return "expired"
        return self.status

    def status_since(self, day: date) -> date | None:
        if self.status_on(day) == "expired" and self.expires is not None:
            return self.expires + timedelta(days=1)
        return self.status_date

    def exercisable_on(self, day: date) -> bool:
        return self.status_on(day) == "outstanding" and self.exercisable_from <= day


@dataclass(frozen=True, slots=True)
class Payment:
    """Money between a holder and the issuer. ``paid`` is in; the others are out."""

    holder: str
    effective: date
    direction: PaymentKind
    amount: Money
    entry: str
    security: str
