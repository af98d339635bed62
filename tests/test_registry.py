"""The model registry: versions, aliases, tags, names; concurrent registration from processes."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

import trackreport as tr
from proc_helpers import child_env, script
from trackreport.cli import cli
from trackreport.registry import aliases_by_experiment, read_events
from trackreport.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "store"
    tr.set_store(path)
    yield path
    while tr.active_run():
        tr.end_run()


def logged(name: str = "r", experiment: str = "churn") -> str:
    tr.set_experiment(experiment)
    with tr.start_run(name=name, capture=False) as run:
        tr.log_model({"name": name}, "model")
    return f"runs:/{run.id}/model"


def test_versions_aliases_tags_descriptions(store: Path) -> None:
    uris = [logged(f"r{i}") for i in range(3)]
    versions = [tr.register_model(u, "churn", tags={"data": "2026-11"},
                                  description=f"v from r{i}") for i, u in enumerate(uris)]
    assert [v.version for v in versions] == [1, 2, 3]
    assert versions[2].source == uris[2] and versions[2].tags == {"data": "2026-11"}
    tr.set_model_alias("churn", "champion", 2)
    assert tr.load_model("models:/churn@champion") == {"name": "r1"}
    tr.set_model_alias("churn", "champion", 3)  # the alias moves
    tr.set_model_alias("churn", "challenger", "2")
    assert tr.load_model("models:/churn@champion") == {"name": "r2"}
    assert tr.get_model_version("churn", 3).aliases == ["champion"]
    assert tr.get_model_version("churn", 2).aliases == ["challenger"]
    tr.delete_model_alias("churn", "challenger")
    tr.set_model_tag("churn", "team", "retention")
    tr.set_registered_model_description("churn", "Predicts **churn**.")
    (model,) = tr.list_models()
    assert model.name == "churn" and model.latest_version == 3
    assert model.aliases == {"champion": 3}
    assert model.tags == {"team": "retention"}
    assert model.description == "Predicts **churn**."
    assert [v.description for v in model.versions] == ["v from r0", "v from r1", "v from r2"]
    assert model.created == model.versions[0].created > 0
    assert aliases_by_experiment(Store(store)) == {"churn": [("churn", "champion",
                                                              model.versions[2])]}
    seqs = [e["seq"] for e in read_events(Store(store))]
    assert seqs == list(range(1, len(seqs) + 1))


def test_bad_names_aliases_and_versions_write_nothing(store: Path) -> None:
    uri = logged()
    tr.register_model(uri, "churn")
    before = read_events(Store(store))
    for name in ("a/b", "a@b", "", " x", "x" * 251):
        with pytest.raises(tr.TrackreportError, match="model name"):
            tr.register_model(uri, name)
    for alias in ("latest", "3", "a/b", "a@b"):
        with pytest.raises(tr.TrackreportError, match="alias"):
            tr.set_model_alias("churn", alias, 1)
    with pytest.raises(tr.ModelNotFoundError, match="has no version 2"):
        tr.set_model_alias("churn", "champion", 2)
    with pytest.raises(tr.TrackreportError, match="version must be an integer >= 1"):
        tr.set_model_alias("churn", "champion", 0)
    with pytest.raises(tr.ModelNotFoundError, match="no registered model 'other'"):
        tr.set_model_tag("other", "k", "v")
    with pytest.raises(tr.ModelNotFoundError, match="has no alias 'champion'"):
        tr.delete_model_alias("churn", "champion")
    assert read_events(Store(store)) == before


RACE = """
start = float(sys.argv[3])
while time.time() < start:
    time.sleep(0.001)
v = tr.register_model(sys.argv[2], "churn", description="proc-" + sys.argv[4])
print(v.version, flush=True)
"""


def test_eight_processes_get_eight_distinct_versions(store: Path) -> None:
    uri = logged()
    start = time.time() + 3.0
    procs = [subprocess.Popen([sys.executable, "-c", script(RACE), str(store), uri, str(start),
                               str(i)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=child_env()) for i in range(8)]
    returned = {}
    for i, proc in enumerate(procs):
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        returned[i] = int(out.strip())
    assert sorted(returned.values()) == list(range(1, 9))
    for i, version in returned.items():
        assert tr.get_model_version("churn", version).description == f"proc-{i}"
    assert len(list((store / "registry").glob("events-*.jsonl"))) == 8  # one file per process


def test_cli_models_commands(store: Path) -> None:
    uri = logged("rf-300")
    run_id = uri.split("/")[1]
    runner = CliRunner()
    base = ["--store", str(store)]
    res = runner.invoke(cli, ["models", "list", *base])
    assert res.exit_code == 0 and "No registered models." in res.output
    res = runner.invoke(cli, ["models", "register", f"{run_id[:20]}/model", "churn", *base])
    assert res.exit_code == 0, res.output
    assert f"Registered churn version 1 from runs:/{run_id}/model" in res.output
    res = runner.invoke(cli, ["models", "alias", "churn", "champion", "1", *base])
    assert res.exit_code == 0 and "churn@champion -> version 1" in res.output
    res = runner.invoke(cli, ["models", "list", *base])
    assert "churn" in res.output and "champion=v1" in res.output
    res = runner.invoke(cli, ["models", "show", "churn", *base])
    assert "@champion -> version 1" in res.output and f"runs:/{run_id}/model" in res.output
    for args, message in (
        (["models", "show", "nope"], "no registered model 'nope'"),
        (["models", "alias", "churn", "champion", "9"], "has no version 9"),
        (["models", "alias", "churn", "latest", "1"], "alias 'latest' is reserved"),
        (["models", "register", f"{run_id}/nothing", "churn"], "has no model at 'nothing'"),
    ):
        res = runner.invoke(cli, [*args, *base])
        assert res.exit_code == 1, res.output
        lines = res.output.strip().splitlines()
        assert len(lines) == 1 and message in lines[0] and "Traceback" not in res.output


def test_registry_events_are_strict_jsonl_with_seq(store: Path) -> None:
    tr.register_model(logged(), "churn")
    (path,) = (store / "registry").glob("events-*.jsonl")
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines[0]["type"] == "open" and lines[1]["type"] == "registry.version"
    assert lines[1]["seq"] == 1 and lines[1]["version"] == 1
