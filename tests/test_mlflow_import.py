"""`trackreport import mlflow`: fixture stores written by real MLflow, compared value by value.

tests/data/mlflow/ was written once by tests/data/make_mlflow_stores.py with the
MLflow version recorded in expected.json (what MLflow's own client read back).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import trackreport as tr
from trackreport.importers.mlflow_import import import_mlflow
from trackreport.reader import iter_runs
from trackreport.registry import read_registry
from trackreport.store import Store

DATA = Path(__file__).parent / "data" / "mlflow"
EXPECTED = json.loads((DATA / "expected.json").read_text())
SRC = str(Path(__file__).parent.parent / "src")
MAPPED = {"mlflow.runName", "mlflow.parentRunId", "mlflow.user", "mlflow.source.name",
          "mlflow.source.git.commit", "mlflow.source.git.branch", "mlflow.source.git.repoURL",
          "mlflow.note.content"}


def _source(kind: str, root: Path) -> str:
    """A copy of the fixture store of ``kind`` under ``root`` (the import must not need the original)."""
    shutil.copytree(DATA / kind, root / kind)
    if kind == "file":
        return str(root / "file" / "mlruns")
    return f"sqlite:///{root / 'sqlite' / 'mlflow.db'}"


def _by_mlflow_id(store: Store) -> dict[str, tr.Run]:  # type: ignore[name-defined]
    return {run.imported_from["run_id"]: run for run in iter_runs(store)
            if run.imported_from}


def _placeholder(v: float | str) -> float | str:
    if isinstance(v, float) and abs(v) >= 1.7976931348623157e308:
        return "inf" if v > 0 else "-inf"
    return v


def _value(v: float) -> float | str:
    return v if math.isfinite(v) else {"nan": "nan", "inf": "inf", "-inf": "-inf"}[str(v)]


@pytest.mark.parametrize("kind", ["file", "sqlite"])
def test_import_matches_what_mlflow_recorded(kind: str, tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    report = import_mlflow(_source(kind, tmp_path), store)
    expected = EXPECTED[kind]
    runs = _by_mlflow_id(store)
    assert set(runs) == set(expected["runs"])
    for mid, want in expected["runs"].items():
        run = runs[mid]
        assert run.imported_from == {"system": "mlflow", "run_id": mid,
                                     "experiment_id": expected["experiments"][want["experiment"]]["id"]}
        assert run.name == want["name"]
        assert run.experiment == want["experiment"]
        assert run.status == want["status"]
        assert run.start_time == want["start_time"] / 1000
        assert run.end_time == want["end_time"] / 1000
        assert run.params == want["params"]
        user_tags = {k: v for k, v in want["tags"].items() if k not in MAPPED}
        assert run.tags == user_tags
        assert run.user == want["tags"].get("mlflow.user")
        assert set(run.metrics) == set(want["metrics"])
        for key, points in want["metrics"].items():
            series = run.metrics[key]
            got = sorted(zip(series.steps, [round(t * 1000) for t in series.times],
                             map(_value, series.values), strict=True), key=str)
            # MLflow's SQL store hands back its +-1.797e308 placeholders; we import +-Infinity
            unique = sorted({(step, ts, _placeholder(v)) for step, ts, v in points}, key=str)
            assert got == unique, key
        paths = {a.path for a in run.artifacts}
        assert set(want["artifacts"]) <= paths
    assert report.skipped["deleted runs"] == 1
    assert report.skipped["deleted experiments"] == 1
    assert report.skipped["empty experiments"] == 1
    assert report.imported["runs"] == len(expected["runs"])


@pytest.mark.parametrize("kind", ["file", "sqlite"])
def test_mapping_rules(kind: str, tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    import_mlflow(_source(kind, tmp_path), store)
    runs = {r.name: r for r in iter_runs(store)}
    sweep = runs["sweep"]
    assert runs["alpha-0.1"].parent_run_id == sweep.run_id
    assert runs["alpha-0.5"].parent_run_id == sweep.run_id
    assert sweep.git_commit == "0123456789abcdef0123456789abcdef01234567"
    assert sweep.context["git"]["remote"] == "https://example.com/o/r.git"
    assert [n.markdown for n in sweep.notes] == ["A small sweep."]
    odd = runs["alpha-0.1"].metrics["odd"]
    assert math.isnan(odd.values[0]) and odd.values[1:] == [math.inf, -math.inf]
    assert runs["alpha-0.1"].metrics["dup"].values == [3.0, 4.0]  # the exact duplicate once
    assert runs["client-run"].experiment == "Default"
    assert runs["client-run"].status == "KILLED"
    assert runs["failed-run"].status == "FAILED"
    assert "in-deleted-exp" not in runs and "deleted-run" not in runs
    assert sweep.run_id.endswith(sweep.imported_from["run_id"][:8])
    exps = tr.reader.read_experiments(store)
    assert exps["wine-quality"].description == "Predict **wine** quality."
    want = EXPECTED[kind]["experiments"]["wine-quality"]["tags"]
    assert exps["wine-quality"].tags == {k: v for k, v in want.items()
                                         if k != "mlflow.note.content"} == {"team": "ml"}
    assert "empty" not in exps and "scratch" not in exps


@pytest.mark.parametrize("kind", ["file", "sqlite"])
def test_registry_and_models(kind: str, tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    import_mlflow(_source(kind, tmp_path), store)
    want = EXPECTED[kind]["registry"]["wine-model"]
    model = read_registry(store)["wine-model"]
    runs = _by_mlflow_id(store)
    assert {str(v.version) for v in model.versions} == set(want["versions"])
    for v in model.versions:
        assert v.run_id == runs[want["versions"][str(v.version)]["run_id"]].run_id
        stage = want["versions"][str(v.version)]["stage"]
        assert v.tags.get("stage") == (stage if stage != "None" else None)
    assert model.aliases == want["aliases"]
    assert model.tags == want["tags"]
    assert model.description == want["description"]
    loaded = tr.load_model("models:/wine-model@champion", store=store.root)
    assert list(loaded.predict([[0.0, 1.0], [1.0, 0.0]])) == [0, 1]
    mid = want["versions"]["1"]["run_id"]
    again = tr.load_model(f"runs:/{mid}/model", store=store.root)
    assert list(again.predict([[0.0, 1.0]])) == [0]
    assert runs[mid].models and {m["path"] for m in runs[mid].models} >= {"model", "model-2"}


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file() and p.name != ".lock"}


@pytest.mark.parametrize("kind", ["file", "sqlite"])
def test_reimport_is_idempotent(kind: str, tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    source = _source(kind, tmp_path)
    import_mlflow(source, store)
    before = _files(store.root)
    report = import_mlflow(source, store)
    assert report.summary().startswith("imported: nothing new")
    assert _files(store.root) == before


def test_changed_run_appends_only_what_is_new(tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    source = _source("file", tmp_path)
    import_mlflow(source, store)
    mid = next(m for m, r in EXPECTED["file"]["runs"].items() if r["name"] == "alpha-0.1")
    exp_id = EXPECTED["file"]["experiments"]["wine-quality"]["id"]
    run_dir = Path(source) / exp_id / mid
    with open(run_dir / "metrics" / "rmse", "a") as fh:
        fh.write("1780000009000 0.125 5\n")
    (run_dir / "params" / "new_param").write_text("7")
    meta = (run_dir / "meta.yaml").read_text().replace("status: 3", "status: 4")
    (run_dir / "meta.yaml").write_text(meta)
    (run_dir / "tags" / "mlflow.runName").write_text("alpha-renamed")  # renamed in MLflow
    (Path(source) / exp_id / "tags" / "team").write_text("ml-2")  # an experiment tag changed
    report = import_mlflow(source, store)
    assert report.imported["runs updated"] == 1 and report.imported["runs"] == 0
    assert report.imported["metric points"] == 1 and report.imported["params"] == 1
    assert report.imported["experiment tags"] == 1
    assert tr.reader.read_experiments(store)["wine-quality"].tags == {"team": "ml-2"}
    run = _by_mlflow_id(store)[mid]
    assert run.name == "alpha-renamed"
    assert run.metrics["rmse"].steps == [0, 1, 2, 3, 4, 5]
    assert run.metrics["rmse"].values[-1] == 0.125
    assert run.params["new_param"] == "7"
    assert run.status == "FAILED"


def test_cli_import_then_build(tmp_path: Path) -> None:
    source = _source("file", tmp_path)
    env = {**os.environ, "PYTHONPATH": SRC, "CI": "1"}
    store = tmp_path / "store"
    done = subprocess.run([sys.executable, "-m", "trackreport", "import", "mlflow", source,
                           "--store", str(store), "--experiment", "wine-quality"],
                          capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr
    assert "imported: 1 experiments, 5 runs" in done.stdout
    # only the chosen experiment was looked at: no deleted or empty experiments counted
    assert done.stdout.strip().endswith("skipped: 1 deleted runs")
    built = subprocess.run([sys.executable, "-m", "trackreport", "build", "--store", str(store),
                            "--out", str(tmp_path / "site")],
                           capture_output=True, text=True, env=env, check=False)
    assert built.returncode == 0, built.stderr
    assert (tmp_path / "site" / "index.html").read_text().count("wine-quality") >= 1


def test_cli_import_into_a_store_on_s3_as_into_a_folder(s3_store: str, tmp_path: Path) -> None:
    source = _source("file", tmp_path)
    env = {**os.environ, "PYTHONPATH": SRC, "CI": "1"}

    def cli(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "trackreport", *args], capture_output=True,
                              text=True, env=env, check=False, timeout=300)
        assert done.returncode == 0, done.stderr
        return done.stdout

    stores = [s3_store, str(tmp_path / "local")]
    for store in stores:
        assert "imported: 2 experiments, 6 runs" in cli("import", "mlflow", source, "--store",
                                                          store)
    assert cli("import", "mlflow", source, "--store", s3_store).startswith(
        "imported: nothing new")
    tables = [json.loads(cli("runs", "--store", store, "--format", "json")) for store in stores]
    assert len(tables[0]) == 6 and tables[0] == tables[1]
    models = [cli("models", "list", "--store", store) for store in stores]
    assert "wine-model" in models[0] and models[0] == models[1]
    cli("build", "--store", s3_store, "--out", str(tmp_path / "site"))
    site = tmp_path / "site"
    assert "wine-model" in (site / "models" / "index.html").read_text("utf-8")
    copied = {p.name for p in site.glob("runs/*/files/**/*") if p.is_file()}
    assert {"a.csv", "b.txt", "model.json", "conda.yaml"} <= copied, copied  # from the bucket


def test_cli_bad_source_is_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": SRC}
    for source in ["https://mlflow.example.com", str(tmp_path / "nothing-here")]:
        done = subprocess.run([sys.executable, "-m", "trackreport", "import", "mlflow", source,
                               "--store", str(tmp_path / "store")],
                              capture_output=True, text=True, env=env, check=False)
        assert done.returncode == 1
        assert "Traceback" not in done.stderr
        assert source in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_server_uri_without_mlflow_is_one_line_naming_the_way_out(tmp_path: Path) -> None:
    # this venv has no mlflow package (tests/test_mlflow_server.py covers the one with it)
    env = {**os.environ, "PYTHONPATH": SRC}
    done = subprocess.run([sys.executable, "-m", "trackreport", "import", "mlflow",
                           "http://127.0.0.1:9", "--store", str(tmp_path / "s")],
                          capture_output=True, text=True, env=env, check=False, timeout=60)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "'http://127.0.0.1:9'" in lines[0] and "pip install mlflow" in lines[0]
    assert "sqlite:///" in lines[0] and "mlruns" in lines[0]
    assert not (tmp_path / "s").exists()  # nothing half-written


def test_remote_artifact_uris_without_mlflow_are_skipped_and_said(tmp_path: Path) -> None:
    source = Path(_source("file", tmp_path))
    meta = next(p for p in sorted(source.glob("*/*/meta.yaml"))
                if EXPECTED["file"]["runs"].get(p.parent.name, {}).get("artifacts"))
    mid = meta.parent.name
    meta.write_text("\n".join(
        f"artifact_uri: s3://bucket/mlruns/{mid}/artifacts" if line.startswith("artifact_uri:")
        else line for line in meta.read_text().splitlines()) + "\n")
    assert "mlflow" not in sys.modules or "+trackreport" in str(
        getattr(sys.modules["mlflow"], "__version__", "+trackreport"))
    store = Store(tmp_path / "store")
    report = import_mlflow(str(source), store)
    reason = "runs with remote artifact URIs (not copied: install mlflow to fetch them)"
    assert report.skipped[reason] == 1
    runs = _by_mlflow_id(store)
    assert not set(EXPECTED["file"]["runs"][mid]["artifacts"]) & {a.path for a in runs[mid].artifacts}
    assert set(runs) == set(EXPECTED["file"]["runs"])  # everything else of every run is there
    assert set(runs[mid].metrics) == set(EXPECTED["file"]["runs"][mid]["metrics"])
