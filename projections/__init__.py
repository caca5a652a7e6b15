"""Read side: pure functions from a log of recorded entries to figures as of a date.

Every query takes the issuer's records in any order, an ``as_of`` date (everything effective
on or before it counts) and an optional ``known_at`` recorded time (only entries recorded by
then count). Nothing here writes, and nothing in ``ledger`` imports this package.
"""

from projections.captable import CapTable, CapTableRow, cap_table
from projections.consideration import HolderConsideration, consideration
from projections.diff import Change, Diff, diff
from projections.history import HistoryLine, history
from projections.holdings import Position, holdings
from projections.timeline import Snapshot, snapshot
from projections.warrants import WarrantView, warrants

__all__ = [
    "CapTable", "CapTableRow", "Change", "Diff", "HistoryLine", "HolderConsideration", "Position", "Snapshot",
    "WarrantView", "cap_table", "consideration", "diff", "history", "holdings", "snapshot", "warrants",
]
