"""The per-process, append-only, buffered writer of event files.

Logging calls put events on an in-memory queue (a deque: appends are atomic
and cheap). A background thread encodes and appends them to the process's own
file at least every second; ``flush()`` does the same on demand (``end_run``,
interpreter exit, a large buffer). An I/O error never raises into the training
script: it warns, keeps the events (the exact unwritten bytes), and retries on
the next flush. Nothing is ever rewritten: the file is only appended to.

A closed file (its run ended) stays known to the flusher: events logged later
through a kept run handle are appended at the next timer flush and at exit,
and the file descriptor is closed again after each such write.

Forked children: ``os.register_at_fork`` hooks take this module's registry
lock around a fork (so no thread of the parent holds it at fork time) and give
the child fresh locks and no files: a child never appends to its parent's
files (``fluent`` gives it its own). A child's own flusher thread starts with
its first file; a child that ends with ``os._exit`` loses at most what was
logged after the last timer flush (under FLUSH_INTERVAL).
"""

from __future__ import annotations

import atexit
import os
import signal
import threading
import time
import warnings
import weakref
from collections import deque
from typing import Any

from . import env, events
from .storage import Handle, Storage

FLUSH_INTERVAL = 0.5  # seconds; the contract is "at least every second"
LARGE_BUFFER = 50_000  # queued events that wake the flusher early
COALESCE_SECONDS = 0.001  # metric values of one step this close share one event


class WriteWarning(UserWarning):
    """An events file could not be written; the events are kept and retried."""


class EventFile:
    """The append-only events file of this process for one folder of the store."""

    def __init__(self, storage: Storage, folder: str, writer_id: str) -> None:
        self.storage = storage
        self.folder = folder
        self.writer_id = writer_id
        self.rel = f"{folder}/events-{writer_id}.jsonl"
        self.queue: deque[Any] = deque()
        self._pending = b""  # encoded bytes not yet written (after an error)
        self._handle: Handle | None = None
        # object storage: upload a segment every ``_interval`` seconds or ``_max_bytes``
        self._interval = storage.flush_seconds
        self._max_bytes = storage.segment_bytes or 0
        self._last_write = time.monotonic()
        self._lock = threading.Lock()
        self._failed = False
        self._header = b""  # the open line (and run.start/resume) written first
        self._warned_encode = False
        self.closed = False
        _register(self)

    # the hot path: callers append to self.queue directly -------------------
    def add(self, event: dict[str, Any]) -> None:
        """Queue one event (a dict with ``type`` and ``time``)."""
        queue = self.queue
        queue.append(event)
        if len(queue) > LARGE_BUFFER:
            wake_flusher()

    def flush(self, timed: bool = False) -> bool:
        """Append everything queued; True when nothing is left unwritten.

        ``timed`` (the background timer): on object storage the encoded events
        wait for the flush interval or a full segment before they are uploaded.
        """
        with _Critical(), self._lock:
            return self._flush_locked(timed)

    def _flush_locked(self, timed: bool = False) -> bool:
        queue = self.queue
        n = len(queue)
        if n == 0 and not self._pending:
            return True
        parts = [self._pending] if self._pending else []
        popleft = queue.popleft
        batch = [popleft() for _ in range(n)]
        try:
            encoded = encode_items(batch)
        except Exception:  # one unencodable event must not cost the others
            encoded = self._encode_each(batch)
        if self._handle is not None and self._handle.lost():
            # the file was deleted (the store folder removed): start it again, with the
            # lines that say what it is (the storage puts the store's marker back)
            self._handle.close()
            self._handle = self.storage.open_append(self.rel)
            parts.insert(0, self._header)
        if self._handle is None:
            self._handle = self.storage.open_append(self.rel)
            opening = events.encode(
                {"type": events.OPEN, "format": events.FORMAT_VERSION,
                 "writer": self.writer_id, "time": time.time()}
            )
            self._header = opening
            if batch and type(batch[0]) is dict and batch[0].get("type") in _HEADER_EVENTS:
                try:
                    self._header += events.encode(batch[0])
                except Exception:  # noqa: S110 - it is left out of the batch as well
                    pass
            parts.insert(0, opening)
        parts += encoded
        data = b"".join(parts)
        if (timed and self._interval is not None and len(data) < self._max_bytes
                and time.monotonic() - self._last_write < self._interval):
            self._pending = data  # staged: uploaded as one segment when due
            return True
        self._last_write = time.monotonic()
        written = 0
        try:
            written = self._handle.write(data)
        except OSError as exc:
            self._handle.reset()
            if not self._failed:
                warnings.warn(
                    f"trackreport could not write {self.rel}: {exc}; "
                    "the events are kept and will be retried",
                    WriteWarning,
                    stacklevel=2,
                )
            self._failed = True
        self._pending = data[written:]
        if not self._pending and self._failed:
            self._failed = False
        if self.closed and not self._pending:  # a late write after close: release the fd
            self._handle.close()
        return not self._pending

    def _encode_each(self, batch: list[Any]) -> list[bytes]:
        """Encode events one by one, leaving out (with one warning) those that cannot be."""
        out = []
        for item in batch:
            try:
                out += encode_items([item])
            except Exception as exc:
                if not self._warned_encode:
                    self._warned_encode = True
                    warnings.warn(
                        f"trackreport could not encode a {_describe(item)} event for "
                        f"{self.rel} and left it out ({exc}); the other events are kept",
                        WriteWarning, stacklevel=3)
        return out

    def reopen(self) -> None:
        """Use this process's own (closed) file again, e.g. when it resumes the run."""
        with self._lock:
            self.closed = False
        _register(self)

    def close(self) -> bool:
        """Flush and close the file; True when everything was written.

        Events added later are still written, by the next flush (timer, exit).
        """
        with _Critical(), self._lock:
            ok = self._flush_locked()
            if ok and self._handle is not None:
                self._handle.close()
            self.closed = ok
        return ok


_HEADER_EVENTS = frozenset({events.RUN_START, events.RUN_RESUME})


def _describe(item: Any) -> str:
    """An event's type and key (for a warning)."""
    if type(item) is tuple:
        return f"metrics {item[2]!r}"
    kind = item.get("type") if isinstance(item, dict) else None
    for field in ("params", "tags", "values"):
        inner = item.get(field) if isinstance(item, dict) else None
        if isinstance(inner, dict) and inner:
            return f"{kind} {', '.join(map(repr, inner))}"
    path = item.get("path") if isinstance(item, dict) else None
    return f"{kind} {path!r}" if path is not None else str(kind)


def encode_items(items: list[Any]) -> list[bytes]:
    """Encode queued events: dicts as they are, metric tuples ``(time, step, key, value)``.

    Consecutive single metric values of one step, logged within COALESCE_SECONDS
    of each other (``for k in keys: log_metric(k, v, step)``), become one
    ``metrics`` event with the first one's time: fewer, shorter lines to write
    and to read back.
    """
    encode, encode_metric = events.encode, events.encode_metric
    out = []
    n = len(items)
    i = 0
    while i < n:
        item = items[i]
        if type(item) is not tuple:
            out.append(encode(item))
            i += 1
            continue
        t0, step, key, value = item
        group: dict[str, float] | None = None
        j = i + 1
        while j < n:
            nxt = items[j]
            if type(nxt) is not tuple or nxt[1] != step or nxt[0] - t0 > COALESCE_SECONDS:
                break
            if group is None:
                group = {key: value}
            if nxt[2] in group:
                break
            group[nxt[2]] = nxt[3]
            j += 1
        if group is None:
            out.append(encode_metric(t0, step, key, value))
        else:
            out.append(encode({"type": events.METRICS, "time": t0, "step": step,
                               "values": group}))
        i = j
    return out


# signals arriving while the main thread flushes -----------------------------------------

_main_depth = [0]
_deferred: list[Any] = []


class _Critical:
    """Marks a flush in the main thread, where Python runs signal handlers.

    trackreport's SIGINT/SIGTERM handlers defer themselves (``defer_signal``)
    while it is active, so a KeyboardInterrupt cannot drop events taken off the
    queue and the SIGTERM handler (which flushes) cannot deadlock on the lock.
    """

    def __enter__(self) -> None:
        if threading.current_thread() is threading.main_thread():
            self.main = True
            _main_depth[0] += 1
        else:
            self.main = False

    def __exit__(self, *exc: object) -> None:
        if self.main:
            _main_depth[0] -= 1
            if not _main_depth[0] and _deferred:
                todo = list(_deferred)
                _deferred.clear()
                for fn in todo:
                    fn()


def defer_signal(fn: Any) -> bool:
    """For a signal handler: True when the main thread is flushing and ``fn`` runs after."""
    if _main_depth[0]:
        _deferred.append(fn)
        return True
    return False


# the process-wide flusher ----------------------------------------------------

_files: weakref.WeakSet[EventFile] = weakref.WeakSet()
# Reentrant: a signal handler that flushes may interrupt the main thread while
# it holds this lock (starting the flusher thread, listing files).
_registry_lock = threading.RLock()
_wake_event = threading.Event()
_thread: threading.Thread | None = None
_thread_pid: int | None = None


def _register(file: EventFile) -> None:
    with _registry_lock:
        _files.add(file)
    _ensure_thread()


def wake_flusher() -> None:
    """Ask the background flusher to flush now (a large buffer is waiting)."""
    _wake_event.set()


def flush_all(timed: bool = False) -> None:
    """Flush every events file of this process that has something to write."""
    with _registry_lock:
        files = list(_files)
    for file in files:
        if file.queue or file._pending:
            file.flush(timed)


def _loop() -> None:
    while True:
        _wake_event.wait(env.flush_seconds(FLUSH_INTERVAL))
        _wake_event.clear()
        try:
            flush_all(timed=True)
        except Exception as exc:  # pragma: no cover - never let the thread die
            warnings.warn(f"trackreport flush failed: {exc!r}", WriteWarning, stacklevel=1)


def _ensure_thread() -> None:
    global _thread, _thread_pid
    if _thread is not None and _thread_pid == os.getpid() and _thread.is_alive():
        return
    with _registry_lock:
        if _thread is not None and _thread_pid == os.getpid() and _thread.is_alive():
            return
        _thread = threading.Thread(target=_loop, name="trackreport-flush", daemon=True)
        _thread_pid = os.getpid()
        _start_without_signals(_thread)


def _start_without_signals(thread: threading.Thread) -> None:
    """Start ``thread`` with SIGINT and SIGTERM blocked from its first instruction.

    The kernel then delivers them to the main thread, where Python runs their
    handlers. Delivered to this thread instead, a SIGTERM would leave a main
    thread blocked in a lock (a Pool worker that ``terminate()`` stops) waiting
    forever.
    """
    if not hasattr(signal, "pthread_sigmask"):  # pragma: no cover - not POSIX
        thread.start()
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        thread.start()  # the new thread inherits the blocked mask
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _before_fork() -> None:
    _registry_lock.acquire()


def _after_fork_in_parent() -> None:
    _registry_lock.release()


def _after_fork_in_child() -> None:
    """A forked child must never append to its parent's files: forget them."""
    global _thread, _registry_lock, _wake_event
    _registry_lock = threading.RLock()  # the parent's is held (by _before_fork)
    _wake_event = threading.Event()
    _main_depth[0] = 0
    _deferred.clear()
    for file in list(_files):
        file.queue.clear()
        file._pending = b""
        file._handle = None
        file._lock = threading.Lock()
        file.closed = True
    _files.clear()
    _thread = None


atexit.register(flush_all)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=_before_fork, after_in_parent=_after_fork_in_parent,
                        after_in_child=_after_fork_in_child)
