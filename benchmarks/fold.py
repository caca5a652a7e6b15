"""The views' fold alone, on the generated workload: no store, no SQL, no decoding.

    python -m benchmarks.fold 100000            # entries/s of Deriver.apply, then of rows()
    python -m benchmarks.fold 100000 --memory   # and what the fold's state holds (tracemalloc)

What ``projections.replay`` and the views build spend on booking and deriving rows, to compare
changes to ``ledger.book``, ``ledger.state`` or ``projections.materialized.rows`` on their own.
Holders: one per hundred entries, at least 1,000 (the benchmark's sizes use their own).
"""

from __future__ import annotations

import argparse
import json
import time
import tracemalloc
from datetime import UTC, datetime

from benchmarks.generate import ISSUER, generate
from ledger.collector import collector_paused
from ledger.entries import parse_entry
from ledger.records import RecordedEntry
from ledger.timeline import timeline
from projections.materialized.rows import Deriver


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("entries", type=int)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--memory", action="store_true", help="trace the fold's allocations (slower)")
    args = parser.parse_args()
    w = generate(args.entries, max(1_000, args.entries // 100), args.seed)
    at = datetime(2030, 1, 1, tzinfo=UTC)
    ordered = timeline([RecordedEntry(ISSUER, i + 1, i + 1, at, parse_entry(e))
                        for i, e in enumerate(w.entries)])
    deriver = Deriver()
    with collector_paused():
        if args.memory:
            tracemalloc.start()
        t0 = time.perf_counter()
        for record in ordered:
            deriver.apply(record, undoable=False)
        t1 = time.perf_counter()
        state = tracemalloc.get_traced_memory()[0] if args.memory else None
        rows = deriver.rows()
        t2 = time.perf_counter()
    print(json.dumps({
        "entries": args.entries, "fold_s": t1 - t0, "fold_entries_per_s": args.entries / (t1 - t0),
        "rows_s": t2 - t1, "rows": sum(len(r) for r in rows.values()),
        "state_mb": None if state is None else state / 2**20,
    }))


if __name__ == "__main__":
    main()
