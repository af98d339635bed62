"""The command line: runs, show, check; one-line errors, never a traceback."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import trackreport as tr
from trackreport.cli import cli

SRC = str(Path(__file__).parent.parent / "src")


@pytest.fixture
def filled(store: Path) -> Path:
    tr.set_experiment("wine", primary_metric="acc", goal="max")
    for i, model in enumerate(["rf", "gb", "gb"]):
        with tr.start_run(name=f"run-{i}", tags={"family": model}):
            tr.log_params({"model": model, "depth": i + 2})
            for s in range(5):
                tr.log_metric("acc", 0.5 + 0.1 * i + 0.01 * s)
    tr.set_experiment("other")
    with tr.start_run(name="lonely"):
        tr.log_metric("loss", 3.0)
    return store


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_runs_table(filled: Path) -> None:
    res = invoke("runs", "--store", str(filled))
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert "run_name" in lines[0] and "metrics.acc" in lines[0]
    assert sum("run-" in line for line in lines) == 3 and "lonely" in res.output


def test_runs_formats_filter_sort(filled: Path) -> None:
    res = invoke("runs", "--store", str(filled), "--format", "json", "-e", "wine",
                 "--filter", "params.model = 'gb' AND metrics.acc > 0.6", "--sort", "-metrics.acc")
    assert res.exit_code == 0, res.output
    rows = json.loads(res.output)
    assert [r["run_name"] for r in rows] == ["run-2", "run-1"]
    assert rows[0]["params.depth"] == 4
    res = invoke("runs", "--store", str(filled), "--format", "csv", "--sort", "run_name",
                 "--columns", "run_name,status")
    assert list(csv.reader(io.StringIO(res.output))) == [
        ["run_name", "status"], ["lonely", "FINISHED"], ["run-0", "FINISHED"],
        ["run-1", "FINISHED"], ["run-2", "FINISHED"]]
    res = invoke("runs", "--store", str(filled), "--format", "markdown", "-e", "other")
    assert res.output.splitlines()[0].startswith("| run_id | run_name |")
    assert "| lonely |" in res.output


def test_runs_show_params_as_logged_when_some_runs_lack_them(filled: Path) -> None:
    # "lonely" has no depth: pandas alone would make the column float (3.0) with NaN holes.
    res = invoke("runs", "--store", str(filled), "--format", "csv", "--sort", "run_name",
                 "--columns", "run_name,params.depth,tags.family")
    assert list(csv.reader(io.StringIO(res.output)))[1:] == [
        ["lonely", "", ""], ["run-0", "2", "rf"], ["run-1", "3", "gb"], ["run-2", "4", "gb"]]
    res = invoke("runs", "--store", str(filled), "--sort", "run_name",
                 "--columns", "run_name,params.depth")
    assert [line.split() for line in res.output.splitlines()[2:]] == [
        ["lonely"], ["run-0", "2"], ["run-1", "3"], ["run-2", "4"]]
    df = tr.load_runs(store=filled)
    depths = dict(zip(df["run_name"], df["params.depth"], strict=True))
    assert depths == {"lonely": None, "run-0": 2, "run-1": 3, "run-2": 4}
    assert all(type(v) is int for k, v in depths.items() if k != "lonely")


def test_runs_tell_a_logged_nan_from_a_metric_never_logged(store: Path) -> None:
    with tr.start_run(name="nan"):
        tr.log_metric("m", float("nan"))
        tr.log_metric("k", 1.0)
    with tr.start_run(name="without-m"):
        tr.log_metric("k", 2.0)
    res = invoke("runs", "--store", str(store), "--format", "csv", "--sort", "run_name",
                 "--columns", "run_name,metrics.m,metrics.k")
    assert list(csv.reader(io.StringIO(res.output))) == [
        ["run_name", "metrics.m", "metrics.k"], ["nan", "NaN", "1.0"], ["without-m", "", "2.0"]]
    res = invoke("runs", "--store", str(store), "--format", "json", "--sort", "run_name",
                 "--filter", "metrics.k > 0", "--columns", "run_name,metrics.m")
    assert json.loads(res.output) == [{"run_name": "nan", "metrics.m": "NaN"},
                                       {"run_name": "without-m", "metrics.m": None}]


def test_runs_env_store(filled: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKREPORT_STORE", str(filled))
    res = invoke("runs", "--format", "csv", "--columns", "run_name")
    assert res.exit_code == 0 and "lonely" in res.output


def test_show(filled: Path) -> None:
    run_id = tr.load_runs(store=filled, filter="run_name = 'run-1'")["run_id"][0]
    res = invoke("show", run_id[:-2], "--store", str(filled))
    assert res.exit_code == 0, res.output
    assert "run-1" in res.output and "FINISHED" in res.output and "depth" in res.output
    res = invoke("show", run_id, "--store", str(filled), "--json")
    data = json.loads(res.output)
    assert data["metrics"]["acc"]["steps"] == 5 and data["params"]["model"] == "gb"


@pytest.mark.parametrize(("args", "message"), [
    (["runs", "--filter", "metrics.acc >"], "invalid filter at column"),
    (["runs", "--sort", "nope"], "no column 'nope'"),
    (["show", "zzz"], "no run 'zzz'"),
    (["show", "2"], "matches 4 runs"),
    (["runs", "--format", "xml"], "Invalid value for '--format'"),
])
def test_user_mistakes_are_one_line(filled: Path, args: list[str], message: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "trackreport", *args, "--store", str(filled)],
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": SRC})
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    assert message in proc.stderr
    assert proc.stdout == ""


def test_not_a_store_is_one_line(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "trackreport", "runs", "--store",
                           str(tmp_path)], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": SRC})
    assert proc.returncode == 1
    assert proc.stderr.strip().count("\n") == 0 and "not a trackreport store" in proc.stderr


def test_check_clean_torn_and_corrupt(filled: Path) -> None:
    res = invoke("check", "--store", str(filled))
    assert res.exit_code == 0 and res.output.startswith("OK: 4 runs")
    events = sorted((filled / "runs").glob("*/events-*.jsonl"))[0]
    with events.open("ab") as fh:
        fh.write(b'{"type": "metrics", "ti')
    res = invoke("check", "--store", str(filled))
    assert res.exit_code == 0
    assert "torn last line" in res.output and "1 torn" in res.output
    data = events.read_bytes()
    lines = data.split(b"\n")
    lines.insert(2, b"garbage")
    events.write_bytes(b"\n".join(lines))
    res = invoke("check", "--store", str(filled))
    assert res.exit_code == 1
    assert "corrupt line(s): line 3" in res.output and res.output.splitlines()[-1].startswith(
        "CORRUPT")


def test_help_for_every_command() -> None:
    for name, command in cli.commands.items():
        assert command.help, f"{name} has no help"
        res = invoke(name, "--help")
        assert res.exit_code == 0 and "Usage" in res.output


def test_build_command_line(filled: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    res = invoke("build", "--store", str(filled), "--out", str(out), "--title", "Team <results>")
    assert res.exit_code == 0, res.output
    assert res.output.startswith("Built 2 experiments, 4 runs, ") and "index.html" in res.output
    assert "Team &lt;results&gt;" in (out / "index.html").read_text("utf-8")
    # quiet when not on a terminal: one line, no progress bar
    assert len(res.output.strip().splitlines()) == 1


@pytest.mark.parametrize("where", ["same", "inside", "parent"])
def test_build_refuses_an_out_that_overlaps_the_store(filled: Path, where: str) -> None:
    out = {"same": filled, "inside": filled / "site", "parent": filled.parent}[where]
    proc = subprocess.run([sys.executable, "-m", "trackreport", "build", "--store", str(filled),
                           "--out", str(out)], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": SRC})
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1
    assert "store" in proc.stderr
    assert not (filled / "site").exists() and not (filled / "index.html").exists()


def test_warnings_are_one_plain_line(filled: Path, tmp_path: Path) -> None:
    events = sorted((filled / "runs").glob("*/events-*.jsonl"))[0]
    with events.open("ab") as fh:
        fh.write(b'{"type": "metrics", "ti')  # a run still being written
    proc = subprocess.run([sys.executable, "-m", "trackreport", "runs", "--store", str(filled),
                           "--format", "csv", "--columns", "run_name"], capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": SRC})
    assert proc.returncode == 0
    assert proc.stderr.startswith("warning: ") and "torn last line" in proc.stderr
    assert "reader.py" not in proc.stderr and "Warning" not in proc.stderr


def _one_line_error(proc: subprocess.CompletedProcess[str], message: str) -> None:
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr
    assert message in proc.stderr, proc.stderr


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "trackreport", *args], capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": SRC})


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="root reads a chmod 000 file anyway; "
                           "test_unreadable_events_file_simulated covers it")
@pytest.mark.parametrize("command", ["runs", "show", "build", "check"])
def test_unreadable_events_file(filled: Path, command: str, tmp_path: Path) -> None:
    events = sorted((filled / "runs").glob("*/events-*.jsonl"))[0]
    events.chmod(0)
    try:
        args = {"runs": ["runs"], "show": ["show", events.parent.name],
                "build": ["build", "--out", str(tmp_path / "site")], "check": ["check"]}[command]
        proc = _cli(*args, "--store", str(filled))
        if command == "check":
            assert proc.returncode == 1 and "Traceback" not in proc.stderr
            assert f"error: cannot read {events}: Permission denied" in proc.stdout
        else:
            _one_line_error(proc, f"cannot read {events}: Permission denied")
    finally:
        events.chmod(0o644)


@pytest.mark.parametrize("command", ["runs", "show", "build", "check"])
def test_unreadable_events_file_simulated(filled: Path, command: str, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """As root chmod 000 does not stop reads: the storage layer raises PermissionError."""
    from trackreport.storage import LocalStorage

    events = sorted((filled / "runs").glob("*/events-*.jsonl"))[0]
    bad = f"runs/{events.parent.name}/{events.name}"
    original = LocalStorage.read_bytes

    def read_bytes(self: LocalStorage, rel: str, limit: int | None = None) -> bytes:
        if rel == bad:
            raise PermissionError(13, "Permission denied", str(self.root / rel))
        return original(self, rel, limit)

    monkeypatch.setattr(LocalStorage, "read_bytes", read_bytes)
    args = {"runs": ["runs"], "show": ["show", events.parent.name],
            "build": ["build", "--out", str(tmp_path / "site")], "check": ["check"]}[command]
    res = CliRunner().invoke(cli, [*args, "--store", str(filled)])
    assert res.exit_code == 1, res.output
    assert not isinstance(res.exception, PermissionError)
    if command == "check":
        assert f"error: cannot read {filled / bad}: Permission denied" in res.output
        assert res.output.splitlines()[-1].endswith("1 unreadable files")
    else:
        assert res.output.strip().splitlines()[-1] == (
            f"Error: cannot read {filled / bad}: Permission denied")
    with pytest.raises(tr.TrackreportError, match=r"cannot read .*Permission denied"):
        tr.load_runs(store=filled)


@pytest.mark.parametrize("command", ["runs", "show", "check", "build"])
def test_store_pointing_at_a_file(tmp_path: Path, command: str) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    args = ["show", "x"] if command == "show" else [command]
    _one_line_error(_cli(*args, "--store", str(path)), "is a file, not a store folder")


def test_sort_mixed_numbers_and_text(store: Path) -> None:
    for name, p in [("a", 10), ("b", "high"), ("c", 2), ("d", "2.5"), ("e", None), ("f", "")]:
        with tr.start_run(name=name):
            if p is not None:
                tr.log_param("p", p)
    res = invoke("runs", "--store", str(store), "--sort", "params.p", "--format", "csv",
                 "--columns", "run_name")
    assert res.exit_code == 0, res.output
    assert res.output.split() == ["run_name", "c", "d", "a", "f", "b", "e"]
    res = invoke("runs", "--store", str(store), "--sort", "params.p DESC", "--format", "csv",
                 "--columns", "run_name")
    assert res.output.split() == ["run_name", "a", "d", "c", "b", "f", "e"]


def test_show_strips_terminal_control_sequences(store: Path) -> None:
    """A store written by another tool (the library refuses control characters in keys)."""
    evil = "\x1b]0;pwned\x07\x1b[2J\x1b[31mred\x9b1m"
    with tr.start_run(name="plain") as run:
        pass
    events = sorted((store / "runs" / run.id).glob("events-*.jsonl"))[0]
    lines = [
        {"type": "run.start", "time": 1.0, "run_id": run.id, "experiment": f"e{evil}",
         "name": f"n{evil}", "context": {"user": f"u{evil}", "host": f"h{evil}",
                                           "entry_point": {"argv": ["x.py", f"--a{evil}"]}}},
        {"type": "params", "time": 2.0, "params": {f"p{evil}": f"x{evil}"}},
        {"type": "tags", "time": 2.0, "tags": {"t": f"v{evil}"}},
        {"type": "metrics", "time": 2.0, "step": 0, "values": {f"m{evil}": 1.0}},
        {"type": "note", "time": 2.0, "markdown": f"# note{evil}\nsecond line\x1b[0m"},
        {"type": "run.end", "time": 9.0, "status": "FAILED",
         "error": f"Boom{evil}\nTraceback line\x07"},
    ]
    events.write_text("".join(json.dumps(e) + "\n" for e in lines), "utf-8")
    res = invoke("show", run.id, "--store", str(store))
    assert res.exit_code == 0, res.output
    assert "\x1b" not in res.output and "\x9b" not in res.output and "\x07" not in res.output
    assert "pwned" not in res.output  # an OSC title sequence is removed whole
    for text in ("nred", "ered", "ured", "hred", "--ared", "xred", "vred", "mred",
                 "# notered", "second line", "FAILED: Boomred", "Traceback line"):
        assert text in res.output, text


@pytest.mark.parametrize(("marker", "message"), [
    ('{"format": "trackreport-store", "version": "1"}', "malformed store marker"),
    ('{"format": "trackreport-store", "version": true}', "malformed store marker"),
    ('{"format": "trackreport-store", "version": 0}', "malformed store marker"),
    ('{"format": "trackreport-store", "version": 2}', "upgrade trackreport"),
])
def test_store_marker_versions(tmp_path: Path, marker: str, message: str) -> None:
    (tmp_path / "trackreport-store.json").write_text(marker)
    proc = _cli("runs", "--store", str(tmp_path))
    _one_line_error(proc, message)
    if message != "upgrade trackreport":
        assert "upgrade" not in proc.stderr


@pytest.mark.parametrize("columns", [",,,", " , ", ""])
def test_columns_naming_nothing_is_an_error(filled: Path, columns: str) -> None:
    _one_line_error(_cli("runs", "--store", str(filled), "--columns", columns),
                    "names no column")


def test_build_stopped_by_sigterm_leaves_no_half_built_site(filled: Path, tmp_path: Path) -> None:
    """SIGTERM (a CI job's time limit) stops a build as Ctrl-C does: exit 143, the
    unfinished folder beside --out deleted, the workers gone, --out untouched."""
    import signal
    import time

    tr.end_run()
    out = tmp_path / "site"
    code = f"""
import os, sys, time
from trackreport.site import build
def slow(self, run_id):
    print(os.getpid(), flush=True)  # a worker that reads says who it is
    time.sleep(120)
build._Builder._prefetch_one = slow
from trackreport.cli import main
sys.argv = ["trackreport", "build", "--store", {str(filled)!r}, "--out", {str(out)!r}]
main()
"""
    env = {**os.environ, "PYTHONPATH": SRC, "TRACKREPORT_BUILD_WORKERS": "2"}
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        worker = int(proc.stdout.readline())
        assert list(tmp_path.glob(".site.building-*")), "the build has not started"
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == 143, err
    assert "Traceback" not in err, err
    assert list(tmp_path.glob(".site.building-*")) == []
    assert not out.exists()
    deadline = time.monotonic() + 10
    while Path(f"/proc/{worker}").exists() and time.monotonic() < deadline:
        state = Path(f"/proc/{worker}/stat").read_text().rpartition(")")[2].split()[0] \
            if Path(f"/proc/{worker}/stat").exists() else "Z"
        if state == "Z":
            break
        time.sleep(0.05)
    else:
        assert not Path(f"/proc/{worker}").exists(), "a worker outlived the build"
