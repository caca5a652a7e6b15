"""Issue 4's examples, each a journal in tests/journals with figures derived by hand."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from ledger.application import Ledger
from ledger.errors import Rejected
from ledger.journal import load_journal, parse_journal
from ledger.records import RecordedEntry
from projections import cap_table, consideration, diff, history, holdings, warrants
from tests.conftest import SEED_JOURNALS

JOURNALS = Path(__file__).parent / "journals"
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


class Clock:
    """Recorded times under test control: each call returns the time set last."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def book(ledger_location: str, clock: Clock) -> Iterator[Callable[..., list[RecordedEntry]]]:
    """record(*paths, at=datetime) -> the issuer's log after recording them in order."""
    ledger = Ledger.open(ledger_location, clock=clock)

    def record(*paths: Path, at: datetime | None = None) -> list[RecordedEntry]:
        issuer = ""
        for path in paths:
            if at is not None:
                clock.now = at
            journal = load_journal(path)
            ledger.record(journal.issuer, journal.entries)
            issuer = journal.issuer
        return ledger.entries(issuer)

    yield record
    ledger.close()


def d(text: str) -> date:
    return date.fromisoformat(text)


def shares_of(records: list[RecordedEntry], day: str, known: datetime | None = None) -> dict[str, int]:
    totals: dict[str, int] = {}
    for p in holdings(records, d(day), known):
        totals[p.holder] = totals.get(p.holder, 0) + p.shares
    return totals


def test_transfer_then_reverse_split(book: Callable[..., list[RecordedEntry]]) -> None:
    log = book(*SEED_JOURNALS, JOURNALS / "transfer-and-reverse-split.yaml")
    assert shares_of(log, "2002-09-01") == {"stonestreet": 1_235_483, "second-holder": 300_000}
    moved = next(p for p in holdings(log, d("2002-09-01")) if p.holder == "second-holder")
    assert (moved.from_lot, moved.held_since, moved.acquired) == (
        "STONE-2002-06-07", d("2002-06-07"), d("2002-09-01"))  # holding period tacks

    assert shares_of(log, "2003-01-15") == {"stonestreet": 123_548, "second-holder": 30_000}
    (w,) = [w for w in warrants(log, d("2003-01-15")) if w.status == "outstanding"]
    assert (w.shares, w.exercise_price.amount) == (19_354, Decimal("2.750"))
    assert [(a.shares_before, a.shares_after) for a in w.adjustments] == [(193_548, 19_354)]
    cap = cap_table(log, d("2003-01-15"))
    assert cap.outstanding == {"common": 153_548} and cap.fully_diluted == 172_902
    assert {r.holder: r.percent_fully_diluted for r in cap.rows} == {
        "stonestreet": Decimal("82.6491"), "second-holder": Decimal("17.3509")}
    stone = next(c for c in consideration(log, d("2003-12-31")) if c.holder == "stonestreet")
    assert stone.cash_in_lieu == {"USD": Decimal("0.75")}  # 3/10 of a share at $2.50
    assert stone.net == {"USD": Decimal("356999.25")}
    # The day before, nothing is split yet.
    assert shares_of(log, "2003-01-14") == {"stonestreet": 1_235_483, "second-holder": 300_000}
    lines = [h for h in history(log) if h.type == "WarrantAdjusted"]
    assert len(lines) == 1 and "193,548 -> 19,354" in lines[0].summary


def test_one_for_twenty_reverse_split_pays_the_fraction_in_cash(ledger: Ledger) -> None:
    head = """
issuer: frac-co
entries:
  - {id: i, type: IssuerCreated, effective: 2010-01-01, issuer: frac-co, name: Frac,
     citation: {document: C, dated: 2010-01-01, section: "1"}}
  - {id: h, type: StakeholderAdded, effective: 2010-01-01, holder: h, name: H,
     citation: {document: C, dated: 2010-01-01, section: "1"}}
  - {id: c, type: ShareClassCreated, effective: 2010-01-01, share_class: common, name: Common,
     authorized: 2000000, citation: {document: C, dated: 2010-01-01, section: "1"}}
  - {id: p, type: SharesPurchased, effective: 2010-01-01, lot: L, holder: h, share_class: common,
     quantity: "1,000,013", consideration: 1000013 USD,
     citation: {document: C, dated: 2010-01-01, section: "1"}}
"""
    split = """
  - {id: s, type: StockSplit, effective: 2011-01-01, share_class: common, ratio: {new: 1, old: 20},
     citation: {document: C, dated: 2011-01-01, section: "1"}}
"""
    with pytest.raises(Rejected, match=r"fraction-needs-cash-price.*13/20"):
        ledger.record("frac-co", parse_journal(head + split).entries)
    priced = split.replace("ratio:", "cash_per_share: 20.00 USD, ratio:")
    ledger.record("frac-co", parse_journal(head + priced).entries)
    log = ledger.entries("frac-co")
    (lot,) = holdings(log, d("2011-01-01"))
    assert (lot.shares, lot.changes) == (50_000, {"split": -950_013})
    (money,) = consideration(log, d("2011-01-01"))
    assert money.cash_in_lieu == {"USD": Decimal("13.00")}  # 13/20 x $20.00


def test_amendment_before_expiry_extends_it(book: Callable[..., list[RecordedEntry]]) -> None:
    first = START
    log = book(JOURNALS / "warrant-expiry-amendment-1.yaml", at=first)
    second = START + timedelta(days=30)
    log = book(JOURNALS / "warrant-expiry-amendment-2.yaml", at=second)

    before = warrants(log, d("2004-06-01"), known_at=first)[0]
    assert (before.status, before.exercisable, before.status_date) == ("expired", False, d("2004-04-01"))
    after = warrants(log, d("2004-06-01"), known_at=second)[0]
    assert (after.status, after.exercisable) == ("outstanding", True)
    assert after.exercise_price.amount == Decimal("0.80") and after.next_change == d("2005-01-01")
    assert warrants(log, d("2004-02-29"))[0].exercise_price.amount == Decimal("2.00")
    assert warrants(log, d("2005-01-01"))[0].status == "expired"


def test_nothing_is_amended_or_exercised_after_expiry(ledger: Ledger) -> None:
    journal = load_journal(JOURNALS / "warrant-expiry-amendment-1.yaml")
    ledger.record(journal.issuer, journal.entries)
    late = """
issuer: expiry-co
entries:
  - {id: late-amend, type: WarrantAmended, effective: 2004-04-15, warrant: W-2001, expires: 2005-12-31,
     citation: {document: A, dated: 2004-04-15, section: "1"}}
  - {id: late-exercise, type: WarrantExercised, effective: 2004-04-15, warrant: W-2001, shares: 1,
     lot: X, citation: {document: A, dated: 2004-04-15, section: "1"}}
"""
    with pytest.raises(Rejected) as caught:
        ledger.record("expiry-co", parse_journal(late).entries)
    assert [(v.entry, v.rule) for v in caught.value.violations] == [
        ("late-amend", "warrant-not-outstanding"), ("late-exercise", "warrant-not-outstanding")]
    assert "expired after 2004-03-31" in str(caught.value)


def test_void_ab_initio(book: Callable[..., list[RecordedEntry]]) -> None:
    first = START
    log = book(JOURNALS / "void-ab-initio-1.yaml", at=first)
    second = START + timedelta(days=60)
    log = book(JOURNALS / "void-ab-initio-2.yaml", at=second)
    inside = d("2003-02-01")
    assert cap_table(log, inside, known_at=first).fully_diluted == 1_000_000 + 400_000 + 250_000
    assert cap_table(log, inside, known_at=second).fully_diluted == 1_000_000
    assert shares_of(log, "2003-02-01", second) == {"founder": 1_000_000}
    (w,) = warrants(log, inside, second)
    assert (w.status, w.status_date, w.shares) == ("rescinded", d("2003-01-10"), 0)
    investor = lambda day: next(c for c in consideration(log, d(day)) if c.holder == "investor")  # noqa: E731
    assert investor("2003-03-11").net == {"USD": Decimal("200000.00")}  # refund not yet paid
    assert investor("2003-03-12").net == {"USD": Decimal("0.00")}


def test_correction_never_rewrites_history(book: Callable[..., list[RecordedEntry]]) -> None:
    first = START
    log = book(JOURNALS / "correction-1.yaml", at=first)
    week_later = START + timedelta(days=7)
    log = book(JOURNALS / "correction-2.yaml", at=week_later)

    assert shares_of(log, "2005-03-31", first) == {"buyer": 10_000}
    assert shares_of(log, "2005-03-31", week_later) == {"buyer": 100_000}
    assert shares_of(log, "2005-03-31") == {"buyer": 100_000}

    lines = {h.entry_id: h for h in history(log)}
    original = lines["purchase-2005-03-01"]
    assert "quantity=10,000" in original.summary  # the original stays as recorded
    assert original.fate == f"corrected by fix-purchase-quantity at {week_later.isoformat()}"
    fix = lines["fix-purchase-quantity"]
    assert "quantity: 10000 -> 100000" in fix.summary and "by=A. Clerk" in fix.summary
    assert fix.recorded_at == week_later

    change = diff(log, d("2005-03-31"), first, week_later)
    assert [c.entry_id for c in change.causes] == ["fix-purchase-quantity"]
    assert ("holdings", "buyer common lot B-1", "10,000", "100,000") in [
        (c.view, c.subject, c.before, c.after) for c in change.changes]
    assert diff(log, d("2005-02-01"), first, week_later).changes == []


def test_corrections_pass_the_same_decisions(ledger: Ledger) -> None:
    journal = load_journal(JOURNALS / "correction-1.yaml")
    ledger.record(journal.issuer, journal.entries)
    bad = (JOURNALS / "correction-2.yaml").read_text().replace("quantity: 100,000", "quantity: 1,000,001")
    with pytest.raises(Rejected, match=r"fix-purchase-quantity.*exceeds-authorized.*1,000,001"):
        ledger.record("typo-co", parse_journal(bad).entries)
    void = """
issuer: typo-co
entries:
  - {id: void-buy, type: EntryVoided, effective: 2005-03-09, target: purchase-2005-03-01,
     reason: recorded in error, by: A. Clerk, citation: {document: Memo, dated: 2005-03-09, section: "1"}}
"""
    ledger.record("typo-co", parse_journal(void).entries)
    assert holdings(ledger.entries("typo-co"), d("2005-12-31")) == []
    with pytest.raises(Rejected, match="target-voided"):
        ledger.record("typo-co", load_journal(JOURNALS / "correction-2.yaml").entries)


def test_exchange_repurchase_cancel_and_conversion(ledger: Ledger) -> None:
    text = """
issuer: ex-co
entries:
  - {id: i, type: IssuerCreated, effective: 2010-01-01, issuer: ex-co, name: Ex,
     citation: {document: C, dated: 2010-01-01, section: "1"}}
  - {id: h, type: StakeholderAdded, effective: 2010-01-01, holder: h, name: H,
     citation: {document: C, dated: 2010-01-01, section: "1"}}
  - {id: common, type: ShareClassCreated, effective: 2010-01-01, share_class: common, name: Common,
     authorized: 1000000, citation: {document: C, dated: 2010-01-01, section: "1"}}
  - {id: pref, type: ShareClassCreated, effective: 2010-01-01, share_class: preferred, name: Series A,
     authorized: 1000, citation: {document: C, dated: 2010-01-01, section: "1"}}
  - {id: p, type: SharesPurchased, effective: 2010-01-02, lot: P-1, holder: h, share_class: preferred,
     quantity: 1000, consideration: 10000 USD, citation: {document: C, dated: 2010-01-02, section: "1"}}
  - {id: w, type: WarrantIssued, effective: 2010-01-02, warrant: W-1, holder: h, share_class: common,
     shares: 8000, exercise_price: 1.00 USD, citation: {document: C, dated: 2010-01-02, section: "2"}}
  - {id: x, type: WarrantExercised, effective: 2010-06-01, warrant: W-1, shares: 8000, lot: C-1,
     payment: 8000.00 USD, citation: {document: C, dated: 2010-06-01, section: "3"}}
  - {id: w2, type: WarrantIssued, effective: 2010-06-01, warrant: W-2, holder: h, share_class: common,
     shares: 10000, exercise_price: 1.50 USD, in_exchange_for: W-1,
     citation: {document: Inducement letter, dated: 2010-06-01, section: "125% of exercised shares"}}
  - {id: ex, type: WarrantReissued, effective: 2010-07-01, warrant: W-2, new_warrant: W-3,
     shares: 12000, exercise_price: 1.25 USD, citation: {document: Exchange, dated: 2010-07-01, section: "1"}}
  - {id: rp, type: SharesRepurchased, effective: 2010-08-01, lot: C-1, quantity: 1000,
     price_per_share: 2.00 USD, total: 2000.00 USD, citation: {document: C, dated: 2010-08-01, section: "1"}}
  - {id: cx, type: SharesCancelled, effective: 2010-08-02, lot: C-1, quantity: 500,
     citation: {document: C, dated: 2010-08-02, section: "1"}}
  - {id: cv, type: SharesConverted, effective: 2010-09-01, lot: P-1, quantity: 999, to_class: common,
     ratio: {new: 3, old: 2}, new_lot: C-2, cash_per_share: 4.00 USD,
     citation: {document: Conversion notice, dated: 2010-09-01, section: "1"}}
"""
    ledger.record("ex-co", parse_journal(text).entries)
    log = ledger.entries("ex-co")
    on = d("2010-09-01")
    lots = {p.lot: p for p in holdings(log, on)}
    assert lots["C-1"].shares == 8000 - 1000 - 500
    assert lots["C-2"].shares == 1498 and lots["C-2"].from_lot == "P-1"  # 999 x 3/2 = 1,498.5
    assert lots["P-1"].shares == 1
    views = {w.warrant: w for w in warrants(log, on)}
    assert views["W-1"].status == "exercised" and views["W-2"].issued_for == "W-1"
    assert (views["W-2"].status, views["W-2"].replaced_by) == ("surrendered", "W-3")
    assert (views["W-3"].shares, views["W-3"].exercise_price.amount) == (12000, Decimal("1.25"))
    cap = cap_table(log, on)
    assert cap.outstanding == {"common": 6500 + 1498, "preferred": 1}
    assert cap.fully_diluted == 6500 + 1498 + 1 + 12000
    (money,) = consideration(log, on)
    assert money.paid == {"USD": Decimal("18000.00")}
    assert money.repurchased == {"USD": Decimal("2000.00")}
    assert money.cash_in_lieu == {"USD": Decimal("2.00")}  # half a share at $4.00


def test_cli_diff_and_history_name_the_correction(tmp_path: Path) -> None:
    import json

    from tests.helpers import run_cli

    ledger = str(tmp_path / "typo.sqlite")
    first = run_cli("record", str(JOURNALS / "correction-1.yaml"), "--ledger", ledger, "--json")
    then = json.loads(first.output)["recorded_at"]
    assert run_cli("record", str(JOURNALS / "correction-2.yaml"), "--ledger", ledger).exit_code == 0
    result = run_cli("diff", "--as-of", "2005-03-31", "--known-at", then, "--ledger", ledger, "--json")
    assert result.exit_code == 0, result.output
    found = json.loads(result.output)
    assert [c["entry_id"] for c in found["causes"]] == ["fix-purchase-quantity"]
    assert {"view": "holdings", "subject": "buyer common lot B-1", "before": "10,000",
            "after": "100,000"} in found["changes"]
    table = run_cli("diff", "--as-of", "2005-03-31", "--known-at", then, "--ledger", ledger)
    assert "fix-purchase-quantity" in table.output and "A. Clerk" in table.output
    shown = run_cli("history", "--ledger", ledger)
    assert "corrected by fix-purchase-quantity" in shown.output
    assert run_cli("diff", "--as-of", "2005-03-31", "--ledger", ledger).exit_code == 2
