"""Benchmark: log_model, register_model and load_model("models:/x@champion").

A benchmark, not a timed test. The targets (DESIGN.md section 6, issue 8):

- ``log_model`` of a fitted scikit-learn pipeline takes at most 50 ms beyond
  writing the model file itself (skops' ``dumps`` + load-back check, or
  joblib, plus the write);
- ``register_model`` at most 50 ms;
- ``load_model("models:/x@champion")`` at most 20 ms beyond unpickling
  (skops ``loads``) the model file.

When MLflow is importable by ``--mlflow-python`` (default
``benchmarks/.mlflow-venv/bin/python``; create it with
``sh benchmarks/_mlflow_venv.sh``), its ``mlflow.sklearn.log_model`` +
``register_model`` on its default local store are timed on the same
pipeline, and the ratio is printed.

    .venv/bin/python benchmarks/bench_registry.py [--reps 7] [--json]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DEFAULT_MLFLOW_PYTHON = HERE / ".mlflow-venv" / "bin" / "python"

PIPELINE = """
import numpy as np, pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
rng = np.random.default_rng(0)
X = pd.DataFrame({"tenure": rng.integers(1, 72, 2000), "charges": rng.normal(70, 20, 2000),
                  "plan": rng.choice(["basic", "pro", "max"], 2000)})
y = (X["charges"] > 70).to_numpy().astype(int)
pre = ColumnTransformer([("num", StandardScaler(), ["tenure", "charges"]),
                         ("cat", OneHotEncoder(handle_unknown="ignore"), ["plan"])])
model = Pipeline([("pre", pre), ("rf", RandomForestClassifier(n_estimators=50, max_depth=8,
                                                               random_state=0))]).fit(X, y)
"""


def _median_ms(xs: list[float]) -> float:
    return statistics.median(xs) * 1000


def measure_trackreport(reps: int) -> dict[str, Any]:
    """Median ms of each step, in this process, on a fresh store in a temp folder."""
    scope: dict[str, Any] = {}
    exec(PIPELINE, scope)  # noqa: S102 - our own constant source
    model, X = scope["model"], scope["X"]
    import skops.io as sio

    import trackreport as tr
    from trackreport.models import _serialize

    out: dict[str, list[float]] = {k: [] for k in (
        "serialize", "write_file", "log_model", "register", "alias", "unpickle", "load_alias")}
    with tempfile.TemporaryDirectory() as tmp:
        tr.set_store(Path(tmp) / "store")
        for i in range(reps):
            t0 = time.perf_counter()
            data, fmt, _ = _serialize(model, "sklearn")
            t1 = time.perf_counter()
            path = Path(tmp) / f"plain-{i}.bin"
            with open(path, "wb") as fh:
                fh.write(data)
            t2 = time.perf_counter()
            out["serialize"].append(t1 - t0)
            out["write_file"].append(t2 - t0)
            with tr.start_run(name=f"r{i}", capture=False) as run:
                t0 = time.perf_counter()
                tr.log_model(model, "model", input_example=X.head(5))
                out["log_model"].append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            version = tr.register_model(f"runs:/{run.id}/model", "bench")
            t1 = time.perf_counter()
            tr.set_model_alias("bench", "champion", version.version)
            out["register"].append(t1 - t0)
            out["alias"].append(time.perf_counter() - t1)
            t0 = time.perf_counter()
            if fmt == "skops":  # skops' own safe load: its trust check, then loads
                sio.loads(data, trusted=sio.get_untrusted_types(data=data))
            else:
                import joblib

                joblib.load(io.BytesIO(data))
            out["unpickle"].append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            tr.load_model("models:/bench@champion")
            out["load_alias"].append(time.perf_counter() - t0)
    result = {k: _median_ms(v) for k, v in out.items()}
    result["format"] = fmt
    result["model_bytes"] = len(data)
    return result


MLFLOW_WORKER = PIPELINE + """
import json, sys, time, statistics, tempfile, os, warnings, logging
warnings.filterwarnings("ignore")
logging.disable(logging.WARNING)
tmp = tempfile.mkdtemp()
os.chdir(tmp)
import mlflow, mlflow.sklearn
mlflow.set_tracking_uri(f"sqlite:///{tmp}/mlflow.db")
times = []
kwargs = {}
refused = ""
for i in range(int(sys.argv[1])):
    with mlflow.start_run():
        t0 = time.perf_counter()
        try:
            info = mlflow.sklearn.log_model(model, name="model", input_example=X.head(5),
                                            **kwargs)
        except Exception as exc:  # its default (skops) refuses the forest: use cloudpickle
            refused = str(exc).splitlines()[0][:120]
            kwargs = {"serialization_format": "cloudpickle"}
            t0 = time.perf_counter()
            info = mlflow.sklearn.log_model(model, name="model", input_example=X.head(5),
                                            **kwargs)
        mlflow.register_model(info.model_uri, "bench")
        times.append(time.perf_counter() - t0)
print(json.dumps({"version": mlflow.__version__, "refused": refused,
                  "log_register_ms": statistics.median(times) * 1000}))
"""


def measure_mlflow(python: Path, reps: int) -> dict[str, Any] | None:
    """MLflow's log_model + register_model median ms, or None without MLflow."""
    if not python.exists():
        return None
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    proc = subprocess.run([str(python), "-c", MLFLOW_WORKER, str(reps)], capture_output=True,
                          text=True, env=env, timeout=1800)
    if proc.returncode != 0:
        print(f"MLflow run failed: {proc.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--mlflow-python", type=Path, default=DEFAULT_MLFLOW_PYTHON)
    parser.add_argument("--json", action="store_true", help="Print the figures as JSON.")
    args = parser.parse_args()
    ours = measure_trackreport(args.reps)
    mlflow = measure_mlflow(args.mlflow_python, max(3, args.reps // 2))
    if args.json:
        print(json.dumps({"trackreport": ours, "mlflow": mlflow}, indent=2))
        return
    extra_log = ours["log_model"] - ours["write_file"]
    extra_load = ours["load_alias"] - ours["unpickle"]
    print(f"model: RandomForest(50) pipeline, {ours['model_bytes'] / 1e6:.2f} MB as "
          f"{ours['format']} (median of {args.reps})")
    print(f"write the model file itself      {ours['write_file']:8.1f} ms "
          f"(serialize + check {ours['serialize']:.1f} ms)")
    print(f"log_model                        {ours['log_model']:8.1f} ms  "
          f"(+{extra_log:.1f} ms beyond the file; target <= 50)")
    print(f"register_model                   {ours['register']:8.1f} ms  (target <= 50)")
    print(f"set_model_alias                  {ours['alias']:8.1f} ms")
    print(f"unpickle (skops safe load)       {ours['unpickle']:8.1f} ms")
    print(f"load_model('models:/x@champion') {ours['load_alias']:8.1f} ms  "
          f"(+{extra_load:.1f} ms beyond unpickling; target <= 20)")
    if mlflow is None:
        print("MLflow: not measured (sh benchmarks/_mlflow_venv.sh makes its venv)")
    else:
        ours_total = ours["log_model"] + ours["register"]
        if mlflow.get("refused"):
            print(f"MLflow's default log_model refused the pipeline ({mlflow['refused']}); "
                  "timed with serialization_format='cloudpickle'")
        print(f"MLflow {mlflow['version']} sklearn.log_model + register_model "
              f"{mlflow['log_register_ms']:8.1f} ms; trackreport {ours_total:.1f} ms: "
              f"{mlflow['log_register_ms'] / ours_total:.1f}x faster")


if __name__ == "__main__":
    main()
