"""Figures over time, for charts and explanations: every date on which something changes.

``steps`` folds the timeline once and stops after each entry and on each date where a
warrant's terms change its state with no entry at all (it becomes exercisable, or it
expires). From the steps come the ownership series (fully diluted shares and % per holder
at each change) and each warrant's windows (outstanding, exercisable) on a timeline.

Fully diluted here is the cap table's figure (``projections.captable``): lots remaining plus
shares under warrants outstanding on the day; the tests check the two agree at every point.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import groupby

from ledger.book import Book, Warrant
from ledger.records import RecordedEntry
from projections.captable import percent
from projections.timeline import ordered


@dataclass(frozen=True)
class Step:
    """The book just after ``cause`` (an entry) or, with no cause, at the start of ``day``
    when a warrant became exercisable or expired under its own terms (``lapsed``)."""

    day: date
    cause: RecordedEntry | None
    lapsed: tuple[str, ...]
    book: Book  # the fold's live state: read it before taking the next step


@dataclass(frozen=True)
class Diluted:
    """Fully diluted shares per holder and in total on one day."""

    holders: dict[str, int]
    total: int

    def percent(self, holder: str) -> Decimal:
        return percent(self.holders.get(holder, 0), self.total)


@dataclass(frozen=True)
class OwnershipPoint:
    """The fully diluted position from ``day`` on, and what changed it that day."""

    day: date
    total: int
    shares: dict[str, int]
    percents: dict[str, Decimal]
    entries: list[str]


@dataclass(frozen=True)
class WarrantSegment:
    """A run of days with one state: ``exercisable`` or only ``outstanding``.
    ``end`` is the last day (None: no end stated); ``projected`` marks a run that starts after
    the as-of date, drawn from the terms in force on it."""

    start: date
    end: date | None
    state: str
    shares: int
    projected: bool


@dataclass(frozen=True)
class WarrantWindows:
    warrant: str
    holder: str
    segments: list[WarrantSegment]


def fully_diluted(book: Book, day: date) -> Diluted:
    holders: dict[str, int] = {}
    for lot in book.lots.values():
        if lot.remaining:
            holders[lot.holder] = holders.get(lot.holder, 0) + lot.remaining
    for w in book.warrants.values():
        if w.status_on(day) == "outstanding":
            holders[w.holder] = holders.get(w.holder, 0) + w.shares
    return Diluted(dict(sorted(holders.items())), sum(holders.values()))


def _clock_days(warrants: Iterable[Warrant], after: date) -> set[date]:
    """Days after ``after`` on which an outstanding warrant's own terms change its state."""
    days = set()
    for w in warrants:
        if w.status_on(after) != "outstanding":
            continue
        if w.exercisable_from > after:
            days.add(w.exercisable_from)
        if w.expires is not None and w.expires + timedelta(days=1) > after:
            days.add(w.expires + timedelta(days=1))
    return days


def steps(records: Iterable[RecordedEntry], until: date, known_at: datetime | None = None) -> Iterator[Step]:
    book = Book()
    by_day = {d: list(rs) for d, rs in groupby(ordered(records, until, known_at), key=lambda r: r.effective)}
    pending = sorted(by_day)
    last: date | None = None
    while True:
        candidates = set(pending[:1])
        if last is not None:
            candidates |= _clock_days(book.warrants.values(), last)
        if not candidates or min(candidates) > until:
            return
        day = min(candidates)
        if last is not None:
            lapsed = tuple(sorted(w.warrant for w in book.warrants.values()
                                  if w.status_on(last) == "outstanding"
                                  and day in (w.exercisable_from, _day_after(w.expires))))
            if lapsed:
                yield Step(day, None, lapsed, book)
        if pending and pending[0] == day:
            for record in by_day[pending.pop(0)]:
                book.apply(record.entry)
                yield Step(day, record, (), book)
        last = day


def _day_after(day: date | None) -> date | None:
    return day + timedelta(days=1) if day is not None else None


def ownership_series(
    records: Iterable[RecordedEntry], until: date, known_at: datetime | None = None
) -> list[OwnershipPoint]:
    """One point per day on which some holder's fully diluted shares or the total change, with
    the entries (or the warrants whose own terms lapsed) that changed them."""
    points: list[OwnershipPoint] = []
    before = Diluted({}, 0)
    for day, day_steps in groupby(steps(records, until, known_at), key=lambda s: s.day):
        causes: list[str] = []
        start = before
        for step in day_steps:
            after = fully_diluted(step.book, day)
            if after != before:
                causes.extend([step.cause.entry.id] if step.cause
                              else [f"{w} (own terms)" for w in step.lapsed])
            before = after
        if before != start:
            points.append(OwnershipPoint(day, before.total, before.holders,
                                         {h: before.percent(h) for h in before.holders}, causes))
    return points


def _state(w: Warrant, day: date) -> tuple[str, int]:
    if w.status_on(day) != "outstanding":
        return "closed", 0
    return ("exercisable" if w.exercisable_on(day) else "outstanding"), w.shares


def warrant_windows(
    records: Iterable[RecordedEntry], as_of: date, known_at: datetime | None = None
) -> list[WarrantWindows]:
    """Each warrant's outstanding and exercisable runs up to ``as_of`` as they happened, then
    beyond it as the terms in force on ``as_of`` provide (marked projected)."""
    samples: dict[str, dict[date, tuple[str, int, bool]]] = {}
    book = Book()
    for step in steps(records, as_of, known_at):
        book = step.book  # the same live book every step; the last one is the state on as_of
        for w in book.warrants.values():
            samples.setdefault(w.warrant, {})[step.day] = (*_state(w, step.day), False)
    result = []
    for w in book.warrants.values():
        day: date | None = as_of + timedelta(days=1)
        while day is not None:
            samples[w.warrant][day] = (*_state(w, day), True)
            day = min(_clock_days([w], day), default=None)
        segments = [s for s in _segments(samples[w.warrant]) if s.state != "closed"]
        if segments:
            result.append(WarrantWindows(w.warrant, w.holder, segments))
    return sorted(result, key=lambda r: (r.holder, r.segments[0].start, r.warrant))


def _segments(samples: dict[date, tuple[str, int, bool]]) -> list[WarrantSegment]:
    """Runs of equal state from day samples (each holds from its day to the next sample)."""
    segments: list[WarrantSegment] = []
    for day in sorted(samples):
        state, shares, projected = samples[day]
        if segments:
            last = segments[-1]
            if (last.state, last.shares) == (state, shares):
                continue  # a run that began by the as-of date and goes on is not a projection
            segments[-1] = WarrantSegment(last.start, day - timedelta(days=1), last.state, last.shares,
                                          last.projected)
        segments.append(WarrantSegment(day, None, state, shares, projected))
    return segments
