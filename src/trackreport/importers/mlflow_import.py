"""Map an MLflow store into a trackreport store (``trackreport import mlflow SOURCE``).

Every imported run's ``run.start`` carries ``imported_from`` (system, MLflow
run id, experiment id), so importing again finds the runs already there and
appends only what is new: metric points, params, changed tags, artifacts, a
status change. Events are written with the store's own writer (format v1).
"""

from __future__ import annotations

import math
import os
import time
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from .. import artifacts, events, registry
from ..errors import TrackreportError
from ..keys import check_key
from ..reader import iter_runs, read_experiments, read_run
from ..records import Run
from ..redact import redact_url
from ..store import Store, new_writer_id
from ..writer import EventFile
from .mlflow_source import ArtifactsUnavailable, MlExperiment, MlflowSource, MlLoggedModel, MlRun

SYSTEM = "mlflow"
_MAPPED_TAGS = {"mlflow.runName", "mlflow.parentRunId", "mlflow.user", "mlflow.source.name",
                "mlflow.source.git.commit", "mlflow.source.git.branch",
                "mlflow.source.git.repoURL", "mlflow.note.content"}


class MlflowImportError(TrackreportError):
    """The MLflow source cannot be read."""


@dataclass
class ImportReport:
    """What one import did: counts of what was imported and of what was skipped, by reason."""

    imported: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)

    def summary(self) -> str:
        """One line per count, for the CLI."""
        order = ("experiments", "runs", "runs updated", "params", "metric points", "tags",
                 "experiment tags",
                 "artifacts", "models", "registered models", "model versions", "aliases")
        parts = [f"{self.imported[k]} {k}" for k in order if self.imported.get(k)]
        lines = ["imported: " + (", ".join(parts) if parts else "nothing new")]
        for reason, count in sorted(self.skipped.items()):
            lines.append(f"skipped: {count} {reason}")
        return "\n".join(lines)


def open_source(source: str) -> MlflowSource:
    """The reader for ``source``: an ``mlruns/`` folder, a ``file:`` URI, an SQLite db, or
    another tracking URI (read with MLflow's client when ``mlflow`` is installed)."""
    from .mlflow_file import FileStore
    from .mlflow_sqlite import SqliteStore, sqlite_path

    db = sqlite_path(source)
    if db is not None:
        return SqliteStore(db)
    if source.startswith("file:"):
        source = urllib.request.url2pathname(urllib.parse.urlparse(source).path)
    path = Path(source)
    if path.is_dir():
        if not any((child / "meta.yaml").is_file() for child in path.iterdir()):
            raise MlflowImportError(f"{source!r} is not an MLflow file store "
                                    "(no <experiment>/meta.yaml inside)")
        return FileStore(path)
    if "://" in source or source.startswith("databricks"):
        from .mlflow_client import ClientStore, MlflowClientMissing

        try:
            return ClientStore(source)
        except MlflowClientMissing:
            raise MlflowImportError(
                f"cannot import {source!r}: reading a tracking server or database needs the "
                "mlflow package (pip install mlflow); without it, point at an MLflow file "
                "store (mlruns/) or SQLite database (sqlite:///mlflow.db)") from None
    raise MlflowImportError(f"MLflow source {source!r} does not exist")


def stable_run_id(start_ms: int | None, mlflow_run_id: str) -> str:
    """Our run id of an MLflow run: its start time and the head of MLflow's id."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime((start_ms or 0) / 1000))
    return f"{stamp}-{mlflow_run_id[:8]}"


def _seconds(ms: int | None) -> float | None:
    return ms / 1000 if ms is not None else None


def _valid_key(key: str) -> bool:
    try:
        check_key(key, "key")
    except (TrackreportError, TypeError, ValueError):
        return False
    return True


class _Importer:
    def __init__(self, source: MlflowSource, store: Store, names: Iterable[str] | None,
                 progress: Callable[[int, int], None] | None) -> None:
        self.source = source
        self.store = store
        self.names = set(names) if names else None
        self.progress = progress
        self.report = ImportReport()
        self.writer = new_writer_id()
        self.existing: dict[str, str] = {}  # MLflow run id -> our run id
        self.ids: dict[str, str] = {}  # every MLflow run id of this import -> our run id
        self.model_paths: dict[str, tuple[str, str]] = {}  # logged model id -> (run, path)
        self._exp_file: EventFile | None = None

    # the whole import ---------------------------------------------------------------
    def run(self) -> ImportReport:
        self.store.ensure()
        for run in iter_runs(self.store, metrics=False):
            origin = run.imported_from
            if origin and origin.get("system") == SYSTEM and origin.get("run_id"):
                self.existing[str(origin["run_id"])] = run.run_id
        plan: list[tuple[MlExperiment, list[MlRun], list[MlLoggedModel]]] = []
        for exp in self.source.experiments():
            if self.names is not None and exp.name not in self.names:
                continue
            runs = self.source.runs(exp)
            if exp.lifecycle_stage == "deleted":
                self.report.skipped["deleted experiments"] += 1
                self.report.skipped["runs of deleted experiments"] += len(runs)
                continue
            live = []
            for r in runs:
                if r.lifecycle_stage == "deleted":
                    self.report.skipped["deleted runs"] += 1
                else:
                    live.append(r)
            if not live:
                self.report.skipped["empty experiments"] += 1
                continue
            plan.append((exp, live, self.source.logged_models(exp)))
            for r in live:
                self.ids[r.run_id] = self.existing.get(r.run_id) or stable_run_id(
                    r.start_time, r.run_id)
        total = sum(len(runs) for _, runs, _ in plan)
        done = 0
        known = read_experiments(self.store)
        for exp, runs, logged in plan:
            self._experiment(exp, known)
            by_run: dict[str, list[MlLoggedModel]] = {}
            for model in logged:
                if model.source_run_id:
                    by_run.setdefault(model.source_run_id, []).append(model)
            for r in runs:
                self._run(exp, r, by_run.get(r.run_id, []))
                done += 1
                if self.progress is not None:
                    self.progress(done, total)
        if self._exp_file is not None:
            self._close(self._exp_file)
        self._registry()
        return self.report

    def _experiment(self, exp: MlExperiment, known: dict[str, Any]) -> None:
        name = exp.name
        description = exp.tags.get("mlflow.note.content", "")
        old = known.get(name)
        tags = {}
        for key, value in exp.tags.items():
            if key == "mlflow.note.content" or (old is not None and old.tags.get(key) == value):
                continue
            if not _valid_key(key):
                self.report.skipped["experiment tags with keys trackreport refuses"] += 1
                continue
            tags[key] = value
        if old is not None and not tags and (not description
                                             or old.description == description):
            return
        if self._exp_file is None:
            self._exp_file = EventFile(self.store.storage, "experiments", self.writer)
        file = self._exp_file
        when = (_seconds(exp.creation_time) if old is None else None) or time.time()
        event: dict[str, Any] = {"type": events.EXPERIMENT, "name": name, "time": when}
        if description and (old is None or old.description != description):
            event["description"] = description
        if tags:
            event["tags"] = tags
            self.report.imported["experiment tags"] += len(tags)
        file.add(event)
        if old is None:
            self.report.imported["experiments"] += 1

    # one run ----------------------------------------------------------------------------
    def _run(self, exp: MlExperiment, r: MlRun, logged: list[MlLoggedModel]) -> None:
        our_id = self.ids[r.run_id]
        old: Run | None = None
        if r.run_id in self.existing:
            old = read_run(self.store, our_id)
        start = _seconds(r.start_time) or 0.0
        evts: list[dict[str, Any]] = []
        if old is None:
            tags = r.tags
            parent = tags.get("mlflow.parentRunId")
            git: dict[str, Any] | None = None
            if tags.get("mlflow.source.git.commit"):
                remote = tags.get("mlflow.source.git.repoURL")
                git = {"commit": tags["mlflow.source.git.commit"],
                       "branch": tags.get("mlflow.source.git.branch"),
                       "dirty": None, "remote": redact_url(remote) if remote else None}
            source_name = tags.get("mlflow.source.name")
            context = {"user": tags.get("mlflow.user") or r.user,
                       "entry_point": ({"path": source_name, "module": None, "argv": None}
                                       if source_name else None),
                       "git": git}
            evts.append({"type": events.RUN_START, "time": start, "run_id": our_id,
                         "experiment": exp.name,
                         "name": r.tags.get("mlflow.runName") or r.name or r.run_id,
                         "parent_run_id": self.ids.get(parent) or self.existing.get(parent)
                         if parent else None,
                         "context": context,
                         "imported_from": {"system": SYSTEM, "run_id": r.run_id,
                                           "experiment_id": r.experiment_id}})
            if tags.get("mlflow.note.content"):
                evts.append({"type": events.NOTE, "time": start,
                             "markdown": tags["mlflow.note.content"]})
        name = r.tags.get("mlflow.runName") or r.name or r.run_id
        if old is not None and old.name != name and _valid_key(name):  # renamed in MLflow
            evts.append({"type": events.RUN_RENAME, "time": time.time(), "name": name})
        evts += self._params(r, old, start)
        evts += self._tags(r, old, start)
        evts += self._metrics(r, old)
        end = self._end(r, old)
        files = self._artifacts(r, our_id, old, logged)
        stamp = _seconds(r.end_time) or start
        for event in files:  # logged during the run: stamped with its end, not the file's mtime
            event["time"] = stamp
        evts += files
        if end is not None:
            evts.append(end)
        if not evts:
            return
        if old is None:
            self.report.imported["runs"] += 1
        else:
            self.report.imported["runs updated"] += 1
        evts.sort(key=lambda e: (e["type"] != events.RUN_START, e["type"] == events.RUN_END,
                                 e["time"]))
        file = EventFile(self.store.storage, self.store.run_dir(our_id), self.writer)
        for event in evts:
            file.add(event)
        self._close(file)

    def _params(self, r: MlRun, old: Run | None, start: float) -> list[dict[str, Any]]:
        new = {}
        for key, value in r.params.items():
            if old is not None and key in old.params:
                continue
            if not _valid_key(key):
                self.report.skipped["params with keys trackreport refuses"] += 1
                continue
            new[key] = value
        self.report.imported["params"] += len(new)
        return [{"type": events.PARAMS, "time": start, "params": new}] if new else []

    def _tags(self, r: MlRun, old: Run | None, start: float) -> list[dict[str, Any]]:
        new = {}
        for key, value in r.tags.items():
            if key in _MAPPED_TAGS or (old is not None and old.tags.get(key) == value):
                continue
            if not _valid_key(key):
                self.report.skipped["tags with keys trackreport refuses"] += 1
                continue
            new[key] = value
        self.report.imported["tags"] += len(new)
        return [{"type": events.TAGS, "time": start, "tags": new}] if new else []

    def _metrics(self, r: MlRun, old: Run | None) -> list[dict[str, Any]]:
        seen: set[tuple[str, int, float, Any]] = set()
        if old is not None:
            for key, series in old.metrics.items():
                for step, value, t in zip(series.steps, series.values, series.times,
                                          strict=True):
                    seen.add((key, step, round(t * 1000), _same(value)))
        out: list[dict[str, Any]] = []
        group: dict[tuple[int, int], dict[str, Any]] = {}
        bad: set[str] = set()
        for key, value, ts, step in sorted(r.metrics, key=lambda m: (m[2], m[3], m[0])):
            if key in bad or (key not in seen and not _valid_key(key)):
                bad.add(key)
                self.report.skipped["metric points with keys trackreport refuses"] += 1
                continue
            mark = (key, step, ts, _same(value))
            if mark in seen:
                continue
            seen.add(mark)
            event = group.get((ts, step))
            if event is None or key in event["values"]:
                event = group[(ts, step)] = {"type": events.METRICS, "time": ts / 1000,
                                             "step": max(0, step), "values": {}}
                out.append(event)
            event["values"][key] = value
            self.report.imported["metric points"] += 1
        return out

    def _end(self, r: MlRun, old: Run | None) -> dict[str, Any] | None:
        status = "RUNNING" if r.status == "SCHEDULED" else r.status
        if status == "RUNNING" or (old is not None and old.status == status):
            return None
        end = _seconds(r.end_time) or _seconds(r.start_time) or 0.0
        if old is not None and old.end_time is not None and end <= old.end_time:
            end = old.end_time + 0.001  # a changed status must come after the one it replaces
        return {"type": events.RUN_END, "time": end, "status": status, "error": None,
                "imported": True}

    # artifacts and models ---------------------------------------------------------------
    def _artifacts(self, r: MlRun, our_id: str, old: Run | None,
                   logged: list[MlLoggedModel]) -> list[dict[str, Any]]:
        have = {a.path for a in old.artifacts} if old is not None else set()
        out: list[dict[str, Any]] = []
        if r.artifact_uri:
            try:
                with self.source.artifact_folder(r.artifact_uri) as folder:
                    out += self._copy(folder, our_id, "", have)
            except ArtifactsUnavailable as exc:
                if str(exc):
                    self.report.skipped[str(exc)] += 1
        old_models = {m.get("mlflow_model_id") for m in (old.models if old else [])}
        taken = {m.get("path") for m in (old.models if old else [])}
        for model in logged:
            if model.lifecycle_stage == "deleted":
                self.report.skipped["deleted logged models"] += 1
                continue
            path = model.name if model.name not in taken else f"{model.name}-{model.model_id}"
            if not _valid_key(path) or "/" in path:
                path = model.model_id
            if model.model_id in old_models:
                continue
            try:
                with self.source.artifact_folder(model.artifact_location) as folder:
                    out += self._copy(folder, our_id, path, have)
            except ArtifactsUnavailable:
                self.report.skipped["logged models whose files could not be read"] += 1
                continue
            taken.add(path)
            self.model_paths[model.model_id] = (our_id, path)
            event = self._model_event(our_id, path, have | {e["path"] for e in out})
            if event is not None:
                event["mlflow_model_id"] = model.model_id
                out += event.pop("_files")
                out.append(event)
        # models logged as plain artifacts (MLflow 2): folders holding an MLmodel file
        for e in list(out):
            if e.get("type") == events.ARTIFACT and e["path"].endswith("MLmodel"):
                path = e["path"][:-len("/MLmodel")] if "/" in e["path"] else ""
                if path and path not in taken:
                    event = self._model_event(our_id, path, have)
                    if event is not None:
                        out += event.pop("_files")
                        out.append(event)
        return out

    def _copy(self, folder: Path, our_id: str, base: str, have: set[str]) -> list[dict[str, Any]]:
        out = []
        for dirpath, dirnames, filenames in os.walk(folder):
            dirnames.sort()
            for name in sorted(filenames):
                local = Path(dirpath) / name
                rel = local.relative_to(folder).as_posix()
                rel = f"{base}/{rel}" if base else rel
                if rel in have or local.is_symlink():
                    continue
                parent = rel.rpartition("/")[0] or None
                try:
                    event = artifacts.copy_file(self.store, our_id, local, parent)
                except (TrackreportError, OSError, ValueError):
                    self.report.skipped["artifacts that could not be copied"] += 1
                    continue
                have.add(rel)
                out.append(event)
                self.report.imported["artifacts"] += 1
        return out

    def _model_event(self, our_id: str, path: str, have: set[str]) -> dict[str, Any] | None:
        """A ``model`` event (and a model.json) for the MLflow model folder at ``path``."""
        from ..models import MODEL_JSON
        from .mlflow_file import read_yaml

        folder = self.store.storage.local_path(self.store.artifact_path(our_id, path))
        mlmodel = read_yaml(folder / "MLmodel")
        if not mlmodel:
            return None
        flavors = mlmodel.get("flavors") if isinstance(mlmodel.get("flavors"), dict) else {}
        sk = flavors.get("sklearn") if isinstance(flavors.get("sklearn"), dict) else None
        if sk is not None and isinstance(sk.get("pickled_model"), str):
            fmt = "skops" if sk.get("serialization_format") == "skops" else "pickle"
            flavor, info = "sklearn", {"model_file": sk["pickled_model"]}
        else:
            flavor, fmt, info = "files", "files", {}
        meta = {"flavor": flavor, "format": fmt, **info, "libraries": {},
                "python_version": (flavors.get("python_function") or {}).get("python_version"),
                "signature": None, "input_example": None, "files": [],
                "run_id": our_id, "artifact_path": path, "mlflow_flavors": sorted(flavors),
                "mlflow_signature": mlmodel.get("signature")}
        files = []
        if f"{path}/{MODEL_JSON}" not in have:
            data = orjson.dumps(events.jsonable(meta),
                                option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
            files.append(artifacts.put_bytes(self.store, our_id, data + b"\n",
                                             f"{path}/{MODEL_JSON}"))
        self.report.imported["models"] += 1
        return {"type": events.MODEL, "time": time.time(), "path": path, "flavor": flavor,
                "format": fmt, "signature": None, "model_class": None,
                "size": 0, "_files": files}

    # the registry -----------------------------------------------------------------------
    def _registry(self) -> None:
        ours = registry.read_registry(self.store)
        for model in self.source.registered_models():
            have = ours.get(model.name)
            if have is not None and any(not v.imported for v in have.versions):
                self.report.skipped["registered models whose name exists already"] += 1
                continue
            imported_any = False
            numbers = {v.version for v in have.versions} if have else set()
            for v in model.versions:
                if v.version in numbers:
                    continue
                target = self._version_target(v.source, v.run_id)
                if target is None:
                    self.report.skipped["model versions whose run was not imported"] += 1
                    continue
                tags = dict(v.tags)
                if v.stage and v.stage != "None":
                    tags["stage"] = v.stage
                registry.import_version(self.store, model.name, v.version, target[0],
                                        target[1], tags=tags, description=v.description,
                                        created=_seconds(v.creation_time))
                numbers.add(v.version)
                imported_any = True
                self.report.imported["model versions"] += 1
            if not numbers:
                continue
            if have is None and imported_any:
                self.report.imported["registered models"] += 1
            current = registry.read_registry(self.store).get(model.name)
            if current is None:
                continue
            if model.description and current.description != model.description:
                registry.set_description(self.store, model.name, model.description)
            for key, value in model.tags.items():
                if current.tags.get(key) != value and _valid_key(key):
                    registry.set_model_tag(self.store, model.name, key, value)
            for alias, number in model.aliases.items():
                if current.aliases.get(alias) != number and number in numbers:
                    registry.set_model_alias(self.store, model.name, alias, number)
                    self.report.imported["aliases"] += 1

    def _version_target(self, source: str, run_id: str | None) -> tuple[str, str] | None:
        if source.startswith("models:/"):
            found = self.model_paths.get(source[len("models:/"):].strip("/"))
            if found is not None:
                return found
            found = self._logged_model_in_store(source[len("models:/"):].strip("/"))
            if found is not None:
                return found
        our = self.ids.get(run_id or "") or self.existing.get(run_id or "")
        if our is None:
            return None
        if source.startswith("runs:/"):
            return our, source[len("runs:/"):].partition("/")[2].strip("/") or "model"
        if "/artifacts/" in source:
            return our, source.split("/artifacts/", 1)[1].strip("/") or "model"
        return our, "model"

    def _logged_model_in_store(self, model_id: str) -> tuple[str, str] | None:
        for run in iter_runs(self.store, metrics=False):
            for m in run.models:
                if m.get("mlflow_model_id") == model_id:
                    return run.run_id, str(m.get("path"))
        return None

    def _close(self, file: EventFile) -> None:
        if not file.close():
            raise MlflowImportError(f"could not write {file.rel}")


def _same(value: float) -> Any:
    """A metric value as a set key (NaN equal to NaN)."""
    return "NaN" if math.isnan(value) else value


def import_mlflow(source: str, store: Store, experiments: Iterable[str] | None = None,
                  progress: Callable[[int, int], None] | None = None) -> ImportReport:
    """Import the MLflow store at ``source`` into ``store``; returns what was done.

    ``source``: an ``mlruns/`` folder, a ``file:`` URI, an SQLite database, or,
    with the ``mlflow`` package installed, any tracking URI its client accepts.
    """
    reader = open_source(source)
    return _Importer(reader, store, experiments, progress).run()
