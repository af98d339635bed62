"""All file access of a store, behind one small fsspec-shaped interface.

Everything that touches the store's bytes goes through a ``Storage``: append
event lines, list event files, read files, put and list artifacts. Today there
is one implementation, ``LocalStorage``, for a local or shared file system; a
store on object storage (DESIGN.md section 8) implements the same methods with
create-only segment objects instead of appends: ``objectstore.ObjectStorage``
(fsspec, so ``s3://bucket/prefix`` and any fsspec URL), made by
``open_storage`` and imported only when a store is a URL.

Paths given to a Storage are relative POSIX paths inside the store. They never
contain ``..`` and the storage never follows a symbolic link out of the store:
every path it reads or lists is resolved first, and one whose real path lies
outside the store's real path is refused (listings skip it with an
``UnsafePathWarning``). A symbolic link that stays inside the store is followed.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import warnings
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol

from .errors import TrackreportError

_CHUNK = 1 << 20
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def is_url(location: str) -> bool:
    """True when ``location`` names a store by URL (``s3://bucket/prefix``, ``memory://x``)."""
    return _URL.match(location) is not None


class Handle(Protocol):
    """What a writer appends its events through (a file, or rolled objects)."""

    def lost(self) -> bool: ...
    def write(self, data: bytes) -> int: ...
    def close(self) -> None: ...
    def reset(self) -> None: ...


class Storage(Protocol):
    """What ``Store``, the writer, the reader and artifacts need of a store's backend.

    ``root`` is the store's location (a Path, or the URL); paths are relative
    POSIX paths inside the store. ``flush_seconds`` and ``segment_bytes`` tell
    the writer how often to write (None: the local default, appending).
    """

    root: Any
    remote: bool
    flush_seconds: float | None
    segment_bytes: int | None

    def keep_file(self, rel: str, data: bytes) -> None: ...
    def local_path(self, rel: str) -> Path: ...
    def exists(self, rel: str) -> bool: ...
    def list_dir(self, rel: str) -> list[str]: ...
    def list_event_files(self, rel: str, fresh: bool = False) -> list[str]: ...
    def list_files(self, rel: str) -> list[str]: ...
    def size(self, rel: str) -> int: ...
    def identity(self, rel: str) -> str: ...
    def read_bytes(self, rel: str, limit: int | None = None) -> bytes: ...
    def read_many(self, rels: list[str]) -> dict[str, bytes | Exception]: ...
    def read_tail(self, rel: str, size: int) -> tuple[bytes, int]: ...
    def open_append(self, rel: str) -> Handle: ...
    def create_exclusive(self, rel: str, data: bytes) -> bool: ...
    def put_bytes(self, rel: str, data: bytes, *, new: bool = False) -> tuple[int, str]: ...
    def put_file(self, src: str | os.PathLike[str], rel: str) -> tuple[int, str]: ...


def open_storage(location: str, storage_options: Mapping[str, Any] | None = None) -> Storage:
    """The backend of the store at ``location``: a URL is object storage, else a folder."""
    if location.lower().startswith("file://"):  # a local folder given as a URL
        from urllib.parse import unquote, urlsplit

        return LocalStorage(unquote(urlsplit(location).path))
    if is_url(location):
        from .objectstore import ObjectStorage  # fsspec only when a store is a URL

        return ObjectStorage(location, storage_options)
    return LocalStorage(location)


class UnsafePathError(TrackreportError, ValueError):
    """A path would leave the store (``..``, absolute, or a symlink pointing outside)."""


class PathConflictError(TrackreportError, ValueError):
    """A file would be stored where a folder is (or below a file): ``a`` and ``a/b``."""

    def __init__(self, message: str, rel: str, other: str) -> None:
        super().__init__(message)
        self.rel = rel
        self.other = other


class StoreWarning(UserWarning):
    """The store folder was deleted while this process logged to it; it is recreated."""


def _check_rel(rel: str) -> str:
    parts = rel.split("/")
    if rel.startswith("/") or ".." in parts or "\\" in rel or "\x00" in rel:
        raise UnsafePathError(f"path {rel!r} is not a relative path inside the store")
    return rel


class UnsafePathWarning(UserWarning):
    """Something in the store was skipped: a symbolic link leading outside it."""


def _warn_outside(rel: str) -> None:
    warnings.warn(f"skipped {rel}: a symbolic link leading outside the store",
                  UnsafePathWarning, stacklevel=3)


class AppendHandle:
    """An append-only file of one writing process.

    The file is created with exclusive create on first use (so two writers that
    picked the same name collide loudly instead of sharing a file). ``write``
    appends bytes and tells how many were written, so a caller can keep the
    unwritten tail after an I/O error and append it later without duplicating
    or rewriting anything.
    """

    def __init__(self, path: Path, before_create: Callable[[], None] | None = None) -> None:
        self.path = path
        self._fd: int | None = None
        self._created = False
        self._before_create = before_create

    def lost(self) -> bool:
        """True when the file was created and has since been deleted (the store removed)."""
        if self._fd is not None:
            try:
                return os.fstat(self._fd).st_nlink == 0
            except OSError:  # pragma: no cover - defensive
                return False
        return self._created and not os.path.lexists(self.path)

    def write(self, data: bytes) -> int:
        """Append ``data``; returns the number of bytes written (may raise OSError)."""
        if self._fd is None:
            flags = os.O_WRONLY | os.O_APPEND | getattr(os, "O_BINARY", 0)
            if not self._created:
                if self._before_create is not None:
                    self._before_create()
                self.path.parent.mkdir(parents=True, exist_ok=True)
                flags |= os.O_CREAT | os.O_EXCL
            self._fd = os.open(self.path, flags, 0o644)
            self._created = True
        written = 0
        view = memoryview(data)
        while written < len(data):
            try:
                n = os.write(self._fd, view[written:])
            except OSError:
                if written:
                    return written  # the caller keeps data[written:] and retries it
                raise
            if n <= 0:  # pragma: no cover - defensive
                break
            written += n
        return written

    def close(self) -> None:
        """Close the file descriptor (the file stays)."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            try:
                os.close(fd)
            except OSError:  # pragma: no cover
                pass

    def reset(self) -> None:
        """Forget the descriptor after an error, so the next write reopens the file."""
        self.close()


class LocalStorage:
    """A store on a local (or shared, POSIX) file system."""

    remote = False
    flush_seconds: float | None = None  # the writer's default (every half second)
    segment_bytes: int | None = None

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).absolute()
        self._real_root: Path | None = None
        self._kept: tuple[str, bytes] | None = None
        self._restored = False

    def keep_file(self, rel: str, data: bytes) -> None:
        """Put ``rel`` (with ``data``) back before creating anything, should it vanish.

        A store's marker file: if the store folder is deleted while a script
        logs, what is written next makes a valid store again (with one warning)
        rather than a folder that is not a store.
        """
        self._kept = (_check_rel(rel), data)

    def _before_create(self) -> None:
        if self._kept is None:
            return
        rel, data = self._kept
        if self._path(rel).exists():
            return
        if not self._restored:
            self._restored = True
            warnings.warn(
                f"trackreport: the store {self.root} was deleted (or lost its {rel}) while "
                "this process was logging to it; it is recreated, with what is logged from now on",
                StoreWarning, stacklevel=2)
        self._create_exclusive(rel, data)

    # paths ---------------------------------------------------------------
    def _path(self, rel: str) -> Path:
        return self.root / _check_rel(rel) if rel else self.root

    def _real(self) -> Path:
        if self._real_root is None:
            self._real_root = self.root.resolve()
        return self._real_root

    def _resolve(self, rel: str) -> Path:
        """The real path of ``rel``; UnsafePathError when it lies outside the store."""
        plain = self._linkless(rel)
        if plain is not None:
            return plain
        real = Path(os.path.realpath(self._path(rel)))
        root = self._real()
        if real != root and root not in real.parents:
            raise UnsafePathError(f"{rel!r} leads outside the store (a symbolic link)")
        return real

    def _linkless(self, rel: str) -> Path | None:
        """``rel`` below the store's real root when nothing on its way there is a link, else None.

        ``os.path.realpath`` would give the same path (a part that is missing or
        cannot be read is no link to it either), with an ``lstat`` for every part
        of the root's path as well, in Python.
        """
        parts = [p for p in _check_rel(rel).split("/") if p not in ("", ".")]
        here = str(self._real())
        for part in parts:
            here = os.path.join(here, part)
            try:
                if stat.S_ISLNK(os.lstat(here).st_mode):
                    return None
            except OSError:  # nothing (or nothing readable) below here can be a link
                break
        return self._real().joinpath(*parts)

    def _regular(self, rel: str) -> Path:
        """The real path of the regular file ``rel`` (FileNotFoundError if it is none)."""
        real = self._resolve(rel)
        try:
            mode = os.stat(real).st_mode
        except OSError:
            raise FileNotFoundError(rel) from None
        if not stat.S_ISREG(mode):
            raise FileNotFoundError(rel)
        return real

    def local_path(self, rel: str) -> Path:
        """The file-system path of ``rel``, refusing symlinks that lead out of the store."""
        self._resolve(rel)
        return self._path(rel)

    # queries -------------------------------------------------------------
    def exists(self, rel: str) -> bool:
        """True when ``rel`` exists (as a file or folder) inside the store."""
        try:
            return self._resolve(rel).exists()
        except UnsafePathError:
            return False

    def list_dir(self, rel: str) -> list[str]:
        """Sorted names of the entries directly inside folder ``rel`` ([] if missing).

        A folder that is a symbolic link leading outside the store is not
        listed (a warning says so).
        """
        try:
            return sorted(os.listdir(self._resolve(rel)))
        except UnsafePathError:
            _warn_outside(rel)
            return []
        except (FileNotFoundError, NotADirectoryError):
            return []

    def list_event_files(self, rel: str, fresh: bool = False) -> list[str]:
        """Sorted relative paths of the ``events-*.jsonl`` files in folder ``rel``.

        (A folder is always listed afresh; ``fresh`` matters on object storage.)

        Only regular files inside the store count; a symbolic link leading
        outside it is skipped with a warning.
        """
        return list(self._identities_in(rel, None))

    def event_file_identities(self, rels: list[str]) -> dict[str, dict[str, str]]:
        """``identity`` of each of ``list_event_files(rel)``, for every folder in ``rels``.

        One listing per folder; the folders' parent is resolved once. A plain
        file in a plain folder cannot lead outside the store, so only links take
        the path-by-path check.
        """
        parents: dict[str, Path | None] = {}
        out: dict[str, dict[str, str]] = {}
        for rel in rels:
            parent, _, name = rel.rpartition("/")
            if parent not in parents:
                try:
                    parents[parent] = self._resolve(parent)
                except UnsafePathError:
                    parents[parent] = None
            base = parents[parent]
            out[rel] = self._identities_in(rel, None if base is None else base / name)
        return out

    def _identities_in(self, rel: str, folder: Path | None) -> dict[str, str]:
        try:
            if folder is None or folder.is_symlink():
                folder = self._resolve(rel)
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except UnsafePathError:
            _warn_outside(rel)
            return {}
        except (FileNotFoundError, NotADirectoryError):
            return {}
        out: dict[str, str] = {}
        for entry in entries:
            name = entry.name
            if not (name.startswith("events-") and name.endswith(".jsonl")):
                continue
            path = f"{rel}/{name}" if rel else name
            try:
                if entry.is_symlink():
                    out[path] = self.identity(path)
                    continue
                st = entry.stat(follow_symlinks=False)
            except UnsafePathError:
                _warn_outside(path)
                continue
            except FileNotFoundError:
                continue
            if stat.S_ISREG(st.st_mode):
                out[path] = f"{st.st_size}:{st.st_mtime_ns}"
        return out

    def list_files(self, rel: str) -> list[str]:
        """Sorted relative paths of every regular file below folder ``rel`` (not following links)."""
        base = self._path(rel)
        out = []
        for dirpath, dirnames, filenames in os.walk(base, followlinks=False):
            dirnames.sort()
            here = Path(dirpath).relative_to(self.root).as_posix()
            for name in filenames:
                path = f"{here}/{name}"
                if os.path.isfile(self._path(path)) and not os.path.islink(self._path(path)):
                    out.append(path)
        return sorted(out)

    def size(self, rel: str) -> int:
        """Size in bytes of the regular file ``rel``."""
        return os.stat(self._regular(rel)).st_size

    def identity(self, rel: str) -> str:
        """What changes when file ``rel`` changes: its size and modification time.

        Build caches compare identities to notice an append (object stores: the ETag).
        """
        st = os.stat(self._regular(rel))
        return f"{st.st_size}:{st.st_mtime_ns}"

    # reading -------------------------------------------------------------
    def read_bytes(self, rel: str, limit: int | None = None) -> bytes:
        """The bytes of file ``rel`` (at most ``limit``), never from outside the store.

        Raises:
            UnsafePathError: ``rel`` (or a folder on its way) is a symbolic link
                leading outside the store.
            FileNotFoundError: ``rel`` is not a regular file.
        """
        with open(self._regular(rel), "rb") as fh:
            return fh.read() if limit is None else fh.read(limit)

    def read_many(self, rels: list[str]) -> dict[str, bytes | Exception]:
        """The bytes of several files (or the exception reading each one raised)."""
        out: dict[str, bytes | Exception] = {}
        for rel in rels:
            try:
                out[rel] = self.read_bytes(rel)
            except (OSError, UnsafePathError) as exc:
                out[rel] = exc
        return out

    def read_tail(self, rel: str, size: int) -> tuple[bytes, int]:
        """The last ``size`` bytes of file ``rel`` and the file's whole length."""
        with open(self._regular(rel), "rb") as fh:
            length = fh.seek(0, os.SEEK_END)
            fh.seek(max(0, length - size))
            return fh.read(), length

    # writing -------------------------------------------------------------
    def open_append(self, rel: str) -> AppendHandle:
        """An append-only handle for a new file ``rel`` (created on first write)."""
        return AppendHandle(self._path(rel), self._before_create)


    def create_exclusive(self, rel: str, data: bytes) -> bool:
        """Write ``data`` to a new file ``rel``; False (and no write) if it exists."""
        if self._kept is not None and rel != self._kept[0]:
            self._before_create()
        return self._create_exclusive(rel, data)

    def _create_exclusive(self, rel: str, data: bytes) -> bool:
        path = self._path(rel)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        return True

    def put_bytes(self, rel: str, data: bytes, *, new: bool = False) -> tuple[int, str]:
        """Write ``data`` to ``rel`` atomically (temp file + rename); (size, sha256).

        With ``new=True`` an existing ``rel`` is never replaced: FileExistsError
        (the file appears whole or not at all, even with several writers racing).
        """
        return self._put(rel, iter([data]), new=new)

    def put_file(self, src: str | os.PathLike[str], rel: str) -> tuple[int, str]:
        """Copy local file ``src`` into the store at ``rel`` atomically; (size, sha256)."""
        with open(src, "rb") as fh:
            return self._put(rel, iter(lambda: fh.read(_CHUNK), b""))

    def _put(self, rel: str, chunks: Iterator[bytes], new: bool = False) -> tuple[int, str]:
        path = self._path(rel)
        self._before_create()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            other = self._file_above(rel)
            raise PathConflictError(
                f"cannot store {rel!r}: {other!r} is a file, not a folder", rel, other
            ) from None
        if path.is_symlink():
            raise UnsafePathError(f"{rel!r} exists and is not a regular file")
        if path.is_dir():
            raise PathConflictError(
                f"cannot store {rel!r}: a folder of that name exists (holding "
                f"{self._first_file(rel)!r})", rel, self._first_file(rel))
        if path.exists() and not path.is_file():
            raise UnsafePathError(f"{rel!r} exists and is not a regular file")
        # a short temporary name: a 255-byte file name plus a suffix would be too long
        tmp = path.with_name(f".tr-{os.urandom(4).hex()}.tmp")
        digest = hashlib.sha256()
        size = 0
        try:
            with open(tmp, "xb") as out:
                for chunk in chunks:
                    out.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
            if new:
                os.link(tmp, path)  # fails if it exists: no writer replaces another's file
                tmp.unlink()
            else:
                os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return size, digest.hexdigest()

    def _file_above(self, rel: str) -> str:
        """The first leading part of ``rel`` that exists and is not a folder."""
        parts = rel.split("/")
        for end in range(1, len(parts)):
            prefix = "/".join(parts[:end])
            path = self._path(prefix)
            if path.exists() and not path.is_dir():
                return prefix
        return "/".join(parts[:-1])

    def _first_file(self, rel: str) -> str:
        """``rel`` plus the first file found below it (a folder's example content)."""
        for dirpath, dirnames, filenames in os.walk(self._path(rel)):
            dirnames.sort()
            if filenames:
                here = Path(dirpath).relative_to(self.root).as_posix()
                return f"{here}/{min(filenames)}"
        return rel
