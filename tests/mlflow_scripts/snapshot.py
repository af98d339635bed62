"""What a tracking store recorded, in one comparable shape (MLflow's or trackreport's).

``runs``: one dict per run: experiment, name, parent (the parent's name),
status, params (text), user tags (not ``mlflow.*``; a value that is a run id
becomes ``<run:NAME>``), metrics ({key: [[step, value], ...]} in step, then
time order).
"""

from __future__ import annotations

from typing import Any


def finish(runs: list[dict[str, Any]], ids: dict[str, str]) -> list[dict[str, Any]]:
    """Replace run ids (in tags and parents) by run names; sort for stable output."""
    for run in runs:
        run["parent"] = ids.get(run.pop("parent_id") or "", None)
        run["tags"] = {k: (f"<run:{ids[v]}>" if v in ids else v)
                       for k, v in sorted(run["tags"].items())}
    return sorted(runs, key=lambda r: (r["experiment"], r["parent"] or "", r["name"],
                                       sorted(r["params"].items())))


def from_mlflow(uri: str) -> list[dict[str, Any]]:
    """Every run of an MLflow tracking store (needs the real ``mlflow`` package)."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(uri)
    runs, ids = [], {}
    for exp in client.search_experiments():
        for r in client.search_runs([exp.experiment_id], max_results=1000):
            ids[r.info.run_id] = r.info.run_name
            metrics = {}
            for key in r.data.metrics:
                history = sorted(client.get_metric_history(r.info.run_id, key),
                                 key=lambda m: (m.step, m.timestamp))
                metrics[key] = [[m.step, m.value] for m in history]
            runs.append({
                "experiment": exp.name, "name": r.info.run_name,
                "parent_id": r.data.tags.get("mlflow.parentRunId"), "status": r.info.status,
                "params": dict(sorted(r.data.params.items())),
                "tags": {k: v for k, v in r.data.tags.items() if not k.startswith("mlflow.")},
                "metrics": dict(sorted(metrics.items())),
            })
    return finish(runs, ids)


def from_trackreport(store: str) -> list[dict[str, Any]]:
    """Every run of a trackreport store, in the same shape."""
    from trackreport.reader import iter_runs
    from trackreport.store import Store

    runs, ids = [], {}
    for rec in iter_runs(Store(store)):
        ids[rec.run_id] = rec.name
        runs.append({
            "experiment": rec.experiment, "name": rec.name, "parent_id": rec.parent_run_id,
            "status": rec.status,
            "params": {k: v if isinstance(v, str) else str(v)
                       for k, v in sorted(rec.params.items())},
            "tags": {k: v for k, v in rec.tags.items() if not k.startswith("mlflow.")},
            "metrics": {k: [[s, v] for s, v in zip(m.steps, m.values, strict=False)]
                        for k, m in sorted(rec.metrics.items())},
        })
    return finish(runs, ids)
