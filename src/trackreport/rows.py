"""One run as a flat row with the columns of ``load_runs`` (no pandas: the site uses it)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from .records import Run

RUN_COLUMNS = [
    "run_id", "run_name", "experiment", "status", "start_time", "end_time", "duration",
    "user", "host", "git_commit", "git_branch", "parent_run_id",
]


def run_row(run: Run, metric_stats: Iterable[str] = ()) -> dict[str, Any]:
    """One run as a flat dict with the columns of ``load_runs`` (times as Unix seconds)."""
    row: dict[str, Any] = {
        "run_id": run.run_id, "run_name": run.name, "experiment": run.experiment,
        "status": run.status, "start_time": run.start_time, "end_time": run.end_time,
        "duration": run.duration, "user": run.user, "host": run.host,
        "git_commit": run.git_commit, "git_branch": run.git_branch,
        "parent_run_id": run.parent_run_id,
    }
    stats = tuple(metric_stats)
    for key in sorted(run.params):
        row[f"params.{key}"] = run.params[key]
    for key in sorted(run.metrics):
        series = run.metrics[key]
        row[f"metrics.{key}"] = series.last
        if not stats:  # the usual row: no pass over the values
            continue
        finite = [v for v in series.values if not math.isnan(v)]
        if "min" in stats:
            row[f"metrics_min.{key}"] = min(finite) if finite else math.nan
        if "max" in stats:
            row[f"metrics_max.{key}"] = max(finite) if finite else math.nan
    for key in sorted(run.tags):
        row[f"tags.{key}"] = run.tags[key]
    return row
