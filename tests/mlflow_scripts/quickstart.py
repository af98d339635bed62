"""Quickstart style: logs before any start_run (MLflow starts a run), then a named run."""

import mlflow

mlflow.log_param("learning_rate", 0.01)
mlflow.log_metric("loss", 0.9)
mlflow.log_metric("loss", 0.7)
mlflow.log_metric("loss", 0.4)
mlflow.set_tag("stage", "quickstart")
first = mlflow.active_run().info.run_id
mlflow.end_run()

with mlflow.start_run(run_name="quickstart-second") as run:
    mlflow.log_params({"batch_size": 32, "optimizer": "adam"})
    for epoch in range(3):
        mlflow.log_metric("accuracy", 0.5 + 0.1 * epoch, step=epoch)
    mlflow.set_tags({"team": "vision", "first_run": first})
    print("run", run.info.run_id, "artifacts at", mlflow.get_artifact_uri())
print("tracking uri", mlflow.get_tracking_uri())
assert mlflow.get_run(first).data.params["learning_rate"] == "0.01"
