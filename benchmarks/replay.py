"""The audit replay, in a process of its own (so its peak RSS is its own):

    python -m benchmarks.replay LOCATION ISSUER [--list | --library | --audit-only]

Rebuilds every projection of the issuer's log (every view row of
``projections.materialized.rows.derive``: lots, lot segments, warrant segments, payments,
classes, parties, holder totals) without holding the log (``projections.replay.replay``): a
first streamed pass (``LedgerStore.audit_stream``: each row's link of the hash chain verified
and its entry decoded once, a page of rows at a time) keeps a few bytes per record and plans
the corrected timeline; a second streamed pass (verified again) feeds the records to the fold
in timeline order through a reorder buffer. A broken chain stops it after the first pass.
Prints one JSON line with the timings and its peak RSS (``maxrss_mb``). ``read_s`` is the
first pass (read, verify, decode, plan); ``rebuild_s`` the second pass, the fold and the rows
(``fold_s`` + ``rows_s``); ``verify_s`` is 0 (verifying is part of each pass).

``--list`` is the replay as it was: one pass into a list of every record
(``LedgerStore.audit_entries``), then ``rows.derive`` of the list.

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


def rss_mb() -> float:
    """This process's RSS now (VmRSS; 0 where /proc has none)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def replay(location: str, issuer: str) -> dict[str, Any]:
    """Two streamed passes (``projections.replay.replay``), timed and measured per stage."""
    from ledger.store import LedgerStore
    from projections.replay import replay as rebuild

    t0 = time.perf_counter()
    c0 = time.process_time()
    store = LedgerStore(location)
    t1 = time.perf_counter()
    marks: dict[str, tuple[float, float, float, float]] = {}

    def stage(name: str) -> None:  # wall and CPU time, peak and current RSS, at the stage's end
        marks[name] = (time.perf_counter(), time.process_time(), peak_rss_mb(), rss_mb())

    result = rebuild(store, issuer, stage=stage)
    if result.rows is None:
        raise SystemExit(f"chain broken: {result.report.broken}")
    stage("rows")
    store.close()
    (t2, c2, read_peak, _), (t3, _, _, folded_rss), (t4, c4, _, _) = (
        marks["planned"], marks["folded"], marks["rows"])
    # open_s + read_s + rebuild_s = total_s; rebuild_s = fold_s + rows_s. cpu_* are this
    # process's CPU seconds (less sensitive to a busy machine than wall time).
    # maxrss_read_mb is the peak RSS when the first pass ended; rss_folded_mb the RSS once every
    # record was booked (the fold's state), before the rows were made. rows_s includes freeing
    # the fold's state when ``rebuild`` returns (as ``--list``'s rebuild_s includes ``derive``'s).
    return {"events": result.events, "open_s": t1 - t0, "verify_s": 0.0, "read_s": t2 - t1,
            "rebuild_s": t4 - t2, "fold_s": t3 - t2, "rows_s": t4 - t3, "total_s": t4 - t0,
            "rows": sum(len(r) for r in result.rows.values()), "cpu_read_s": c2 - c0,
            "cpu_rebuild_s": c4 - c2, "passes": 2, "held_max": result.held_max,
            "maxrss_read_mb": read_peak, "rss_folded_mb": folded_rss, "maxrss_mb": peak_rss_mb()}


def replay_list(location: str, issuer: str) -> dict[str, Any]:
    """The replay as it was: every record in a list, then ``rows.derive`` of the list."""
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
    return {"events": len(records), "open_s": t1 - t0, "verify_s": 0.0, "read_s": t2 - t1,
            "rebuild_s": t3 - t2, "total_s": t3 - t0, "rows": sum(len(r) for r in rows.values()),
            "cpu_read_s": c2 - c0, "cpu_rebuild_s": c3 - c2, "passes": 1, "maxrss_read_mb": read_rss,
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
    elif "--list" in sys.argv:
        result = replay_list(location, issuer)
    elif "--audit-only" in sys.argv:
        result = audit_only(location, issuer)
    else:
        result = replay(location, issuer)
    print(json.dumps(result))
