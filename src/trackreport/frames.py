"""pandas views of a store: ``load_runs`` (one row per run) and ``load_metrics`` (long)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from operator import itemgetter
from typing import Any

import numpy as np
import pandas as pd

from .reader import iter_runs, no_gc, read_run
from .records import Run
from .rows import RUN_COLUMNS, run_row
from .store import Store

METRIC_COLUMNS = ["run_id", "key", "step", "value", "time"]


def _ordered_columns(rows: list[dict[str, Any]]) -> list[str]:
    seen: dict[str, None] = {}
    for row in rows:
        for key in row:
            seen.setdefault(key, None)
    rest = [c for c in seen if c not in RUN_COLUMNS]
    prefixes = ("params.", "metrics.", "metrics_min.", "metrics_max.", "tags.")

    def rank(col: str) -> tuple[int, str]:
        for i, prefix in enumerate(prefixes):
            if col.startswith(prefix):
                return i, col
        return len(prefixes), col

    return RUN_COLUMNS + sorted(rest, key=rank)


def run_rows(store: Store, experiment: str | None = None,
             metric_stats: Iterable[str] = ()) -> list[dict[str, Any]]:
    """Every run (of ``experiment``) as a ``run_row`` dict: a metric a run never logged
    has no key there, where the frame can only say NaN."""
    stats = tuple(metric_stats)
    bad = [s for s in stats if s not in ("min", "max")]
    if bad:
        raise ValueError(f"metric_stats takes 'min' and/or 'max', got {bad[0]!r}")
    with no_gc():
        return [run_row(run, stats) for run in iter_runs(store, experiment=experiment)]


def runs_frame(store: Store, experiment: str | None = None, filter: str | None = None,
               metric_stats: Iterable[str] = ()) -> pd.DataFrame:
    """The ``load_runs`` DataFrame: one row per run, newest first."""
    return rows_frame(run_rows(store, experiment, metric_stats), filter)


def rows_frame(rows: list[dict[str, Any]], filter: str | None = None) -> pd.DataFrame:
    """``rows`` (from ``run_rows``) as the ``load_runs`` DataFrame, filtered, newest first:
    times and durations as pandas times, metrics as floats, params and tags as logged."""
    columns = _ordered_columns(rows)
    df = pd.DataFrame(rows, columns=columns)
    for col in ("start_time", "end_time"):
        df[col] = pd.to_datetime(pd.to_numeric(df[col], errors="coerce"), unit="s", utc=True)
    df["duration"] = pd.to_timedelta(pd.to_numeric(df["duration"], errors="coerce"), unit="s")
    for col in columns:
        if col.startswith(("metrics.", "metrics_min.", "metrics_max.")):
            df[col] = pd.to_numeric(df[col], errors="coerce").astype("float64")
        elif col.startswith(("params.", "tags.")):  # as logged: 3 stays 3, missing is None
            df[col] = pd.Series([row.get(col) for row in rows], dtype=object, index=df.index)
    if filter:
        from .filters import apply_filter

        df = apply_filter(df, filter)
    df = df.sort_values("start_time", ascending=False, kind="stable", na_position="last")
    return df.reset_index(drop=True)


def sort_runs(df: pd.DataFrame, column: str, descending: bool = False) -> pd.DataFrame:
    """``df`` sorted by ``column`` whatever its values hold: numbers (numerically, numeric
    text included) before other text, empty cells last in both directions; stable."""
    if df[column].dtype.kind in "iufmM":  # one numeric or time dtype: pandas sorts it
        return df.sort_values(column, ascending=not descending, kind="stable",
                              na_position="last")
    numbers: list[tuple[float, int]] = []
    texts: list[tuple[str, int]] = []
    empty: list[int] = []
    for i, value in enumerate(df[column]):
        if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
            empty.append(i)
        elif isinstance(value, (int, float, np.number)) and not isinstance(value, (bool,
                                                                                   np.bool_)):
            numbers.append((float(value), i))
        else:
            text = value if isinstance(value, str) else str(value)
            try:
                number = float(text)
            except ValueError:
                number = math.nan
            if math.isnan(number):
                texts.append((text, i))
            else:
                numbers.append((number, i))
    first = itemgetter(0)  # sorted() is stable, also with reverse=True
    order = ([i for _, i in sorted(numbers, key=first, reverse=descending)]
             + [i for _, i in sorted(texts, key=first, reverse=descending)] + empty)
    return df.iloc[order]


def metrics_frame(store: Store, run_ids: list[str] | None = None, keys: list[str] | None = None,
                  experiment: str | None = None) -> pd.DataFrame:
    """The ``load_metrics`` DataFrame: one row per logged value."""
    wanted = set(keys) if keys is not None else None
    labels: list[tuple[str, str, int]] = []  # (run_id, key, number of values)
    steps: list[np.ndarray] = []
    values: list[np.ndarray] = []
    times: list[np.ndarray] = []
    if run_ids is not None:
        runs: Iterable[Run] = (read_run(store, rid) for rid in run_ids)
    else:
        runs = iter_runs(store, experiment=experiment)
    with no_gc():
        for run in runs:
            if experiment is not None and run.experiment != experiment:
                continue
            for key, series in run.metrics.items():
                if wanted is not None and key not in wanted:
                    continue
                labels.append((run.run_id, key, len(series.steps)))
                steps.append(np.asarray(series.steps, dtype=np.int64))
                values.append(np.asarray(series.values, dtype=np.float64))
                times.append(np.asarray(series.times, dtype=np.float64))
    if not steps:
        return pd.DataFrame({"run_id": pd.Series([], dtype=object),
                             "key": pd.Series([], dtype=object),
                             "step": pd.Series([], dtype=np.int64),
                             "value": pd.Series([], dtype=np.float64),
                             "time": pd.Series([], dtype=np.float64)})
    counts = [n for _, _, n in labels]
    return pd.DataFrame({
        "run_id": np.repeat(np.array([r for r, _, _ in labels], dtype=object), counts),
        "key": np.repeat(np.array([k for _, k, _ in labels], dtype=object), counts),
        "step": np.concatenate(steps),
        "value": np.concatenate(values),
        "time": np.concatenate(times),
    })
