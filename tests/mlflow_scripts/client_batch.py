"""MlflowClient: create_run, log_batch with entities, metric history, set_terminated."""

import time

from mlflow.entities import Metric, Param, RunTag
from mlflow.tracking import MlflowClient

client = MlflowClient()
exp = client.get_experiment_by_name("client-demo")
exp_id = exp.experiment_id if exp else client.create_experiment("client-demo")
run = client.create_run(exp_id, run_name="client-run")
run_id = run.info.run_id
now = int(time.time() * 1000)
client.log_batch(run_id,
                 metrics=[Metric("loss", 1.0 / (s + 1), now + s, s) for s in range(4)],
                 params=[Param("epochs", "4"), Param("model", "mlp")],
                 tags=[RunTag("kind", "batch")])
client.log_param(run_id, "seed", 7)
client.log_metric(run_id, "val_loss", 0.5, step=3)
client.set_tag(run_id, "reviewed", "no")
history = client.get_metric_history(run_id, "loss")
assert [m.step for m in history] == [0, 1, 2, 3], history
client.set_terminated(run_id)
assert client.get_run(run_id).info.status == "FINISHED"
assert client.get_run(run_id).data.params == {"epochs": "4", "model": "mlp", "seed": "7"}
