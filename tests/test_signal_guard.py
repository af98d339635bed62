"""A SIGTERM that lands while the main thread blocks still runs trackreport's handler.

CPython runs a Python signal handler only when the main thread comes back to
bytecode. The race the guard closes (the signal arriving just before the main
thread blocks in a lock) is reproduced exactly by delivering SIGTERM to another
thread while the main thread waits on a lock nobody releases: the C handler
runs in that thread, and without the guard the main thread would wait forever
(the stdlib's own behaviour for any Python-level SIGTERM handler).
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest

import trackreport as tr

try:
    from . import proc_helpers as h
except ImportError:
    import proc_helpers as h


@pytest.fixture
def store_dir(tmp_path: Path) -> Path:
    return tmp_path / "store"


pytestmark = pytest.mark.skipif(not hasattr(signal, "pthread_kill"), reason="POSIX only")

# Sends SIGTERM to a helper thread (SIGTERM unblocked in it) while the main
# thread blocks in a lock that is never released.
BLOCKED_MAIN = """
import threading
def sigterm_to_this_thread():
    time.sleep(0.2)
    signal.pthread_kill(threading.get_ident(), signal.SIGTERM)
def block_forever():
    threading.Thread(target=sigterm_to_this_thread, daemon=True).start()
    lock = threading.Lock()
    lock.acquire()
    lock.acquire()  # never returns by itself
"""


def test_a_sigterm_the_main_thread_misses_still_ends_the_run_killed(store_dir: Path) -> None:
    body = BLOCKED_MAIN + """
run = tr.start_run(name="blocked")
tr.log_metric("loss", 0.5)
print(run.id, flush=True)
block_forever()
"""
    proc = h.spawn(body, store_dir)
    rid = proc.read_line()
    try:
        rc = proc.proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("the process ignored SIGTERM while its main thread was blocked")
    assert rc == -signal.SIGTERM, proc.stderr()
    run = tr.get_run(rid, store=store_dir)
    assert run.status == "KILLED"
    assert run.metrics["loss"].values == [0.5]


def test_a_forked_child_gets_its_own_guard_and_the_parent_lives_on(store_dir: Path) -> None:
    body = BLOCKED_MAIN + """
run = tr.start_run(name="parent")
print(run.id, flush=True)
pid = os.fork()
if pid == 0:
    tr.log_metric("child", 1.0)
    block_forever()
    os._exit(3)
_, status = os.waitpid(pid, 0)
time.sleep(1.0)  # a guard reading the child's signals would kick this thread by now
print(status, flush=True)
tr.log_metric("parent", 2.0)
tr.end_run()
"""
    proc = h.spawn(body, store_dir)
    rid = proc.read_line()
    status = int(proc.read_line(timeout=30))
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGTERM
    rc, _, err = proc.finish()
    assert rc == 0, err
    run = tr.get_run(rid, store=store_dir)
    assert run.status == "FINISHED"
    assert run.metrics["child"].values == [1.0]
    assert run.metrics["parent"].values == [2.0]


def test_someone_elses_wakeup_fd_and_sigterm_handler_are_left_alone(store_dir: Path) -> None:
    body = """
import threading
r, w = os.pipe()
os.set_blocking(w, False)
signal.set_wakeup_fd(w)
run = tr.start_run(name="asyncio-like")
print(signal.set_wakeup_fd(-1) == w, flush=True)   # still theirs
calls = []
signal.signal(signal.SIGTERM, lambda *a: calls.append(1))
signal.set_wakeup_fd(w)
def poke():
    time.sleep(0.1)
    signal.pthread_kill(threading.get_ident(), signal.SIGTERM)
threading.Thread(target=poke).start()
lock = threading.Lock()
lock.acquire()
lock.acquire(timeout=2.0)   # the user's handler runs once, when this returns
time.sleep(0.1)
print(len(calls), flush=True)
tr.end_run()
"""
    proc = h.spawn(body, store_dir)
    assert proc.read_line() == "True"
    assert proc.read_line() == "1"
    rc, _, err = proc.finish()
    assert rc == 0, err


POOL_TERMINATED = """
import multiprocessing as mp
def work(job):
    for s in range(50):
        tr.log_metric(f"w{job[0]}_{job[1]}", float(s), step=s)
    return job
with tr.start_run(name="pool") as run:
    for r in range(int(sys.argv[2])):
        with mp.get_context("fork").Pool(4) as pool:
            pool.map(work, [(r, i) for i in range(4)], chunksize=1)
print(run.id, flush=True)
"""


def test_pools_terminated_right_after_their_work_never_hang(store_dir: Path) -> None:
    """Many short pools, each stopped by terminate() as its workers go back to wait."""
    proc = h.spawn(POOL_TERMINATED, store_dir, "25")
    try:
        rid = proc.read_line(timeout=120)
    except Exception:
        proc.kill()
        raise
    rc, _, err = proc.finish()
    assert rc == 0, err
    run = tr.get_run(rid, store=store_dir)
    assert run.status == "FINISHED"
    assert len(run.metrics) == 25 * 4
    for metric in run.metrics.values():
        assert metric.values == [float(s) for s in range(50)]
