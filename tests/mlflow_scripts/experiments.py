"""create_experiment / get_experiment_by_name, catching MlflowException."""

import mlflow
from mlflow.exceptions import MlflowException

name = "churn-model"
try:
    experiment_id = mlflow.create_experiment(name, tags={"owner": "analytics"})
except MlflowException:
    experiment_id = mlflow.get_experiment_by_name(name).experiment_id
try:
    mlflow.create_experiment(name)
    raise SystemExit("a second create_experiment must fail")
except MlflowException as exc:
    print("as expected:", exc)

experiment = mlflow.get_experiment_by_name(name)
assert experiment.experiment_id == experiment_id
assert mlflow.get_experiment_by_name("no-such-experiment") is None
with mlflow.start_run(experiment_id=experiment_id, run_name="churn-baseline") as run:
    assert run.info.experiment_id == experiment_id
    mlflow.log_params({"model": "logreg", "C": 1.0})
    mlflow.log_metrics({"auc": 0.81, "precision": 0.62}, step=0)
exp = mlflow.set_experiment(name)
assert exp.experiment_id == experiment_id
runs = mlflow.search_runs(experiment_ids=[experiment_id], order_by=["metrics.auc DESC"])
assert runs.loc[0, "params.model"] == "logreg"
