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
