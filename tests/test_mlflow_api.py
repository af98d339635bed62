"""`import trackreport.mlflow as mlflow` in-process: MLflow's shapes over a trackreport store."""

from __future__ import annotations

from pathlib import Path

import pytest

import trackreport as tr
import trackreport.mlflow as mlflow
from trackreport import fluent
from trackreport.mlflow.entities import Metric, Param, RunTag
from trackreport.mlflow.exceptions import MlflowException


@pytest.fixture(autouse=True)
def _store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TRACKREPORT_CAPTURE", "0")
    monkeypatch.delenv("TRACKREPORT_MLFLOW_PINNED", raising=False)
    mlflow.set_tracking_uri(f"file:{tmp_path / 'store'}")
    tr.set_experiment("Default")
    yield tmp_path / "store"
    while fluent.active_run() is not None:
        fluent.end_run()


def test_run_info_data_and_experiment_ids(_store: Path) -> None:
    exp = mlflow.set_experiment("taxi")
    assert exp.name == "taxi" and exp.experiment_id.isdigit()
    assert mlflow.get_experiment_by_name("Default").experiment_id == "0"
    with mlflow.start_run(run_name="r1", tags={"team": "a"}) as run:
        mlflow.log_param("alpha", 0.5)
        mlflow.log_metric("loss", 2.0, step=3, timestamp=1_700_000_000_000)
        info = run.info
        assert info.run_id == info.run_uuid and info.run_name == "r1"
        assert info.experiment_id == exp.experiment_id and info.status == "RUNNING"
        assert info.artifact_uri == (_store / "runs" / info.run_id / "artifacts").resolve().as_uri()
        assert mlflow.get_artifact_uri("model") == info.artifact_uri + "/model"
    got = mlflow.get_run(info.run_id)
    assert got.info.status == "FINISHED" and got.info.end_time >= got.info.start_time
    assert got.data.params == {"alpha": "0.5"}
    assert got.data.metrics == {"loss": 2.0}
    assert got.data.tags["team"] == "a" and got.data.tags["mlflow.runName"] == "r1"
    history = mlflow.MlflowClient().get_metric_history(info.run_id, "loss")
    assert [(m.step, m.timestamp, m.value) for m in history] == [(3, 1_700_000_000_000, 2.0)]
    assert mlflow.last_active_run().info.run_id == info.run_id


def test_errors_are_mlflow_exceptions() -> None:
    with mlflow.start_run():
        with pytest.raises(MlflowException, match="already active"):
            mlflow.start_run()
        mlflow.log_param("p", 1)
        with pytest.raises(MlflowException, match="'p'"):
            mlflow.log_param("p", 2)
        with pytest.raises(MlflowException, match="metric key"):
            mlflow.log_metric("", 1.0)
    with pytest.raises(MlflowException, match="No Experiment with id=12345"):
        mlflow.get_experiment("12345")
    for uri in ("http://host:5000", "databricks", "sqlite:///x.db"):
        with pytest.raises(MlflowException, match="is not supported"):
            mlflow.set_tracking_uri(uri)
    with pytest.raises(MlflowException, match=r"mlflow\.projects\.run is not supported"):
        mlflow.projects.run(".")


def test_search_runs_columns_filter_and_order() -> None:
    mlflow.set_experiment("search")
    for i, lr in enumerate([0.1, 0.01, 0.001]):
        with mlflow.start_run(run_name=f"run-{i}"):
            mlflow.log_params({"lr": lr, "model": "mlp" if i else "rf"})
            mlflow.log_metric("acc", 0.5 + i / 10, step=0)
    df = mlflow.search_runs()
    assert list(df.columns[:6]) == ["run_id", "experiment_id", "status", "artifact_uri",
                                    "start_time", "end_time"]
    assert {"metrics.acc", "params.lr", "params.model", "tags.mlflow.runName"} <= set(df.columns)
    assert set(df["experiment_id"]) == {mlflow.get_experiment_by_name("search").experiment_id}
    top = mlflow.search_runs(filter_string="params.model = 'mlp' and metrics.acc > 0.55",
                             order_by=["metrics.acc DESC"])
    assert list(top["tags.mlflow.runName"]) == ["run-2", "run-1"]
    assert list(top["params.lr"]) == ["0.001", "0.01"]
    assert len(mlflow.search_runs(experiment_names=["search"], max_results=1)) == 1
    runs = mlflow.search_runs(filter_string="tags.mlflow.runName = 'run-0'", output_format="list")
    assert [r.info.run_name for r in runs] == ["run-0"]
    assert mlflow.search_runs(experiment_names=["Default"]).empty


def test_search_runs_params_read_as_logged_when_some_runs_lack_them() -> None:
    mlflow.set_experiment("depths")
    for name, params in [("tree", {"max_depth": 3}), ("linear", {"C": 1.0})]:
        with mlflow.start_run(run_name=name):
            mlflow.log_params(params)
    df = mlflow.search_runs(order_by=["tags.mlflow.runName"])
    import pandas as pd

    # as MLflow: "3", never "3.0"; a run without the param has an empty cell
    assert pd.isna(df["params.max_depth"][0]) and df["params.max_depth"][1] == "3"
    assert df["params.C"][0] == "1.0" and pd.isna(df["params.C"][1])
    assert list(mlflow.search_runs(filter_string="params.max_depth = '3'")["tags.mlflow.runName"]) \
        == ["tree"]


def test_client_batch_artifact_folder_and_dataset(tmp_path: Path) -> None:
    client = mlflow.MlflowClient()
    exp_id = client.create_experiment("client")
    run = client.create_run(exp_id, run_name="c")
    rid = run.info.run_id
    assert mlflow.active_run() is None
    client.log_batch(rid, metrics=[Metric("m", 1.0, 1000, 0), Metric("m", 2.0, 2000, 1)],
                     params=[Param("a", "1")], tags=[RunTag("t", "x")])
    folder = tmp_path / "outputs"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "f.txt").write_text("hi")
    client.log_artifact(rid, str(folder))
    client.set_terminated(rid, "FAILED")
    got = client.get_run(rid)
    assert got.info.status == "FAILED" and got.data.metrics == {"m": 2.0}
    assert [f.path for f in client.list_artifacts(rid)] == ["outputs"]
    assert [f.path for f in client.list_artifacts(rid, "outputs/sub")] == ["outputs/sub/f.txt"]
    local = client.download_artifacts(rid, "outputs/sub/f.txt", str(tmp_path / "dl"))
    assert Path(local).read_text() == "hi"

    import numpy as np

    with mlflow.start_run() as active:
        ds = mlflow.data.from_numpy(np.zeros((7, 3)), name="feats")
        mlflow.log_input(ds, context="training")
    record = tr.get_run(active.info.run_id)
    assert record.datasets[0]["name"] == "feats" and record.datasets[0]["rows"] == 7
    assert record.datasets[0]["schema"] == {"type": "array", "shape": [-1, 3], "dtype": "float64"}
    assert record.datasets[0]["context"] == "training"
    inputs = mlflow.get_run(active.info.run_id).inputs.dataset_inputs
    assert inputs[0].dataset.digest == ds.digest and inputs[0].tags[0].value == "training"


def test_sklearn_log_model_register_and_autolog() -> None:
    import numpy as np
    from sklearn.linear_model import LinearRegression

    x = np.arange(20, dtype=float).reshape(10, 2)
    y = x @ np.array([1.0, 2.0]) + 3
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(LinearRegression().fit(x, y), name="lr",
                                        registered_model_name="lin")
    assert info.registered_model_version == 1
    assert np.allclose(mlflow.pyfunc.load_model("models:/lin/1").predict(x), y)
    client = mlflow.MlflowClient()
    client.set_registered_model_alias("lin", "champion", 1)
    assert client.get_model_version_by_alias("lin", "champion").run_id == info.run_id

    mlflow.sklearn.autolog()
    try:
        LinearRegression().fit(x, y)
    finally:
        mlflow.sklearn.autolog(disable=True)
    run = mlflow.last_active_run()
    assert run.data.params["fit_intercept"] == "True"
    assert run.data.metrics["training_r2_score"] == pytest.approx(1.0)
    assert run.data.tags["estimator_name"] == "LinearRegression"
    assert isinstance(mlflow.sklearn.load_model(f"runs:/{run.info.run_id}/model"),
                      LinearRegression)
    artifacts = {f.path for f in mlflow.MlflowClient().list_artifacts(run.info.run_id, "model")}
    assert {"model/MLmodel", "model/model.json", "model/requirements.txt"} <= artifacts


def test_search_experiments_filters_order_and_experiment_tags(_store: Path) -> None:
    client = mlflow.MlflowClient()
    ids = {}
    for name, team in (("alpha-prod", "a"), ("alpha-dev", "b"), ("beta", "a")):
        ids[name] = mlflow.create_experiment(name, tags={"team": team})
    mlflow.set_experiment("beta")
    mlflow.set_experiment_tag("stage", "live")
    mlflow.set_experiment_tags({"owner": "ml", "mlflow.note.content": "Beta **notes**"})
    client.set_experiment_tag(ids["alpha-dev"], "team", "c")  # the last value wins

    def names(**kw: object) -> list[str]:
        return [e.name for e in mlflow.search_experiments(**kw)]

    assert names(filter_string="name LIKE 'alpha%'", order_by=["name"]) == ["alpha-dev",
                                                                           "alpha-prod"]
    assert names(filter_string="tags.team = 'a'", order_by=["name DESC"]) == ["beta",
                                                                             "alpha-prod"]
    assert names(filter_string="tags.team = 'a' AND name != 'beta'") == ["alpha-prod"]
    assert names(filter_string="attributes.name ILIKE 'BETA'") == ["beta"]
    assert names(filter_string="tags.stage IS NOT NULL") == ["beta"]
    assert names(filter_string="tags.team = 'c'") == ["alpha-dev"]
    assert names(order_by=["name"], max_results=2) == ["Default", "alpha-dev"]
    assert names(view_type=mlflow.entities.ViewType.DELETED_ONLY) == []
    newest_first = names()  # MLflow's default: creation time, newest first
    assert newest_first[:3] == ["beta", "alpha-dev", "alpha-prod"] and "Default" in newest_first
    assert [e.name for e in client.search_experiments(filter_string="name = 'beta'")] == ["beta"]
    beta = mlflow.get_experiment_by_name("beta")
    assert beta.tags == {"team": "a", "stage": "live", "owner": "ml",
                         "mlflow.note.content": "Beta **notes**"}
    assert beta.creation_time is not None
    assert tr.reader.read_experiments(tr.store.Store(_store))["beta"].description == \
        "Beta **notes**"
    for bad, message in (("name > ", "invalid filter"), ("color = 'x'", "unknown attribute")):
        with pytest.raises(MlflowException, match=message):
            mlflow.search_experiments(filter_string=bad)
    with pytest.raises(MlflowException, match="cannot order by 'color'"):
        mlflow.search_experiments(order_by=["color"])
    with pytest.raises(MlflowException, match="experiment tag key"):
        mlflow.set_experiment_tag("", "x")


def test_run_name_tag_renames_and_params_compare_as_text(_store: Path) -> None:
    with mlflow.start_run(run_name="first") as run:
        mlflow.set_tag("mlflow.runName", "second")
        assert run.info.run_name == "second"
        # as in MLflow: a param logged again is compared by its text
        mlflow.log_param("epochs", 1)
        mlflow.log_param("epochs", "1")
        mlflow.log_params({"lr": 0.5})
        mlflow.log_params({"lr": "0.5"})
        with pytest.raises(MlflowException, match=r"key='epochs'.*value='1'.*'1\.0'"):
            mlflow.log_param("epochs", 1.0)  # "1" != "1.0": MLflow refuses it too
        with pytest.raises(MlflowException, match="Changing param values is not allowed"):
            mlflow.MlflowClient().log_batch(run.info.run_id, params=[Param("lr", "0.25")])
    got = mlflow.get_run(run.info.run_id)
    assert got.info.run_name == "second" and got.data.tags["mlflow.runName"] == "second"
    assert got.data.params == {"epochs": "1", "lr": "0.5"}
    record = tr.get_run(run.info.run_id)
    assert record.name == "second" and "mlflow.runName" not in record.tags
    assert record.params == {"epochs": 1, "lr": 0.5}  # kept as first logged
    df = mlflow.search_runs(filter_string="tags.mlflow.runName = 'second'")
    assert list(df["run_id"]) == [run.info.run_id]
    client = mlflow.MlflowClient()
    client.update_run(run.info.run_id, name="third")
    assert mlflow.get_run(run.info.run_id).info.run_name == "third"
    with pytest.raises(MlflowException, match="run name"):
        client.set_tag(run.info.run_id, "mlflow.runName", "")


def test_sklearn_log_model_writes_mlflow_model_files(_store: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import json
    import sys

    import numpy as np
    import pandas as pd
    import yaml
    from sklearn.linear_model import LogisticRegression

    x = pd.DataFrame({"a": [0.0, 1.0, 0.2, 0.9], "b": [1.0, 0.0, 0.9, 0.1]})
    model = LogisticRegression().fit(x, np.array([0, 1, 0, 1]))
    with mlflow.start_run() as run:
        mlflow.sklearn.log_model(model, name="frame", input_example=x.head(2))
        mlflow.sklearn.log_model(model, artifact_path="pickled",
                                 serialization_format="cloudpickle")
        monkeypatch.setitem(sys.modules, "yaml", None)  # no PyYAML: JSON, which YAML reads
        mlflow.sklearn.log_model(model, name="no-yaml")
    folder = _store / "runs" / run.info.run_id / "artifacts"
    frame = yaml.safe_load((folder / "frame" / "MLmodel").read_text())
    assert frame["flavors"]["python_function"]["loader_module"] == "mlflow.sklearn"
    assert frame["flavors"]["python_function"]["model_path"] == "model.skops"
    assert frame["flavors"]["sklearn"]["serialization_format"] == "skops"
    assert frame["flavors"]["sklearn"]["pickled_model"] == "model.skops"
    assert frame["run_id"] == run.info.run_id
    assert json.loads(frame["signature"]["inputs"]) == [
        {"type": "double", "name": "a", "required": True},
        {"type": "double", "name": "b", "required": True}]
    assert json.loads(frame["signature"]["outputs"])[0]["tensor-spec"]["dtype"] == "int64"
    assert frame["saved_input_example_info"]["type"] == "dataframe"
    example = json.loads((folder / "frame" / "input_example.json").read_text())
    assert example == {"columns": ["a", "b"], "data": [[0.0, 1.0], [1.0, 0.0]]}
    assert json.loads((folder / "frame" / "serving_input_example.json").read_text()) == {
        "dataframe_split": example}
    assert "scikit-learn==" in (folder / "frame" / "requirements.txt").read_text()
    for name in ("python_env.yaml", "conda.yaml"):
        assert yaml.safe_load((folder / "frame" / name).read_text())
    pickled = yaml.safe_load((folder / "pickled" / "MLmodel").read_text())
    assert pickled["flavors"]["sklearn"]["serialization_format"] == "pickle"
    assert (folder / "pickled" / "model.pkl").is_file() and "signature" not in pickled
    plain = json.loads((folder / "no-yaml" / "MLmodel").read_text())
    assert plain["flavors"]["sklearn"]["pickled_model"] == "model.skops"
    for name in ("frame", "pickled", "no-yaml"):  # still trackreport models too
        loaded = mlflow.pyfunc.load_model(f"runs:/{run.info.run_id}/{name}")
        assert list(loaded.predict(x)) == [0, 1, 0, 1]


def test_experiments_made_in_one_millisecond_keep_their_order(
        _store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import itertools
    import time

    clock = itertools.count()
    monkeypatch.setattr(time, "time", lambda: 1.9e9 + next(clock) * 1e-5)
    for name in ("alpha-prod", "alpha-dev", "beta"):
        mlflow.create_experiment(name)
    assert [e.name for e in mlflow.search_experiments()][:3] == ["beta", "alpha-dev",
                                                                  "alpha-prod"]
    oldest_first = [e.name for e in mlflow.search_experiments(order_by=["creation_time"])]
    assert [n for n in oldest_first if n != "Default"] == ["alpha-prod", "alpha-dev", "beta"]
