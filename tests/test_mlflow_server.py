"""Real MLflow in a throwaway venv: an `mlflow server`, its import, and MLflow loading our models.

MLflow is not a trackreport dependency. These tests run when a Python with
``mlflow`` (and trackreport's light dependencies: orjson, filelock, lark) is
found: ``$TRACKREPORT_TEST_MLFLOW_PYTHON``, else ``benchmarks/.mlflow-venv``
(``make mlflow-venv`` makes it). trackreport itself runs inside that Python
from ``src/`` (``PYTHONPATH``), as a user with both installed would run it.
"""

from __future__ import annotations

import json
import math
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

import trackreport as tr
from trackreport.reader import iter_runs, read_experiments
from trackreport.registry import read_registry
from trackreport.store import Store

ROOT = Path(__file__).resolve().parent.parent
MAKE_STORES = ROOT / "tests" / "data" / "make_mlflow_stores.py"
DEFAULT_PYTHON = ROOT / "benchmarks" / ".mlflow-venv" / "bin" / "python"
MLFLOW_PYTHON = os.environ.get("TRACKREPORT_TEST_MLFLOW_PYTHON") or (
    str(DEFAULT_PYTHON) if DEFAULT_PYTHON.exists() else "")

pytestmark = pytest.mark.skipif(
    not MLFLOW_PYTHON, reason="no Python with real mlflow (make mlflow-venv, or set "
                              "TRACKREPORT_TEST_MLFLOW_PYTHON)")


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TRACKREPORT_", "MLFLOW_", "PYTHON"))}
    env.update(PYTHONPATH=str(ROOT / "src"), TRACKREPORT_CAPTURE="0", CI="1",
               MLFLOW_ALLOW_FILE_STORE="true", MLFLOW_ALLOW_PICKLE_DESERIALIZATION="true",
               **extra)
    return env


def _mlflow(*args: str, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([MLFLOW_PYTHON, *args], cwd=cwd, env=_env(), capture_output=True,
                          text=True, timeout=timeout, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


SERVER_ROOTS: dict[str, Path] = {}  # each server's folder (its SQLite database)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """An `mlflow server` on 127.0.0.1 with an SQLite backend and proxied artifacts."""
    root = tmp_path_factory.mktemp("mlflow-server")
    port = _free_port()
    log = open(root / "server.log", "w")  # closed below
    proc = subprocess.Popen(
        [MLFLOW_PYTHON, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port),
         "--backend-store-uri", f"sqlite:///{root / 'mlflow.db'}",
         "--artifacts-destination", str(root / "artifacts"), "--workers", "1"],
        cwd=root, env=_env(), stdout=log, stderr=subprocess.STDOUT)
    uri = f"http://127.0.0.1:{port}"
    SERVER_ROOTS[uri] = root
    deadline = time.monotonic() + 180
    try:
        while True:
            try:
                with urllib.request.urlopen(f"{uri}/health", timeout=2) as answer:  # noqa: S310
                    if answer.status == 200:
                        break
            except OSError:
                pass
            assert proc.poll() is None, (root / "server.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "mlflow server did not start in 180 s"
            time.sleep(0.5)
        yield uri
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _write(uri: str, folder: Path) -> dict[str, Any]:
    """The fixture set logged by real MLflow into ``uri``; what MLflow's client reads back."""
    folder.mkdir(parents=True, exist_ok=True)
    _mlflow(str(MAKE_STORES), uri, str(folder / "expected.json"), cwd=folder)
    return json.loads((folder / "expected.json").read_text())["store"]


def _import(source: str, store: Path, cwd: Path, **env: str) -> str:
    done = subprocess.run([MLFLOW_PYTHON, "-m", "trackreport", "import", "mlflow", source,
                           "--store", str(store)], cwd=cwd, env=_env(**env),
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _num(v: float) -> Any:
    return v if math.isfinite(v) else str(v)


def _snapshot(store: Store) -> dict[str, Any]:
    """Everything an import wrote, keyed by names, without ids and run times."""
    runs = list(iter_runs(store))
    names = {r.run_id: r.name for r in runs}
    out: dict[str, Any] = {"runs": {}, "experiments": {}, "registry": {}}
    for r in runs:
        out["runs"][(r.experiment, r.name)] = {
            "status": r.status, "parent": names.get(r.parent_run_id or ""),
            "params": r.params, "tags": r.tags, "user": r.user,
            "notes": [n.markdown for n in r.notes], "git": r.context.get("git"),
            "metrics": {k: list(zip(s.steps, map(_num, s.values), s.times, strict=True))
                        for k, s in r.metrics.items()},
            "artifacts": {a.path: a.sha256 for a in r.artifacts
                          if not a.path.endswith(("MLmodel", "model.json"))},
            "models": sorted((m["path"], m["flavor"], m["format"]) for m in r.models),
        }
    for name, exp in read_experiments(store).items():
        out["experiments"][name] = {"description": exp.description, "tags": exp.tags}
    for name, model in read_registry(store).items():
        out["registry"][name] = {
            "description": model.description, "tags": model.tags, "aliases": model.aliases,
            "versions": {v.version: (names[v.run_id], v.source.rsplit("/", 1)[-1], v.tags)
                         for v in model.versions}}
    return out


def test_import_from_a_tracking_server_matches_the_file_store_import(
        server: str, tmp_path: Path) -> None:
    served = _write(server, tmp_path / "served")
    filed = _write((tmp_path / "filed" / "mlruns").as_uri(), tmp_path / "filed")
    out = _import(server, tmp_path / "from-server", tmp_path)
    assert "imported: 2 experiments, 6 runs" in out, out
    assert "could not" not in out, out  # every run's artifacts were downloaded
    _import(str(tmp_path / "filed" / "mlruns"), tmp_path / "from-files", tmp_path)
    a, b = Store(tmp_path / "from-server"), Store(tmp_path / "from-files")
    got, want = _snapshot(a), _snapshot(b)
    assert got["experiments"] == want["experiments"]
    assert got["experiments"]["wine-quality"] == {"description": "Predict **wine** quality.",
                                                  "tags": {"team": "ml"}}
    assert got["registry"] == want["registry"]
    assert sorted(got["runs"]) == sorted(want["runs"])
    for key, run in want["runs"].items():
        other = got["runs"][key]
        for field in run:
            if field == "metrics":  # metric timestamps are fixed by the writer, values too
                assert other[field].keys() == run[field].keys(), key
                for k, points in run[field].items():
                    assert [(s, v) for s, v, _ in other[field][k]] == [
                        (s, v) for s, v, _ in points], (key, k)
                    fixed = k != "best_rmse" and k != "train_acc"  # logged without timestamp
                    if fixed:
                        assert [t for *_, t in other[field][k]] == [t for *_, t in points]
            else:
                assert other[field] == run[field], (key, field)
    # the server's own times and ids, as MLflow's client reads them back
    for mid, want_run in served["runs"].items():
        run = next(r for r in iter_runs(a) if r.imported_from["run_id"] == mid)
        assert run.start_time == want_run["start_time"] / 1000
        assert run.end_time == want_run["end_time"] / 1000
        assert run.params == want_run["params"]
        assert {p.split("/")[0] for p in want_run["artifacts"]} <= {
            p.path.split("/")[0] for p in run.artifacts}
    assert len(filed["runs"]) == len(served["runs"])
    model = tr.load_model("models:/wine-model@champion", store=a.root)
    assert list(model.predict([[0.0, 1.0], [1.0, 0.0]])) == [0, 1]
    again = _import(server, tmp_path / "from-server", tmp_path)
    assert again.startswith("imported: nothing new"), again
    # the server's own database, read directly: its artifact URIs are remote
    # (mlflow-artifacts:), fetched through the installed mlflow from the server
    db = f"sqlite:///{SERVER_ROOTS[server] / 'mlflow.db'}"
    out = _import(db, tmp_path / "from-db", tmp_path, MLFLOW_TRACKING_URI=server)
    assert "remote artifact" not in out and "could not" not in out, out
    direct = _snapshot(Store(tmp_path / "from-db"))
    assert direct["runs"] == got["runs"]


SHIM_SCRIPT = """
import numpy as np, pandas as pd
import trackreport.mlflow as mlflow
from trackreport.mlflow.models import infer_signature
from sklearn.linear_model import LogisticRegression
x = pd.DataFrame({"a": [0.0, 1.0, 0.2, 0.9], "b": [1.0, 0.0, 0.9, 0.1]})
y = np.array([0, 1, 0, 1])
m = LogisticRegression().fit(x, y)
with mlflow.start_run() as run:
    mlflow.sklearn.log_model(m, name="frame", input_example=x.head(2))
    mlflow.sklearn.log_model(m, name="array", input_example=x.to_numpy()[:2],
                             signature=infer_signature(x.to_numpy(), m.predict(x)),
                             serialization_format="cloudpickle")
    mlflow.sklearn.log_model(m, name="bare")
print(run.info.artifact_uri)
"""

LOAD_SCRIPT = """
import json, sys
import mlflow, pandas as pd
x = pd.DataFrame({"a": [0.0, 1.0, 0.2, 0.9], "b": [1.0, 0.0, 0.9, 0.1]})
out = {}
for name in ("frame", "array", "bare"):
    path = f"{sys.argv[1]}/{name}"
    model = mlflow.pyfunc.load_model(path)
    data = x if name != "array" else x.to_numpy()
    info = mlflow.models.get_model_info(path)
    example = mlflow.models.Model.load(path).load_input_example(path)
    sig = model.metadata.signature
    out[name] = {"pyfunc": [int(v) for v in model.predict(data)],
                 "sklearn": [int(v) for v in mlflow.sklearn.load_model(path).predict(data)],
                 "flavors": sorted(info.flavors),
                 "inputs": sig.inputs.to_dict() if sig else None,
                 "example": None if example is None else len(example)}
print(json.dumps(out))
"""


def test_real_mlflow_loads_a_model_the_shim_logged(tmp_path: Path) -> None:
    store = tmp_path / "store"
    done = subprocess.run([sys.executable, "-c", SHIM_SCRIPT], cwd=tmp_path,
                          env=_env(TRACKREPORT_STORE=str(store)), capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    folder = done.stdout.strip().splitlines()[-1].removeprefix("file://")
    loaded = json.loads(_mlflow("-c", LOAD_SCRIPT, folder, cwd=tmp_path).stdout
                        .strip().splitlines()[-1])
    for name, got in loaded.items():
        assert got["pyfunc"] == got["sklearn"] == [0, 1, 0, 1], name
        assert got["flavors"] == ["python_function", "sklearn"], name
    assert loaded["frame"]["inputs"] == [{"type": "double", "name": "a", "required": True},
                                         {"type": "double", "name": "b", "required": True}]
    assert loaded["array"]["inputs"] == [{"type": "tensor", "tensor-spec": {
        "dtype": "float64", "shape": [-1, 2]}}]
    assert loaded["frame"]["example"] == loaded["array"]["example"] == 2
    assert loaded["bare"]["inputs"] is None and loaded["bare"]["example"] is None
    # and trackreport still loads the same folders as its own models
    import pandas as pd

    run_id = Path(folder).parent.name
    for name in ("frame", "array", "bare"):
        model = tr.load_model(f"runs:/{run_id}/{name}", store=store)
        assert list(model.predict(pd.DataFrame({"a": [0.0], "b": [1.0]}))) == [0]


def test_unreachable_server_is_one_line_quickly_and_writes_nothing(tmp_path: Path) -> None:
    started = time.monotonic()
    done = subprocess.run([MLFLOW_PYTHON, "-m", "trackreport", "import", "mlflow",
                           f"http://127.0.0.1:{_free_port()}", "--store", str(tmp_path / "s")],
                          cwd=tmp_path, env=_env(),
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot read MLflow tracking URI" in lines[0], done.stderr
    assert "Connection refused" in lines[0]
    assert time.monotonic() - started < 60  # not MLflow's minutes of retries
    assert not (tmp_path / "s").exists()
