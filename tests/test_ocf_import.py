"""``capledger import ocf``: the hand-written widgets package (tests/fixtures/ocf/widgets),
whose figures are derived by hand below, and packages made invalid on purpose.

Hand figures for widgets (common splits 2-for-1 on 2022-01-01):
  alice: S-1 100,000 - 30,000 transferred (tr-1) - 10,000 cancelled (can-1) = 60,000; S-8 5,000
         retracted ab initio (ret-1) = 0; after the split 120,000 common.
  bob:   S-2 50,000 - 20,000 repurchased (rep-1) = 30,000; S-4 30,000 from alice, reissued as
         S-11 + S-12 (same lot); 60,000 before the split, 120,000 after.
  fund:  S-3 20,000 seriesA - 10,000 converted 2-for-1 (conv-1) = 10,000 seriesA and 20,000
         common (S-9), 40,000 after the split; warrant W-1 10,000 at $0.50 becomes 20,000 at
         $0.25; 4,000 exercised (wex-1) = S-13; 16,000 cancelled (wcan-1). Common 44,000.
  common outstanding 2021-12-31: 60,000 + 60,000 + 20,000 = 140,000; 2022-12-31: 284,000;
  authorized 1,000,000 -> 2,000,000 with the split (adj-1).
"""

from __future__ import annotations

import json
import shutil
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

import projections
from ledger.application import Ledger
from ledger.ocf import map_package, read_package
from projections.holdings import shares_by_holder
from tests.helpers import run_cli

WIDGETS = Path(__file__).parent / "fixtures" / "ocf" / "widgets"


def _import(*args: str) -> Any:
    return run_cli("import", "ocf", *args)


def _copy(tmp_path: Path, change: Any = None) -> Path:
    folder = tmp_path / "package"
    shutil.copytree(WIDGETS, folder)
    if change:
        path = folder / "Transactions.ocf.json"
        data = json.loads(path.read_text())
        change(data["items"])
        path.write_text(json.dumps(data))
    return folder


def test_unsupported_types_stop_the_import_and_are_listed(tmp_path: Path) -> None:
    ledger = str(tmp_path / "l.sqlite")
    result = _import(str(WIDGETS), "--ledger", ledger)
    assert result.exit_code == 1
    assert "TX_EQUITY_COMPENSATION_ISSUANCE eci-1" in result.stderr
    assert "options and other equity compensation" in result.stderr
    assert "--skip-unsupported" in result.stderr
    assert run_cli("issuers", "--ledger", ledger).stdout.strip() == ""


def test_skip_unsupported_imports_the_rest_with_hand_figures(tmp_path: Path) -> None:
    ledger = str(tmp_path / "l.sqlite")
    result = _import(str(WIDGETS), "--ledger", ledger, "--skip-unsupported", "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["issuer"] == "widgets-inc"
    assert report["skipped"] == ["TX_EQUITY_COMPENSATION_ISSUANCE eci-1: options and other equity "
                                 "compensation are not modelled yet"]
    assert report["ignored"] == ["TX_STOCK_ACCEPTANCE acc-1: an acceptance changes no holding"]
    opened = Ledger.open(ledger)
    records = opened.entries("widgets-inc")
    assert shares_by_holder(projections.holdings(records, date(2021, 12, 31))) == {
        ("alice", "common"): 60_000, ("bob", "common"): 60_000,
        ("fund", "common"): 20_000, ("fund", "seriesA"): 10_000,
    }
    assert shares_by_holder(projections.holdings(records, date(2022, 12, 31))) == {
        ("alice", "common"): 120_000, ("bob", "common"): 120_000,
        ("fund", "common"): 44_000, ("fund", "seriesA"): 10_000,
    }
    cap = projections.cap_table(records, date(2022, 12, 31))
    assert cap.outstanding == {"common": 284_000, "seriesA": 10_000}
    assert cap.authorized == {"common": 2_000_000, "seriesA": 100_000}
    (w,) = [w for w in projections.warrants(records, date(2022, 6, 30))]
    assert (w.warrant, w.status, w.shares) == ("W-1", "outstanding", 16_000)
    assert str(w.exercise_price) == "0.25 USD"
    assert projections.warrants(records, date(2022, 9, 1))[0].status == "cancelled"
    # Bob's reissued certificates S-11 and S-12 are still the lot S-4 he received.
    lots = {p.lot: p.shares for p in projections.holdings(records, date(2022, 12, 31)) if p.holder == "bob"}
    assert lots == {"S-2": 60_000, "S-4": 60_000}
    # Every entry cites the OCF object it came from.
    by_id = {r.entry.id: r.entry for r in records}
    assert by_id["tr-1"].citation.section == "TX_STOCK_TRANSFER tr-1"
    assert by_id["tr-1"].citation.document == "OCF package Manifest.ocf.json (Widgets Inc.)"
    assert by_id["tr-1"].citation.dated == date(2022, 12, 31)
    assert by_id["ret-1"].effective == date(2021, 4, 1)  # ab initio: the issue date
    opened.close()
    again = _import(str(WIDGETS), "--ledger", ledger, "--skip-unsupported", "--json")
    assert json.loads(again.stdout)["already_recorded"] == len(records)


def test_a_zip_a_folder_and_a_manifest_give_the_same_entries(tmp_path: Path) -> None:
    archive = tmp_path / "widgets.ocf.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for path in WIDGETS.iterdir():
            z.write(path, f"widgets/{path.name}")
    folder = map_package(read_package(WIDGETS)).entries
    assert map_package(read_package(archive)).entries == folder
    assert map_package(read_package(WIDGETS / "Manifest.ocf.json")).entries == folder


def test_issuer_id_can_be_given(tmp_path: Path) -> None:
    ledger = str(tmp_path / "l.sqlite")
    result = _import(str(WIDGETS), "--ledger", ledger, "--skip-unsupported", "--issuer", "widgets")
    assert result.exit_code == 0, result.stderr
    assert run_cli("issuers", "--ledger", ledger).stdout.strip() == "widgets"


def test_a_transfer_of_more_than_the_security_holds_is_rejected(tmp_path: Path) -> None:
    def more(items: list[dict[str, Any]]) -> None:
        next(i for i in items if i["id"] == "tr-1")["quantity"] = "300000"

    ledger = str(tmp_path / "l.sqlite")
    result = _import(str(_copy(tmp_path, more)), "--ledger", ledger, "--skip-unsupported")
    assert result.exit_code == 1
    assert "TX_STOCK_TRANSFER tr-1 transfers 300,000 shares of security 'S-1' but it holds only " \
           "100,000 (issued by TX_STOCK_ISSUANCE si-alice)" in result.stderr
    assert "can-1" in result.stderr  # what depends on it is named too
    assert run_cli("issuers", "--ledger", ledger).stdout.strip() == ""


def test_every_schema_problem_is_listed(tmp_path: Path) -> None:
    def broken(items: list[dict[str, Any]]) -> None:
        items[0]["quantity"] = "lots"
        items[1]["share_price"] = {"amount": "0.01"}

    result = _import(str(_copy(tmp_path, broken)), "--ledger", str(tmp_path / "l.sqlite"))
    assert result.exit_code == 1
    assert "TX_STOCK_ISSUANCE si-alice" in result.stderr and "quantity" in result.stderr
    assert "TX_STOCK_ISSUANCE si-bob" in result.stderr and "currency" in result.stderr
    assert "Traceback" not in result.stderr


def test_only_ocf_1x_is_accepted(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    manifest = json.loads((folder / "Manifest.ocf.json").read_text())
    manifest["ocf_version"] = "2.0.0"
    (folder / "Manifest.ocf.json").write_text(json.dumps(manifest))
    result = _import(str(folder), "--ledger", str(tmp_path / "l.sqlite"))
    assert result.exit_code == 1
    assert "'2.0.0' is not an OCF 1.x version" in result.stderr


def test_a_missing_file_and_a_missing_package_are_clear(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    (folder / "StockClasses.ocf.json").unlink()
    result = _import(str(folder), "--ledger", str(tmp_path / "l.sqlite"))
    assert result.exit_code == 1 and "no such file" in result.stderr
    result = _import(str(tmp_path / "nowhere"), "--ledger", str(tmp_path / "l.sqlite"))
    assert result.exit_code == 1 and "does not exist" in result.stderr
