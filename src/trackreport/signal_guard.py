"""Make sure trackreport's SIGTERM handler runs, even when the signal comes at a bad moment.

CPython runs a Python signal handler in the main thread between bytecodes. A
signal that arrives just after the interpreter last checked, and just before
the main thread blocks in a system call (a Pool worker waiting for the queue's
lock, ``time.sleep``, ``lock.acquire``), sets a flag nobody looks at until the
call returns, which for a Pool worker that ``terminate()`` stops is never:
the process that the default action would have killed at once waits forever.

The guard closes that window. ``signal.set_wakeup_fd`` makes CPython's C-level
handler write the signal number to a pipe; a daemon thread (SIGINT and SIGTERM
blocked in it, so the kernel never picks it for them) reads the pipe, and when
a SIGTERM came and the handler has not started within ``GRACE`` seconds, it
sends SIGTERM again to the main thread alone (``pthread_kill``): the blocking
call fails with EINTR and the interpreter runs the handler.

The guard stays out of the way: it is installed only while trackreport's own
handler is the SIGTERM handler and no one else (asyncio, a user) owns the
wakeup fd, it never kicks a handler someone installed in place of ours, and a
forked child gets its own pipe and thread, so parent and child never read each
other's signals.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from typing import Any

GRACE = 0.3  # seconds the main thread gets to run the handler by itself
_KICKS = 20  # then it is sent SIGTERM again, this many times at most

_handler: list[Callable[..., Any]] = []  # the handler being guarded
_fds: list[int] = []  # [read end, write end] of this process's pipe
_started = threading.Event()  # set when the handler starts running
_pid: list[int] = []


def install(handler: Callable[..., Any]) -> None:
    """Guard ``handler`` (already set for SIGTERM); call from the main thread."""
    if not hasattr(signal, "pthread_kill") or not hasattr(signal, "pthread_sigmask"):
        return  # pragma: no cover - not POSIX
    if _fds and _pid == [os.getpid()]:
        return
    _handler[:] = [handler]
    _start()


def handler_started() -> None:
    """Tell the guard the handler runs (call first thing in the SIGTERM handler)."""
    _started.set()


def after_fork_in_child() -> None:
    """In a forked child: a fresh pipe and thread, if the parent had a guard."""
    global _started
    if not _fds or _pid == [os.getpid()]:
        return
    inherited = list(_fds)
    _fds.clear()
    _started = threading.Event()
    try:
        current = signal.set_wakeup_fd(-1)
    except ValueError:  # pragma: no cover - not the main thread
        return
    for fd in inherited:
        try:
            os.close(fd)
        except OSError:  # pragma: no cover
            pass
    if current != inherited[1]:  # someone else's: leave it as it was
        signal.set_wakeup_fd(current)
        return
    _start()


def _start() -> None:
    r, w = os.pipe()
    os.set_blocking(w, False)
    try:
        previous = signal.set_wakeup_fd(w, warn_on_full_buffer=False)
    except ValueError:  # not the main thread
        os.close(r)
        os.close(w)
        return
    if previous != -1:  # the wakeup fd belongs to someone else (asyncio, the user)
        signal.set_wakeup_fd(previous)
        os.close(r)
        os.close(w)
        return
    _fds[:] = [r, w]
    _pid[:] = [os.getpid()]
    main = threading.main_thread().ident
    thread = threading.Thread(target=_watch, args=(r, main, _started),
                              name="trackreport-signals", daemon=True)
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        thread.start()  # inherits the blocked mask
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _watch(fd: int, main: int | None, started: threading.Event) -> None:
    while True:
        try:
            data = os.read(fd, 512)
        except OSError:
            return
        if not data:
            return
        if signal.SIGTERM not in data or main is None:
            continue
        for _ in range(_KICKS):
            if started.wait(GRACE):
                break
            if not _handler or signal.getsignal(signal.SIGTERM) is not _handler[0]:
                break  # someone else's handler now: not ours to repeat
            try:
                signal.pthread_kill(main, signal.SIGTERM)
            except (OSError, ValueError):  # pragma: no cover - the main thread ended
                return
