"""Store layout (format v1): the marker file, run, experiment and registry paths, ids."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Any

import orjson

from . import events
from .errors import RunNotFoundError, StoreFormatError
from .storage import Storage, is_url, open_storage

MARKER = "trackreport-store.json"
RUNS = "runs"
EXPERIMENTS = "experiments"
REGISTRY = "registry"
ARTIFACTS = "artifacts"

_RUN_ID = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_-]{0,127}$")


def check_location(location: str | os.PathLike[str]) -> str:
    """Return ``location`` as a string: a local folder, or a URL (``s3://bucket/prefix``)."""
    text = os.fspath(location)
    if isinstance(text, bytes):
        text = os.fsdecode(text)
    return text


def absolute_location(location: str | os.PathLike[str]) -> str:
    """``location`` made absolute when it is a folder (a URL stays as it is)."""
    text = check_location(location)
    return text if is_url(text) else os.path.abspath(text)


def new_run_id(now: float | None = None) -> str:
    """A time-sortable, filesystem-safe, globally unique run id such as ``20261126T064012Z-3f9a2c1b``."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() if now is None else now))
    return f"{stamp}-{os.urandom(4).hex()}"


def new_writer_id() -> str:
    """A writer id unique per writing process (random; pids repeat across containers)."""
    return f"{os.getpid()}-{os.urandom(6).hex()}"


def is_run_id(value: object) -> bool:
    """True when ``value`` is a well-formed run id (safe as a folder name)."""
    return isinstance(value, str) and _RUN_ID.match(value) is not None


def check_run_id(run_id: object) -> str:
    """Return ``run_id`` if it is a well-formed run id, else raise RunNotFoundError."""
    if not isinstance(run_id, str) or not _RUN_ID.match(run_id):
        raise RunNotFoundError(f"{run_id!r} is not a valid run id")
    return run_id


class Store:
    """A trackreport store: a folder, or a prefix on object storage, in format v1."""

    def __init__(self, root: str | os.PathLike[str], storage: Storage | None = None, *,
                 storage_options: dict[str, Any] | None = None) -> None:
        text = check_location(root)
        self.storage = storage or open_storage(text, storage_options)
        self.root = self.storage.root if is_url(text) else Path(text)

    def __repr__(self) -> str:
        return f"Store({str(self.root)!r})"

    # marker ----------------------------------------------------------------
    def exists(self) -> bool:
        """True when the store's marker file is present."""
        return self.storage.exists(MARKER)

    def ensure(self) -> None:
        """Create the store (marker file) if needed; refuse a newer format."""
        marker = orjson.dumps(events.STORE_MARKER) + b"\n"
        if not self.storage.exists(MARKER):
            self.storage.create_exclusive(MARKER, marker)
        self.check_format()
        # from now on, anything this process writes finds the marker (it is put
        # back, with a warning, if the store folder is deleted while logging)
        self.storage.keep_file(MARKER, marker)

    def check_format(self) -> None:
        """Raise StoreFormatError unless this is a store of a format we read."""
        try:
            data = orjson.loads(self.storage.read_bytes(MARKER))
        except FileNotFoundError:
            raise StoreFormatError(
                f"{self.root} is not a trackreport store (no {MARKER}); "
                "log a run there first or pass --store"
            ) from None
        except (orjson.JSONDecodeError, OSError) as exc:
            raise StoreFormatError(f"{self.root / MARKER} is unreadable: {exc}") from None
        if not isinstance(data, dict) or data.get("format") != "trackreport-store":
            raise StoreFormatError(f"{self.root / MARKER} is not a trackreport store marker")
        version = data.get("version")
        if type(version) is not int or version < 1:
            raise StoreFormatError(
                f"{self.root / MARKER} is a malformed store marker: version {version!r} "
                "is not a format number such as 1"
            )
        if version > events.FORMAT_VERSION:
            raise StoreFormatError(
                f"the store at {self.root} has format version {version}; this trackreport "
                f"reads version {events.FORMAT_VERSION}: upgrade trackreport"
            )

    # layout ------------------------------------------------------------------
    @staticmethod
    def run_dir(run_id: str) -> str:
        """Relative folder of a run."""
        return f"{RUNS}/{run_id}"

    @staticmethod
    def artifact_path(run_id: str, path: str) -> str:
        """Relative path of an artifact file of a run."""
        return f"{RUNS}/{run_id}/{ARTIFACTS}/{path}"

    def run_ids(self) -> list[str]:
        """Every run id in the store, sorted (that is, by start time).

        On object storage the runs' event objects are listed at the same time,
        in a few requests rather than one per run.
        """
        prefetch = getattr(self.storage, "prefetch_event_listings", None)
        if prefetch is not None:
            prefetch(RUNS)
        return [name for name in self.storage.list_dir(RUNS) if _RUN_ID.match(name)]


    def run_event_files(self, run_id: str) -> list[str]:
        """The run's event files, sorted."""
        return self.storage.list_event_files(self.run_dir(run_id))

    def run_file_identities(self, run_ids: list[str]) -> dict[str, dict[str, str]]:
        """For each run, the identity (``Storage.identity``) of each of its event files."""
        rels = {run_id: self.run_dir(run_id) for run_id in run_ids}
        fast = getattr(self.storage, "event_file_identities", None)
        if fast is not None:
            found = fast(list(rels.values()))
            return {run_id: found[rel] for run_id, rel in rels.items()}
        out: dict[str, dict[str, str]] = {}
        for run_id, rel in rels.items():
            out[run_id] = {}
            for path in self.storage.list_event_files(rel):
                try:
                    out[run_id][path] = self.storage.identity(path)
                except (OSError, ValueError):
                    continue
        return out

    def experiment_event_files(self) -> list[str]:
        """The event files of experiment settings, sorted."""
        return self.storage.list_event_files(EXPERIMENTS)

    def registry_event_files(self) -> list[str]:
        """The event files of the model registry, sorted."""
        return self.storage.list_event_files(REGISTRY)
