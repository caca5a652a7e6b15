"""Warrants: issue, amendment, reissue or exchange, exercise, cancellation, split adjustment."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from ledger.entries import (
    RescindedAbInitio,
    StockSplit,
    WarrantAmended,
    WarrantCancelled,
    WarrantExercised,
    WarrantIssued,
    WarrantReissued,
)
from ledger.state import Adjustment, Lot, Payment, RuleBroken, Warrant
from ledger.values import Money
from ledger.values import format_shares as n

if TYPE_CHECKING:
    from ledger.book import Book

PRICE_PLACES = Decimal("0.000001")


def issued(book: Book, e: WarrantIssued) -> None:
    book.holder(e.holder, e.effective)
    book.share_class(e.share_class, e.effective)
    book.new_security_id(e.warrant)
    if e.in_exchange_for is not None:
        book.warrant(e.in_exchange_for, e.effective)
    book.warrants[e.warrant] = Warrant(
        e.warrant, e.holder, e.share_class, e.effective, e.shares, e.exercise_price,
        e.exercisable_from or e.effective, e.expires, e.id, issued_for=e.in_exchange_for,
        entries=[e.id],
    )
    if e.consideration is not None:
        book.payments.append(Payment(e.holder, e.effective, "paid", e.consideration, e.id, e.warrant))


def amended(book: Book, e: WarrantAmended) -> None:
    w = book.live_warrant(e.warrant, e.effective, "amend")
    w.exercisable_from = e.exercisable_from or w.exercisable_from
    w.expires = e.expires or w.expires
    w.exercise_price = e.exercise_price or w.exercise_price
    w.shares = e.shares or w.shares
    w.entries.append(e.id)


def reissued(book: Book, e: WarrantReissued) -> None:
    """A plain reissue carries the terms in force; any term stated makes it an exchange."""
    old = book.live_warrant(e.warrant, e.effective, "reissue")
    book.new_security_id(e.new_warrant)
    old.status, old.status_date, old.replaced_by = "surrendered", e.effective, e.new_warrant
    old.entries.append(e.id)
    book.warrants[e.new_warrant] = Warrant(
        e.new_warrant, old.holder, old.share_class, e.effective, e.shares or old.shares,
        e.exercise_price or old.exercise_price, e.exercisable_from or old.exercisable_from,
        e.expires or old.expires, e.id, replaces=old.warrant, entries=[e.id],
    )


def exercised(book: Book, e: WarrantExercised) -> None:
    w = book.live_warrant(e.warrant, e.effective, "exercise")
    if e.effective < w.exercisable_from:
        raise RuleBroken(
            "not-exercisable",
            f"warrant {e.warrant!r} may not be exercised before {w.exercisable_from}; "
            f"this exercise is effective {e.effective}",
        )
    if e.shares > w.shares:
        raise RuleBroken(
            "exercises-more-than-remains",
            f"exercises {n(e.shares)} shares of warrant {e.warrant!r} but only "
            f"{n(w.shares)} remain on {e.effective}",
        )
    due = w.exercise_price.times(e.shares)
    if e.payment is not None and (e.payment.currency, e.payment.amount) != (due.currency, due.amount):
        raise RuleBroken(
            "exercise-payment-mismatch",
            f"payment {e.payment} is not {n(e.shares)} x {w.exercise_price} = {due}",
        )
    cls = book.share_class(w.share_class, e.effective)
    book.new_security_id(e.lot)
    book.within_authorized(cls, e.shares)
    w.shares -= e.shares
    w.exercised += e.shares
    w.entries.append(e.id)
    if w.shares == 0:
        w.status, w.status_date = "exercised", e.effective
    cls.outstanding += e.shares
    book.lots[e.lot] = Lot.acquire(e.lot, w.holder, w.share_class, e.effective, e.shares, e.id,
                                   w.exercise_price, held_since=e.effective, from_warrant=w.warrant)
    book.payments.append(Payment(w.holder, e.effective, "paid", e.payment or due, e.id, e.lot))


def cancelled(book: Book, e: WarrantCancelled) -> None:
    w = book.live_warrant(e.warrant, e.effective, "cancel")
    w.status, w.status_date = "cancelled", e.effective
    w.entries.append(e.id)


def rescinded_ab_initio(book: Book, e: RescindedAbInitio) -> None:
    w = book.live_warrant(e.security, e.effective, "rescind")
    if e.effective != w.issued:
        raise RuleBroken("void-date", f"a rescission ab initio takes effect on the issue date "
                                      f"{w.issued}, not {e.effective}")
    if w.exercised:
        raise RuleBroken("void-after-changes", f"warrant {w.warrant!r} was already exercised "
                                               f"for {n(w.exercised)} shares")
    w.status, w.status_date = "rescinded", e.effective
    w.entries.append(e.id)
    if e.refund_total is not None:
        refunded_on = e.refunded_on or e.citation.dated
        book.payments.append(Payment(w.holder, refunded_on, "refunded", e.refund_total, e.id, w.warrant))


def adjusted_price(price: Money, e: StockSplit) -> Money:
    """Exercise price / ratio, exact when it terminates within 6 places, else rounded half-up
    to 6 places (e.g. $0.275 at 1-for-10 is $2.750; $1.00 at 3-for-1 is $0.333333)."""
    exact = price.amount * e.ratio.old / e.ratio.new
    rounded = exact.quantize(PRICE_PLACES, ROUND_HALF_UP)
    return Money(amount=exact if exact == rounded else rounded, currency=price.currency)


def adjust_for_split(book: Book, e: StockSplit) -> None:
    """Every warrant outstanding on the class: shares x ratio (rounded down to a whole share,
    as warrant agreements provide), price / ratio. Each adjustment is kept on the warrant."""
    for w in book.warrants.values():
        if w.share_class != e.share_class or w.status_on(e.effective) != "outstanding":
            continue
        shares, _ = e.ratio.scale(w.shares)
        price = adjusted_price(w.exercise_price, e)
        w.adjustments.append(Adjustment(e.id, e.effective, w.shares, shares, w.exercise_price, price))
        w.shares, w.exercise_price = shares, price
        w.entries.append(e.id)
        if shares == 0:
            w.status, w.status_date = "cancelled", e.effective
