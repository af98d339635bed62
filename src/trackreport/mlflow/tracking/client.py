"""``MlflowClient``: explicit-run-id calls over the same store as the fluent API."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ... import fluent
from .. import _core, _fluent, _search, entities
from ..exceptions import MlflowException, translated


class FileInfo:
    """One entry of ``list_artifacts``: path, is_dir, file_size."""

    def __init__(self, path: str, is_dir: bool, file_size: int | None) -> None:
        self.path = path
        self.is_dir = is_dir
        self.file_size = file_size

    def __repr__(self) -> str:
        return f"<FileInfo: path={self.path!r}, is_dir={self.is_dir}>"


class MlflowClient:
    """MLflow's client: every call names its run (or experiment) explicitly."""

    def __init__(self, tracking_uri: str | None = None, registry_uri: str | None = None) -> None:
        if tracking_uri is not None:
            _fluent.set_tracking_uri(tracking_uri)

    # experiments ------------------------------------------------------------------------
    def create_experiment(self, name: str, artifact_location: str | None = None,
                          tags: dict[str, Any] | None = None) -> str:
        """Create an experiment; returns its id."""
        return _fluent.create_experiment(name, artifact_location, tags)

    def get_experiment(self, experiment_id: str) -> entities.Experiment:
        """The experiment with this id."""
        return _fluent.get_experiment(experiment_id)

    def get_experiment_by_name(self, name: str) -> entities.Experiment | None:
        """The experiment named ``name``, or None."""
        return _fluent.get_experiment_by_name(name)

    def search_experiments(self, view_type: int | None = None, max_results: int | None = None,
                           filter_string: str | None = None, order_by: list[str] | None = None,
                           page_token: Any = None) -> list[entities.Experiment]:
        """Experiments by name and tag filters (see ``mlflow.search_experiments``)."""
        return _fluent.search_experiments(view_type, max_results, filter_string, order_by)

    @translated
    def set_experiment_tag(self, experiment_id: str, key: str, value: Any) -> None:
        """Set a tag of experiment ``experiment_id``."""
        _core.set_experiment_tags(_core.experiment_name_of(experiment_id), {key: value})

    # runs ---------------------------------------------------------------------------------
    @translated
    def create_run(self, experiment_id: str, start_time: int | None = None,
                   tags: dict[str, Any] | None = None,
                   run_name: str | None = None) -> entities.Run:
        """Start a run without making it active; end it with ``set_terminated``."""
        name = _core.experiment_name_of(experiment_id)
        tags = dict(tags or {})
        run_name = run_name or tags.pop("mlflow.runName", None)
        parent = tags.pop("mlflow.parentRunId", None)
        run = fluent.start_run(name=run_name, experiment=name, nested=True,
                               parent_run_id=parent)
        fluent._pop(run)  # not the active run: only this client logs into it
        if tags:
            _fluent._set_tags(run, tags)
        return self.get_run(run.id)

    @translated
    def get_run(self, run_id: str) -> entities.Run:
        """The run as MLflow's Run."""
        return _fluent.get_run(run_id)

    def search_runs(self, experiment_ids: Any, filter_string: str = "",
                    run_view_type: int = 1, max_results: int = 1000,
                    order_by: list[str] | None = None, page_token: Any = None) -> list[Any]:
        """Runs of these experiments, as a list of Run entities."""
        return _search.search_runs(experiment_ids, filter_string, run_view_type, max_results,
                                   order_by, output_format="list")

    @translated
    def set_terminated(self, run_id: str, status: str | None = None,
                       end_time: int | None = None) -> None:
        """End run ``run_id`` (FINISHED unless told otherwise)."""
        run = _core.handle(run_id)
        run.status = "RUNNING"  # a run ended before may be ended again, as in MLflow
        run.end(status or "FINISHED")
        _fluent._last_run_id[:] = [run_id]

    @translated
    def update_run(self, run_id: str, status: str | None = None,
                   name: str | None = None) -> None:
        """Rename run ``run_id`` and/or end it with ``status``."""
        if name:
            _core.handle(run_id).rename(name)
        if status and status != "RUNNING":
            self.set_terminated(run_id, status)

    # logging --------------------------------------------------------------------------------
    @translated
    def log_param(self, run_id: str, key: str, value: Any, synchronous: bool | None = None
                  ) -> Any:
        """Log a param of run ``run_id``."""
        _core.log_params(_core.handle(run_id), {key: value})
        return value

    @translated
    def log_metric(self, run_id: str, key: str, value: Any, timestamp: int | None = None,
                   step: int | None = None, synchronous: bool | None = None,
                   **kwargs: Any) -> None:
        """Log a metric value of run ``run_id`` (``timestamp`` in ms)."""
        _fluent._log_at(_core.handle(run_id), key, value, step, timestamp)

    @translated
    def set_tag(self, run_id: str, key: str, value: Any, synchronous: bool | None = None
                ) -> None:
        """Set a tag of run ``run_id``."""
        _fluent._set_tags(_core.handle(run_id), {key: value})

    @translated
    def log_batch(self, run_id: str, metrics: Sequence[entities.Metric] = (),
                  params: Sequence[entities.Param] = (), tags: Sequence[entities.RunTag] = (),
                  synchronous: bool | None = None) -> None:
        """Log Metric, Param and RunTag entities of run ``run_id`` (all checked first)."""
        run = _core.handle(run_id)
        if params:
            _core.log_params(run, {p.key: p.value for p in params})
        for m in metrics:
            _fluent._log_at(run, m.key, m.value, m.step, m.timestamp)
        if tags:
            _fluent._set_tags(run, {t.key: t.value for t in tags})

    @translated
    def get_metric_history(self, run_id: str, key: str) -> list[entities.Metric]:
        """Every value of metric ``key`` of run ``run_id``, by step."""
        series = _core.record(run_id).metrics.get(key)
        if series is None:
            return []
        return [entities.Metric(key, v, round(t * 1000), s)
                for s, v, t in zip(series.steps, series.values, series.times, strict=False)]

    @translated
    def log_artifact(self, run_id: str, local_path: str, artifact_path: str | None = None
                     ) -> None:
        """Copy a file (or folder) into run ``run_id``'s artifacts."""
        _fluent.log_artifact(local_path, artifact_path, run_id=run_id)

    @translated
    def log_artifacts(self, run_id: str, local_dir: str, artifact_path: str | None = None
                      ) -> None:
        """Copy a folder into run ``run_id``'s artifacts."""
        _core.handle(run_id).log_artifacts(local_dir, artifact_path)

    @translated
    def log_text(self, run_id: str, text: str, artifact_file: str) -> None:
        """Save text as an artifact of run ``run_id``."""
        _core.handle(run_id).log_text(text, artifact_file)

    @translated
    def log_dict(self, run_id: str, dictionary: Any, artifact_file: str) -> None:
        """Save a dict as an artifact of run ``run_id``."""
        _core.handle(run_id).log_dict(dictionary, artifact_file)

    @translated
    def list_artifacts(self, run_id: str, path: str | None = None) -> list[FileInfo]:
        """The files and folders directly under ``path`` in run ``run_id``'s artifacts."""
        st = _core.store()
        _core.record(run_id)
        folder = Path(st.storage.local_path(st.artifact_path(run_id, path or "")))
        if not folder.is_dir():
            return []
        prefix = f"{path.strip('/')}/" if path else ""
        return [FileInfo(prefix + p.name, p.is_dir(), None if p.is_dir() else p.stat().st_size)
                for p in sorted(folder.iterdir())]

    @translated
    def download_artifacts(self, run_id: str, path: str, dst_path: str | None = None) -> str:
        """Copy an artifact file or folder to ``dst_path`` (default: a temporary folder)."""
        import tempfile

        st = _core.store()
        _core.record(run_id)
        source = Path(st.storage.local_path(st.artifact_path(run_id, path.strip("/"))))
        if not source.exists():
            raise MlflowException(f"run {run_id} has no artifact {path!r}",
                                  error_code="RESOURCE_DOES_NOT_EXIST")
        dst = Path(dst_path) if dst_path else Path(tempfile.mkdtemp())
        dst.mkdir(parents=True, exist_ok=True)
        target = dst / source.name
        if source.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True)
        else:
            shutil.copy2(source, target)
        return os.fspath(target)

    # registry ---------------------------------------------------------------------------------
    def create_registered_model(self, name: str, tags: dict[str, Any] | None = None,
                                description: str | None = None) -> Any:
        """Reserve a model name (trackreport creates it with its first version)."""
        from ...registry import check_name

        check_name(name)
        self._pending[name] = (tags, description)
        return _Registered(name, description or "", tags or {})

    _pending: dict[str, Any] = {}  # noqa: RUF012 - shared by clients, like the store

    @translated
    def create_model_version(self, name: str, source: str, run_id: str | None = None,
                             tags: dict[str, Any] | None = None,
                             description: str | None = None, **kwargs: Any) -> Any:
        """Register the model at ``source`` (``runs:/...``, or a run's artifact URI)."""
        uri = _source_uri(source, run_id)
        version = fluent.register_model(uri, name, tags=tags, description=description)
        pending = self._pending.pop(name, None)
        if pending and pending[1]:
            fluent.set_registered_model_description(name, pending[1])
        return version

    @translated
    def set_registered_model_alias(self, name: str, alias: str, version: int | str) -> None:
        """Point ``alias`` of model ``name`` at ``version``."""
        fluent.set_model_alias(name, alias, version)

    @translated
    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        """Remove ``alias`` from model ``name``."""
        fluent.delete_model_alias(name, alias)

    @translated
    def get_model_version_by_alias(self, name: str, alias: str) -> Any:
        """The ModelVersion that ``alias`` of model ``name`` points at."""
        from ... import registry

        return registry.resolve_models_uri(_core.store(), f"models:/{name}@{alias}")

    @translated
    def get_model_version(self, name: str, version: int | str) -> Any:
        """Version ``version`` of model ``name``."""
        return fluent.get_model_version(name, version)

    @translated
    def get_registered_model(self, name: str) -> Any:
        """The registered model ``name``."""
        from ... import registry

        return registry.get_model(_core.store(), name)

    @translated
    def search_registered_models(self, *args: Any, **kwargs: Any) -> list[Any]:
        """Every registered model."""
        return fluent.list_models()

    @translated
    def set_model_version_tag(self, name: str, version: int | str, key: str, value: Any
                              ) -> None:
        """Not in trackreport's registry: version tags are set at registration."""
        raise MlflowException("MlflowClient.set_model_version_tag is not supported by "
                              "trackreport (pass tags= when registering)",
                              error_code="NOT_IMPLEMENTED")

    @translated
    def set_registered_model_tag(self, name: str, key: str, value: Any) -> None:
        """Set a tag on registered model ``name``."""
        fluent.set_model_tag(name, key, value)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        raise MlflowException(f"MlflowClient.{name} is not supported by trackreport",
                              error_code="NOT_IMPLEMENTED")


class _Registered:
    """What ``create_registered_model`` returns (name, description, tags)."""

    def __init__(self, name: str, description: str, tags: dict[str, Any]) -> None:
        self.name = name
        self.description = description
        self.tags = tags
        self.creation_timestamp = int(time.time() * 1000)


def _source_uri(source: str, run_id: str | None) -> str:
    if source.startswith("runs:/"):
        return source
    if run_id and source.startswith("file:"):
        marker = f"/runs/{run_id}/artifacts/"
        if marker in source:
            return f"runs:/{run_id}/{source.split(marker, 1)[1]}"
    raise MlflowException(f"model source {source!r}: trackreport registers runs:/<run_id>/<path> "
                          "models", error_code="INVALID_PARAMETER_VALUE")
