"""Rebuilding an issuer's view rows from its log without holding the whole log at once.

``rows.derive(records)`` needs every record in a list (about 2.8 KB per decoded entry: 330 MB
at 100,000 entries) because ``ledger.timeline.timeline`` sorts the corrected log before the
fold starts. Here the log is read twice, in recorded order, and never held:

1. ``plan_timeline``: the first pass keeps a few bytes per record (its effective date, a hash
   of its id and the id's text in one buffer) and the corrections and voids themselves (rare:
   a clerical fix), then works out what ``timeline`` would book: which records drop out
   (voided, or an id recorded again), which read as a correction's replacement, and the
   order of the rest (effective date, then recorded order).
2. ``TimelineFeed``: the second pass yields the records in that order through a reorder
   buffer: a record is yielded once every record before it on the timeline has been, and is
   held only until then. A back-dated entry recorded late holds back the records recorded
   before it that it precedes on the timeline (about as many as it was recorded late).

``rebuild`` runs both over any source that can be read twice; ``replay`` over a store: both
passes are ``LedgerStore.audit_stream`` (each link of the hash chain checked), the first one's
report decides (a broken chain stops the replay before any booking, as ``audit_entries``
did), and the second must reach the same head or ``LogChanged`` is raised.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from itertools import islice, pairwise

from ledger.collector import collector_paused
from ledger.entries import AnyEntry, EntryCorrected, EntryVoided
from ledger.integrity import ChainReport
from ledger.records import RecordedEntry
from ledger.store import PAGE, LedgerStore
from projections.materialized.rows import Deriver, RowSets

# What the plan says of each record, by its place in recorded order.
AS_READ = 0  # on the timeline with its own entry
REPLACED = 1  # on the timeline, reading as a correction's replacement
DROPPED = 2  # not on the timeline: a correction or void itself, voided, or its id recorded again
_INDEX_BITS = 32  # a timeline key packs (effective ordinal, place in recorded order) in one int


class LogChanged(RuntimeError):
    """The second pass did not read the log the first pass planned (rows changed between them)."""


@dataclass(slots=True)
class _Edit:
    """A correction or void, at its place in recorded order: ``replacement`` is None for a void."""

    index: int
    target: str
    replacement: AnyEntry | None


@dataclass(slots=True)
class TimelinePlan:
    """What the second pass needs: per record (by its place in recorded order) its mark
    (``AS_READ``, ``REPLACED``, ``DROPPED``), effective date ordinal and id hash (to check
    that the second pass reads the same log), the replacements, and the timeline order."""

    count: int = 0
    head: str = ""  # the last record's digest
    marks: bytearray = field(default_factory=bytearray)
    effective: array[int] = field(default_factory=lambda: array("i"))
    hashes: array[int] = field(default_factory=lambda: array("q"))
    replacements: dict[int, AnyEntry] = field(default_factory=dict)
    order: array[int] = field(default_factory=lambda: array("q"))  # places, in timeline order


class _Planner:
    """The first pass's state: ``add`` each record in recorded order, then ``plan``."""

    def __init__(self) -> None:
        self.result = TimelinePlan()
        self.edits: list[_Edit] = []
        # Every book entry's id, as UTF-8 in one buffer (``ends[i]`` is where record i's ends):
        # a few bytes per record instead of a string object and a dict slot, read back only for
        # the few records whose id hash matches a target's or another record's.
        self.ids = bytearray()
        self.ends = array("q")
        self.sequence: int | None = None

    def add(self, record: RecordedEntry) -> None:
        if self.sequence is not None and record.sequence <= self.sequence:
            raise ValueError(
                f"records out of recorded order: sequence {record.sequence} after {self.sequence}")
        self.sequence = record.sequence
        plan, entry = self.result, record.entry
        index = plan.count
        plan.count += 1
        plan.head = record.digest
        plan.effective.append(entry.effective.toordinal())
        if isinstance(entry, EntryCorrected | EntryVoided):
            replacement = entry.replacement if isinstance(entry, EntryCorrected) else None
            self.edits.append(_Edit(index, entry.target, replacement))
            plan.marks.append(DROPPED)
            plan.hashes.append(0)
        else:
            plan.marks.append(AS_READ)
            plan.hashes.append(hash(entry.id))
            self.ids += entry.id.encode("utf-8", "surrogatepass")
        self.ends.append(len(self.ids))

    def _id(self, index: int) -> str:
        start = self.ends[index - 1] if index else 0
        return self.ids[start:self.ends[index]].decode("utf-8", "surrogatepass")

    def _contested(self) -> dict[str, list[int]]:
        """The places of the book entries whose id is a correction's or void's target or is
        recorded more than once, by id: the only records ``resolve`` can drop or change. Ids
        are compared by hash first, then exactly (a hash collision only adds a candidate)."""
        plan = self.result
        marks = plan.marks
        # Sorted rather than put in a set: the transient list of hashes is half the size.
        ordered = sorted(h for i, h in enumerate(plan.hashes) if marks[i] == AS_READ)
        repeated = {a for a, b in pairwise(ordered) if a == b}
        del ordered
        wanted = repeated | {hash(e.target) for e in self.edits}
        contested: dict[str, list[int]] = {e.target: [] for e in self.edits}
        for index, h in enumerate(plan.hashes):
            if h in wanted and marks[index] == AS_READ:
                contested.setdefault(self._id(index), []).append(index)
        return contested

    def _resolve(self, ident: str, places: list[int], edits: list[_Edit]) -> None:
        """``ledger.timeline.resolve`` for one id: its records and the edits targeting it, in
        recorded order. A record of the id replaces the one before; a correction applies to
        the current record (if any); a void removes it. What stands at the end is booked."""
        plan = self.result
        events: list[tuple[int, _Edit | None]] = sorted(
            [(i, None) for i in places] + [(e.index, e) for e in edits], key=lambda pair: pair[0])
        current: int | None = None  # the place of the record that stands, if one does
        replacement: AnyEntry | None = None
        for index, edit in events:
            if edit is None:  # the id recorded (again): it replaces whatever stood
                if current is not None:
                    plan.marks[current] = DROPPED
                current, replacement = index, None
            elif current is None:  # nothing stands to correct or void: skipped, as resolve does
                continue
            elif edit.replacement is None:  # voided
                plan.marks[current] = DROPPED
                current, replacement = None, None
            else:  # corrected: the last correction's replacement is what it reads as
                replacement = edit.replacement
        if current is not None and replacement is not None:
            plan.marks[current] = REPLACED
            plan.replacements[current] = replacement

    def plan(self) -> TimelinePlan:
        plan = self.result
        by_target: dict[str, list[_Edit]] = {}
        for edit in self.edits:
            by_target.setdefault(edit.target, []).append(edit)
        for ident, places in self._contested().items():
            self._resolve(ident, places, by_target.get(ident, []))
        self.edits.clear()
        self.ids = bytearray()
        # Sorting packed ints (effective ordinal high, place low) is timeline order: places
        # follow sequences, and ``timeline_key`` is (effective, sequence).
        effective, marks = plan.effective, plan.marks
        keys = [(effective[i] << _INDEX_BITS) | i for i in range(plan.count) if marks[i] == AS_READ]
        keys += [(entry.effective.toordinal() << _INDEX_BITS) | i for i, entry in plan.replacements.items()]
        keys.sort()
        mask = (1 << _INDEX_BITS) - 1
        plan.order = array("q", (k & mask for k in keys))
        return plan


def plan_timeline(records: Iterable[RecordedEntry]) -> TimelinePlan:
    """The first pass: what ``timeline(records)`` books, and in which order, keeping a few
    bytes per record. ``records`` must be in recorded order (sequences increasing)."""
    planner = _Planner()
    for record in records:
        planner.add(record)
    if planner.result.count >= 1 << _INDEX_BITS:
        raise ValueError("more records than a timeline key can place")
    return planner.plan()


class TimelineFeed:
    """The second pass: iterating yields the records of ``records`` (the same log, in recorded
    order, read again) in ``plan``'s timeline order, corrected as ``timeline`` corrects them.
    Only ``plan.count`` records are read (a writer may have appended since the first pass);
    each is checked against the plan. ``held_max`` is the most records the buffer held."""

    def __init__(self, records: Iterable[RecordedEntry], plan: TimelinePlan) -> None:
        self.records = records
        self.plan = plan
        self.held_max = 0

    def __iter__(self) -> Iterator[RecordedEntry]:
        plan, order = self.plan, self.plan.order
        held: dict[int, RecordedEntry] = {}  # place -> record read before its turn
        turn = 0  # the next place on the timeline to yield is order[turn]
        read = 0
        for index, record in enumerate(islice(self.records, plan.count)):
            read += 1
            self._check(index, record)
            mark = plan.marks[index]
            if mark == DROPPED:
                continue
            if mark == REPLACED:
                record = replace(record, entry=plan.replacements[index])
            if order[turn] != index:
                held[index] = record
                self.held_max = max(self.held_max, len(held))
                continue
            yield record
            turn += 1
            while turn < len(order) and order[turn] in held:
                yield held.pop(order[turn])
                turn += 1
        if read != plan.count or turn != len(order):
            raise LogChanged(f"the second pass read {read} of the {plan.count} records planned")

    def _check(self, index: int, record: RecordedEntry) -> None:
        plan, entry = self.plan, record.entry
        edit = isinstance(entry, EntryCorrected | EntryVoided)
        if (entry.effective.toordinal() != plan.effective[index]
                or plan.hashes[index] != (0 if edit else hash(entry.id))
                or (index == plan.count - 1 and record.digest != plan.head)):
            raise LogChanged(f"record {record.sequence} is not the one the first pass read")


def fold_stream(ordered: Iterable[RecordedEntry]) -> Deriver:
    """``rows.fold`` over records already in timeline order, holding none of them."""
    deriver = Deriver()
    with collector_paused():
        for record in ordered:
            deriver.apply(record, undoable=False)
    return deriver


def rebuild(read: Callable[[], Iterable[RecordedEntry]]) -> RowSets:
    """``rows.derive`` of the log ``read()`` gives (in recorded order), reading it twice and
    never holding it: the same rows."""
    with collector_paused():
        plan = plan_timeline(read())
        return fold_stream(TimelineFeed(read(), plan)).rows()


@dataclass(frozen=True, slots=True)
class Replay:
    """What ``replay`` gives: the first pass's chain report, and the rows (None when the chain
    is broken: nothing is booked), with the figures the benchmark prints."""

    report: ChainReport
    rows: RowSets | None
    events: int
    held_max: int  # the reorder buffer's high-water mark, in records


def replay(store: LedgerStore, issuer: str, expect_head: str | None = None, page: int = PAGE,
           stage: Callable[[str], None] = lambda name: None) -> Replay:
    """Every view row of ``issuer``'s log, in two streamed passes over the store, each
    verifying the hash chain. A broken chain stops it after the first pass (``rows`` None);
    ``LogChanged`` if the second pass does not read what the first did. ``stage`` is called
    with "planned" after the first pass and "folded" before the rows are made (the benchmark
    times and measures the stages apart)."""
    # Paused throughout: the fold's state is millions of small objects made by this call, and
    # a full collection between its steps would scan them all (they make no cycles).
    with collector_paused():
        first = store.audit_stream(issuer, expect_head, page)
        plan = plan_timeline(first)
        report = first.report
        if not report.ok:
            return Replay(report, None, report.events, 0)
        stage("planned")
        feed = TimelineFeed(store.audit_stream(issuer, None, page), plan)
        deriver = fold_stream(feed)
        stage("folded")
        rows = deriver.rows()
    return Replay(report, rows, plan.count, feed.held_max)
