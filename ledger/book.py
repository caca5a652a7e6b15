"""Booking: fold entries, in timeline order, into the state of an issuer's securities.

The fold is the rule book. Applying an entry first checks it against the state just before
its effective date and raises ``RuleBroken`` (leaving the state untouched) if it breaks a
rule. The write side runs it over the whole timeline before storing anything
(``ledger.decisions``); the read side runs it over the entries of a date and a known-at
time (``projections``). One fold serves both, so what was accepted is what is reported.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ledger.entries import (
    AnyEntry,
    EntryCorrected,
    EntryVoided,
    IssuerCreated,
    PurchaseRescinded,
    RescindedAbInitio,
    ShareClassCreated,
    SharesCancelled,
    SharesConverted,
    SharesPurchased,
    SharesRepurchased,
    SharesTransferred,
    StakeholderAdded,
    StockSplit,
    WarrantAmended,
    WarrantCancelled,
    WarrantExercised,
    WarrantIssued,
    WarrantReissued,
)
from ledger.rules import parties, shares, warrants
from ledger.state import (
    Adjustment,
    Lot,
    Movement,
    Payment,
    RuleBroken,
    ShareClass,
    Warrant,
    WarrantStatus,
)
from ledger.values import format_shares as n

__all__ = [
    "Adjustment", "Book", "Lot", "Mark", "Movement", "Payment", "RuleBroken", "ShareClass",
    "Warrant", "WarrantStatus", "book_entries", "defined_ids",
]

# Fields of an entry that name a lot or a warrant it may change.
NAMES = ("lot", "new_lot", "warrant", "new_warrant", "security")


@dataclass(frozen=True, slots=True)
class Mark:
    """What ``Book.rewind`` needs to put the state back as it was before one entry: the size
    of every insert-only collection (inserts are undone by popping, newest first) and the
    changeable fields of every object the entry may change. Lists in the state are append-only
    (movements, entries, adjustments, payments), so a length is enough to undo them."""

    issuer: IssuerCreated | None
    sizes: tuple[int, int, int, int, int]  # holders, classes, lots, warrants, payments
    classes: tuple[tuple[ShareClass, int, int], ...]
    lots: tuple[tuple[Lot, int, int], ...]
    warrants: tuple[tuple[Warrant, dict[str, Any], int, int], ...]


@dataclass
class Book:
    issuer: IssuerCreated | None = None
    holders: dict[str, StakeholderAdded] = field(default_factory=dict)
    classes: dict[str, ShareClass] = field(default_factory=dict)
    lots: dict[str, Lot] = field(default_factory=dict)
    warrants: dict[str, Warrant] = field(default_factory=dict)
    payments: list[Payment] = field(default_factory=list)
    # Where each id is first defined on the whole timeline, to explain "not yet" errors.
    defined_later: dict[str, date] = field(default_factory=dict)

    def apply(self, entry: AnyEntry) -> None:
        """Check ``entry`` against the state before it and apply it; raise RuleBroken if it
        breaks a rule (the state is then unchanged: every check runs before any change).
        Corrections are not booked: ``ledger.timeline.resolve`` applies them beforehand."""
        if isinstance(entry, (EntryCorrected, EntryVoided)):
            raise TypeError(f"{entry.id!r}: resolve corrections before booking")
        if self.issuer is None and not isinstance(entry, IssuerCreated):
            raise RuleBroken(
                "unknown-issuer",
                f"no issuer is created on or before {entry.effective}: "
                "record an IssuerCreated entry first",
            )
        _HANDLERS[type(entry)](self, entry)

    # --- undo: what lets a writer insert a back-dated entry without booking everything again

    def mark(self, entry: AnyEntry) -> Mark:
        """The state ``entry`` may change, taken before applying it."""
        named = [v for v in (entry.__dict__.get(f) for f in NAMES) if isinstance(v, str)]
        if isinstance(entry, StockSplit):  # changes every lot and warrant of its class
            lots = [lot for lot in self.lots.values() if lot.share_class == entry.share_class]
            warrants = [w for w in self.warrants.values() if w.share_class == entry.share_class]
        else:
            lots = [self.lots[i] for i in named if i in self.lots]
            warrants = [self.warrants[i] for i in named if i in self.warrants]
        return Mark(
            self.issuer,
            (len(self.holders), len(self.classes), len(self.lots), len(self.warrants), len(self.payments)),
            tuple((c, c.outstanding, c.authorized) for c in self.classes.values()),
            tuple((lot, lot.remaining, len(lot.movements)) for lot in lots),
            tuple((w, dict(w.__dict__), len(w.entries), len(w.adjustments)) for w in warrants),
        )

    def rewind(self, mark: Mark) -> None:
        """Undo everything applied since ``mark`` was taken (marks are undone newest first)."""
        self.issuer = mark.issuer
        holders, classes, lots, warrants, payments = mark.sizes
        for table, size in ((self.holders, holders), (self.classes, classes), (self.lots, lots),
                            (self.warrants, warrants)):
            while len(table) > size:
                table.popitem()  # dicts pop their newest item: the inserts since the mark
        del self.payments[payments:]
        for c, outstanding, authorized in mark.classes:
            c.outstanding, c.authorized = outstanding, authorized
        for lot, remaining, movements in mark.lots:
            lot.remaining = remaining
            del lot.movements[movements:]
        for w, fields, entries, adjustments in mark.warrants:
            w.__dict__.update(fields)
            del w.entries[entries:]
            del w.adjustments[adjustments:]

    # --- lookups that explain themselves -----------------------------------------------

    def _missing(self, what: str, ident: str, day: date) -> RuleBroken:
        later = self.defined_later.get(ident)
        if later is not None and later > day:
            return RuleBroken(
                "before-it-exists",
                f"{what} {ident!r} only exists from {later}; this entry is effective {day}",
            )
        return RuleBroken(f"unknown-{what.replace(' ', '-')}", f"unknown {what} {ident!r}")

    def holder(self, holder: str, day: date) -> StakeholderAdded:
        if holder not in self.holders:
            raise self._missing("holder", holder, day)
        return self.holders[holder]

    def share_class(self, share_class: str, day: date) -> ShareClass:
        if share_class not in self.classes:
            raise self._missing("share class", share_class, day)
        return self.classes[share_class]

    def lot(self, lot: str, day: date) -> Lot:
        if lot not in self.lots:
            raise self._missing("lot", lot, day)
        return self.lots[lot]

    def lot_with(self, lot: str, quantity: int, day: date, verb: str) -> Lot:
        """A lot that still holds ``quantity`` shares on ``day``; ``verb`` names the action
        in the third person ("rescinds", "transfers") for the rule and the message."""
        found = self.lot(lot, day)
        if quantity > found.remaining:
            raise RuleBroken(
                f"{verb}-more-than-remains",
                f"{verb} {n(quantity)} shares of lot {lot!r} but only "
                f"{n(found.remaining)} of its {n(found.quantity)} remain on {day}",
            )
        return found

    def warrant(self, warrant: str, day: date) -> Warrant:
        if warrant not in self.warrants:
            raise self._missing("warrant", warrant, day)
        return self.warrants[warrant]

    def live_warrant(self, warrant: str, day: date, action: str) -> Warrant:
        """A warrant that can still be acted on at ``day``."""
        w = self.warrant(warrant, day)
        status = w.status_on(day)
        if status == "expired":
            raise RuleBroken(
                "warrant-not-outstanding",
                f"cannot {action} warrant {warrant!r} on {day}: it expired after {w.expires}",
            )
        if status != "outstanding":
            detail = f" and was replaced by {w.replaced_by!r}" if w.replaced_by else ""
            raise RuleBroken(
                "warrant-not-outstanding",
                f"cannot {action} warrant {warrant!r} on {day}: "
                f"it was {status} on {w.status_date}{detail}",
            )
        return w

    def new_security_id(self, ident: str) -> None:
        if ident in self.lots or ident in self.warrants:
            raise RuleBroken("duplicate-security", f"security id {ident!r} is already in use")

    def within_authorized(self, cls: ShareClass, quantity: int) -> None:
        if cls.outstanding + quantity > cls.authorized:
            raise RuleBroken(
                "exceeds-authorized",
                f"issuing {n(quantity)} {cls.share_class} shares would make "
                f"{n(cls.outstanding + quantity)} outstanding, above the "
                f"{n(cls.authorized)} authorized ({n(cls.outstanding)} outstanding before)",
            )


_HANDLERS: dict[type[Any], Callable[[Book, Any], None]] = {
    IssuerCreated: parties.issuer_created,
    StakeholderAdded: parties.stakeholder_added,
    ShareClassCreated: parties.share_class_created,
    SharesPurchased: shares.purchased,
    PurchaseRescinded: shares.rescinded,
    SharesTransferred: shares.transferred,
    SharesRepurchased: shares.repurchased,
    SharesCancelled: shares.cancelled,
    StockSplit: shares.split,
    SharesConverted: shares.converted,
    RescindedAbInitio: shares.rescinded_ab_initio,
    WarrantIssued: warrants.issued,
    WarrantAmended: warrants.amended,
    WarrantReissued: warrants.reissued,
    WarrantExercised: warrants.exercised,
    WarrantCancelled: warrants.cancelled,
}

# The attribute naming what each kind of entry creates.
_CREATES: dict[type[Any], str] = {
    StakeholderAdded: "holder",
    ShareClassCreated: "share_class",
    SharesPurchased: "lot",
    WarrantIssued: "warrant",
    WarrantReissued: "new_warrant",
    WarrantExercised: "lot",
    SharesTransferred: "new_lot",
    SharesConverted: "new_lot",
}


def defined_ids(entries: Iterable[AnyEntry]) -> dict[str, date]:
    """The earliest effective date of every id an entry creates (holders, classes, securities)."""
    defined: dict[str, date] = {}
    for e in entries:
        attr = _CREATES.get(type(e))
        if attr is not None:
            ident = getattr(e, attr)
            defined[ident] = min(e.effective, defined.get(ident, e.effective))
    return defined


def book_entries(entries: Iterable[AnyEntry]) -> Book:
    """Fold entries that are already in timeline order; a broken rule is a bug or a corrupt
    log here (the store only accepts timelines that book cleanly), so it propagates."""
    book = Book()
    for entry in entries:
        book.apply(entry)
    return book
