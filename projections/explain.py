"""Why a holder's figures are what they are: each figure with the entries that produce it.

``explain(records, holder, as_of, known_at)`` gives, for one holder, the shares of each lot
and class, each warrant's shares and exercisable shares, the fully diluted shares and %, and
the consideration, each with its causes: the entries (as corrected by ``known_at``) that made
the figure, in the order they apply, each with its effect and its citation. Totals name the
figures they add up (``basis``) instead of repeating their causes. The values are the ones
the other projections give (the tests check that): this module only adds the reasons.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from ledger.book import Book, Lot, Warrant
from ledger.entries import (
    AnyEntry,
    RescindedAbInitio,
    StockSplit,
    WarrantAmended,
    WarrantCancelled,
    WarrantExercised,
    WarrantIssued,
    WarrantReissued,
)
from ledger.errors import LedgerError
from ledger.records import RecordedEntry
from ledger.values import Citation
from ledger.values import format_shares as n
from projections.consideration import consideration
from projections.register import lot_effect
from projections.report_data import Diluted, fully_diluted, steps
from projections.timeline import ordered, snapshot
from projections.warrants import next_change

Unit = Literal["shares", "percent", "money"]


class UnknownHolder(LedgerError):
    pass


@dataclass(frozen=True)
class Cause:
    """An entry behind a figure. ``sequence`` and ``recorded_at`` are None only for a warrant
    expiring under its own terms (no entry: ``entry`` then names the entry that set the date)."""

    entry: str
    type: str
    effective: date
    effect: str
    citation: Citation
    sequence: int | None
    recorded_at: datetime | None


@dataclass(frozen=True)
class Figure:
    figure: str
    subject: str
    value: int | Decimal | dict[str, Decimal]
    unit: Unit
    basis: str
    causes: list[Cause]


@dataclass(frozen=True)
class Explanation:
    issuer: str
    holder: str
    name: str
    as_of: date
    known_at: datetime | None
    figures: list[Figure]


def cause(record: RecordedEntry, effect: str, effective: date | None = None) -> Cause:
    e = record.entry
    return Cause(e.id, e.type, effective or e.effective, effect, e.citation, record.sequence,
                 record.recorded_at)


def find_holder(book: Book, wanted: str, known_later: Iterable[AnyEntry], as_of: date) -> str:
    """A holder id, or a holder's exact name (any case) when only one holder has it."""
    if wanted in book.holders:
        return wanted
    named = [h for h, added in book.holders.items() if added.name.casefold() == wanted.casefold()]
    if len(named) == 1:
        return named[0]
    later = [e for e in known_later if getattr(e, "holder", None) == wanted and e.type == "StakeholderAdded"]
    if later:
        raise UnknownHolder(f"holder {wanted!r} is only on the ledger from {later[0].effective}, "
                            f"after {as_of}")
    known = ", ".join(f"{h} ({a.name})" for h, a in sorted(book.holders.items())) or "none"
    raise UnknownHolder(f"unknown holder {wanted!r} as of {as_of} (holders: {known})")


def explain(
    records: Iterable[RecordedEntry], holder: str, as_of: date, known_at: datetime | None = None
) -> Explanation:
    records = list(records)
    kept = ordered(records, as_of, known_at)
    by_id = {r.entry.id: r for r in kept}
    book = snapshot(records, as_of, known_at).book
    holder = find_holder(book, holder, (r.entry for r in ordered(records, None, known_at)), as_of)
    lots = sorted((lot for lot in book.lots.values() if lot.holder == holder),
                  key=lambda lot: (lot.share_class, lot.acquired, lot.lot))
    figures = [lot_figure(lot, by_id) for lot in lots]
    classes = sorted({lot.share_class for lot in lots})
    for cls in classes:
        mine = [lot for lot in lots if lot.share_class == cls and lot.remaining]
        figures.append(Figure("shares", cls, sum(lot.remaining for lot in mine), "shares",
                              "sum of lots " + (", ".join(f"{lot.lot} ({n(lot.remaining)})" for lot in mine)
                                                or "(none remaining)"), []))
    held = [w for w in book.warrants.values() if w.holder == holder and w.status != "surrendered"]
    held.sort(key=lambda w: (w.issued, w.warrant))
    for w in held:
        figures.extend(warrant_figures(w, book, by_id, as_of))
    live = [w for w in held if w.status_on(as_of) == "outstanding"]
    warrant_total = sum(w.shares for w in live)
    figures.append(Figure("warrant shares", "all warrants", warrant_total, "shares",
                          _listing(live, lambda w: w.shares), []))
    figures.append(Figure("exercisable shares", "all warrants",
                          sum(w.shares for w in live if w.exercisable_on(as_of)), "shares",
                          _listing([w for w in live if w.exercisable_on(as_of)], lambda w: w.shares), []))
    figures.extend(diluted_figures(records, holder, as_of, known_at, by_id, book))
    figures.extend(consideration_figures(records, holder, as_of, known_at, by_id))
    issuer = book.issuer.issuer if book.issuer else ""
    return Explanation(issuer, holder, book.holders[holder].name, as_of, known_at, figures)


def _listing(warrants: list[Warrant], amount: object) -> str:
    if not warrants:
        return "no warrant outstanding" if amount else "none"
    return "sum of " + ", ".join(f"{w.warrant} ({n(w.shares)})" for w in warrants)


def lot_figure(lot: Lot, by_id: dict[str, RecordedEntry]) -> Figure:
    causes, balance = [], 0
    for m in lot.movements:
        balance += m.shares
        record = by_id[m.entry]
        causes.append(cause(record, f"{m.shares:+,} shares: {lot_effect(record.entry, lot, m)}; "
                                    f"lot now {n(balance)}"))
    basis = f"acquired {lot.acquired} ({n(lot.quantity)} shares)"
    if lot.from_lot:
        basis += f" from lot {lot.from_lot}; held since {lot.held_since}"
    if lot.from_warrant:
        basis += f" on exercise of warrant {lot.from_warrant}"
    return Figure("shares", f"lot {lot.lot} ({lot.share_class})", lot.remaining, "shares", basis, causes)


def lineage(w: Warrant, book: Book) -> list[Warrant]:
    """The warrant and those it replaced, oldest first."""
    chain = [w]
    while chain[0].replaces is not None and chain[0].replaces in book.warrants:
        chain.insert(0, book.warrants[chain[0].replaces])
    return chain


def _terms(shares: int | None, price: object, start: date | None, last: date | None) -> list[str]:
    """Stated terms in words: "193,548 shares at 0.275 USD", "exercisable from ..."."""
    size = " ".join(text for value, text in ((shares, f"{n(shares or 0)} shares"), (price, f"at {price}"))
                    if value is not None)
    return [text for text in (size, f"exercisable from {start}" if start else "",
                              f"last day {last}" if last else "") if text]


def warrant_effect(e: AnyEntry, chain: list[Warrant]) -> str:
    """What ``e`` did to the warrant whose lineage is ``chain``."""
    if isinstance(e, WarrantIssued):
        return (f"issued {e.warrant}: " + ", ".join(_terms(e.shares, e.exercise_price,
                                                             e.exercisable_from or e.effective, e.expires))
                + ("" if e.expires else ", no expiry stated")
                + (f", for {e.consideration}" if e.consideration else "")
                + (f", in exchange for {e.in_exchange_for}" if e.in_exchange_for else ""))
    if isinstance(e, WarrantAmended):
        return f"amended {e.warrant}: " + ", ".join(_terms(e.shares, e.exercise_price, e.exercisable_from,
                                                           e.expires))
    if isinstance(e, WarrantReissued):
        changed = _terms(e.shares, e.exercise_price, e.exercisable_from, e.expires)
        return (f"{e.warrant} surrendered; {e.new_warrant} issued with "
                + (", ".join(changed) if changed else "the terms in force"))
    if isinstance(e, WarrantExercised):
        return (f"exercised {n(e.shares)} shares of {e.warrant} into lot {e.lot}"
                + (f", paying {e.payment}" if e.payment else ""))
    if isinstance(e, WarrantCancelled):
        return f"{e.warrant} cancelled"
    if isinstance(e, RescindedAbInitio):
        return f"{e.security} rescinded ab initio" + (f", refund {e.refund_total}" if e.refund_total else "")
    if isinstance(e, StockSplit):
        done = [f"{w.warrant} {n(a.shares_before)} at {a.price_before} -> "
                f"{n(a.shares_after)} at {a.price_after}"
                for w in chain for a in w.adjustments if a.entry == e.id]
        return f"{e.ratio} split of {e.share_class}: " + "; ".join(done)
    return e.type


_WINDOW = (WarrantIssued, WarrantReissued, WarrantCancelled, RescindedAbInitio)


def _sets_window(entry: AnyEntry) -> bool:
    if isinstance(entry, WarrantAmended):
        return entry.exercisable_from is not None or entry.expires is not None
    return isinstance(entry, _WINDOW)


def warrant_figures(w: Warrant, book: Book, by_id: dict[str, RecordedEntry], as_of: date) -> list[Figure]:
    chain = lineage(w, book)
    ids = list(dict.fromkeys(entry for link in chain for entry in link.entries))
    records = sorted((by_id[i] for i in ids), key=lambda r: (r.effective, r.sequence))
    causes = [cause(r, warrant_effect(r.entry, chain)) for r in records]
    status = w.status_on(as_of)
    outstanding = status == "outstanding"
    shares = w.shares if outstanding else 0
    terms = (f"{n(w.shares)} shares of {w.share_class} at {w.exercise_price}" if outstanding
             else f"{status} since {w.status_since(as_of)}")
    window = f"exercisable from {w.exercisable_from}, " + (f"last day {w.expires}" if w.expires
                                                           else "no expiry stated")
    if not outstanding:
        reading = f"{status}: nothing exercisable"
    elif w.exercisable_on(as_of):
        reading = f"exercisable on {as_of}"
    else:
        reading = f"not exercisable on {as_of}; exercisable from {next_change(w, as_of)}"
    subject = f"warrant {w.warrant}"
    return [
        Figure("warrant shares", subject, shares, "shares", terms, causes),
        Figure("exercisable shares", subject, shares if w.exercisable_on(as_of) else 0, "shares",
               f"{window}: {reading}",
               [c for c, r in zip(causes, records, strict=True) if _sets_window(r.entry)]),
    ]


def diluted_figures(records: list[RecordedEntry], holder: str, as_of: date, known_at: datetime | None,
                    by_id: dict[str, RecordedEntry], book: Book) -> list[Figure]:
    """The entries that changed this holder's fully diluted shares or the issuer's total."""
    causes: list[Cause] = []
    before = Diluted({}, 0)
    for step in steps(records, as_of, known_at):
        after = fully_diluted(step.book, step.day)
        was, now = before.holders.get(holder, 0), after.holders.get(holder, 0)
        if was != now or before.total != after.total:
            effect = (f"holder {n(was)} -> {n(now)}, total {n(before.total)} -> {n(after.total)}: "
                      f"{after.percent(holder)}%")
            if step.cause is not None:
                causes.append(cause(step.cause, effect))
            else:
                causes.extend(_lapse(step.book.warrants[w], step.day, by_id, effect) for w in step.lapsed)
        before = after
    final = fully_diluted(book, as_of)
    mine = final.holders.get(holder, 0)
    return [
        Figure("fully diluted shares", holder, mine, "shares",
               "shares of every class + warrant shares outstanding (exercisable or not)", []),
        Figure("fully diluted %", holder, final.percent(holder), "percent",
               f"{n(mine)} of {n(final.total)} fully diluted shares, rounded half-even to 4 places",
               causes),
    ]


def _lapse(w: Warrant, day: date, by_id: dict[str, RecordedEntry], effect: str) -> Cause:
    """A warrant that expired with no entry: cite the entry that set its last day."""
    setting = next(by_id[i] for i in reversed(w.entries) if getattr(by_id[i].entry, "expires", None))
    return Cause(setting.entry.id, "WarrantExpired", day, f"warrant {w.warrant} expired after {w.expires}; "
                 f"{effect}", setting.entry.citation, None, None)


_KINDS = (("consideration paid", "paid"), ("refunded", "refunded"), ("repurchased", "repurchased"),
          ("cash in lieu", "cash in lieu"))


def consideration_figures(records: list[RecordedEntry], holder: str, as_of: date, known_at: datetime | None,
                          by_id: dict[str, RecordedEntry]) -> list[Figure]:
    mine = next((c for c in consideration(records, as_of, known_at) if c.holder == holder), None)
    if mine is None:
        return [Figure("net consideration", holder, {}, "money", "no payment to or from the issuer", [])]
    totals = {"paid": mine.paid, "refunded": mine.refunded, "repurchased": mine.repurchased,
              "cash in lieu": mine.cash_in_lieu}
    figures = []
    for label, kind in _KINDS:
        payments = [p for p in mine.movements if p.direction == kind]
        if payments or kind == "paid":
            causes = [cause(by_id[p.entry], f"{kind} {p.amount} ({p.security}) on {p.effective}", p.effective)
                      for p in payments]
            figures.append(Figure(label, holder, totals[kind], "money",
                                  f"sum of {len(payments)} payment(s)", causes))
    figures.append(Figure("net consideration", holder, mine.net, "money",
                          "paid - refunded - repurchased - cash in lieu, per currency", []))
    return figures
