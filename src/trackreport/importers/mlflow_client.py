"""Read any MLflow tracking URI (a server, a database) through ``mlflow.MlflowClient``.

Needs the ``mlflow`` package (not a trackreport dependency); it is imported
only when such a source is opened. Artifacts are downloaded through MLflow's
artifact API into a temporary folder, one run (or logged model) at a time, and
removed once copied.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..errors import TrackreportError
from .mlflow_source import (
    MlExperiment,
    MlLoggedModel,
    MlModelVersion,
    MlRegisteredModel,
    MlRun,
    downloaded_artifact_folder,
    sql_float,
)

_PAGE = 1000


class MlflowClientMissing(TrackreportError):
    """The ``mlflow`` package is not installed (or only trackreport's shim is)."""


def real_mlflow() -> Any:
    """The installed ``mlflow`` package; MlflowClientMissing when there is none."""
    try:
        import mlflow
    except ImportError:
        raise MlflowClientMissing("mlflow is not installed") from None
    if str(getattr(mlflow, "__version__", "")).endswith("+trackreport"):
        raise MlflowClientMissing("only trackreport's own mlflow shim is importable")
    return mlflow


_QUICK = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1", "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
          "MLFLOW_HTTP_REQUEST_TIMEOUT": "20"}


@contextlib.contextmanager
def _quick_requests() -> Iterator[None]:
    """MLflow's HTTP retries cut short (unless the user set them) for one first request."""
    added = [k for k in _QUICK if k not in os.environ]
    os.environ.update({k: _QUICK[k] for k in added})
    try:
        yield
    finally:
        for key in added:
            os.environ.pop(key, None)


def _reason(exc: Exception) -> str:
    """A short reason of a failed MLflow request (the OS error when there is one)."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    errno = re.search(r"\[Errno -?\d+\] [^'\")]+", text)
    return errno.group(0).strip() if errno else text[:300]


def _pages(call: Callable[..., Any], **kwargs: Any) -> Iterator[Any]:
    """Every item of a paged MLflow search (a PagedList with ``token``)."""
    token = None
    while True:
        page = call(max_results=_PAGE, page_token=token, **kwargs)
        yield from page
        token = getattr(page, "token", None)
        if not token:
            return


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


class ClientStore:
    """An MLflow tracking URI read with MLflow's own client."""

    def __init__(self, uri: str) -> None:
        mlflow = real_mlflow()
        from mlflow.entities import ViewType

        self.uri = uri
        self._all = ViewType.ALL
        self._mlflow = mlflow
        self._client = mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)
        try:
            with _quick_requests():  # a wrong URI fails in seconds, not after minutes of retries
                list(self._client.search_experiments(max_results=1))
        except Exception as exc:
            raise TrackreportError(f"cannot read MLflow tracking URI {uri!r}: {_reason(exc)}"
                                   ) from None

    def experiments(self) -> list[MlExperiment]:
        """Every experiment, deleted ones included (their lifecycle_stage says so)."""
        return [MlExperiment(experiment_id=str(e.experiment_id), name=e.name,
                             lifecycle_stage=e.lifecycle_stage or "active",
                             artifact_location=e.artifact_location or "",
                             creation_time=_int(getattr(e, "creation_time", None)),
                             tags=dict(e.tags or {}))
                for e in _pages(self._client.search_experiments, view_type=self._all)]

    def runs(self, experiment: MlExperiment) -> list[MlRun]:
        """Every run of ``experiment`` with params, tags and full metric histories."""
        out = []
        for r in _pages(self._client.search_runs, experiment_ids=[experiment.experiment_id],
                        run_view_type=self._all, order_by=["attributes.start_time ASC"]):
            info, data = r.info, r.data
            run = MlRun(
                run_id=info.run_id, experiment_id=experiment.experiment_id,
                name=getattr(info, "run_name", None) or "", status=str(info.status),
                start_time=_int(info.start_time), end_time=_int(info.end_time),
                user=info.user_id or None, lifecycle_stage=info.lifecycle_stage or "active",
                artifact_uri=info.artifact_uri or "",
                params=dict(data.params), tags=dict(data.tags))
            for key in sorted(data.metrics):
                run.metrics += [(key, sql_float(m.value), int(m.timestamp), int(m.step or 0))
                                for m in self._client.get_metric_history(info.run_id, key)]
            out.append(run)
        return out

    def logged_models(self, experiment: MlExperiment) -> list[MlLoggedModel]:
        """The MLflow 3 LoggedModels of ``experiment`` (none before MLflow 3)."""
        search = getattr(self._client, "search_logged_models", None)
        if search is None:
            return []
        return [MlLoggedModel(model_id=m.model_id, experiment_id=experiment.experiment_id,
                              name=m.name or "model", source_run_id=m.source_run_id,
                              artifact_location=m.artifact_location or "",
                              lifecycle_stage=str(getattr(m, "lifecycle_stage", None)
                                                  or "active"))
                for m in _pages(search, experiment_ids=[experiment.experiment_id])]

    def registered_models(self) -> list[MlRegisteredModel]:
        """The registry: models, versions (with tags and stages) and aliases."""
        out = []
        for m in _pages(self._client.search_registered_models):
            model = MlRegisteredModel(
                name=m.name, description=m.description or "",
                creation_time=_int(m.creation_timestamp), tags=dict(m.tags or {}),
                aliases={str(a): int(v) for a, v in dict(m.aliases or {}).items()})
            quoted = m.name.replace("'", "\\'")
            for v in _pages(self._client.search_model_versions, filter_string=f"name='{quoted}'"):
                if v.current_stage == "Deleted_Internal":
                    continue
                model.versions.append(MlModelVersion(
                    name=m.name, version=int(v.version), source=v.source or "",
                    run_id=v.run_id or None, stage=v.current_stage or "None",
                    description=v.description or "",
                    creation_time=_int(v.creation_timestamp), tags=dict(v.tags or {})))
            model.versions.sort(key=lambda v: v.version)
            out.append(model)
        return out

    def artifact_folder(self, uri: str) -> contextlib.AbstractContextManager[Path]:
        """The files at artifact URI ``uri``, downloaded into a temporary folder.

        Raises:
            ArtifactsUnavailable: nothing there, or MLflow could not list or download it.
        """
        return downloaded_artifact_folder(self._mlflow, uri, self.uri)
