"""The audit replay, in a process of its own (so its peak RSS is its own):

    python -m benchmarks.replay LOCATION ISSUER [--library]

Reads the issuer's raw rows and verifies the hash chain, decodes every entry, re-books the
whole corrected timeline and rebuilds every projection (every view row of
``projections.materialized.rows.derive``: lots, lot segments, warrant segments, payments,
classes, parties, holder totals), then prints one JSON line with the timings and
``ru_maxrss``.

``--library`` is the baseline instead: the library's own ``repository.get`` over the same
stream, with a projector function that decodes each event and keeps its entry (no hash
check, no booking, no projections).
"""

from __future__ import annotations

import json
import resource
import sys
import time
from typing import Any


def replay(location: str, issuer: str) -> dict[str, Any]:
    from ledger.integrity import verify
    from ledger.store import LedgerStore
    from projections.materialized.rows import derive

    t0 = time.perf_counter()
    store = LedgerStore(location)
    t1 = time.perf_counter()
    links = store.links(issuer)
    report = verify(issuer, links)
    if not report.ok:
        raise SystemExit(f"chain broken: {report.broken}")
    t2 = time.perf_counter()
    del links
    records = store.entries(issuer)
    t3 = time.perf_counter()
    rows = derive(records)
    t4 = time.perf_counter()
    store.close()
    return {"events": len(records), "open_s": t1 - t0, "verify_s": t2 - t1, "read_s": t3 - t2,
            "rebuild_s": t4 - t3, "total_s": t4 - t0, "rows": sum(len(r) for r in rows.values()),
            "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def library(location: str, issuer: str) -> dict[str, Any]:
    from collections.abc import Iterable

    from ledger.store import LedgerStore, stream_id

    t0 = time.perf_counter()
    store = LedgerStore(location)

    def fold(state: list[dict[str, Any]] | None, events: Iterable[Any]) -> list[dict[str, Any]]:
        kept = state or []
        for e in events:
            kept.append(e.entry)
        return kept

    kept = store.app.repository.get(stream_id(issuer), projector_func=fold)  # type: ignore[arg-type,var-annotated]
    t1 = time.perf_counter()
    store.close()
    return {"events": len(kept), "total_s": t1 - t0,
            "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


if __name__ == "__main__":
    location, issuer = sys.argv[1], sys.argv[2]
    result = library(location, issuer) if "--library" in sys.argv else replay(location, issuer)
    print(json.dumps(result))
