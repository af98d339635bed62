"""Run each script here under real MLflow and write what it recorded to tests/data.

Run once with the throwaway MLflow venv (MLflow is not a trackreport dependency):

    sh benchmarks/_mlflow_venv.sh
    benchmarks/.mlflow-venv/bin/python tests/mlflow_scripts/record_expected.py

Writes ``tests/data/mlflow_expected/<script>.json``: the MLflow version and the
runs (params, metric values by step, user tags) that ``test_mlflow_shim.py``
compares with what the same script records under ``trackreport run``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).parent
OUT = HERE.parent / "data" / "mlflow_expected"
SCRIPTS = ["quickstart", "elasticnet_wine", "nested_runs", "experiments", "gridsearch_autolog",
           "client_batch", "callback"]


def record(script: str) -> dict:
    import mlflow

    sys.path.insert(0, str(HERE))
    from snapshot import from_mlflow

    with tempfile.TemporaryDirectory() as tmp:
        uri = f"sqlite:///{tmp}/mlflow.db"
        # the AVX2 OpenBLAS kernel, as test_mlflow_shim.py uses (results depend on it)
        env = {**os.environ, "MLFLOW_TRACKING_URI": uri, "PYTHONHASHSEED": "0",
               "OPENBLAS_CORETYPE": "Haswell"}
        subprocess.run([sys.executable, str(HERE / f"{script}.py")], cwd=tmp, env=env,
                       check=True)
        runs = from_mlflow(uri)
    return {"mlflow_version": mlflow.__version__, "script": f"{script}.py", "runs": runs}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for script in sys.argv[1:] or SCRIPTS:
        data = record(script)
        (OUT / f"{script}.json").write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
        print(script, len(data["runs"]), "runs")


if __name__ == "__main__":
    main()
