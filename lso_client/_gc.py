"""Pausing the cyclic garbage collector while a response is validated into models.

Validating a page of orders creates hundreds of thousands of containers at once;
each allocation burst triggers collections that rescan every live model already
held, which costs more than the validation itself. None of these objects form
cycles, so nothing is lost by not collecting during the few milliseconds a page
takes. The pause is process-wide (CPython has one collector), so it is kept as
narrow as possible: only around one `validate_json` call, reference-counted
across threads so that the collector comes back when the last thread leaves, and
only if it was enabled when the first one entered.

Even after the pause, the new models would be rescanned as they age through the
collector's generations, and their number alone would trigger a full collection
of the process about once per page. So when the pause ends they are moved
straight to the oldest generation (`gc.freeze()` then `gc.unfreeze()`, which
moves lists, not objects); they leave it by reference counting when the caller
drops them. Young garbage of the rest of the process is collected when the pause
begins (a collection of the two young generations, a fraction of a millisecond),
so only what other threads leave behind during the pause itself skips ahead; it
is still collected, by the next full collection. A process that froze objects
itself (`gc.freeze()` before forking) keeps its frozen set: then the models
age normally.

Set `LSO_CLIENT_GC_PAUSE=0` to turn all of this off.
"""

from __future__ import annotations

import gc
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["ENABLED", "paused_collector"]

ENABLED = os.environ.get("LSO_CLIENT_GC_PAUSE", "1").strip().lower() not in ("0", "false", "no")

_lock = threading.Lock()
_depth = 0
_restore = False


@contextmanager
def paused_collector() -> Iterator[None]:
    global _depth, _restore
    if not ENABLED:
        yield
        return
    if gc.isenabled():
        # Outside the lock: finalizers run here and may parse responses themselves.
        gc.collect(1)
    entered = False
    try:
        with _lock:
            if _depth == 0:
                _restore = gc.isenabled()
                if _restore:
                    gc.disable()
            _depth += 1
            entered = True
        yield
    finally:
        if entered:
            with _lock:
                _depth -= 1
                if _depth == 0 and _restore:
                    if gc.get_freeze_count() == 0:
                        gc.freeze()
                        gc.unfreeze()
                    gc.enable()
