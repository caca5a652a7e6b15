"""Invalid entries, one strategy per rule: each is rejected, naming its rule, the model agrees,
and the log is exactly as it was (the law "a rejected entry leaves the log unchanged")."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.errors import Rejected
from tests.property.conftest import examples
from tests.property.invalid import INVALID, InvalidCase, invalid_cases, no_ledger_yet
from tests.property.journal_report import note_journals
from tests.property.support import record_all, stored_form

LEDGER = Path(__file__).resolve().parents[2] / "ledger"
# Where the decisions' rules are named: booking rules, recording rules, the write API.
RULE_SOURCES = [LEDGER / "book.py", *sorted((LEDGER / "rules").glob("*.py")),
                LEDGER / "decisions.py", LEDGER / "application.py"]
_PATTERNS = [
    re.compile(r'RuleBroken\(\s*"([a-z]+(?:-[a-z]+)+)"'),
    re.compile(r'Violation\(\s*[\w.\[\]]+,\s*"([a-z]+(?:-[a-z]+)+)"'),
    re.compile(r'\(\s*"([a-z]+(?:-[a-z]+)+)",\s*f?"'),  # (rule, message) pairs
    re.compile(r'_product_matches\([^)]*?"([a-z]+(?:-[a-z]+)+)"'),
    re.compile(r'\n\s+"([a-z]+(?:-[a-z]+)+)",\n'),  # a rule alone on its line in a call
]
_VERBS = re.compile(r'lot_with\([^)]*"([a-z]+)"\)')  # f"{verb}-more-than-remains"
_MISSING = re.compile(r'_missing\(\s*"([a-z ]+)"')  # f"unknown-{what}"


def rules_named_in_ledger() -> set[str]:
    rules: set[str] = set()
    for path in RULE_SOURCES:
        text = path.read_text(encoding="utf-8")
        for pattern in _PATTERNS:
            rules.update(pattern.findall(text))
        rules.update(f"{verb}-more-than-remains" for verb in _VERBS.findall(text))
        rules.update(f"unknown-{what.replace(' ', '-')}" for what in _MISSING.findall(text))
    return rules


def test_every_rule_the_decisions_enforce_has_an_invalid_strategy() -> None:
    named = rules_named_in_ledger()
    assert len(named) > 30, named  # the scan itself works
    assert named - set(INVALID) == set(), "rules without an invalid-entry strategy"
    assert set(INVALID) - named == set(), "strategies for rules the ledger no longer names"


def _check(case: InvalidCase) -> None:
    note_journals(case.ledger.issuer, case.ledger.batches, case.bad)
    ledger = record_all(case.ledger)
    try:
        before = stored_form(ledger.store.all_entries())
        with pytest.raises(Rejected) as raised:
            ledger.record(case.issuer, case.bad)
        rules = {v.rule for v in raised.value.violations}
        assert case.rule in rules, raised.value
        assert stored_form(ledger.store.all_entries()) == before
        if case.issuer == case.ledger.issuer:
            from tests.property.model import ModelLedger

            model = ModelLedger(case.issuer)
            for batch, at in zip(case.ledger.batches, case.ledger.times, strict=True):
                model.commit(batch, at)
            assert model.new_entries(case.bad) is None, "the model would accept it"
    finally:
        ledger.close()


@pytest.mark.parametrize("rule", sorted(INVALID))
@settings(max_examples=examples(0.15, least=4))
@given(data=st.data())
def test_invalid_entry_is_rejected_and_leaves_the_log_as_it_was(rule: str, data: st.DataObject) -> None:
    _check(data.draw(invalid_cases(rule)))


@settings(max_examples=examples(0.15, least=4))
@given(no_ledger_yet())
def test_journal_for_an_issuer_without_a_ledger_is_rejected(case: InvalidCase) -> None:
    _check(case)
