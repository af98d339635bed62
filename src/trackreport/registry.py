"""The model registry: named models, numbered versions, aliases (DESIGN.md section 6).

Every change is one append-only event in this process's own file
``registry/events-<writer>.jsonl``, written under an exclusive lock on the
registry folder (``registry/.lock``, via ``filelock``) and flushed (fsync)
before the call returns. Under the lock a change reads every registry event,
checks itself against that state, and takes the next ``seq``; readers order
registry events by ``seq``, not by time. So concurrent registrations get
distinct, gap-free versions, and the number a call returns is the number
everyone reads later. This needs working file locks: local disks, or NFSv4
with working locks; object storage is not supported yet.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from . import events
from .errors import InvalidKeyError, ModelNotFoundError, TrackreportError
from .keys import check_key
from .store import REGISTRY, Store, new_writer_id

VERSION = "registry.version"
ALIAS = "registry.alias"
ALIAS_DELETE = "registry.alias.delete"
TAG = "registry.tag"
DESCRIPTION = "registry.description"
LOCK_TIMEOUT = 60.0
"""Seconds to wait for the registry lock before giving up with an error."""


@dataclass
class ModelVersion:
    """One registered version of a model."""

    name: str
    version: int
    run_id: str
    source: str  # runs:/<run_id>/<path>
    path: str = "model"
    tags: dict[str, str] = field(default_factory=dict)
    aliases: list[str] = field(default_factory=list)
    description: str = ""
    created: float = 0.0
    imported: bool = False  # imported from another tracker (its version number kept)


@dataclass
class AliasChange:
    """One move of an alias: to ``version`` (None: deleted) at ``time``."""

    alias: str
    version: int | None
    time: float


@dataclass
class RegisteredModel:
    """A registered model name with its versions and aliases."""

    name: str
    description: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, int] = field(default_factory=dict)
    latest_version: int | None = None
    versions: list[ModelVersion] = field(default_factory=list)
    created: float = 0.0
    alias_history: list[AliasChange] = field(default_factory=list)

    def version(self, number: int) -> ModelVersion | None:
        """Version ``number``, or None (imported registries may have gaps)."""
        for v in self.versions:
            if v.version == number:
                return v
        return None

    def alias_since(self, alias: str) -> float | None:
        """When ``alias`` was last moved to its current version."""
        for change in reversed(self.alias_history):
            if change.alias == alias:
                return change.time
        return None


# names -------------------------------------------------------------------------------
def check_name(name: object) -> str:
    """A registered model name: a key without '/' or '@'."""
    name = check_key(name, "model name")
    if "/" in name or "@" in name:
        raise InvalidKeyError(f"model name {name!r} contains '/' or '@'")
    return name


def check_alias(alias: object) -> str:
    """An alias: a key without '/' or '@', not 'latest' and not all digits."""
    alias = check_key(alias, "alias")
    if "/" in alias or "@" in alias:
        raise InvalidKeyError(f"alias {alias!r} contains '/' or '@'")
    if alias.lower() == "latest" or alias.isdigit():
        raise InvalidKeyError(f"alias {alias!r} is reserved ('latest' and numbers name versions)")
    return alias


def check_version(version: object) -> int:
    """A version number: an int >= 1 (numeric strings are accepted)."""
    if isinstance(version, str) and version.strip().isdigit():
        version = int(version)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise InvalidKeyError(f"model version must be an integer >= 1, got {version!r}")
    return version


# reading -----------------------------------------------------------------------------
def read_events(store: Store) -> list[dict[str, Any]]:
    """Every registry event, ordered by ``seq`` (then file and line)."""
    from .reader import parse_lines

    items = []
    for index, rel in enumerate(store.registry_event_files()):
        try:
            data = store.storage.read_bytes(rel)
        except FileNotFoundError:
            continue
        for line, event in enumerate(parse_lines(data, rel)):
            seq = event.get("seq")
            if isinstance(seq, int) and not isinstance(seq, bool):
                items.append((seq, index, line, event))
    items.sort(key=lambda item: item[:3])
    return [item[3] for item in items]


def fold(evts: list[dict[str, Any]]) -> dict[str, RegisteredModel]:
    """Registered models by name from registry events in ``seq`` order."""
    models: dict[str, RegisteredModel] = {}
    for e in evts:
        kind, name, t = e.get("type"), e.get("name"), e.get("time") or 0.0
        if not isinstance(name, str):
            continue
        if kind == VERSION:
            model = models.setdefault(name, RegisteredModel(name, created=t))
            run_id, path = e.get("run_id"), e.get("path")
            version = (model.latest_version or 0) + 1
            number = e.get("version")
            if e.get("imported_from") and isinstance(number, int) and not isinstance(
                    number, bool) and number >= 1 and model.version(number) is None:
                version = number  # an imported version keeps its number (gaps included)
            model.versions.append(ModelVersion(
                name=name, version=version, run_id=str(run_id), path=str(path),
                source=f"runs:/{run_id}/{path}", tags=dict(e.get("tags") or {}),
                description=str(e.get("description") or ""),
                created=e.get("created") or t, imported=bool(e.get("imported_from"))))
            model.versions.sort(key=lambda v: v.version)
            model.latest_version = model.versions[-1].version
            continue
        model = models.get(name)
        if model is None:
            continue
        version = e.get("version")
        if kind == ALIAS and isinstance(e.get("alias"), str) and model.version(version):
            model.aliases[e["alias"]] = version
            model.alias_history.append(AliasChange(e["alias"], version, t))
        elif kind == ALIAS_DELETE and isinstance(e.get("alias"), str):
            if model.aliases.pop(e["alias"], None) is not None:
                model.alias_history.append(AliasChange(e["alias"], None, t))
        elif kind == TAG and isinstance(e.get("key"), str):
            target = model.version(version) if version is not None else model
            if target is not None:
                target.tags[e["key"]] = str(e.get("value"))
        elif kind == DESCRIPTION and isinstance(e.get("description"), str):
            target = model.version(version) if version is not None else model
            if target is not None:
                target.description = e["description"]
    for model in models.values():
        for alias, number in model.aliases.items():
            model.version(number).aliases.append(alias)  # type: ignore[union-attr]
        for v in model.versions:
            v.aliases.sort()
        model.aliases = dict(sorted(model.aliases.items()))
    return models


def read_registry(store: Store) -> dict[str, RegisteredModel]:
    """The registry's current state: registered models by name."""
    return fold(read_events(store))


def list_models(store: Store) -> list[RegisteredModel]:
    """Every registered model, sorted by name."""
    models = read_registry(store)
    return [models[name] for name in sorted(models)]


def get_model(store: Store, name: str) -> RegisteredModel:
    """The registered model ``name`` (ModelNotFoundError if there is none)."""
    check_name(name)
    model = read_registry(store).get(name)
    if model is None:
        raise ModelNotFoundError(f"no registered model {name!r} in the store at {store.root}")
    return model


def get_model_version(store: Store, name: str, version: int | str) -> ModelVersion:
    """Version ``version`` (a number, or 'latest') of model ``name``."""
    model = get_model(store, name)
    if isinstance(version, str) and version.lower() == "latest":
        version = model.latest_version or 0
    number = check_version(version)
    found = model.version(number)
    if found is None:
        raise ModelNotFoundError(f"model {name!r} has no version {number} "
                                 f"(latest is {model.latest_version})")
    return found


def resolve_models_uri(store: Store, uri: str) -> ModelVersion:
    """The version a ``models:/name@alias``, ``models:/name/3`` or ``models:/name/latest`` names."""
    rest = uri[len("models:/"):] if uri.startswith("models:/") else None
    if not rest:
        raise ModelNotFoundError(f"{uri!r} is not a models:/<name>@<alias> or "
                                 "models:/<name>/<version> URI")
    if "@" in rest:
        name, _, alias = rest.partition("@")
        model = get_model(store, name)
        if alias not in model.aliases:
            known = ", ".join(model.aliases) or "none"
            raise ModelNotFoundError(f"model {name!r} has no alias {alias!r} (aliases: {known})")
        return model.version(model.aliases[alias])  # type: ignore[return-value]
    name, _, version = rest.partition("/")
    return get_model_version(store, name, version or "latest")


# writing -----------------------------------------------------------------------------
_writer: dict[str, Any] = {}
_thread_lock = threading.Lock()


def _writer_id() -> str:
    pid = os.getpid()
    if _writer.get("pid") != pid:
        _writer.clear()
        _writer.update(pid=pid, id=new_writer_id(), created=set())
    return _writer["id"]


def _append(store: Store, event: dict[str, Any]) -> None:
    """Append one event to this process's registry file and fsync it (under the lock)."""
    writer = _writer_id()
    rel = f"{REGISTRY}/events-{writer}.jsonl"
    path = store.root / rel
    key = str(store.root.absolute())
    created = _writer["created"]
    data = events.encode(event)
    flags = os.O_WRONLY | os.O_APPEND | getattr(os, "O_BINARY", 0)
    if key not in created:
        flags |= os.O_CREAT | os.O_EXCL
        data = events.encode({"type": events.OPEN, "format": events.FORMAT_VERSION,
                              "writer": writer, "time": event["time"]}) + data
    fd = os.open(path, flags, 0o644)
    try:
        created.add(key)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)


def _change_remote(store: Store, make: Any) -> Any:
    """On object storage: one create-only object per ``seq``; a lost race reads and retries."""
    store.ensure()
    for _ in range(100):
        evts = read_events(store)
        event, result = make(fold(evts))
        seqs = [e["seq"] for e in evts]
        seq = (max(seqs) + 1) if seqs else 1
        event = {"seq": seq, **event, "time": time.time()}
        data = events.encode({"type": events.OPEN, "format": events.FORMAT_VERSION,
                              "writer": _writer_id(), "time": event["time"]}) + events.encode(event)
        if store.storage.create_exclusive(f"{REGISTRY}/events-v{seq:09d}.jsonl", data):
            return result() if callable(result) else result
    raise TrackreportError(  # pragma: no cover - a hundred lost races in a row
        f"the registry of {store.root} changed 100 times under this change; try again")


def _change(store: Store, make: Any) -> Any:
    """Run ``make(models) -> (event, result)`` under the registry lock and append its event."""
    from filelock import FileLock, Timeout

    if store.storage.remote:
        return _change_remote(store, make)
    store.ensure()
    folder = store.root / REGISTRY
    folder.mkdir(parents=True, exist_ok=True)
    with _thread_lock:
        lock = FileLock(str(folder / ".lock"))
        try:
            lock.acquire(timeout=LOCK_TIMEOUT)
        except Timeout:
            raise TrackreportError(  # pragma: no cover - a stuck lock holder
                f"the registry lock {folder / '.lock'} was held for {LOCK_TIMEOUT:.0f} s") from None
        try:
            evts = read_events(store)
            event, result = make(fold(evts))
            seqs = [e["seq"] for e in evts]
            event = {"seq": (max(seqs) + 1) if seqs else 1, **event, "time": time.time()}
            _append(store, event)
        finally:
            lock.release()
    return result() if callable(result) else result


def register_model(store: Store, run_id: str, path: str, name: str,
                   tags: Mapping[str, Any] | None = None,
                   description: str | None = None) -> ModelVersion:
    """Register the model at ``runs:/<run_id>/<path>`` as the next version of ``name``."""
    check_name(name)
    clean_tags = {check_key(k, "tag key"): str(v) for k, v in (tags or {}).items()}
    if description is not None and not isinstance(description, str):
        raise TypeError(f"description must be a str, got {type(description).__name__}")
    from .models import read_model_json

    read_model_json(store, run_id, path)  # the model must exist (ModelNotFoundError)

    def make(models: dict[str, RegisteredModel]) -> tuple[dict[str, Any], Any]:
        model = models.get(name)
        version = (model.latest_version or 0) + 1 if model else 1
        event = {"type": VERSION, "name": name, "version": version, "run_id": run_id,
                 "path": path, "tags": clean_tags, "description": description or ""}
        return event, version

    version = _change(store, make)
    return get_model_version(store, name, version)


def import_version(store: Store, name: str, version: int, run_id: str, path: str,
                   tags: Mapping[str, Any] | None = None, description: str = "",
                   created: float | None = None, system: str = "mlflow") -> ModelVersion:
    """Add version ``version`` of ``name`` with that exact number (an import from ``system``).

    Raises TrackreportError when that version exists already.
    """
    check_name(name)
    number = check_version(version)
    clean_tags = {check_key(k, "tag key"): str(v) for k, v in (tags or {}).items()}

    def make(models: dict[str, RegisteredModel]) -> tuple[dict[str, Any], Any]:
        model = models.get(name)
        if model is not None and model.version(number) is not None:
            raise TrackreportError(f"model {name!r} already has a version {number}")
        event = {"type": VERSION, "name": name, "version": number, "run_id": run_id,
                 "path": path, "tags": clean_tags, "description": description or "",
                 "imported_from": {"system": system}}
        if created is not None:
            event["created"] = created
        return event, number

    _change(store, make)
    return get_model_version(store, name, number)


def set_model_alias(store: Store, name: str, alias: str, version: int | str) -> None:
    """Point ``alias`` of model ``name`` at ``version`` (moving it if it pointed elsewhere)."""
    check_name(name)
    check_alias(alias)
    number = check_version(version)

    def make(models: dict[str, RegisteredModel]) -> tuple[dict[str, Any], None]:
        _existing(models, name, number)
        return {"type": ALIAS, "name": name, "alias": alias, "version": number}, None

    _change(store, make)


def delete_model_alias(store: Store, name: str, alias: str) -> None:
    """Remove ``alias`` from model ``name`` (ModelNotFoundError if it is not set)."""
    check_name(name)
    check_alias(alias)

    def make(models: dict[str, RegisteredModel]) -> tuple[dict[str, Any], None]:
        model = _existing(models, name, None)
        if alias not in model.aliases:
            raise ModelNotFoundError(f"model {name!r} has no alias {alias!r}")
        return {"type": ALIAS_DELETE, "name": name, "alias": alias}, None

    _change(store, make)


def set_model_tag(store: Store, name: str, key: str, value: Any,
                  version: int | str | None = None) -> None:
    """Set a tag on model ``name`` (or on one of its versions)."""
    check_name(name)
    check_key(key, "tag key")
    number = None if version is None else check_version(version)

    def make(models: dict[str, RegisteredModel]) -> tuple[dict[str, Any], None]:
        _existing(models, name, number)
        return {"type": TAG, "name": name, "version": number, "key": key,
                "value": str(value)}, None

    _change(store, make)


def set_description(store: Store, name: str, description: str,
                    version: int | str | None = None) -> None:
    """Set the markdown description of model ``name`` (or of one of its versions)."""
    check_name(name)
    if not isinstance(description, str):
        raise TypeError(f"description must be a str, got {type(description).__name__}")
    number = None if version is None else check_version(version)

    def make(models: dict[str, RegisteredModel]) -> tuple[dict[str, Any], None]:
        _existing(models, name, number)
        return {"type": DESCRIPTION, "name": name, "version": number,
                "description": description}, None

    _change(store, make)


def _existing(models: dict[str, RegisteredModel], name: str,
              version: int | None) -> RegisteredModel:
    model = models.get(name)
    if model is None:
        raise ModelNotFoundError(f"no registered model {name!r}")
    if version is not None and model.version(version) is None:
        raise ModelNotFoundError(f"model {name!r} has no version {version} "
                                 f"(latest is {model.latest_version})")
    return model


# for the site ------------------------------------------------------------------------
def aliases_by_experiment(store: Store) -> dict[str, list[tuple[str, str, ModelVersion]]]:
    """Experiment name -> [(model name, alias, version)] of every alias set in the registry.

    An alias belongs to the experiment of its version's source run; entries are
    sorted by model name, then alias. Versions whose run is missing are left out.
    """
    from .reader import read_run

    out: dict[str, list[tuple[str, str, ModelVersion]]] = {}
    experiment_of: dict[str, str | None] = {}
    for model in list_models(store):
        for alias, number in model.aliases.items():
            version = model.version(number)
            if version is None:
                continue
            if version.run_id not in experiment_of:
                try:
                    run = read_run(store, version.run_id, metrics=False)
                    experiment_of[version.run_id] = run.experiment
                except Exception:  # a missing or unreadable run
                    experiment_of[version.run_id] = None
            experiment = experiment_of[version.run_id]
            if experiment is not None:
                out.setdefault(experiment, []).append((model.name, alias, version))
    return out

