"""Read and render run pages in worker processes while the build writes them in order.

A big build spends most of its time on work that one run needs alone: listing
and reading its events files, folding them, its summary, its page and its data
script. With ``TRACKREPORT_BUILD_WORKERS`` (default: up to 2, the CPUs there
are) forked workers do that work ahead of the builder, in the builder's order; the builder
takes each result when it reaches the run and keeps it only when it is
exactly what it would have made itself (same experiment slug, no child runs
to list); anything else, a worker's failure included, is made again in the
builder. So the site is byte for byte the same as a build without workers.

Workers are used only where ``fork`` is, for stores with enough runs to pay
for them, and never from a process running other threads (``trackreport serve``
builds without them), except fsspec's event loop, which a store on object
storage starts and which fsspec makes anew in a forked child.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..errors import BuildError

MIN_RUNS = 48
"""A store of fewer runs is built without workers."""

_TARGET: Any = None  # the builder, set before the workers fork


@dataclass
class Prefetched:
    """What a worker made of one run (its page, data script and artifacts are written)."""

    run_id: str
    summary: Any
    models: list[Any]
    slug: str  # the experiment slug the page links to
    parent_exists: bool
    run_models: Any
    written: list[str] = field(default_factory=list)  # the site files it wrote
    last_event: float | None = None  # the run's latest event time
    requests: int = 0  # requests and downloads the worker sent to object storage for it
    fetched: int = 0
    warnings: list[tuple[str, type[Warning], str, int]] = field(default_factory=list)


def worker_count(runs: int) -> int:
    """How many worker processes the build of a store of ``runs`` runs uses (0: none)."""
    value = os.environ.get("TRACKREPORT_BUILD_WORKERS", "").strip()
    if value:
        try:
            wanted = int(value)
        except ValueError:
            raise BuildError(f"TRACKREPORT_BUILD_WORKERS must be a whole number, got "
                             f"{value!r}") from None
        if wanted < 0:
            raise BuildError(f"TRACKREPORT_BUILD_WORKERS must be 0 or more, got {wanted}")
    else:
        wanted = min(2, os.cpu_count() or 1)
        if runs < MIN_RUNS:
            return 0
    if wanted < 2 or runs == 0:
        return 0
    if "fork" not in multiprocessing.get_all_start_methods():
        return 0
    if _other_threads():  # forking a threaded process is unsafe
        return 0
    return wanted


_FORK_SAFE = re.compile(r"fsspecIO|asyncio_\d+")
"""Threads a fork may leave behind: fsspec's event loop, which fsspec makes anew in a
forked child (a store on object storage opens its own connection there), and the
idle threads that loop resolved host names with."""


def _other_threads() -> list[threading.Thread]:
    """Threads besides this one, except those a fork may leave behind."""
    current = threading.current_thread()
    return [t for t in threading.enumerate()
            if t is not current and not _FORK_SAFE.fullmatch(t.name)]


def _call(task: tuple[str, Any]) -> Any:
    method, argument = task
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = getattr(_TARGET, method)(argument)
        if isinstance(result, Prefetched):
            result.warnings = [(str(w.message), w.category, w.filename, w.lineno)
                               for w in caught]
        return result
    except Exception as exc:  # the builder makes the run again and raises itself
        return RuntimeError(f"{type(exc).__name__}: {exc}")


class Workers:
    """Forked processes that call methods of ``target`` (as it was at the fork)."""

    def __init__(self, target: Any, count: int) -> None:
        global _TARGET
        _TARGET = target  # kept until close: a worker that dies is forked again
        self._pool = multiprocessing.get_context("fork").Pool(count)

    def map_async(self, method: str, items: list[Any], chunksize: int = 8) -> Any:
        """``target.method(item)`` for each item; ``.get()`` gives the results in order."""
        return self._pool.map_async(_call, [(method, item) for item in items],
                                    chunksize=chunksize)

    def imap(self, method: str, items: list[Any]) -> Iterator[Any]:
        """``target.method(item)`` for each item, in order; a failure comes back as a value."""
        return self._pool.imap(_call, ((method, item) for item in items), chunksize=2)

    def close(self) -> None:
        """Stop the workers."""
        global _TARGET
        self._pool.terminate()
        self._pool.join()
        _TARGET = None


def replay_warnings(item: Prefetched) -> None:
    """Issue the warnings a worker caught, as if the builder had read the run."""
    for message, category, filename, lineno in item.warnings:
        warnings.warn_explicit(message, category, filename, lineno)
