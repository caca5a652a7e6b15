"""A failing example is printed as YAML journals: they must be what ``capledger record``
accepts, and replaying them must give back exactly the generated ledger."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from hypothesis import given, settings
from typer.testing import CliRunner

from capledger.cli import app
from ledger.application import Ledger
from ledger.journal import parse_journal
from tests.property.conftest import examples
from tests.property.journal_report import journals_text
from tests.property.strategies import GeneratedLedger, ledgers

_HEADER = re.compile(r"^# ---- (\d+)\.yaml .*$", re.M)


def split_journals(text: str) -> list[str]:
    """Cut the printed counterexample into its journal files, as a person would."""
    parts = _HEADER.split(text)
    return [parts[i + 1] for i in range(1, len(parts), 2)]


@given(ledgers())
def test_printed_journals_parse_back_to_the_same_entries(gen: GeneratedLedger) -> None:
    journals = split_journals(journals_text(gen.issuer, gen.batches))
    assert len(journals) == len(gen.batches)
    for text, batch in zip(journals, gen.batches, strict=True):
        parsed = parse_journal(text)
        assert parsed.issuer == gen.issuer
        assert [e.content() for e in parsed.entries] == [e.content() for e in batch]


@settings(max_examples=examples(0.1, least=3))
@given(ledgers())
def test_printed_journals_replay_with_capledger_record(gen: GeneratedLedger) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        ledger_path = str(Path(tmp) / "replay.sqlite")
        for i, text in enumerate(split_journals(journals_text(gen.issuer, gen.batches)), start=1):
            journal = Path(tmp) / f"{i}.yaml"
            journal.write_text(text, encoding="utf-8")
            result = CliRunner().invoke(app, ["record", str(journal), "--ledger", ledger_path])
            assert result.exit_code == 0, result.output
        replayed = Ledger.open(ledger_path)
        try:
            assert [r.entry.content() for r in replayed.entries(gen.issuer)] == [
                e.content() for e in gen.entries]
        finally:
            replayed.close()
