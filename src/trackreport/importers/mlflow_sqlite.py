"""Read an MLflow SQL store kept in SQLite (``sqlite:///mlflow.db``) with the standard library.

The database is opened read-only; tables a given MLflow version lacks (the
registry, MLflow 3's logged models) are treated as empty.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from ..errors import TrackreportError
from .mlflow_source import (
    MlExperiment,
    MlLoggedModel,
    MlModelVersion,
    MlRegisteredModel,
    MlRun,
    local_artifact_folder,
    sql_float,
)


def sqlite_path(source: str) -> Path | None:
    """The database path of ``sqlite:///x.db`` (or of a path to an SQLite file); else None."""
    if source.startswith("sqlite:///"):
        return Path(source[len("sqlite:///"):])
    path = Path(source)
    if path.is_file():
        with open(path, "rb") as fh:
            if fh.read(16) == b"SQLite format 3\x00":
                return path
    return None


class SqliteStore:
    """An MLflow SQLite tracking database."""

    def __init__(self, location: str | os.PathLike[str]) -> None:
        self.location = Path(location)
        if not self.location.is_file():
            raise TrackreportError(f"MLflow database {str(location)!r} does not exist")
        uri = self.location.absolute().as_uri() + "?mode=ro"
        self._db = sqlite3.connect(uri, uri=True)
        self._db.row_factory = sqlite3.Row
        self._tables = {r[0] for r in self._db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "experiments" not in self._tables or "runs" not in self._tables:
            raise TrackreportError(f"{str(location)!r} is an SQLite file but not an MLflow "
                                   "tracking database (no experiments/runs tables)")

    def _rows(self, sql: str, *args: Any, table: str | None = None) -> list[sqlite3.Row]:
        if table is not None and table not in self._tables:
            return []
        return list(self._db.execute(sql, args))

    def _columns(self, table: str) -> set[str]:
        return {r[1] for r in self._db.execute(f"PRAGMA table_info({table})")}

    def experiments(self) -> list[MlExperiment]:
        """Every experiment (deleted ones marked by their lifecycle_stage)."""
        tags: dict[str, dict[str, str]] = {}
        for r in self._rows("SELECT experiment_id, key, value FROM experiment_tags",
                            table="experiment_tags"):
            tags.setdefault(str(r["experiment_id"]), {})[r["key"]] = r["value"] or ""
        cols = self._columns("experiments")
        created = "creation_time" if "creation_time" in cols else "NULL"
        return [MlExperiment(experiment_id=str(r["experiment_id"]), name=r["name"],
                             lifecycle_stage=r["lifecycle_stage"] or "active",
                             artifact_location=r["artifact_location"] or "",
                             creation_time=r["created"], tags=tags.get(str(r["experiment_id"]), {}))
                for r in self._rows(
                    f"SELECT experiment_id, name, lifecycle_stage, artifact_location, "  # noqa: S608
                    f"{created} AS created FROM experiments ORDER BY experiment_id")]

    def runs(self, experiment: MlExperiment) -> list[MlRun]:
        """Every run of ``experiment`` with params, tags and full metric histories."""
        out = []
        for r in self._rows("SELECT * FROM runs WHERE experiment_id = ? ORDER BY start_time, "
                            "run_uuid", int(experiment.experiment_id)):
            run_id = r["run_uuid"]
            run = MlRun(
                run_id=run_id, experiment_id=experiment.experiment_id, name=r["name"] or "",
                status=r["status"] or "FINISHED", start_time=r["start_time"],
                end_time=r["end_time"], user=r["user_id"] or None,
                lifecycle_stage=r["lifecycle_stage"] or "active",
                artifact_uri=r["artifact_uri"] or "")
            run.params = {p["key"]: p["value"] for p in self._rows(
                "SELECT key, value FROM params WHERE run_uuid = ?", run_id)}
            run.tags = {t["key"]: t["value"] or "" for t in self._rows(
                "SELECT key, value FROM tags WHERE run_uuid = ?", run_id)}
            run.metrics = [(m["key"], sql_float(m["value"], bool(m["is_nan"])),
                            int(m["timestamp"]), int(m["step"] or 0))
                           for m in self._rows(
                               "SELECT key, value, timestamp, step, is_nan FROM metrics "
                               "WHERE run_uuid = ? ORDER BY key, step, timestamp", run_id)]
            out.append(run)
        return out

    def logged_models(self, experiment: MlExperiment) -> list[MlLoggedModel]:
        """MLflow 3 LoggedModels of ``experiment``."""
        return [MlLoggedModel(model_id=r["model_id"], experiment_id=experiment.experiment_id,
                              name=r["name"] or "model", source_run_id=r["source_run_id"],
                              artifact_location=r["artifact_location"] or "",
                              lifecycle_stage=r["lifecycle_stage"] or "active")
                for r in self._rows("SELECT * FROM logged_models WHERE experiment_id = ? "
                                    "ORDER BY creation_timestamp_ms, model_id",
                                    int(experiment.experiment_id), table="logged_models")]

    def registered_models(self) -> list[MlRegisteredModel]:
        """The registry: models, versions (with tags and stages) and aliases."""
        out = []
        for r in self._rows("SELECT * FROM registered_models ORDER BY name",
                            table="registered_models"):
            name = r["name"]
            model = MlRegisteredModel(name=name, description=r["description"] or "",
                                      creation_time=r["creation_time"])
            model.tags = {t["key"]: t["value"] or "" for t in self._rows(
                "SELECT key, value FROM registered_model_tags WHERE name = ?", name,
                table="registered_model_tags")}
            model.aliases = {a["alias"]: int(a["version"]) for a in self._rows(
                "SELECT alias, version FROM registered_model_aliases WHERE name = ?", name,
                table="registered_model_aliases")}
            for v in self._rows("SELECT * FROM model_versions WHERE name = ? ORDER BY version",
                                name, table="model_versions"):
                if v["current_stage"] == "Deleted_Internal":
                    continue
                model.versions.append(MlModelVersion(
                    name=name, version=int(v["version"]), source=v["source"] or "",
                    run_id=v["run_id"] or None, stage=v["current_stage"] or "None",
                    description=v["description"] or "", creation_time=v["creation_time"],
                    tags={t["key"]: t["value"] or "" for t in self._rows(
                        "SELECT key, value FROM model_version_tags WHERE name = ? AND "
                        "version = ?", name, v["version"], table="model_version_tags")}))
            out.append(model)
        return out

    def artifact_folder(self, uri: str) -> AbstractContextManager[Path]:
        """The local folder of artifact URI ``uri`` (ArtifactsUnavailable when remote)."""
        return local_artifact_folder(self.location, uri)
