"""Decisions: may these entries join this issuer's ledger?

New entries are merged into the recorded log, corrections are applied, and the whole
resulting timeline is booked again. That catches a back-dated entry that would make a later,
already recorded entry invalid (a rescission effective before an exercise that needed the
shares), and a correction that the corrected timeline cannot carry. Every problem is
collected, not just the first, so a journal's author can fix them all.

Entries that take effect on or after the last recorded effective date (no corrections) cannot
change anything recorded: they are booked on the state at the end of the timeline (``Tail``)
instead, and the recorded log is not read at all (``RecordedStream`` reads it only on demand).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from ledger.book import Book, Mark, RuleBroken, defined_ids
from ledger.entries import AnyEntry, EntryCorrected, EntryVoided, IssuerCreated, describe_changes
from ledger.errors import Violation
from ledger.integrity import own_sha256
from ledger.records import RecordedEntry, timeline_key
from ledger.timeline import resolve

NOT_YET_RECORDED = datetime.max.replace(tzinfo=UTC)


RECENT = 10_000  # entries at the end of the timeline a warm writer can rewind


@dataclass
class Recent:
    """The last entries booked into a tail, in timeline order, each with the ``Mark`` taken
    before it. Every entry before them takes effect on or before ``floor``: an entry effective
    on or after ``floor`` goes in among them, so rewinding them is enough to place it."""

    floor: date
    entries: list[AnyEntry] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)
    days: list[date] = field(default_factory=list)

    def book(self, book: Book, entry: AnyEntry) -> None:
        """Apply ``entry`` (raising RuleBroken, state unchanged) and remember how to undo it."""
        mark = book.mark(entry)
        book.apply(entry)
        self.entries.append(entry)
        self.marks.append(mark)
        self.days.append(entry.effective)

    def rewind(self, book: Book, day: date) -> list[AnyEntry]:
        """Undo every entry effective after ``day``; returns them in timeline order."""
        start = bisect_right(self.days, day)
        for mark in reversed(self.marks[start:]):
            book.rewind(mark)
        undone = self.entries[start:]
        del self.entries[start:], self.marks[start:], self.days[start:]
        return undone

    def trim(self) -> None:
        if len(self.entries) > 2 * RECENT:  # amortised: drop the oldest half at once
            cut = len(self.entries) - RECENT
            self.floor = self.days[cut - 1]
            del self.entries[:cut], self.marks[:cut], self.days[:cut]


@dataclass
class Tail:
    """The booked state at the end of the recorded timeline. Entries effective on or after
    ``recent.floor`` (and no corrections) can be decided on it without re-booking the log:
    the recent entries after them are rewound and booked again, so recording in date order,
    or a little back-dated, costs the new entries only, however long the ledger."""

    book: Book
    last_effective: date
    version: int
    recent: Recent | None = None

    def __post_init__(self) -> None:
        if self.recent is None:  # nothing to rewind: only entries from the last date on
            self.recent = Recent(self.last_effective)

    def takes(self, entries: Sequence[AnyEntry]) -> bool:
        assert self.recent is not None
        floor = self.recent.floor
        return all(not isinstance(e, (EntryCorrected, EntryVoided)) and e.effective >= floor
                   for e in entries)

    def insert(self, entries: Sequence[AnyEntry]) -> list[tuple[AnyEntry, bool, RuleBroken]]:
        """Book ``entries`` (which ``takes``) where they fall on the timeline, after everything
        recorded on their dates; returns each entry that broke a rule, whether it is one of the
        new ones, and the rule. Unless it returns nothing, the state must be dropped."""
        assert self.recent is not None
        if not entries:
            return []
        undone = self.recent.rewind(self.book, min(e.effective for e in entries))
        problems = []
        # sorted() is stable: the undone entries go before new ones of the same day, as their
        # sequence numbers do, and new entries of one day keep their journal order.
        for entry, is_new in sorted([*((e, False) for e in undone), *((e, True) for e in entries)],
                                    key=lambda pair: pair[0].effective):
            try:
                self.recent.book(self.book, entry)
            except RuleBroken as broken:
                problems.append((entry, is_new, broken))
        self.recent.trim()
        self.last_effective = max(self.last_effective, *(e.effective for e in entries))
        return problems


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """A recorded entry known by its place in the stream and a hash of its content: what a
    snapshot keeps of each entry, enough to tell a repeat from a re-used id."""

    sequence: int
    digest: str


def content_digest(entry: AnyEntry) -> str:
    return own_sha256(entry.content())


Known = RecordedEntry | Fingerprint


class RecordedStream:
    """What a decision may read of an issuer's recorded stream: its version and every id at
    once; the whole log (``log()``) and single entries (``entry()``) only when a decision needs
    them, read through the functions given."""

    def __init__(
        self, version: int, known: Mapping[str, Known],
        read_log: Callable[[], Sequence[RecordedEntry]], read_entry: Callable[[int], AnyEntry],
    ) -> None:
        self.version = version
        self.known = known
        self._read_log = read_log
        self._read_entry = read_entry
        self._log: Sequence[RecordedEntry] | None = None

    @classmethod
    def of(cls, log: Sequence[RecordedEntry]) -> RecordedStream:
        """A log already in memory."""
        by_sequence = {r.sequence: r.entry for r in log}
        return cls(max((r.sequence for r in log), default=0), {r.entry.id: r for r in log},
                   lambda: log, by_sequence.__getitem__)

    def log(self) -> Sequence[RecordedEntry]:
        if self._log is None:
            self._log = self._read_log()
        return self._log

    def same_content(self, known: Known, entry: AnyEntry) -> bool:
        if isinstance(known, Fingerprint):
            return known.digest == content_digest(entry)
        return known.entry.content() == entry.content()

    def entry(self, known: Known) -> AnyEntry:
        return self._read_entry(known.sequence) if isinstance(known, Fingerprint) else known.entry


@dataclass(frozen=True)
class Decision:
    """``accepted`` are the entries to store (re-recorded identical entries are dropped);
    ``already_recorded`` counts those; ``violations`` empty means the journal may be stored."""

    accepted: list[AnyEntry]
    already_recorded: int
    violations: list[Violation]
    tail: Tail | None = None  # the state once ``accepted`` is stored, when there is no violation


def decide(
    issuer: str, recorded: RecordedStream | Sequence[RecordedEntry], proposed: Sequence[AnyEntry],
    tail: Tail | None = None,
) -> Decision:
    """``tail``, when given, must be the state at the end of ``recorded``; it may be changed
    (the caller must drop it unless the decision comes back clean)."""
    stream = recorded if isinstance(recorded, RecordedStream) else RecordedStream.of(recorded)
    violations: list[Violation] = []
    accepted, repeats = _new_entries(stream, proposed, violations)
    for e in accepted:
        for created in (e, e.replacement if isinstance(e, EntryCorrected) else None):
            if isinstance(created, IssuerCreated) and created.issuer != issuer:
                violations.append(Violation(
                    e.id, "issuer-mismatch",
                    f"creates issuer {created.issuer!r} in the ledger of issuer {issuer!r}",
                ))
    violations.extend(_check_corrections(stream, accepted))
    if violations:  # booking a timeline with a dangling correction would only add noise
        return Decision(accepted, repeats, violations)
    version = stream.version + len(accepted)
    if tail is not None and tail.takes(accepted):
        problems = _book_on_tail(tail, accepted)
        if problems:
            return Decision(accepted, repeats, problems)
        tail.version = version
        return Decision(accepted, repeats, [], tail)
    book, recent, last_day, violations = _book_timeline(issuer, stream.log(), accepted)
    if violations or last_day is None or recent is None:
        return Decision(accepted, repeats, violations)
    return Decision(accepted, repeats, [], Tail(book, last_day, version, recent))


def _book_on_tail(tail: Tail, accepted: Sequence[AnyEntry]) -> list[Violation]:
    """Book entries that all take effect within the tail's reach: the recent entries after the
    earliest of them are rewound and booked again after them, exactly as booking the whole
    timeline would (a broken rule leaves the state as it was, so booking goes on to report the
    rest)."""
    for ident, day in defined_ids(accepted).items():
        tail.book.defined_later[ident] = min(day, tail.book.defined_later.get(ident, day))
    problems = []
    for entry, is_new, broken in tail.insert(accepted):
        where = f"{entry.type} effective {entry.effective}"
        if is_new:
            problems.append(Violation(entry.id, broken.rule, f"{where}: {broken.message}"))
        else:
            problems.append(_blame(entry, broken, accepted))
    return problems


def _new_entries(
    recorded: RecordedStream, proposed: Sequence[AnyEntry], violations: list[Violation]
) -> tuple[list[AnyEntry], int]:
    """Idempotency: an id already recorded with the same content is a no-op; with different
    content it is an error (a correction is its own entry, never a re-use of the id)."""
    seen: set[str] = set()
    accepted: list[AnyEntry] = []
    repeats = 0
    for e in proposed:
        if e.id in seen:
            violations.append(Violation(e.id, "duplicate-entry-id", "the id appears twice in this journal"))
            continue
        seen.add(e.id)
        old = recorded.known.get(e.id)
        if old is None:
            accepted.append(e)
        elif recorded.same_content(old, e):
            repeats += 1
        else:
            violations.append(Violation(
                e.id, "entry-id-reused",
                f"already recorded with different content (recorded -> now: "
                f"{describe_changes(recorded.entry(old), e)}); "
                "to fix a recorded entry, record an EntryCorrected",
            ))
    return accepted, repeats


def _check_corrections(stream: RecordedStream, accepted: Sequence[AnyEntry]) -> list[Violation]:
    """A correction names an entry that stands (recorded or earlier in this journal, not
    voided, not itself a correction) and keeps its type."""
    if not any(isinstance(e, (EntryCorrected, EntryVoided)) for e in accepted):
        return []
    recorded = stream.log()
    current: dict[str, AnyEntry] = {}
    voided: set[str] = set()
    problems: list[Violation] = []
    recorded_entries = [r.entry for r in sorted(recorded, key=lambda r: r.sequence)]
    for index, e in enumerate([*recorded_entries, *accepted]):
        is_new = index >= len(recorded_entries)
        if not isinstance(e, (EntryCorrected, EntryVoided)):
            current[e.id] = e
            continue
        target = current.get(e.target)
        problem = None
        if e.target in voided:
            problem = ("target-voided", f"entry {e.target!r} is already voided")
        elif target is None:
            problem = ("unknown-entry", f"no recorded entry {e.target!r} to correct or void")
        elif isinstance(e, EntryCorrected) and e.replacement.type != target.type:
            problem = ("correction-changes-type",
                       f"{e.target!r} is a {target.type}; a replacement must be one too "
                       f"(got {e.replacement.type}); void it and record a new entry instead")
        elif isinstance(e, EntryCorrected) and e.replacement.content() == target.content():
            problem = ("correction-changes-nothing", f"the replacement equals {e.target!r} as it stands")
        if problem and is_new:
            problems.append(Violation(e.id, *problem))
        elif isinstance(e, EntryVoided):
            voided.add(e.target)
            current.pop(e.target, None)
        elif isinstance(e, EntryCorrected):
            current[e.target] = e.replacement
    return problems


def _book_timeline(
    issuer: str, recorded: Sequence[RecordedEntry], accepted: Sequence[AnyEntry]
) -> tuple[Book, Recent | None, date | None, list[Violation]]:
    """Book the whole timeline; returns the end state, its last ``RECENT`` entries (marked so
    a later decision can rewind them), the last effective date and the problems."""
    # New entries go after everything recorded, in journal order: the sequence they will get.
    last = max((r.sequence for r in recorded), default=0)
    pending = [RecordedEntry(issuer, last + i, 0, NOT_YET_RECORDED, e)
               for i, e in enumerate(accepted, start=1)]
    new_sequences = {r.sequence for r in pending}
    corrected_by = {e.target: e.id for e in accepted if isinstance(e, EntryCorrected)}
    timeline = sorted(resolve([*recorded, *pending]), key=timeline_key)
    if not timeline:
        return Book(), None, None, []

    book = Book(defined_later=defined_ids(r.entry for r in timeline))
    marked_from = max(0, len(timeline) - RECENT)
    recent = Recent(timeline[marked_from - 1].entry.effective if marked_from else date.min)
    violations: list[Violation] = []
    for index, record in enumerate(timeline):
        try:
            if index >= marked_from:
                recent.book(book, record.entry)
            else:
                book.apply(record.entry)
        except RuleBroken as broken:
            entry = record.entry
            where = f"{entry.type} effective {entry.effective}"
            if record.sequence in new_sequences:
                violations.append(Violation(entry.id, broken.rule, f"{where}: {broken.message}"))
            elif entry.id in corrected_by:
                violations.append(Violation(corrected_by[entry.id], broken.rule,
                                            f"as corrected, {entry.id!r} ({where}): {broken.message}"))
            else:
                violations.append(_blame(entry, broken, accepted))
    return book, recent, timeline[-1].entry.effective, violations


def _blame(entry: AnyEntry, broken: RuleBroken, accepted: Sequence[AnyEntry]) -> Violation:
    """A recorded entry no longer books: blame the new entries that take effect before it
    (and any new correction or void, which can change anything)."""
    culprits = [e.id for e in accepted
                if isinstance(e, (EntryCorrected, EntryVoided)) or e.effective <= entry.effective]
    return Violation(
        ", ".join(culprits) or entry.id,
        "invalidates-later-entry",
        f"back-dated before recorded entry {entry.id!r} ({entry.type} effective "
        f"{entry.effective}), which would then break [{broken.rule}] {broken.message}",
    )
