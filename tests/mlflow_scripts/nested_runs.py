"""Nested runs: children read the parent's run id."""

import mlflow

mlflow.set_experiment("nested-sweep")
with mlflow.start_run(run_name="sweep") as parent:
    parent_id = parent.info.run_id
    mlflow.log_param("n_trials", 3)
    best = None
    for trial, lr in enumerate([0.1, 0.01, 0.001]):
        with mlflow.start_run(run_name=f"trial-{trial}", nested=True) as child:
            mlflow.log_param("lr", lr)
            score = 1.0 - abs(lr - 0.01) * 5
            mlflow.log_metric("score", score, step=0)
            mlflow.set_tag("parent", parent_id)
            assert child.info.run_id != parent_id
            best = score if best is None else max(best, score)
    mlflow.log_metric("best_score", best, step=0)
children = mlflow.search_runs(filter_string=f"tags.mlflow.parentRunId = '{parent_id}'")
assert len(children) == 3, children
assert set(children["tags.mlflow.runName"]) == {"trial-0", "trial-1", "trial-2"}
