"""Consistency laws over one issuer's log: what must hold for every ledger.

Each law is a pure function of an issuer's records returning a list of ``Finding``s (empty
when the law holds). The property suite checks them on thousands of generated ledgers;
``capledger check`` runs them over a user's own ledger as a consistency audit, on every date
on which something happens and at every recorded time.

A log that does not book cleanly (``ledger.book.RuleBroken``) is a finding of the law
``books-cleanly``, never a crash; the other laws skip the dates and times at which the
projections cannot be computed.

Some laws re-derive figures straight from the entries (the control totals, a warrant's
terms in force) rather than from ``ledger.book``, so that a fault in the fold or in a
projection shows up as a disagreement.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from ledger.book import Book, RuleBroken
from ledger.decisions import decide
from ledger.entries import (
    AnyEntry,
    EntryCorrected,
    EntryVoided,
    IssuerCreated,
    PurchaseRescinded,
    RescindedAbInitio,
    SharesCancelled,
    SharesConverted,
    SharesPurchased,
    SharesRepurchased,
    SharesTransferred,
    StockSplit,
    WarrantAmended,
    WarrantCancelled,
    WarrantExercised,
    WarrantIssued,
    WarrantReissued,
    parse_entry,
)
from ledger.errors import Rejected
from ledger.records import RecordedEntry
from ledger.values import Money
from projections.captable import cap_table
from projections.consideration import consideration
from projections.holdings import holdings
from projections.timeline import ordered, snapshot
from projections.warrants import warrants

MAX_IDS = 12  # entry ids listed per finding


@dataclass(frozen=True)
class Finding:
    """One violation of a law: where (as of / known at), what, and the entries involved."""

    law: str
    message: str
    as_of: date | None = None
    known_at: datetime | None = None
    entries: tuple[str, ...] = ()

    def __str__(self) -> str:
        where = "".join([
            f" as of {self.as_of}" if self.as_of else "",
            f" known at {self.known_at.isoformat()}" if self.known_at else "",
        ])
        ids = f" (entries: {', '.join(self.entries)})" if self.entries else ""
        return f"[{self.law}]{where}: {self.message}{ids}"


Law = Callable[..., list[Finding]]


def _ids(entries: Iterable[str]) -> tuple[str, ...]:
    unique = list(dict.fromkeys(entries))
    if len(unique) > MAX_IDS:
        return (*unique[:MAX_IDS], f"... {len(unique) - MAX_IDS} more")
    return tuple(unique)


def event_dates(records: Sequence[RecordedEntry]) -> list[date]:
    """Every date on which something happens: entries' effective dates, and the days on which
    a warrant becomes exercisable or expires (the day after its last day)."""
    days = {r.entry.effective for r in records}
    for r in records:
        e = r.entry
        if isinstance(e, EntryCorrected):
            e = e.replacement
        if isinstance(e, (WarrantIssued, WarrantAmended, WarrantReissued)):
            if e.exercisable_from is not None:
                days.add(e.exercisable_from)
            if e.expires is not None:
                days.update((e.expires, e.expires + timedelta(days=1)))
    return sorted(days)


def recorded_times(records: Sequence[RecordedEntry]) -> list[datetime]:
    return sorted({r.recorded_at for r in records})


def _dates(records: Sequence[RecordedEntry], dates: Sequence[date] | None) -> list[date]:
    return sorted(set(dates)) if dates is not None else event_dates(records)


def _times(records: Sequence[RecordedEntry], times: Sequence[datetime] | None) -> list[datetime]:
    return sorted(set(times)) if times is not None else recorded_times(records)


MAX_PAIRS = 2_000  # (known-at, as-of) pairs checked exhaustively; past that, the ones that matter


def _pairs(records: Sequence[RecordedEntry], dates: Sequence[date] | None,
           times: Sequence[datetime] | None) -> list[tuple[datetime, date]]:
    """(known at, as of) pairs to check. Every pair when given, or when there are few; for a
    large ledger, each recorded time with the dates its recording touches (the effective
    dates of what it recorded, and the day before each) and the last date, so that the work
    grows with the log rather than with its square."""
    days, moments = _dates(records, dates), _times(records, times)
    if dates is not None or times is not None or len(days) * len(moments) <= MAX_PAIRS:
        return [(t, d) for t in moments for d in days]
    pairs: list[tuple[datetime, date]] = []
    for t in moments:
        touched = {r.entry.effective for r in records if r.recorded_at == t}
        touched |= {d - timedelta(days=1) for d in touched}
        pairs.extend((t, d) for d in sorted(touched | {days[-1]}))
    return pairs


Answers = tuple[Any, ...]


def answers(records: Sequence[RecordedEntry], day: date, known_at: datetime | None = None
            ) -> Answers:
    """What the read side says as of ``day``: holdings, warrants, consideration, cap table
    (the cap table without its ``known_at`` label, so that answers can be compared)."""
    cap = dataclasses.replace(cap_table(records, day, known_at), known_at=None)
    return (holdings(records, day, known_at), warrants(records, day, known_at),
            consideration(records, day, known_at), cap)


_ANSWER_NAMES = ("holdings", "warrants", "consideration", "cap table")


def _difference(a: Answers, b: Answers) -> str:
    """Name the first answer that differs and its first differing item."""
    for name, x, y in zip(_ANSWER_NAMES, a, b, strict=True):
        if x == y:
            continue
        if isinstance(x, list) and isinstance(y, list):
            for i, (u, v) in enumerate(zip(x, y, strict=False)):
                if u != v:
                    return f"{name} differ at row {i + 1}: {u} versus {v}"
            return f"{name} differ: {len(x)} rows versus {len(y)} rows"
        return f"{name} differ: {x} versus {y}"
    return "answers differ"


T = TypeVar("T")


def _try(compute: Callable[..., T], *args: Any) -> T | None:
    """Run a projection; None if the log does not book there (``books-cleanly`` says why)."""
    try:
        return compute(*args)
    except RuleBroken:
        return None


def _positions_and_cap(records: Sequence[RecordedEntry], day: date) -> tuple[Any, ...]:
    return holdings(records, day), cap_table(records, day)


def _everything(records: Sequence[RecordedEntry], day: date) -> tuple[Any, ...]:
    return snapshot(records, day).book, holdings(records, day), warrants(records, day), \
        cap_table(records, day)


def _warrants_and_cap(records: Sequence[RecordedEntry], day: date) -> tuple[Any, ...]:
    return warrants(records, day), cap_table(records, day)


# --- the log itself --------------------------------------------------------------------------


def log_integrity(records: Sequence[RecordedEntry]) -> list[Finding]:
    """The stream is gapless (sequence 1, 2, 3, ...), recorded times never go back, entry ids
    are unique, the issuer is created first, and every entry belongs to this issuer."""
    law = "log-integrity"
    findings: list[Finding] = []
    by_sequence = sorted(records, key=lambda r: r.sequence)
    sequences = [r.sequence for r in by_sequence]
    if sequences != list(range(1, len(records) + 1)):
        odd = [r.entry.id for r in by_sequence
               if r.sequence > len(records) or sequences.count(r.sequence) > 1]
        findings.append(Finding(
            law, f"sequence numbers are {_gaps(sequences)}, not 1..{len(records)}",
            entries=_ids(odd)))
    for before, after in itertools.pairwise(by_sequence):
        if after.recorded_at < before.recorded_at:
            findings.append(Finding(
                law, f"sequence {after.sequence} is recorded at {after.recorded_at.isoformat()}, "
                     f"before sequence {before.sequence} ({before.recorded_at.isoformat()})",
                known_at=after.recorded_at, entries=(before.entry.id, after.entry.id)))
    seen: dict[str, RecordedEntry] = {}
    for r in by_sequence:
        first = seen.setdefault(r.entry.id, r)
        if first is not r:
            same = first.entry.content() == r.entry.content()
            findings.append(Finding(
                law, f"entry id {r.entry.id!r} is stored twice (sequences {first.sequence} and "
                     f"{r.sequence}, {'same' if same else 'different'} content)",
                known_at=r.recorded_at, entries=(r.entry.id,)))
    issuers = sorted({r.issuer for r in records})
    if len(issuers) > 1:
        findings.append(Finding(law, f"records of several issuers in one stream: {issuers}"))
    if by_sequence:
        first_entry = by_sequence[0].entry
        if not isinstance(first_entry, IssuerCreated):
            findings.append(Finding(law, f"the first entry is a {first_entry.type}, not IssuerCreated",
                                    entries=(first_entry.id,)))
    for r in by_sequence:
        if isinstance(r.entry, IssuerCreated) and r.entry.issuer != r.issuer:
            findings.append(Finding(
                law, f"creates issuer {r.entry.issuer!r} in the stream of {r.issuer!r}",
                entries=(r.entry.id,)))
    return findings


def _gaps(sequences: list[int]) -> str:
    text = ", ".join(map(str, sequences[:20]))
    return text + (", ..." if len(sequences) > 20 else "")


def books_cleanly(records: Sequence[RecordedEntry],
                  times: Sequence[datetime] | None = None) -> list[Finding]:
    """The whole timeline books under the rules, and so does the log as known at every
    recorded time (each recording was accepted against the log of its time)."""
    law = "books-cleanly"
    findings: list[Finding] = []
    seen: set[tuple[str, str]] = set()
    for known_at in [None, *_times(records, times)]:
        book = Book()
        for r in ordered(records, None, known_at):
            try:
                book.apply(r.entry)
            except RuleBroken as broken:
                if (r.entry.id, broken.rule) in seen:
                    continue
                seen.add((r.entry.id, broken.rule))
                findings.append(Finding(
                    law, f"{r.entry.type} (sequence {r.sequence}, effective {r.entry.effective}) "
                         f"breaks [{broken.rule}] {broken.message}",
                    as_of=r.entry.effective, known_at=known_at, entries=(r.entry.id,)))
    return findings


# --- figures -------------------------------------------------------------------------------


@dataclass
class _ControlLot:
    share_class: str
    remaining: int


def control_book(records: Sequence[RecordedEntry], day: date
                 ) -> tuple[dict[str, dict[str, int]], dict[str, list[str]]]:
    """The control book, kept straight from the entries effective on or before ``day`` (as
    corrected): per class, shares issued by purchase, exercise and conversion in, less those
    rescinded, repurchased, cancelled, voided and converted out, plus split adjustments.
    Returns the movements per class and kind, and the entries per class."""
    lots: dict[str, _ControlLot] = {}
    warrant_class: dict[str, str] = {}
    moves: dict[str, dict[str, int]] = {}
    involved: dict[str, list[str]] = {}

    def move(cls: str, kind: str, shares: int, entry: str) -> None:
        kinds = moves.setdefault(cls, {})
        kinds[kind] = kinds.get(kind, 0) + shares
        involved.setdefault(cls, []).append(entry)

    def take(lot_id: str, quantity: int, kind: str, entry: str) -> _ControlLot:
        lot = lots.setdefault(lot_id, _ControlLot("?", 0))
        lot.remaining -= quantity
        move(lot.share_class, kind, -quantity, entry)
        return lot

    for r in ordered(records, day):
        e = r.entry
        if isinstance(e, SharesPurchased):
            lots[e.lot] = _ControlLot(e.share_class, e.quantity)
            move(e.share_class, "issued", e.quantity, e.id)
        elif isinstance(e, WarrantIssued):
            warrant_class[e.warrant] = e.share_class
        elif isinstance(e, WarrantReissued):
            warrant_class[e.new_warrant] = warrant_class.get(e.warrant, "?")
        elif isinstance(e, WarrantExercised):
            cls = warrant_class.get(e.warrant, "?")
            lots[e.lot] = _ControlLot(cls, e.shares)
            move(cls, "exercised", e.shares, e.id)
        elif isinstance(e, PurchaseRescinded):
            take(e.lot, e.quantity, "rescinded", e.id)
        elif isinstance(e, SharesRepurchased):
            take(e.lot, e.quantity, "repurchased", e.id)
        elif isinstance(e, SharesCancelled):
            take(e.lot, e.quantity, "cancelled", e.id)
        elif isinstance(e, SharesTransferred):
            lot = take(e.lot, e.quantity, "transferred out", e.id)
            lots[e.new_lot] = _ControlLot(lot.share_class, e.quantity)
            move(lot.share_class, "transferred in", e.quantity, e.id)
        elif isinstance(e, SharesConverted):
            take(e.lot, e.quantity, "converted out", e.id)
            whole = e.quantity * e.ratio.new // e.ratio.old
            lots[e.new_lot] = _ControlLot(e.to_class, whole)
            move(e.to_class, "converted in", whole, e.id)
        elif isinstance(e, StockSplit):
            for lot in lots.values():
                if lot.share_class == e.share_class and lot.remaining > 0:
                    after = lot.remaining * e.ratio.new // e.ratio.old
                    move(e.share_class, "split", after - lot.remaining, e.id)
                    lot.remaining = after
        elif isinstance(e, RescindedAbInitio) and e.security in lots:
            take(e.security, lots[e.security].remaining, "voided", e.id)
    return moves, involved


def control_totals(records: Sequence[RecordedEntry], day: date
                   ) -> tuple[dict[str, int], dict[str, list[str]]]:
    """Per class, the control total as of ``day`` and the entries that make it."""
    moves, involved = control_book(records, day)
    return {cls: sum(kinds.values()) for cls, kinds in moves.items()}, involved


def conservation(records: Sequence[RecordedEntry],
                 dates: Sequence[date] | None = None) -> list[Finding]:
    """Per class and date: the control total (issued - rescinded - repurchased - cancelled
    + exercised, with transfers, conversions, splits and voids) equals the holder file (the
    sum of holders' positions) and the cap table's outstanding figure."""
    law = "conservation"
    findings: list[Finding] = []
    reported: dict[str, tuple[int, int]] = {}
    for day in _dates(records, dates):
        computed = _try(_positions_and_cap, records, day)
        if computed is None:
            continue
        positions, cap = computed
        moves, involved = control_book(records, day)
        control = {cls: sum(kinds.values()) for cls, kinds in moves.items()}
        holder_file: dict[str, int] = {}
        for p in positions:
            holder_file[p.share_class] = holder_file.get(p.share_class, 0) + p.shares
        for cls in sorted(control.keys() | holder_file.keys() | cap.outstanding.keys()):
            want = control.get(cls, 0)
            got = (holder_file.get(cls, 0), cap.outstanding.get(cls, 0))
            if got == (want, want):
                reported.pop(cls, None)
                continue
            if reported.get(cls) == got:
                continue  # the same discrepancy carried forward: reported where it began
            reported[cls] = got
            findings.append(Finding(
                law, f"class {cls!r}: control total {want:,} ("
                     + ", ".join(f"{k} {v:+,}" for k, v in moves.get(cls, {}).items())
                     + f") but holder file {got[0]:,} and cap table outstanding {got[1]:,}",
                as_of=day, entries=_ids(involved.get(cls, []))))
    return findings


def non_negative(records: Sequence[RecordedEntry],
                 dates: Sequence[date] | None = None) -> list[Finding]:
    """No position, lot, class total or warrant is ever negative, at any date."""
    law = "non-negative"
    findings: list[Finding] = []
    for day in _dates(records, dates):
        computed = _try(_everything, records, day)
        if computed is None:
            continue
        book, positions, views, cap = computed
        for lot in book.lots.values():
            if lot.remaining < 0 or lot.quantity <= 0:
                findings.append(Finding(
                    law, f"lot {lot.lot!r} of {lot.holder!r}: acquired {lot.quantity:,}, "
                         f"remaining {lot.remaining:,}",
                    as_of=day, entries=_ids(m.entry for m in lot.movements)))
        for p in positions:
            if p.shares <= 0 or p.rescinded < 0:
                findings.append(Finding(
                    law, f"position {p.holder}/{p.share_class}/{p.lot}: {p.shares:,} shares of "
                         f"{p.acquired_shares:,} acquired, {p.rescinded:,} rescinded", as_of=day))
        for v in views:
            if v.shares < 0 or v.exercised < 0:
                findings.append(Finding(
                    law, f"warrant {v.warrant!r}: {v.shares:,} shares, {v.exercised:,} exercised",
                    as_of=day, entries=_ids(book.warrants[v.warrant].entries)))
        for row in cap.rows:
            if row.warrant_shares < 0 or any(n < 0 for n in row.shares.values()):
                findings.append(Finding(law, f"cap table row {row.holder}: {row.shares}, "
                                             f"{row.warrant_shares:,} warrant shares", as_of=day))
        for cls, n in cap.outstanding.items():
            if n < 0:
                findings.append(Finding(law, f"class {cls!r}: {n:,} outstanding", as_of=day))
    return findings


# --- time --------------------------------------------------------------------------------


def effective_locality(records: Sequence[RecordedEntry],
                       dates: Sequence[date] | None = None) -> list[Finding]:
    """The answer as of D depends only on the entries effective on or before D (the book
    entries as corrected: a correction or void is on the recorded-time axis, not dated)."""
    law = "effective-time-locality"
    findings: list[Finding] = []
    standing = ordered(records)
    for day in _dates(records, dates):
        before = [r for r in standing if r.entry.effective <= day]
        full, local = _try(answers, records, day), _try(answers, before, day)
        if full is None or local is None or full == local:
            continue
        findings.append(Finding(
            law, f"the answer from the whole log differs from the answer from the entries "
                 f"effective on or before {day}: {_difference(full, local)}",
            as_of=day, entries=_ids(r.entry.id for r in standing if r.entry.effective > day)))
    return findings


def recorded_locality(records: Sequence[RecordedEntry], dates: Sequence[date] | None = None,
                      times: Sequence[datetime] | None = None) -> list[Finding]:
    """The answer known at T equals the answer computed from only the entries recorded by T."""
    law = "recorded-time-locality"
    findings: list[Finding] = []
    by_time: dict[datetime, list[date]] = {}
    for t, d in _pairs(records, dates, times):
        by_time.setdefault(t, []).append(d)
    for known_at, days in by_time.items():
        recorded = [r for r in records if r.recorded_at <= known_at]
        for day in days:
            as_known = _try(answers, records, day, known_at)
            local = _try(answers, recorded, day)
            if as_known is None or local is None or as_known == local:
                continue
            findings.append(Finding(
                law, "the answer as known at that time differs from the answer from the entries "
                     f"recorded by then: {_difference(as_known, local)}",
                as_of=day, known_at=known_at,
                entries=_ids(r.entry.id for r in records if r.recorded_at > known_at)))
    return findings


def reordered(records: Sequence[RecordedEntry]) -> list[RecordedEntry]:
    """The same entries as if recorded in another order the rules accept: book entries latest
    effective date (as corrected) first, those of one date kept in their recorded order
    (same-day events apply in recorded order, so that order is part of what was recorded),
    then corrections and voids, in their recorded order, after everything they name."""
    effective = {r.entry.id: r.entry.effective for r in ordered(records)}
    book = [r for r in records if not isinstance(r.entry, (EntryCorrected, EntryVoided))]
    fixes = sorted((r for r in records if isinstance(r.entry, (EntryCorrected, EntryVoided))),
                   key=lambda r: r.sequence)
    book.sort(key=lambda r: (-effective.get(r.entry.id, r.entry.effective).toordinal(), r.sequence))
    return [dataclasses.replace(r, sequence=i, position=i)
            for i, r in enumerate([*book, *fixes], start=1)]


def order_independence(records: Sequence[RecordedEntry],
                       dates: Sequence[date] | None = None) -> list[Finding]:
    """Recording the same entries in another accepted order gives the same as-of answers."""
    law = "order-independence"
    other = reordered(records)
    findings: list[Finding] = []
    issuer = records[0].issuer if records else ""
    decision = decide(issuer, [], [r.entry for r in other])
    if decision.violations:
        findings.append(Finding(
            law, "the entries recorded in another order (latest date first) are rejected: "
                 + "; ".join(str(v) for v in decision.violations[:3]),
            entries=_ids(v.entry for v in decision.violations)))
    for day in _dates(records, dates):
        a, b = _try(answers, records, day), _try(answers, list(reversed(other)), day)
        if a is None or b is None or a == b:
            continue
        findings.append(Finding(
            law, f"recorded in another order, the answer differs: {_difference(a, b)}",
            as_of=day, entries=_ids(r.entry.id for r in records if r.entry.effective == day)))
    return findings


# --- storage and replay ------------------------------------------------------------------


def _money_fields(entry: AnyEntry) -> list[tuple[str, Money]]:
    return [(name, value) for name, value in entry if isinstance(value, Money)]


def storage_round_trip(records: Sequence[RecordedEntry]) -> list[Finding]:
    """Every entry survives its stored form (canonical JSON) unchanged: same content, the
    same Decimal digits and scale, the same dates and ids."""
    law = "storage-round-trip"
    findings: list[Finding] = []
    for r in records:
        content = r.entry.content()
        back = parse_entry(json.loads(json.dumps(content)))
        problems = []
        if back.content() != content or back != r.entry:
            problems.append("content changes")
        for (name, a), (_, b) in zip(_money_fields(r.entry), _money_fields(back), strict=True):
            if a.amount.as_tuple() != b.amount.as_tuple() or a.currency != b.currency:
                problems.append(f"{name} {a.amount} {a.currency} comes back as {b.amount} {b.currency}")
        if problems:
            findings.append(Finding(law, f"{r.entry.type}: " + "; ".join(problems),
                                    entries=(r.entry.id,)))
    return findings


def recordings(records: Sequence[RecordedEntry]) -> list[list[RecordedEntry]]:
    """The log cut into its recordings: runs of consecutive sequences with one recorded time."""
    runs: list[list[RecordedEntry]] = []
    for r in sorted(records, key=lambda r: r.sequence):
        if runs and runs[-1][-1].recorded_at == r.recorded_at:
            runs[-1].append(r)
        else:
            runs.append([r])
    return runs


@dataclass
class _ReplayClock:
    now: datetime | None = None

    def __call__(self) -> datetime:
        assert self.now is not None
        return self.now


def replay(records: Sequence[RecordedEntry], dates: Sequence[date] | None = None,
           times: Sequence[datetime] | None = None) -> list[Finding]:
    """Replay determinism: the log recorded again, recording by recording, into a fresh
    in-memory store is accepted, comes back identical (sequence, recorded time, content),
    answers the same at every date and known-at time as the pure fold of the original records,
    and recording it all once more stores nothing. (When a materialized projection exists, it
    joins this comparison.)"""
    from ledger.application import Ledger  # the write side, only for this law

    law = "replay-determinism"
    if not records:
        return []
    issuer = records[0].issuer
    clock = _ReplayClock()
    fresh = Ledger.open(":memory:", clock=clock)
    findings: list[Finding] = []
    try:
        runs = recordings(records)
        for run in runs:
            clock.now = run[0].recorded_at
            try:
                fresh.record(issuer, [r.entry for r in run])
            except Rejected as rejected:
                return [Finding(
                    law, f"recording {run[0].recorded_at.isoformat()} is rejected when replayed "
                         f"into a fresh store: " + "; ".join(str(v) for v in rejected.violations[:3]),
                    known_at=run[0].recorded_at,
                    entries=_ids(v.entry for v in rejected.violations))]
        replayed = fresh.entries(issuer)
        original = sorted(records, key=lambda r: r.sequence)
        for old, new in zip(original, replayed, strict=False):
            if (old.sequence, old.recorded_at, old.entry.content()) != (
                    new.sequence, new.recorded_at, new.entry.content()):
                findings.append(Finding(
                    law, f"sequence {old.sequence} comes back from a fresh store as sequence "
                         f"{new.sequence} {new.entry.id!r} recorded {new.recorded_at.isoformat()}",
                    entries=(old.entry.id,)))
                break
        if len(replayed) != len(original):
            findings.append(Finding(law, f"{len(original)} entries replayed as {len(replayed)}"))
        pairs: list[tuple[datetime | None, date]] = [(None, d) for d in _dates(records, dates)]
        for known_at, day in [*pairs, *_pairs(records, dates, times)]:
            a = _try(answers, records, day, known_at)
            b = _try(answers, replayed, day, known_at)
            if a is not None and a != b:
                why = _difference(a, b) if b is not None else "it does not book there"
                findings.append(Finding(
                    law, f"the replayed store answers differently: {why}",
                    as_of=day, known_at=known_at))
        for run in runs:
            clock.now = replayed[-1].recorded_at + timedelta(seconds=1)
            again = fresh.record(issuer, [r.entry for r in run])
            if again.stored or again.already_recorded != len(run):
                findings.append(Finding(
                    law, f"recording the same entries again stored {len(again.stored)} entries "
                         f"(expected none) and skipped {again.already_recorded} of {len(run)}",
                    known_at=run[0].recorded_at, entries=_ids(r.entry.id for r in again.stored)))
        if [r.entry.content() for r in fresh.entries(issuer)] != [r.entry.content() for r in replayed]:
            findings.append(Finding(law, "recording the same entries again changed the log"))
    finally:
        fresh.close()
    return findings


# --- warrants ------------------------------------------------------------------------------


@dataclass
class _Terms:
    """A warrant's terms in force, walked straight from the entries."""

    root: str
    share_class: str
    start: date
    expires: date | None
    remaining: int
    ended: bool = False
    entries: list[str] = field(default_factory=list)

    def live(self, day: date) -> bool:
        return not self.ended and (self.expires is None or day <= self.expires)


def _walk_warrants(records: Sequence[RecordedEntry], until: date | None
                   ) -> tuple[dict[str, _Terms], list[Finding]]:
    """Terms in force as of ``until`` (None: all), and every exercise outside its window."""
    terms: dict[str, _Terms] = {}
    problems: list[Finding] = []
    for r in ordered(records, until):
        e = r.entry
        if isinstance(e, WarrantIssued):
            terms[e.warrant] = _Terms(e.warrant, e.share_class, e.exercisable_from or e.effective,
                                      e.expires, e.shares, entries=[e.id])
            continue
        if isinstance(e, StockSplit):
            for t in terms.values():
                if t.share_class == e.share_class and t.live(e.effective):
                    t.remaining = t.remaining * e.ratio.new // e.ratio.old
                    t.entries.append(e.id)
                    t.ended = t.remaining == 0
            continue
        ident = getattr(e, "security", None) or getattr(e, "warrant", None)
        w = terms.get(ident) if isinstance(ident, str) else None
        if w is None:
            continue
        w.entries.append(e.id)
        if isinstance(e, WarrantAmended):
            w.start = e.exercisable_from or w.start
            w.expires = e.expires or w.expires
            w.remaining = e.shares or w.remaining
        elif isinstance(e, WarrantReissued):
            terms[e.new_warrant] = dataclasses.replace(
                w, start=e.exercisable_from or w.start, expires=e.expires or w.expires,
                remaining=e.shares or w.remaining, entries=[*w.entries])
            w.ended, w.remaining = True, 0
        elif isinstance(e, (WarrantCancelled, RescindedAbInitio)):
            w.ended, w.remaining = True, 0
        elif isinstance(e, WarrantExercised):
            if not w.live(e.effective) or e.effective < w.start:
                window = f"{w.start} to {w.expires or 'no expiry'}"
                state = "no longer outstanding" if w.ended else f"exercisable {window}"
                problems.append(Finding(
                    "exercise-window",
                    f"warrant {e.warrant!r} is exercised on {e.effective} but is {state}",
                    as_of=e.effective, entries=_ids(w.entries)))
            w.remaining -= e.shares
            w.ended = w.ended or w.remaining <= 0
    return terms, problems


def exercise_window(records: Sequence[RecordedEntry],
                    dates: Sequence[date] | None = None) -> list[Finding]:
    """A warrant is exercised only inside its window in force (exercisable from, expires),
    and the warrants projection calls it exercisable exactly then."""
    law = "exercise-window"
    _, findings = _walk_warrants(records, None)
    for day in _dates(records, dates):
        views = _try(warrants, records, day)
        if views is None:
            continue
        terms, _ = _walk_warrants(records, day)
        for v in views:
            t = terms.get(v.warrant)
            if t is None:
                findings.append(Finding(law, f"warrant {v.warrant!r} is shown but was never issued",
                                        as_of=day))
                continue
            should = t.live(day) and t.start <= day
            if (v.exercisable, v.exercisable_from, v.expires) != (should, t.start, t.expires):
                findings.append(Finding(
                    law, f"warrant {v.warrant!r} shown {'' if v.exercisable else 'not '}exercisable "
                         f"from {v.exercisable_from} to {v.expires or 'no expiry'}; its terms in "
                         f"force say {'' if should else 'not '}exercisable, from {t.start} to "
                         f"{t.expires or 'no expiry'}",
                    as_of=day, entries=_ids(t.entries)))
    return findings


def warrant_counted_once(records: Sequence[RecordedEntry],
                         dates: Sequence[date] | None = None) -> list[Finding]:
    """Across any chain of reissues, a warrant's shares are counted once: at most one link of
    a chain is outstanding, it carries the chain's remaining shares, and the cap table's
    warrant shares are the sum over chains."""
    law = "warrant-counted-once"
    findings: list[Finding] = []
    for day in _dates(records, dates):
        computed = _try(_warrants_and_cap, records, day)
        if computed is None:
            continue
        views, cap = computed
        terms, _ = _walk_warrants(records, day)
        parents = {v.warrant: v.replaces for v in views}
        chains: dict[str, list[Any]] = {}
        for v in views:
            root = v.warrant
            while parents.get(root):
                root = parents[root] or root
            chains.setdefault(root, []).append(v)
        expected_total = sum(t.remaining for t in terms.values() if t.live(day))
        for root, links in sorted(chains.items()):
            live = [v for v in links if v.status == "outstanding"]
            counted = sum(v.shares for v in links)
            want = sum(t.remaining for t in terms.values() if t.live(day) and t.root == root)
            if len(live) > 1 or counted != want:
                findings.append(Finding(
                    law, f"reissue chain from {root!r}: {len(live)} outstanding link(s) "
                         f"({', '.join(v.warrant for v in live) or 'none'}) counting {counted:,} "
                         f"shares; the entries leave {want:,}",
                    as_of=day, entries=_ids(i for v in links if v.warrant in terms
                                            for i in terms[v.warrant].entries)))
        if cap.warrant_shares != expected_total:
            findings.append(Finding(
                law, f"cap table counts {cap.warrant_shares:,} warrant shares; the reissue chains "
                     f"leave {expected_total:,}", as_of=day))
    return findings


# --- all together --------------------------------------------------------------------------

LAWS: dict[str, Law] = {
    "log-integrity": log_integrity,
    "books-cleanly": books_cleanly,
    "conservation": conservation,
    "non-negative": non_negative,
    "effective-time-locality": effective_locality,
    "recorded-time-locality": recorded_locality,
    "order-independence": order_independence,
    "replay-determinism": replay,
    "storage-round-trip": storage_round_trip,
    "exercise-window": exercise_window,
    "warrant-counted-once": warrant_counted_once,
}


def check(records: Sequence[RecordedEntry]) -> list[Finding]:
    """Every law over one issuer's records, on every date on which something happens and at
    every recorded time."""
    findings: list[Finding] = []
    for law in LAWS.values():
        findings.extend(law(records))
    return findings

