"""Pausing Python's cyclic garbage collector around bulk work.

Booking and decoding allocate many small objects that live as long as the ledger is open (a
tail of a million entries holds millions). The cyclic collector rescans every tracked object
each time the heap has grown by a quarter, which doubled the cost of recording a 10,000-entry
journal on a 30,000-entry ledger (``benchmarks``). What these paths allocate is freed by
reference counting (no cycles), so they run with the collector paused; it resumes afterwards.

Resuming alone only defers the scan: the objects a fold or a bulk load left alive are still in
the collector's young generations, and its next older-generation collections (at whatever
call happens to allocate then) scan every one of them: 10 s inside a later one-entry
recording and 11 s inside the views catch-up after it, on a 1M-entry ledger (benchmark,
interactive entries). So a pause that
leaves many more tracked objects alive than it found hands all of them to the permanent
generation (``gc.freeze``), which the collector never scans. They are still freed by
reference counting; only a reference cycle among them would outlive its last use (none is
made by booking or folding).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_pauses = 0
_was_enabled = False
_count_at_pause = 0
# New objects alive at the end of a pause above which they are frozen: a fold of a long log
# leaves millions, a 10,000-entry journal 20,000 to 200,000 (left unfrozen, they made
# 2-5 s collections in later journals of a 1M load); a one-entry recording a dozen.
FREEZE_AFTER = 10_000


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic collector (process-wide) for the block. Nested pauses, and pauses
    from other threads, are counted: the last one out restores it as the first one found it."""
    global _pauses, _was_enabled, _count_at_pause
    with _lock:
        if _pauses == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
            _count_at_pause = gc.get_count()[0]
        _pauses += 1
    try:
        yield
    finally:
        with _lock:
            _pauses -= 1
            if _pauses == 0:
                # Allocations of tracked objects less deallocations, while no collection ran.
                if gc.get_count()[0] - _count_at_pause >= FREEZE_AFTER:
                    gc.freeze()
                if _was_enabled:
                    gc.enable()
