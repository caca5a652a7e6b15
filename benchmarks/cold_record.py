"""One entry recorded by a new process on a loaded ledger: what a `capledger record` costs.

    python -m benchmarks.cold_record LOCATION ISSUER DAY HOLDER KEY [--full]

``--full`` ignores snapshots (and writes none): the baseline, reading and booking the whole
log. Prints one JSON line: seconds from open to recorded, and where reading started.
"""

from __future__ import annotations

import json
import sys
import time

from ledger import snapshots
from ledger.application import Ledger
from ledger.entries import parse_entry


def main() -> None:
    location, issuer, day, holder, key = sys.argv[1:6]
    if "--full" in sys.argv:
        snapshots.FORMAT = -1  # every stored snapshot is then "not this code's"
        snapshots.EVERY = 2**62
    start = time.perf_counter()
    ledger = Ledger.open(location)
    reads: list[int] = []
    real = ledger.store.entries

    def entries(who: str, after: int = 0) -> list:  # type: ignore[type-arg]
        reads.append(after)
        return real(who, after)

    ledger.store.entries = entries  # type: ignore[method-assign]
    entry = parse_entry({
        "id": f"cold-{key}", "type": "SharesPurchased", "effective": day, "lot": f"cold-{key}",
        "holder": holder, "share_class": "common", "quantity": 100, "price_per_share": "1.00 USD",
        "consideration": "100.00 USD",
        "citation": {"document": f"SPA cold-{key}", "dated": day, "section": "1"}})
    ledger.record(issuer, [entry])
    seconds = time.perf_counter() - start
    ledger.close()
    print(json.dumps({"seconds": seconds, "first_read_after": reads[0] if reads else None}))


if __name__ == "__main__":
    main()
