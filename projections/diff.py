"""What changed in the answers for one date between two recorded times, and why.

"What changed since I last looked": the same questions (holdings, warrants, cap table,
consideration) as of D, asked as known at T1 and as known at T2, compared figure by figure,
with the entries recorded in between (new entries, corrections, voids) as the causes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from ledger.entries import EntryCorrected, EntryVoided
from ledger.records import RecordedEntry
from projections.captable import cap_table
from projections.consideration import consideration
from projections.history import HistoryLine, history
from projections.holdings import holdings
from projections.warrants import warrants


@dataclass(frozen=True)
class Change:
    view: str
    subject: str
    before: str
    after: str


@dataclass(frozen=True)
class Diff:
    as_of: date
    before: datetime
    after: datetime
    changes: list[Change]
    causes: list[HistoryLine]


def _figures(records: list[RecordedEntry], as_of: date, moment: datetime) -> dict[tuple[str, str], str]:
    figures: dict[tuple[str, str], str] = {}
    for p in holdings(records, as_of, moment):
        figures["holdings", f"{p.holder} {p.share_class} lot {p.lot}"] = f"{p.shares:,}"
    for w in warrants(records, as_of, moment):
        figures["warrants", w.warrant] = (
            f"{w.status}, {w.shares:,} shares at {w.exercise_price}, "
            f"{'exercisable' if w.exercisable else 'not exercisable'}"
            f" (from {w.exercisable_from}, expires {w.expires or 'never stated'})")
    cap = cap_table(records, as_of, moment)
    for row in cap.rows:
        figures["cap table", f"{row.holder} fully diluted"] = (
            f"{row.fully_diluted:,} ({row.percent_fully_diluted}%)")
    figures["cap table", "total fully diluted"] = f"{cap.fully_diluted:,}"
    for c in consideration(records, as_of, moment):
        for kind, totals in (("paid", c.paid), ("refunded", c.refunded), ("net", c.net)):
            for currency, amount in totals.items():
                figures["consideration", f"{c.holder} {kind} {currency}"] = f"{amount:,}"
    return figures


def diff(records: Iterable[RecordedEntry], as_of: date, before: datetime, after: datetime) -> Diff:
    records = list(records)
    old, new = _figures(records, as_of, before), _figures(records, as_of, after)
    changes = [
        Change(view, subject, old.get((view, subject), "-"), new.get((view, subject), "-"))
        for view, subject in sorted(old.keys() | new.keys(), key=_view_order)
        if old.get((view, subject)) != new.get((view, subject))
    ]
    between = {
        r.sequence for r in records
        if before < r.recorded_at <= after
        and (isinstance(r.entry, (EntryCorrected, EntryVoided)) or r.entry.effective <= as_of)
    }
    causes = [line for line in history(records, known_at=after, recorded_order=True)
              if line.sequence in between]
    return Diff(as_of, before, after, changes, causes)


_VIEWS = ("holdings", "warrants", "cap table", "consideration")


def _view_order(key: tuple[str, str]) -> tuple[int, str]:
    return (_VIEWS.index(key[0]), key[1])
