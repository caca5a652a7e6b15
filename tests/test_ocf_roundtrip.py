"""Round trip: export a ledger to OCF, import the package into a fresh ledger, and every
as-of answer is the same, on every date (holdings lot by lot, the cap table, outstanding
warrants and their terms, consideration). Ledgers are generated from the event kinds OCF
can carry; warrant ids are not compared, because an amendment or reissue becomes a new OCF
security (see docs/ocf.md), only what each outstanding warrant is."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import projections
from ledger.application import Ledger
from ledger.book import Book, RuleBroken
from ledger.entries import AnyEntry, parse_entry
from ledger.journal import load_journal
from ledger.ocf import map_package, read_package
from ledger.ocf.package import write_package
from ledger.records import RecordedEntry
from projections.ocf_export import ocf_package
from tests.conftest import SEED_JOURNALS

HOLDERS = ("ann", "ben", "cy-fund")
CLASSES = ("common", "preferred")
START = date(2010, 1, 4)


def _cite(day: date) -> dict[str, str]:
    return {"document": "Generated document", "dated": day.isoformat(), "section": "1"}


def _usd(text: str) -> dict[str, str]:
    return {"amount": text, "currency": "USD"}


def _opening() -> list[AnyEntry]:
    day = START
    raw: list[dict[str, Any]] = [
        {"type": "IssuerCreated", "id": "issuer", "issuer": "gen", "name": "Generated Co."},
        *({"type": "StakeholderAdded", "id": f"h-{h}", "holder": h, "name": f"Holder {h}"} for h in HOLDERS),
        {"type": "ShareClassCreated", "id": "c-common", "share_class": "common", "name": "Common",
         "authorized": 10_000_000, "par_value": _usd("0.001")},
        {"type": "ShareClassCreated", "id": "c-preferred", "share_class": "preferred",
         "name": "Series A Preferred", "authorized": 1_000_000},
    ]
    return [parse_entry({**r, "effective": day.isoformat(), "citation": _cite(day)}) for r in raw]


@st.composite
def _candidate(draw: st.DrawFn, book: Book, day: date, n: int) -> dict[str, Any] | None:
    lots = sorted(lot for lot, s in book.lots.items() if s.remaining > 0)
    live = sorted(w for w, s in book.warrants.items() if s.status_on(day) == "outstanding")
    kind = draw(st.sampled_from([
        "buy", "buy", "transfer", "cancel", "repurchase", "rescind", "split", "convert", "void",
        "warrant", "warrant", "amend", "reissue", "exercise", "exercise", "cancel-warrant",
    ]))
    price = draw(st.sampled_from(["0.25", "1.00", "0.1", "2.5"]))
    quantity = draw(st.integers(1, 50_000))
    if kind == "buy":
        return {"type": "SharesPurchased", "lot": f"L{n}", "holder": draw(st.sampled_from(HOLDERS)),
                "share_class": draw(st.sampled_from(CLASSES)), "quantity": quantity,
                "price_per_share": draw(st.none() | st.just(_usd(price))),
                "consideration": _usd(str(Decimal(price) * quantity + draw(st.sampled_from([0, 1]))))}
    if kind == "split":
        ratio = draw(st.sampled_from([(2, 1), (1, 2), (3, 2), (1, 10)]))
        return {"type": "StockSplit", "share_class": draw(st.sampled_from(CLASSES)),
                "ratio": {"new": ratio[0], "old": ratio[1]}, "cash_per_share": _usd("1.50"),
                "authorized": draw(st.none() | st.just(20_000_000))}
    if kind == "warrant":
        expires = draw(st.none() | st.integers(30, 900).map(lambda d: (day + timedelta(days=d)).isoformat()))
        start = draw(st.none() | st.integers(0, 60).map(lambda d: (day + timedelta(days=d)).isoformat()))
        return {"type": "WarrantIssued", "warrant": f"W{n}", "holder": draw(st.sampled_from(HOLDERS)),
                "share_class": draw(st.sampled_from(CLASSES)), "shares": quantity,
                "exercise_price": _usd(price), "expires": expires, "exercisable_from": start,
                "consideration": draw(st.none() | st.just(_usd("10.00")))}
    if kind == "void":  # only on the issue date, so the timeline keeps the order drawn
        fresh = [lot for lot in lots if book.lots[lot].acquired == day and book.lots[lot].is_purchase]
        fresh += [w for w in live if book.warrants[w].issued == day]
        if fresh:
            return {"type": "RescindedAbInitio", "security": draw(st.sampled_from(fresh)),
                    "refund_total": draw(st.none() | st.just(_usd("5.00")))}
        return None
    if kind in ("transfer", "cancel", "repurchase", "rescind", "convert") and lots:
        lot = draw(st.sampled_from(lots))
        state = book.lots[lot]
        part = draw(st.integers(1, state.remaining))
        if kind == "transfer":
            to = draw(st.sampled_from([h for h in HOLDERS if h != state.holder]))
            return {"type": "SharesTransferred", "lot": lot, "quantity": part, "to_holder": to,
                    "new_lot": f"L{n}", "price_per_share": draw(st.none() | st.just(_usd(price)))}
        if kind == "cancel":
            return {"type": "SharesCancelled", "lot": lot, "quantity": part}
        if kind == "repurchase":
            return {"type": "SharesRepurchased", "lot": lot, "quantity": part, "price_per_share": _usd(price),
                    "total": _usd(str(Decimal(price) * part))}
        if kind == "rescind":
            return {"type": "PurchaseRescinded", "lot": lot, "quantity": part,
                    "refund_per_share": _usd(price), "refund_total": _usd(str(Decimal(price) * part))}
        ratio = draw(st.sampled_from([(1, 1), (2, 1), (1, 3)]))
        return {"type": "SharesConverted", "lot": lot, "quantity": part,
                "to_class": next(c for c in CLASSES if c != state.share_class),
                "ratio": {"new": ratio[0], "old": ratio[1]}, "new_lot": f"L{n}",
                "cash_per_share": _usd("0.75")}
    if kind in ("amend", "reissue", "exercise", "cancel-warrant") and live:
        warrant = draw(st.sampled_from(live))
        w = book.warrants[warrant]
        if kind == "amend":
            return {"type": "WarrantAmended", "warrant": warrant,
                    "expires": (day + timedelta(days=draw(st.integers(1, 900)))).isoformat(),
                    "exercise_price": draw(st.none() | st.just(_usd(price)))}
        if kind == "reissue":
            return {"type": "WarrantReissued", "warrant": warrant, "new_warrant": f"W{n}",
                    "shares": draw(st.none() | st.integers(1, 50_000))}
        if kind == "exercise":
            return {"type": "WarrantExercised", "warrant": warrant, "shares": draw(st.integers(1, w.shares)),
                    "lot": f"L{n}"}
        return {"type": "WarrantCancelled", "warrant": warrant}
    return None


@st.composite
def ledgers(draw: st.DrawFn) -> list[AnyEntry]:
    """A valid ledger: candidates are kept only when they book (in date order)."""
    entries = _opening()
    book = Book()
    for e in entries:
        book.apply(e)
    day = START
    for n in range(draw(st.integers(1, 14))):
        day += timedelta(days=draw(st.sampled_from([0, 0, 1, 30, 200])))
        raw = draw(_candidate(book, day, n))
        if raw is None:
            continue
        raw = {k: v for k, v in raw.items() if v is not None}
        entry = parse_entry({**raw, "id": f"e{n}", "effective": day.isoformat(), "citation": _cite(day)})
        try:
            book.apply(entry)
        except RuleBroken:
            continue
        entries.append(entry)
    return entries


def _answers(records: list[RecordedEntry], day: date) -> dict[str, Any]:
    cap = projections.cap_table(records, day)
    return {
        "holdings": [(p.holder, p.share_class, p.lot, p.shares) for p in projections.holdings(records, day)],
        "outstanding": cap.outstanding, "authorized": cap.authorized, "fully_diluted": cap.fully_diluted,
        "rows": [(r.holder, r.shares, r.warrant_shares, r.fully_diluted) for r in cap.rows],
        "warrants": sorted((w.holder, w.share_class, w.shares, w.exercise_price.amount, w.exercisable_from,
                            w.expires, w.exercisable) for w in projections.warrants(records, day)
                           if w.status == "outstanding"),
        "consideration": [(c.holder, c.paid, c.refunded, c.repurchased, c.cash_in_lieu)
                          for c in projections.consideration(records, day)],
    }


def round_trip(entries: list[AnyEntry], folder: Path) -> Callable[[date], tuple[Any, Any]]:
    original = Ledger.open(":memory:")
    original.record("gen", entries)
    records = original.entries("gen")
    last = max(e.effective for e in entries)
    write_package(folder, ocf_package(records, last + timedelta(days=1000)))
    mapping = map_package(read_package(folder), "gen")
    assert not mapping.problems, mapping.problems
    assert not mapping.unsupported, mapping.unsupported
    imported = Ledger.open(":memory:")
    imported.record("gen", mapping.entries)
    copy = imported.entries("gen")
    return lambda day: (_answers(records, day), _answers(copy, day))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(entries=ledgers())
def test_export_then_import_gives_the_same_answers_on_every_date(entries: list[AnyEntry],
                                                                 tmp_path_factory: Any) -> None:
    compare = round_trip(entries, tmp_path_factory.mktemp("ocf"))
    days = sorted({e.effective for e in entries} | {e.effective - timedelta(days=1) for e in entries})
    expiries = sorted({getattr(e, "expires", None) for e in entries} - {None})
    for day in itertools.chain(days, [d + timedelta(days=k) for d in expiries for k in (0, 1)],
                               [days[-1] + timedelta(days=5000)]):
        before, after = compare(day)
        assert before == after, f"as of {day}"


def test_round_trip_of_the_seed_journals(tmp_path: Path) -> None:
    entries: list[AnyEntry] = []
    for path in (*SEED_JOURNALS, Path(__file__).parent / "journals" / "transfer-and-reverse-split.yaml"):
        entries += load_journal(path).entries
    entries = [e.model_copy(update={"issuer": "gen"}) if e.type == "IssuerCreated" else e for e in entries]
    compare = round_trip(entries, tmp_path / "seed")
    for day in (date(2002, 6, 7), date(2002, 7, 25), date(2002, 9, 1), date(2003, 1, 15), date(2030, 1, 1)):
        before, after = compare(day)
        assert before == after, f"as of {day}"
