"""MLflow's fluent tracking functions over trackreport's own API (``trackreport.fluent``)."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from .. import artifacts, events, fluent
from ..keys import MAX_STEP, check_key, check_step, metric_value
from ..run import ActiveRun as TrRun
from ..run import outcome
from ..writer import LARGE_BUFFER, flush_all, wake_flusher
from . import _core, entities
from .exceptions import MlflowException, translated

_last_run_id: list[str] = []
_tracking_uri: list[str] = []
_REMOTE = ("http://", "https://", "databricks", "sqlite:", "postgresql", "mysql", "mssql",
           "s3:", "gs:", "wasbs:", "abfss:", "dbfs:", "uc:")


class ActiveRun:
    """The run ``start_run`` returns: MLflow's ``.info`` / ``.data``, and a context manager."""

    def __init__(self, run: TrRun) -> None:
        self._run = run
        self._start_ms = int(time.time() * 1000)

    def __repr__(self) -> str:
        return f"<ActiveRun: info={self.info!r}>"

    @property
    def info(self) -> entities.RunInfo:
        """The run's id, name, experiment id, status, times (ms) and artifact URI."""
        run = self._run
        if run.status != "RUNNING":  # ended: the stored record has the true times
            return _core.to_entity(_core.record(run.id)).info
        return entities.RunInfo(
            run_id=run.id, experiment_id=_core.experiment_id(run.experiment),
            run_name=run.name, status=run.status, start_time=self._start_ms, end_time=None,
            artifact_uri=_core.artifact_uri(run.store, run.id))

    @property
    def data(self) -> entities.RunData:
        """Params, latest metrics and tags logged so far."""
        return _core.to_entity(_core.record(self._run.id)).data

    @property
    def inputs(self) -> entities.RunInputs:
        """Datasets logged with ``log_input``."""
        return _core.to_entity(_core.record(self._run.id)).inputs

    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> bool:
        status, error = outcome(exc_type, exc)
        _last_run_id[:] = [self._run.id]
        self._run.end(status, error)
        return False


def _wrap(run: TrRun) -> ActiveRun:
    wrapper = getattr(run, "_mlflow", None)
    if wrapper is None:
        wrapper = run._mlflow = ActiveRun(run)  # type: ignore[attr-defined]
    return wrapper


def _active() -> TrRun:
    """The active run; logging with none starts one, as MLflow does."""
    if fluent._stack:
        return fluent._stack[-1]
    start_run()
    return fluent._stack[-1]


def _target(run_id: str | None) -> TrRun:
    return _core.handle(run_id) if run_id else _active()


# tracking URI ----------------------------------------------------------------------------
@translated
def set_tracking_uri(uri: str | os.PathLike[str]) -> None:
    """Use a local store: ``file:`` URIs and paths. Servers and databases are an error.

    Under ``trackreport run --store DIR`` the store stays DIR.
    """
    text = os.fspath(uri)
    path = _local_path(text)
    _tracking_uri[:] = [text]
    if not os.environ.get("TRACKREPORT_MLFLOW_PINNED"):
        fluent.set_store(path)


def _local_path(text: str) -> str:
    if text.startswith("file:"):
        from urllib.parse import unquote, urlparse

        return unquote(urlparse(text).path) or "."
    if text.lower().startswith(_REMOTE) or "://" in text:
        raise MlflowException(
            f"tracking URI {text!r} is not supported: trackreport logs to a local store "
            "(a folder or a file: URI); drop set_tracking_uri or point it at a folder",
            error_code="INVALID_PARAMETER_VALUE")
    return text


def get_tracking_uri() -> str:
    """The store in use, as a ``file:`` URI."""
    root = fluent.get_store().root
    return str(root) if "://" in str(root) else Path(root).resolve().as_uri()


set_registry_uri = set_tracking_uri
get_registry_uri = get_tracking_uri


def is_tracking_uri_set() -> bool:
    """True when set_tracking_uri was called (or the store came from the environment)."""
    return bool(_tracking_uri) or "TRACKREPORT_STORE" in os.environ


# experiments ------------------------------------------------------------------------------
@translated
def set_experiment(experiment_name: str | None = None,
                   experiment_id: str | None = None) -> entities.Experiment:
    """Log the following runs into this experiment (created when new); returns it."""
    if (experiment_name is None) == (experiment_id is None):
        raise MlflowException("set_experiment needs exactly one of experiment_name and "
                              "experiment_id", error_code="INVALID_PARAMETER_VALUE")
    name = (experiment_name if experiment_name is not None
            else _core.experiment_name_of(experiment_id))  # type: ignore[arg-type]
    if not _core.experiment_exists(name):
        _core.create_experiment(name)
    fluent.set_experiment(name)
    return _core.experiment_entity(name)


@translated
def create_experiment(name: str, artifact_location: str | None = None,
                      tags: Mapping[str, Any] | None = None) -> str:
    """Create an experiment; MlflowException when the name exists. Returns its id."""
    if not isinstance(name, str) or not name:
        raise MlflowException("Invalid experiment name: an experiment name must be a "
                              "non-empty string", error_code="INVALID_PARAMETER_VALUE")
    if _core.experiment_exists(name):
        raise MlflowException(f"Experiment '{name}' already exists.",
                              error_code="RESOURCE_ALREADY_EXISTS")
    _core.create_experiment(name, dict(tags or {}))
    return _core.experiment_id(name)


@translated
def get_experiment(experiment_id: str) -> entities.Experiment:
    """The experiment with this id (MlflowException when there is none)."""
    return _core.experiment_entity(_core.experiment_name_of(experiment_id))


def get_experiment_by_name(name: str) -> entities.Experiment | None:
    """The experiment named ``name``, or None."""
    return _core.experiment_entity(name) if _core.experiment_exists(name) else None


_EXPERIMENT_ORDER = ("name", "experiment_id", "creation_time", "last_update_time")


@translated
def search_experiments(view_type: int | None = None, max_results: int | None = None,
                       filter_string: str | None = None,
                       order_by: list[str] | None = None) -> list[entities.Experiment]:
    """Experiments matching ``filter_string``, in ``order_by`` order (newest first by default).

    The filter is MLflow's search syntax over ``name`` and ``tags.<key>``
    (``name LIKE 'x%'``, ``tags.team = 'a'``; AND, and trackreport's OR, NOT and
    parentheses). ``order_by`` takes ``name``, ``experiment_id``,
    ``creation_time`` and ``last_update_time`` with ASC or DESC. Nothing is
    ever deleted, so ``ViewType.DELETED_ONLY`` finds none.
    """
    import pandas as pd

    from ..filters import apply_filter
    from ..reader import read_experiments

    if view_type == entities.ViewType.DELETED_ONLY:
        return []
    if max_results is not None and (type(max_results) is not int or max_results < 1):
        raise MlflowException(f"max_results must be a positive integer, got {max_results!r}",
                              error_code="INVALID_PARAMETER_VALUE")
    names = _core.experiment_names()
    if _core.DEFAULT_EXPERIMENT not in names:
        names.insert(0, _core.DEFAULT_EXPERIMENT)
    st = _core.store()
    known = read_experiments(st) if st.exists() else {}
    created = _core.experiment_times()
    found = [_core.experiment_entity(n, known, created) for n in names]
    df = pd.DataFrame([{"name": e.name, **{f"tags.{k}": v for k, v in e.tags.items()}}
                       for e in found])
    df = apply_filter(df, filter_string, ("name",))
    out = [found[i] for i in df.index]
    # MLflow's order: newest first by default; ties broken by experiment id
    clauses = [_experiment_order(c) for c in order_by or ["creation_time DESC",
                                                          "experiment_id ASC"]]
    if all(column != "experiment_id" for column, _ in clauses):
        clauses.append(("experiment_id", False))
    def key(e: entities.Experiment, column: str) -> Any:
        if column == "experiment_id":
            return int(e.experiment_id)
        if column in ("creation_time", "last_update_time"):  # to the microsecond: two
            when = created.get(e.name)  # experiments made in one millisecond keep their order
            return when if when is not None else getattr(e, column) / 1000
        return getattr(e, column)

    for column, ascending in reversed(clauses):  # stable sorts: the first clause decides
        present = [e for e in out if getattr(e, column) is not None]
        present.sort(key=lambda e, c=column: key(e, c), reverse=not ascending)
        out = present + [e for e in out if getattr(e, column) is None]  # unknown: last
    return out[:max_results] if max_results else out


def _experiment_order(clause: str) -> tuple[str, bool]:
    import re

    m = re.fullmatch(r"\s*(?:attributes?\.)?`?(\w+)`?(?:\s+(ASC|DESC))?\s*", clause,
                     re.IGNORECASE)
    if m is None or m.group(1).lower() not in _EXPERIMENT_ORDER:
        raise MlflowException(
            f"search_experiments: cannot order by {clause!r} (use "
            f"{', '.join(_EXPERIMENT_ORDER)}, with ASC or DESC)",
            error_code="INVALID_PARAMETER_VALUE")
    return m.group(1).lower(), (m.group(2) or "ASC").upper() == "ASC"


@translated
def set_experiment_tag(key: str, value: Any) -> None:
    """Set a tag of the active experiment (``mlflow.note.content`` is its description)."""
    _core.set_experiment_tags(fluent._experiment, {key: value})


@translated
def set_experiment_tags(tags: Mapping[str, Any]) -> None:
    """Set tags of the active experiment."""
    _core.set_experiment_tags(fluent._experiment, dict(tags))


# runs --------------------------------------------------------------------------------------
@translated
def start_run(run_id: str | None = None, experiment_id: str | None = None,
              run_name: str | None = None, nested: bool = False,
              parent_run_id: str | None = None, tags: Mapping[str, Any] | None = None,
              description: str | None = None, log_system_metrics: bool | None = None
              ) -> ActiveRun:
    """Start (or resume, with ``run_id``) a run, MLflow's way; returns an ActiveRun."""
    if run_id is not None and active_run() is not None and active_run().info.run_id == run_id:
        return active_run()  # type: ignore[return-value]
    user_tags = dict(tags or {})
    run_name = run_name or user_tags.pop("mlflow.runName", None)
    user_tags.pop("mlflow.parentRunId", None)
    note = user_tags.pop("mlflow.note.content", None)
    description = description or (note if isinstance(note, str) else None)
    experiment = None
    if experiment_id is not None and run_id is None:
        experiment = _core.experiment_name_of(experiment_id)
    tags_text = {k: _core.param_text(v) for k, v in user_tags.items()}
    run = fluent.start_run(run_id=run_id, name=run_name, tags=tags_text or None,
                           experiment=experiment, nested=nested or parent_run_id is not None,
                           parent_run_id=parent_run_id, description=description)
    return _wrap(run)


def active_run() -> ActiveRun | None:
    """The active run, or None."""
    run = fluent.active_run()
    return _wrap(run) if run is not None else None


def last_active_run() -> entities.Run | None:
    """The active run, else the run this process ended last, as a Run (or None)."""
    run = fluent.active_run()
    run_id = run.id if run is not None else (_last_run_id[0] if _last_run_id else None)
    return get_run(run_id) if run_id else None


@translated
def end_run(status: str = "FINISHED") -> None:
    """End the active run with ``status`` (FINISHED, FAILED or KILLED)."""
    run = fluent.active_run()
    if run is not None:
        _last_run_id[:] = [run.id]
        run.end(status)


@translated
def get_run(run_id: str) -> entities.Run:
    """The run ``run_id`` as MLflow's Run (``.info``, ``.data``, ``.inputs``)."""
    return _core.to_entity(_core.record(run_id))


def get_parent_run(run_id: str) -> entities.Run | None:
    """The parent of run ``run_id``, or None."""
    parent = _core.record(run_id).parent_run_id
    return get_run(parent) if parent else None


# logging ------------------------------------------------------------------------------------
@translated
def log_param(key: str, value: Any, synchronous: bool | None = None) -> Any:
    """Log a param of the active run; returns the value (logged again: same text, as MLflow)."""
    _core.log_params(_active(), {key: value})
    return value


@translated
def log_params(params: Mapping[str, Any], synchronous: bool | None = None,
               run_id: str | None = None) -> None:
    """Log params of the active run (or of ``run_id``)."""
    _core.log_params(_target(run_id), params)


def _log_at(run: TrRun, key: str, value: Any, step: int | None, timestamp: int | None) -> None:
    """One metric value at ``timestamp`` (ms), checked as ``log_metric`` checks it."""
    if timestamp is None:
        run.log_metric(key, value, step)
        return
    check_key(key, "metric key")
    run._metric_keys.add(key)
    value = metric_value(value, key)
    nxt = run._next_step
    if step is None:
        step = nxt.get(key, 0)
    elif type(step) is not int or not 0 <= step <= MAX_STEP:
        step = check_step(step, key)
    nxt[key] = max(nxt.get(key, 0), step + 1)
    run._queue.append((float(timestamp) / 1000.0, step, key, value))
    if len(run._queue) > LARGE_BUFFER:
        wake_flusher()


@translated
def log_metric(key: str, value: Any, step: int | None = None, synchronous: bool | None = None,
               timestamp: int | None = None, run_id: str | None = None,
               **kwargs: Any) -> None:
    """Log a metric value. Without ``step``: the key's next step (MLflow would use 0)."""
    _log_at(_target(run_id), key, value, step, timestamp)


@translated
def log_metrics(metrics: Mapping[str, Any], step: int | None = None,
                synchronous: bool | None = None, run_id: str | None = None,
                timestamp: int | None = None, **kwargs: Any) -> None:
    """Log several metric values (checked first)."""
    run = _target(run_id)
    if timestamp is None:
        run.log_metrics(metrics, step)
        return
    for key, value in metrics.items():
        metric_value(value, key)
    for key, value in metrics.items():
        _log_at(run, key, value, step, timestamp)


@translated
def set_tag(key: str, value: Any, synchronous: bool | None = None) -> None:
    """Set a tag of the active run (``mlflow.runName`` renames it, ``mlflow.note.content``
    becomes its note)."""
    set_tags({key: value})


@translated
def set_tags(tags: Mapping[str, Any], synchronous: bool | None = None) -> None:
    """Set tags of the active run."""
    _set_tags(_active(), tags)


def _set_tags(run: TrRun, tags: Mapping[str, Any]) -> None:
    """Set tags; ``mlflow.runName`` renames the run and ``mlflow.note.content`` is its note."""
    tags = dict(tags)
    name = tags.pop("mlflow.runName", None)
    if name is not None:
        run.rename(_core.param_text(name))
    note = tags.pop("mlflow.note.content", None)
    if note is not None:
        run.note(str(note))
    if tags:
        run.set_tags({k: _core.param_text(v) for k, v in tags.items()})


@translated
def log_artifact(local_path: str | os.PathLike[str], artifact_path: str | None = None,
                 run_id: str | None = None) -> None:
    """Copy a file (or a folder, under its own name) into the run's artifacts."""
    run = _target(run_id)
    path = Path(local_path)
    if path.is_dir():
        sub = f"{artifact_path.strip('/')}/{path.name}" if artifact_path else path.name
        run.log_artifacts(path, sub)
    else:
        run.log_artifact(path, artifact_path)


@translated
def log_artifacts(local_dir: str | os.PathLike[str], artifact_path: str | None = None,
                  run_id: str | None = None) -> None:
    """Copy a folder's files into the run's artifacts."""
    _target(run_id).log_artifacts(local_dir, artifact_path)


@translated
def log_text(text: str, artifact_file: str, run_id: str | None = None) -> None:
    """Save text as an artifact file."""
    _target(run_id).log_text(text, artifact_file)


@translated
def log_dict(dictionary: Any, artifact_file: str, run_id: str | None = None) -> None:
    """Save a dict as JSON (YAML for .yaml/.yml) as an artifact file."""
    _target(run_id).log_dict(dictionary, artifact_file)


@translated
def log_figure(figure: Any, artifact_file: str, *, save_kwargs: Any = None,
               run_id: str | None = None) -> None:
    """Save a matplotlib figure or altair chart as an artifact file."""
    _target(run_id).log_figure(figure, artifact_file)


@translated
def log_image(image: Any, artifact_file: str | None = None, key: str | None = None,
              step: int | None = None, timestamp: int | None = None,
              synchronous: bool | None = None, run_id: str | None = None) -> None:
    """Save an image: at ``artifact_file``, or under ``key`` at ``step`` (a slider per key)."""
    run = _target(run_id)
    if key is not None:
        run.log_image(image, key, step)
        return
    if artifact_file is None:
        raise MlflowException("log_image needs artifact_file or key",
                              error_code="INVALID_PARAMETER_VALUE")
    from ..keys import check_artifact_path

    check_artifact_path(artifact_file, "artifact file")
    data, _ext = artifacts.image_bytes(image)
    run._file.add(artifacts.put_bytes(run.store, run.id, data, artifact_file))


@translated
def log_table(data: Any, artifact_file: str, run_id: str | None = None) -> None:
    """Save a table (DataFrame or dict of columns) as MLflow's JSON: columns and data."""
    import pandas as pd

    frame = data if isinstance(data, pd.DataFrame) else pd.DataFrame(data)
    table = {"columns": [str(c) for c in frame.columns],
             "data": events.jsonable(frame.to_numpy(dtype=object).tolist())}
    _target(run_id).log_dict(table, artifact_file)


@translated
def log_input(dataset: Any, context: str | None = None,
              tags: Mapping[str, str] | None = None, model: Any = None) -> None:
    """Record a dataset the run used (name, digest, schema, rows) on the run's page."""
    run = _active()
    record = dataset.to_record() if hasattr(dataset, "to_record") else {
        "name": str(getattr(dataset, "name", "dataset")),
        "digest": str(getattr(dataset, "digest", "")),
    }
    if context:
        record["context"] = str(context)
    if tags:
        record["tags"] = {str(k): str(v) for k, v in tags.items()}
    run._file.add({"type": events.DATASET, "time": time.time(), **record})


@translated
def get_artifact_uri(artifact_path: str | None = None) -> str:
    """The ``file:`` URI of the active run's artifacts (or of one artifact in them)."""
    run = _active()
    base = _core.artifact_uri(run.store, run.id)
    return f"{base}/{artifact_path.lstrip('/')}" if artifact_path else base


def flush_async_logging() -> None:
    """Write everything logged so far (trackreport buffers for at most a second)."""
    flush_all()


def flush_artifact_async_logging() -> None:
    """Nothing to wait for: artifacts are copied at the call."""
    flush_all()
