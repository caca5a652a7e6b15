"""A separate process that records entries, for the concurrency and crash tests.

    python -m tests.workers.recorder LOCATION concurrent NAME COUNT   # COUNT purchases, one per record()
    python -m tests.workers.recorder LOCATION bulk NAME COUNT         # one journal of COUNT purchases
    python -m tests.workers.recorder LOCATION issuer ISSUER COUNT     # its own issuer, COUNT purchases
    python -m tests.workers.recorder LOCATION open NAME 0             # open the ledger and its views
"""

from __future__ import annotations

import sys

from ledger.application import Ledger
from ledger.entries import AnyEntry
from projections.materialized import MaterializedViews
from tests.helpers import entry

ISSUER = "race-co"


def opening(issuer: str) -> list[AnyEntry]:
    return [
        entry("IssuerCreated", f"{issuer}-issuer", "2020-01-01", issuer=issuer, name=issuer),
        entry("StakeholderAdded", "h", "2020-01-01", holder="h", name="Holder"),
        entry("ShareClassCreated", "common", "2020-01-01", share_class="common", name="Common",
              authorized=10**12),
    ]


def purchase(name: str, i: int) -> AnyEntry:
    # Most entries share one effective date (recorded in date order); one in twenty is
    # back-dated into the year before it, so decisions re-book the timeline for those.
    day = f"2020-{1 + i % 5:02d}-{1 + (i * 7) % 28:02d}" if i % 20 == 19 else "2020-06-01"
    return entry("SharesPurchased", f"{name}-{i}", day, lot=f"{name}-lot-{i}", holder="h",
                 share_class="common", quantity=1 + i % 97, consideration=f"{1 + i % 97}.00 USD")


def main() -> None:
    location, mode, name, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    ledger = Ledger.open(location)
    try:
        if mode == "concurrent":
            for i in range(count):
                ledger.record(ISSUER, [purchase(name, i)])
        elif mode == "bulk":
            ledger.record(ISSUER, [purchase(name, i) for i in range(count)])
        elif mode == "issuer":
            ledger.record(name, opening(name))
            for i in range(count):
                ledger.record(name, [purchase(name, i)])
        elif mode == "open":
            MaterializedViews.open(ledger.store)
    finally:
        ledger.close()


if __name__ == "__main__":
    main()
