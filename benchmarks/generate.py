"""A deterministic workload: N entries for one issuer with H holders over 20 years.

    from benchmarks.generate import generate
    w = generate(100_000, holders=1_000, seed=1)
    w.entries    # plain dicts in *recording* order (parse with ledger.entries.parse_entry)
    w.postings   # (date, holder, commodity, signed quantity): the same ledger as share movements

The generator books its own simplified state in effective-date order (lots, warrants, splits,
expiry), so every entry it emits is valid. Then about 5% of the entries are recorded late: moved
later in recording order by 1..500 places (so they land back-dated on a ledger that has already
moved on). Only entries that nothing in between depends on are moved (no entry in the window
touches the same lot, warrant or holder, and no split lies in it), so every prefix of the
recording order books cleanly, and the final timeline is the generated one.

``postings`` are the share movements per holder, for the baselines (the plain SQL table and
the Beancount file): shares as commodity COMMON, shares under outstanding warrants as WARRANT
(a warrant's expiry is an explicit movement there; capledger derives it from the date).
"""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

START = date(2005, 1, 3)
DAYS = 20 * 365 + 5  # 20 years
ISSUER = "bench-co"
LATE_SHARE = 0.065  # chosen; about 5% end up late (the rest have a dependant in their window)
LATE_MAX = 500
SPLIT_YEARS = (5, 10, 15)  # 2-for-1 each

# Operation mix once the issuer and its classes exist (holders are added as they first appear).
MIX = (("purchase", 36), ("rescind", 5), ("transfer", 20), ("warrant", 14), ("amend", 6),
       ("reissue", 4), ("exercise", 12))

Posting = tuple[date, str, str, int]


@dataclass
class Workload:
    size: int
    holders: int
    seed: int
    entries: list[dict[str, Any]]  # recording order
    late: int  # entries recorded after an entry with a later effective date
    postings: list[Posting] = field(default_factory=list)
    last_day: date = START

    @property
    def first_day(self) -> date:
        return START


def _cite(doc: str, day: date) -> dict[str, Any]:
    return {"document": doc, "dated": day.isoformat(), "section": "1"}


@dataclass
class _Lot:
    holder: str
    remaining: int
    price: str | None  # purchase price (purchase lots only: those can be rescinded)


@dataclass
class _Warrant:
    holder: str
    shares: int
    expires: date


class _Generator:
    def __init__(self, size: int, holders: int, seed: int) -> None:
        self.size, self.holders, self.rng = size, holders, random.Random(seed)
        self.timeline: list[tuple[dict[str, Any], tuple[str, ...]]] = []  # effective order
        self.postings: list[Posting] = []
        self.added = 0
        self.lots: dict[str, _Lot] = {}
        self.live_lots: list[str] = []
        self.warrants: dict[str, _Warrant] = {}
        self.live_warrants: list[str] = []
        self.n_lot = self.n_warrant = 0

    def emit(self, entry: dict[str, Any], touches: tuple[str, ...]) -> None:
        entry["id"] = f"e{len(self.timeline) + 1}"
        self.timeline.append((entry, touches))

    def holder(self, i: int) -> str:
        return f"h{i:05d}"

    # --- state helpers ---------------------------------------------------------------------

    def pick(self, pool: list[str], alive: Any) -> str | None:
        """A random live member of ``pool`` (swap-removing dead ones on the way)."""
        while pool:
            i = self.rng.randrange(len(pool))
            key = pool[i]
            if alive(key):
                return key
            pool[i] = pool[-1]
            pool.pop()
        return None

    def new_lot(self, holder: str, quantity: int, price: str | None) -> str:
        self.n_lot += 1
        lot = f"L{self.n_lot}"
        self.lots[lot] = _Lot(holder, quantity, price)
        self.live_lots.append(lot)
        return lot

    # --- the run ---------------------------------------------------------------------------

    def run(self) -> None:
        rng = self.rng
        d0 = START
        self.emit({"type": "IssuerCreated", "effective": d0.isoformat(), "issuer": ISSUER,
                   "name": "Bench Co.", "citation": _cite("Charter", d0)}, ())
        self.emit({"type": "ShareClassCreated", "effective": d0.isoformat(), "share_class": "common",
                   "name": "Common", "authorized": 10**15, "citation": _cite("Charter", d0)}, ())
        splits = [START + timedelta(days=365 * y) for y in SPLIT_YEARS]
        expiries: list[tuple[date, str]] = []  # (expires, warrant): a min-heap by hand (sorted insert)
        ops, weights = zip(*MIX, strict=True)
        n_ops = self.size - len(self.timeline) - len(splits)
        k = 0
        while len(self.timeline) < self.size - (len(splits)):
            day = START + timedelta(days=min(DAYS - 1, k * DAYS // max(n_ops, 1)))
            k += 1
            while splits and splits[0] <= day:
                self.split(splits.pop(0), expiries)
            self.expire(day, expiries)
            # Holders arrive over the first half of the period.
            want = min(self.holders, 1 + (2 * self.holders * len(self.timeline)) // self.size)
            if self.added < want:
                self.added += 1
                h = self.holder(self.added)
                self.emit({"type": "StakeholderAdded", "effective": day.isoformat(), "holder": h,
                           "name": f"Holder {self.added}", "citation": _cite("Register", day)}, (h,))
                continue
            op = rng.choices(ops, weights)[0]
            getattr(self, op)(day, expiries)
        for s in splits:
            self.split(s, expiries)
        while len(self.timeline) < self.size:  # a split can come last: fill with purchases
            self.purchase(START + timedelta(days=DAYS - 1), expiries)

    def any_holder(self) -> str:
        return self.holder(self.rng.randint(1, self.added))

    def purchase(self, day: date, _: Any) -> None:
        h = self.any_holder()
        qty = self.rng.randint(1, 50) * 100
        price = f"{Decimal(self.rng.randint(50, 500)) / 100:.2f}"
        lot = self.new_lot(h, qty, price)
        self.emit({"type": "SharesPurchased", "effective": day.isoformat(), "lot": lot, "holder": h,
                   "share_class": "common", "quantity": qty, "price_per_share": f"{price} USD",
                   "consideration": f"{Decimal(price) * qty:.2f} USD",
                   "citation": _cite(f"SPA {lot}", day)}, (lot,))
        self.postings.append((day, h, "COMMON", qty))

    def rescind(self, day: date, expiries: Any) -> None:
        lot = self.pick(self.live_lots, lambda x: self.lots[x].remaining > 1)
        if lot is None or self.lots[lot].price is None:
            return self.purchase(day, expiries)
        state = self.lots[lot]
        qty = self.rng.randint(1, max(1, state.remaining // 4))
        state.remaining -= qty
        price = state.price
        assert price is not None
        self.emit({"type": "PurchaseRescinded", "effective": day.isoformat(), "lot": lot, "quantity": qty,
                   "refund_per_share": f"{price} USD", "refund_total": f"{Decimal(price) * qty:.2f} USD",
                   "citation": _cite(f"Rescission {lot}", day)}, (lot,))
        self.postings.append((day, state.holder, "COMMON", -qty))
        return None

    def transfer(self, day: date, expiries: Any) -> None:
        lot = self.pick(self.live_lots, lambda x: self.lots[x].remaining > 0)
        if lot is None or self.added < 2:
            return self.purchase(day, expiries)
        state = self.lots[lot]
        to = self.any_holder()
        while to == state.holder:
            to = self.any_holder()
        qty = state.remaining if self.rng.random() < 0.3 else self.rng.randint(1, state.remaining)
        state.remaining -= qty
        new = self.new_lot(to, qty, None)
        self.emit({"type": "SharesTransferred", "effective": day.isoformat(), "lot": lot, "quantity": qty,
                   "to_holder": to, "new_lot": new, "citation": _cite(f"Transfer {new}", day)},
                  (lot, new))
        self.postings += [(day, state.holder, "COMMON", -qty), (day, to, "COMMON", qty)]
        return None

    def warrant(self, day: date, expiries: list[tuple[date, str]]) -> None:
        h = self.any_holder()
        self.n_warrant += 1
        w = f"W{self.n_warrant}"
        shares = self.rng.randint(1, 20) * 100
        expires = day + timedelta(days=365 * self.rng.randint(3, 10))
        self.warrants[w] = _Warrant(h, shares, expires)
        self.live_warrants.append(w)
        bisect.insort(expiries, (expires, w))
        price = f"{Decimal(self.rng.randint(100, 900)) / 100:.2f}"
        self.emit({"type": "WarrantIssued", "effective": day.isoformat(), "warrant": w, "holder": h,
                   "share_class": "common", "shares": shares, "exercise_price": f"{price} USD",
                   "expires": expires.isoformat(), "citation": _cite(f"Warrant {w}", day)}, (w,))
        self.postings.append((day, h, "WARRANT", shares))

    def _live(self, day: date) -> str | None:
        return self.pick(self.live_warrants,
                         lambda x: self.warrants[x].shares > 0 and self.warrants[x].expires > day)

    def amend(self, day: date, expiries: list[tuple[date, str]]) -> None:
        w = self._live(day)
        if w is None:
            return self.warrant(day, expiries)
        state = self.warrants[w]
        entry: dict[str, Any] = {"type": "WarrantAmended", "effective": day.isoformat(), "warrant": w,
                                 "citation": _cite(f"Amendment {w}", day)}
        if self.rng.random() < 0.5:
            state.expires += timedelta(days=365)
            bisect.insort(expiries, (state.expires, w))
            entry["expires"] = state.expires.isoformat()
        else:
            entry["exercise_price"] = f"{Decimal(self.rng.randint(100, 900)) / 100:.2f} USD"
        self.emit(entry, (w,))
        return None

    def reissue(self, day: date, expiries: list[tuple[date, str]]) -> None:
        w = self._live(day)
        if w is None:
            return self.warrant(day, expiries)
        old = self.warrants[w]
        self.n_warrant += 1
        new = f"W{self.n_warrant}"
        self.warrants[new] = _Warrant(old.holder, old.shares, old.expires)
        old.shares = 0
        self.live_warrants.append(new)
        bisect.insort(expiries, (old.expires, new))
        self.emit({"type": "WarrantReissued", "effective": day.isoformat(), "warrant": w, "new_warrant": new,
                   "citation": _cite(f"Reissue {new}", day)}, (w, new))
        return None

    def exercise(self, day: date, expiries: Any) -> None:
        w = self._live(day)
        if w is None:
            return self.warrant(day, expiries)
        state = self.warrants[w]
        qty = state.shares if self.rng.random() < 0.4 else self.rng.randint(1, state.shares)
        state.shares -= qty
        lot = self.new_lot(state.holder, qty, None)
        self.emit({"type": "WarrantExercised", "effective": day.isoformat(), "warrant": w, "shares": qty,
                   "lot": lot, "citation": _cite(f"Exercise {lot}", day)}, (w, lot))
        self.postings += [(day, state.holder, "WARRANT", -qty), (day, state.holder, "COMMON", qty)]
        return None

    def expire(self, day: date, expiries: list[tuple[date, str]]) -> None:
        """Warrants past their expiry count zero from the day after (a posting for the baselines)."""
        while expiries and expiries[0][0] < day:
            expires, w = expiries.pop(0)
            state = self.warrants[w]
            if state.expires == expires and state.shares > 0:
                self.postings.append((expires + timedelta(days=1), state.holder, "WARRANT", -state.shares))
                state.shares = 0

    def split(self, day: date, expiries: list[tuple[date, str]]) -> None:
        self.expire(day, expiries)  # expired before the split's day: not adjusted
        for lot in self.lots.values():
            if lot.remaining:
                self.postings.append((day, lot.holder, "COMMON", lot.remaining))
                lot.remaining *= 2
        for w in self.warrants.values():
            if w.shares and w.expires >= day:
                self.postings.append((day, w.holder, "WARRANT", w.shares))
                w.shares *= 2
        self.emit({"type": "StockSplit", "effective": day.isoformat(), "share_class": "common",
                   "ratio": {"new": 2, "old": 1}, "citation": _cite("Board resolution", day)}, ("*split*",))


def _recording_order(timeline: list[tuple[dict[str, Any], tuple[str, ...]]],
                     rng: random.Random) -> tuple[list[dict[str, Any]], int]:
    """Move ~5% of the entries later by 1..LATE_MAX places where nothing in between depends on them."""
    n = len(timeline)
    next_touch = [n] * n  # the next position touching any id this entry touches (or a split)
    last: dict[str, int] = {}
    next_split = n
    for i in range(n - 1, -1, -1):
        entry, touches = timeline[i]
        nearest = next_split
        for t in touches:
            nearest = min(nearest, last.get(t, n))
        next_touch[i] = nearest
        for t in touches:
            last[t] = i
        if entry["type"] == "StockSplit":
            next_split = i
    keys: list[float] = []
    late = 0
    movable = {"SharesPurchased", "PurchaseRescinded", "WarrantIssued", "WarrantAmended", "SharesTransferred",
               "WarrantExercised", "WarrantReissued"}
    for i, (entry, _) in enumerate(timeline):
        key = float(i)
        if entry["type"] in movable and rng.random() < LATE_SHARE:
            d = rng.randint(1, LATE_MAX)
            if i + d < next_touch[i] and i + d < n:
                key = i + d + 0.5
                late += 1
        keys.append(key)
    order = sorted(range(n), key=keys.__getitem__)
    return [timeline[i][0] for i in order], late


def generate(size: int, holders: int, seed: int = 1) -> Workload:
    g = _Generator(size, holders, seed)
    g.run()
    entries, late = _recording_order(g.timeline, random.Random(seed + 1))
    last = max(date.fromisoformat(e["effective"]) for e in entries)
    postings = sorted(g.postings, key=lambda p: p[0])
    return Workload(size, holders, seed, entries, late, postings, last)


SIZES = {  # name -> (events, holders)
    "10k": (10_000, 1_000),
    "100k": (100_000, 3_000),
    "1M": (1_000_000, 10_000),
}
