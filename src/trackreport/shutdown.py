"""Run trackreport's exit hooks before the interpreter's thread shutdown (object stores).

Uploads go through asyncio, whose thread pool (DNS lookups) refuses work once
shutdown begins, before ``atexit`` runs: the same hooks (end the active runs,
flush) are registered to run first; at ``atexit`` they then find nothing left
to do. Local stores never need this.
"""

from __future__ import annotations

import threading

_registered = [False]


def end_runs_before_thread_shutdown() -> None:
    """Register the exit hooks to run before thread shutdown (once per process)."""
    register = getattr(threading, "_register_atexit", None)
    if register is None or _registered[0]:
        return
    from . import fluent, segmentwriter, writer

    _registered[0] = True
    try:  # the last registered runs first: end the runs, flush what is left, close spools
        register(segmentwriter.release_all)
        register(writer.flush_all)
        register(fluent._at_exit)
    except RuntimeError:  # pragma: no cover - already shutting down
        pass
