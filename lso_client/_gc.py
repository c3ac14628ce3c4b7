"""Pausing the cyclic garbage collector while a response is validated into models.

Validating a page of orders creates hundreds of thousands of containers at once;
each allocation burst triggers collections that rescan every live model already
held, which costs more than the validation itself. None of these objects form
cycles, so nothing is lost by not collecting during the few milliseconds a page
takes. The pause is process-wide (CPython has one collector), so it is kept as
narrow as possible: only around one `validate_json` call, reference-counted
across threads so that the collector comes back when the last thread leaves, and
only if it was enabled when the first one entered.

Set `LSO_CLIENT_GC_PAUSE=0` to turn it off.
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
    with _lock:
        if _depth == 0:
            _restore = gc.isenabled()
            if _restore:
                gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _restore:
                gc.enable()
