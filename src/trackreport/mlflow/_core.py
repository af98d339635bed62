"""What the MLflow shim shares: experiment ids, run handles, record -> entity conversion."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any

from .. import events, fluent
from ..errors import RunNotFoundError
from ..reader import read_experiments, read_run
from ..records import Run as RunRecord
from ..run import ActiveRun
from ..store import EXPERIMENTS, Store
from ..writer import EventFile, flush_all
from . import entities
from .exceptions import MlflowException

DEFAULT_EXPERIMENT = "Default"
_created: set[str] = set()  # experiments this process created (they may have no run yet)
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
    names = set(_created)
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


def create_experiment(name: str, tags: dict[str, Any] | None = None) -> None:
    """Record an experiment (an ``experiment`` event), so that it exists before its runs."""
    from ..keys import check_key

    check_key(name, "experiment name")
    st = fluent.get_store()
    st.ensure()
    key = str(st.root)
    file = _experiment_file.get(key)
    if file is None or file.closed:
        file = _experiment_file[key] = EventFile(st.storage, EXPERIMENTS, fluent._writer_id())
    event: dict[str, Any] = {"type": events.EXPERIMENT, "time": time.time(), "name": name}
    note = (tags or {}).get("mlflow.note.content")
    if isinstance(note, str):
        event["description"] = note
    file.add(event)
    file.flush()
    _created.add(name)


def experiment_entity(name: str) -> entities.Experiment:
    """The MLflow ``Experiment`` of ``name``."""
    st = fluent.get_store()
    tags: dict[str, str] = {}
    if st.exists():
        exp = read_experiments(st).get(name)
        if exp is not None and exp.description:
            tags["mlflow.note.content"] = exp.description
    return entities.Experiment(experiment_id(name), name, _uri(st.root / "runs"), tags=tags)


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
