"""A store on object storage through fsspec: ``s3://bucket/prefix`` or any fsspec URL.

Objects are never appended to (no s3fs append mode): a writer rolls
create-only segments and folds them into one compacted object at close
(``segments`` names them). Listings are always fresh (``refresh=True``);
immutable event objects are cached under ``$TRACKREPORT_CACHE`` so a second
build fetches only new objects. fsspec (and s3fs for ``s3://``) is the
``trackreport[s3]`` extra, imported only here.
"""

from __future__ import annotations

import hashlib
import os
import socket
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import env, segments
from .errors import StoreUnavailableError, UnsupportedStoreError

SEGMENT_BYTES = 8 << 20  # a segment is uploaded early when this much is waiting
DEFAULT_FLUSH_SECONDS = 10.0
if TYPE_CHECKING:
    from .store import Store

# A listing is reused this long at most (see ObjectStorage._ls): a reader then lags
# other processes by no more than their writers' own flush interval.
LISTING_SECONDS = 10.0
_CONNECT_TRIES = 3
_CONNECT_TIMEOUT = 2.0


class UrlRoot(str):
    """A store's URL, usable where a store's root folder is joined (``root / rel``)."""

    def __truediv__(self, rel: object) -> UrlRoot:
        return UrlRoot(f"{self.rstrip('/')}/{rel}" if str(rel) else str(self))

    def absolute(self) -> UrlRoot:
        return self

    def resolve(self) -> UrlRoot:
        return self


def _exists_error(exc: BaseException) -> bool:
    """True for the "already exists" answer of a conditional create (AWS 412, others 409)."""
    for err in (exc, exc.__cause__, exc.__context__):
        if err is None:
            continue
        if isinstance(err, FileExistsError):
            return True
        text = str(err)
        if any(word in text for word in ("PreconditionFailed", "412", "409", "already exists",
                                         "ConditionalRequestConflict", "AlreadyExists")):
            return True
    return False


_early_exit = [False]


def _end_runs_before_thread_shutdown() -> None:
    """Run trackreport's exit hooks before the interpreter's thread shutdown.

    Uploads go through asyncio, whose thread pool (DNS lookups) refuses work
    once shutdown begins, before ``atexit`` runs: the same hooks (end the
    active runs, flush) are registered to run first; at ``atexit`` they then
    find nothing left to do.
    """
    register = getattr(threading, "_register_atexit", None)
    if register is None or _early_exit[0]:
        return
    from . import fluent, writer

    _early_exit[0] = True
    try:  # the last registered runs first: end the runs, then flush what is left
        register(writer.flush_all)
        register(fluent._at_exit)
    except RuntimeError:  # pragma: no cover - already shutting down
        pass


class ObjectStorage:
    """The ``storage.Storage`` of a store at an fsspec URL."""

    remote = True
    segment_bytes: int | None = SEGMENT_BYTES

    def __init__(self, url: str, storage_options: Mapping[str, Any] | None = None) -> None:
        try:
            import fsspec
        except ImportError:
            raise UnsupportedStoreError(
                f"store {url!r} is on object storage, which needs fsspec (and s3fs for s3://): "
                "pip install 'trackreport[s3]'") from None
        self.url = url.rstrip("/")
        self.root = UrlRoot(self.url)
        self.options = dict(storage_options or {})
        self.protocol = urllib.parse.urlsplit(self.url).scheme.lower()
        try:
            cls = fsspec.get_filesystem_class(self.protocol)
        except (ImportError, ValueError) as exc:
            raise UnsupportedStoreError(f"store {url!r}: {exc}") from None
        self.base = cls._strip_protocol(self.url).rstrip("/")
        _end_runs_before_thread_shutdown()
        self.flush_seconds: float | None = env.flush_seconds(DEFAULT_FLUSH_SECONDS)
        self._fs: Any = None
        self._pid = -1
        self._infos: dict[str, dict[str, Any]] = {}  # rel -> its last listing entry
        self._listings: dict[str, tuple[float, list[dict[str, Any]]]] = {}
        self._prefetched: tuple[str, float, dict[str, list[dict[str, Any]]]] | None = None
        self.requests = 0  # reads and listings sent to the store (benchmarks count them)
        self.fetched = 0  # objects downloaded (not from the cache)

    def __repr__(self) -> str:
        return f"ObjectStorage({self.url!r})"

    # the file system (one per process: fsspec's sessions do not survive a fork) ----------
    @property
    def fs(self) -> Any:
        if self._fs is None or self._pid != os.getpid():
            import fsspec

            fs = fsspec.filesystem(self.protocol, skip_instance_cache=True, **self.options)
            if self._fs is None:
                self._check(fs)
            self._fs, self._pid = fs, os.getpid()
        return self._fs

    def endpoint(self) -> str | None:
        """The S3 endpoint URL in use (storage options, else the AWS environment)."""
        if self.protocol not in ("s3", "s3a"):
            return None
        client = self.options.get("client_kwargs") or {}
        return (self.options.get("endpoint_url") or client.get("endpoint_url")
                or os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL"))

    def _check(self, fs: Any) -> None:
        """One clear line when the endpoint does not answer or the bucket is missing."""
        if self.protocol not in ("s3", "s3a"):
            return
        endpoint = self.endpoint()
        if endpoint:
            parts = urllib.parse.urlsplit(endpoint)
            port = parts.port or (443 if parts.scheme == "https" else 80)
            for attempt in range(_CONNECT_TRIES):
                try:
                    socket.create_connection((parts.hostname, port), _CONNECT_TIMEOUT).close()
                    break
                except OSError as exc:
                    if attempt == _CONNECT_TRIES - 1:
                        raise StoreUnavailableError(
                            f"the object store endpoint {endpoint} does not answer "
                            f"({exc.strerror or exc}, {_CONNECT_TRIES} tries)") from None
                    time.sleep(0.5 * (attempt + 1))
        bucket = self.base.split("/", 1)[0]
        try:
            found = fs.exists(bucket)
        except Exception as exc:
            raise StoreUnavailableError(
                f"cannot reach bucket {bucket!r} of store {self.url}: {exc}") from None
        if not found:
            raise StoreUnavailableError(
                f"bucket {bucket!r} does not exist (store {self.url}); create it first")

    def _p(self, rel: str) -> str:
        return f"{self.base}/{rel}" if rel else self.base

    def _rel(self, path: str) -> str:
        path = path.rstrip("/")
        return path[len(self.base) + 1:] if path.startswith(self.base + "/") else path

    # queries ---------------------------------------------------------------------------
    def keep_file(self, rel: str, data: bytes) -> None:
        """Nothing to do: a bucket prefix is not deleted under a writer as a folder may be."""

    def local_path(self, rel: str) -> Path:
        """A local copy of ``rel`` (a file, or a folder with its files), under the cache."""
        fs = self.fs
        digest = hashlib.sha256(f"{self.url}/{rel}".encode()).hexdigest()
        target = Path(env.cache_dir()) / "files" / digest / rel.rsplit("/", 1)[-1]
        if fs.isdir(self._p(rel)):
            for path in self.list_files(rel):
                dest = target / path[len(rel) + 1:]
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(self.read_bytes(path))
        elif fs.exists(self._p(rel)):
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(self.read_bytes(rel))
        return target

    def exists(self, rel: str) -> bool:
        """True when object ``rel`` (or a prefix of objects ``rel/``) exists."""
        path = self._p(rel)
        self.fs.invalidate_cache(path)
        self.requests += 1
        return bool(self.fs.exists(path))

    def _ls(self, rel: str, fresh: bool = False) -> list[dict[str, Any]]:
        """A listing of ``rel``: never from s3fs's listing cache; one this process took
        under LISTING_SECONDS ago is reused unless ``fresh`` (a build asks for a run's
        folder several times in a row; a vanished object makes the reader ask afresh)."""
        now = time.monotonic()
        kept = self._listings.get(rel)
        if not fresh and kept is not None and now - kept[0] < LISTING_SECONDS:
            return kept[1]
        self.requests += 1
        try:
            found = list(self.fs.ls(self._p(rel), detail=True, refresh=True))
        except (FileNotFoundError, NotADirectoryError):
            found = []
        self._listings[rel] = (now, found)
        return found

    def list_dir(self, rel: str, fresh: bool = False) -> list[str]:
        """Sorted names directly inside ``rel`` (objects and prefixes; [] if none)."""
        return sorted({self._rel(e["name"]).rsplit("/", 1)[-1] for e in self._ls(rel, fresh)})

    def prefetch_event_listings(self, rel: str) -> None:
        """List every events object below ``rel`` at once (a few paginated requests).

        ``list_event_files`` of a folder below ``rel`` then answers from this
        listing while it is under LISTING_SECONDS old, instead of one request each.
        """
        path = self._p(rel)
        self.fs.invalidate_cache(path)
        self.requests += 1
        try:
            found = self.fs.find(path, detail=True)
        except FileNotFoundError:
            found = {}
        folders: dict[str, list[dict[str, Any]]] = {}
        for name, entry in found.items():
            sub = self._rel(name)
            folder, _, base = sub.rpartition("/")
            if base.startswith("events-") and base.endswith(".jsonl"):
                folders.setdefault(folder, []).append(entry)
        self._prefetched = (rel, time.monotonic(), folders)

    def _from_prefetch(self, rel: str) -> list[dict[str, Any]] | None:
        if self._prefetched is None:
            return None
        top, taken, folders = self._prefetched
        if not rel.startswith(top + "/") or time.monotonic() - taken >= LISTING_SECONDS:
            return None
        return folders.get(rel, [])

    def list_event_files(self, rel: str, fresh: bool = False) -> list[str]:
        """The events objects in ``rel`` a reader uses: none that a wider compacted one covers."""
        names = []
        entries = None if fresh else self._from_prefetch(rel)
        if entries is None:
            entries = self._ls(rel, fresh)
        for entry in entries:
            if entry.get("type") == "directory":
                continue
            path = self._rel(entry["name"])
            name = path.rsplit("/", 1)[-1]
            if name.startswith("events-") and name.endswith(".jsonl"):
                self._infos[path] = entry
                names.append(name)
        return [f"{rel}/{name}" if rel else name for name in segments.visible(names)]

    def list_files(self, rel: str) -> list[str]:
        """Sorted relative paths of every object below ``rel``."""
        self.requests += 1
        try:
            found = self.fs.find(self._p(rel), refresh=True)
        except FileNotFoundError:
            return []
        return sorted(self._rel(path) for path in found)

    def _info(self, rel: str) -> dict[str, Any]:
        info = self._infos.get(rel)
        if info is None:
            self.requests += 1
            info = self._infos[rel] = self.fs.info(self._p(rel))
        return info

    def size(self, rel: str) -> int:
        """Size in bytes of object ``rel``."""
        return int(self._info(rel).get("size") or 0)

    def identity(self, rel: str) -> str:
        """What changes when object ``rel`` changes: its size and ETag."""
        info = self._info(rel)
        tag = info.get("ETag") or info.get("etag") or info.get("created") or ""
        return f"{info.get('size')}:{tag}"

    # reading ---------------------------------------------------------------------------
    def _cache_file(self, rel: str) -> Path | None:
        """Where an events object is cached locally (None: not cacheable).

        Segments and compacted objects never change; any other events object
        (a store copied from disk) is cached under its listed size and ETag.
        """
        name = rel.rsplit("/", 1)[-1]
        info = self._infos.get(rel) or {}
        tag = info.get("ETag") or ""
        if not segments.is_immutable(name) and not (name.startswith("events-") and tag):
            return None
        key = f"{self.url}/{rel}\0{info.get('size')}\0{tag}"
        digest = hashlib.sha256(key.encode()).hexdigest()
        return Path(env.cache_dir()) / "objects" / digest[:2] / digest

    def _cached(self, rel: str) -> bytes | None:
        path = self._cache_file(rel)
        if path is None:
            return None
        try:
            return path.read_bytes()
        except OSError:
            return None

    def _remember(self, rel: str, data: bytes) -> None:
        path = self._cache_file(rel)
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(3).hex()}")
            tmp.write_bytes(data)
            os.replace(tmp, path)
        except OSError:  # a cache that cannot be written only costs a fetch next time
            pass

    def read_bytes(self, rel: str, limit: int | None = None) -> bytes:
        """The bytes of object ``rel`` (at most ``limit``); FileNotFoundError if missing."""
        data = self._cached(rel)
        if data is None:
            self.requests += 1
            if limit is not None and not segments.is_immutable(rel.rsplit("/", 1)[-1]):
                return bytes(self.fs.cat_file(self._p(rel), start=0, end=limit))
            data = bytes(self.fs.cat_file(self._p(rel)))
            self.fetched += 1
            self._remember(rel, data)
        return data if limit is None else data[:limit]

    def read_many(self, rels: list[str]) -> dict[str, bytes | Exception]:
        """The bytes of several objects, fetched concurrently (cached ones from disk)."""
        out: dict[str, bytes | Exception] = {}
        todo = []
        for rel in rels:
            data = self._cached(rel)
            if data is None:
                todo.append(rel)
            else:
                out[rel] = data
        if len(todo) == 1:
            try:
                out[todo[0]] = self.read_bytes(todo[0])
            except OSError as exc:
                out[todo[0]] = exc
        elif todo:
            self.requests += len(todo)
            self.fetched += len(todo)
            paths = [self._p(rel) for rel in todo]
            fetched = self.fs.cat(paths, on_error="return")
            for rel, path in zip(todo, paths, strict=True):
                value = fetched.get(path, FileNotFoundError(rel))
                if isinstance(value, Exception):
                    out[rel] = value
                else:
                    out[rel] = bytes(value)
                    self._remember(rel, out[rel])  # type: ignore[arg-type]
        return out

    def read_tail(self, rel: str, size: int) -> tuple[bytes, int]:
        """The last ``size`` bytes of object ``rel`` and its whole length."""
        data = self.read_bytes(rel)
        return data[-size:], len(data)

    # writing ---------------------------------------------------------------------------
    def open_append(self, rel: str) -> SegmentHandle:
        """Rolled create-only segments standing in for the append-only file ``rel``."""
        return SegmentHandle(self, rel)

    def _changed(self, rel: str) -> None:
        """Forget this process's listings of the folders holding ``rel`` (it wrote there)."""
        self._prefetched = None
        parts = rel.split("/")
        for end in range(len(parts)):
            self._listings.pop("/".join(parts[:end]), None)

    def create_exclusive(self, rel: str, data: bytes) -> bool:
        """Create object ``rel`` only if it does not exist (If-None-Match); False if it does."""
        self._changed(rel)
        path = self._p(rel)
        try:
            self.fs.pipe_file(path, data, mode="create")
        except Exception as exc:
            if _exists_error(exc):
                return False
            raise
        return True

    def put_bytes(self, rel: str, data: bytes, *, new: bool = False) -> tuple[int, str]:
        """Write object ``rel``; with ``new=True`` an existing one is kept (FileExistsError)."""
        if new:
            if not self.create_exclusive(rel, data):
                raise FileExistsError(rel)
        else:
            self._changed(rel)
            self.fs.pipe_file(self._p(rel), data)
        return len(data), hashlib.sha256(data).hexdigest()

    def put_file(self, src: str | os.PathLike[str], rel: str) -> tuple[int, str]:
        """Upload local file ``src`` to object ``rel``; (size, sha256)."""
        digest = hashlib.sha256()
        size = 0
        with open(src, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
                size += len(chunk)
        self._changed(rel)
        self.fs.put_file(os.fspath(src), self._p(rel))
        return size, digest.hexdigest()

    def delete(self, rels: list[str]) -> None:
        """Delete objects (already missing ones are fine)."""
        for rel in rels:
            self._changed(rel)
            try:
                self.fs.rm_file(self._p(rel))
            except FileNotFoundError:
                pass
            self._infos.pop(rel, None)

    # compaction ------------------------------------------------------------------------
    def delete_superseded(self, folder: str) -> int:
        """Delete the event objects in ``folder`` that a wider compacted object covers.

        Run after creating a compacted object: of two compactions racing (a
        closing writer and ``trackreport compact``), the later listing sees
        both objects, so the narrower one never stays behind.
        """
        names = [name for name in self.list_dir(folder, fresh=True)
                 if segments.is_immutable(name)]
        gone = segments.superseded(names)
        self.delete([f"{folder}/{name}" for name in gone])
        return len(gone)

    def compact_folder(self, folder: str) -> tuple[int, int]:
        """Fold each writer's contiguous segments in ``folder`` into compacted objects.

        Safe beside readers (the compacted object appears before the segments it
        covers are deleted) and live writers (a later, wider object wins).
        Returns (objects written, objects deleted).
        """
        names = [rel.rsplit("/", 1)[-1] for rel in self.list_event_files(folder, fresh=True)]
        by_writer: dict[str, list[segments.EventObject]] = {}
        for name in names:
            obj = segments.parse(name)
            if obj is not None:
                by_writer.setdefault(obj.writer, []).append(obj)
        written = removed = 0
        for writer, objs in sorted(by_writer.items()):
            objs.sort(key=lambda o: o.first)
            groups: list[list[segments.EventObject]] = [[objs[0]]]
            for obj in objs[1:]:
                if obj.first == groups[-1][-1].last + 1:
                    groups[-1].append(obj)
                else:
                    groups.append([obj])
            for group in groups:
                if len(group) < 2:
                    continue
                rels = [f"{folder}/{o.name}" for o in group]
                got = self.read_many(rels)
                if any(isinstance(v, Exception) for v in got.values()):
                    continue  # a writer compacted them meanwhile: nothing to do
                data = join_segments([got[r] for r in rels])  # type: ignore[misc]
                wide = segments.EventObject(
                    segments.compacted_name(writer, group[0].first, group[-1].last),
                    writer, group[0].first, group[-1].last, True)
                written += int(self.create_exclusive(f"{folder}/{wide.name}", data))
                removed += self.delete_superseded(folder)
        return written, removed


def join_segments(parts: list[bytes]) -> bytes:
    """Segments' bytes as one object: the first ``open`` line kept, the others dropped."""
    out = [parts[0]] if parts else []
    for part in parts[1:]:
        newline = part.find(b"\n") + 1
        if newline and b'"type":"open"' in part[:newline]:
            part = part[newline:]
        out.append(part)
    return b"".join(out)


class SegmentHandle:
    """A writer's events for one folder on object storage, as create-only segments.

    ``write`` uploads one new segment (its own ``open`` line first) and keeps a
    local spool of what it uploaded; ``close`` replaces the segments by one
    compacted object made from the spool.
    """

    def __init__(self, storage: ObjectStorage, rel: str) -> None:
        self.storage = storage
        self.folder, name = rel.rsplit("/", 1)
        self.writer = name[len("events-"):-len(".jsonl")]
        self.seq = 0
        self.compacted_to = 0  # the last seq folded into a compacted object
        self._open = b""
        self._spool: Any = None

    def lost(self) -> bool:
        """Objects are not lost as a deleted folder's files are: always False."""
        return False

    def write(self, data: bytes) -> int:
        """Upload ``data`` as the next segment; all of it or an OSError."""
        if not data:
            return 0
        body = data if not self._open else self._open + data
        seq = self.seq + 1
        rel = f"{self.folder}/{segments.segment_name(self.writer, seq)}"
        try:
            created = self.storage.create_exclusive(rel, body)
        except OSError:
            raise
        except Exception as exc:  # botocore/aiohttp errors as OSError: the writer warns, retries
            raise OSError(f"{type(exc).__name__}: {exc}") from exc
        if not created:
            raise FileExistsError(
                f"{self.storage.url}/{rel} exists: another writer uses the id {self.writer!r}")
        if not self._open:
            self._open = data[:data.find(b"\n") + 1]
        if self._spool is None:
            self._spool = tempfile.TemporaryFile(prefix="trackreport-spool-")
            if self.seq:  # a late write after close: the spool starts with what is compacted
                self._spool.write(self._compacted())
        self.seq = seq
        self._spool.seek(0, os.SEEK_END)
        self._spool.write(data)
        return len(data)

    def _compacted(self) -> bytes:
        """This writer's events so far, read back from its compacted object."""
        if self.compacted_to == 1:  # a lone segment was never compacted
            name = segments.segment_name(self.writer, 1)
        else:
            name = segments.compacted_name(self.writer, 1, self.compacted_to)
        return self.storage.read_bytes(f"{self.folder}/{name}")

    def close(self) -> None:
        """Replace this writer's segments by one compacted object (when it has several)."""
        if self.seq <= 1 or self.compacted_to == self.seq or self._spool is None:
            if self._spool is not None and self.seq <= 1:
                self._spool.close()  # one segment is this writer's one object
                self._spool = None
                self.compacted_to = self.seq
            return
        self._spool.seek(0)
        data = self._spool.read()
        wide = segments.EventObject(segments.compacted_name(self.writer, 1, self.seq),
                                    self.writer, 1, self.seq, True)
        try:
            self.storage.create_exclusive(f"{self.folder}/{wide.name}", data)
            self.storage.delete_superseded(self.folder)
        except Exception:
            return
        self.compacted_to = self.seq
        self._spool.close()  # what it held is the compacted object now
        self._spool = None

    def reset(self) -> None:
        """Nothing to reset: every write is a new object."""


def compact_store(store: Store) -> tuple[int, int]:
    """Fold every writer's segments (live or dead) in every folder of ``store``.

    Returns (objects written, objects deleted). A local store has nothing to fold.
    """
    from .store import EXPERIMENTS

    storage = store.storage
    if not isinstance(storage, ObjectStorage):
        return 0, 0
    # the registry keeps one create-only object per seq (its lock on object storage)
    folders = [EXPERIMENTS, *(store.run_dir(run_id) for run_id in store.run_ids())]
    written = removed = 0
    for folder in folders:
        n, gone = storage.compact_folder(folder)
        written += n
        removed += gone
    return written, removed
