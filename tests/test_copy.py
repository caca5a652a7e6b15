"""`capledger copy` (issue 5): moving a ledger from SQLite to PostgreSQL (or to another file)
keeps every event byte for byte, every chain, and every answer."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.application import Ledger
from tests.conftest import SEED_JOURNALS
from tests.helpers import run_cli

QUESTIONS = [
    ("captable", "--as-of", "2002-12-08"),
    ("holdings", "--as-of", "2002-07-25"),
    ("warrants", "--as-of", "2002-07-26"),
    ("consideration", "--as-of", "2002-07-25"),
]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "copy.sqlite")
    return str(request.getfixturevalue("postgres_location"))


@pytest.fixture
def source(tmp_path: Path) -> str:
    path = str(tmp_path / "source.sqlite")
    for journal in SEED_JOURNALS:
        assert run_cli("record", str(journal), "--ledger", path).exit_code == 0
    return path


def stored(location: str) -> list[tuple[object, ...]]:
    ledger = Ledger.open(location, create=False)
    try:
        return [(r.issuer, r.sequence, r.recorded_at, r.entry, r.digest)
                for issuer in ledger.issuers() for r in ledger.entries(issuer)]
    finally:
        ledger.close()


def test_a_copy_keeps_every_event_and_every_answer(source: str, target: str) -> None:
    result = run_cli("copy", source, target)
    assert result.exit_code == 0, result.output
    assert "neotherapeutics: 8 events, chain verified, head " in result.output
    assert stored(target) == stored(source) and len(stored(source)) > 0
    for question in QUESTIONS:
        want = run_cli(*question, "--ledger", source, "--json")
        got = run_cli(*question, "--ledger", target, "--json")
        assert got.exit_code == want.exit_code == 0
        assert got.output == want.output
    audit = run_cli("audit", "verify", "--ledger", target)
    assert audit.exit_code == 0, audit.output


def test_copying_into_a_ledger_that_holds_events_changes_nothing(source: str, target: str) -> None:
    assert run_cli("copy", source, target).exit_code == 0
    before = stored(target)
    again = run_cli("copy", source, target)
    assert again.exit_code == 1
    assert "already holds a ledger" in again.output and "never merges" in again.output
    assert stored(target) == before


def test_copying_a_missing_ledger_is_refused(tmp_path: Path) -> None:
    result = run_cli("copy", str(tmp_path / "nope.sqlite"), str(tmp_path / "copy.sqlite"))
    assert result.exit_code == 1
    assert "no ledger at" in result.output
    assert not (tmp_path / "copy.sqlite").exists()
