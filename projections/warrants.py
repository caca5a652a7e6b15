"""Warrants as of a date: status, remaining shares, terms in force and exercisability."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from ledger.records import RecordedEntry
from ledger.state import Adjustment, Warrant, WarrantStatus
from ledger.values import Money
from projections.timeline import snapshot


@dataclass(frozen=True)
class WarrantView:
    warrant: str
    holder: str
    share_class: str
    issued: date
    status: WarrantStatus
    status_date: date | None
    shares: int
    exercised: int
    exercise_price: Money
    exercisable_from: date
    expires: date | None
    exercisable: bool
    next_change: date | None
    replaces: str | None
    replaced_by: str | None
    issued_for: str | None
    adjustments: list[Adjustment]


def next_change(w: Warrant, day: date) -> date | None:
    """The next date on which exercisability changes under the terms in force on ``day``
    (a later amendment may of course change it again)."""
    if w.status_on(day) != "outstanding":
        return None
    if day < w.exercisable_from:
        return w.exercisable_from
    return w.expires + timedelta(days=1) if w.expires is not None else None


def view(w: Warrant, day: date) -> WarrantView:
    status = w.status_on(day)
    return WarrantView(
        w.warrant, w.holder, w.share_class, w.issued, status,
        w.status_since(day),
        w.shares if status == "outstanding" else 0,  # only a live warrant can be exercised
        w.exercised, w.exercise_price, w.exercisable_from, w.expires,
        w.exercisable_on(day), next_change(w, day), w.replaces, w.replaced_by, w.issued_for,
        list(w.adjustments),
    )


def warrants(
    records: Iterable[RecordedEntry], as_of: date, known_at: datetime | None = None
) -> list[WarrantView]:
    """Every warrant issued by ``as_of``, live or not, ordered by holder, issue date and id."""
    snap = snapshot(records, as_of, known_at)
    views = [view(w, as_of) for w in snap.book.warrants.values()]
    return sorted(views, key=lambda v: (v.holder, v.issued, v.warrant))
