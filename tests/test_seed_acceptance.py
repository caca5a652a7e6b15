"""The seed contract, recorded as written, answers its questions exactly (issue 2)."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

import pytest

from ledger.application import Ledger
from ledger.journal import load_journal
from ledger.records import RecordedEntry
from projections import cap_table, consideration, holdings, warrants
from tests.conftest import SEED_JOURNALS
from tests.helpers import run_cli

ISSUER = "neotherapeutics"
ORIGINAL, REISSUED = "W-STONE-2002-06-07", "W-STONE-2002-08-01"


def d(text: str) -> date:
    return date.fromisoformat(text)


@pytest.fixture
def seed(ledger: Ledger) -> tuple[list[RecordedEntry], datetime]:
    """Both journals recorded one after the other; returns the log and a time between them."""
    first = load_journal(SEED_JOURNALS[0])
    stored = ledger.record(first.issuer, first.entries).stored
    between = stored[-1].recorded_at
    second = load_journal(SEED_JOURNALS[1])
    assert ledger.record(second.issuer, second.entries).stored[0].recorded_at > between
    return ledger.entries(ISSUER), between


def stonestreet_shares(records: list[RecordedEntry], day: str, known_at: datetime | None = None) -> int:
    return sum(p.shares for p in holdings(records, d(day), known_at) if p.holder == "stonestreet")


def warrant(records: list[RecordedEntry], warrant_id: str, day: str, known_at: datetime | None = None):  # type: ignore[no-untyped-def]
    return next(w for w in warrants(records, d(day), known_at) if w.warrant == warrant_id)


def test_holdings(seed: tuple[list[RecordedEntry], datetime]) -> None:
    records, _ = seed
    assert stonestreet_shares(records, "2002-06-06") == 0
    assert stonestreet_shares(records, "2002-06-07") == 1_935_483
    assert stonestreet_shares(records, "2002-07-24") == 1_935_483
    for day in ("2002-07-25", "2002-12-08", "2010-01-01"):
        assert stonestreet_shares(records, day) == 1_535_483
    (lot,) = holdings(records, d("2002-07-25"))
    assert (lot.lot, lot.acquired_shares, lot.rescinded) == ("STONE-2002-06-07", 1_935_483, 400_000)


def test_consideration(seed: tuple[list[RecordedEntry], datetime]) -> None:
    records, _ = seed
    (june,) = consideration(records, d("2002-06-07"))
    assert june.paid == {"USD": Decimal("450000")} and june.refunded == {}
    (after,) = consideration(records, d("2002-07-25"))
    assert after.paid == {"USD": Decimal("450000")}
    assert after.refunded == {"USD": Decimal("93000")}
    assert after.net == {"USD": Decimal("357000")}
    refund = next(m for m in after.movements if m.direction == "refunded")
    assert refund.effective == d("2002-07-25")
    # The stated total is stored as stated, not recomputed from 1,935,483 x $0.2325.
    assert Decimal(1_935_483) * Decimal("0.2325") == Decimal("449999.7975")
    assert str(after.movements[0].amount.amount) == "450000"


def test_warrant_exercisability(seed: tuple[list[RecordedEntry], datetime]) -> None:
    records, _ = seed
    before = warrant(records, ORIGINAL, "2002-07-24")
    assert before.exercisable and before.shares == 193_548
    assert before.exercise_price.amount == Decimal("0.275")
    for day in ("2002-07-25", "2002-07-31"):
        w = warrant(records, ORIGINAL, day)
        assert (w.status, w.exercisable, w.next_change) == ("outstanding", False, d("2002-12-08"))
    for day in ("2002-08-01", "2002-12-07"):
        w = warrant(records, REISSUED, day)
        assert (w.exercisable, w.next_change) == (False, d("2002-12-08"))
    on = warrant(records, REISSUED, "2002-12-08")
    assert on.exercisable and on.shares == 193_548 and on.exercise_price.amount == Decimal("0.275")
    assert on.next_change is None  # no expiry is stated, so nothing further changes


def test_reissue_surrenders_original_and_counts_shares_once(
    seed: tuple[list[RecordedEntry], datetime],
) -> None:
    records, _ = seed
    old = warrant(records, ORIGINAL, "2002-12-08")
    new = warrant(records, REISSUED, "2002-12-08")
    assert (old.status, old.replaced_by, old.shares, old.exercisable) == (
        "surrendered", REISSUED, 0, False)
    assert (new.status, new.replaces, new.exercisable_from) == ("outstanding", ORIGINAL, d("2002-12-08"))
    cap = cap_table(records, d("2002-12-08"))
    (row,) = cap.rows
    assert (row.holder, row.shares, row.warrant_shares) == ("stonestreet", {"common": 1_535_483}, 193_548)
    assert row.fully_diluted == cap.fully_diluted == 1_729_031
    assert cap_table(records, d("2002-07-24")).fully_diluted == 1_935_483 + 193_548


def test_known_at_between_the_two_recordings(seed: tuple[list[RecordedEntry], datetime]) -> None:
    records, between = seed
    assert stonestreet_shares(records, "2002-08-01", known_at=between) == 1_935_483
    assert warrant(records, ORIGINAL, "2002-08-01", known_at=between).exercisable
    assert all(w.warrant != REISSUED for w in warrants(records, d("2002-08-01"), between))
    after = records[-1].recorded_at
    assert stonestreet_shares(records, "2002-08-01", known_at=after) == 1_535_483
    assert not warrant(records, REISSUED, "2002-08-01", known_at=after).exercisable


def test_projections_do_not_depend_on_arrival_order(seed: tuple[list[RecordedEntry], datetime]) -> None:
    records, _ = seed
    shuffled = list(reversed(records))
    for day in ("2002-06-07", "2002-07-25", "2002-12-08"):
        assert holdings(shuffled, d(day)) == holdings(records, d(day))
        assert warrants(shuffled, d(day)) == warrants(records, d(day))
        assert cap_table(shuffled, d(day)) == cap_table(records, d(day))


def test_cli_answers_the_seed(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The same answers through the command line, from a real SQLite file."""
    ledger = str(tmp_path / "seed.sqlite")
    first = run_cli("record", str(SEED_JOURNALS[0]), "--ledger", ledger, "--json")
    assert first.exit_code == 0, first.output
    between = json.loads(first.output)["recorded_at"]
    assert run_cli("record", str(SEED_JOURNALS[1]), "--ledger", ledger).exit_code == 0

    def query(*args: str) -> object:
        result = run_cli(*args, "--ledger", ledger, "--json")
        assert result.exit_code == 0, result.output
        return json.loads(result.output)

    assert [p["shares"] for p in query("holdings", "--as-of", "2002-07-24")] == [1935483]
    assert [p["shares"] for p in query("holdings", "--as-of", "2002-07-25")] == [1535483]
    then = query("holdings", "--as-of", "2002-08-01", "--known-at", between)
    assert [p["shares"] for p in then] == [1935483]  # type: ignore[union-attr]
    (money,) = query("consideration", "--as-of", "2002-12-31")  # type: ignore[misc]
    assert (money["paid"], money["refunded"], money["net"]) == (
        {"USD": "450000"}, {"USD": "93000"}, {"USD": "357000"})
    cap = query("captable", "--as-of", "2002-12-08")
    assert cap["fully_diluted"] == 1729031  # type: ignore[index]
    views = {w["warrant"]: w for w in query("warrants", "--as-of", "2002-09-01")}  # type: ignore[union-attr]
    assert views[REISSUED]["exercisable"] is False and views[REISSUED]["next_change"] == "2002-12-08"
    assert views[ORIGINAL]["status"] == "surrendered"
    assert views[REISSUED]["exercise_price"] == {"amount": "0.275", "currency": "USD"}
    table = run_cli("captable", "--as-of", "2002-12-08", "--ledger", ledger)
    assert "1,729,031" in table.output and "Stonestreet Limited Partnership" in table.output
    lines = query("history")
    assert [line["entry_id"] for line in lines][-3:] == [  # type: ignore[index]
        "mra-2002-07-25-rescission", "mra-2002-07-25-warrant-amendment", "mra-warrant-reissue"]


def test_cli_views_and_fold_agree(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The commands answer from the materialized views; --fold replays the log instead."""
    ledger = str(tmp_path / "seed.sqlite")
    first = run_cli("record", str(SEED_JOURNALS[0]), "--ledger", ledger, "--json")
    between = json.loads(first.output)["recorded_at"]
    run_cli("record", str(SEED_JOURNALS[1]), "--ledger", ledger)
    for command in ("holdings", "warrants", "captable", "consideration"):
        for day in ("2002-06-06", "2002-06-07", "2002-07-25", "2002-08-01", "2002-12-08"):
            for known in ([], ["--known-at", between]):
                args = [command, "--ledger", ledger, "--as-of", day, "--json", *known]
                views, fold = run_cli(*args), run_cli(*args, "--fold")
                assert views.exit_code == fold.exit_code == 0, views.output + fold.output
                assert json.loads(views.output) == json.loads(fold.output), (command, day, known)
