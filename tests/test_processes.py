"""The writer and the run status rules under real processes (DESIGN.md sections 1 and 3).

Every test drives trackreport the way a training script does: in a child
process started with ``sys.executable``, killed with real signals, forked, run
eight at a time. The I/O error tests run in this process with the store's
``os.write`` replaced, since making a folder unwritable does not stop root.
Every events file of every store these tests make is checked to be strict JSON
that starts with the ``open`` line of the writer named in the file name.
"""

from __future__ import annotations

import errno
import json
import math
import os
import shutil
import signal
import time
import warnings
from pathlib import Path
from typing import Any

import pytest

import trackreport as tr
from trackreport import fluent, storage
from trackreport.reader import ReadWarning
from trackreport.writer import WriteWarning

try:
    from . import proc_helpers as h
except ImportError:  # tests/ is not a package: pytest put tests/ itself on sys.path
    import proc_helpers as h


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "store"


# 1. kill -9 ------------------------------------------------------------------------------

KILL_BODY = """
run = tr.start_run(name="killed")
tr.log_param("lr", 0.1)
print(run.id, flush=True)
for step in range(10_000_000):
    tr.log_metric("m", step * 0.5)
    if step % 5 == 0:
        time.sleep(0.001)
"""


def _metric_lines(path: Path) -> int:
    try:
        return path.read_bytes().count(b'"metrics"')
    except FileNotFoundError:
        return 0


def test_kill_9_leaves_a_readable_store_with_a_prefix_of_steps(store: Path) -> None:
    proc = h.spawn(KILL_BODY, store)
    rid = proc.read_line()
    folder = store / "runs" / rid

    def flushed_twice() -> bool:
        files = list(folder.glob("events-*.jsonl"))
        return bool(files) and _metric_lines(files[0]) > 300

    h.wait_for(flushed_twice, timeout=30, what="the child's metrics on disk")
    rc, _, err = proc.signal(signal.SIGKILL)
    assert rc == -signal.SIGKILL, err

    [path] = h.run_files(store, rid)
    events = h.check_file(path, allow_torn=True)  # a kill mid-write may tear the last line
    assert not any(e["type"] == "run.end" for e in events)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ReadWarning)
        run = tr.get_run(rid, store=store)
    assert run.status == "RUNNING"
    assert run.end_time is None
    assert run.params == {"lr": 0.1}
    steps = run.metrics["m"].steps
    k = len(steps)
    assert k > 300
    assert steps == list(range(k)), "the persisted steps are not a prefix 0..k-1"
    assert run.metrics["m"].values == [s * 0.5 for s in range(k)]
    assert [s for s, _ in h.metric_steps(events, "m")] == list(range(k))

    result = h.cli("check", "--store", str(store))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"running: {rid} (killed)" in result.stdout
    assert "1 running" in result.stdout

    # A torn last line (what a crash mid-write leaves): a warning, exit 0, nothing lost.
    torn = store.parent / "torn"
    shutil.copytree(store, torn)
    tpath = torn / path.relative_to(store)
    full = tpath.read_bytes()
    if full.endswith(b"\n"):
        line = b'{"type":"metrics","time":%r,"step":%d,"values":{"m":1.5}}\n' % (time.time(), k)
        tpath.write_bytes(full + line[: len(line) // 2])
    result = h.cli("check", "--store", str(torn))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "torn last line" in result.stdout
    assert f"runs/{rid}/{path.name}" in result.stdout
    with pytest.warns(ReadWarning, match="torn"):
        trun = tr.get_run(rid, store=torn)
    assert trun.metrics["m"].steps == steps
    assert trun.problems.torn_lines == 1
    assert trun.status == "RUNNING"

    # Corrupt lines in the middle: exit 1, the reader skips and counts them, keeps the rest.
    bad = store.parent / "corrupt"
    shutil.copytree(store, bad)
    bpath = bad / path.relative_to(store)
    lines = bpath.read_bytes().split(b"\n")
    middle = len(lines) // 2
    lines[middle:middle] = [b'{"type":"metrics","time":1.0,"st', b"\x00\xff not json"]
    bpath.write_bytes(b"\n".join(lines))
    result = h.cli("check", "--store", str(bad))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "2 corrupt line(s)" in result.stdout
    assert f"line {middle + 1}, {middle + 2}" in result.stdout
    with pytest.warns(ReadWarning, match="corrupt"):
        brun = tr.get_run(rid, store=bad)
    assert brun.problems.corrupt_lines == 2
    assert brun.metrics["m"].steps == steps
    assert brun.metrics["m"].values == run.metrics["m"].values
    assert brun.params == {"lr": 0.1}


# 2. eight processes at once --------------------------------------------------------------

N_RESUME = 1000
N_OWN = 300

CREATE_BODY = """
with tr.start_run(name="shared") as run:
    tr.log_param("shared", "same")
    for s in range(10):
        tr.log_metric("base", s)
print(run.id, flush=True)
"""

BARRIER = """
print("ready", flush=True)
deadline = time.monotonic() + 60
while not os.path.exists(sys.argv[3]) and time.monotonic() < deadline:
    time.sleep(0.002)
"""

RESUME_BODY = BARRIER + """
i = int(sys.argv[2])
with tr.start_run(run_id=sys.argv[4]) as run:
    tr.log_params({f"proc_{i}": i, "shared": "same"})
    for s in range(N_RESUME):
        tr.log_metric(f"p{i}", i * 100000 + s + 0.25)
        if s % 50 == 0:
            time.sleep(0.001)
    tr.set_tag(f"t{i}", "x")
print(os.getpid(), flush=True)
""".replace("N_RESUME", str(N_RESUME))

OWN_BODY = BARRIER + """
i = int(sys.argv[2])
tr.set_experiment("crowd", description=f"written by process {i}", primary_metric="loss",
                  goal="min")
ids = []
for r in range(2):
    with tr.start_run(name=f"w{i}-r{r}", tags={"worker": str(i)}) as run:
        tr.log_params({"worker": i, "r": r})
        for s in range(N_OWN):
            tr.log_metric("loss", i + r / 10 + s / 1000)
            if s % 50 == 0:
                time.sleep(0.001)
        tr.log_metrics({"odd": float("nan")}, step=0)
        tr.log_metric("odd", float("inf"))
        tr.log_metric("odd", float("-inf"))
    ids.append(run.id)
print(os.getpid(), " ".join(ids), flush=True)
""".replace("N_OWN", str(N_OWN))


def test_eight_processes_at_once_every_value_exactly_once(store: Path, tmp_path: Path) -> None:
    created = h.run_child(CREATE_BODY, store)
    assert created.returncode == 0, created.stderr
    rid = created.stdout.strip()

    go = tmp_path / "go"
    resumers = [h.spawn(RESUME_BODY, store, str(i), str(go), rid) for i in range(4)]
    makers = [h.spawn(OWN_BODY, store, str(i), str(go)) for i in range(4)]
    procs = resumers + makers
    try:
        for proc in procs:
            assert proc.read_line(timeout=60) == "ready"
        go.touch()  # all eight start logging together
        outs = []
        for proc in procs:
            rc, out, err = proc.finish(timeout=90)
            assert rc == 0, err
            outs.append(out.split()[1:])  # after "ready"
    finally:
        for proc in procs:
            proc.kill()
    own_ids = [rid for out in outs[4:] for rid in out[1:]]
    assert len(own_ids) == len(set(own_ids)) == 8

    by_path = h.check_store(store)  # strict JSON, one writer per file

    # The shared run: one file per writing process (creator + 4 resumers).
    files = h.run_files(store, rid)
    assert len(files) == 5
    assert len({p.name for p in files}) == 5
    pids = sorted(int(h.writer_of(p).split("-")[0]) for p in files)
    assert set(pids) >= {int(out[0]) for out in outs[:4]}
    for path in files:
        kinds = [e["type"] for e in by_path[path]]
        assert kinds.count("run.end") == 1
        assert kinds.count("run.start") + kinds.count("run.resume") == 1
    run = tr.get_run(rid, store=store)
    assert run.status == "FINISHED"
    assert run.params == {"shared": "same", **{f"proc_{i}": i for i in range(4)}}
    assert run.tags == {f"t{i}": "x" for i in range(4)}
    assert not run.problems.messages

    frame = tr.load_metrics(run_ids=[rid], store=store)
    counts = frame.groupby("key").size().to_dict()
    assert counts == {"base": 10, **{f"p{i}": N_RESUME for i in range(4)}}
    for i in range(4):
        rows = frame[frame.key == f"p{i}"].sort_values("step")
        assert rows.step.tolist() == list(range(N_RESUME))
        assert rows.value.tolist() == [i * 100000 + s + 0.25 for s in range(N_RESUME)]

    # The runs made side by side in one experiment.
    runs = tr.load_runs(experiment="crowd", store=store)
    assert sorted(runs.run_id) == sorted(own_ids)
    assert set(runs.status) == {"FINISHED"}
    assert sorted(runs.run_name) == sorted(f"w{i}-r{r}" for i in range(4) for r in range(2))
    metrics = tr.load_metrics(experiment="crowd", store=store)
    counts = metrics.groupby(["run_id", "key"]).size().to_dict()
    assert counts == {(r, k): n for r in own_ids for k, n in (("loss", N_OWN), ("odd", 3))}
    for out in outs[4:]:
        i = next(j for j in range(4) if f"w{j}-" in tr.get_run(out[1], store=store).name)
        for r, run_id in enumerate(out[1:]):
            one = tr.get_run(run_id, store=store)
            assert one.params == {"worker": i, "r": r}
            assert one.metrics["loss"].values == [i + r / 10 + s / 1000 for s in range(N_OWN)]
            odd = one.metrics["odd"].values
            assert math.isnan(odd[0]) and odd[1:] == [math.inf, -math.inf]
            assert len(h.run_files(store, run_id)) == 1
    assert len(list((store / "experiments").glob("events-*.jsonl"))) == 4

    result = h.cli("check", "--store", str(store))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 corrupt lines, 0 torn last lines, 0 running" in result.stdout


# 3. run status rules ---------------------------------------------------------------------

STATUS_CASES: dict[str, tuple[str, str, str | None, int | None]] = {
    # name: (body, status, error substring, exit code)
    "with-normal": ("""
with tr.start_run() as run:
    print(run.id, flush=True)
    tr.log_metric("x", 1.0)
""", "FINISHED", None, 0),
    "with-raises-valueerror": ("""
with tr.start_run() as run:
    print(run.id, flush=True)
    raise ValueError("bad learning rate 42")
""", "FAILED", "ValueError: bad learning rate 42", 1),
    "no-with-normal-exit": ("""
run = tr.start_run()
print(run.id, flush=True)
tr.log_metric("x", 1.0)
""", "FINISHED", None, 0),
    "no-with-uncaught-exception": ("""
run = tr.start_run()
print(run.id, flush=True)
raise RuntimeError("diverged")
""", "FAILED", "RuntimeError: diverged", 1),
    "no-with-uncaught-keyboardinterrupt": ("""
run = tr.start_run()
print(run.id, flush=True)
raise KeyboardInterrupt
""", "KILLED", "KeyboardInterrupt", -signal.SIGINT),
    "with-keyboardinterrupt": ("""
with tr.start_run() as run:
    print(run.id, flush=True)
    raise KeyboardInterrupt
""", "KILLED", "KeyboardInterrupt", -signal.SIGINT),
    "with-sys-exit": ("""
with tr.start_run() as run:
    print(run.id, flush=True)
    sys.exit()
""", "FINISHED", None, 0),
    "with-sys-exit-0": ("""
with tr.start_run() as run:
    print(run.id, flush=True)
    sys.exit(0)
""", "FINISHED", None, 0),
    "with-sys-exit-3": ("""
with tr.start_run() as run:
    print(run.id, flush=True)
    sys.exit(3)
""", "FAILED", "SystemExit: 3", 3),
    "with-sys-exit-message": ("""
with tr.start_run() as run:
    print(run.id, flush=True)
    sys.exit("out of patience")
""", "FAILED", "SystemExit: out of patience", 1),
    "end-run-explicit": ("""
run = tr.start_run()
print(run.id, flush=True)
tr.end_run()
assert tr.active_run() is None
""", "FINISHED", None, 0),
    "os-exit-0": ("""
with tr.start_run() as run:
    print(run.id, flush=True)
    tr.log_metric("x", 1.0)
    run.flush()
    os._exit(0)
""", "RUNNING", None, 0),
}


@pytest.mark.parametrize("case", list(STATUS_CASES))
def test_status_rules(case: str, store: Path) -> None:
    body, status, error, code = STATUS_CASES[case]
    result = h.run_child(body, store)
    assert result.returncode == code, result.stderr
    rid = result.stdout.split()[0]
    run = tr.get_run(rid, store=store)
    assert run.status == status
    if error is None:
        assert run.error is None
    else:
        assert error in (run.error or "")
    if status == "RUNNING":
        assert run.end_time is None
    else:
        assert run.end_time is not None and run.end_time >= run.start_time
    h.check_store(store)


SLEEP_IN_RUN = """
with tr.start_run(name="sleeper") as run:
    tr.log_metric("x", 1.0)
    run.flush()
    print(run.id, flush=True)
    time.sleep(60)
"""


@pytest.mark.parametrize(("sig", "status"), [(signal.SIGINT, "KILLED"),
                                             (signal.SIGTERM, "KILLED"),
                                             (signal.SIGKILL, "RUNNING")])
def test_signal_sent_to_a_child_inside_a_run(sig: int, status: str, store: Path) -> None:
    proc = h.spawn(SLEEP_IN_RUN, store)
    rid = proc.read_line()
    assert tr.get_run(rid, store=store).status == "RUNNING"
    rc, _, err = proc.signal(sig)
    # still killed by the signal: a shell or a scheduler sees the real cause
    assert rc == -sig, err
    run = tr.get_run(rid, store=store)
    assert run.status == status
    assert run.metrics["x"].values == [1.0]
    h.check_store(store)


# A real signal that arrives while the main thread is inside a flush (run.flush(),
# end_run, start_run, get_run, ... all flush in the caller's thread). To hit that
# window every time, the child slows the timer down (so only the main thread
# flushes) and sends the signal to itself from inside the flush's encoding loop.
MID_FLUSH_SIGNAL = """
import threading
import trackreport.events as ev
import trackreport.writer as w
w.FLUSH_INTERVAL = 3600
SIG = int(sys.argv[2])
real = ev.encode_metric
count = [0]
def encode_metric(*args):
    if threading.current_thread() is threading.main_thread():
        count[0] += 1
        if count[0] == 2500:
            os.kill(os.getpid(), SIG)
    return real(*args)
ev.encode_metric = encode_metric
with tr.start_run(name="mid-flush") as run:
    print(run.id, flush=True)
    for s in range(5000):
        tr.log_metric("m", float(s))
    run.flush()
    time.sleep(30)
"""


def test_sigterm_during_a_main_thread_flush_ends_the_run(store: Path) -> None:
    proc = h.spawn(MID_FLUSH_SIGNAL, store, str(int(signal.SIGTERM)))
    rid = proc.read_line()
    rc, _, err = proc.finish(timeout=15)
    assert rc == -signal.SIGTERM, err
    run = tr.get_run(rid, store=store)
    assert run.status == "KILLED"
    assert run.metrics["m"].steps == list(range(5000))
    h.check_store(store)


def test_ctrl_c_during_a_main_thread_flush_loses_nothing(store: Path) -> None:
    proc = h.spawn(MID_FLUSH_SIGNAL, store, str(int(signal.SIGINT)))
    rid = proc.read_line()
    rc, _, err = proc.finish(timeout=15)
    assert rc == -signal.SIGINT, err
    run = tr.get_run(rid, store=store)
    assert run.status == "KILLED"
    assert run.metrics["m"].steps == list(range(5000)), "values logged before Ctrl-C were lost"
    h.check_store(store)


def test_sigterm_without_with_block(store: Path) -> None:
    proc = h.spawn("""
run = tr.start_run()
tr.log_metric("x", 1.0)
print(run.id, flush=True)
time.sleep(60)
""", store)
    rid = proc.read_line()
    rc, _, err = proc.signal(signal.SIGTERM)
    assert rc == -signal.SIGTERM, err
    run = tr.get_run(rid, store=store)
    assert run.status == "KILLED"
    assert run.metrics["x"].values == [1.0]
    h.check_store(store)


def test_resume_in_a_second_process(store: Path, tmp_path: Path) -> None:
    first = h.run_child("""
with tr.start_run(name="first") as run:
    tr.log_param("lr", 0.1)
    tr.log_metric("x", 1.0)
print(run.id, flush=True)
""", store)
    assert first.returncode == 0, first.stderr
    rid = first.stdout.strip()
    assert tr.get_run(rid, store=store).status == "FINISHED"

    go = tmp_path / "go"
    proc = h.spawn("""
with tr.start_run(run_id=sys.argv[2]) as run:
    assert run.name == "first"
    tr.log_param("lr", 0.1)          # the same value: allowed
    try:
        tr.log_param("lr", 0.2)      # a different one: refused, as far as this process can see
    except tr.ParamChangedError:
        print("refused", flush=True)
    tr.log_metric("x", 2.0)          # default step continues after the first process's
    run.flush()
    print("resumed", flush=True)
    deadline = time.monotonic() + 60
    while not os.path.exists(sys.argv[3]) and time.monotonic() < deadline:
        time.sleep(0.01)
""", store, rid, str(go))
    try:
        assert proc.read_line() == "refused"
        assert proc.read_line() == "resumed"
        during = tr.get_run(rid, store=store)
        assert during.status == "RUNNING"
        assert during.end_time is None
    finally:
        go.touch()
    rc, _, err = proc.finish()
    assert rc == 0, err
    run = tr.get_run(rid, store=store)
    assert run.status == "FINISHED"
    assert run.params == {"lr": 0.1}
    assert run.metrics["x"].steps == [0, 1]
    assert run.metrics["x"].values == [1.0, 2.0]
    assert len(h.run_files(store, rid)) == 2
    h.check_store(store)


def test_nested_runs_get_their_parent(store: Path) -> None:
    result = h.run_child("""
with tr.start_run(name="outer") as outer:
    try:
        tr.start_run(name="not-nested")
    except tr.TrackreportError:
        print("refused", flush=True)
    with tr.start_run(name="inner", nested=True) as inner:
        assert tr.active_run() is inner
        tr.log_metric("x", 1.0)
    assert tr.active_run() is outer
print(outer.id, inner.id, flush=True)
""", store)
    assert result.returncode == 0, result.stderr
    refused, ids = result.stdout.splitlines()
    assert refused == "refused"
    outer_id, inner_id = ids.split()
    outer, inner = tr.get_run(outer_id, store=store), tr.get_run(inner_id, store=store)
    assert inner.parent_run_id == outer_id
    assert outer.parent_run_id is None
    assert (outer.status, inner.status) == ("FINISHED", "FINISHED")
    assert h.run_ids(store) == sorted([outer_id, inner_id])
    h.check_store(store)


# 4. flush timing ------------------------------------------------------------------------

def test_a_logged_value_is_on_disk_within_a_second(store: Path) -> None:
    proc = h.spawn("""
run = tr.start_run()
tr.log_metric("x", 42.0)
print(run.id, time.time(), flush=True)
time.sleep(3)
""", store)
    try:
        rid, logged = proc.read_line().split()
        folder = store / "runs" / rid

        def on_disk() -> float | None:
            for path in folder.glob("events-*.jsonl"):
                if b'"x":42.0' in path.read_bytes():
                    return time.time()
            return None

        seen = h.wait_for(on_disk, timeout=10, interval=0.01, what="the value on disk")
        assert proc.poll() is None, "the child had already ended: this was not the timer"
        # contract: flushed at least every second; allow a second of scheduling slack
        assert seen - float(logged) < 2.0
        assert tr.get_run(rid, store=store).status == "RUNNING"
    finally:
        proc.kill()


# 5. I/O errors --------------------------------------------------------------------------

class FlakyOS:
    """The ``os`` module as the store's storage layer sees it, with a failing ``write``.

    ``mode`` is "ok", "enospc" (every write fails) or "partial" (the next write
    writes only part of its bytes, then every write fails, as a full disk does).
    """

    def __init__(self) -> None:
        self.mode = "ok"
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(os, name)

    def write(self, fd: int, data: Any) -> int:
        self.calls += 1
        if self.mode == "partial":
            self.mode = "enospc"
            cut = len(data) // 2 + 7  # somewhere inside a line
            return os.write(fd, bytes(data[:cut]))
        if self.mode == "enospc":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return os.write(fd, data)


@pytest.fixture
def flaky(monkeypatch: pytest.MonkeyPatch, store: Path) -> FlakyOS:
    fake = FlakyOS()
    monkeypatch.setenv("TRACKREPORT_CAPTURE", "0")
    monkeypatch.setattr(storage, "os", fake)
    monkeypatch.setattr(fluent, "_store_path", str(store))
    monkeypatch.setattr(fluent, "_experiment", "io-errors")
    yield fake
    fake.mode = "ok"
    while fluent.active_run() is not None:
        fluent.end_run()


def _record_warnings() -> tuple[warnings.catch_warnings, list[warnings.WarningMessage]]:
    cm = warnings.catch_warnings(record=True)
    return cm, cm.__enter__()


def _assert_each_value_once(path: Path, expected: dict[int, float]) -> list[dict[str, Any]]:
    events = h.check_file(path)  # no torn line anywhere, one open line
    raw = path.read_bytes().split(b"\n")
    assert len(raw) == len(set(raw)), "a line was written twice"
    got = list(h.metric_steps(events, "m"))
    assert sorted(s for s, _ in got) == sorted(expected), "a value is missing or doubled"
    assert dict(got) == expected
    return events


def test_write_errors_warn_once_keep_the_events_and_retry(flaky: FlakyOS, store: Path) -> None:
    cm, caught = _record_warnings()
    try:
        warnings.simplefilter("always")
        run = tr.start_run(name="disk-full")
        for s in range(50):
            tr.log_metric("m", s / 2)
        run.flush()
        [path] = h.run_files(store, run.id)
        before = path.read_bytes()

        flaky.mode = "enospc"
        for s in range(50, 200):
            tr.log_metric("m", s / 2)       # never raises into the training script
        tr.log_param("batch", 32)
        tr.set_tag("phase", "full-disk")
        run.flush()
        calls = flaky.calls
        h.wait_for(lambda: flaky.calls >= calls + 2, timeout=10,
                   what="the background flusher to retry")
        run.flush()
        assert path.read_bytes() == before
        io = [w for w in caught if issubclass(w.category, WriteWarning)]
        assert len(io) == 1, [str(w.message) for w in caught]
        assert "No space left" in str(io[0].message)

        flaky.mode = "ok"
        run.flush()
        _assert_each_value_once(path, {s: s / 2 for s in range(200)})

        # A second episode warns again (once), and ending the run later writes everything.
        flaky.mode = "enospc"
        for s in range(200, 220):
            tr.log_metric("m", s / 2)
        run.flush()
        run.flush()
        flaky.mode = "ok"
        tr.end_run()
        io = [w for w in caught if issubclass(w.category, WriteWarning)]
        assert len(io) == 2, [str(w.message) for w in caught]
    finally:
        cm.__exit__(None, None, None)
    events = _assert_each_value_once(path, {s: s / 2 for s in range(220)})
    assert events[-1]["type"] == "run.end"
    got = tr.get_run(run.id, store=store)
    assert got.status == "FINISHED"
    assert got.params == {"batch": 32}
    assert got.tags == {"phase": "full-disk"}
    h.check_store(store)


def test_write_error_on_the_first_write_keeps_the_open_line_first(
        flaky: FlakyOS, store: Path) -> None:
    cm, caught = _record_warnings()
    try:
        warnings.simplefilter("always")
        flaky.mode = "enospc"
        run = tr.start_run(name="full-from-the-start")
        for s in range(30):
            tr.log_metric("m", float(s))
        run.flush()
        run.flush()
        flaky.mode = "ok"
        tr.end_run()
    finally:
        cm.__exit__(None, None, None)
    assert len([w for w in caught if issubclass(w.category, WriteWarning)]) == 1
    [path] = h.run_files(store, run.id)
    events = _assert_each_value_once(path, {s: float(s) for s in range(30)})
    assert [e["type"] for e in events[:2]] == ["open", "run.start"]
    assert tr.get_run(run.id, store=store).status == "FINISHED"
    h.check_store(store)


def test_partial_write_then_error_retries_exactly_where_it_stopped(
        flaky: FlakyOS, store: Path) -> None:
    cm, _ = _record_warnings()
    try:
        warnings.simplefilter("always")
        run = tr.start_run(name="half-written")
        tr.log_metric("m", 0.0)
        run.flush()
        [path] = h.run_files(store, run.id)
        flaky.mode = "partial"  # the next write stops mid-line, then the disk is full
        for s in range(1, 100):
            tr.log_metric("m", float(s))
        run.flush()
        run.flush()
        assert not path.read_bytes().endswith(b"\n")  # the partial write did happen
        flaky.mode = "ok"
        run.flush()
        _assert_each_value_once(path, {s: float(s) for s in range(100)})
        tr.end_run()
    finally:
        cm.__exit__(None, None, None)
    assert tr.get_run(run.id, store=store).status == "FINISHED"
    h.check_store(store)


def test_short_writes_are_continued(monkeypatch: pytest.MonkeyPatch, store: Path) -> None:
    class ShortOS(FlakyOS):
        def write(self, fd: int, data: Any) -> int:  # at most 100 bytes per call
            return os.write(fd, bytes(data[:100]))

    monkeypatch.setenv("TRACKREPORT_CAPTURE", "0")
    monkeypatch.setattr(storage, "os", ShortOS())
    monkeypatch.setattr(fluent, "_store_path", str(store))
    with tr.start_run(name="short-writes") as run:
        for s in range(100):
            tr.log_metric("m", float(s))
    [path] = h.run_files(store, run.id)
    _assert_each_value_once(path, {s: float(s) for s in range(100)})
    h.check_store(store)


# 6. fork ---------------------------------------------------------------------------------

FORK_BODY = """
import json
run = tr.start_run(name="forky")
for s in range(100):
    tr.log_metric("pre", s)          # still buffered when the process forks
pid = os.fork()
if pid == 0:
    for s in range(20):
        tr.log_metric("child", s)
    tr.active_run().flush()
    os._exit(0)
_, status = os.waitpid(pid, 0)
for s in range(100, 200):
    tr.log_metric("pre", s)
tr.end_run()
print(json.dumps({"rid": run.id, "parent": os.getpid(), "child": pid, "status": status}))
"""


def test_fork_child_writes_its_own_file(store: Path) -> None:
    result = h.run_child(FORK_BODY, store)
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["status"] == 0
    by_path = h.check_store(store)
    files = h.run_files(store, info["rid"])
    assert len(files) == 2
    by_pid = {int(h.writer_of(p).split("-")[0]): by_path[p] for p in files}
    assert set(by_pid) == {info["parent"], info["child"]}
    parent, child = by_pid[info["parent"]], by_pid[info["child"]]
    assert not list(h.metric_steps(parent, "child"))
    assert [s for s, _ in h.metric_steps(parent, "pre")] == list(range(200))
    assert [s for s, _ in h.metric_steps(child, "child")] == list(range(20))
    assert not list(h.metric_steps(child, "pre")), "the child wrote its parent's buffer"
    assert not [e for e in child if e["type"] in ("run.start", "run.end")]
    run = tr.get_run(info["rid"], store=store)
    assert run.status == "FINISHED"
    assert run.metrics["pre"].steps == list(range(200))
    assert run.metrics["child"].values == [float(s) for s in range(20)]
