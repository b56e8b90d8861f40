"""Automatic garbage collection held off during one bulk step (building or storing a page
of thousands of rows), on the till and on the server.

A page of 5,000 rows makes some 10,000 objects the collector tracks and keeps them all
until the step ends, so the collections their allocation sets off free nothing, yet each
one that reaches the old generation walks the process's whole heap: over the 100k
catalog's pages that was half the server's CPU per page (0.9 s of 1.8 s) and more of the
till's time than decoding (``benches/catalog_download.py``). Reference counting still
frees everything without cycles meanwhile.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_LOCK = threading.Lock()
_pausing = 0  # bulk steps under way now, in any thread
_was_enabled = False


@contextmanager
def collector_paused() -> Iterator[None]:
    """No automatic collection from the first bulk step begun to the last one done (a
    counter: several threads run steps at once), then the collector back as it was; what
    is garbage by then is collected at the next allocations."""
    global _pausing, _was_enabled
    with _LOCK:
        if _pausing == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _pausing += 1
    try:
        yield
    finally:
        with _LOCK:
            _pausing -= 1
            if _pausing == 0 and _was_enabled:
                gc.enable()
