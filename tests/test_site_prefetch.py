"""The build's worker processes (site/prefetch.py), in real processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

SRC = str(Path(__file__).resolve().parent.parent / "src")

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(),
                                reason="reads process states from /proc")


def _running(pid: int) -> bool:
    """True while ``pid`` is a process that has not ended (a zombie has ended)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def _store(root: Path) -> None:
    code = f"""
        import trackreport as tr
        tr.set_store({str(root)!r})
        for i in range(4):
            with tr.start_run(name=f"run-{{i}}"):
                tr.log_metric("acc", i / 10, step=0)
    """
    env = {**os.environ, "PYTHONPATH": SRC, "TRACKREPORT_CAPTURE": "0"}
    subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, check=True)


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_workers_end_when_the_build_process_is_killed(sig: signal.Signals,
                                                      tmp_path: Path) -> None:
    """A pool's worker would wait for work for ever once the build process is gone."""
    root = tmp_path / "store"
    _store(root)
    code = f"""
        import os, time
        from trackreport.site import build
        def slow(self, run_id):
            print(os.getpid(), flush=True)  # the worker that reads says who it is
            time.sleep(120)
        build._Builder._prefetch_one = slow
        build.build_site({str(root)!r}, {str(tmp_path / "site")!r})
    """
    env = {**os.environ, "PYTHONPATH": SRC, "TRACKREPORT_BUILD_WORKERS": "2"}
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], env=env,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        worker = int(proc.stdout.readline())
        assert worker != proc.pid and _running(worker)
        proc.send_signal(sig)
        proc.wait(timeout=30)
        deadline = time.monotonic() + 10
        while _running(worker) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _running(worker), "the worker outlived the build process"
    finally:
        proc.kill()
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
