"""Training-callback style: reuse the active run or start one; epochs; a dataset input."""

import mlflow
import mlflow.data
import numpy as np


class MLflowCallback:
    def __init__(self):
        self.run = None

    def on_train_begin(self, config):
        self.run = mlflow.active_run() or mlflow.start_run(run_name="callback-train")
        mlflow.log_params(config)

    def on_epoch_end(self, epoch, logs):
        mlflow.log_metrics(logs, step=epoch)

    def on_train_end(self):
        mlflow.end_run()


features = np.arange(40, dtype=np.float64).reshape(10, 4)
callback = MLflowCallback()
callback.on_train_begin({"epochs": 3, "lr": 0.05, "layers": "[64, 32]"})
mlflow.log_input(mlflow.data.from_numpy(features, name="train-features"), context="training")
for epoch in range(3):
    callback.on_epoch_end(epoch, {"loss": 1.0 / (epoch + 1), "acc": 0.6 + 0.1 * epoch})
callback.on_train_end()
last = mlflow.last_active_run()
assert last.info.run_name == "callback-train", last.info
assert last.inputs.dataset_inputs[0].dataset.name == "train-features"
