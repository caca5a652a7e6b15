"""Consideration as of a date: what each holder paid the issuer and received back, per currency.

Money in is ``paid`` (purchases, exercises, warrant prices). Money out is ``refunded``
(rescissions), ``repurchased`` (buy-backs) and ``cash_in_lieu`` (fractional shares in splits
and conversions). ``net`` is paid minus everything out. A payment counts from its own date:
the refund of a rescission ab initio counts from the day it was paid, not the issue date.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from ledger.records import RecordedEntry
from ledger.state import Payment, PaymentKind
from ledger.values import money_totals
from projections.timeline import snapshot


@dataclass(frozen=True)
class HolderConsideration:
    holder: str
    paid: dict[str, Decimal]
    refunded: dict[str, Decimal]
    repurchased: dict[str, Decimal]
    cash_in_lieu: dict[str, Decimal]
    net: dict[str, Decimal]
    movements: list[Payment]


def _total(movements: list[Payment], kind: PaymentKind) -> dict[str, Decimal]:
    return money_totals([m.amount for m in movements if m.direction == kind])


def consideration(
    records: Iterable[RecordedEntry], as_of: date, known_at: datetime | None = None
) -> list[HolderConsideration]:
    book = snapshot(records, as_of, known_at).book
    by_holder: dict[str, list[Payment]] = {}
    for payment in sorted(book.payments, key=lambda p: p.effective):
        if payment.effective <= as_of:
            by_holder.setdefault(payment.holder, []).append(payment)
    result = []
    for holder, movements in sorted(by_holder.items()):
        paid = _total(movements, "paid")
        refunded, repurchased, in_lieu = (
            _total(movements, kind) for kind in ("refunded", "repurchased", "cash in lieu"))
        out = (refunded, repurchased, in_lieu)
        net = {cur: paid.get(cur, Decimal(0)) - sum((o.get(cur, Decimal(0)) for o in out), Decimal(0))
               for cur in sorted(set(paid).union(*out))}
        result.append(HolderConsideration(holder, paid, refunded, repurchased, in_lieu, net, movements))
    return result
