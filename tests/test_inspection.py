"""One bad line never breaks a store: check, runs, show, build and load_runs agree.

Every case is a run whose files hold one well-formed JSON line of the wrong
shape (or a captured context / parent link of the wrong type) next to good
lines. All cases live in one store, so each command is also shown to keep
working for every other run.
"""

from __future__ import annotations

import html
import json
import re
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner

import trackreport as tr
from trackreport.cli import cli
from trackreport.inspection import check_store
from trackreport.reader import ReadWarning, read_run
from trackreport.site.urls import run_slug
from trackreport.store import Store

START = {"type": "run.start", "time": 1.0, "experiment": "e", "parent_run_id": None,
         "context": {"user": "ada", "git": {"commit": "a" * 40, "branch": "main",
                                            "remote": "https://github.com/o/r.git"}}}
GOOD = [
    {"type": "params", "time": 2.0, "params": {"lr": 0.1}},
    {"type": "metrics", "time": 2.0, "step": 0, "values": {"m": 1.0}},
    {"type": "metrics", "time": 3.0, "step": 1, "values": {"m": 2.0}},
]
END = {"type": "run.end", "time": 9.0, "status": "FINISHED", "error": None}

# a bad line between the good ones: skipped and counted as a corrupt line
BAD_LINES = {
    "tags-list": {"type": "tags", "time": 2.5, "tags": ["a", "b"]},
    "tag-value-dict": {"type": "tags", "time": 2.5, "tags": {"t": {"x": 1}}},
    "params-string": {"type": "params", "time": 2.5, "params": "lr=0.1"},
    "artifact-size-text": {"type": "artifact", "time": 2.5, "path": "a.txt", "size": "big",
                           "sha256": "0", "media_type": "text/plain"},
    "artifact-path-escapes": {"type": "artifact", "time": 2.5, "path": "../x", "size": 1,
                              "sha256": "0", "media_type": "text/plain"},
    "artifact-path-number": {"type": "artifact", "time": 2.5, "path": 7, "size": 1},
    "image-not-object": {"type": "artifact", "time": 2.5, "path": "i.png", "size": 1,
                         "sha256": "0", "media_type": "image/png", "image": "samples"},
    "image-bad-step": {"type": "artifact", "time": 2.5, "path": "i.png", "size": 1,
                       "sha256": "0", "media_type": "image/png",
                       "image": {"key": "samples", "step": -3}},
    "metrics-time-huge": {"type": "metrics", "time": 1e308, "step": 2, "values": {"m": 3.0}},
    "metrics-time-text": {"type": "metrics", "time": "later", "step": 2, "values": {"m": 3.0}},
    "metrics-time-missing": {"type": "metrics", "step": 2, "values": {"m": 3.0}},
    "metrics-step-negative": {"type": "metrics", "time": 2.5, "step": -1, "values": {"m": 3.0}},
    "metrics-step-float": {"type": "metrics", "time": 2.5, "step": 1.5, "values": {"m": 3.0}},
    "metrics-step-bool": {"type": "metrics", "time": 2.5, "step": True, "values": {"m": 3.0}},
    "metrics-step-huge": {"type": "metrics", "time": 2.5, "step": 2**63, "values": {"m": 3.0}},
    "metrics-values-list": {"type": "metrics", "time": 2.5, "step": 2, "values": [3.0]},
    "metrics-value-text": {"type": "metrics", "time": 2.5, "step": 2, "values": {"m": "x"}},
    "metrics-value-bool": {"type": "metrics", "time": 2.5, "step": 2, "values": {"m": True}},
    "note-not-text": {"type": "note", "time": 2.5, "markdown": ["**hi**"]},
    "end-status-unknown": {"type": "run.end", "time": 9.5, "status": "DONE", "error": None},
    "end-error-object": {"type": "run.end", "time": 9.5, "status": "FAILED",
                         "error": {"why": 1}},
    "model-path-number": {"type": "model", "time": 2.5, "path": 3, "flavor": "sklearn"},
    "start-name-number": {**START, "time": 0.5, "name": 5},
    "start-experiment-list": {**START, "time": 0.5, "name": "x", "experiment": ["e"]},
    "resume-time-bool": {"type": "run.resume", "time": True},
    "no-type": {"time": 2.5, "step": 2},
}

# fields dropped with a warning; the rest of the line is kept
DROPPED = {
    "context-git-text": ({"git": "main"}, "git is a string"),
    "context-commit-int": ({"git": {"commit": 12345, "branch": "main"}}, "git.commit"),
    "context-not-object": ("ada@host", "context is not an object"),
    "context-python-list": ({"python": ["3.11"]}, "python is a list"),
    "context-argv-ints": ({"entry_point": {"path": "x.py", "argv": [1, 2]}}, "argv"),
    "context-packages-int": ({"packages": {"numpy": 2}}, "packages 'numpy'"),
    "context-user-int": ({"user": 5, "host": ["h"]}, "user is an integer"),
    "context-dirty-text": ({"git": {"commit": "b" * 40, "dirty": "yes"}}, "git.dirty"),
}
MISSING_PARENT = "20990101T000000Z-deadbeef"
PARENTS = {"parent-int": 7, "parent-dict": {"id": 1}, "parent-path": "../x",
           "parent-missing": MISSING_PARENT}
CASES = [*BAD_LINES, *DROPPED, *PARENTS, "start-fields-missing"]


def _rid(index: int) -> str:
    return f"20260101T00{index:04d}Z-{index:08x}"


def _line(event: dict) -> str:
    return json.dumps(event) + "\n"


@pytest.fixture(scope="module")
def bad_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A store with one run per case (plus a healthy run), and case -> run id."""
    root = tmp_path_factory.mktemp("bad") / "store"
    (root / "runs").mkdir(parents=True)
    (root / "trackreport-store.json").write_text('{"format":"trackreport-store","version":1}\n')
    ids = {}
    for index, case in enumerate(["healthy", *CASES]):
        rid = ids[case] = _rid(index)
        start = {**START, "run_id": rid, "name": case}
        if case in DROPPED:
            start["context"] = DROPPED[case][0]
        if case in PARENTS:
            start["parent_run_id"] = PARENTS[case]
        if case == "start-fields-missing":
            start = {"type": "run.start", "time": 1.0}
        lines = [_line({"type": "open", "format": 1, "writer": "a", "time": 1.0}),
                 _line(start), *map(_line, GOOD)]
        if case in BAD_LINES:
            lines.insert(3, _line(BAD_LINES[case]))  # line 4 of the file
        lines.append(_line(END))
        (root / "runs" / rid).mkdir()
        (root / "runs" / rid / "events-a.jsonl").write_text("".join(lines), "utf-8")
    (root / "experiments").mkdir()
    (root / "experiments" / "events-a.jsonl").write_text(
        _line({"type": "experiment", "time": 1.0, "name": "e", "primary_metric": "m"})
        + _line({"type": "experiment", "time": 2.0, "name": 7, "goal": "max"})
        + _line({"type": "experiment", "time": 3.0, "name": "e", "goal": "sideways"}), "utf-8")
    return root, ids


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_check_names_every_bad_line(bad_store: tuple[Path, dict[str, str]]) -> None:
    root, ids = bad_store
    res = invoke("check", "--store", str(root))
    assert res.exit_code == 1, res.output
    assert "Traceback" not in res.output
    for case in BAD_LINES:
        assert f"runs/{ids[case]}/events-a.jsonl: 1 corrupt line(s): line 4" in res.output, case
    assert "experiments/events-a.jsonl: 2 corrupt line(s): line 2, 3" in res.output
    assert "line 4: step -1 is out of range" in res.output
    assert "line 4: tags is a list, not an object" in res.output
    for case, (_, phrase) in DROPPED.items():
        assert re.search(rf"warning: run {ids[case]}: .*{re.escape(phrase)}", res.output), case
    for case in PARENTS:
        assert f"warning: run {ids[case]}: parent" in res.output, case
    summary = res.output.splitlines()[-1]
    assert summary.startswith(f"CORRUPT: {len(CASES) + 1} runs")
    assert f"{len(BAD_LINES) + 2} corrupt lines" in summary


def test_check_agrees_with_the_reader(bad_store: tuple[Path, dict[str, str]]) -> None:
    root, ids = bad_store
    result = check_store(Store(root))
    by_path = {f.path: len(f.corrupt_lines) for f in result.files}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ReadWarning)
        for case, rid in ids.items():
            run = read_run(Store(root), rid)
            assert run.problems.corrupt_lines == by_path[f"runs/{rid}/events-a.jsonl"], case
            assert run.problems.corrupt_lines == (1 if case in BAD_LINES else 0), case


def test_bad_lines_are_skipped_and_the_rest_read(bad_store: tuple[Path, dict[str, str]]) -> None:
    root, ids = bad_store
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ReadWarning)
        for case, rid in ids.items():
            run = read_run(Store(root), rid)
            assert run.metrics["m"].values == [1.0, 2.0], case
            assert run.params == {"lr": 0.1}, case
            assert run.status == "FINISHED" and run.end_time == 9.0, case
            assert run.parent_run_id is None, case
            assert isinstance(run.context, dict)
            if case in ("start-name-number", "start-experiment-list"):
                assert run.name == case  # the bad, earlier run.start was skipped
            git = run.context.get("git")
            assert git is None or (isinstance(git, dict) and all(
                isinstance(git.get(k), (str, type(None))) for k in ("commit", "branch")))
    run = read_run(Store(root), ids["context-commit-int"])
    assert run.context["git"] == {"branch": "main"} and run.git_commit is None
    run = read_run(Store(root), ids["start-fields-missing"])
    assert run.name == ids["start-fields-missing"] and run.experiment == "Default"


def test_load_runs_and_load_metrics(bad_store: tuple[Path, dict[str, str]]) -> None:
    root, ids = bad_store
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ReadWarning)
        df = tr.load_runs(store=root)
        hist = tr.load_metrics(store=root)
    assert len(df) == len(ids)
    assert set(df["status"]) == {"FINISHED"}
    assert df["parent_run_id"].isna().all()
    assert df["start_time"].notna().all()
    assert list(hist.groupby("run_id")["value"].sum().unique()) == [3.0]
    assert hist["time"].max() < 10


def test_runs_lists_every_run(bad_store: tuple[Path, dict[str, str]]) -> None:
    root, ids = bad_store
    res = CliRunner().invoke(cli, ["runs", "--store", str(root), "--format", "json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.output[res.output.index("["):])
    assert {r["run_id"] for r in rows} == set(ids.values())
    res = CliRunner().invoke(cli, ["runs", "--store", str(root)])
    assert res.exit_code == 0 and res.exception is None


@pytest.mark.parametrize("case", ["healthy", *CASES])
def test_show_every_run(bad_store: tuple[Path, dict[str, str]], case: str) -> None:
    root, ids = bad_store
    res = CliRunner().invoke(cli, ["show", ids[case], "--store", str(root)])
    assert res.exit_code == 0, res.output
    assert res.exception is None
    if case in BAD_LINES:
        assert "warning: 1 corrupt line(s) skipped." in res.output
    if case in PARENTS:
        assert "parent" in res.output and "the link is dropped" in res.output
    res = CliRunner().invoke(cli, ["show", ids[case], "--store", str(root), "--json"])
    assert res.exit_code == 0 and json.loads(res.output[res.output.index("{"):])["run_id"]


def test_build_shows_the_same_counts(bad_store: tuple[Path, dict[str, str]],
                                     tmp_path: Path) -> None:
    root, ids = bad_store
    out = tmp_path / "site"
    res = CliRunner().invoke(cli, ["build", "--store", str(root), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert f"{len(ids)} runs" in res.output
    for case, rid in ids.items():
        page = html.unescape((out / "runs" / run_slug(rid) / "index.html").read_text("utf-8"))
        has_problem = "1 corrupt line skipped." in page
        assert has_problem == (case in BAD_LINES), case
        if case in DROPPED:
            assert DROPPED[case][1] in page, case
        if case in PARENTS:
            assert "Part of run" not in page and "the link is dropped" in page, case
    page = (out / "runs" / run_slug(ids["healthy"]) / "index.html").read_text("utf-8")
    assert "Reading problems" not in page and "github.com/o/r/commit/" in page
