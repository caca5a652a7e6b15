"""Bad input (issue 2): each gets a clear message naming the entry, the rule and the figures,
a non-zero exit, and a ledger with exactly the events it had before."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import yaml

from ledger.application import Ledger
from tests.conftest import SEED_JOURNALS
from tests.helpers import CITE, run_cli


@pytest.fixture
def seeded(tmp_path: Path) -> str:
    location = str(tmp_path / "ledger.sqlite")
    for journal in SEED_JOURNALS:
        assert run_cli("record", str(journal), "--ledger", location).exit_code == 0
    return location


def raw_rows(location: str) -> list[tuple[object, ...]]:
    """Every stored row, straight from the file: the test's notion of "exactly as before"."""
    with sqlite3.connect(location) as conn:
        return conn.execute("SELECT * FROM stored_events ORDER BY rowid").fetchall()


def journal(tmp_path: Path, *entries: dict[str, object], name: str = "bad.yaml") -> str:
    path = tmp_path / name
    path.write_text(yaml.safe_dump({"issuer": "neotherapeutics", "entries": list(entries)}))
    return str(path)


def rejected(location: str, path: str, *expected: str) -> str:
    """Record ``path``; assert it fails, stores nothing, and says each expected fragment."""
    before = raw_rows(location)
    result = run_cli("record", path, "--ledger", location)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    for fragment in expected:
        assert fragment in result.output, f"{fragment!r} not in:\n{result.output}"
    assert raw_rows(location) == before
    return result.output


def e(type_: str, id_: str, effective: str, **fields: object) -> dict[str, object]:
    return {"id": id_, "type": type_, "effective": effective, "citation": CITE, **fields}


def test_rescinding_more_than_the_lot(seeded: str, tmp_path: Path) -> None:
    bad = e("PurchaseRescinded", "too-many", "2002-07-01", lot="STONE-2002-06-07",
            quantity="2,000,000", refund_per_share="0.2325 USD", refund_total="465000 USD")
    rejected(seeded, journal(tmp_path, bad), "'too-many'", "rescinds-more-than-remains",
             "2,000,000", "1,935,483")


def test_refund_total_not_quantity_times_per_share(seeded: str, tmp_path: Path) -> None:
    bad = e("PurchaseRescinded", "refund-typo", "2002-07-26", lot="STONE-2002-06-07",
            quantity=400000, refund_per_share="0.2325 USD", refund_total="93001 USD")
    rejected(seeded, journal(tmp_path, bad), "'refund-typo'", "refund-total-mismatch",
             "93,001", "400,000", "0.2325", "93,000")


def test_exercise_before_the_amended_window(seeded: str, tmp_path: Path) -> None:
    bad = e("WarrantExercised", "early-exercise", "2002-09-01", warrant="W-STONE-2002-08-01",
            shares=1000, lot="X-1")
    rejected(seeded, journal(tmp_path, bad), "'early-exercise'", "not-exercisable",
             "2002-12-08", "2002-09-01")


def test_amending_the_surrendered_warrant(seeded: str, tmp_path: Path) -> None:
    bad = e("WarrantAmended", "amend-old", "2002-09-01", warrant="W-STONE-2002-06-07",
            exercise_price="0.30 USD")
    rejected(seeded, journal(tmp_path, bad), "'amend-old'", "warrant-not-outstanding",
             "surrendered on 2002-08-01", "W-STONE-2002-08-01")


def test_negative_quantity(seeded: str, tmp_path: Path) -> None:
    bad = e("SharesPurchased", "negative", "2002-09-01", lot="L-2", holder="stonestreet",
            share_class="common", quantity=-5, consideration="1 USD")
    rejected(seeded, journal(tmp_path, bad), "negative", "quantity", "greater than 0", "-5")


def test_unknown_holder(seeded: str, tmp_path: Path) -> None:
    bad = e("SharesPurchased", "stranger", "2002-09-01", lot="L-2", holder="nobody",
            share_class="common", quantity=10, consideration="1 USD")
    rejected(seeded, journal(tmp_path, bad), "'stranger'", "unknown-holder", "'nobody'")


def test_entry_without_citation(seeded: str, tmp_path: Path) -> None:
    bad = e("StakeholderAdded", "uncited", "2002-09-01", holder="h2", name="Second holder")
    del bad["citation"]
    rejected(seeded, journal(tmp_path, bad), "uncited", "citation", "Field required")


def test_third_entry_bad_stores_nothing_and_lists_every_error(seeded: str, tmp_path: Path) -> None:
    good1 = e("StakeholderAdded", "h2", "2002-09-01", holder="h2", name="Second holder")
    good2 = e("SharesPurchased", "h2-buy", "2002-09-02", lot="L-2", holder="h2",
              share_class="common", quantity=1000, consideration="250 USD")
    bad3 = e("PurchaseRescinded", "h2-undo", "2002-09-03", lot="L-2", quantity=1001,
             refund_per_share="0.25 USD", refund_total="250.25 USD")
    bad4 = e("WarrantCancelled", "cancel-missing", "2002-09-04", warrant="W-NONE")
    output = rejected(seeded, journal(tmp_path, good1, good2, bad3, bad4),
                      "'h2-undo'", "1,001", "'cancel-missing'", "unknown-warrant", "2 problem(s)")
    assert "'h2-buy'" not in output


def test_malformed_yaml(seeded: str, tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("issuer: neotherapeutics\nentries:\n  - id: x\n    type: [unclosed\n")
    rejected(seeded, str(path), "malformed-yaml", "line ")


def test_existing_entry_id_with_different_content(seeded: str, tmp_path: Path) -> None:
    changed = yaml.safe_load(SEED_JOURNALS[1].read_text())
    changed["entries"][0]["quantity"] = "400,001"
    path = tmp_path / "changed.yaml"
    path.write_text(yaml.safe_dump(changed))
    rejected(seeded, str(path), "'mra-2002-07-25-rescission'", "entry-id-reused",
             "quantity: 400000 -> 400001")


def test_rerecording_the_same_journal_is_a_no_op(seeded: str) -> None:
    before = raw_rows(seeded)
    result = run_cli("record", str(SEED_JOURNALS[1]), "--ledger", seeded)
    assert result.exit_code == 0 and "3 entries were already recorded" in result.output
    assert raw_rows(seeded) == before


def test_back_dated_entry_that_breaks_a_later_recorded_one(seeded: str, tmp_path: Path) -> None:
    """A later exercise needs the warrant; a cancellation back-dated before it is refused."""
    exercise = e("WarrantExercised", "exercise-2003", "2003-01-10", warrant="W-STONE-2002-08-01",
                 shares=100000, lot="EX-1", payment="27500 USD")
    assert run_cli("record", journal(tmp_path, exercise, name="ok.yaml"), "--ledger", seeded).exit_code == 0
    cancel = e("WarrantCancelled", "cancel-backdated", "2002-12-31", warrant="W-STONE-2002-08-01")
    rejected(seeded, journal(tmp_path, cancel), "'cancel-backdated'", "invalidates-later-entry",
             "'exercise-2003'", "cancelled on 2002-12-31")


def test_exceeding_authorized_shares(seeded: str, tmp_path: Path) -> None:
    bad = e("SharesPurchased", "too-big", "2002-09-01", lot="L-9", holder="stonestreet",
            share_class="common", quantity="48,500,000", consideration="1 USD")
    rejected(seeded, journal(tmp_path, bad), "'too-big'", "exceeds-authorized",
             "50,035,483", "50,000,000")


def test_entry_dated_before_its_security_exists(seeded: str, tmp_path: Path) -> None:
    bad = e("WarrantAmended", "too-early", "2002-07-30", warrant="W-STONE-2002-08-01",
            exercise_price="0.20 USD")
    rejected(seeded, journal(tmp_path, bad), "'too-early'", "before-it-exists", "2002-08-01",
             "2002-07-30")


def test_entry_dated_before_the_issuer_exists(seeded: str, tmp_path: Path) -> None:
    bad = e("PurchaseRescinded", "before-issuer", "2002-06-01", lot="STONE-2002-06-07",
            quantity=1, refund_per_share="0.2325 USD", refund_total="0.2325 USD")
    rejected(seeded, journal(tmp_path, bad), "'before-issuer'", "unknown-issuer", "2002-06-01")


def test_unknown_issuer(tmp_path: Path) -> None:
    location = str(tmp_path / "empty.sqlite")
    Ledger.open(location).close()
    bad = e("StakeholderAdded", "h1", "2002-09-01", holder="h1", name="Holder")
    rejected(location, journal(tmp_path, bad), "unknown-issuer", "'neotherapeutics'")


def test_float_that_is_not_money(seeded: str, tmp_path: Path) -> None:
    bad = e("SharesPurchased", "no-currency", "2002-09-01", lot="L-3", holder="stonestreet",
            share_class="common", quantity=10, consideration=2.5)
    rejected(seeded, journal(tmp_path, bad), "'no-currency'", "entry #1", "consideration",
             "money needs a currency: write '2.5 USD'")


def test_bad_usage_exits_2(seeded: str) -> None:
    result = run_cli("holdings", "--ledger", seeded, "--as-of", "July 25")
    assert result.exit_code == 2 and "is not a date" in result.output


def test_query_on_a_missing_ledger_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "typo.sqlite"
    result = run_cli("captable", "--ledger", str(missing))
    assert result.exit_code == 1 and "no ledger at" in result.output
    assert not missing.exists()


def test_correction_cannot_move_the_ledger_to_another_issuer(seeded: str, tmp_path: Path) -> None:
    fix = e("EntryCorrected", "rename", "2002-09-01", target="neo-issuer", reason="typo", by="A. Clerk",
            replacement={"id": "neo-issuer", "type": "IssuerCreated", "effective": "2002-06-07",
                         "issuer": "someone-else", "name": "Someone", "citation": CITE})
    rejected(seeded, journal(tmp_path, fix), "'rename'", "issuer-mismatch", "'someone-else'")
