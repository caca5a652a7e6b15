"""The shared OCF corpus (../shared/ocf-corpus, or CAPLEDGER_OCF_CORPUS): real files written by
others. Skipped with the reason shown where the corpus is absent (the project's own tests do
not need it); run wherever it is present, as in CI.

Hand figures for the OCF-Tools acme sample, from its Transactions.ocf.json (stock only; the
options are skipped as unsupported), as of its last date 2023-06-29:
  fionaFounder  ordinaryA: si_01 600,000 - 500,000 repurchased (stock_repurchase_01, balance
                si_06 100,000) - 100,000 repurchased (stock_repurchase_02) = 0;
                + si_03 300,000 received from charlie (st_01) - 220,000 cancelled (sc_02, balance
                si_07 80,000) = 80,000; si_10 50,000 retracted (sr_10) = 0;
                + si_11 30,000 + si_12 10,000 from converting 20,000 preferred = 120,000.
                preferred: si_preferred_01 35,000 - 20,000 converted = 15,000.
  charlieCofounder ordinaryA: si_02 400,000 - 300,000 transferred (balance si_04 100,000)
                - 100,000 cancelled (sc_01) = 0; + si_05 25,000 = 25,000.
  janeCTO       ordinaryB: sib_1 25,000, reissued as 13,500 + 11,500, split 2-for-1 = 50,000,
                reissued as 27,000 + 23,000 = 50,000.
  emilyEmployee: options only (skipped): nothing.
"""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

import pytest

import projections
from ledger.application import Ledger
from ledger.errors import Rejected
from ledger.ocf import map_package, read_package
from ledger.ocf.kinds import unsupported_reason
from ledger.ocf.schema import check_file, check_object
from projections.holdings import shares_by_holder
from tests.helpers import run_cli


def _corpus() -> Path:
    """CAPLEDGER_OCF_CORPUS, else the nearest ``shared/ocf-corpus`` beside the repository or
    one of its parent folders (the project's layout: ../shared). Where it is absent the
    tests skip with the path looked for; a CAPLEDGER_OCF_CORPUS that points nowhere fails."""
    configured = os.environ.get("CAPLEDGER_OCF_CORPUS")
    if configured:
        if not Path(configured).is_dir():
            pytest.fail(f"CAPLEDGER_OCF_CORPUS={configured} is not a folder")
        return Path(configured)
    repo = Path(__file__).resolve().parents[1]
    for folder in repo.parents:
        candidate = folder / "shared" / "ocf-corpus"
        if candidate.is_dir():
            return candidate
    pytest.skip(f"no shared/ocf-corpus beside {repo} or its parents (set CAPLEDGER_OCF_CORPUS)")


@pytest.fixture
def corpus() -> Path:
    return _corpus()


ACME_FIGURES = {
    ("fionaFounder", "ordinaryA"): 120_000, ("fionaFounder", "preferred"): 15_000,
    ("charlieCofounder", "ordinaryA"): 25_000, ("janeCTO", "ordinaryB"): 50_000,
}


@pytest.mark.parametrize("where", ["tools/sample_ocf_folders/acme_holdings_limited",
                                   "testbed/datasets/acme_holdings_limited"])
def test_acme_imports_with_skip_unsupported_and_matches_hand_figures(corpus: Path, where: str,
                                                                     tmp_path: Path) -> None:
    ledger = str(tmp_path / "l.sqlite")
    stopped = run_cli("import", "ocf", str(corpus / where), "--ledger", ledger)
    assert stopped.exit_code == 1 and "TX_EQUITY_COMPENSATION_ISSUANCE eci_01" in stopped.stderr
    result = run_cli("import", "ocf", str(corpus / where), "--ledger", ledger, "--skip-unsupported", "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    warnings = "\n".join(report["warnings"])
    # The known defects are reported, not crashed on.
    assert "EXERCISE_01 names resulting security 'share_issuance_01', but the package has no issuance" \
        in warnings
    assert "eci_01 is dated 2019-06-01, before the issuer's formation date 2022-01-01" in warnings
    assert "refers to stock plan 'stock_plan_01', which the package lacks" in warnings
    assert any("EXERCISE_04" in s for s in report["skipped"])
    opened = Ledger.open(ledger)
    records = opened.entries("acme-holdings-limited")
    assert shares_by_holder(projections.holdings(records, date(2023, 6, 29))) == ACME_FIGURES
    assert projections.cap_table(records, date(2023, 6, 29)).outstanding == {
        "ordinaryA": 145_000, "ordinaryB": 50_000, "preferred": 15_000}
    opened.close()


def test_invalid_company_is_rejected_naming_the_transfer(corpus: Path, tmp_path: Path) -> None:
    ledger = str(tmp_path / "l.sqlite")
    for flags in ([], ["--skip-unsupported"]):
        result = run_cli("import", "ocf", str(corpus / "testbed/datasets/invalidCompany"), "--ledger", ledger,
                         *flags)
        assert result.exit_code == 1
        assert "TX_STOCK_TRANSFER st_01 transfers 30,000,000 shares of security 'stock_issuance_02' but " \
               "it holds only 400,000 (issued by TX_STOCK_ISSUANCE si_02)" in result.stderr
    assert run_cli("issuers", "--ledger", ledger).stdout.strip() == ""


def test_every_sample_file_parses_or_is_reported_unsupported(corpus: Path) -> None:
    samples = sorted((corpus / "ocf" / "samples").glob("*.json"))
    assert samples
    for path in samples:
        data = json.loads(path.read_text(encoding="utf-8"))
        check_file(data, data["file_type"])  # must not raise, whatever it finds
        for item in data.get("items", []):
            found = check_object(item)
            assert isinstance(found.problems, list)
            unsupported_reason(item["object_type"])


@pytest.mark.parametrize("where", ["ocf/samples", "ocf/docs/tutorials/quickstart/samples",
                                   "ocf/docs/tutorials/options/samples", "tools/testing_scripts/testPackage"])
def test_other_packages_import_or_are_rejected_clearly(corpus: Path, where: str) -> None:
    try:
        mapping = map_package(read_package(corpus / where))
    except Rejected as rejected:  # a clear list of problems, never a crash
        assert rejected.violations
        return
    if mapping.problems:
        assert all(v.message for v in mapping.problems)
        return
    ledger = Ledger.open(":memory:")
    try:
        ledger.record(mapping.issuer, mapping.entries)
    except Rejected as rejected:
        assert rejected.violations
