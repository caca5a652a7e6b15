"""Small builders shared by tests: entries with a default citation, CLI invocation, a store
opened for one block."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from typer.testing import CliRunner, Result

from capledger.cli import app
from ledger.entries import AnyEntry, parse_entry
from ledger.store import LedgerStore

CITE = {"document": "Test document", "dated": "2002-01-01", "section": "1"}


def entry(type_: str, id_: str, effective: str | date, **fields: Any) -> AnyEntry:
    """Build an entry from plain data, as a journal would give it."""
    data = {"type": type_, "id": id_, "effective": str(effective), "citation": CITE, **fields}
    return parse_entry(data)


def run_cli(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


@contextmanager
def store_at(location: str) -> Iterator[LedgerStore]:
    """The store at ``location``, closed when the block ends."""
    store = LedgerStore(location)
    try:
        yield store
    finally:
        store.close()
