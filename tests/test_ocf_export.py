"""``capledger export ocf``: the seed journals as an OCF package, valid before it is written."""

from __future__ import annotations

import json
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

from ledger.application import Ledger
from ledger.journal import load_journal
from ledger.ocf import read_package
from projections.ocf_export import ocf_package
from tests.conftest import SEED_JOURNALS
from tests.helpers import run_cli

SPLIT = Path(__file__).parent / "journals" / "transfer-and-reverse-split.yaml"


def _seeded(tmp_path: Path) -> str:
    location = str(tmp_path / "l.sqlite")
    for journal in (*SEED_JOURNALS, SPLIT):
        assert run_cli("record", str(journal), "--ledger", location).exit_code == 0
    return location


def _items(folder: Path) -> dict[str, dict[str, Any]]:
    data = json.loads((folder / "Transactions.ocf.json").read_text())
    return {i["id"]: i for i in data["items"]}


def test_export_writes_a_valid_folder_with_ocf_numbers(tmp_path: Path) -> None:
    location = _seeded(tmp_path)
    result = run_cli("export", "ocf", str(tmp_path / "out"), "--ledger", location, "--as-of", "2003-12-31")
    assert result.exit_code == 0, result.stderr
    package = read_package(tmp_path / "out")  # validates every file against the OCF schemas
    assert package.manifest["as_of"] == "2003-12-31"
    assert package.manifest["issuer"]["legal_name"] == "NeoTherapeutics, Inc."
    items = _items(tmp_path / "out")
    purchase = items["spa-2002-06-07-shares"]
    assert purchase["quantity"] == "1935483"
    assert purchase["share_price"] == {"amount": "0.2325", "currency": "USD"}
    assert purchase["cost_basis"] == {"amount": "450000", "currency": "USD"}
    # The partial rescission: a cancellation with a balance security for the 1,535,483 left.
    rescission = items["mra-2002-07-25-rescission"]
    assert rescission["object_type"] == "TX_STOCK_CANCELLATION"
    assert rescission["quantity"] == "400000"
    balance = next(i for i in items.values() if i.get("security_id") == rescission["balance_security_id"])
    assert balance["quantity"] == "1535483"
    # The warrant amendment: the old warrant security is cancelled, a new one issued.
    kinds = sorted(i["object_type"] for i in items.values() if i["id"].startswith("mra-2002-07-25-warrant"))
    assert "TX_WARRANT_CANCELLATION" in kinds and "TX_WARRANT_ISSUANCE" in kinds
    assert not [w for w in package.warnings if "md5" in w]


def test_export_as_of_leaves_later_entries_out_and_writes_a_zip(tmp_path: Path) -> None:
    location = _seeded(tmp_path)
    out = tmp_path / "seed.ocf.zip"
    assert run_cli("export", "ocf", str(out), "--ledger", location, "--as-of", "2002-06-30").exit_code == 0
    with zipfile.ZipFile(out) as archive:
        assert sorted(archive.namelist()) == ["Manifest.ocf.json", "Stakeholders.ocf.json",
                                              "StockClasses.ocf.json", "Transactions.ocf.json"]
        items = json.loads(archive.read("Transactions.ocf.json"))["items"]
    assert {i["object_type"] for i in items} == {"TX_STOCK_ISSUANCE", "TX_WARRANT_ISSUANCE"}
    read_package(out)


def test_export_is_deterministic_given_the_time(tmp_path: Path) -> None:
    ledger = Ledger.open(":memory:")
    journal = load_journal(SEED_JOURNALS[0])
    ledger.record(journal.issuer, journal.entries)
    records = ledger.entries(journal.issuer)
    from datetime import UTC, datetime
    moment = datetime(2024, 1, 1, tzinfo=UTC)
    assert ocf_package(records, date(2002, 6, 7), moment) == ocf_package(records, date(2002, 6, 7), moment)


def test_export_of_an_unknown_issuer_is_a_clear_error(tmp_path: Path) -> None:
    location = _seeded(tmp_path)
    result = run_cli("export", "ocf", str(tmp_path / "out"), "--ledger", location, "--issuer", "nobody")
    assert result.exit_code == 1
    assert "unknown issuer 'nobody'" in result.stderr
