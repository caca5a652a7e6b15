"""Pausing Python's cyclic garbage collector around bulk work.

Booking and decoding allocate many small objects that live as long as the ledger is open (a
tail of a million entries holds millions). The cyclic collector rescans every tracked object
each time the heap has grown by a quarter, which doubled the cost of recording a 10,000-entry
journal on a 30,000-entry ledger (``benchmarks``). What these paths allocate is freed by
reference counting (no cycles), so they run with the collector paused; it resumes afterwards.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic collector for the block (nested use leaves it to the outermost)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
