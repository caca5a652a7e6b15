"""Hypothesis strategies: valid ledgers, drafted entries of every kind, and invalid entries.

Every kind of entry has one drafting strategy in ``KINDS``: given a ``Draft`` (the model's
view of the ledger so far plus the batch being written), it proposes a plausible entry of
that kind, or None when the ledger has nothing it could apply to. Proposals are plausible,
not guaranteed valid: ``ledgers()`` keeps only those the independent model accepts, the
stateful test records them all and checks that the application and the model agree.

Adding a kind of entry: write one ``@st.composite`` drafting function, list it in ``KINDS``
(and ``WEIGHTS``), and add its ``on_<Type>`` method to ``tests/property/model.py``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
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
    parse_entry,
)
from ledger.values import Citation, Money
from tests.property.model import ModelLedger, MState

FIRST_DAY = date(1990, 1, 1)
LAST_DAY = date(2045, 12, 31)
RECORDING_EPOCH = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)
CURRENCIES = ("USD", "USD", "USD", "EUR")

# --- plain values ----------------------------------------------------------------------------

issuer_ids = st.sampled_from(["neotherapeutics", "acme", "x", "issuer-1"])
# Names a person could write, including characters YAML treats specially.
names = st.sampled_from([
    "Stonestreet Limited Partnership", "Ada Lovelace", "Common Stock, par $.001",
    "Series A: Preferred", "O'Brien & Sons", 'The "Quoted" Fund', "Zoë Müller #2", "- dash",
    "yes", "null", "1e3", "Ω Holdings 株式会社",
])
memos = st.none() | names | st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=30
)


@st.composite
def amounts(draw: st.DrawFn, max_digits: int = 9) -> Decimal:
    """An exact Decimal written with 0 to 6 decimal places (scale kept: 5.50 stays 5.50),
    or, rarely, in exponent form (5E+3)."""
    digits = draw(st.integers(0, 10**max_digits - 1))
    if draw(st.integers(0, 15)) == 0:
        return Decimal(digits).scaleb(draw(st.integers(1, 3)))
    return Decimal(digits).scaleb(-draw(st.integers(0, 6)))


@st.composite
def money(draw: st.DrawFn, currency: str | None = None, max_digits: int = 9) -> Money:
    cur = currency or draw(st.sampled_from(CURRENCIES))
    return Money(amount=draw(amounts(max_digits)), currency=cur)


def exact_decimal(value: Fraction) -> Decimal:
    """A fraction with a terminating decimal expansion, as an exact Decimal."""
    places = 0
    while (value * 10**places).denominator != 1:
        places += 1
        assert places <= 40, f"{value} has no terminating decimal expansion"
    return Decimal(int(value * 10**places)).scaleb(-places)


def citation(day: date) -> Citation:
    return Citation(document="Generated agreement", dated=day, section="1")


# --- the draft: what a drafting strategy may look at ------------------------------------------


@dataclass
class Draft:
    """The ledger as recorded so far (the model) and the batch being drafted."""

    model: ModelLedger
    start: date
    batch: list[AnyEntry] = field(default_factory=list)
    counter: Any = field(default_factory=itertools.count)  # shared id source
    batches: list[list[AnyEntry]] = field(default_factory=list)
    times: list[datetime] = field(default_factory=list)

    def fresh(self, prefix: str) -> str:
        return f"{prefix}{next(self.counter)}"

    def entries(self) -> list[AnyEntry]:
        """The book entries as they stand (corrections applied), recorded and drafted."""
        return [e for _, e in self.model.resolved(extra=self.batch)]

    def final(self) -> MState:
        """The state with every recorded and drafted entry (as of the end of time)."""
        return self.model.state(extra=self.batch)

    def state_at(self, day: date) -> MState:
        return self.model.state(as_of=day, extra=self.batch)

    def dates(self) -> list[date]:
        return sorted({e.effective for e in self.entries()} | {self.start})

    def latest(self) -> date:
        return self.dates()[-1]

    def born(self, ident: str) -> date:
        """The effective date of the entry that first creates ``ident`` (or the start)."""
        days = [e.effective for e in self.entries()
                if ident in (getattr(e, name, None) for name in _CREATING_FIELDS.get(e.type, ()))]
        return min(days, default=self.start)

    def try_add(self, entry: AnyEntry) -> bool:
        """Add ``entry`` to the batch if the model accepts the batch with it."""
        if self.model.new_entries([*self.batch, entry]) is None:
            return False
        self.batch.append(entry)
        return True

    def close_batch(self, recorded_at: datetime | None = None) -> None:
        if not self.batch:
            return
        at = recorded_at or RECORDING_EPOCH + timedelta(seconds=len(self.batches), milliseconds=7)
        self.model.commit(self.batch, at)
        self.batches.append(self.batch)
        self.times.append(at)
        self.batch = []


# Which fields of an entry name something it creates (used only to draft sensible dates).
_CREATING_FIELDS: dict[str, tuple[str, ...]] = {
    "IssuerCreated": ("issuer",), "StakeholderAdded": ("holder",),
    "ShareClassCreated": ("share_class",), "SharesPurchased": ("lot",),
    "WarrantIssued": ("warrant",), "WarrantReissued": ("new_warrant",),
    "WarrantExercised": ("lot",), "SharesTransferred": ("new_lot",),
    "SharesConverted": ("new_lot",),
}


@st.composite
def effective(draw: st.DrawFn, g: Draft, not_before: date) -> date:
    """A date on or after ``not_before``: mostly moving forward (spread over years), often on
    a day something already happens, and sometimes back-dated before later recorded events."""
    not_before = max(not_before, g.start)
    latest = max(g.latest(), not_before)
    how = draw(st.sampled_from(("forward", "same-day", "forward", "back-dated")))
    if how == "forward":
        return min(LAST_DAY, latest + timedelta(days=draw(st.integers(0, 500))))
    if how == "same-day":
        return draw(st.sampled_from([d for d in g.dates() if d >= not_before] or [not_before]))
    return not_before + timedelta(days=draw(st.integers(0, (latest - not_before).days)))


def _common(draw: st.DrawFn, g: Draft, day: date) -> dict[str, Any]:
    return {"id": g.fresh("e"), "effective": day, "citation": citation(day),
            "memo": draw(memos)}


# --- one drafting strategy per kind ------------------------------------------------------------


@st.composite
def draft_holder(draw: st.DrawFn, g: Draft) -> AnyEntry | None:
    day = draw(effective(g, g.start))
    return StakeholderAdded(**_common(draw, g, day), holder=g.fresh("h"), name=draw(names))


@st.composite
def draft_class(draw: st.DrawFn, g: Draft) -> AnyEntry | None:
    day = draw(effective(g, g.start))
    authorized = draw(st.integers(1, 1_000) | st.integers(1, 10**9))
    par = draw(st.none() | money(max_digits=4))
    return ShareClassCreated(**_common(draw, g, day), share_class=g.fresh("c"), name=draw(names),
                             authorized=authorized, par_value=par)


@st.composite
def draft_purchase(draw: st.DrawFn, g: Draft) -> AnyEntry | None:
    final = g.final()
    if not final.holders or not final.classes:
        return None
    holder = draw(st.sampled_from(sorted(final.holders)))
    share_class = draw(st.sampled_from(sorted(final.classes)))
    day = draw(effective(g, max(g.born(holder), g.born(share_class))))
    state = g.state_at(day)
    room = state.classes.get(share_class, 0) - state.outstanding(share_class)
    if room <= 0:
        return None
    quantity = draw(st.integers(1, min(room, 5_000)) | st.just(room) | st.integers(1, room))
    price = draw(st.none() | money(max_digits=6))
    return SharesPurchased(**_common(draw, g, day), lot=g.fresh("L"), holder=holder,
                           share_class=share_class, quantity=quantity, price_per_share=price,
                           consideration=draw(money()))


@st.composite
def draft_rescission(draw: st.DrawFn, g: Draft) -> AnyEntry | None:
    lots = g.final().lots
    if not lots:
        return None
    lot_id = draw(st.sampled_from(sorted(lots)))
    day = draw(effective(g, lots[lot_id].acquired))
    lot = g.state_at(day).lots.get(lot_id)
    if lot is None or lot.quantity == lot.rescinded:
        return None
    remaining = lot.quantity - lot.rescinded
    quantity = draw(st.just(remaining) | st.integers(1, remaining))  # whole or partial
    per_share = draw(money(max_digits=6))
    return PurchaseRescinded(**_common(draw, g, day), lot=lot_id, quantity=quantity,
                             refund_per_share=per_share, refund_total=per_share.times(quantity))


@st.composite
def draft_warrant(draw: st.DrawFn, g: Draft) -> AnyEntry | None:
    final = g.final()
    if not final.holders or not final.classes:
        return None
    holder = draw(st.sampled_from(sorted(final.holders)))
    share_class = draw(st.sampled_from(sorted(final.classes)))
    day = draw(effective(g, max(g.born(holder), g.born(share_class))))
    start = draw(st.none() | st.integers(-100, 900).map(lambda d: day + timedelta(days=d)))
    expires = draw(st.none() | st.integers(-30, 2_500).map(
        lambda d: (start or day) + timedelta(days=d)))
    earlier = sorted(w for w, born in g.final().warrants.items() if born.issued <= day)
    exchanged_for = draw(st.none() | st.sampled_from(earlier)) if earlier else None
    return WarrantIssued(**_common(draw, g, day), warrant=g.fresh("W"), holder=holder,
                         share_class=share_class, shares=draw(st.integers(1, 10**6)),
                         exercise_price=draw(money(max_digits=6)), exercisable_from=start,
                         expires=expires, consideration=draw(st.none() | money()),
                         in_exchange_for=exchanged_for)


def _live_warrant(draw: st.DrawFn, g: Draft, *, exercisable: bool = False
                  ) -> tuple[str, date, MState] | None:
    warrants = g.final().warrants
    if not warrants:
        return None
    wid = draw(st.sampled_from(sorted(warrants)))
    w = warrants[wid]
    not_before = max(w.issued, w.start) if exercisable else w.issued
    day = draw(effective(g, not_before))
    state = g.state_at(day)
    live = state.warrants.get(wid)
    if live is None or live.status(day) != "outstanding":
        return None
    return wid, day, state


@st.composite
def draft_amendment(draw: st.DrawFn, g: Draft) -> AnyEntry | None:
    found = _live_warrant(draw, g)
    if found is None:
        return None
    wid, day, _ = found
    changes = {
        "exercisable_from": draw(st.none() | st.integers(-200, 700).map(
            lambda d: day + timedelta(days=d))),
        "expires": draw(st.none() | st.integers(-10, 2_000).map(lambda d: day + timedelta(days=d))),
        "exercise_price": draw(st.none() | money(max_digits=6)),
        "shares": draw(st.none() | st.integers(1, 10**6)),
    }
    if all(v is None for v in changes.values()):
        changes["exercisable_from"] = day
    return WarrantAmended(**_common(draw, g, day), warrant=wid, **changes)


@st.composite
def draft_reissue(draw: st.DrawFn, g: Draft) -> AnyEntry | None:
    found = _live_warrant(draw, g)
    if found is None:
        return None
    wid, day, _ = found
    terms: dict[str, Any] = {}
    if draw(st.booleans()):  # an exchange: new terms; otherwise a plain reissue
        terms = {
            "shares": draw(st.none() | st.integers(1, 10**6)),
            "exercise_price": draw(st.none() | money(max_digits=6)),
            "exercisable_from": draw(st.none() | st.integers(-100, 700).map(
                lambda d: day + timedelta(days=d))),
            "expires": draw(st.none() | st.integers(0, 2_000).map(lambda d: day + timedelta(days=d))),
        }
    return WarrantReissued(**_common(draw, g, day), warrant=wid, new_warrant=g.fresh("W"), **terms)


@st.composite
def draft_exercise(draw: st.DrawFn, g: Draft) -> AnyEntry | None:
    found = _live_warrant(draw, g, exercisable=True)
    if found is None:
        return None
    wid, day, state = found
    w = state.warrants[wid]
    room = state.classes[w.share_class] - state.outstanding(w.share_class)
    if room <= 0 or day < w.start:
        return None
    shares = draw(st.just(min(w.shares, room)) | st.integers(1, min(w.shares, room)))
    price, currency = w.price
    payment = draw(st.none() | st.just(Money(amount=exact_decimal(price * shares), currency=currency)))
    return WarrantExercised(**_common(draw, g, day), warrant=wid, shares=shares,
                            lot=g.fresh("L"), payment=payment)


@st.composite
def draft_cancellation(draw: st.DrawFn, g: Draft) -> AnyEntry | None:
    found = _live_warrant(draw, g)
    if found is None:
        return None
    wid, day, _ = found
    return WarrantCancelled(**_common(draw, g, day), warrant=wid)


def _lot_with_shares(draw: st.DrawFn, g: Draft) -> tuple[str, date, int, MState] | None:
    """A lot, a date on or after its acquisition and the shares it holds then (> 0)."""
    lots = g.final().lots
    if not lots:
        return None
    lot_id = draw(st.sampled_from(sorted(lots)))
    day = draw(effective(g, lots[lot_id].acquired))
    state = g.state_at(day)
    lot = state.lots.get(lot_id)
    if lot is None or lot.remaining <= 0:
        return None
    return lot_id, day, lot.remaining, state


def _some_of(draw: st.DrawFn, available: int) -> int:
    return draw(st.just(available) | st.integers(1, available))  # whole or partial


ratios = st.builds(Ratio, new=st.integers(1, 12), old=st.integers(1, 12)) | st.sampled_from(
    [Ratio(new=2, old=1), Ratio(new=1, old=10), Ratio(new=3, old=2), Ratio(new=1, old=20)])


_CONVERSIONS = [Ratio(new=1, old=1), Ratio(new=1, old=2), Ratio(new=3, old=2), Ratio(new=10, old=1)]


@st.composite
def draft_transfer(draw: st.DrawFn, g: Draft) -> AnyEntry | None:
    found = _lot_with_shares(draw, g)
    if found is None:
        return None
    lot_id, day, available, state = found
    others = sorted(h for h in state.holders if h != state.lots[lot_id].holder)
    if not others:
        return None
    # Now and then to the holder who already has it: the model must agree that is refused.
    to = draw(st.sampled_from(others))
    if draw(st.sampled_from(["another holder"] * 7 + ["the same holder"])) == "the same holder":
        to = state.lots[lot_id].holder
    return SharesTransferred(**_common(draw, g, day), lot=lot_id, quantity=_some_of(draw, available),
                             to_holder=to, new_lot=g.fresh("L"),
                             price_per_share=draw(st.none() | money(max_digits=6)))


@st.composite
def draft_repurchase(draw: st.DrawFn, g: Draft) -> AnyEntry | None:
    found = _lot_with_shares(draw, g)
    if found is None:
        return None
    lot_id, day, available, _ = found
    quantity = _some_of(draw, available)
    price = draw(money(max_digits=6))
    return SharesRepurchased(**_common(draw, g, day), lot=lot_id, quantity=quantity,
                             price_per_share=price, total=price.times(quantity))


@st.composite
def draft_share_cancellation(draw: st.DrawFn, g: Draft) -> AnyEntry | None:
    found = _lot_with_shares(draw, g)
    if found is None:
        return None
    lot_id, day, available, _ = found
    return SharesCancelled(**_common(draw, g, day), lot=lot_id, quantity=_some_of(draw, available))


@st.composite
def draft_split(draw: st.DrawFn, g: Draft) -> AnyEntry | None:
    classes = g.final().class_born
    if not classes:
        return None
    share_class = draw(st.sampled_from(sorted(classes)))
    day = draw(effective(g, classes[share_class]))
    return StockSplit(**_common(draw, g, day), share_class=share_class, ratio=draw(ratios),
                      cash_per_share=draw(money(max_digits=5) | st.none()),
                      authorized=draw(st.none() | st.integers(1, 10**10)))


@st.composite
def draft_conversion(draw: st.DrawFn, g: Draft) -> AnyEntry | None:
    found = _lot_with_shares(draw, g)
    if found is None:
        return None
    lot_id, day, available, state = found
    targets = sorted(c for c in state.classes if c != state.lots[lot_id].share_class)
    if not targets:
        return None
    return SharesConverted(**_common(draw, g, day), lot=lot_id, quantity=_some_of(draw, available),
                           to_class=draw(st.sampled_from(targets)),
                           ratio=draw(st.sampled_from(_CONVERSIONS) | ratios),
                           new_lot=g.fresh("L"), cash_per_share=draw(money(max_digits=5) | st.none()))


@st.composite
def draft_rescission_ab_initio(draw: st.DrawFn, g: Draft) -> AnyEntry | None:
    final = g.final()
    securities = {k: v.acquired for k, v in final.lots.items() if v.purchase}
    securities.update({k: v.issued for k, v in final.warrants.items()})
    if not securities:
        return None
    security = draw(st.sampled_from(sorted(securities)))
    day = securities[security]  # ab initio: effective on the security's own date
    signed = day + timedelta(days=draw(st.integers(0, 400)))
    common = _common(draw, g, day) | {"citation": Citation(
        document="Rescission agreement", dated=signed, section="2")}
    return RescindedAbInitio(**common, security=security,
                             refund_total=draw(st.none() | money()),
                             refunded_on=draw(st.none() | st.just(signed + timedelta(days=3))))


# --- the recorded-time axis: corrections and voids --------------------------------------------

_NUMBERS = ("quantity", "shares", "authorized")


@st.composite
def draft_correction(draw: st.DrawFn, g: Draft) -> AnyEntry | None:
    """A clerical fix of a standing entry: its memo, its date, or one of its figures."""
    targets = [e for e in g.entries() if e.type != "IssuerCreated"]
    if not targets:
        return None
    target = draw(st.sampled_from(targets))
    content = target.content()
    what = draw(st.sampled_from(("memo", "effective", "figure")))
    if what == "effective":
        content["effective"] = (target.effective + timedelta(days=draw(st.integers(-60, 60)))).isoformat()
    elif what == "figure" and any(k in content for k in _NUMBERS):
        key = next(k for k in _NUMBERS if k in content)
        content[key] = max(1, content[key] + draw(st.integers(-1_000, 1_000)))
    else:
        content["memo"] = f"corrected {g.fresh('m')}"
    replacement = parse_entry(content)
    if replacement.content() == target.content():
        return None
    day = max(g.latest(), target.effective)
    return EntryCorrected(**_common(draw, g, day), target=target.id, replacement=replacement,
                          reason="clerical error in the journal", by="transfer agent")


@st.composite
def draft_void(draw: st.DrawFn, g: Draft) -> AnyEntry | None:
    targets = [e for e in g.entries() if e.type != "IssuerCreated"]
    if not targets:
        return None
    target = draw(st.sampled_from(targets))
    day = max(g.latest(), target.effective)
    return EntryVoided(**_common(draw, g, day), target=target.id, reason="recorded by mistake",
                       by="transfer agent")


Drafter = Callable[[Draft], st.SearchStrategy[AnyEntry | None]]

KINDS: dict[str, Drafter] = {
    "StakeholderAdded": draft_holder,
    "ShareClassCreated": draft_class,
    "SharesPurchased": draft_purchase,
    "PurchaseRescinded": draft_rescission,
    "WarrantIssued": draft_warrant,
    "WarrantAmended": draft_amendment,
    "WarrantReissued": draft_reissue,
    "WarrantExercised": draft_exercise,
    "WarrantCancelled": draft_cancellation,
    "SharesTransferred": draft_transfer,
    "SharesRepurchased": draft_repurchase,
    "SharesCancelled": draft_share_cancellation,
    "StockSplit": draft_split,
    "SharesConverted": draft_conversion,
    "RescindedAbInitio": draft_rescission_ab_initio,
    "EntryCorrected": draft_correction,
    "EntryVoided": draft_void,
}
# How often each kind is proposed (a kind listed twice is proposed twice as often).
WEIGHTS: tuple[str, ...] = (
    *["SharesPurchased"] * 4, *["WarrantIssued"] * 3, *["WarrantExercised"] * 3,
    *["PurchaseRescinded"] * 2, *["SharesTransferred"] * 2, "StakeholderAdded", "ShareClassCreated",
    "WarrantAmended", "WarrantReissued", "WarrantCancelled", "SharesRepurchased", "SharesCancelled",
    "StockSplit", "SharesConverted", "RescindedAbInitio", "EntryCorrected", "EntryVoided",
)


def issuer_entry(issuer: str, day: date) -> IssuerCreated:
    return IssuerCreated(id=f"{issuer}-created", effective=day, citation=citation(day),
                         issuer=issuer, name=f"{issuer} Inc.")


# --- valid ledgers -------------------------------------------------------------------------


@dataclass(frozen=True)
class GeneratedLedger:
    """A valid ledger: batches of entries in recording order, each with its recorded time."""

    issuer: str
    batches: list[list[AnyEntry]]
    times: list[datetime]

    @property
    def entries(self) -> list[AnyEntry]:
        return [e for batch in self.batches for e in batch]

    def dates(self) -> list[date]:
        return sorted({e.effective for e in self.entries})


def new_draft(issuer: str, start: date) -> Draft:
    g = Draft(ModelLedger(issuer), start)
    assert g.try_add(issuer_entry(issuer, start))
    return g


@st.composite
def grown(draw: st.DrawFn, max_steps: int = 30) -> Draft:
    """A draft grown step by step into a valid ledger (every batch closed); each proposal the
    model rejects is dropped."""
    issuer = draw(issuer_ids)
    g = new_draft(issuer, draw(st.dates(date(1995, 1, 1), date(2025, 12, 31))))
    opening = ["StakeholderAdded"] * draw(st.integers(0, 3)) + ["ShareClassCreated"] * draw(
        st.integers(0, 2)) + ["SharesPurchased", "WarrantIssued"] * draw(st.integers(0, 2))
    for kind in opening:  # most ledgers open with a few holders, classes and securities
        entry = draw(KINDS[kind](g))
        if entry is not None:
            g.try_add(entry)
    for _ in range(draw(st.integers(min(4, max_steps), max_steps))):
        entry = draw(KINDS[draw(st.sampled_from(WEIGHTS))](g))
        if entry is not None:
            g.try_add(entry)
        if draw(st.integers(0, 2)) == 0:
            g.close_batch()
    g.close_batch()
    return g


def finished(g: Draft) -> GeneratedLedger:
    g.close_batch()
    return GeneratedLedger(g.model.issuer, list(g.batches), list(g.times))


def ledgers(max_steps: int = 30) -> st.SearchStrategy[GeneratedLedger]:
    """Valid ledgers: issuers, holders, classes, purchases, rescissions and warrant events,
    recorded in batches, with same-day and back-dated entries."""
    return grown(max_steps).map(finished)


def same_day_order_kept(entries: Sequence[AnyEntry], permutation: Sequence[int]) -> list[AnyEntry]:
    """Reorder ``entries`` by ``permutation``, then put the entries of each effective date back
    in their original relative order (the order in which same-day events apply)."""
    shuffled = [entries[i] for i in permutation]
    queues: dict[date, list[AnyEntry]] = {}
    for e in entries:
        queues.setdefault(e.effective, []).append(e)
    return [queues[e.effective].pop(0) for e in shuffled]
