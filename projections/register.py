"""The stockholder ledger (stock register) as of a date: every lot ever issued or received.

A lot stands where a certificate would: a holder, a class, the shares issued, the issue
date, the consideration paid to the issuer for it, and then each later change to it in the
order it applies (transfer out, rescission, repurchase, cancellation, conversion, split,
rescission ab initio) with the running balance. A lot received by transfer or conversion is
its own line, naming the lot it came from. Lots left with no shares stay in the register.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from ledger.book import Book, Lot, Movement, Payment
from ledger.entries import (
    AnyEntry,
    PurchaseRescinded,
    RescindedAbInitio,
    SharesCancelled,
    SharesConverted,
    SharesPurchased,
    SharesRepurchased,
    SharesTransferred,
    StockSplit,
    WarrantExercised,
)
from ledger.records import RecordedEntry
from ledger.values import Citation, Money
from ledger.values import format_shares as n
from projections.timeline import ordered, snapshot


@dataclass(frozen=True)
class RegisterEvent:
    effective: date
    event: str
    shares: int  # signed: + issued or received, - gone out
    balance: int
    amounts: list[Money]  # money to or from the issuer through this event, as of the date
    detail: str
    entry: str
    citation: Citation


@dataclass(frozen=True)
class RegisterLot:
    lot: str
    holder: str
    holder_name: str
    share_class: str
    issued: date
    shares_issued: int
    consideration: list[Money]
    source: str
    held_since: date
    outstanding: int
    events: list[RegisterEvent]


@dataclass(frozen=True)
class Register:
    issuer: str
    issuer_name: str
    as_of: date
    known_at: datetime | None
    classes: dict[str, str]
    lots: list[RegisterLot]


_ACQUIRED = {SharesPurchased: "issued", WarrantExercised: "issued on exercise",
             SharesTransferred: "transferred in", SharesConverted: "converted in"}
_EVENTS = {"rescinded": "rescinded", "transferred": "transferred out", "repurchased": "repurchased",
           "cancelled": "cancelled", "converted": "converted out", "split": "split",
           "voided": "rescinded ab initio"}


def _per_share(price: Money | None) -> str:
    return f" at {price} per share" if price is not None else ""


def lot_effect(e: AnyEntry, lot: Lot, m: Movement) -> str:
    """What entry ``e`` did to ``lot`` in movement ``m``, in words (figures exact)."""
    if isinstance(e, SharesPurchased):
        return f"purchased by {e.holder}{_per_share(e.price_per_share)} for {e.consideration}"
    if isinstance(e, WarrantExercised):
        return f"issued on exercise of warrant {e.warrant}{_per_share(lot.price_per_share)}"
    if isinstance(e, SharesTransferred):
        if m.kind == "acquired":
            return f"received by {e.to_holder} by transfer from lot {e.lot}{_per_share(e.price_per_share)}"
        return f"transferred to {e.to_holder} as lot {e.new_lot}{_per_share(e.price_per_share)}"
    if isinstance(e, SharesConverted):
        if m.kind == "acquired":
            return f"from converting {n(e.quantity)} shares of lot {e.lot} at {e.ratio}"
        return f"converted into {e.to_class} at {e.ratio} as lot {e.new_lot}"
    if isinstance(e, PurchaseRescinded):
        return f"rescinded; refund {e.refund_total} ({e.refund_per_share} per share)"
    if isinstance(e, SharesRepurchased):
        return f"repurchased by the issuer at {e.price_per_share} per share, {e.total}"
    if isinstance(e, SharesCancelled):
        return "cancelled without payment"
    if isinstance(e, StockSplit):
        cash = f"; fractions paid at {e.cash_per_share} per share" if e.cash_per_share else ""
        return f"{e.ratio} split of {e.share_class}{cash}"
    if isinstance(e, RescindedAbInitio):
        refund = f"; refund {e.refund_total}" if e.refund_total else ""
        return f"rescinded ab initio (void from the issue date){refund}"
    return e.type


def _source(lot: Lot) -> str:
    if lot.from_warrant:
        return f"exercise of warrant {lot.from_warrant}"
    if lot.from_lot:
        return f"from lot {lot.from_lot}"
    return "purchase from the issuer"


def _amounts(payments: list[Payment], entry: str, lot: str) -> list[Money]:
    return [p.amount for p in payments if p.entry == entry and p.security == lot]


def register_lot(lot: Lot, book: Book, by_id: dict[str, RecordedEntry], as_of: date) -> RegisterLot:
    payments = [p for p in book.payments if p.effective <= as_of]
    events, balance = [], 0
    for m in lot.movements:
        e = by_id[m.entry].entry
        balance += m.shares
        event = _ACQUIRED.get(type(e), "acquired") if m.kind == "acquired" else _EVENTS[m.kind]
        amounts = _amounts(payments, m.entry, lot.lot)
        events.append(RegisterEvent(m.effective, event, m.shares, balance, amounts, lot_effect(e, lot, m),
                                    m.entry, e.citation))
    paid = [p.amount for p in payments if p.security == lot.lot and p.direction == "paid"]
    return RegisterLot(lot.lot, lot.holder, book.holders[lot.holder].name, lot.share_class, lot.acquired,
                       lot.quantity, paid, _source(lot), lot.held_since, lot.remaining, events)


def register(records: Iterable[RecordedEntry], as_of: date, known_at: datetime | None = None) -> Register:
    """Every lot acquired on or before ``as_of``, in issue order (date, then lot id)."""
    records = list(records)
    by_id = {r.entry.id: r for r in ordered(records, as_of, known_at)}
    book = snapshot(records, as_of, known_at).book
    lots = sorted(book.lots.values(), key=lambda lot: (lot.acquired, lot.lot))
    issuer = book.issuer
    return Register(
        issuer.issuer if issuer else "", issuer.name if issuer else "", as_of, known_at,
        {c.share_class: c.name for c in book.classes.values()},
        [register_lot(lot, book, by_id, as_of) for lot in lots],
    )
