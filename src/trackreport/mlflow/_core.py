"""What the MLflow shim shares: experiment ids, run handles, record -> entity conversion."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .. import events, fluent
from ..errors import RunNotFoundError
from ..keys import check_key, check_text
from ..reader import read_experiments, read_run
from ..records import Experiment
from ..records import Run as RunRecord
from ..run import ActiveRun
from ..store import EXPERIMENTS, Store
from ..writer import EventFile, flush_all
from . import entities
from .exceptions import MlflowException

DEFAULT_EXPERIMENT = "Default"
_created: dict[str, set[str]] = {}  # store root -> experiments this process created there
_experiment_file: dict[str, EventFile] = {}


# experiments ---------------------------------------------------------------------------
def experiment_id(name: str) -> str:
    """A stable experiment id derived from the name; MLflow's "Default" is "0"."""
    if name == DEFAULT_EXPERIMENT:
        return "0"
    return str(int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:6], "big"))


def store() -> Store:
    """The store in use (flushed, so this process reads what it logged)."""
    flush_all()
    return fluent.get_store()


def experiment_names() -> list[str]:
    """Every experiment the store (and this process) knows, sorted."""
    st = store()
    names = set(_created.get(str(st.root), ()))
    if st.exists():
        names.update(read_experiments(st))
        from ..reader import iter_runs

        names.update(r.experiment for r in iter_runs(st, metrics=False))
    return sorted(names)


def experiment_name_of(exp_id: str | int) -> str:
    """The experiment name of an id (MlflowException when unknown)."""
    wanted = str(exp_id)
    if wanted == "0":
        return DEFAULT_EXPERIMENT
    for name in experiment_names():
        if experiment_id(name) == wanted:
            return name
    raise MlflowException(f"No Experiment with id={wanted} exists",
                          error_code="RESOURCE_DOES_NOT_EXIST")


def experiment_exists(name: str) -> bool:
    """True when ``name`` has runs, settings, or was created by this process."""
    return name == DEFAULT_EXPERIMENT or name in experiment_names()


def create_experiment(name: str, tags: Mapping[str, Any] | None = None) -> None:
    """Record an experiment (an ``experiment`` event), so that it exists before its runs."""
    check_key(name, "experiment name")
    _experiment_event(name, tags or {})
    _created.setdefault(str(fluent.get_store().root), set()).add(name)


def set_experiment_tags(name: str, tags: Mapping[str, Any]) -> None:
    """Set tags of experiment ``name`` (``mlflow.note.content`` is its description)."""
    _experiment_event(name, tags)


def _experiment_event(name: str, tags: Mapping[str, Any]) -> None:
    """Write one ``experiment`` event for ``name`` with ``tags`` (checked first), flushed."""
    clean = {check_key(k, "experiment tag key"): check_text(param_text(v), f"experiment tag {k!r}")
             for k, v in tags.items()}
    event: dict[str, Any] = {"type": events.EXPERIMENT, "time": time.time(), "name": name}
    note = clean.pop("mlflow.note.content", None)
    if note is not None:
        event["description"] = note
    if clean:
        event["tags"] = clean
    st = fluent.get_store()
    st.ensure()
    key = str(st.root)
    file = _experiment_file.get(key)
    if file is None or file.closed:
        file = _experiment_file[key] = EventFile(st.storage, EXPERIMENTS, fluent._writer_id())
    file.add(event)
    file.flush()


def experiment_entity(name: str, known: Mapping[str, Experiment] | None = None,
                      created: Mapping[str, float] | None = None) -> entities.Experiment:
    """The MLflow ``Experiment`` of ``name`` (tags, description as ``mlflow.note.content``)."""
    st = fluent.get_store()
    if known is None:
        known = read_experiments(st) if st.exists() else {}
    tags: dict[str, str] = {}
    exp = known.get(name)
    if exp is not None:
        tags.update(exp.tags)
        if exp.description:
            tags["mlflow.note.content"] = exp.description
    when = (created or {}).get(name)
    if when is None and exp is not None:
        when = exp.created
    ms = _ms(when)
    return entities.Experiment(experiment_id(name), name, _uri(st.root / "runs"), tags=tags,
                               creation_time=ms, last_update_time=ms)


def experiment_times() -> dict[str, float]:
    """Name -> the earliest time an experiment was described or had a run started."""
    st = store()
    out: dict[str, float] = {}
    if not st.exists():
        return out
    from ..reader import iter_runs

    for name, exp in read_experiments(st).items():
        if exp.created is not None:
            out[name] = exp.created
    for run in iter_runs(st, metrics=False):
        if run.start_time is not None:
            out[run.experiment] = min(out.get(run.experiment, run.start_time), run.start_time)
    return out


# runs ----------------------------------------------------------------------------------
def _uri(path: Path) -> str:
    if "://" in str(path):  # a store on object storage: its URL as it is
        return str(path)
    return Path(path).resolve().as_uri()


def artifact_uri(st: Store, run_id: str) -> str:
    """The ``file:`` URI of a run's artifacts folder."""
    return _uri(st.root / st.artifact_path(run_id, ""))


def active_object(run_id: str) -> ActiveRun | None:
    """This process's live ActiveRun of ``run_id``, if it has one."""
    for run in list(fluent._stack) + list(fluent._runs):
        if run.id == run_id:
            return run
    return None


def handle(run_id: str) -> ActiveRun:
    """An ActiveRun to log into ``run_id`` without making it active (MlflowClient's way).

    A run this process is logging is used as it is; for another run, events
    go to this process's own file of it, without a ``run.resume`` (its status
    stays as it is).
    """
    live = active_object(run_id)
    if live is not None:
        return live
    st = store()
    record = read_run(st, run_id, metrics=True)
    file = fluent._run_file(st, run_id)
    run = ActiveRun(st, run_id, record.name, record.experiment, file, record.parent_run_id)
    run.status = record.status
    run._params.update(record.params)
    for key, series in record.metrics.items():
        if series.steps:
            run._next_step[key] = max(series.steps) + 1
        run._metric_keys.add(key)
    fluent._runs.add(run)
    return run


def record(run_id: str) -> RunRecord:
    """The stored record of ``run_id`` (MlflowException when there is none)."""
    try:
        return read_run(store(), run_id)
    except RunNotFoundError as exc:
        raise MlflowException(f"Run '{run_id}' not found ({exc})",
                              error_code="RESOURCE_DOES_NOT_EXIST") from None


def param_text(value: Any) -> str:
    """A param as MLflow stores it: ``str(value)``."""
    return value if isinstance(value, str) else str(value)


def log_params(run: ActiveRun, params: Mapping[str, Any]) -> None:
    """Log params MLflow's way: a key logged again is compared by its text (1 and "1" agree).

    A value whose text differs from the logged one raises ``MlflowException``, as
    MLflow does; a value with the same text is left as it was logged.
    """
    new = {}
    for key, value in params.items():
        if key in run._params:
            old, text = param_text(run._params[key]), param_text(value)
            if old != text:
                raise MlflowException(
                    f"Changing param values is not allowed. Param with key={key!r} was "
                    f"already logged with value={old!r} for run ID={run.id!r}. Attempted "
                    f"logging new value {text!r}.", error_code="INVALID_PARAMETER_VALUE")
            continue
        new[key] = value
    if new:
        run.log_params(new)


def _ms(t: float | None) -> int | None:
    return None if t is None else round(t * 1000)


def system_tags(rec: RunRecord) -> dict[str, str]:
    """The ``mlflow.*`` tags MLflow would have set on this run."""
    tags = {"mlflow.runName": rec.name}
    if rec.user:
        tags["mlflow.user"] = rec.user
    entry = rec.context.get("entry_point") or {}
    if isinstance(entry, dict) and entry.get("path"):
        tags["mlflow.source.name"] = str(entry["path"])
        tags["mlflow.source.type"] = "LOCAL"
    if rec.git_commit:
        tags["mlflow.source.git.commit"] = rec.git_commit
    if rec.parent_run_id:
        tags["mlflow.parentRunId"] = rec.parent_run_id
    if rec.notes:
        tags["mlflow.note.content"] = rec.notes[-1].markdown
    return tags


def to_entity(rec: RunRecord) -> entities.Run:
    """A trackreport Run record as MLflow's ``Run`` (params as text, latest metrics)."""
    st = fluent.get_store()
    info = entities.RunInfo(
        run_id=rec.run_id, experiment_id=experiment_id(rec.experiment), run_name=rec.name,
        status=rec.status, start_time=_ms(rec.start_time), end_time=_ms(rec.end_time),
        artifact_uri=artifact_uri(st, rec.run_id), user_id=rec.user or "")
    metrics = {k: s.last for k, s in rec.metrics.items() if s.last is not None}
    params = {k: param_text(v) for k, v in rec.params.items()}
    tags = {**system_tags(rec), **rec.tags}
    inputs = entities.RunInputs([
        entities.DatasetInput(
            entities.Dataset(name=str(d.get("name")), digest=str(d.get("digest")),
                             source_type=str(d.get("source_type") or "code"),
                             source=str(d.get("source") or "{}"),
                             schema=_json_text(d.get("schema")),
                             profile=_json_text({"num_rows": d.get("rows")})),
            [entities.InputTag("mlflow.data.context", str(d["context"]))]
            if d.get("context") else [])
        for d in rec.datasets])
    return entities.Run(info, entities.RunData(metrics, params, tags), inputs)


def _json_text(value: Any) -> str | None:
    if value is None:
        return None
    import json

    return json.dumps(value)
