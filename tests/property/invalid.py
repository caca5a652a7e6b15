"""Strategies for invalid entries: one per rule the decisions enforce.

Each case is a valid generated ledger, extended by a setup recording that creates what the
broken entry needs (holders, classes, lots and warrants with drawn figures and dates), and a
journal that must be rejected for ``rule``. ``INVALID`` maps every rule to its strategy;
``tests/property/test_invalid.py`` checks that this covers every rule named in ``ledger/``.
Adding a rule: add one ``@case("rule")`` function here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from ledger.entries import (
    AnyEntry,
    EntryCorrected,
    EntryVoided,
    IssuerCreated,
    PurchaseRescinded,
    Ratio,
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
from ledger.values import Money
from tests.property.strategies import (
    Draft,
    GeneratedLedger,
    citation,
    finished,
    grown,
    money,
)


@dataclass(frozen=True)
class InvalidCase:
    ledger: GeneratedLedger  # recorded first; valid
    bad: list[AnyEntry]  # then this journal, which must be rejected ...
    rule: str  # ... with this rule among the violations
    issuer: str  # the issuer the bad journal is recorded for


@dataclass
class Setup:
    """What the setup recording created, and its figures."""

    g: Draft
    day: date  # S: the setup's effective date
    holder: str
    other_holder: str
    other_holder_entry: str
    share_class: str
    authorized: int
    big_class: str
    lot: str
    lot_entry: SharesPurchased
    bought: int  # q, shares in ``lot``
    rescinded_later: int  # r1, rescinded from ``lot`` on S + 10 by a later recording
    window: str  # a warrant exercisable from S + k to S + k + m
    window_from: date
    window_expires: date
    open: str  # exercisable from S, no expiry, with more shares than the room left
    open_shares: int
    open_price: Money
    ended: str  # a warrant cancelled on S
    exercise_lot: str  # 1 share of ``open`` exercised on S + 10

    def entry(self, kind: type[Any], days: int = 0, **fields: Any) -> Any:
        day = self.day + timedelta(days=days)
        return kind(id=self.g.fresh("bad"), effective=day, citation=citation(day), **fields)


@st.composite
def setup(draw: st.DrawFn) -> Setup:
    g: Draft = draw(grown(max_steps=8))
    day = g.latest() + timedelta(days=draw(st.integers(1, 60)))
    authorized = draw(st.integers(1, 10**6))
    bought = draw(st.integers(1, authorized))
    room = authorized - bought
    open_shares = room + 1 + draw(st.integers(1, 1_000))  # one is exercised on S + 10
    k, m = draw(st.integers(1, 300)), draw(st.integers(0, 500))
    s = Setup(
        g, day, g.fresh("H"), g.fresh("H"), "", g.fresh("C"), authorized, g.fresh("C"),
        g.fresh("L"), None, bought, draw(st.integers(1, bought)),  # type: ignore[arg-type]
        g.fresh("W"), day + timedelta(days=k), day + timedelta(days=k + m), g.fresh("W"),
        open_shares, draw(money(max_digits=6)), g.fresh("W"), g.fresh("L"),
    )
    other = s.entry(StakeholderAdded, holder=s.other_holder, name="Other holder")
    s.other_holder_entry = other.id
    s.lot_entry = s.entry(SharesPurchased, lot=s.lot, holder=s.holder, share_class=s.share_class,
                          quantity=bought, consideration=draw(money()))
    first = [
        s.entry(StakeholderAdded, holder=s.holder, name="Holder"), other,
        s.entry(ShareClassCreated, share_class=s.share_class, name="Common", authorized=authorized),
        s.entry(ShareClassCreated, share_class=s.big_class, name="Preferred", authorized=10**9),
        s.lot_entry,
        s.entry(WarrantIssued, warrant=s.window, holder=s.holder, share_class=s.share_class,
                shares=draw(st.integers(1, 10**5)), exercise_price=draw(money(max_digits=6)),
                exercisable_from=s.window_from, expires=s.window_expires),
        s.entry(WarrantIssued, warrant=s.open, holder=s.holder, share_class=s.share_class,
                shares=open_shares, exercise_price=s.open_price),
        s.entry(WarrantIssued, warrant=s.ended, holder=s.holder, share_class=s.share_class,
                shares=draw(st.integers(1, 10**5)), exercise_price=draw(money(max_digits=6))),
        s.entry(WarrantCancelled, warrant=s.ended),
    ]
    for e in first:
        assert g.try_add(e), e
    g.close_batch()
    per_share = draw(money(max_digits=4))
    later = [
        s.entry(PurchaseRescinded, 10, lot=s.lot, quantity=s.rescinded_later,
                refund_per_share=per_share, refund_total=per_share.times(s.rescinded_later)),
        s.entry(WarrantExercised, 10, warrant=s.open, shares=1, lot=s.exercise_lot),
    ]
    for e in later:
        assert g.try_add(e), e
    g.close_batch()
    return s


Builder = Callable[[st.DrawFn, Setup], list[AnyEntry]]
INVALID: dict[str, Builder] = {}


def case(rule: str) -> Callable[[Builder], Builder]:
    def register(build: Builder) -> Builder:
        INVALID[rule] = build
        return build
    return register


def _off(amount: Money) -> Money:
    return Money(amount=amount.amount + Decimal("0.01"), currency=amount.currency)


# --- the issuer and parties ------------------------------------------------------------------


@case("unknown-issuer")
def _before_issuer(draw: st.DrawFn, s: Setup) -> list[AnyEntry]:
    days = -(s.day - s.g.start).days - draw(st.integers(1, 400))
    return [s.entry(StakeholderAdded, days, holder=s.g.fresh("H"), name="Too early")]


@case("duplicate-issuer")
def _second_issuer(draw: st.DrawFn, s: Setup) -> list[AnyEntry]:
    return [s.entry(IssuerCreated, issuer=s.g.model.issuer, name="Again")]


@case("issuer-mismatch")
def _other_issuer(draw: st.DrawFn, s: Setup) -> list[AnyEntry]:
    return [s.entry(IssuerCreated, issuer="some-other-issuer", name="Other")]


@case("duplicate-holder")
def _holder_again(draw: st.DrawFn, s: Setup) -> list[AnyEntry]:
    return [s.entry(StakeholderAdded, draw(st.integers(0, 30)), holder=s.holder, name="Again")]


@case("duplicate-class")
def _class_again(draw: st.DrawFn, s: Setup) -> list[AnyEntry]:
    return [s.entry(ShareClassCreated, draw(st.integers(0, 30)), share_class=s.share_class,
                    name="Again", authorized=draw(st.integers(1, 10**6)))]


def _buy(draw: st.DrawFn, s: Setup, days: int = 1, **fields: Any) -> SharesPurchased:
    data = {"lot": s.g.fresh("L"), "holder": s.holder, "share_class": s.big_class,
            "quantity": draw(st.integers(1, 1_000)), "consideration": draw(money())} | fields
    return s.entry(SharesPurchased, days, **data)  # type: ignore[no-any-return]


@case("unknown-holder")
def _nobody(draw: st.DrawFn, s: Setup) -> list[AnyEntry]:
    return [_buy(draw, s, holder="nobody")]


@case("unknown-share-class")
def _no_class(draw: st.DrawFn, s: Setup) -> list[AnyEntry]:
    return [_buy(draw, s, share_class="no-such-class")]


@case("before-it-exists")
def _too_soon(draw: st.DrawFn, s: Setup) -> list[AnyEntry]:
    return [_buy(draw, s, -draw(st.integers(1, (s.day - s.g.start).days)))]


# --- securities ------------------------------------------------------------------------------


@case("unknown-lot")
def _no_lot(draw: st.DrawFn, s: Setup) -> list[AnyEntry]:
    per = draw(money(max_digits=4))
    return [draw(st.sampled_from([
        s.entry(PurchaseRescinded, 1, lot="no-such-lot", quantity=1, refund_per_share=per, refund_total=per),
        s.entry(SharesRepurchased, 1, lot="no-such-lot", quantity=1, price_per_share=per, total=per),
        s.entry(SharesCancelled, 1, lot="no-such-lot", quantity=1),
        s.entry(SharesTransferred, 1, lot="no-such-lot", quantity=1, to_holder=s.other_holder,
                new_lot=s.g.fresh("L")),
        s.entry(RescindedAbInitio, 1, security="no-such-lot"),
    ]))]


@case("unknown-warrant")
def _no_warrant(draw: st.DrawFn, s: Setup) -> list[AnyEntry]:
    return [draw(st.sampled_from([
        s.entry(WarrantExercised, 1, warrant="no-such-warrant", shares=1, lot=s.g.fresh("L")),
        s.entry(WarrantAmended, 1, warrant="no-such-warrant", shares=5),
        s.entry(WarrantCancelled, 1, warrant="no-such-warrant"),
        s.entry(WarrantReissued, 1, warrant="no-such-warrant", new_warrant=s.g.fresh("W")),
        s.entry(WarrantIssued, 1, warrant=s.g.fresh("W"), holder=s.holder, share_class=s.big_class,
                shares=1, exercise_price=s.open_price, in_exchange_for="no-such-warrant"),
    ]))]


@case("duplicate-security")
def _taken_id(draw: st.DrawFn, s: Setup) -> list[AnyEntry]:
    taken = draw(st.sampled_from([s.lot, s.window, s.exercise_lot]))
    return [draw(st.sampled_from([
        _buy(draw, s, 20, lot=taken),
        s.entry(WarrantIssued, 20, warrant=taken, holder=s.holder, share_class=s.big_class, shares=1,
                exercise_price=s.open_price),
        s.entry(WarrantReissued, 20, warrant=s.open, new_warrant=taken),
        s.entry(WarrantExercised, 20, warrant=s.open, shares=1, lot=taken),
    ]))]


@case("exceeds-authorized")
def _too_many(draw: st.DrawFn, s: Setup) -> list[AnyEntry]:
    room = s.authorized - s.bought
    extra = draw(st.integers(1, 1_000))
    return [draw(st.sampled_from([
        _buy(draw, s, 0, share_class=s.share_class, quantity=room + extra),
        s.entry(WarrantExercised, warrant=s.open, shares=room + 1, lot=s.g.fresh("L")),
        s.entry(StockSplit, share_class=s.share_class, ratio=Ratio(new=s.authorized + 1, old=1)),
    ]))]


def _left_after_rescission(s: Setup) -> int:
    return s.bought - s.rescinded_later


@case("rescinds-more-than-remains")
def _rescind_too_many(draw: st.DrawFn, s: Setup) -> list[AnyEntry]:
    n = _left_after_rescission(s) + draw(st.integers(1, 100))
    per = draw(money(max_digits=4))
    return [s.entry(PurchaseRescinded, 20, lot=s.lot, quantity=n, refund_per_share=per,
                    refund_total=per.times(n))]


@case("transfers-more-than-remains")
def _transfer_too_many(draw: st.DrawFn, s: Setup) -> list[AnyEntry]:
    return [s.entry(SharesTransferred, 20, lot=s.lot, to_holder=s.other_holder, new_lot=s.g.fresh("L"),
                    quantity=_left_after_rescission(s) + draw(st.integers(1, 100)))]


@case("repurchases-more-than-remains")
def _repurchase_too_many(draw: st.DrawFn, s: Setup) -> list[AnyEntry]:
    n = _left_after_rescission(s) + draw(st.integers(1, 100))
    per = draw(money(max_digits=4))
    return [s.entry(SharesRepurchased, 20, lot=s.lot, quantity=n, price_per_share=per, total=per.times(n))]


@case("cancels-more-than-remains")
def _cancel_too_many(draw: st.DrawFn, s: Setup) -> list[AnyEntry]:
    return [s.entry(SharesCancelled, 20, lot=s.lot,
                    quantity=_left_after_rescission(s) + draw(st.integers(1, 100)))]


@case("converts-more-than-remains")
def _convert_too_many(draw: st.DrawFn, s: Setup) -> list[AnyEntry]:
    return [s.entry(SharesConverted, 20, lot=s.lot, to_class=s.big_class, ratio=Ratio(new=1, old=1),
                    new_lot=s.g.fresh("L"), quantity=_left_after_rescission(s) + draw(st.integers(1, 100)))]


@case("refund-total-mismatch")
def _bad_refund(draw: st.DrawFn, s: Setup) -> list[AnyEntry]:
    per = draw(money(max_digits=4))
    return [s.entry(PurchaseRescinded, lot=s.lot, quantity=1, refund_per_share=per, refund_total=_off(per))]


@case("repurchase-total-mismatch")
def _bad_repurchase(draw: st.DrawFn, s: Setup) -> list[AnyEntry]:
    per = draw(money(max_digits=4))
    return [s.entry(SharesRepurchased, lot=s.lot, quantity=1, price_per_share=per, total=_off(per))]


@case("transfer-to-same-holder")
def _to_self(draw: st.DrawFn, s: Setup) -> list[AnyEntry]:
    return [s.entry(SharesTransferred, lot=s.lot, quantity=1, to_holder=s.holder, new_lot=s.g.fresh("L"))]


@case("fraction-needs-cash-price")
def _fraction(draw: st.DrawFn, s: Setup) -> list[AnyEntry]:
    # The exercise lot holds 1 share: a reverse split leaves half a share, with no cash price.
    ratio = Ratio(new=1, old=draw(st.integers(2, 9)))
    return [s.entry(StockSplit, 20, share_class=s.share_class, ratio=ratio)]


@case("convert-to-same-class")
def _same_class(draw: st.DrawFn, s: Setup) -> list[AnyEntry]:
    return [s.entry(SharesConverted, lot=s.lot, quantity=1, to_class=s.share_class,
                    ratio=Ratio(new=1, old=1), new_lot=s.g.fresh("L"))]


@case("converts-to-nothing")
def _to_nothing(draw: st.DrawFn, s: Setup) -> list[AnyEntry]:
    return [s.entry(SharesConverted, lot=s.lot, quantity=1, to_class=s.big_class,
                    ratio=Ratio(new=1, old=draw(st.integers(2, 9))), new_lot=s.g.fresh("L"),
                    cash_per_share=draw(money(max_digits=4)))]


@case("void-not-a-purchase")
def _void_exercise_lot(draw: st.DrawFn, s: Setup) -> list[AnyEntry]:
    return [s.entry(RescindedAbInitio, 10, security=s.exercise_lot)]


@case("void-date")
def _void_wrong_day(draw: st.DrawFn, s: Setup) -> list[AnyEntry]:
    security = draw(st.sampled_from([s.lot, s.open]))
    return [s.entry(RescindedAbInitio, draw(st.integers(1, 9)), security=security)]


@case("void-after-changes")
def _void_changed(draw: st.DrawFn, s: Setup) -> list[AnyEntry]:
    per = draw(money(max_digits=4))
    changed = s.entry(PurchaseRescinded, lot=s.lot, quantity=1, refund_per_share=per, refund_total=per)
    return [changed, s.entry(RescindedAbInitio, security=s.lot)]


# --- warrants ----------------------------------------------------------------------------------


@case("warrant-not-outstanding")
def _not_live(draw: st.DrawFn, s: Setup) -> list[AnyEntry]:
    after_expiry = (s.window_expires - s.day).days + draw(st.integers(1, 100))
    return [draw(st.sampled_from([
        s.entry(WarrantExercised, 1, warrant=s.ended, shares=1, lot=s.g.fresh("L")),
        s.entry(WarrantAmended, 1, warrant=s.ended, shares=7),
        s.entry(WarrantCancelled, 1, warrant=s.ended),
        s.entry(WarrantReissued, 1, warrant=s.ended, new_warrant=s.g.fresh("W")),
        s.entry(RescindedAbInitio, 0, security=s.ended),
        s.entry(WarrantExercised, after_expiry, warrant=s.window, shares=1, lot=s.g.fresh("L")),
        s.entry(WarrantCancelled, after_expiry, warrant=s.window),
    ]))]


@case("not-exercisable")
def _too_early(draw: st.DrawFn, s: Setup) -> list[AnyEntry]:
    days = draw(st.integers(0, (s.window_from - s.day).days - 1))
    return [s.entry(WarrantExercised, days, warrant=s.window, shares=1, lot=s.g.fresh("L"))]


@case("exercises-more-than-remains")
def _exercise_too_many(draw: st.DrawFn, s: Setup) -> list[AnyEntry]:
    return [s.entry(WarrantExercised, warrant=s.open, shares=s.open_shares + draw(st.integers(1, 100)),
                    lot=s.g.fresh("L"))]


@case("exercise-payment-mismatch")
def _bad_payment(draw: st.DrawFn, s: Setup) -> list[AnyEntry]:
    wrong = draw(st.sampled_from([_off(s.open_price), Money(
        amount=s.open_price.amount, currency="EUR" if s.open_price.currency != "EUR" else "USD")]))
    return [s.entry(WarrantExercised, warrant=s.open, shares=1, lot=s.g.fresh("L"), payment=wrong)]


# --- recording rules -------------------------------------------------------------------------


@case("duplicate-entry-id")
def _same_id_twice(draw: st.DrawFn, s: Setup) -> list[AnyEntry]:
    first = s.entry(StakeholderAdded, 1, holder=s.g.fresh("H"), name="One")
    return [first, first.model_copy(update={"holder": s.g.fresh("H")})]


@case("entry-id-reused")
def _reused(draw: st.DrawFn, s: Setup) -> list[AnyEntry]:
    change: dict[str, Any] = draw(st.sampled_from([{"memo": "changed"}, {"quantity": s.bought + 1}]))
    return [s.lot_entry.model_copy(update=change)]


@case("invalidates-later-entry")
def _backdated(draw: st.DrawFn, s: Setup) -> list[AnyEntry]:
    n = _left_after_rescission(s) + 1  # leaves too few for the rescission recorded on S + 10
    per = draw(money(max_digits=4))
    return [s.entry(PurchaseRescinded, draw(st.integers(0, 9)), lot=s.lot, quantity=n,
                    refund_per_share=per, refund_total=per.times(n))]


@case("unknown-entry")
def _no_target(draw: st.DrawFn, s: Setup) -> list[AnyEntry]:
    return [s.entry(EntryVoided, 30, target="no-such-entry", reason="mistake", by="clerk")]


@case("target-voided")
def _voided_twice(draw: st.DrawFn, s: Setup) -> list[AnyEntry]:
    return [s.entry(EntryVoided, 30, target=s.other_holder_entry, reason="mistake", by="clerk"),
            draw(st.sampled_from([
                s.entry(EntryVoided, 31, target=s.other_holder_entry, reason="again", by="clerk"),
                s.entry(EntryCorrected, 31, target=s.other_holder_entry, reason="fix", by="clerk",
                        replacement=StakeholderAdded(id=s.other_holder_entry, effective=s.day,
                                                     citation=citation(s.day), holder=s.other_holder,
                                                     name="Renamed")),
            ]))]


@case("correction-changes-type")
def _other_type(draw: st.DrawFn, s: Setup) -> list[AnyEntry]:
    replacement = ShareClassCreated(id=s.other_holder_entry, effective=s.day, citation=citation(s.day),
                                    share_class=s.g.fresh("C"), name="Not a holder", authorized=5)
    return [s.entry(EntryCorrected, 30, target=s.other_holder_entry, replacement=replacement,
                    reason="fix", by="clerk")]


@case("correction-changes-nothing")
def _no_change(draw: st.DrawFn, s: Setup) -> list[AnyEntry]:
    return [s.entry(EntryCorrected, 30, target=s.lot_entry.id, replacement=s.lot_entry,
                    reason="fix", by="clerk")]


@st.composite
def invalid_cases(draw: st.DrawFn, rule: str) -> InvalidCase:
    s = draw(setup())
    bad = INVALID[rule](draw, s)
    if draw(st.booleans()):  # a valid entry in the same journal is refused with it
        bad = [s.entry(StakeholderAdded, 1, holder=s.g.fresh("H"), name="Valid"), *bad]
    return InvalidCase(finished(s.g), bad, rule, s.g.model.issuer)


@st.composite
def no_ledger_yet(draw: st.DrawFn) -> InvalidCase:
    """A journal for an issuer with no ledger that does not create it (``unknown-issuer``)."""
    s = draw(setup())
    return InvalidCase(finished(s.g), [_buy(draw, s)], "unknown-issuer", "issuer-without-ledger")
