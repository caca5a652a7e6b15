"""``capledger check`` on the seed ledger (clean) and on ledgers made inconsistent on purpose
by writing rows straight into the SQLite file, bypassing the decisions."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from capledger.cli import app
from ledger.application import Ledger
from ledger.integrity import chain_digest
from ledger.journal import load_journal

SEED = Path(__file__).resolve().parent.parent / "examples" / "neotherapeutics-2002"
SEED_JOURNALS = (SEED / "1-securities-purchase-2002-06-07.yaml", SEED / "2-mutual-rescission-2002-07-25.yaml")
ISSUER = "neotherapeutics"
LOT = "STONE-2002-06-07"  # 1,935,483 shares bought 2002-06-07; 400,000 rescinded 2002-07-25


def check(path: Path, *more: str) -> Result:
    return CliRunner().invoke(app, ["check", "--ledger", str(path), *more], catch_exceptions=False)


@pytest.fixture
def seed_ledger(tmp_path: Path) -> Path:
    path = tmp_path / "ledger.sqlite"
    ledger = Ledger.open(str(path))
    for journal in SEED_JOURNALS:
        parsed = load_journal(journal)
        ledger.record(parsed.issuer, parsed.entries)
    ledger.close()
    return path


def last_row(path: Path) -> tuple[str, int, str, dict[str, Any]]:
    with sqlite3.connect(path) as db:
        originator, version, topic, state = db.execute(
            "SELECT originator_id, originator_version, topic, state FROM stored_events "
            "ORDER BY rowid DESC LIMIT 1").fetchone()
    return originator, version, topic, json.loads(state)


def plant(path: Path, entry: dict[str, Any], *, skip: int = 0, chained: bool = True) -> None:
    """Append a row after the stream's last one, in the store's own format. With ``chained``
    the hash chain is extended correctly, so only the laws can tell something is wrong."""
    originator, version, topic, state = last_row(path)
    recorded = datetime.fromisoformat(state["timestamp"]["_data_"]) + timedelta(seconds=1)
    sequence = version + 1 + skip
    digest = chain_digest(state["digest"], ISSUER, sequence, recorded, entry) if chained else "0" * 64
    row = {"timestamp": {"_type_": "datetime_iso", "_data_": recorded.isoformat()},
           "issuer": ISSUER, "entry": entry, "previous": state["digest"], "digest": digest}
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO stored_events VALUES (?, ?, ?, ?)",
                   (originator, sequence, topic, json.dumps(row).encode()))


CITE = {"document": "Forged", "dated": "2002-09-01", "section": "1"}


def test_the_seed_ledger_is_consistent(seed_ledger: Path) -> None:
    result = check(seed_ledger)
    assert result.exit_code == 0, result.output
    assert "every law holds" in result.output
    as_json = check(seed_ledger, "--json")
    assert as_json.exit_code == 0
    assert json.loads(as_json.output) == {"ok": True, "issuers": {ISSUER: []}}


def test_check_finds_a_row_that_breaks_a_rule(seed_ledger: Path) -> None:
    """A rescission of more shares than remain, written into the file with a valid hash link:
    the decisions never saw it, and check must."""
    plant(seed_ledger, {"id": "forged-rescission", "effective": "2002-09-01", "citation": CITE,
                        "type": "PurchaseRescinded", "lot": LOT, "quantity": 2_000_000,
                        "refund_per_share": {"amount": "0.2325", "currency": "USD"},
                        "refund_total": {"amount": "465000.0000", "currency": "USD"}})
    result = check(seed_ledger, "--json")
    assert result.exit_code == 1, result.output
    findings = json.loads(result.output)["issuers"][ISSUER]
    broken = [f for f in findings if f["law"] == "books-cleanly"]
    assert broken and broken[0]["entries"] == ["forged-rescission"]
    assert "rescinds-more-than-remains" in broken[0]["message"]
    assert not [f for f in findings if f["law"] == "hash-chain"]  # the chain was forged well

    table = check(seed_ledger)
    assert table.exit_code == 1
    assert "forged-rescission" in table.output and "books-cleanly" in table.output
    assert "[rescinds-more-than-remains]" in table.output  # shown, not taken as markup


def test_check_finds_a_reused_entry_id_and_a_gap(seed_ledger: Path) -> None:
    """An entry id stored twice with different content, one version skipped."""
    plant(seed_ledger, {"id": "stonestreet", "effective": "2002-06-07", "citation": CITE,
                        "type": "StakeholderAdded", "holder": "stonestreet-2", "name": "Forged"},
          skip=1)
    result = check(seed_ledger, "--json")
    assert result.exit_code == 1
    findings = json.loads(result.output)["issuers"][ISSUER]
    messages = " | ".join(f["message"] for f in findings if f["law"] == "log-integrity")
    assert "'stonestreet' is stored twice" in messages
    assert "sequence numbers" in messages
    assert any(f["law"] == "hash-chain" for f in findings)


def test_check_reports_a_row_that_does_not_read_back(seed_ledger: Path) -> None:
    plant(seed_ledger, {"id": "broken", "effective": "2002-09-01", "citation": CITE,
                        "type": "SharesPurchased", "lot": "X", "holder": "stonestreet",
                        "share_class": "common", "quantity": -5,
                        "consideration": {"amount": "1", "currency": "USD"}}, chained=False)
    result = check(seed_ledger)
    assert result.exit_code == 1
    assert "does not read back" in result.output


def test_check_without_a_ledger_does_not_create_one(tmp_path: Path) -> None:
    missing = tmp_path / "nothing.sqlite"
    result = check(missing)
    assert result.exit_code == 2
    assert not missing.exists()
