"""Shares: purchases and everything that later changes a lot."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import TYPE_CHECKING

from ledger.entries import (
    PurchaseRescinded,
    RescindedAbInitio,
    SharesCancelled,
    SharesConverted,
    SharesPurchased,
    SharesRepurchased,
    SharesTransferred,
    StockSplit,
)
from ledger.rules import warrants
from ledger.state import Lot, Payment, RuleBroken
from ledger.values import Money
from ledger.values import format_shares as n

if TYPE_CHECKING:
    from ledger.book import Book

CENTS = Decimal("0.01")


def purchased(book: Book, e: SharesPurchased) -> None:
    book.holder(e.holder, e.effective)
    cls = book.share_class(e.share_class, e.effective)
    book.new_security_id(e.lot)
    book.within_authorized(cls, e.quantity)
    cls.outstanding += e.quantity
    book.lots[e.lot] = Lot.acquire(e.lot, e.holder, e.share_class, e.effective, e.quantity, e.id,
                                   e.price_per_share, held_since=e.effective)
    book.payments.append(Payment(e.holder, e.effective, "paid", e.consideration, e.id, e.lot))


def _product_matches(total: Money, unit: Money, quantity: int, rule: str, what: str) -> None:
    expected = unit.times(quantity)
    if (total.currency, total.amount) != (expected.currency, expected.amount):
        raise RuleBroken(rule, f"{what} {total} is not {n(quantity)} x {unit} = {expected}")


def rescinded(book: Book, e: PurchaseRescinded) -> None:
    lot = book.lot_with(e.lot, e.quantity, e.effective, "rescinds")
    _product_matches(e.refund_total, e.refund_per_share, e.quantity, "refund-total-mismatch",
                     "refund total")
    lot.change(e.id, e.effective, "rescinded", -e.quantity)
    book.classes[lot.share_class].outstanding -= e.quantity
    book.payments.append(Payment(lot.holder, e.effective, "refunded", e.refund_total, e.id, e.lot))


def transferred(book: Book, e: SharesTransferred) -> None:
    lot = book.lot_with(e.lot, e.quantity, e.effective, "transfers")
    book.holder(e.to_holder, e.effective)
    if e.to_holder == lot.holder:
        raise RuleBroken("transfer-to-same-holder", f"lot {e.lot!r} already belongs to {e.to_holder!r}")
    book.new_security_id(e.new_lot)
    lot.change(e.id, e.effective, "transferred", -e.quantity)
    book.lots[e.new_lot] = Lot.acquire(e.new_lot, e.to_holder, lot.share_class, e.effective, e.quantity,
                                       e.id, e.price_per_share, held_since=lot.held_since, from_lot=lot.lot)


def repurchased(book: Book, e: SharesRepurchased) -> None:
    lot = book.lot_with(e.lot, e.quantity, e.effective, "repurchases")
    _product_matches(e.total, e.price_per_share, e.quantity, "repurchase-total-mismatch",
                     "repurchase total")
    lot.change(e.id, e.effective, "repurchased", -e.quantity)
    book.classes[lot.share_class].outstanding -= e.quantity
    book.payments.append(Payment(lot.holder, e.effective, "repurchased", e.total, e.id, e.lot))


def cancelled(book: Book, e: SharesCancelled) -> None:
    lot = book.lot_with(e.lot, e.quantity, e.effective, "cancels")
    lot.change(e.id, e.effective, "cancelled", -e.quantity)
    book.classes[lot.share_class].outstanding -= e.quantity


def cash_in_lieu(fraction: Fraction, price: Money) -> Money:
    """A fractional share paid in cash: fraction x price per new share, rounded half-up to cents."""
    amount = Decimal(fraction.numerator) * price.amount / Decimal(fraction.denominator)
    return Money(amount=amount.quantize(CENTS, ROUND_HALF_UP), currency=price.currency)


def _fraction_price(e: StockSplit | SharesConverted, lot: Lot, shares: int, fraction: Fraction) -> Money:
    if e.cash_per_share is None:
        raise RuleBroken(
            "fraction-needs-cash-price",
            f"lot {lot.lot!r}: {n(shares)} x {e.ratio.new}/{e.ratio.old} leaves a fractional share "
            f"of {fraction}; state cash_per_share so it can be paid in cash",
        )
    return e.cash_per_share


def _pay_fraction(book: Book, e: StockSplit | SharesConverted, lot: Lot, day: date,
                  fraction: Fraction, price: Money | None) -> None:
    if fraction and price is not None:
        book.payments.append(Payment(lot.holder, day, "cash in lieu", cash_in_lieu(fraction, price),
                                     e.id, lot.lot))


def split(book: Book, e: StockSplit) -> None:
    cls = book.share_class(e.share_class, e.effective)
    plan = []
    for lot in book.lots.values():
        if lot.share_class == e.share_class and lot.remaining > 0:
            whole, fraction = e.ratio.scale(lot.remaining)
            price = _fraction_price(e, lot, lot.remaining, fraction) if fraction else None
            plan.append((lot, whole, fraction, price))
    authorized = e.authorized or cls.authorized
    after = sum(whole for _, whole, _, _ in plan)
    if after > authorized:
        raise RuleBroken(
            "exceeds-authorized",
            f"a {e.ratio} split makes {n(after)} {cls.share_class} shares outstanding, above the "
            f"{n(authorized)} authorized; state the authorized shares after the split",
        )
    for lot, whole, fraction, price in plan:
        lot.change(e.id, e.effective, "split", whole - lot.remaining)
        _pay_fraction(book, e, lot, e.effective, fraction, price)
    cls.outstanding, cls.authorized = after, authorized
    warrants.adjust_for_split(book, e)


def converted(book: Book, e: SharesConverted) -> None:
    lot = book.lot_with(e.lot, e.quantity, e.effective, "converts")
    target = book.share_class(e.to_class, e.effective)
    if target.share_class == lot.share_class:
        raise RuleBroken("convert-to-same-class", f"lot {e.lot!r} is already {e.to_class!r}")
    book.new_security_id(e.new_lot)
    whole, fraction = e.ratio.scale(e.quantity)
    price = _fraction_price(e, lot, e.quantity, fraction) if fraction else None
    if whole == 0:
        raise RuleBroken("converts-to-nothing", f"{n(e.quantity)} shares at {e.ratio} make no whole share")
    book.within_authorized(target, whole)
    lot.change(e.id, e.effective, "converted", -e.quantity)
    book.classes[lot.share_class].outstanding -= e.quantity
    target.outstanding += whole
    book.lots[e.new_lot] = Lot.acquire(e.new_lot, lot.holder, e.to_class, e.effective, whole, e.id, None,
                                       held_since=lot.held_since, from_lot=lot.lot)
    _pay_fraction(book, e, lot, e.effective, fraction, price)


def rescinded_ab_initio(book: Book, e: RescindedAbInitio) -> None:
    if e.security in book.warrants:
        warrants.rescinded_ab_initio(book, e)
        return
    lot = book.lot(e.security, e.effective)
    if not lot.is_purchase:
        raise RuleBroken("void-not-a-purchase",
                         f"lot {lot.lot!r} was not purchased from the issuer; only purchases and "
                         "warrants can be rescinded ab initio")
    if e.effective != lot.acquired:
        raise RuleBroken("void-date", f"a rescission ab initio takes effect on the purchase date "
                                      f"{lot.acquired}, not {e.effective}")
    if lot.remaining != lot.quantity:
        raise RuleBroken("void-after-changes",
                         f"lot {lot.lot!r} has {n(lot.remaining)} of {n(lot.quantity)} shares left "
                         f"on {e.effective}; undo the later changes first")
    lot.change(e.id, e.effective, "voided", -lot.remaining)
    book.classes[lot.share_class].outstanding -= lot.quantity
    if e.refund_total is not None:
        refunded_on = e.refunded_on or e.citation.dated
        book.payments.append(Payment(lot.holder, refunded_on, "refunded", e.refund_total, e.id, lot.lot))
