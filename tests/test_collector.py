"""Recording pauses the cyclic garbage collector and always gives it back as it found it."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from ledger import collector
from ledger.application import Ledger
from ledger.collector import collector_paused
from ledger.errors import Rejected
from ledger.store import LedgerStore
from tests.helpers import entry


@pytest.fixture
def ledger() -> Iterator[Ledger]:
    store = LedgerStore(":memory:")
    yield Ledger(store)
    store.close()


def test_paused_inside_and_restored_after_an_error() -> None:
    assert gc.isenabled()
    with pytest.raises(RuntimeError), collector_paused():
        assert not gc.isenabled()
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_nested_use_leaves_it_to_the_outermost() -> None:
    with collector_paused():
        with collector_paused():
            pass
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()  # it was off before: it stays off
    finally:
        gc.enable()


def test_recording_runs_paused_and_resumes(ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[bool] = []
    real = ledger.store.append

    def append(*args: object) -> object:
        seen.append(gc.isenabled())
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(ledger.store, "append", append)
    ledger.record("acme", [entry("IssuerCreated", "issuer", "2001-01-01", issuer="acme", name="Acme")])
    with pytest.raises(Rejected):
        ledger.record("acme", [entry("StakeholderAdded", "h", "2001-01-01", holder="h", name="H"),
                               entry("StakeholderAdded", "h2", "2001-01-01", holder="h", name="H")])
    assert seen == [False] and gc.isenabled()


def test_a_pause_that_leaves_many_objects_alive_freezes_them(monkeypatch: pytest.MonkeyPatch) -> None:
    """What a long pause left alive goes to the permanent generation, so the resumed collector
    does not scan it again; what a short one left stays where the collector sees it."""
    monkeypatch.setattr(collector, "FREEZE_AFTER", 1_000)
    gc.unfreeze()
    try:
        with collector_paused():
            kept = [[i] for i in range(5_000)]  # lists are tracked by the collector
        assert gc.get_freeze_count() >= 5_000
        frozen = gc.get_freeze_count()
        with collector_paused():
            few = [[i] for i in range(10)]
        assert gc.get_freeze_count() == frozen
        assert len(kept) + len(few) == 5_010 and gc.isenabled()
    finally:
        gc.unfreeze()
