"""Helpers for the materialized-view tests, and the process the crash test kills.

    python -m tests.materialized_worker LOCATION PAGE   # catch the views up, a line per page

The worker prints ``page <position>`` after each committed page, so the test knows it is
under way before it sends SIGKILL.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from ledger.application import Ledger
from ledger.entries import AnyEntry, IssuerCreated
from ledger.journal import load_journal
from ledger.records import RecordedEntry
from projections import cap_table, consideration, holdings, warrants
from projections.materialized import MaterializedViews

ROOT = Path(__file__).resolve().parent.parent
JOURNALS = ROOT / "tests" / "journals"
EXAMPLES = ROOT / "examples" / "neotherapeutics-2002"
# Each issuer's journals in the order they are recorded (one recording each).
JOURNAL_GROUPS = (
    (EXAMPLES / "1-securities-purchase-2002-06-07.yaml", EXAMPLES / "2-mutual-rescission-2002-07-25.yaml",
     JOURNALS / "transfer-and-reverse-split.yaml"),
    (JOURNALS / "correction-1.yaml", JOURNALS / "correction-2.yaml"),
    (JOURNALS / "void-ab-initio-1.yaml", JOURNALS / "void-ab-initio-2.yaml"),
    (JOURNALS / "warrant-expiry-amendment-1.yaml", JOURNALS / "warrant-expiry-amendment-2.yaml"),
)
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
QUERIES = ("holdings", "warrants", "cap_table", "consideration")
PURE = {"holdings": holdings, "warrants": warrants, "cap_table": cap_table, "consideration": consideration}


@dataclass
class Clock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now


def renamed(entries: Sequence[AnyEntry], issuer: str) -> list[AnyEntry]:
    return [e.model_copy(update={"issuer": issuer}) if isinstance(e, IssuerCreated) else e for e in entries]


def recordings(copies: int = 1) -> Iterator[tuple[str, list[AnyEntry]]]:
    """(issuer, entries) for every journal, issuer by issuer; ``copies`` > 1 repeats the set
    under issuers named ``<issuer>-<n>``, round-robin, for a long log of interleaved issuers."""
    groups = [[load_journal(p) for p in paths] for paths in JOURNAL_GROUPS]
    for n in range(copies):
        for step in range(max(len(g) for g in groups)):
            for group in groups:
                if step < len(group):
                    journal = group[step]
                    issuer = journal.issuer if copies == 1 else f"{journal.issuer}-{n}"
                    yield issuer, renamed(journal.entries, issuer)


def record(ledger: Ledger, clock: Clock, items: Iterator[tuple[str, list[AnyEntry]]] | list[Any]) -> None:
    """Record each journal a day after the one before."""
    for issuer, entries in items:
        clock.now += timedelta(days=1)
        ledger.record(issuer, entries)


def _dates(value: Any) -> Iterator[date]:
    if isinstance(value, dict):
        for v in value.values():
            yield from _dates(v)
    elif isinstance(value, list):
        for v in value:
            yield from _dates(v)
    elif isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        try:
            yield date.fromisoformat(value)
        except ValueError:
            return


def interesting_days(log: Sequence[RecordedEntry]) -> list[date]:
    """Every date any entry mentions (effective, expiry, refund, citation...), +-1 day."""
    days = {d for r in log for d in _dates(r.entry.content())}
    return sorted({d + timedelta(days=k) for d in days for k in (-1, 0, 1)})


def interesting_times(log: Sequence[RecordedEntry]) -> list[datetime | None]:
    """Now (None), each recorded time, and the instant before each."""
    times = sorted({r.recorded_at for r in log})
    return [None, *times, *(t - timedelta(microseconds=1) for t in times)]


def mismatches(views: MaterializedViews, log: Sequence[RecordedEntry], days: Sequence[date] | None = None,
               times: Sequence[datetime | None] | None = None) -> list[str]:
    """Every (query, date, known-at) where the views and the pure fold disagree."""
    issuer = log[0].issuer
    found = []
    for day in interesting_days(log) if days is None else days:
        for known in interesting_times(log) if times is None else times:
            for name in QUERIES:
                pure = PURE[name](log, day, known)
                materialized = getattr(views, name)(issuer, day, known)
                if pure != materialized:
                    found.append(f"{issuer} {name} as of {day} known at {known}:\n  pure {pure}\n"
                                 f"  view {materialized}")
    return found


def dump(views: MaterializedViews) -> dict[str, list[tuple[Any, ...]]]:
    """Every view table's rows, sorted: to compare two databases or before and after."""
    tables = ["view_recordings", "view_lots", "view_lot_segments", "view_warrant_segments",
              "view_payments", "view_classes", "view_parties", "view_positions"]
    return {t: sorted(views.projector.recorder.select(f"SELECT * FROM {t}", ()), key=repr) for t in tables}


def main() -> None:
    location, page = sys.argv[1], int(sys.argv[2])
    ledger = Ledger.open(location)
    views = MaterializedViews.open(ledger.store)
    views.projector.page_size = page
    views.projector.catch_up(on_page=lambda position: print(f"page {position}", flush=True))
    print("done", flush=True)
    ledger.close()


if __name__ == "__main__":
    main()
