"""Small builders shared by tests: entries with a default citation, and CLI invocation."""

from __future__ import annotations

from datetime import date
from typing import Any

from typer.testing import CliRunner, Result

from capledger.cli import app
from ledger.entries import AnyEntry, parse_entry

CITE = {"document": "Test document", "dated": "2002-01-01", "section": "1"}


def entry(type_: str, id_: str, effective: str | date, **fields: Any) -> AnyEntry:
    """Build an entry from plain data, as a journal would give it."""
    data = {"type": type_, "id": id_, "effective": str(effective), "citation": CITE, **fields}
    return parse_entry(data)


def run_cli(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)
