"""Forked workers, run handles used after their run ended, images across processes, parent ids.

Everything about processes runs in real child processes (tests/proc_helpers.py),
each with a deadline, so a hang fails the test instead of stalling the suite.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import trackreport as tr
from trackreport import writer
from trackreport.artifacts import image_folder

try:
    from . import proc_helpers as h
except ImportError:  # tests/ is not a package: pytest put tests/ itself on sys.path
    import proc_helpers as h

from helpers import tree_digest

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


@pytest.fixture
def store_dir(tmp_path: Path) -> Path:
    return tmp_path / "store"


def _child_files(store: Path, rid: str, parent_pid: int) -> list[list[dict]]:
    """The events of every file of the run not written by ``parent_pid``."""
    by_path = h.check_store(store)
    return [by_path[p] for p in h.run_files(store, rid)
            if int(h.writer_of(p).split("-")[0]) != parent_pid]


def _assert_children_never_start_or_end(store: Path, rid: str, parent_pid: int) -> None:
    for evs in _child_files(store, rid, parent_pid):
        kinds = {e["type"] for e in evs}
        assert not kinds & {"run.start", "run.resume", "run.end"}, kinds


# 2. forked workers --------------------------------------------------------------------

POOL_BODY = """
import json, multiprocessing as mp
N = int(sys.argv[2])
HOW = sys.argv[3]
def work(i):
    for s in range(N):
        tr.log_metric(f"w{i}", float(s), step=s)
    return os.getpid()
if __name__ == "__main__":
    ctx = mp.get_context("fork")
    with tr.start_run(name="pool") as run:
        if HOW == "context-manager":      # Pool.__exit__ calls terminate(): SIGTERM to workers
            with ctx.Pool(6) as pool:
                pids = pool.map(work, range(6), chunksize=1)
        else:                             # close + join: workers leave through os._exit
            pool = ctx.Pool(6)
            pids = pool.map(work, range(6), chunksize=1)
            pool.close()
            pool.join()
    print(json.dumps({"rid": run.id, "parent": os.getpid(), "workers": sorted(set(pids))}))
"""


@pytest.mark.parametrize("how", ["close-join", "context-manager"])
def test_pool_workers_deliver_every_value_and_never_end_the_run(how: str, store_dir: Path) -> None:
    n = 300
    result = h.run_child(POOL_BODY, store_dir, str(n), how, timeout=90)
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    run = tr.get_run(info["rid"], store=store_dir)
    assert run.status == "FINISHED" and run.error is None
    assert sorted(run.metrics) == [f"w{i}" for i in range(6)]
    for i in range(6):
        assert run.metrics[f"w{i}"].steps == list(range(n)), f"worker {i} lost values"
        assert run.metrics[f"w{i}"].values == [float(s) for s in range(n)]
    _assert_children_never_start_or_end(store_dir, info["rid"], info["parent"])


PROCESS_BODY = """
import json, multiprocessing as mp
def work(i):
    for s in range(50):
        tr.log_metric("p", float(s + 100 * i), step=s + 100 * i)
    tr.set_tag(f"worker{i}", "done")
if __name__ == "__main__":
    ctx = mp.get_context("fork")
    with tr.start_run(name="procs") as run:
        procs = [ctx.Process(target=work, args=(i,)) for i in range(3)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(30)
        codes = [p.exitcode for p in procs]
    print(json.dumps({"rid": run.id, "parent": os.getpid(), "codes": codes}))
"""


def test_multiprocessing_process_fork_delivers_its_values(store_dir: Path) -> None:
    result = h.run_child(PROCESS_BODY, store_dir, timeout=60)
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["codes"] == [0, 0, 0]
    run = tr.get_run(info["rid"], store=store_dir)
    assert run.status == "FINISHED"
    assert run.metrics["p"].steps == [s + 100 * i for i in range(3) for s in range(50)]
    assert run.tags == {"worker0": "done", "worker1": "done", "worker2": "done"}
    _assert_children_never_start_or_end(store_dir, info["rid"], info["parent"])


PLAIN_FORK_BODY = """
import json
HOW = sys.argv[2]
with tr.start_run(name="plain") as run:
    pid = os.fork()
    if pid == 0:
        for s in range(30):
            tr.log_metric("child", float(s))
        if HOW == "os-exit-after-a-timer-tick":
            time.sleep(1.5)              # the child's own timer writes within a second
            os._exit(0)
        if HOW == "exception":
            raise ValueError("the child failed")   # leaves the parent's with block in the child
        sys.exit(0)                      # normal exit: the with block, then atexit
    _, status = os.waitpid(pid, 0)
    tr.log_metric("parent", 1.0)
print(json.dumps({"rid": run.id, "parent": os.getpid(), "status": status}))
"""


@pytest.mark.parametrize("how", ["os-exit-after-a-timer-tick", "exception", "sys-exit"])
def test_plain_fork_child(how: str, store_dir: Path) -> None:
    result = h.run_child(PLAIN_FORK_BODY, store_dir, how, timeout=60)
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    run = tr.get_run(info["rid"], store=store_dir)
    assert run.status == "FINISHED" and run.error is None, (run.status, run.error)
    assert run.metrics["child"].values == [float(s) for s in range(30)]
    assert run.metrics["parent"].values == [1.0]
    _assert_children_never_start_or_end(store_dir, info["rid"], info["parent"])


SIGTERM_CHILD_BODY = """
with tr.start_run(name="parent-lives") as run:
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        tr.log_metric("child", 1.0)
        os.write(w, b"x")
        time.sleep(60)
        os._exit(3)
    os.read(r, 1)
    print(pid, flush=True)
    print(run.id, flush=True)
    _, status = os.waitpid(pid, 0)
    print(status, flush=True)
"""


def test_sigterm_to_a_forked_child_flushes_it_and_keeps_the_parents_run(store_dir: Path) -> None:
    proc = h.spawn(SIGTERM_CHILD_BODY, store_dir)
    child_pid = int(proc.read_line())
    rid = proc.read_line()
    os.kill(child_pid, signal.SIGTERM)
    status = int(proc.read_line())
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGTERM
    rc, _, err = proc.finish()
    assert rc == 0, err
    run = tr.get_run(rid, store=store_dir)
    assert run.status == "FINISHED"
    assert run.metrics["child"].values == [1.0]
    _assert_children_never_start_or_end(store_dir, rid, proc.pid)


ORPHAN_BODY = """
import multiprocessing as mp
DONE = sys.argv[2]
def slow(tag):
    for s in range(20):
        tr.log_metric(tag, float(s))
        time.sleep(0.05)
with tr.start_run(name="leaves-early") as run:
    print(run.id, flush=True)
    if os.fork() == 0:                   # outlives its parent, then exits normally
        time.sleep(0.5)
        slow("orphan")
        open(DONE, "w").close()
        sys.exit(0)
    mp.get_context("fork").Process(target=slow, args=("worker",)).start()
# the parent's run ends here; the children are still logging
"""


def test_parent_exits_while_children_still_log(store_dir: Path, tmp_path: Path) -> None:
    done = tmp_path / "orphan-done"
    result = h.run_child(ORPHAN_BODY, store_dir, str(done), timeout=60)
    assert result.returncode == 0, result.stderr
    rid = result.stdout.split()[0]
    h.wait_for(done.exists, timeout=30, what="the orphaned child to finish")
    run = h.wait_for(lambda: (r := tr.get_run(rid, store=store_dir)).metrics.get("orphan")
                     and len(r.metrics["orphan"].steps) == 20 and r, timeout=10,
                     what="the orphan's values")
    assert run.status == "FINISHED"
    assert run.metrics["worker"].steps == list(range(20))
    assert run.metrics["orphan"].steps == list(range(20))
    files = h.run_files(store_dir, rid)
    ends = [p for p in files if any(e["type"] == "run.end" for e in h.check_file(p))]
    assert len(files) == 3 and len(ends) == 1


LOCK_HELD_BODY = """
import threading
from trackreport import fluent
started = threading.Event()
real = fluent._new_run
def slow_new_run(*args):
    started.set()
    time.sleep(1.0)                      # another thread holds trackreport's lock meanwhile
    return real(*args)
fluent._new_run = slow_new_run
t = threading.Thread(target=lambda: tr.start_run(name="from-a-thread"))
t.start()
started.wait(10)
pid = os.fork()
if pid == 0:
    fluent._new_run = real
    with tr.start_run(name="in-the-child", nested=True) as run:
        tr.log_metric("x", 1.0)
    print(run.id, flush=True)
    os._exit(0)
_, status = os.waitpid(pid, 0)
t.join()
tr.end_run()
print(status, flush=True)
"""


def test_a_child_forked_while_another_thread_holds_the_lock_does_not_hang(
        store_dir: Path) -> None:
    result = h.run_child(LOCK_HELD_BODY, store_dir, timeout=30)
    assert result.returncode == 0, result.stderr
    child_rid, status = result.stdout.split()
    assert status == "0"
    run = tr.get_run(child_rid, store=store_dir)
    assert run.status == "FINISHED" and run.metrics["x"].values == [1.0]


# 3. a run handle after its run ended ---------------------------------------------------

AFTER_WITH_BODY = """
with tr.start_run(name="kept") as run:
    tr.log_metric("train_loss", 0.5)
run.log_metric("test_acc", 0.91)
run.log_metrics({"test_f1": 0.8})
run.log_param("threshold", 0.5)
run.set_tag("evaluated", "yes")
run.note("evaluated after training")
run.log_text("all good", "eval/report.txt")
print(run.id, flush=True)
"""


def test_a_handle_kept_after_its_with_block_still_logs(store_dir: Path) -> None:
    result = h.run_child(AFTER_WITH_BODY, store_dir)
    assert result.returncode == 0, result.stderr
    run = tr.get_run(result.stdout.strip(), store=store_dir)
    assert run.status == "FINISHED"
    assert run.metrics["test_acc"].values == [0.91]
    assert run.metrics["test_f1"].values == [0.8]
    assert run.params == {"threshold": 0.5}
    assert run.tags == {"evaluated": "yes"}
    assert [n.markdown for n in run.notes] == ["evaluated after training"]
    assert [a.path for a in run.artifacts] == ["eval/report.txt"]
    assert len(h.run_files(store_dir, run.run_id)) == 1
    h.check_store(store_dir)


AFTER_END_RUN_BODY = """
run = tr.start_run(name="ended")
tr.end_run("FAILED")
run.log_metric("late", 1.0)
print(run.id, flush=True)
time.sleep(60)                           # killed by the test: only the timer can write it
"""


def test_a_late_value_after_end_run_is_written_by_the_next_timer_flush(store_dir: Path) -> None:
    proc = h.spawn(AFTER_END_RUN_BODY, store_dir)
    rid = proc.read_line()
    try:
        run = h.wait_for(lambda: "late" in (r := tr.get_run(rid, store=store_dir)).metrics and r,
                         timeout=10, what="the late value on disk")
    finally:
        proc.kill()
    assert run.status == "FAILED"
    assert run.metrics["late"].values == [1.0]
    h.check_store(store_dir)


def test_late_writes_release_the_file_descriptor(store: Path) -> None:
    with tr.start_run() as run:
        tr.log_metric("x", 1.0)
    run.log_metric("late", 2.0)
    writer.flush_all()
    assert run._file._handle is not None and run._file._handle._fd is None
    assert tr.get_run(run.id).metrics["late"].values == [2.0]


RESUMED_ELSEWHERE_BODY = """
GO = sys.argv[2]
with tr.start_run(name="first") as run:
    tr.log_metric("x", 1.0)
print(run.id, flush=True)
deadline = time.monotonic() + 60
while not os.path.exists(GO) and time.monotonic() < deadline:
    time.sleep(0.01)
run.log_metric("test_acc", 0.75)        # the run was resumed and ended by another process
"""


def test_a_handle_whose_run_another_process_resumed(store_dir: Path, tmp_path: Path) -> None:
    go = tmp_path / "go"
    first = h.spawn(RESUMED_ELSEWHERE_BODY, store_dir, str(go))
    rid = first.read_line()
    second = h.run_child("""
with tr.start_run(run_id=sys.argv[2]):
    tr.log_metric("x", 2.0)
    raise SystemExit(3)
""", store_dir, rid)
    assert second.returncode == 3, second.stderr
    go.touch()
    rc, _, err = first.finish()
    assert rc == 0, err
    run = tr.get_run(rid, store=store_dir)
    assert run.status == "FAILED" and "SystemExit: 3" in (run.error or "")
    assert run.metrics["x"].values == [1.0, 2.0]
    assert run.metrics["test_acc"].values == [0.75]
    h.check_store(store_dir)


# 4. images -----------------------------------------------------------------------------

def test_image_folders_are_distinct_readable_and_stable() -> None:
    keys = ["val/sample", "val_sample", "val.sample", "Val_sample", ".", "image", "samples",
            "samples-0123abcd", "ünïcode key", "a" * 250]
    folders = [image_folder(k) for k in keys]
    assert len(set(folders)) == len(keys), folders
    assert image_folder("val_sample") == "val_sample"
    assert image_folder("samples") == "samples"
    assert image_folder("image") == "image"
    digest = hashlib.sha256(b"val/sample").hexdigest()[:8]
    assert image_folder("val/sample") == f"val_sample-{digest}"
    for folder in folders:
        assert folder.isascii() and "/" not in folder and not folder.startswith(".")
        assert len(folder) <= 64
    code = "from trackreport.artifacts import image_folder as f; print(f('val/sample'), f('.'))"
    other = subprocess.run([sys.executable, "-c", code], env=h.child_env(PYTHONHASHSEED="7"),
                           capture_output=True, text=True, timeout=60, check=True)
    assert other.stdout.split() == [image_folder("val/sample"), image_folder(".")]


def test_keys_that_used_to_share_a_folder_keep_their_own_images(store: Path,
                                                                tmp_path: Path) -> None:
    keys = ["val/sample", "val_sample", ".", "image"]
    with tr.start_run() as run:
        for i, key in enumerate(keys):
            picture = tmp_path / f"{i}.png"
            picture.write_bytes(b"picture %d" % i)
            tr.log_image(picture, key=key)
    images = [a for a in tr.get_run(run.id).artifacts if a.image]
    assert sorted(a.image["key"] for a in images) == sorted(keys)
    assert len({a.path for a in images}) == 4
    for a in images:
        data = (store / "runs" / run.id / "artifacts" / a.path).read_bytes()
        assert data == b"picture %d" % keys.index(a.image["key"])


IMAGE_BODY = """
PICS = sys.argv[3]
run_id = sys.argv[2] if sys.argv[2] != "-" else None
with tr.start_run(run_id=run_id) as run:
    for name in sorted(os.listdir(PICS)):
        tr.log_image(os.path.join(PICS, name), key="val/sample")
print(run.id, flush=True)
"""


def test_a_resumed_run_continues_the_image_steps(store_dir: Path, tmp_path: Path) -> None:
    pics = []
    for n in range(2):
        folder = tmp_path / f"pics{n}"
        folder.mkdir()
        for i in range(2):
            (folder / f"{i}.png").write_bytes(b"process %d image %d" % (n, i))
        pics.append(folder)
    first = h.run_child(IMAGE_BODY, store_dir, "-", str(pics[0]))
    assert first.returncode == 0, first.stderr
    rid = first.stdout.strip()
    before = tree_digest(store_dir / "runs" / rid / "artifacts")
    second = h.run_child(IMAGE_BODY, store_dir, rid, str(pics[1]))
    assert second.returncode == 0, second.stderr
    after = tree_digest(store_dir / "runs" / rid / "artifacts")
    assert {k: after[k] for k in before} == before, "the second process replaced images"
    images = sorted((a.image["step"], a.path) for a in tr.get_run(rid, store=store_dir).artifacts
                    if a.image)
    assert [s for s, _ in images] == [0, 1, 2, 3]
    contents = [(store_dir / "runs" / rid / "artifacts" / p).read_bytes() for _, p in images]
    assert contents == [b"process 0 image 0", b"process 0 image 1",
                        b"process 1 image 0", b"process 1 image 1"]


# 12. parent run ids ---------------------------------------------------------------------

@pytest.mark.parametrize(("parent", "exc", "text"), [
    (7, TypeError, "parent_run_id must be a run id"),
    ({"id": "x"}, TypeError, "parent_run_id must be a run id"),
    ("../x", ValueError, "parent_run_id '../x' is not a valid run id"),
    ("", ValueError, "parent_run_id '' is not a valid run id"),
    ("a b", ValueError, "is not a valid run id"),
])
def test_bad_parent_run_id_is_refused_and_writes_nothing(store: Path, parent: object,
                                                          exc: type, text: str) -> None:
    with pytest.raises(exc, match=text) as info:
        tr.start_run(parent_run_id=parent)
    assert isinstance(info.value, tr.TrackreportError) or exc is TypeError
    assert "\n" not in str(info.value)
    assert tr.active_run() is None
    assert not store.exists()


def test_a_valid_parent_run_id_is_kept(store: Path) -> None:
    with tr.start_run() as parent:
        pass
    with tr.start_run(parent_run_id=parent.id) as child:
        pass
    assert tr.get_run(child.id).parent_run_id == parent.id
    assert len(tr.load_runs()) == 2


FORKED_IMAGES_BODY = """
import json, multiprocessing as mp
def work(i):
    tr.log_image(sys.argv[2] + f"/{i}.png", key="samples")   # default step: 0 in every worker
    tr.log_image(sys.argv[2] + f"/{i}.png", key="fixed", step=7)
if __name__ == "__main__":
    ctx = mp.get_context("fork")
    with tr.start_run(name="imgs") as run:
        # one process per image (a Pool may hand one worker two tasks: its step 1)
        procs = [ctx.Process(target=work, args=(i,)) for i in range(3)]
        for p in procs:
            p.start()
        for p in procs:
            p.join()
    print(json.dumps({"rid": run.id}))
"""


def test_forked_workers_logging_one_image_step_keep_every_image(store_dir: Path,
                                                                tmp_path: Path) -> None:
    folder = tmp_path / "pics"
    folder.mkdir()
    for i in range(3):
        (folder / f"{i}.png").write_bytes(b"worker %d" % i)
    result = h.run_child(FORKED_IMAGES_BODY, store_dir, str(folder), timeout=90)
    assert result.returncode == 0, result.stderr
    rid = json.loads(result.stdout)["rid"]
    run = tr.get_run(rid, store=store_dir)
    for key, step in (("samples", 0), ("fixed", 7)):
        images = [a for a in run.artifacts if a.image and a.image["key"] == key]
        assert len(images) == 3 and {a.image["step"] for a in images} == {step}
        contents = sorted((store_dir / "runs" / rid / "artifacts" / a.path).read_bytes()
                          for a in images)
        assert contents == [b"worker 0", b"worker 1", b"worker 2"], key
