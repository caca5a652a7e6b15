"""The stockholder ledger (issue 7 item 3): per lot, its issue and every later change."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from pathlib import Path

from ledger.application import Ledger
from ledger.journal import load_journal
from ledger.records import RecordedEntry
from ledger.values import Money
from projections import cap_table
from projections.register import RegisterLot, register
from tests.conftest import SEED_JOURNALS
from tests.helpers import run_cli

JOURNALS = Path(__file__).resolve().parent / "journals"
LOT = "STONE-2002-06-07"


def d(text: str) -> date:
    return date.fromisoformat(text)


def usd(amount: str) -> Money:
    return Money(amount=Decimal(amount), currency="USD")


def record(ledger: Ledger, *journals: Path) -> list[RecordedEntry]:
    for path in journals:
        journal = load_journal(path)
        ledger.record(journal.issuer, journal.entries)
    return ledger.entries(load_journal(journals[0]).issuer)


def events(lot: RegisterLot) -> list[tuple[date, str, int, int]]:
    return [(e.effective, e.event, e.shares, e.balance) for e in lot.events]


def test_seed_register(ledger: Ledger) -> None:
    records = record(ledger, *SEED_JOURNALS)
    (lot,) = register(records, d("2002-12-08")).lots
    assert (lot.lot, lot.holder, lot.holder_name, lot.share_class) == (
        LOT, "stonestreet", "Stonestreet Limited Partnership", "common")
    assert (lot.issued, lot.shares_issued, lot.outstanding) == (d("2002-06-07"), 1_935_483, 1_535_483)
    assert lot.consideration == [usd("450000")] and lot.source == "purchase from the issuer"
    assert events(lot) == [(d("2002-06-07"), "issued", 1_935_483, 1_935_483),
                           (d("2002-07-25"), "rescinded", -400_000, 1_535_483)]
    issued, rescinded = lot.events
    assert issued.amounts == [usd("450000")] and rescinded.amounts == [usd("93000")]
    assert rescinded.citation.section.startswith("1 (partial rescission of 400,000 shares)")
    assert rescinded.detail == "rescinded; refund 93,000 USD (0.2325 USD per share)"


def test_register_as_of_a_date_and_as_known(ledger: Ledger) -> None:
    records = record(ledger, *SEED_JOURNALS)
    (before,) = register(records, d("2002-07-24")).lots
    assert events(before) == [(d("2002-06-07"), "issued", 1_935_483, 1_935_483)]
    assert register(records, d("2002-06-06")).lots == []
    first_journal = records[4].recorded_at
    (known,) = register(records, d("2002-12-31"), first_journal).lots
    assert known.outstanding == 1_935_483


def test_transfer_and_reverse_split(ledger: Ledger) -> None:
    records = record(ledger, *SEED_JOURNALS, JOURNALS / "transfer-and-reverse-split.yaml")
    stone, second = register(records, d("2003-02-01")).lots
    assert events(stone) == [
        (d("2002-06-07"), "issued", 1_935_483, 1_935_483),
        (d("2002-07-25"), "rescinded", -400_000, 1_535_483),
        (d("2002-09-01"), "transferred out", -300_000, 1_235_483),
        (d("2003-01-15"), "split", -1_111_935, 123_548),
    ]
    assert stone.events[2].detail == (
        "transferred to second-holder as lot SECOND-2002-09-01 at 0.30 USD per share")
    assert stone.events[3].amounts == [usd("0.75")]  # 3/10 of a share at $2.50, in cash
    assert (second.lot, second.holder, second.source, second.held_since) == (
        "SECOND-2002-09-01", "second-holder", f"from lot {LOT}", d("2002-06-07"))
    assert second.consideration == []  # paid between holders, not to the issuer
    assert events(second) == [(d("2002-09-01"), "transferred in", 300_000, 300_000),
                              (d("2003-01-15"), "split", -270_000, 30_000)]


def test_void_ab_initio_and_a_later_refund(ledger: Ledger) -> None:
    records = record(ledger, JOURNALS / "void-ab-initio-1.yaml", JOURNALS / "void-ab-initio-2.yaml")
    founder, investor = register(records, d("2003-03-11")).lots
    assert founder.outstanding == 1_000_000
    assert events(investor) == [(d("2003-01-10"), "issued", 400_000, 400_000),
                                (d("2003-01-10"), "rescinded ab initio", -400_000, 0)]
    assert investor.events[1].amounts == []  # the refund is paid on 2003-03-12
    (_, paid) = register(records, d("2003-03-12")).lots
    assert paid.events[1].amounts == [usd("200000.00")]


def test_outstanding_agrees_with_the_cap_table(ledger: Ledger) -> None:
    records = record(ledger, *SEED_JOURNALS, JOURNALS / "transfer-and-reverse-split.yaml")
    for day in ("2002-06-07", "2002-07-25", "2002-09-01", "2003-01-15"):
        reg = register(records, d(day))
        cap = cap_table(records, d(day))
        for cls, outstanding in cap.outstanding.items():
            assert sum(lot.outstanding for lot in reg.lots if lot.share_class == cls) == outstanding
        for lot in reg.lots:
            assert lot.events[-1].balance == lot.outstanding


def seeded(tmp_path: Path) -> str:
    location = str(tmp_path / "seed.sqlite")
    for journal in SEED_JOURNALS:
        assert run_cli("record", str(journal), "--ledger", location).exit_code == 0
    return location


def test_cli_csv(tmp_path: Path) -> None:
    result = run_cli("report", "ledger", "--as-of", "2002-12-08", "--ledger", seeded(tmp_path))
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["lot"], r["date"], r["event"], r["shares"], r["balance"], r["amount"]) for r in rows] == [
        (LOT, "2002-06-07", "issued", "1935483", "1935483", "450000 USD"),
        (LOT, "2002-07-25", "rescinded", "-400000", "1535483", "93000 USD"),
    ]
    assert rows[1]["citation_section"] == (
        "1 (partial rescission of 400,000 shares), 2 (return of shares), 3 (refund)")
    assert rows[0]["holder_name"] == "Stonestreet Limited Partnership"


def test_cli_html_to_a_file(tmp_path: Path) -> None:
    out = tmp_path / "ledger.html"
    location = seeded(tmp_path)
    result = run_cli("report", "ledger", "--as-of", "2002-12-08", "--ledger", location, "-o", str(out))
    assert result.exit_code == 0 and f"Wrote {out}" in result.output
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert "NeoTherapeutics, Inc.: stockholder ledger" in html and "As of 2002-12-08" in html
    for text in (LOT, "1,935,483", "-400,000", "1,535,483", "93,000 USD", "3 (refund)"):
        assert text in html
    as_csv = tmp_path / "ledger.txt"
    assert run_cli("report", "ledger", "--ledger", str(tmp_path / "seed.sqlite"), "--format", "csv",
                   "-o", str(as_csv)).exit_code == 0
    assert as_csv.read_text().startswith("lot,class,holder,")


def test_cli_bad_format_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli("report", "ledger", "--ledger", seeded(tmp_path), "--format", "pdf")
    assert result.exit_code == 2 and "--format 'pdf' is not csv or html" in result.output
