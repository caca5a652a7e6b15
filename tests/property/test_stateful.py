"""The public write API driven step by step against the independent model.

Each step drafts entries of some kind (valid, back-dated, same-day, or broken on purpose),
records them through ``Ledger.record``, and checks that the application and the model
(``tests/property/model.py``, which shares no code with ``ledger.book`` or ``projections``)
agree on whether they are accepted. After every step the holdings, warrants and
consideration the projections give are compared with the model's at random dates and
known-at times. A failure prints the ledger so far as YAML journals.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from fractions import Fraction
from typing import Any

from hypothesis import note, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

import projections
from ledger.application import Ledger
from ledger.entries import AnyEntry, parse_entry
from ledger.errors import Rejected
from ledger.records import RecordedEntry
from tests.property.conftest import examples
from tests.property.journal_report import journals_text
from tests.property.model import ModelLedger
from tests.property.strategies import (
    KINDS,
    RECORDING_EPOCH,
    WEIGHTS,
    Draft,
    issuer_ids,
    new_draft,
)
from tests.property.support import Clock, around, stored_form

LIFECYCLE = ("SharesTransferred", "SharesRepurchased", "SharesCancelled", "StockSplit",
             "SharesConverted", "RescindedAbInitio", "PurchaseRescinded", "WarrantExercised")
_REFERENCES = ("holder", "to_holder", "share_class", "to_class", "lot", "warrant", "security",
               "target", "in_exchange_for")


def holdings_seen(records: list[RecordedEntry], day: date, known: datetime | None) -> dict[str, Any]:
    return {p.lot: (p.holder, p.share_class, p.acquired, p.held_since, p.acquired_shares, p.rescinded,
                    p.shares, p.from_warrant, p.from_lot)
            for p in projections.holdings(records, day, known)}


def warrants_seen(records: list[RecordedEntry], day: date, known: datetime | None) -> dict[str, Any]:
    return {v.warrant: (v.holder, v.share_class, v.issued, v.status, v.shares, v.exercised,
                        (Fraction(v.exercise_price.amount), v.exercise_price.currency),
                        v.exercisable_from, v.expires, v.exercisable, v.replaces, v.replaced_by,
                        v.issued_for)
            for v in projections.warrants(records, day, known)}


def consideration_seen(records: list[RecordedEntry], day: date, known: datetime | None
                       ) -> dict[str, dict[str, dict[str, Fraction]]]:
    out = {}
    for h in projections.consideration(records, day, known):
        kinds = {"paid": h.paid, "refunded": h.refunded, "repurchased": h.repurchased,
                 "cash in lieu": h.cash_in_lieu, "net": h.net}
        out[h.holder] = {k: {c: Fraction(a) for c, a in v.items()} for k, v in kinds.items() if v}
    return out


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.clock = Clock(RECORDING_EPOCH)
        self.ledger = Ledger.open(":memory:", clock=self.clock)
        self.issuer = ""
        self.draft: Draft | None = None
        self.recordings: list[list[AnyEntry]] = []
        self.tried: list[AnyEntry] = []

    # --- helpers ---------------------------------------------------------------------------

    @property
    def model(self) -> ModelLedger:
        assert self.draft is not None
        return self.draft.model

    def _records(self) -> list[RecordedEntry]:
        return self.ledger.store.entries(self.issuer)

    def _explain(self) -> None:
        note(journals_text(self.issuer, self.recordings, self.tried))

    def _record(self, batch: list[AnyEntry]) -> None:
        """Record through the public API; the model must agree on accepted or rejected."""
        self.tried = batch
        expected = self.model.new_entries(batch)
        before = stored_form(self._records())
        self.clock.now += timedelta(seconds=1)
        try:
            done = self.ledger.record(self.issuer, batch)
        except Rejected as rejected:
            if expected is not None:
                self._explain()
            assert expected is None, f"the ledger rejects what the model accepts:\n{rejected}"
            assert stored_form(self._records()) == before, "a rejected journal changed the log"
            return
        if expected is None:
            self._explain()
        assert expected is not None, "the ledger accepts what the model rejects"
        assert [r.entry for r in done.stored] == expected
        assert done.already_recorded == len(batch) - len(expected)
        if expected:
            self.model.commit(expected, done.stored[0].recorded_at)
            self.recordings.append(expected)
        self.tried = []

    def _compare(self, data: st.DataObject) -> None:
        """Holdings, warrants and consideration at random dates and known-at times."""
        records = self._records()
        known_dates = around(self.model.dates())
        days = data.draw(st.lists(st.sampled_from(known_dates) | st.dates(date(1990, 1, 1), date(2050, 1, 1)),
                                  min_size=1, max_size=3), label="as of")
        times = self.model.recorded_times()
        moments = [None, *times, *(t - timedelta(microseconds=1) for t in times)]
        known = data.draw(st.sampled_from(moments), label="known at")
        for day in days:
            pairs = (
                ("holdings", holdings_seen(records, day, known), self.model.holdings(day, known)),
                ("warrants", warrants_seen(records, day, known), self.model.warrants(day, known)),
                ("consideration", consideration_seen(records, day, known),
                 self.model.consideration(day, known)),
            )
            for name, seen, expected in pairs:
                if seen != expected:
                    self._explain()
                assert seen == expected, f"{name} as of {day} known at {known}"

    # --- steps -----------------------------------------------------------------------------

    @initialize(issuer=issuer_ids, start=st.dates(date(1995, 1, 1), date(2025, 12, 31)),
                holders=st.integers(0, 3), classes=st.integers(0, 2), data=st.data())
    def open_ledger(self, issuer: str, start: date, holders: int, classes: int,
                    data: st.DataObject) -> None:
        """The first journal: the issuer, and usually a few holders and classes."""
        self.issuer = issuer
        self.draft = new_draft(issuer, start)
        for kind in ["StakeholderAdded"] * holders + ["ShareClassCreated"] * classes:
            entry = data.draw(KINDS[kind](self.draft))
            if entry is not None:
                self.draft.try_add(entry)
        opening, self.draft.batch = self.draft.batch, []
        self._record(opening)

    @rule(kind=st.sampled_from(sorted(KINDS)), data=st.data())
    def record_one(self, kind: str, data: st.DataObject) -> None:
        assert self.draft is not None
        entry = data.draw(KINDS[kind](self.draft), label=kind)
        if entry is not None:
            self._record([entry])
        self._compare(data)

    @rule(kind=st.sampled_from(LIFECYCLE), data=st.data())
    def record_lifecycle(self, kind: str, data: st.DataObject) -> None:
        """The later life of shares (transfers, buy-backs, cancellations, splits, conversions,
        rescissions ab initio): drafted more often, as they need a ledger with lots in it."""
        self.record_one(kind, data)

    @rule(size=st.integers(1, 4), data=st.data())
    def record_journal(self, size: int, data: st.DataObject) -> None:
        """Several entries in one journal: the first ones valid together, the last as drafted."""
        assert self.draft is not None
        for _ in range(size - 1):
            entry = data.draw(KINDS[data.draw(st.sampled_from(WEIGHTS))](self.draft))
            if entry is not None:
                self.draft.try_add(entry)
        last = data.draw(KINDS[data.draw(st.sampled_from(WEIGHTS))](self.draft))
        batch, self.draft.batch = self.draft.batch, []
        if last is not None:
            batch.append(last)
        if batch:
            self._record(batch)
        self._compare(data)

    @rule(data=st.data())
    def record_broken(self, data: st.DataObject) -> None:
        """A drafted entry spoiled on purpose: an id reused, a reference to nothing, a date
        before the issuer, or one id twice in a journal. The model says which must fail."""
        assert self.draft is not None
        entry = data.draw(KINDS[data.draw(st.sampled_from(sorted(KINDS)))](self.draft))
        if entry is None:
            return
        content = entry.content()
        how = data.draw(st.sampled_from(("reuse-id", "dangling", "before-issuer", "twice", "same-party")))
        batch: list[AnyEntry]
        if how == "same-party":  # shares moved to whoever or whatever already has them
            lot = self.model.state().lots.get(content.get("lot", ""))
            if lot is None or not ({"to_holder", "to_class"} & content.keys()):
                return
            content.update({k: v for k, v in (("to_holder", lot.holder), ("to_class", lot.share_class))
                            if k in content})
            batch = [parse_entry(content)]
        elif how == "reuse-id":
            content["id"] = data.draw(st.sampled_from([x.entry.id for x in self.model.log]))
            if content.get("type") == "EntryCorrected":
                return  # the replacement must keep its own target's id; nothing to spoil
            batch = [parse_entry(content)]
        elif how == "dangling":
            refs = [k for k in _REFERENCES if k in content]
            if not refs:
                return
            content[data.draw(st.sampled_from(refs))] = "no-such-thing"
            if content.get("type") == "EntryCorrected":
                return
            batch = [parse_entry(content)]
        elif how == "before-issuer":
            early = self.draft.start - timedelta(days=data.draw(st.integers(1, 900)))
            content["effective"] = early.isoformat()
            batch = [parse_entry(content)]
        else:
            batch = [entry, entry.model_copy(update={"memo": "the same id again"})]
        self._record(batch)
        self._compare(data)

    @precondition(lambda self: bool(self.recordings))
    @rule(data=st.data())
    def record_again(self, data: st.DataObject) -> None:
        """Re-recording entries already recorded (a whole journal or a few) stores nothing."""
        batch = data.draw(st.sampled_from(self.recordings))
        again = data.draw(st.lists(st.sampled_from(batch), min_size=1, unique_by=lambda e: e.id))
        before = stored_form(self._records())
        self.clock.now += timedelta(seconds=1)
        done = self.ledger.record(self.issuer, again)
        assert (done.stored, done.already_recorded) == ([], len(again))
        assert stored_form(self._records()) == before

    @invariant()
    def log_is_the_models(self) -> None:
        if self.draft is not None:
            assert stored_form(self._records()) == [
                (x.sequence, x.recorded_at, x.entry.content()) for x in self.model.log]

    def teardown(self) -> None:
        self.ledger.close()


LedgerMachine.TestCase.settings = settings(
    max_examples=examples(1.5, least=10), stateful_step_count=50,
)
TestLedgerAgainstModel = LedgerMachine.TestCase
