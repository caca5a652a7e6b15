"""``capledger explain`` (issue 7 item 2): each figure of a holder with the entries behind it."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from ledger.application import Ledger
from ledger.journal import load_journal
from ledger.records import RecordedEntry
from projections import cap_table, consideration, warrants
from projections.explain import Explanation, Figure, UnknownHolder, explain
from tests.conftest import SEED_JOURNALS
from tests.helpers import run_cli

JOURNALS = Path(__file__).resolve().parent / "journals"
PURCHASE, WARRANT = "spa-2002-06-07-shares", "spa-2002-06-07-warrant"
RESCISSION, AMENDMENT = "mra-2002-07-25-rescission", "mra-2002-07-25-warrant-amendment"
REISSUE = "mra-warrant-reissue"


def d(text: str) -> date:
    return date.fromisoformat(text)


def record(ledger: Ledger, *journals: Path) -> tuple[list[RecordedEntry], datetime]:
    """Record each journal in turn; returns the log and the time the first one was recorded."""
    first_recorded = None
    for path in journals:
        journal = load_journal(path)
        stored = ledger.record(journal.issuer, journal.entries).stored
        first_recorded = first_recorded or stored[-1].recorded_at
    assert first_recorded is not None
    return ledger.entries(load_journal(journals[0]).issuer), first_recorded


def figure(result: Explanation, name: str, subject: str) -> Figure:
    return next(f for f in result.figures if (f.figure, f.subject) == (name, subject))


def entries(f: Figure) -> list[str]:
    return [c.entry for c in f.causes]


def test_seed_explained_with_sections(ledger: Ledger) -> None:
    records, _ = record(ledger, *SEED_JOURNALS)
    result = explain(records, "stonestreet", d("2002-12-08"))
    assert (result.issuer, result.name) == ("neotherapeutics", "Stonestreet Limited Partnership")

    lot = figure(result, "shares", "lot STONE-2002-06-07 (common)")
    assert lot.value == 1_535_483
    assert entries(lot) == [PURCHASE, RESCISSION]
    purchase, rescission = lot.causes
    assert purchase.effect.startswith("+1,935,483 shares") and rescission.effect.startswith("-400,000 shares")
    assert "section 1 (i)" in purchase.citation.section
    assert rescission.citation.section == (
        "1 (partial rescission of 400,000 shares), 2 (return of shares), 3 (refund)")
    assert "refund 93,000 USD" in rescission.effect
    assert figure(result, "shares", "common").value == 1_535_483

    shares = figure(result, "warrant shares", "warrant W-STONE-2002-08-01")
    assert shares.value == 193_548
    assert entries(shares) == [WARRANT, AMENDMENT, REISSUE]
    assert [c.citation.section[:6] for c in shares.causes] == ["Mutual", "4 (the", "4 (ret"]
    assert "section 1 (ii)" in shares.causes[0].citation.section
    assert "exercisable from 2002-12-08" in shares.causes[1].effect
    exercisable = figure(result, "exercisable shares", "warrant W-STONE-2002-08-01")
    assert exercisable.value == 193_548 and entries(exercisable) == [WARRANT, AMENDMENT, REISSUE]

    assert figure(result, "fully diluted shares", "stonestreet").value == 1_729_031
    percent = figure(result, "fully diluted %", "stonestreet")
    assert percent.value == Decimal("100.0000")
    assert entries(percent) == [PURCHASE, WARRANT, RESCISSION]  # the amendment and reissue change no count
    assert figure(result, "consideration paid", "stonestreet").value == {"USD": Decimal("450000")}
    assert entries(figure(result, "refunded", "stonestreet")) == [RESCISSION]
    assert figure(result, "net consideration", "stonestreet").value == {"USD": Decimal("357000")}


def test_not_yet_exercisable_says_when(ledger: Ledger) -> None:
    records, _ = record(ledger, *SEED_JOURNALS)
    result = explain(records, "stonestreet", d("2002-12-07"))
    exercisable = figure(result, "exercisable shares", "warrant W-STONE-2002-08-01")
    assert exercisable.value == 0
    assert "not exercisable on 2002-12-07; exercisable from 2002-12-08" in exercisable.basis
    assert figure(result, "warrant shares", "all warrants").value == 193_548


def test_as_known_before_the_rescission_agreement(ledger: Ledger) -> None:
    records, between = record(ledger, *SEED_JOURNALS)
    result = explain(records, "stonestreet", d("2002-08-01"), between)
    assert figure(result, "shares", "lot STONE-2002-06-07 (common)").value == 1_935_483
    original = figure(result, "exercisable shares", "warrant W-STONE-2002-06-07")
    assert original.value == 193_548 and entries(original) == [WARRANT]
    assert not any(f.subject == "warrant W-STONE-2002-08-01" for f in result.figures)


@pytest.mark.parametrize("day", ["2002-06-07", "2002-08-31", "2002-09-01", "2003-01-14", "2003-01-15",
                                 "2004-01-01"])
def test_figures_agree_with_the_other_projections(day: str) -> None:
    ledger = Ledger.open(":memory:")
    records, _ = record(ledger, *SEED_JOURNALS, JOURNALS / "transfer-and-reverse-split.yaml")
    ledger.close()
    cap = cap_table(records, d(day))
    views = warrants(records, d(day))
    paid = {c.holder: c for c in consideration(records, d(day))}
    for row in cap.rows:
        result = explain(records, row.holder, d(day))
        for cls, count in row.shares.items():
            assert figure(result, "shares", cls).value == count
        assert figure(result, "warrant shares", "all warrants").value == row.warrant_shares
        assert figure(result, "fully diluted shares", row.holder).value == row.fully_diluted
        assert figure(result, "fully diluted %", row.holder).value == row.percent_fully_diluted
        assert figure(result, "exercisable shares", "all warrants").value == sum(
            v.shares for v in views if v.holder == row.holder and v.exercisable)
        expected = paid[row.holder].net if row.holder in paid else {}  # a transferee paid the issuer nothing
        assert figure(result, "net consideration", row.holder).value == expected


def test_transfer_and_split_are_explained(ledger: Ledger) -> None:
    records, _ = record(ledger, *SEED_JOURNALS, JOURNALS / "transfer-and-reverse-split.yaml")
    second = explain(records, "second-holder", d("2003-02-01"))
    lot = figure(second, "shares", "lot SECOND-2002-09-01 (common)")
    assert lot.value == 30_000 and entries(lot) == ["transfer-2002-09-01", "reverse-split-2003-01-15"]
    assert "by transfer from lot STONE-2002-06-07" in lot.causes[0].effect
    assert "held since 2002-06-07" in lot.basis
    # The split changes everyone's total; the seed's entries changed the total before the transfer.
    assert entries(figure(second, "fully diluted %", "second-holder")) == [
        PURCHASE, WARRANT, RESCISSION, "transfer-2002-09-01", "reverse-split-2003-01-15"]
    stone = explain(records, "stonestreet", d("2003-02-01"))
    warrant = figure(stone, "warrant shares", "warrant W-STONE-2002-08-01")
    assert warrant.value == 19_354
    assert "W-STONE-2002-08-01 193,548 at 0.275 USD -> 19,354 at 2.750 USD" in warrant.causes[-1].effect
    cash = figure(stone, "cash in lieu", "stonestreet")
    assert cash.value == {"USD": Decimal("0.75")} and entries(cash) == ["reverse-split-2003-01-15"]


def test_an_expiry_is_explained_by_the_entry_that_set_it(ledger: Ledger) -> None:
    records, _ = record(ledger, JOURNALS / "warrant-expiry-amendment-1.yaml")
    result = explain(records, "holder-a", d("2004-06-01"))
    assert figure(result, "warrant shares", "warrant W-2001").value == 0
    assert figure(result, "warrant shares", "warrant W-2001").basis == "expired since 2004-04-01"
    percent = figure(result, "fully diluted %", "holder-a")
    lapse = percent.causes[-1]
    assert (lapse.type, lapse.entry, lapse.effective, lapse.sequence) == (
        "WarrantExpired", "warrant-2001", d("2004-04-01"), None)
    assert lapse.citation.section == "1, 2"


def test_holder_by_name_and_unknown_holders(ledger: Ledger) -> None:
    records, _ = record(ledger, *SEED_JOURNALS, JOURNALS / "transfer-and-reverse-split.yaml")
    assert explain(records, "stonestreet limited partnership", d("2002-12-08")).holder == "stonestreet"
    with pytest.raises(UnknownHolder, match=r"unknown holder 'nobody' as of 2002-08-01 \(holders: stone"):
        explain(records, "nobody", d("2002-08-01"))
    with pytest.raises(UnknownHolder, match="'second-holder' is only on the ledger from 2002-09-01"):
        explain(records, "second-holder", d("2002-08-01"))


def test_cli_explain_table_and_json(tmp_path: Path) -> None:
    location = str(tmp_path / "seed.sqlite")
    for journal in SEED_JOURNALS:
        assert run_cli("record", str(journal), "--ledger", location).exit_code == 0
    table = run_cli("explain", "stonestreet", "--as-of", "2002-12-08", "--ledger", location)
    assert table.exit_code == 0, table.output
    for text in (PURCHASE, RESCISSION, WARRANT, AMENDMENT, REISSUE, "1,729,031", "100.0000%", "357,000 USD"):
        assert text in table.output
    as_json = run_cli("explain", "stonestreet", "--as-of", "2002-12-08", "--ledger", location, "--json")
    data = json.loads(as_json.stdout)
    lot = data["figures"][0]
    assert (lot["figure"], lot["value"], lot["unit"]) == ("shares", 1535483, "shares")
    assert lot["causes"][1]["citation"]["section"].startswith("1 (partial rescission")
    assert data["figures"][-1]["value"] == {"USD": "357000"}  # exact, never a float


def test_cli_unknown_holder_is_a_message(tmp_path: Path) -> None:
    location = str(tmp_path / "seed.sqlite")
    run_cli("record", str(SEED_JOURNALS[0]), "--ledger", location)
    result = run_cli("explain", "nobody", "--as-of", "2002-12-08", "--ledger", location)
    assert result.exit_code == 1
    assert "unknown holder 'nobody'" in result.output and "Traceback" not in result.output
    bad_date = run_cli("explain", "stonestreet", "--as-of", "2002-13-01", "--ledger", location)
    assert bad_date.exit_code == 2 and "is not a date" in bad_date.output
