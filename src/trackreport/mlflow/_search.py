"""``search_runs``: trackreport's runs table with MLflow's columns, filter and order."""

from __future__ import annotations

import re
from typing import Any

from .. import fluent
from . import _core
from .exceptions import MlflowException, translated

_ATTRS = {"run_id", "run_name", "status", "start_time", "end_time", "user", "experiment_id",
          "artifact_uri", "duration"}


def _experiments(experiment_ids: Any, experiment_names: Any,
                 search_all_experiments: bool) -> list[str] | None:
    if isinstance(experiment_ids, (str, int)):
        experiment_ids = [experiment_ids]
    names: list[str] = []
    for exp_id in experiment_ids or []:
        names.append(_core.experiment_name_of(exp_id))
    names += list(experiment_names or [])
    if names:
        return names
    if search_all_experiments:
        return None
    return [fluent._experiment]


def _order_key(clause: str) -> tuple[str, bool]:
    m = re.fullmatch(r"\s*(.+?)(?:\s+(ASC|DESC))?\s*", clause, re.IGNORECASE)
    if m is None:  # pragma: no cover - the pattern matches any text
        raise MlflowException(f"bad order_by clause {clause!r}")
    column = m.group(1).strip().strip("`\"")
    column = re.sub(r"^(attributes?|attr|run)\.", "", column, flags=re.IGNORECASE)
    column = re.sub(r"^(metric|param|tag)\.", lambda g: g.group(1) + "s.", column)
    return column, (m.group(2) or "ASC").upper() == "ASC"


@translated
def search_runs(experiment_ids: Any = None, filter_string: str = "", run_view_type: int = 1,
                max_results: int = 100000, order_by: list[str] | None = None,
                output_format: str = "pandas", search_all_experiments: bool = False,
                experiment_names: list[str] | None = None) -> Any:
    """Runs of the active experiment (or of the ones named) as MLflow's DataFrame.

    Columns: ``run_id, experiment_id, status, artifact_uri, start_time,
    end_time``, then ``metrics.*``, ``params.*`` (as text), ``tags.*`` (with
    ``tags.mlflow.runName``). ``filter_string`` is MLflow's search syntax
    (keywords in any case, plus OR/NOT/parentheses). ``output_format="list"``
    returns Run entities.
    """
    import pandas as pd

    from ..filters import apply_filter
    from ..frames import runs_frame

    st = _core.store()
    wanted = _experiments(experiment_ids, experiment_names, search_all_experiments)
    if st.exists():
        df = runs_frame(st)
    else:
        df = pd.DataFrame(columns=["run_id", "run_name", "experiment", "status", "start_time",
                                   "end_time", "user", "parent_run_id"])
    if wanted is not None:
        df = df[df["experiment"].isin(wanted)]
    df = df.copy()
    df["experiment_id"] = [_core.experiment_id(e) for e in df["experiment"]]
    df["artifact_uri"] = [_core.artifact_uri(st, r) for r in df["run_id"]]
    df["tags.mlflow.runName"] = df["run_name"]
    if "user" in df:
        df["tags.mlflow.user"] = df["user"]
    if "parent_run_id" in df:
        df["tags.mlflow.parentRunId"] = df["parent_run_id"]
    for col in [c for c in df.columns if c.startswith("params.")]:
        df[col] = [None if v is None or (isinstance(v, float) and v != v)
                   else _core.param_text(v) for v in df[col]]
    if filter_string and filter_string.strip():
        df = apply_filter(df, filter_string)
    clauses = [_order_key(c) for c in (order_by or [])] or [("start_time", False)]
    columns = [c for c, _ in clauses]
    missing = [c for c in columns if c not in df.columns]
    for col in missing:
        df[col] = None
    df = df.sort_values(columns, ascending=[a for _, a in clauses], kind="stable",
                        na_position="last").head(max_results)
    if output_format == "list":
        return [_core.to_entity(_core.record(r)) for r in df["run_id"]]
    if output_format != "pandas":
        raise MlflowException(f"output_format must be 'pandas' or 'list', got {output_format!r}",
                              error_code="INVALID_PARAMETER_VALUE")
    base = ["run_id", "experiment_id", "status", "artifact_uri", "start_time", "end_time"]
    rest = sorted((c for c in df.columns
                   if c.startswith(("metrics.", "params.", "tags.")) and c not in missing),
                  key=lambda c: (("metrics.", "params.", "tags.").index(c.split(".")[0] + "."), c))
    return df[base + rest].reset_index(drop=True)
