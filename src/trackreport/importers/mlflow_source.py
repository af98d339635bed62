"""What an MLflow store holds, as plain records shared by the file-store and SQLite readers.

Times are MLflow's milliseconds; the mapping into trackreport converts them.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

STATUS_BY_NUMBER = {1: "RUNNING", 2: "SCHEDULED", 3: "FINISHED", 4: "FAILED", 5: "KILLED"}
SQL_INF = 1.7976931348623157e308  # the SQL store's stand-in for +-Infinity


@dataclass
class MlExperiment:
    """An MLflow experiment."""

    experiment_id: str
    name: str
    lifecycle_stage: str = "active"
    artifact_location: str = ""
    creation_time: int | None = None
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class MlRun:
    """An MLflow run with everything it logged (metric points: (key, value, timestamp, step))."""

    run_id: str
    experiment_id: str
    name: str = ""
    status: str = "FINISHED"
    start_time: int | None = None
    end_time: int | None = None
    user: str | None = None
    lifecycle_stage: str = "active"
    artifact_uri: str = ""
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    metrics: list[tuple[str, float, int, int]] = field(default_factory=list)
    inputs: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class MlLoggedModel:
    """An MLflow 3 LoggedModel (a model with its own artifact folder)."""

    model_id: str
    experiment_id: str
    name: str
    source_run_id: str | None
    artifact_location: str
    lifecycle_stage: str = "active"


@dataclass
class MlModelVersion:
    """A version of an MLflow registered model."""

    name: str
    version: int
    source: str
    run_id: str | None
    stage: str = "None"
    description: str = ""
    creation_time: int | None = None
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class MlRegisteredModel:
    """An MLflow registered model with its versions and aliases."""

    name: str
    description: str = ""
    creation_time: int | None = None
    tags: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, int] = field(default_factory=dict)
    versions: list[MlModelVersion] = field(default_factory=list)


class ArtifactsUnavailable(Exception):
    """A run's (or logged model's) artifacts cannot be read; the message is the skip reason."""


class MlflowSource(Protocol):
    """A readable MLflow store."""

    def artifact_folder(self, uri: str) -> AbstractContextManager[Path]:
        """A local folder holding the files at artifact URI ``uri`` (ArtifactsUnavailable)."""

    def experiments(self) -> list[MlExperiment]:
        """Every experiment, deleted ones included (their lifecycle_stage says so)."""

    def runs(self, experiment: MlExperiment) -> list[MlRun]:
        """Every run of ``experiment``, deleted ones included."""

    def logged_models(self, experiment: MlExperiment) -> list[MlLoggedModel]:
        """The MLflow 3 LoggedModels of ``experiment``."""

    def registered_models(self) -> list[MlRegisteredModel]:
        """The model registry."""


def sql_float(value: float | None, is_nan: bool = False) -> float:
    """A metric value of the SQL store: NaN flags and +-1.797e308 placeholders made real."""
    if is_nan or value is None:
        return float("nan")
    if value >= SQL_INF:
        return float("inf")
    if value <= -SQL_INF:
        return float("-inf")
    return float(value)


_LOCAL_SCHEMES = ("", "file")


@contextlib.contextmanager
def downloaded_artifact_folder(mlflow: Any, uri: str,
                               tracking_uri: str | None = None) -> Iterator[Path]:
    """The files at artifact URI ``uri``, downloaded by ``mlflow`` into a temporary folder.

    Raises:
        ArtifactsUnavailable: nothing there, or MLflow could not list or download it.
    """
    try:
        listed = mlflow.artifacts.list_artifacts(artifact_uri=uri, tracking_uri=tracking_uri)
    except Exception:
        raise ArtifactsUnavailable("artifacts MLflow could not list") from None
    if not listed:
        raise ArtifactsUnavailable("")  # nothing logged: nothing to report
    tmp = Path(tempfile.mkdtemp(prefix="trackreport-mlflow-"))
    try:
        try:
            got = Path(mlflow.artifacts.download_artifacts(
                artifact_uri=uri, dst_path=str(tmp), tracking_uri=tracking_uri))
        except Exception:
            raise ArtifactsUnavailable("artifacts MLflow could not download") from None
        if not got.is_dir():
            raise ArtifactsUnavailable("artifacts MLflow could not download")
        yield got
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def local_artifact_folder(location: Path, uri: str) -> Iterator[Path]:
    """The local folder of an artifact URI of a store at ``location``.

    An absolute path is tried relative to the store first (a store is often
    copied from another machine), then as written.

    A remote URI (``s3://``, ``mlflow-artifacts:``) is downloaded through the
    installed ``mlflow`` package, with its usual configuration
    (``MLFLOW_TRACKING_URI``, cloud credentials).

    Raises:
        ArtifactsUnavailable: a remote URI without mlflow, or no such folder.
    """
    parsed = urllib.parse.urlparse(uri)
    if parsed.scheme not in _LOCAL_SCHEMES and not (len(parsed.scheme) == 1 and os.name == "nt"):
        from .mlflow_client import MlflowClientMissing, real_mlflow

        try:
            mlflow = real_mlflow()
        except MlflowClientMissing:
            raise ArtifactsUnavailable("runs with remote artifact URIs (not copied: install "
                                       "mlflow to fetch them)") from None
        with downloaded_artifact_folder(mlflow, uri) as folder:
            yield folder
        return
    raw = Path(urllib.request.url2pathname(parsed.path) if parsed.scheme == "file" else uri)
    base = location if location.is_dir() else location.parent
    parts = raw.parts[1:] if raw.is_absolute() else raw.parts
    for i in range(len(parts)):
        candidate = base.joinpath(*parts[i:])
        if candidate.is_dir():
            yield candidate
            return
    if not raw.is_dir():
        raise ArtifactsUnavailable("")  # nothing logged: no folder, nothing to report
    yield raw
