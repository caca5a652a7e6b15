"""The four questions, answered from the view tables: the same types and values as the pure
functions in ``projections`` (which stay the reference), without replaying events.

    views = MaterializedViews.open(ledger.store)    # creates the tables; catches up lazily
    views.cap_table("neotherapeutics", date(2002, 7, 25), known_at=None)

Every query first catches up with the log (a cheap check when nothing is new), then reads the
rows that hold "as of D, known at V" (``schema``); V is the last version recorded at or before
``known_at`` (``view_recordings``), or the last version projected when ``known_at`` is None.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ledger.state import Adjustment, Payment, Warrant
from ledger.store import LedgerStore
from ledger.values import Money, money_totals
from projections.captable import CapTable, CapTableRow, percent
from projections.consideration import HolderConsideration
from projections.holdings import Position
from projections.materialized.projector import Projector, moment
from projections.materialized.recorders import view_recorder
from projections.materialized.schema import BY_NAME, CURRENT, path
from projections.warrants import WarrantView, view

# Rows that hold as of D (eff) and known at V (rec): the bitemporal rule, in one place.
HOLDS = "issuer = ? AND rec_from <= ? AND rec_to > ? AND eff_from <= ? AND eff_to > ?"


def _holds() -> str:
    return HOLDS


def _day(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)


def _date(text: str) -> date:
    return date.fromisoformat(text)


@dataclass
class MaterializedViews:
    projector: Projector

    @classmethod
    def open(cls, store: LedgerStore) -> MaterializedViews:
        """The views beside ``store``'s events (see ``recorders`` for where, per backend)."""
        return cls(Projector(store, view_recorder(store.app.recorder)))

    def catch_up(self) -> int:
        return self.projector.catch_up()

    def _select(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        return self.projector.recorder.select(sql, params)

    def version(self, issuer: str, known_at: datetime | None) -> int:
        """The issuer's last sequence recorded at or before ``known_at`` (0: none yet); the
        last projected when ``known_at`` is None. A query reads at this fixed version, so a
        page committed meanwhile (its rows all start or end after it) cannot change its answer
        between its statements."""
        sql = "SELECT MAX(sequence) FROM view_recordings WHERE issuer = ?"
        params: tuple[str, ...] = (issuer,)
        if known_at is not None:
            sql, params = sql + " AND recorded_at <= ?", (issuer, moment(known_at))
        (found,) = self._select(sql, params)
        return int(found[0] or 0)

    def _when(self, issuer: str, as_of: date, known_at: datetime | None) -> tuple[Any, ...]:
        self.catch_up()
        v, d = self.version(issuer, known_at), as_of.isoformat()
        return (issuer, v, v, d, d)

    # --- holdings ------------------------------------------------------------------------

    # Two single-table reads joined by lot in Python: each is one range on its own index, and
    # no plan depends on the planner's statistics being fresh (a PostgreSQL nested loop on
    # stale ones cost seconds on 2,000 lots).
    _SEGMENTS = "SELECT lot, holder, share_class, shares, changes FROM view_lot_segments WHERE " + _holds()
    _LOTS = ("SELECT lot, acquired, held_since, acquired_shares, origin, from_warrant, from_lot "
             "FROM view_lots WHERE " + _holds())

    def _positions(self, when: tuple[Any, ...], holder: str | None) -> list[Position]:
        segments, lots, mine = self._SEGMENTS + " AND shares > 0", self._LOTS, ""
        if holder is not None:
            mine, when = " AND holder = ?", (*when, holder)
        facts = {lot: rest for lot, *rest in self._select(lots + mine, when)}
        positions = []
        for lot, holder_, cls, shares, changes in self._select(segments + mine, when):
            acquired, held_since, quantity, origin, from_w, from_l = facts[lot]
            moved: dict[str, int] = json.loads(changes)
            positions.append(Position(holder_, cls, lot, _date(acquired), _date(held_since), quantity,
                                      -moved.get("rescinded", 0), shares, origin, from_w, from_l, moved))
        return sorted(positions, key=lambda p: (p.holder, p.share_class, p.acquired, p.lot))

    def holdings(self, issuer: str, as_of: date, known_at: datetime | None = None) -> list[Position]:
        """As ``projections.holdings``: lots with shares remaining."""
        return self._positions(self._when(issuer, as_of, known_at), None)

    def holder_position(self, issuer: str, holder: str, as_of: date,
                        known_at: datetime | None = None) -> list[Position]:
        """One holder's lots (``holdings`` filtered to ``holder``), by the holder index."""
        return self._positions(self._when(issuer, as_of, known_at), holder)

    # --- warrants ------------------------------------------------------------------------

    def _warrants(self, when: tuple[Any, ...]) -> list[Warrant]:
        columns = ", ".join(BY_NAME["view_warrant_segments"].names[:17])
        found = []
        rows = self._select(f"SELECT {columns} FROM view_warrant_segments WHERE {_holds()}", when)
        for (warrant, holder, cls, issued, status, status_date, shares, exercised, price, currency,
             exercisable_from, expires, origin, replaces, replaced_by, issued_for, adjustments) in rows:
            w = Warrant(warrant, holder, cls, _date(issued), shares, _money(price, currency),
                        _date(exercisable_from), _day(expires), origin, exercised, status,
                        _day(status_date), replaces, replaced_by, issued_for)
            w.adjustments = [Adjustment(e, _date(d), before, after, _money(pb, cb), _money(pa, ca))
                             for e, d, before, after, pb, cb, pa, ca in json.loads(adjustments)]
            found.append(w)
        return found

    def warrants(self, issuer: str, as_of: date, known_at: datetime | None = None) -> list[WarrantView]:
        """As ``projections.warrants``: the status on ``as_of`` is derived from the row, as the
        fold derives it from the warrant (expiry needs no event)."""
        views = [view(w, as_of) for w in self._warrants(self._when(issuer, as_of, known_at))]
        return sorted(views, key=lambda v: (v.holder, v.issued, v.warrant))

    # --- cap table -----------------------------------------------------------------------

    @staticmethod
    def _stab(table: str, columns: str, when: tuple[Any, ...], as_of: date) -> tuple[str, tuple[Any, ...]]:
        """The rows of a ``forked`` table that hold as of D known at V, through the interval tree
        (``schema.path``): the cost follows the rows that hold on D, not the table's history.
        One index range per node on D's path (22 at most), plus one for rows closed after V;
        their rows never overlap. A branch per node, not ``fork IN (...)``: with equality on
        every column before the range, both planners take the right index without statistics
        (PostgreSQL on fresh, unanalyzed tables filtered an IN list instead: 4x slower)."""
        issuer, v, _, d, _ = when
        below, above = path(as_of)
        select = f"SELECT {columns} FROM {table} WHERE issuer = ? AND "
        branches = [
            # Rows believed now whose fork is below D on D's path: they hold on D iff they end
            # after it. (rec_from <= V: rows of a page committed after V was read don't count.)
            *(f"rec_to = {CURRENT} AND fork = {node} AND eff_to > ? AND rec_from <= ?" for node in below),
            # ... whose fork is D or above it: they hold on D iff they start by it.
            *(f"rec_to = {CURRENT} AND fork = {node} AND eff_from <= ? AND rec_from <= ?" for node in above),
        ]
        params: list[Any] = [p for _ in branches for p in (issuer, d, v)]
        # Rows closed after V (none when V is the last version): believed at V, so they count.
        # A range of rec_to: "known at" an earlier version also reads what changed since.
        branches.append(f"rec_to > ? AND rec_to < {CURRENT} AND rec_from <= ? "
                        "AND eff_from <= ? AND eff_to > ?")
        params += [issuer, v, v, d, d]
        return " UNION ALL ".join(select + branch for branch in branches), tuple(params)

    def _held(self, when: tuple[Any, ...], as_of: date) -> list[tuple[Any, ...]]:
        """Positions as of D known at V: one row per (holder, class) holding anything on D."""
        return self._select(*self._stab(
            "view_positions", "holder, name, share_class, shares, warrant_shares", when, as_of))

    def cap_table(self, issuer: str, as_of: date, known_at: datetime | None = None) -> CapTable:
        """As ``projections.cap_table``: holders from ``view_positions``, one row per position
        held on D (with the holder's name), so no lot, warrant or party row per holder."""
        when = self._when(issuer, as_of, known_at)
        names: dict[str, str] = {}
        shares: dict[str, dict[str, int]] = {}
        warrant_shares: dict[str, int] = {}
        fully_diluted: dict[str, int] = {}
        for holder, name, cls, held, under_warrant in self._held(when, as_of):
            names[holder] = name
            if held is not None:  # NULL: no lot with shares (0: lots with shares summing to 0)
                shares.setdefault(holder, {})[cls] = held
            if under_warrant is not None:  # NULL: no warrant counted
                warrant_shares[holder] = warrant_shares.get(holder, 0) + under_warrant
            fully_diluted[holder] = fully_diluted.get(holder, 0) + (held or 0) + (under_warrant or 0)
        # The issuer from its IssuerCreated date, by the key index (issuer, role, ...): the unary
        # + keeps both planners off the "asof" index, which would read every holder's row.
        found = self._select("SELECT party FROM view_parties WHERE issuer = ? AND role = 'issuer' "
                             "AND rec_from <= ? AND +rec_to > ? AND eff_from <= ? AND eff_to > ?", when)
        classes = sorted(self._select(*self._stab("view_classes", "share_class, authorized, outstanding",
                                                  when, as_of)))
        total = sum(fully_diluted.values())
        rows = []
        for holder, fd in sorted(fully_diluted.items()):
            by_class = shares.get(holder, {})
            rows.append(CapTableRow(holder, names[holder],
                                    dict(sorted(by_class.items())) if len(by_class) > 1 else by_class,
                                    warrant_shares.get(holder, 0), fd, percent(fd, total)))
        return CapTable(
            found[0][0] if found else "", as_of, known_at,
            {c: authorized for c, authorized, _ in classes},
            {c: outstanding for c, _, outstanding in classes},
            sum(warrant_shares.values()), total, rows,
        )

    # --- consideration -------------------------------------------------------------------

    def consideration(self, issuer: str, as_of: date,
                      known_at: datetime | None = None) -> list[HolderConsideration]:
        """As ``projections.consideration``: movements in date order, then in booking order."""
        found = self._select(
            "SELECT paid_on, entry_effective, entry_sequence, entry_index, holder, kind, amount, currency, "
            f"entry, security FROM view_payments WHERE {_holds()}", self._when(issuer, as_of, known_at))
        by_holder: dict[str, list[Payment]] = {}
        for paid_on, _, _, _, holder, kind, amount, currency, entry, security in sorted(found):
            by_holder.setdefault(holder, []).append(
                Payment(holder, _date(paid_on), kind, _money(amount, currency), entry, security))
        result = []
        for holder, movements in sorted(by_holder.items()):
            paid, refunded, repurchased, in_lieu = (
                money_totals([m.amount for m in movements if m.direction == kind])
                for kind in ("paid", "refunded", "repurchased", "cash in lieu"))
            out = (refunded, repurchased, in_lieu)
            net = {cur: paid.get(cur, Decimal(0)) - sum((o.get(cur, Decimal(0)) for o in out), Decimal(0))
                   for cur in sorted(set(paid).union(*out))}
            result.append(HolderConsideration(holder, paid, refunded, repurchased, in_lieu, net, movements))
        return result


def _money(amount: str, currency: str) -> Money:
    return Money(amount=Decimal(amount), currency=currency)
