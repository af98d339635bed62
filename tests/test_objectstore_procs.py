"""Many processes on one S3 store (moto's real HTTP endpoint): kill -9, compaction races."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from proc_helpers import Child, child_env, cli, script, spawn
from s3_helpers import list_objects
from trackreport.objectstore import ObjectStorage, compact_store
from trackreport.reader import read_run
from trackreport.site.build import build_site
from trackreport.store import Store

WRITER = """
idx = int(sys.argv[2])
n = int(sys.argv[3])
with tr.start_run(name=f"w{idx}") as run:
    print(run.id, flush=True)
    for i in range(n):
        tr.log_metric("v", float(i), step=i)
        if i % 10 == 9:
            run.flush()
            print("flushed", i, flush=True)
        time.sleep(0.002)
    print("done", flush=True)
    if idx == 0:
        time.sleep(120)  # killed here, or earlier
"""


def _steps(store: Store, run_id: str) -> list[int]:
    series = read_run(store, run_id).metrics.get("v")
    return list(series.steps) if series else []


def _run_objects(url: str, run_id: str) -> list[str]:
    return [k for k in list_objects(url) if k.startswith(f"runs/{run_id}/events-")]


def test_eight_writers_one_killed(s3_store: str, tmp_path: Path) -> None:
    n = 100
    children = [spawn(WRITER, s3_store, str(i), str(n)) for i in range(8)]
    ids = [child.read_line(timeout=60) for child in children]
    victim = children[0]
    flushed = -1
    while flushed < 49:  # kill -9 in the middle of its logging
        line = victim.read_line(timeout=60)
        if line.startswith("flushed"):
            flushed = int(line.split()[1])
    victim.kill()
    for child in children[1:]:
        rc, out, err = child.finish(timeout=120)
        assert rc == 0, err
        assert "done" in out
    store = Store(s3_store)
    for run_id in ids[1:]:
        assert _steps(store, run_id) == list(range(n))  # every value exactly once
        assert read_run(store, run_id).status == "FINISHED"
        assert len(_run_objects(s3_store, run_id)) == 1  # one compacted object per run
    killed = _steps(store, ids[0])
    assert killed == list(range(len(killed))) and len(killed) >= flushed + 1  # no value twice
    assert read_run(store, ids[0]).status == "RUNNING"
    assert len(_run_objects(s3_store, ids[0])) >= 5  # its segments are still there
    result = build_site(store, tmp_path / "site")
    assert result.runs == 8
    for run_id in ids:
        assert (tmp_path / "site" / "runs" / run_id / "index.html").is_file()
    out = cli("compact", "--store", s3_store)  # folds the dead writer's segments
    assert out.returncode == 0, out.stderr
    assert "1 object written" in out.stdout
    assert len(_run_objects(s3_store, ids[0])) == 1
    assert _steps(Store(s3_store), ids[0]) == killed
    again = cli("compact", "--store", s3_store)
    assert again.stdout == "Nothing to compact: every writer's events are already one object.\n"


DEAD = """
with tr.start_run(name="dead") as run:
    print(run.id, flush=True)
    for i in range(200):
        tr.log_metric("v", float(i), step=i)
        if i % 5 == 4:
            run.flush()
    os.kill(os.getpid(), signal.SIGKILL)
"""


def test_compaction_racing_a_reader(s3_store: str, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    child = spawn(DEAD, s3_store)
    run_id = child.read_line(timeout=60)
    rc, _, _ = child.finish(timeout=60)
    assert rc == -signal.SIGKILL
    assert len(_run_objects(s3_store, run_id)) == 41  # run start + 40 flushes
    # the forced race: the segments are folded between the reader's listing and its fetch
    reader = Store(s3_store)
    storage = reader.storage
    assert isinstance(storage, ObjectStorage)
    real_list = storage.list_event_files
    listings = []

    def list_then_compact(rel: str, fresh: bool = False) -> list[str]:
        found = real_list(rel, fresh)
        listings.append(len(found))
        if len(listings) == 1:  # another process (its own cache) compacts meanwhile
            with monkeypatch.context() as m:
                m.setenv("TRACKREPORT_CACHE", str(tmp_path / "other-cache"))
                compact_store(Store(s3_store))
        return found

    storage.list_event_files = list_then_compact  # type: ignore[method-assign]
    assert _steps(reader, run_id) == list(range(200))
    assert listings == [41, 1]  # listed again once: one compacted object
    assert len(_run_objects(s3_store, run_id)) == 1


def test_compaction_beside_a_live_writer_and_concurrent_readers(s3_store: str) -> None:
    child = spawn(WRITER, s3_store, "1", "200")
    run_id = child.read_line(timeout=60)
    errors: list[BaseException] = []
    stop = threading.Event()

    def read_loop() -> None:
        try:
            while not stop.is_set():
                steps = _steps(Store(s3_store), run_id)
                assert steps == list(range(len(steps))), "a value read twice or lost"
                stop.wait(0.05)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    readers = [threading.Thread(target=read_loop)]
    for thread in readers:
        thread.start()
    try:
        for _ in range(3):
            while not child.read_line(timeout=60).startswith("flushed"):
                pass
            compact_store(Store(s3_store))
        rc, _, err = child.finish(timeout=120)
        assert rc == 0, err
    finally:
        stop.set()
        for thread in readers:
            thread.join(timeout=60)
    assert not errors, errors[0]
    assert _steps(Store(s3_store), run_id) == list(range(200))
    objects = _run_objects(s3_store, run_id)
    assert len(objects) == 1 and ".c1-" in objects[0], objects  # the writer's wider object won


@pytest.mark.parametrize("count", [3])
def test_a_store_on_s3_builds_the_same_site_as_on_disk(s3_store: str, tmp_path: Path,
                                                        count: int,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    body = """
    import itertools
    clock = itertools.count()
    real_time = time.time
    def fake_time():  # the same times in both stores (the S3 client keeps the real clock)
        if sys._getframe(1).f_globals.get("__name__", "").startswith("trackreport"):
            return 1.8e9 + next(clock) * 0.01
        return real_time()
    time.time = fake_time
    ids = iter(f"20270115T000000Z-{i:08x}" for i in range(100))
    import trackreport.fluent as fl
    fl.new_run_id = lambda now=None: next(ids)
    tr.set_experiment("same", primary_metric="acc", goal="max")
    for r in range(int(sys.argv[2])):
        with tr.start_run(name=f"run-{r}", tags={"k": "v"}) as run:
            tr.log_params({"lr": 0.1 * (r + 1), "depth": r})
            for step in range(30):
                tr.log_metric("acc", step / 30 + r / 100, step=step)
                if step % 10 == 9:
                    run.flush()
            tr.note(f"**run** {r}")
    """
    local = tmp_path / "local"
    for where in (str(local), s3_store):
        rc, _, err = spawn(body, Path(where) if where == str(local) else where,  # type: ignore[arg-type]
                             str(count)).finish(timeout=120)
        assert rc == 0, err
    build_site(Store(local), tmp_path / "site-local")
    monkeypatch.setenv("TRACKREPORT_CACHE", str(tmp_path / "cache-here"))
    cold = Store(s3_store)
    build_site(cold, tmp_path / "site-s3")

    def files(root: Path) -> dict[str, bytes]:
        return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
                if p.is_file() and ".trackreport-cache" not in p.parts}

    a, b = files(tmp_path / "site-local"), files(tmp_path / "site-s3")
    assert sorted(a) == sorted(b)
    different = [name for name in a if a[name] != b[name]]
    assert different == []
    # A build process of its own uses its worker processes on S3 too (fsspec's event
    # loop thread is no reason not to fork), and writes the same site.
    code = textwrap.dedent("""
        import sys
        from trackreport.site import build, prefetch
        used = []
        real = prefetch.Workers.__init__
        def counting(self, target, count):
            used.append(count)
            real(self, target, count)
        prefetch.Workers.__init__ = counting
        from trackreport.store import Store
        store = Store(sys.argv[1])
        build.build_site(store, sys.argv[2])
        print(used, store.storage.fetched)
    """)
    out = tmp_path / "site-s3-workers"
    proc = subprocess.run([sys.executable, "-c", code, s3_store, str(out)], capture_output=True,
                          text=True, timeout=120, check=False,
                          env=child_env(TRACKREPORT_BUILD_WORKERS="2",
                                        TRACKREPORT_CACHE=str(tmp_path / "cache-child")))
    assert proc.returncode == 0, proc.stderr
    # workers for the runs (one experiment page: none for it); the objects the workers
    # fetched are counted by the build, as a build without workers counts them
    assert proc.stdout.split() == ["[2]", str(cold.storage.fetched)], proc.stdout
    assert cold.storage.fetched >= count
    c = files(out)
    assert sorted(c) == sorted(a) and [name for name in a if a[name] != c[name]] == []


def test_sigterm_and_exit_flush_to_s3(s3_store: str) -> None:
    def spawn(body: str, store: str, *args: str) -> Child:  # only the exit paths upload
        return Child([sys.executable, "-u", "-c", script(body), store, *args],
                     child_env(TRACKREPORT_FLUSH_SECONDS="3600"))

    body = """
    run = tr.start_run(name=sys.argv[2])
    print(run.id, flush=True)
    for i in range(50):
        tr.log_metric("v", float(i), step=i)
    if sys.argv[2] == "term":
        print("logged", flush=True)
        time.sleep(120)
    """
    term = spawn(body, s3_store, "term")
    term_id = term.read_line(timeout=60)
    assert term.read_line(timeout=60) == "logged"
    term.signal(signal.SIGTERM)
    ended = spawn(body, s3_store, "exit")  # leaves without end_run: ended at exit
    exit_id = ended.read_line(timeout=60)
    rc, _, err = ended.finish(timeout=60)
    assert rc == 0, err
    store = Store(s3_store)
    for run_id, status in ((term_id, "KILLED"), (exit_id, "FINISHED")):
        assert _steps(store, run_id) == list(range(50))
        assert read_run(store, run_id).status == status
        assert len(_run_objects(s3_store, run_id)) == 1
