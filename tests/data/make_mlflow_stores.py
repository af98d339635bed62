"""Write the MLflow fixture stores under tests/data/mlflow/ with real MLflow (run once).

    sh benchmarks/_mlflow_venv.sh
    benchmarks/.mlflow-venv/bin/python tests/data/make_mlflow_stores.py

Writes ``mlflow/file/mlruns`` (a file store), ``mlflow/sqlite/mlflow.db`` (with its
artifacts in ``mlflow/sqlite/mlruns``) and ``mlflow/expected.json``: what MLflow's
own client reads back from each (the values the import tests compare against),
with the MLflow version. MLflow is not a trackreport dependency.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
from pathlib import Path

import mlflow
import numpy as np
from mlflow.entities import Metric, Param, RunTag
from mlflow.tracking import MlflowClient
from sklearn.linear_model import LogisticRegression

os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow 3.x refuses file stores otherwise
HERE = Path(__file__).resolve().parent / "mlflow"
T0 = 1_780_000_000_000  # ms: fixed metric timestamps


def write(uri: str, scratch: Path | None = None) -> None:
    """Log the fixture set into the tracking (and registry) store at ``uri``.

    ``scratch``: a folder for the files logged with ``log_artifacts`` (default: next
    to the fixtures).
    """
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    client = MlflowClient()
    exp_id = mlflow.create_experiment(
        "wine-quality", tags={"mlflow.note.content": "Predict **wine** quality.", "team": "ml"})
    mlflow.set_experiment(experiment_id=exp_id)
    with mlflow.start_run(run_name="sweep"):
        mlflow.log_param("search", "grid")
        mlflow.set_tag("mlflow.note.content", "A small sweep.")
        mlflow.set_tag("mlflow.source.git.commit", "0123456789abcdef0123456789abcdef01234567")
        mlflow.set_tag("mlflow.source.git.repoURL", "https://user:s3cret@example.com/o/r.git")
        for i, alpha in enumerate([0.1, 0.5]):
            with mlflow.start_run(run_name=f"alpha-{alpha}", nested=True):
                mlflow.log_params({"alpha": alpha, "l1_ratio": 0.5})
                mlflow.set_tags({"kind": "child", "index": str(i)})
                for step in range(5):
                    mlflow.log_metric("rmse", 1.0 / (step + 1 + alpha), step=step,
                                      timestamp=T0 + 1000 * step)
                mlflow.log_metric("odd", math.nan, step=0, timestamp=T0)
                mlflow.log_metric("odd", math.inf, step=1, timestamp=T0 + 1)
                mlflow.log_metric("odd", -math.inf, step=2, timestamp=T0 + 2)
                mlflow.log_metric("dup", 3.0, step=0, timestamp=T0)
                mlflow.log_metric("dup", 3.0, step=0, timestamp=T0)  # an exact duplicate
                mlflow.log_metric("dup", 4.0, step=0, timestamp=T0 + 5)
        mlflow.log_metric("best_rmse", 0.66)
    with mlflow.start_run(run_name="model-run"):
        x = np.array([[0.0, 1.0], [1.0, 0.0], [0.2, 0.9], [0.9, 0.1]] * 3)
        y = np.array([0, 1, 0, 1] * 3)
        model = LogisticRegression().fit(x, y)
        mlflow.log_param("C", 1.0)
        mlflow.log_metric("train_acc", float(model.score(x, y)))
        mlflow.log_text("hello\n", "notes/readme.txt")
        mlflow.log_dict({"a": 1}, "config.json")
        folder = (scratch or HERE) / "_tmp_folder"
        (folder / "sub").mkdir(parents=True, exist_ok=True)
        (folder / "a.csv").write_text("x,y\n1,2\n")
        (folder / "sub" / "b.txt").write_text("b\n")
        mlflow.log_artifacts(str(folder), "data")
        shutil.rmtree(folder)
        mlflow.sklearn.log_model(model, name="model", registered_model_name="wine-model",
                                 serialization_format="pickle")
        mlflow.sklearn.log_model(model, name="model-2", registered_model_name="wine-model",
                                 serialization_format="pickle")
    client.set_registered_model_alias("wine-model", "champion", 2)
    client.set_registered_model_tag("wine-model", "owner", "ml-team")
    client.update_registered_model("wine-model", description="Wine quality classifier.")
    client.transition_model_version_stage("wine-model", 1, "Archived")
    with mlflow.start_run(run_name="failed-run"):
        mlflow.log_param("lr", 0.1)
        mlflow.end_run(status="FAILED")
    with mlflow.start_run(run_name="deleted-run") as gone:
        mlflow.log_param("lr", 0.2)
    client.delete_run(gone.info.run_id)
    # a run in "Default", logged through the client with entities
    run = client.create_run("0", run_name="client-run", tags={"mlflow.user": "ada"})
    client.log_batch(run.info.run_id, metrics=[Metric("loss", 0.5, T0, 0),
                                              Metric("loss", 0.25, T0 + 10, 1)],
                     params=[Param("epochs", "2")], tags=[RunTag("via", "client")])
    client.set_terminated(run.info.run_id, "KILLED")
    scratch = mlflow.create_experiment("scratch")
    with mlflow.start_run(experiment_id=scratch, run_name="in-deleted-exp"):
        mlflow.log_param("p", 1)
    mlflow.delete_experiment(scratch)
    mlflow.create_experiment("empty")


def expected(uri: str) -> dict:
    """What MLflow's client reads back: every live run with params, tags and metric histories."""
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    out: dict = {"experiments": {}, "runs": {}, "registry": {}}
    for exp in client.search_experiments(view_type=1):  # ACTIVE_ONLY
        out["experiments"][exp.name] = {"id": exp.experiment_id, "tags": exp.tags}
        for run in client.search_runs([exp.experiment_id]):
            histories = {}
            for key in run.data.metrics:
                histories[key] = [[m.step, m.timestamp, _num(m.value)]
                                  for m in client.get_metric_history(run.info.run_id, key)]
            out["runs"][run.info.run_id] = {
                "experiment": exp.name, "name": run.info.run_name, "status": run.info.status,
                "start_time": run.info.start_time, "end_time": run.info.end_time,
                "params": run.data.params, "tags": run.data.tags, "metrics": histories,
                "artifacts": sorted(_artifacts(client, run.info.run_id, ""))}
    for model in client.search_registered_models():
        out["registry"][model.name] = {
            "description": model.description, "tags": model.tags,
            "aliases": {a: int(v) for a, v in model.aliases.items()},
            "versions": {str(v.version): {"run_id": v.run_id, "stage": v.current_stage}
                         for v in client.search_model_versions(f"name='{model.name}'")}}
    return out


def _num(value: float) -> float | str:
    return value if math.isfinite(value) else str(value)


def _artifacts(client: MlflowClient, run_id: str, path: str) -> list[str]:
    out = []
    for info in client.list_artifacts(run_id, path or None):
        out += _artifacts(client, run_id, info.path) if info.is_dir else [info.path]
    return out


def main() -> None:
    if HERE.exists():
        shutil.rmtree(HERE)
    result = {"mlflow_version": mlflow.__version__, "python": sys.version.split()[0]}
    (HERE / "file").mkdir(parents=True)
    uri = (HERE / "file" / "mlruns").as_uri()
    write(uri)
    result["file"] = expected(uri)
    (HERE / "sqlite").mkdir(parents=True)
    cwd = os.getcwd()
    os.chdir(HERE / "sqlite")  # artifacts default to ./mlruns next to the database
    try:
        write("sqlite:///mlflow.db")
        result["sqlite"] = expected("sqlite:///mlflow.db")
    finally:
        os.chdir(cwd)
    (HERE / "expected.json").write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
    print("mlflow", mlflow.__version__, "->", HERE)


def to_uri(uri: str, expected_json: str) -> None:
    """Write the fixture set into ``uri`` (a server too) and what MLflow reads back into a file.

    Used by tests/test_mlflow_server.py: ``python make_mlflow_stores.py URI OUT.json``.
    """
    scratch = Path(expected_json).parent
    write(uri, scratch)
    result = {"mlflow_version": mlflow.__version__, "store": expected(uri)}
    Path(expected_json).write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    if len(sys.argv) == 3:
        to_uri(sys.argv[1], sys.argv[2])
    else:
        main()
