"""A small store with fixed times, written event by event (summary and publish tests)."""

from __future__ import annotations

import json
from pathlib import Path

HOSTILE = "</td><script>x</script> | [a](javascript:alert(1)) @octocat *b*\n# h"
T0 = 1_790_000_000.0  # fixed times: the summary never depends on the clock


def _write(path: Path, events: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(e) + "\n" for e in events), "utf-8")


def _run(root: Path, run_id: str, name: str, t: float, metrics: list[dict[str, float]],
         experiment: str = "wine", tags: dict[str, str] | None = None,
         status: str = "FINISHED") -> None:
    events: list[dict] = [
        {"type": "open", "format": 1, "writer": "w", "time": t},
        {"type": "run.start", "time": t, "run_id": run_id, "experiment": experiment,
         "name": name, "parent_run_id": None, "context": {}},
    ]
    if tags:
        events.append({"type": "tags", "time": t, "tags": tags})
    for step, values in enumerate(metrics):
        events.append({"type": "metrics", "time": t + step + 1, "step": step, "values": values})
    if status != "RUNNING":
        events.append({"type": "run.end", "time": t + 60, "status": status, "error": None})
    _write(root / "runs" / run_id / "events-w.jsonl", events)


def make_fixed_store(root: Path) -> Path:
    """Two experiments; wine has a tagged baseline, a hostile run name and a percent metric."""
    root.mkdir(parents=True)
    (root / "trackreport-store.json").write_text('{"format":"trackreport-store","version":1}\n')
    _write(root / "experiments" / "events-w.jsonl", [
        {"type": "open", "format": 1, "writer": "w", "time": T0},
        {"type": "experiment", "time": T0, "name": "wine", "description": "Wine quality",
         "primary_metric": "val_acc", "goal": "max",
         "metrics": {"val_acc": {"label": "Accuracy", "format": "percent"},
                     "fit_seconds": {"goal": "min"}}},
    ])
    _run(root, "20260901T000000Z-00000001", "baseline", T0 + 100,
         [{"val_acc": 0.80, "val_loss": 0.50, "fit_seconds": 10.0},
          {"val_acc": 0.85, "val_loss": 0.40}], tags={"baseline": "true"})
    _run(root, "20260901T000100Z-00000002", "gb-lr0.1", T0 + 200,
         [{"val_acc": 0.86, "val_loss": 0.45, "fit_seconds": 12.0},
          {"val_acc": 0.91, "val_loss": 0.30}], tags={"candidate": "yes"})
    _run(root, "20260901T000200Z-00000003", HOSTILE, T0 + 300,
         [{"val_acc": 0.70, "val_loss": 0.60, "fit_seconds": 8.0},
          {"val_acc": 0.82, "val_loss": 0.55}])
    _run(root, "20260901T000300Z-00000004", "crashed", T0 + 400,
         [{"val_acc": 0.10}], status="FAILED")
    _run(root, "20260901T000400Z-00000005", "taxi-first", T0 + 500,
         [{"val_rmse": 5.0}, {"val_rmse": 4.5}], experiment="taxi")
    _run(root, "20260901T000500Z-00000006", "taxi-second", T0 + 600,
         [{"val_rmse": 4.0}, {"val_rmse": 4.2}], experiment="taxi", status="RUNNING")
    return root
