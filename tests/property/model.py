"""An independent, deliberately simple model of an issuer's ledger, kept in the tests.

It shares nothing with ``ledger.book``, ``ledger.rules``, ``ledger.timeline`` or
``projections`` but the entry types: plain dataclasses, exact ``Fraction`` arithmetic, and
one small method per kind of entry (``on_<Type>``), folded over the timeline from scratch
for every question. Adding a kind of entry means adding one ``on_<Type>`` method (and, for
an entry on the recorded-time axis, a branch in ``ModelLedger.resolved``).

The model is the oracle of the stateful test: it decides on its own whether a batch of
entries must be accepted and what holdings, warrants and consideration must then read.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

from ledger.entries import AnyEntry


class Broken(Exception):
    """The model's own verdict that a timeline breaks a rule."""

    def __init__(self, rule: str, entry: str) -> None:
        super().__init__(f"{entry}: {rule}")
        self.rule = rule
        self.entry = entry


def half_up(value: Fraction, places: int) -> Decimal:
    """Round an exact fraction half-up (away from zero at .5) to ``places`` decimals."""
    scaled = abs(value) * 10**places
    whole = math.floor(scaled + Fraction(1, 2))
    sign = -1 if value < 0 else 1
    return Decimal(sign * whole).scaleb(-places)


def as_fraction(amount: Decimal) -> Fraction:
    return Fraction(amount)


@dataclass
class MLot:
    holder: str
    share_class: str
    acquired: date
    quantity: int
    remaining: int
    purchase: bool
    from_warrant: str | None = None
    from_lot: str | None = None
    held_since: date | None = None
    rescinded: int = 0


@dataclass
class MWarrant:
    holder: str
    share_class: str
    issued: date
    shares: int
    price: tuple[Fraction, str]
    start: date
    expires: date | None
    exercised: int = 0
    ended: str | None = None  # surrendered | exercised | cancelled | rescinded; expiry is no event
    ended_on: date | None = None
    replaces: str | None = None
    replaced_by: str | None = None
    issued_for: str | None = None

    def status(self, day: date) -> str:
        if self.ended is not None:
            return self.ended
        if self.expires is not None and day > self.expires:
            return "expired"
        return "outstanding"


@dataclass
class MState:
    """The state after folding a timeline: plain data, rebuilt for every question."""

    issuer: str | None = None
    holders: dict[str, date] = field(default_factory=dict)  # id -> added on
    classes: dict[str, int] = field(default_factory=dict)  # id -> authorized
    class_born: dict[str, date] = field(default_factory=dict)
    lots: dict[str, MLot] = field(default_factory=dict)
    warrants: dict[str, MWarrant] = field(default_factory=dict)
    # (holder, day, kind, currency, amount); kind: paid | refunded | repurchased | cash in lieu
    money: list[tuple[str, date, str, str, Fraction]] = field(default_factory=list)

    def outstanding(self, share_class: str) -> int:
        return sum(lot.remaining for lot in self.lots.values() if lot.share_class == share_class)

    def apply(self, e: AnyEntry) -> None:
        if self.issuer is None and e.type != "IssuerCreated":
            raise Broken("unknown-issuer", e.id)
        getattr(self, "on_" + e.type)(e)

    # --- helpers ---------------------------------------------------------------------------

    def _holder(self, holder: str, entry: str) -> None:
        if holder not in self.holders:
            raise Broken("unknown-holder", entry)

    def _class(self, share_class: str, entry: str) -> None:
        if share_class not in self.classes:
            raise Broken("unknown-share-class", entry)

    def _fresh_security(self, ident: str, entry: str) -> None:
        if ident in self.lots or ident in self.warrants:
            raise Broken("duplicate-security", entry)

    def _room(self, share_class: str, more: int, entry: str) -> None:
        if self.outstanding(share_class) + more > self.classes[share_class]:
            raise Broken("exceeds-authorized", entry)

    def _lot_with(self, lot_id: str, quantity: int, entry: str, verb: str) -> MLot:
        lot = self.lots.get(lot_id)
        if lot is None:
            raise Broken("unknown-lot", entry)
        if quantity > lot.remaining:
            raise Broken(f"{verb}-more-than-remains", entry)
        return lot

    def _live(self, warrant: str, day: date, entry: str) -> MWarrant:
        w = self.warrants.get(warrant)
        if w is None:
            raise Broken("unknown-warrant", entry)
        if w.status(day) != "outstanding":
            raise Broken("warrant-not-outstanding", entry)
        return w

    def _product(self, total: Any, unit: Any, quantity: int, rule: str, entry: str) -> None:
        expected = (unit.currency, as_fraction(unit.amount) * quantity)
        if (total.currency, as_fraction(total.amount)) != expected:
            raise Broken(rule, entry)

    def _pay(self, holder: str, day: date, kind: str, currency: str, amount: Fraction) -> None:
        self.money.append((holder, day, kind, currency, amount))

    # --- one method per kind of entry ---------------------------------------------------

    def on_IssuerCreated(self, e: Any) -> None:
        if self.issuer is not None:
            raise Broken("duplicate-issuer", e.id)
        self.issuer = e.issuer

    def on_StakeholderAdded(self, e: Any) -> None:
        if e.holder in self.holders:
            raise Broken("duplicate-holder", e.id)
        self.holders[e.holder] = e.effective

    def on_ShareClassCreated(self, e: Any) -> None:
        if e.share_class in self.classes:
            raise Broken("duplicate-class", e.id)
        self.classes[e.share_class] = e.authorized
        self.class_born[e.share_class] = e.effective

    def on_SharesPurchased(self, e: Any) -> None:
        self._holder(e.holder, e.id)
        self._class(e.share_class, e.id)
        self._fresh_security(e.lot, e.id)
        self._room(e.share_class, e.quantity, e.id)
        self.lots[e.lot] = MLot(e.holder, e.share_class, e.effective, e.quantity, e.quantity, True,
                                held_since=e.effective)
        self._pay(e.holder, e.effective, "paid", e.consideration.currency,
                  as_fraction(e.consideration.amount))

    def on_PurchaseRescinded(self, e: Any) -> None:
        lot = self._lot_with(e.lot, e.quantity, e.id, "rescinds")
        self._product(e.refund_total, e.refund_per_share, e.quantity, "refund-total-mismatch", e.id)
        lot.remaining -= e.quantity
        lot.rescinded += e.quantity
        self._pay(lot.holder, e.effective, "refunded", e.refund_total.currency,
                  as_fraction(e.refund_total.amount))

    def on_SharesTransferred(self, e: Any) -> None:
        lot = self._lot_with(e.lot, e.quantity, e.id, "transfers")
        self._holder(e.to_holder, e.id)
        if e.to_holder == lot.holder:
            raise Broken("transfer-to-same-holder", e.id)
        self._fresh_security(e.new_lot, e.id)
        lot.remaining -= e.quantity
        self.lots[e.new_lot] = MLot(e.to_holder, lot.share_class, e.effective, e.quantity, e.quantity,
                                    False, from_lot=e.lot, held_since=lot.held_since)

    def on_SharesRepurchased(self, e: Any) -> None:
        lot = self._lot_with(e.lot, e.quantity, e.id, "repurchases")
        self._product(e.total, e.price_per_share, e.quantity, "repurchase-total-mismatch", e.id)
        lot.remaining -= e.quantity
        self._pay(lot.holder, e.effective, "repurchased", e.total.currency, as_fraction(e.total.amount))

    def on_SharesCancelled(self, e: Any) -> None:
        self._lot_with(e.lot, e.quantity, e.id, "cancels").remaining -= e.quantity

    def _cash_in_lieu(self, holder: str, day: date, left_over: Fraction, e: Any) -> None:
        if left_over:
            price = e.cash_per_share
            amount = half_up(left_over * as_fraction(price.amount), 2)
            self._pay(holder, day, "cash in lieu", price.currency, Fraction(amount))

    def on_StockSplit(self, e: Any) -> None:
        self._class(e.share_class, e.id)
        plan = []
        for lot in self.lots.values():
            if lot.share_class == e.share_class and lot.remaining > 0:
                exact = Fraction(lot.remaining * e.ratio.new, e.ratio.old)
                if exact.denominator != 1 and e.cash_per_share is None:
                    raise Broken("fraction-needs-cash-price", e.id)
                plan.append((lot, math.floor(exact), exact - math.floor(exact)))
        authorized = e.authorized or self.classes[e.share_class]
        if sum(whole for _, whole, _ in plan) > authorized:
            raise Broken("exceeds-authorized", e.id)
        for lot, whole, left_over in plan:
            lot.remaining = whole
            self._cash_in_lieu(lot.holder, e.effective, left_over, e)
        self.classes[e.share_class] = authorized
        for w in self.warrants.values():
            if w.share_class == e.share_class and w.status(e.effective) == "outstanding":
                w.shares = math.floor(Fraction(w.shares * e.ratio.new, e.ratio.old))
                exact_price = w.price[0] * e.ratio.old / e.ratio.new
                w.price = (Fraction(half_up(exact_price, 6)), w.price[1])
                if w.shares == 0:
                    w.ended, w.ended_on = "cancelled", e.effective

    def on_SharesConverted(self, e: Any) -> None:
        lot = self._lot_with(e.lot, e.quantity, e.id, "converts")
        self._class(e.to_class, e.id)
        if e.to_class == lot.share_class:
            raise Broken("convert-to-same-class", e.id)
        self._fresh_security(e.new_lot, e.id)
        exact = Fraction(e.quantity * e.ratio.new, e.ratio.old)
        whole = math.floor(exact)
        if exact != whole and e.cash_per_share is None:
            raise Broken("fraction-needs-cash-price", e.id)
        if whole == 0:
            raise Broken("converts-to-nothing", e.id)
        self._room(e.to_class, whole, e.id)
        lot.remaining -= e.quantity
        self.lots[e.new_lot] = MLot(lot.holder, e.to_class, e.effective, whole, whole, False,
                                    from_lot=e.lot, held_since=lot.held_since)
        self._cash_in_lieu(lot.holder, e.effective, exact - whole, e)

    def on_RescindedAbInitio(self, e: Any) -> None:
        refund_day = e.refunded_on or e.citation.dated
        if e.security in self.warrants:
            w = self._live(e.security, e.effective, e.id)
            if e.effective != w.issued:
                raise Broken("void-date", e.id)
            if w.exercised:
                raise Broken("void-after-changes", e.id)
            w.ended, w.ended_on = "rescinded", e.effective
            holder = w.holder
        else:
            lot = self.lots.get(e.security)
            if lot is None:
                raise Broken("unknown-lot", e.id)
            if not lot.purchase:
                raise Broken("void-not-a-purchase", e.id)
            if e.effective != lot.acquired:
                raise Broken("void-date", e.id)
            if lot.remaining != lot.quantity:
                raise Broken("void-after-changes", e.id)
            lot.remaining = 0
            holder = lot.holder
        if e.refund_total is not None:
            self._pay(holder, refund_day, "refunded", e.refund_total.currency,
                      as_fraction(e.refund_total.amount))

    def on_WarrantIssued(self, e: Any) -> None:
        self._holder(e.holder, e.id)
        self._class(e.share_class, e.id)
        self._fresh_security(e.warrant, e.id)
        if e.in_exchange_for is not None and e.in_exchange_for not in self.warrants:
            raise Broken("unknown-warrant", e.id)
        self.warrants[e.warrant] = MWarrant(
            e.holder, e.share_class, e.effective, e.shares,
            (as_fraction(e.exercise_price.amount), e.exercise_price.currency),
            e.exercisable_from or e.effective, e.expires, issued_for=e.in_exchange_for,
        )
        if e.consideration is not None:
            self._pay(e.holder, e.effective, "paid", e.consideration.currency,
                      as_fraction(e.consideration.amount))

    def on_WarrantAmended(self, e: Any) -> None:
        w = self._live(e.warrant, e.effective, e.id)
        if e.exercisable_from is not None:
            w.start = e.exercisable_from
        if e.expires is not None:
            w.expires = e.expires
        if e.exercise_price is not None:
            w.price = (as_fraction(e.exercise_price.amount), e.exercise_price.currency)
        if e.shares is not None:
            w.shares = e.shares

    def on_WarrantReissued(self, e: Any) -> None:
        old = self._live(e.warrant, e.effective, e.id)
        self._fresh_security(e.new_warrant, e.id)
        old.ended, old.ended_on, old.replaced_by = "surrendered", e.effective, e.new_warrant
        price = old.price if e.exercise_price is None else (
            as_fraction(e.exercise_price.amount), e.exercise_price.currency)
        self.warrants[e.new_warrant] = MWarrant(
            old.holder, old.share_class, e.effective,
            old.shares if e.shares is None else e.shares, price,
            old.start if e.exercisable_from is None else e.exercisable_from,
            old.expires if e.expires is None else e.expires, replaces=e.warrant,
        )

    def on_WarrantExercised(self, e: Any) -> None:
        w = self._live(e.warrant, e.effective, e.id)
        if e.effective < w.start:
            raise Broken("not-exercisable", e.id)
        if e.shares > w.shares:
            raise Broken("exercises-more-than-remains", e.id)
        due = w.price[0] * e.shares
        if e.payment is not None and (as_fraction(e.payment.amount), e.payment.currency) != (due, w.price[1]):
            raise Broken("exercise-payment-mismatch", e.id)
        self._fresh_security(e.lot, e.id)
        self._room(w.share_class, e.shares, e.id)
        w.shares -= e.shares
        w.exercised += e.shares
        if w.shares == 0:
            w.ended, w.ended_on = "exercised", e.effective
        self.lots[e.lot] = MLot(w.holder, w.share_class, e.effective, e.shares, e.shares, False,
                                from_warrant=e.warrant, held_since=e.effective)
        self._pay(w.holder, e.effective, "paid", w.price[1], due)

    def on_WarrantCancelled(self, e: Any) -> None:
        w = self._live(e.warrant, e.effective, e.id)
        w.ended, w.ended_on = "cancelled", e.effective


CORRECTIONS = ("EntryCorrected", "EntryVoided")


@dataclass(frozen=True)
class Logged:
    sequence: int
    recorded_at: datetime
    entry: AnyEntry


@dataclass
class ModelLedger:
    """One issuer's log as the model keeps it: entries with their sequence and recorded time."""

    issuer: str
    log: list[Logged] = field(default_factory=list)

    def resolved(self, known_at: datetime | None = None, extra: Sequence[AnyEntry] = ()
                 ) -> list[tuple[int, AnyEntry]]:
        """(sequence, entry) of the book entries as corrected, known at ``known_at``."""
        rows = [(x.sequence, x.entry) for x in self.log if known_at is None or x.recorded_at <= known_at]
        rows += [(len(self.log) + i, e) for i, e in enumerate(extra, start=1)]
        standing: dict[str, tuple[int, AnyEntry]] = {}
        for sequence, e in rows:
            if e.type == "EntryCorrected":
                standing[e.target] = (standing[e.target][0], e.replacement)
            elif e.type == "EntryVoided":
                del standing[e.target]
            else:
                standing[e.id] = (sequence, e)
        return list(standing.values())

    def timeline(self, as_of: date | None = None, known_at: datetime | None = None,
                 extra: Sequence[AnyEntry] = ()) -> list[AnyEntry]:
        rows = [(s, e) for s, e in self.resolved(known_at, extra) if as_of is None or e.effective <= as_of]
        return [e for _, e in sorted(rows, key=lambda row: (row[1].effective, row[0]))]

    def state(self, as_of: date | None = None, known_at: datetime | None = None,
              extra: Sequence[AnyEntry] = ()) -> MState:
        state = MState()
        for e in self.timeline(as_of, known_at, extra):
            state.apply(e)
        return state

    def new_entries(self, batch: Sequence[AnyEntry]) -> list[AnyEntry] | None:
        """The entries of ``batch`` that would be stored, or None if it must be rejected."""
        stored = {x.entry.id: x.entry for x in self.log}
        ids = [e.id for e in batch]
        if len(set(ids)) != len(ids):
            return None
        fresh = []
        for e in batch:
            old = stored.get(e.id)
            if old is None:
                fresh.append(e)
            elif old.content() != e.content():
                return None
        if not self.log and not any(e.type == "IssuerCreated" for e in batch):
            return None
        if any(e.type == "IssuerCreated" and e.issuer != self.issuer for e in fresh):
            return None
        if not self._corrections_stand(fresh):
            return None
        try:
            self.state(extra=fresh)
        except Broken:
            return None
        return fresh

    def _corrections_stand(self, fresh: Sequence[AnyEntry]) -> bool:
        """Every new correction or void names a book entry that stands at that point (not voided,
        not a correction) and a correction keeps its type and changes something."""
        standing: dict[str, AnyEntry] = {}
        entries = [x.entry for x in self.log]
        for i, e in enumerate([*entries, *fresh]):
            is_new = i >= len(entries)
            if e.type not in CORRECTIONS:
                standing[e.id] = e
                continue
            target = standing.get(e.target)  # type: ignore[union-attr]
            ok = target is not None and (e.type == "EntryVoided" or (
                e.replacement.type == target.type  # type: ignore[union-attr]
                and e.replacement.content() != target.content()))  # type: ignore[union-attr]
            if not ok:
                if is_new:
                    return False
                continue
            if e.type == "EntryVoided":
                del standing[e.target]
            else:
                standing[e.target] = e.replacement  # type: ignore[union-attr]
        return True

    def commit(self, entries: Sequence[AnyEntry], recorded_at: datetime) -> None:
        for e in entries:
            self.log.append(Logged(len(self.log) + 1, recorded_at, e))

    def recorded_times(self) -> list[datetime]:
        return sorted({x.recorded_at for x in self.log})

    def dates(self) -> list[date]:
        return sorted({e.effective for _, e in self.resolved()})

    # --- the questions the stateful test compares ------------------------------------------

    def holdings(self, as_of: date, known_at: datetime | None = None) -> dict[str, tuple[Any, ...]]:
        s = self.state(as_of, known_at)
        return {lot_id: (lot.holder, lot.share_class, lot.acquired, lot.held_since, lot.quantity,
                         lot.rescinded, lot.remaining, lot.from_warrant, lot.from_lot)
                for lot_id, lot in s.lots.items() if lot.remaining > 0}

    def warrants(self, as_of: date, known_at: datetime | None = None) -> dict[str, tuple[Any, ...]]:
        s = self.state(as_of, known_at)
        out = {}
        for wid, w in s.warrants.items():
            status = w.status(as_of)
            live = status == "outstanding"
            out[wid] = (w.holder, w.share_class, w.issued, status, w.shares if live else 0,
                        w.exercised, w.price, w.start, w.expires, live and w.start <= as_of,
                        w.replaces, w.replaced_by, w.issued_for)
        return out

    def consideration(self, as_of: date, known_at: datetime | None = None
                      ) -> dict[str, dict[str, dict[str, Fraction]]]:
        """holder -> kind (paid, refunded, repurchased, cash in lieu, net) -> currency -> total;
        a payment counts from its own date."""
        out: dict[str, dict[str, dict[str, Fraction]]] = {}
        for holder, day, kind, currency, amount in self.state(as_of, known_at).money:
            if day > as_of:
                continue
            kinds = out.setdefault(holder, {})
            bucket = kinds.setdefault(kind, {})
            bucket[currency] = bucket.get(currency, Fraction(0)) + amount
            net = kinds.setdefault("net", {})
            net[currency] = net.get(currency, Fraction(0)) + (amount if kind == "paid" else -amount)
        return out
