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
import time
import warnings
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any

from ..errors import BuildError

MIN_RUNS = 48
"""A store of fewer runs is built without workers."""

PARENT_CHECK_SECONDS = 0.25
"""How often a worker checks that the build process is still there."""

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
    """Forked processes that call methods of ``target`` (as it was at the fork).

    A ``concurrent.futures`` process pool: its manager thread waits for results
    without polling (``multiprocessing.Pool``'s worker handler spins while a
    result waits in the pipe, a CPU's worth of a big build). A worker that
    dies breaks the pool: its calls and the ones not yet made come back as
    failures, which the builder then makes itself.
    """

    def __init__(self, target: Any, count: int) -> None:
        global _TARGET
        _TARGET = target  # kept until close
        self._pool = ProcessPoolExecutor(count, mp_context=multiprocessing.get_context("fork"),
                                         initializer=_end_with, initargs=(os.getpid(),))

    def map(self, method: str, items: list[Any], chunksize: int = 1) -> Iterator[Any]:
        """``target.method(item)`` for each item, in order; a failure comes back as a value.

        Every call is queued at once (the workers start on them at once); the
        results are taken as the iterator reaches them.
        """
        results = self._pool.map(_call, [(method, item) for item in items],
                                 chunksize=chunksize)
        return _failures_as_values(results, len(items))

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, kind: Any, *_: Any) -> None:
        self.close(at_once=kind is not None)

    def close(self, at_once: bool = False) -> None:
        """Stop the workers once their calls are done; ``at_once`` (the build failed or
        was stopped): kill them, with the calls they are making."""
        global _TARGET
        if at_once:
            processes = list((getattr(self._pool, "_processes", None) or {}).values())
            self._pool.shutdown(wait=False, cancel_futures=True)
            for process in processes:
                process.kill()
            for process in processes:
                process.join()
        self._pool.shutdown(wait=True, cancel_futures=True)
        _TARGET = None


def _end_with(parent: int) -> None:
    """In a worker: exit once the build process is gone (killed, say).

    A pool's worker otherwise waits for work for ever: the queue it reads
    from stays open in the worker itself.
    """
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="trackreport-parent-watch", daemon=True).start()


def _failures_as_values(results: Iterator[Any], count: int) -> Iterator[Any]:
    """``results``, then (should the pool break) a failure for each call left."""
    given = 0
    try:
        for result in results:
            given += 1
            yield result
    except BrokenProcessPool as exc:
        failure = RuntimeError(f"a build worker stopped: {exc}")
        for _ in range(count - given):
            yield failure


def replay_warnings(item: Prefetched) -> None:
    """Issue the warnings a worker caught, as if the builder had read the run."""
    for message, category, filename, lineno in item.warnings:
        warnings.warn_explicit(message, category, filename, lineno)
