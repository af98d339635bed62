"""A store on object storage through fsspec: ``s3://bucket/prefix`` or any fsspec URL.

``ObjectStorage`` is the ``storage.Storage`` of such a store: listings (always
fresh, never s3fs's listing cache), reads (concurrent, through the local cache
of immutable objects, ``objectcache``) and create-only writes
(``createonly``). Writers roll segments (``segmentwriter``) that compaction
folds (``compaction``); ``segments`` names them. fsspec (and s3fs for
``s3://``) is the ``trackreport[s3]`` extra, imported only when such a store
is opened.
"""

from __future__ import annotations

import hashlib
import os
import time
import urllib.parse
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from . import compaction, createonly, env, objectcache, objectconnect, segments, shutdown
from .compaction import compact_store, join_segments
from .errors import UnsupportedStoreError
from .segmentwriter import SegmentHandle

__all__ = ["ObjectStorage", "SegmentHandle", "UrlRoot", "compact_store", "join_segments"]

SEGMENT_BYTES = 8 << 20  # a segment is uploaded early when this much is waiting
DEFAULT_FLUSH_SECONDS = 10.0

# A listing is reused this long at most (see ObjectStorage._ls): a reader then lags
# other processes by no more than their writers' own flush interval.
LISTING_SECONDS = 10.0
# Objects fetched together (concurrently) when a reader asks for one of a folder's objects
BATCH_BYTES = 32 << 20


class UrlRoot(str):
    """A store's URL, usable where a store's root folder is joined (``root / rel``)."""

    def __truediv__(self, rel: object) -> UrlRoot:
        return UrlRoot(f"{self.rstrip('/')}/{rel}" if str(rel) else str(self))

    def absolute(self) -> UrlRoot:
        return self

    def resolve(self) -> UrlRoot:
        return self


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
        shutdown.end_runs_before_thread_shutdown()
        self.flush_seconds: float | None = env.flush_seconds(DEFAULT_FLUSH_SECONDS)
        self._fs: Any = None
        self._pid = -1
        self._infos: dict[str, dict[str, Any]] = {}  # rel -> its last listing entry
        self._listings: dict[str, tuple[float, list[dict[str, Any]]]] = {}
        self._prefetched: tuple[str, float, dict[str, list[dict[str, Any]]]] | None = None
        self._visible: dict[str, list[str]] = {}  # folder -> its last list_event_files
        self._held = False  # the prefetched listing stays in use (see held_listings)
        self._batching = True  # False once the cache turned out not to keep what is fetched
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
        return objectconnect.endpoint(self.protocol, self.options)

    def _check(self, fs: Any) -> None:
        """One clear line when the endpoint does not answer or the bucket is missing."""
        objectconnect.check(fs, self.protocol, self.options, self.base, self.url)

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

    @contextmanager
    def held_listings(self) -> Iterator[None]:
        """Within: the listing ``prefetch_event_listings`` took stays in use, however old.

        A build reads every run as the store was listed when it began (one listing
        of ``runs/``, not one request per run once the listing is 10 s old); an
        object that vanished meanwhile still makes the reader list its folder afresh.
        """
        was = self._held
        self._held = True
        try:
            yield
        finally:
            self._held = was

    def _from_prefetch(self, rel: str) -> list[dict[str, Any]] | None:
        if self._prefetched is None:
            return None
        top, taken, folders = self._prefetched
        if not rel.startswith(top + "/") or (
                not self._held and time.monotonic() - taken >= LISTING_SECONDS):
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
        found = [f"{rel}/{name}" if rel else name for name in segments.visible(names)]
        self._visible[rel] = found
        return found

    def list_files(self, rel: str) -> list[str]:
        """Sorted relative paths of every object below ``rel``."""
        self.requests += 1
        try:
            found = self.fs.find(self._p(rel), refresh=True)
        except FileNotFoundError:
            return []
        return sorted(self._rel(path) for path in found)

    def snapshot(self) -> frozenset[tuple[str, int, str]]:
        """Every object below the store as (path, size, ETag), listed afresh (a few paginated
        requests): it changes whenever anything in the store does. ``serve`` polls it."""
        self.fs.invalidate_cache(self.base)
        self.requests += 1
        try:
            found = self.fs.find(self.base, detail=True)
        except FileNotFoundError:
            return frozenset()
        return frozenset((self._rel(name), int(entry.get("size") or 0),
                          str(entry.get("ETag") or entry.get("etag") or ""))
                         for name, entry in found.items())

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
        return objectcache.cache_file(self.url, rel, self._infos.get(rel) or {})

    def _cached(self, rel: str) -> bytes | None:
        return objectcache.load(self._cache_file(rel))

    def _remember(self, rel: str, data: bytes) -> None:
        objectcache.save(self._cache_file(rel), data)

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
        """The last ``size`` bytes of object ``rel`` and its whole length.

        A build asks for the tail of each of a run's objects in turn; the
        uncached objects listed beside ``rel`` are fetched with it, concurrently
        (up to BATCH_BYTES), into the cache, instead of one request at a time.
        """
        data = self._cached(rel)
        if data is None:
            batch = self._batch_from(rel) if self._batching else [rel]
            if len(batch) > 1:
                got = self.read_many(batch).get(rel)
                data = got if isinstance(got, bytes) else None
                # the neighbours were fetched for the cache: without one, fetch one at a time
                self._batching = self._cached(batch[-1]) is not None
            if data is None:
                data = self.read_bytes(rel)
        return data[-size:], len(data)

    def _batch_from(self, rel: str) -> list[str]:
        """``rel`` and the uncached immutable events objects listed after it in its
        folder, up to BATCH_BYTES in all (only ``rel`` when the folder is not listed)."""
        folder = rel.rsplit("/", 1)[0] if "/" in rel else ""
        listed = self._visible.get(folder, [])
        if rel not in listed:
            return [rel]
        batch: list[str] = []
        total = 0
        for other in listed[listed.index(rel):]:
            size = int((self._infos.get(other) or {}).get("size") or 0)
            if batch and total + size > BATCH_BYTES:
                break
            path = self._cache_file(other)
            if other == rel or (segments.is_immutable(other.rsplit("/", 1)[-1])
                                and path is not None and not path.exists()):
                batch.append(other)
                total += size
        return batch

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
        """Create object ``rel`` only if it does not exist (If-None-Match); False if it does.

        An existing object holding exactly ``data`` is this call's own (s3fs retried
        the upload after its response was lost): True.
        """
        self._changed(rel)
        return createonly.create_once(self.fs, self._p(rel), data)

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
        """Delete objects (already missing ones are fine), many per request where the
        file system can (s3fs: 1,000 per DeleteObjects request)."""
        if not rels:
            return
        for rel in rels:
            self._changed(rel)
            self._infos.pop(rel, None)
        try:
            self.fs.rm([self._p(rel) for rel in rels])
        except FileNotFoundError:  # some were gone already: the others one by one
            for rel in rels:
                try:
                    self.fs.rm_file(self._p(rel))
                except FileNotFoundError:
                    pass

    # compaction ------------------------------------------------------------------------
    def delete_superseded(self, folder: str) -> int:
        """Delete the event objects in ``folder`` that a wider compacted object covers."""
        return compaction.delete_superseded(self, folder)

    def compact_folder(self, folder: str) -> tuple[int, int]:
        """Fold each writer's contiguous segments in ``folder``: (written, deleted)."""
        return compaction.compact_folder(self, folder)
