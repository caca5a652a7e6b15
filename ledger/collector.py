"""Pausing Python's cyclic garbage collector around bulk work.

Booking and decoding allocate many small objects that live as long as the ledger is open (a
tail of a million entries holds millions). The cyclic collector rescans every tracked object
each time the heap has grown by a quarter, which doubled the cost of recording a 10,000-entry
journal on a 30,000-entry ledger (``benchmarks``). What these paths allocate is freed by
reference counting (no cycles), so they run with the collector paused; it resumes afterwards.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_pauses = 0
_was_enabled = False


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic collector (process-wide) for the block. Nested pauses, and pauses
    from other threads, are counted: the last one out restores it as the first one found it."""
    global _pauses, _was_enabled
    with _lock:
        if _pauses == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _lock:
            _pauses -= 1
            if _pauses == 0 and _was_enabled:
                gc.enable()
