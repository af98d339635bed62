"""Read an MLflow file store (an ``mlruns/`` folder) without MLflow installed.

``meta.yaml`` files are read with PyYAML (imported lazily); params, tags and
metric histories are plain files, one per key (keys with ``/`` are folders).
"""

from __future__ import annotations

import os
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from ..errors import TrackreportError
from .mlflow_source import (
    STATUS_BY_NUMBER,
    MlExperiment,
    MlLoggedModel,
    MlModelVersion,
    MlRegisteredModel,
    MlRun,
    local_artifact_folder,
)

_SKIP_TOP = {".trash", "models", ".DS_Store"}


def read_yaml(path: Path) -> dict[str, Any]:
    """A ``meta.yaml`` (or ``MLmodel``) as a dict ({} when missing or empty)."""
    try:
        import yaml
    except ImportError:  # pragma: no cover - depends on the environment
        raise TrackreportError("reading an MLflow store needs PyYAML: "
                               "pip install 'trackreport[mlflow-import]'") from None
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    data = yaml.safe_load(text)
    return data if isinstance(data, dict) else {}


def _key_files(folder: Path) -> dict[str, Path]:
    """Key -> file below ``folder`` (nested folders make keys with ``/``)."""
    out: dict[str, Path] = {}
    if not folder.is_dir():
        return out
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames.sort()
        for name in sorted(filenames):
            path = Path(dirpath) / name
            out[path.relative_to(folder).as_posix()] = path
    return out


def _values(folder: Path) -> dict[str, str]:
    return {k: p.read_text(encoding="utf-8") for k, p in _key_files(folder).items()}


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def parse_metric_line(line: str) -> tuple[float, int, int] | None:
    """(value, timestamp, step) of one line ``timestamp value [step]`` of a metric file."""
    parts = line.split()
    if len(parts) < 2:
        return None
    try:
        return float(parts[1]), int(parts[0]), int(parts[2]) if len(parts) > 2 else 0
    except ValueError:
        return None


class FileStore:
    """An MLflow file store on disk."""

    def __init__(self, location: str | os.PathLike[str]) -> None:
        self.location = Path(location)

    def experiments(self) -> list[MlExperiment]:
        """Every experiment (those in ``.trash`` marked deleted)."""
        out = []
        for parent, deleted in ((self.location, False), (self.location / ".trash", True)):
            if not parent.is_dir():
                continue
            for child in sorted(parent.iterdir()):
                if child.name in _SKIP_TOP or not (child / "meta.yaml").is_file():
                    continue
                meta = read_yaml(child / "meta.yaml")
                if "experiment_id" not in meta:
                    continue
                out.append(MlExperiment(
                    experiment_id=str(meta["experiment_id"]), name=str(meta.get("name", "")),
                    lifecycle_stage="deleted" if deleted else str(
                        meta.get("lifecycle_stage") or "active"),
                    artifact_location=str(meta.get("artifact_location") or ""),
                    creation_time=_int(meta.get("creation_time")),
                    tags=_values(child / "tags")))
        return out

    def _folder(self, experiment: MlExperiment) -> Path:
        here = self.location / experiment.experiment_id
        return here if here.is_dir() else self.location / ".trash" / experiment.experiment_id

    def runs(self, experiment: MlExperiment) -> list[MlRun]:
        """Every run of ``experiment`` (deleted ones marked by their lifecycle_stage)."""
        out = []
        folder = self._folder(experiment)
        if not folder.is_dir():
            return out
        for child in sorted(folder.iterdir()):
            meta_path = child / "meta.yaml"
            if child.name in ("tags", "models", "datasets") or not meta_path.is_file():
                continue
            meta = read_yaml(meta_path)
            run_id = str(meta.get("run_id") or meta.get("run_uuid") or child.name)
            status = meta.get("status")
            status = STATUS_BY_NUMBER.get(status, str(status)) if status is not None else "FINISHED"
            run = MlRun(
                run_id=run_id, experiment_id=experiment.experiment_id,
                name=str(meta.get("run_name") or ""), status=status,
                start_time=_int(meta.get("start_time")), end_time=_int(meta.get("end_time")),
                user=meta.get("user_id") or None,
                lifecycle_stage=str(meta.get("lifecycle_stage") or "active"),
                artifact_uri=str(meta.get("artifact_uri") or ""),
                params=_values(child / "params"), tags=_values(child / "tags"))
            for key, path in _key_files(child / "metrics").items():
                for line in path.read_text(encoding="utf-8").splitlines():
                    parsed = parse_metric_line(line)
                    if parsed is not None:
                        run.metrics.append((key, *parsed))
            out.append(run)
        return out

    def logged_models(self, experiment: MlExperiment) -> list[MlLoggedModel]:
        """MLflow 3 LoggedModels stored under ``<experiment>/models/``."""
        out = []
        folder = self._folder(experiment) / "models"
        if not folder.is_dir():
            return out
        for child in sorted(folder.iterdir()):
            meta = read_yaml(child / "meta.yaml")
            if not meta:
                continue
            out.append(MlLoggedModel(
                model_id=str(meta.get("model_id") or child.name),
                experiment_id=experiment.experiment_id, name=str(meta.get("name") or "model"),
                source_run_id=meta.get("source_run_id") or None,
                artifact_location=str(meta.get("artifact_location") or child / "artifacts"),
                lifecycle_stage=str(meta.get("lifecycle_stage") or "active")))
        return out

    def registered_models(self) -> list[MlRegisteredModel]:
        """Registered models under ``models/`` with versions, tags and aliases."""
        out = []
        folder = self.location / "models"
        if not folder.is_dir():
            return out
        for child in sorted(folder.iterdir()):
            meta = read_yaml(child / "meta.yaml")
            if not meta:
                continue
            model = MlRegisteredModel(
                name=str(meta.get("name") or child.name),
                description=str(meta.get("description") or ""),
                creation_time=_int(meta.get("creation_timestamp")),
                tags=_values(child / "tags"))
            for alias, text in _values(child / "aliases").items():
                number = _int(text.strip())
                if number is not None:
                    model.aliases[alias] = number
            for vdir in sorted(child.glob("version-*")):
                vmeta = read_yaml(vdir / "meta.yaml")
                number = _int(vmeta.get("version"))
                if number is None or vmeta.get("current_stage") == "Deleted_Internal":
                    continue
                model.versions.append(MlModelVersion(
                    name=model.name, version=number, source=str(vmeta.get("source") or ""),
                    run_id=vmeta.get("run_id") or None,
                    stage=str(vmeta.get("current_stage") or "None"),
                    description=str(vmeta.get("description") or ""),
                    creation_time=_int(vmeta.get("creation_timestamp")),
                    tags=_values(vdir / "tags")))
            model.versions.sort(key=lambda v: v.version)
            out.append(model)
        return out

    def artifact_folder(self, uri: str) -> AbstractContextManager[Path]:
        """The local folder of artifact URI ``uri`` (ArtifactsUnavailable when remote)."""
        return local_artifact_folder(self.location, uri)
