"""The audit replay, in a process of its own (so its peak RSS is its own):

    python -m benchmarks.replay LOCATION ISSUER [--library | --audit-only]

Reads the issuer's raw rows in one streamed pass (``LedgerStore.audit_stream``: each row's
link of the hash chain verified and its entry decoded once, a page of rows at a time), then
re-books the whole corrected timeline and rebuilds every projection (every view row of
``projections.materialized.rows.derive``: lots, lot segments, warrant segments, payments,
classes, parties, holder totals), then prints one JSON line with the timings and
its peak RSS (``peak_rss_mb``). Verifying is part of the read: ``verify_s`` is 0 and ``read_s`` covers read,
verify and decode.

``--audit-only`` is ``capledger audit verify``'s work: the same pass keeping no records.

``--library`` is the baseline instead: the library's own ``repository.get`` over the same
stream, with a projector function that decodes each event and keeps its entry (no hash
check, no booking, no projections).
"""

from __future__ import annotations

import gc
import json
import resource
import sys
import time
from typing import Any


def peak_rss_mb() -> float:
    """This process's peak RSS. Linux keeps ``ru_maxrss`` across ``execve``, and a child
    forked from the harness starts from the harness's RSS (10 GB at 1M), so the memory
    figure is the new process image's own high-water mark, VmHWM, where /proc has it."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def replay(location: str, issuer: str) -> dict[str, Any]:
    from ledger.store import LedgerStore
    from projections.materialized.rows import derive

    t0 = time.perf_counter()
    c0 = time.process_time()
    store = LedgerStore(location)
    t1 = time.perf_counter()
    # One pass: each row read (a page at a time), its link of the chain verified and its
    # entry decoded once. Only the records are kept, for the rebuild.
    records, report = store.audit_entries(issuer)
    if not report.ok:
        raise SystemExit(f"chain broken: {report.broken}")
    t2 = time.perf_counter()
    c2 = time.process_time()
    read_rss = peak_rss_mb()
    # The records live as long as this process: the collector need not scan them again on
    # every collection the rebuild triggers.
    gc.freeze()
    rows = derive(records)
    t3 = time.perf_counter()
    c3 = time.process_time()
    store.close()
    # verify_s is 0: verifying is part of the one pass, timed in read_s (open_s + read_s +
    # rebuild_s = total_s). cpu_* are this process's CPU seconds (less sensitive to a busy
    # machine than wall time); maxrss_read_mb is the peak RSS when the read ended, before the
    # rebuild.
    return {"events": len(records), "open_s": t1 - t0, "verify_s": 0.0, "read_s": t2 - t1,
            "rebuild_s": t3 - t2, "total_s": t3 - t0, "rows": sum(len(r) for r in rows.values()),
            "cpu_read_s": c2 - c0, "cpu_rebuild_s": c3 - c2, "one_pass": True, "maxrss_read_mb": read_rss,
            "maxrss_mb": peak_rss_mb()}


def audit_only(location: str, issuer: str) -> dict[str, Any]:
    """``capledger audit verify``'s work alone: the streamed pass without keeping records
    (``LedgerStore.audit``), so its peak RSS is one page's."""
    from ledger.store import LedgerStore

    t0 = time.perf_counter()
    store = LedgerStore(location)
    report = store.audit(issuer)
    t1 = time.perf_counter()
    store.close()
    return {"events": report.events, "ok": report.ok, "total_s": t1 - t0,
            "maxrss_mb": peak_rss_mb()}


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
            "maxrss_mb": peak_rss_mb()}


if __name__ == "__main__":
    location, issuer = sys.argv[1], sys.argv[2]
    if "--library" in sys.argv:
        result = library(location, issuer)
    elif "--audit-only" in sys.argv:
        result = audit_only(location, issuer)
    else:
        result = replay(location, issuer)
    print(json.dumps(result))
