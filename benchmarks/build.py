"""Build a benchmark ledger and keep it, to profile one figure without the whole run:

    python -m benchmarks.build --size 1M /tmp/bench1M.sqlite      # bulk load + views
    python -m benchmarks.replay /tmp/bench1M.sqlite bench-co
    capledger captable --ledger /tmp/bench1M.sqlite --issuer bench-co --as-of 2016-03-01

The same workload, journals and clock as ``benchmarks.run`` (same seed: the same ledger).
"""

from __future__ import annotations

import argparse
import time

from benchmarks.generate import SIZES, generate
from benchmarks.run import bulk_load, log


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("location", help="an SQLite file (new) or a PostgreSQL URL (empty database)")
    parser.add_argument("--size", default="100k", choices=sorted(SIZES))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-views", action="store_true", help="skip building the views")
    args = parser.parse_args()

    from ledger.entries import parse_entry
    from ledger.store import LedgerStore
    from projections.materialized import MaterializedViews

    size, holders = SIZES[args.size]
    w = generate(size, holders, args.seed)
    entries = [parse_entry(e) for e in w.entries]
    log(f"bulk load of {size:,} entries, {holders:,} holders into {args.location}")
    print(bulk_load(args.location, entries), flush=True)
    if not args.no_views:
        store = LedgerStore(args.location)
        t = time.perf_counter()
        n = MaterializedViews.open(store).catch_up()
        store.close()
        print({"views_events": n, "views_s": time.perf_counter() - t}, flush=True)


if __name__ == "__main__":
    main()
