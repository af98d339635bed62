"""Helpers for tests that drive trackreport from real child processes.

Children run ``sys.executable -c <script>`` with ``PYTHONPATH`` pointing at the
``src`` of the trackreport under test, and capture off (unless asked), so they import exactly the
code under test. Every wait is a poll with a generous deadline, never a fixed
long sleep, so the tests stay quick on an idle machine and pass on a loaded one.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import trackreport

# Children import the very trackreport this test process imported (this
# repository's src/ under PYTHONPATH=src or an editable install).
SRC = Path(trackreport.__file__).resolve().parent.parent

# Preamble of every child script: import trackreport, pick the store, and make
# SIGINT raise KeyboardInterrupt even when the test runner was started with
# SIGINT ignored (background jobs of a non-interactive shell, some CI runners):
# a Python started with SIGINT ignored keeps it ignored.
PREAMBLE = """\
import os, signal, sys, time
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)
import trackreport as tr
STORE = sys.argv[1]
tr.set_store(STORE)
"""


def child_env(capture: bool = False, **extra: str) -> dict[str, str]:
    """The environment of a child: this repository's ``src`` first, capture off."""
    env = {**os.environ, "PYTHONPATH": str(SRC), "TRACKREPORT_CAPTURE": "1" if capture else "0"}
    env.pop("TRACKREPORT_STORE", None)
    env.update(extra)
    return env


def script(body: str) -> str:
    """A child script: the preamble, then ``body`` (dedented)."""
    return PREAMBLE + textwrap.dedent(body)


def run_child(body: str, store: Path, *args: str, timeout: float = 60,
              capture: bool = False) -> subprocess.CompletedProcess[str]:
    """Run a child script to its end; argv is ``[store, *args]``."""
    return subprocess.run(
        [sys.executable, "-c", script(body), str(store), *args],
        env=child_env(capture), capture_output=True, text=True, timeout=timeout, check=False,
    )


class Child:
    """A child process whose stdout lines and stderr are read by background threads.

    (Reading a pipe through ``select`` and a buffered ``readline`` loses lines
    that arrived together; a thread and a queue do not.)
    """

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.pid = self.proc.pid
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.out: list[str] = []
        self.err: list[str] = []
        self._threads = [threading.Thread(target=self._pump_out, daemon=True),
                         threading.Thread(target=self._pump_err, daemon=True)]
        for t in self._threads:
            t.start()

    def _pump_out(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.out.append(line)
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def _pump_err(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.err.append(line)

    @property
    def stderr(self) -> str:
        return "".join(self.err)

    def poll(self) -> int | None:
        return self.proc.poll()

    def read_line(self, timeout: float = 30) -> str:
        """The next stdout line (fails the test after ``timeout`` seconds or at EOF)."""
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            self.kill()
            raise AssertionError(f"no output from the child within {timeout} s; "
                                 f"stderr:\n{self.stderr}") from None
        if line is None:
            self.proc.wait(timeout=10)
            raise AssertionError(f"the child ended early (rc={self.proc.returncode}); "
                                 f"stderr:\n{self.stderr}")
        return line

    def finish(self, timeout: float = 30) -> tuple[int, str, str]:
        """Wait for the child; (returncode, whole stdout, whole stderr)."""
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"the child did not end within {timeout} s; "
                                 f"stderr:\n{self.stderr}") from None
        for t in self._threads:
            t.join(timeout=10)
        return self.proc.returncode, "".join(self.out), self.stderr

    def signal(self, sig: int) -> tuple[int, str, str]:
        """Send ``sig`` to the child (by its pid) and wait for it."""
        os.kill(self.pid, sig)
        return self.finish()

    def kill(self) -> None:
        """SIGKILL the child if it still runs, and reap it."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)


def spawn(body: str, store: Path, *args: str, capture: bool = False) -> Child:
    """Start a child script (unbuffered output); argv is ``[store, *args]``."""
    return Child([sys.executable, "-u", "-c", script(body), str(store), *args],
                 child_env(capture))


def wait_for(predicate: Callable[[], Any], timeout: float = 30, interval: float = 0.02,
             what: str = "a condition") -> Any:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


# the store on disk ---------------------------------------------------------------------
def events_files(root: Path) -> list[Path]:
    """Every ``events-*.jsonl`` file below ``root``, sorted."""
    return sorted(root.rglob("events-*.jsonl"))


def run_files(store: Path, run_id: str) -> list[Path]:
    """The events files of one run."""
    return sorted((store / "runs" / run_id).glob("events-*.jsonl"))


def run_ids(store: Path) -> list[str]:
    """Every run id of the store (its run folders)."""
    runs = store / "runs"
    return sorted(p.name for p in runs.iterdir()) if runs.is_dir() else []


def writer_of(path: Path) -> str:
    """The writer id in an events file's name."""
    return path.name[len("events-"):-len(".jsonl")]


def _no_constants(name: str) -> float:
    raise ValueError(f"non-standard JSON constant {name}")


def strict_lines(path: Path, allow_torn: bool = False) -> list[dict[str, Any]]:
    """The events of one file, parsed as strict JSON (NaN/Infinity constants refused).

    With ``allow_torn``, an unterminated last line (a writer killed mid-write) is
    skipped; otherwise it fails the test.
    """
    data = path.read_bytes()
    if not allow_torn:
        assert data.endswith(b"\n"), f"{path}: the last line is not terminated"
    out = []
    for number, line in enumerate(data.decode("utf-8", "replace").split("\n")[:-1], start=1):
        try:
            event = json.loads(line, parse_constant=_no_constants)
        except ValueError as exc:
            raise AssertionError(f"{path}:{number}: not strict JSON ({exc}): {line[:200]!r}") from None
        assert isinstance(event, dict), f"{path}:{number}: not an object"
        assert isinstance(event.get("type"), str), f"{path}:{number}: no type"
        assert isinstance(event.get("time"), (int, float)), f"{path}:{number}: no time"
        out.append(event)
    return out


def check_file(path: Path, allow_torn: bool = False) -> list[dict[str, Any]]:
    """Strict JSON, one ``open`` event first (and only there), of this file's own writer."""
    evs = strict_lines(path, allow_torn)
    assert evs, f"{path}: empty events file"
    first = evs[0]
    assert first["type"] == "open", f"{path}: first event is {first['type']!r}, not open"
    assert first.get("format") == 1, f"{path}: open event without format 1: {first}"
    assert first.get("writer") == writer_of(path), (
        f"{path}: written by {first.get('writer')!r}, not by the writer in its name")
    opens = [i for i, e in enumerate(evs) if e["type"] == "open"]
    assert opens == [0], f"{path}: open events at lines {[i + 1 for i in opens]}: two writers?"
    return evs


def check_store(store: Path, allow_torn: bool = False) -> dict[Path, list[dict[str, Any]]]:
    """``check_file`` every events file of the store; their events by path."""
    files = events_files(store)
    assert files, f"no events files in {store}"
    by_run: dict[Path, list[str]] = {}
    for p in files:
        by_run.setdefault(p.parent, []).append(writer_of(p))
    for folder, names in by_run.items():
        assert len(names) == len(set(names)), f"{folder}: a writer has two files"
    return {p: check_file(p, allow_torn) for p in files}


def metric_steps(events: list[dict[str, Any]], key: str) -> Iterator[tuple[int, Any]]:
    """(step, raw value) of ``key`` in a list of events."""
    for e in events:
        if e["type"] == "metrics" and key in e["values"]:
            yield e["step"], e["values"][key]


def cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``python -m trackreport ARGS`` in a child process."""
    return subprocess.run(
        [sys.executable, "-m", "trackreport", *args], env=child_env(), capture_output=True,
        text=True, timeout=timeout, check=False,
    )
