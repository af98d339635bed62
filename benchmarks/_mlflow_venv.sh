#!/bin/sh
# Create the throwaway venv that bench_logging.py uses to compare against MLflow.
# MLflow is NOT a trackreport dependency; this venv lives in benchmarks/.mlflow-venv/
# (git-ignored) and can be deleted at any time.
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
"$venv/bin/python" -m pip install --quiet "$spec"
"$venv/bin/python" -c "import mlflow; print('mlflow', mlflow.__version__, 'in', '$venv')"
