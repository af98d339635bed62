#!/bin/sh
# Create the throwaway venv with real MLflow that the benchmarks compare against and
# tests/test_mlflow_server.py tests with (an `mlflow server`, MLflow loading our models,
# `trackreport import mlflow http://...` run inside it with PYTHONPATH=src, hence the
# few light trackreport dependencies). MLflow is NOT a trackreport dependency; this
# venv lives in benchmarks/.mlflow-venv/ (git-ignored) and can be deleted at any time.
# `make mlflow-venv` runs this script.
#
#   sh benchmarks/_mlflow_venv.sh            # latest mlflow
#   MLFLOW_SPEC='mlflow==3.1.*' sh benchmarks/_mlflow_venv.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
venv="$here/.mlflow-venv"
python=${PYTHON:-python3}
spec=${MLFLOW_SPEC:-mlflow}
if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet "$spec" orjson filelock lark
"$venv/bin/python" -c "import mlflow; print('mlflow', mlflow.__version__, 'in', '$venv')"
