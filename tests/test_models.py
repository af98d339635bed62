"""log_model / load_model: flavors, model.json, runs:/ and models:/ URIs, trust, errors."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import trackreport as tr
from trackreport import models as models_mod


class Doubler(BaseEstimator, TransformerMixin):
    """A user transformer: skops saves it, but its type is not trusted by default."""

    def fit(self, X: Any, y: Any = None) -> Doubler:
        return self

    def transform(self, X: Any) -> Any:
        return np.asarray(X) * 2


def data() -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"tenure": rng.integers(1, 72, 120).astype(np.int64),
                      "charges": rng.normal(70, 20, 120),
                      "plan": rng.choice(["basic", "pro", "max"], 120)})
    y = (X["charges"] > 70).to_numpy().astype(int)
    return X, y


def pipeline() -> Pipeline:
    pre = ColumnTransformer([("num", StandardScaler(), ["tenure", "charges"]),
                             ("cat", OneHotEncoder(handle_unknown="ignore"), ["plan"])])
    return Pipeline([("pre", pre), ("rf", RandomForestClassifier(n_estimators=12,
                                                                   random_state=0))])


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "store"
    tr.set_store(path)
    tr.set_experiment("churn", primary_metric="val_acc", goal="max")
    yield path
    while tr.active_run():
        tr.end_run()


def test_sklearn_pipeline_round_trips_through_runs_and_models_uris(store: Path) -> None:
    X, y = data()
    model = pipeline().fit(X, y)
    with tr.start_run(name="rf", capture=False) as run:
        info = tr.log_model(model, "model", input_example=X.head(3))
    assert info.model_uri == f"runs:/{run.id}/model"
    meta = json.loads((store / "runs" / run.id / "artifacts/model/model.json").read_text())
    assert meta["flavor"] == "sklearn"
    assert meta["format"] in ("skops", "joblib")
    assert {"scikit-learn", "numpy"} <= set(meta["libraries"])
    assert meta["python_version"].count(".") == 2
    assert meta["signature"] == {"type": "dataframe", "columns": [
        {"name": "tenure", "dtype": "int64"}, {"name": "charges", "dtype": "float64"},
        {"name": "plan", "dtype": X["plan"].dtype.name}]}
    assert meta["input_example"]["columns"] == ["tenure", "charges", "plan"]
    assert len(meta["input_example"]["data"]) == 3
    assert [f["path"] for f in meta["files"]] == [meta["model_file"]]
    expected = model.predict(X)
    loaded = tr.load_model(info.model_uri)
    assert (loaded.predict(X) == expected).all()
    version = tr.register_model(info.model_uri, "churn")
    assert version.version == 1 and version.run_id == run.id
    tr.set_model_alias("churn", "champion", 1)
    for uri in ("models:/churn@champion", "models:/churn/1", "models:/churn/latest"):
        assert (tr.load_model(uri).predict(X) == expected).all()
    # the run records the model (reader fold)
    assert [m["path"] for m in tr.get_run(run.id).models] == ["model"]
    assert tr.get_run(run.id).models[0]["flavor"] == "sklearn"


def test_skops_refusal_falls_back_to_joblib_and_records_it(store: Path,
                                                           monkeypatch: Any) -> None:
    import skops.io

    def refuse(*args: Any, **kwargs: Any) -> bytes:
        raise TypeError("refused by skops")

    monkeypatch.setattr(skops.io, "dumps", refuse)
    X, y = data()
    model = pipeline().fit(X, y)
    with tr.start_run(capture=False) as run:
        info = tr.log_model(model, "model")
    meta = json.loads((store / "runs" / run.id / "artifacts/model/model.json").read_text())
    assert meta["format"] == "joblib" and meta["model_file"] == "model.joblib"
    assert "refused by skops" in meta["skops_refused"]
    assert info.format == "joblib"
    assert (tr.load_model(info.model_uri).predict(X) == model.predict(X)).all()


def test_untrusted_skops_type_needs_trusted(store: Path) -> None:
    X = np.arange(6.0).reshape(3, 2)
    model = Pipeline([("double", Doubler()), ("scale", StandardScaler())]).fit(X)
    with tr.start_run(capture=False):
        info = tr.log_model(model, "m", input_example=X)
    assert info.format == "skops"
    with pytest.raises(tr.UntrustedModelError, match="Doubler") as err:
        tr.load_model(info.model_uri)
    assert "trusted=" in str(err.value)
    name = f"{Doubler.__module__}.Doubler"
    loaded = tr.load_model(info.model_uri, trusted=[name])
    assert np.allclose(loaded.transform(X), model.transform(X))


def test_array_signature_pickle_and_files_flavors(store: Path, tmp_path: Path) -> None:
    folder = tmp_path / "weights"
    (folder / "sub").mkdir(parents=True)
    (folder / "w.bin").write_bytes(b"\x00\x01")
    (folder / "sub" / "cfg.json").write_text("{}")
    with tr.start_run(capture=False) as run:
        info = tr.log_model({"threshold": 0.5, "labels": ["a", "b"]}, "rules",
                            input_example=np.zeros((4, 3), dtype=np.float32))
        files = tr.log_model(folder, "weights", flavor="files")
    assert info.flavor == "pickle"
    assert tr.load_model(info.model_uri) == {"threshold": 0.5, "labels": ["a", "b"]}
    meta = json.loads((store / "runs" / run.id / "artifacts/rules/model.json").read_text())
    assert meta["signature"] == {"type": "array", "shape": [-1, 3], "dtype": "float32"}
    path = tr.load_model(files.model_uri)
    assert isinstance(path, Path) and (path / "sub" / "cfg.json").read_text() == "{}"
    meta = json.loads((path / "model.json").read_text())
    assert sorted(f["path"] for f in meta["files"]) == ["sub/cfg.json", "w.bin"]


def test_unknown_flavor_and_unpicklable_object_name_the_flavors(store: Path) -> None:
    with tr.start_run(capture=False) as run:
        with pytest.raises(tr.ModelFlavorError, match="sklearn, pickle, files"):
            tr.log_model(object(), "m", flavor="torch")
        with pytest.raises(tr.ModelFlavorError, match="flavors are: sklearn") as err:
            tr.log_model(lambda x: x, "m")
        assert isinstance(err.value, TypeError)
        with pytest.raises(tr.ModelFlavorError, match="folder"):
            tr.log_model(42, "m", flavor="files")
    assert not (store / "runs" / run.id / "artifacts" / "m").exists()


def test_missing_and_unknown_models_are_clear_errors(store: Path) -> None:
    with tr.start_run(capture=False) as run:
        tr.log_model({"a": 1}, "model")
    tr.register_model(f"runs:/{run.id}/model", "churn")
    cases = {
        "runs:/20990101T000000Z-deadbeef/model": "no run '20990101T000000Z-deadbeef'",
        f"runs:/{run.id}/nothing": "has no model at 'nothing'",
        "models:/nope@champion": "no registered model 'nope'",
        "models:/churn@champion": "has no alias 'champion'",
        "models:/churn/7": "has no version 7",
        "s3://bucket/model": "not a runs:/",
    }
    for uri, message in cases.items():
        with pytest.raises(tr.ModelNotFoundError, match=message) as err:
            tr.load_model(uri)
        assert isinstance(err.value, LookupError)
    with pytest.raises(tr.ModelNotFoundError, match="has no model"):
        tr.register_model(f"runs:/{run.id}/nothing", "churn")
    assert tr.get_model_version("churn", "latest").version == 1


def test_build_never_loads_a_model(store: Path, tmp_path: Path, monkeypatch: Any) -> None:
    from trackreport.site.build import build_site

    with tr.start_run(name="boom", capture=False) as run:
        tr.log_model({"x": 1}, "model")
    # a pickle that raises when loaded replaces the model file
    (store / "runs" / run.id / "artifacts/model/model.pkl").write_bytes(
        pickle.dumps(_Boom()))
    tr.register_model(f"runs:/{run.id}/model", "boom")
    with pytest.raises(RuntimeError, match="loaded"):
        tr.load_model("models:/boom/1")
    monkeypatch.setattr(pickle, "loads", _refuse)
    monkeypatch.setattr(pickle, "load", _refuse)
    build_site(store, tmp_path / "site")
    assert "boom" in (tmp_path / "site/models/index.html").read_text()


def _refuse(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("the build unpickled something")


def _explode() -> None:
    raise RuntimeError("a model was loaded")


class _Boom:
    def __reduce__(self) -> tuple[Any, tuple[()]]:
        return _explode, ()


def test_models_module_import_keeps_trackreport_light() -> None:
    assert models_mod.FLAVORS == ("sklearn", "pickle", "files")
