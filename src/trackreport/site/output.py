"""The output folder of a build: checked first, built beside, put in place at the end.

A build writes into a new hidden folder next to ``--out`` (same file system,
so the final steps are renames). Only when the whole site is written does it
replace the previous site; a build that fails, or is interrupted, leaves the
previous site as it was and removes its own folder.

A first (or clean) build writes every file there and swaps the folder in. An
incremental build writes there only what changed and names the previous
site's files it keeps; at the end the new files are renamed over the old ones
one by one and whatever the new site does not hold is deleted, so the folders
of unchanged runs are never copied. The build cache is removed before that and
written back last: should the process die in between, the next build is a full
one.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import shutil
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import BuildError
from ..store import Store

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: builds into one folder are not serialized
    fcntl = None  # type: ignore[assignment]

SITE_MARKER = ".trackreport-site"
"""A file every built site holds: a folder with it may be replaced by a new build."""
CACHE_DIR = ".trackreport-cache"
"""The build cache inside a site (not part of the site; see ``cache``)."""

TOKEN_BYTES = 4
"""Random bytes in the names of a build's folders beside the site (as hex digits)."""
LONG_NAME = 200
"""Bytes of a site folder's name kept as they are in the names of the folders beside it."""


def _inside(child: Path, parent: Path) -> bool:
    return child == parent or parent in child.parents


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def check_output(store: Store, out: Path) -> Path:
    """The real path of ``out`` after checking it may receive a site.

    Refuses an ``out`` that is, is inside or contains the store, that exists
    and is not a folder, or that is a non-empty folder without the site marker
    (it is not a previous build, so it is not ours to replace).
    """
    store_real = Path(os.path.realpath(store.root))
    out_real = Path(os.path.realpath(out))
    if out_real == store_real:
        raise BuildError(f"--out {str(out)!r} is the store itself; choose another folder")
    if _inside(out_real, store_real):
        raise BuildError(f"--out {str(out)!r} is inside the store; choose a folder outside it")
    if _inside(store_real, out_real):
        raise BuildError(f"--out {str(out)!r} contains the store; choose a folder beside it")
    if out_real.exists():
        if not out_real.is_dir():
            raise BuildError(f"--out {str(out)!r} exists and is not a folder")
        try:
            entries = os.listdir(out_real)
        except OSError as exc:
            raise BuildError(f"--out {str(out)!r} cannot be read: {_reason(exc)}") from None
        if entries and not (out_real / SITE_MARKER).is_file():
            raise BuildError(
                f"--out {str(out)!r} is a folder that is not empty and was not made by "
                "trackreport build; choose an empty or new folder"
            )
    return out_real


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        try:
            path.unlink()
        except FileNotFoundError:
            pass


@contextmanager
def staged_output(store: Store, out: Path) -> Iterator[SiteWriter]:
    """Yield a writer into an empty folder; on success its site becomes ``out``.

    The folder is made beside ``out`` (``.<name>.building-<random>``). On a
    normal exit the previous site at ``out`` (if any) is moved aside, the new
    one renamed into place and the old one deleted; or, when the writer was
    put ``on_top_of`` the previous site, the written files are moved into it
    and the files it does not keep are deleted. On any exception the new
    folder is deleted and ``out`` is left untouched.

    Raises:
        BuildError: ``out`` is refused (see :func:`check_output`), or its
            parent folder cannot be created or written to.
    """
    final = check_output(store, out)
    parent = final.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        _sweep(parent, final.name)
        token = secrets.token_hex(TOKEN_BYTES)
        staging, held = _claimed_folder(parent, _beside(final.name, "new", token),
                                        _beside(final.name, "building", token))
    except OSError as exc:
        raise BuildError(f"cannot write the site to {str(out)!r}: {_reason(exc)}") from None
    writer = SiteWriter(staging)
    try:
        yield writer
        if writer.base is not None:
            _commit(writer, final, out)
        else:
            _swap(staging, final, out, token)
    except BaseException:
        _remove(staging)
        raise
    finally:
        if held is not None:
            os.close(held)


def _claimed_folder(parent: Path, made: str, name: str) -> tuple[Path, int | None]:
    """Folder ``name`` in ``parent``, locked (``flock``) while this build writes it.

    It is made under another name and locked before it takes its own, so
    ``_sweep`` never sees it unlocked. Returns the folder and the descriptor
    holding the lock (None where there are no such locks).
    """
    first = parent / made
    first.mkdir()
    held = None
    try:
        if fcntl is not None:
            held = os.open(first, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
            try:
                fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:  # a disk without locks: nothing there is swept either
                os.close(held)
                held = None
        os.rename(first, parent / name)
    except BaseException:
        if held is not None:
            os.close(held)
        _remove(first)
        raise
    return parent / name, held


def _beside(name: str, kind: str, token: str) -> str:
    """The name of a build's folder beside the site folder ``name``: ``.<name>.<kind>-<token>``.

    A long ``name`` is cut and given a hash of itself, so the folder's name stays
    within the 255 bytes a file name may have wherever ``name`` itself fits.
    """
    raw = name.encode("utf-8", "surrogateescape")
    if len(raw) > LONG_NAME:
        digest = hashlib.sha256(raw).hexdigest()[:16]
        name = raw[:LONG_NAME - 17].decode("utf-8", "ignore") + "-" + digest
    return f".{name}.{kind}-{token}"


def _sweep(parent: Path, name: str) -> None:
    """Delete the folders beside the site that no build holds any more.

    These are staging folders (``.<name>.building-<token>``) and replaced sites
    (``.<name>.old-<token>``; a token is 8 hex digits, so a folder of the user's
    with a name alike is left alone) of builds that were killed (SIGKILL, a power cut)
    before they could delete them; a build still using one holds its lock,
    and is left alone.
    """
    if fcntl is None:
        return
    kinds = "|".join(re.escape(_beside(name, kind, "")) for kind in ("building", "old"))
    ours = re.compile(f"(?:{kinds})[0-9a-f]{{{2 * TOKEN_BYTES}}}")
    try:
        entries = [e for e in os.listdir(parent) if ours.fullmatch(e)]
    except OSError:
        return
    for entry in entries:
        path = parent / entry
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
                         | getattr(os, "O_NOFOLLOW", 0))
        except OSError:  # gone, not a folder, or a link: not ours to delete
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # a build is writing it
            os.close(fd)
            continue
        try:
            shutil.rmtree(path, ignore_errors=True)
        finally:
            os.close(fd)


def _locked(folder: Path) -> int | None:
    """An open descriptor of ``folder`` holding an exclusive lock (None: no such folder)."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return None
    if fcntl is not None:
        fcntl.flock(fd, fcntl.LOCK_EX)  # one build at a time puts its files in place
    return fd


def stamp(site: Path) -> tuple[int, ...]:
    """What changes when another build replaces ``site`` or rewrites its cache."""
    try:
        folder = os.stat(site)
        cache = os.stat(site / CACHE_DIR / "cache.json")
    except OSError:
        return ()
    return (folder.st_dev, folder.st_ino, cache.st_ino, cache.st_size, cache.st_mtime_ns)


def _commit(writer: SiteWriter, final: Path, out: Path) -> None:
    """Move the files written into the staging folder over the previous site; drop the rest."""
    staging = writer.root
    fd = _locked(final)
    try:
        if fd is None or stamp(final) != writer.base_stamp:
            raise BuildError(f"the site at {str(out)!r} was changed by another build during "
                             "this one; nothing was changed by this build, run it again")
        written: list[tuple[str, str]] = []  # (site path, file in the staging folder)
        for dirpath, dirnames, filenames in os.walk(staging):
            dirnames.sort()
            here = os.path.relpath(dirpath, staging).replace(os.sep, "/")
            for name in sorted(filenames):
                rel = name if here == "." else f"{here}/{name}"
                written.append((rel, os.path.join(dirpath, name)))
        keep = writer.kept | {rel for rel, _ in written}
        cache = final / CACHE_DIR
        try:  # from here on the cache is wrong (a link there is removed, never followed)
            cache.unlink() if cache.is_symlink() else (cache / "cache.json").unlink()
        except FileNotFoundError:
            pass
        _prune(final, keep)
        folders: set[str] = set()
        for rel, path in sorted(written, key=_cache_last):
            parent = rel.rpartition("/")[0]
            if parent and parent not in folders:
                _plain_folders(final, parent)
                folders.add(parent)
            os.replace(path, final.joinpath(*rel.split("/")))
    except OSError as exc:
        raise BuildError(f"cannot update the site at {str(out)!r}: {_reason(exc)}; "
                         "the next build rebuilds it whole") from None
    finally:
        if fd is not None:
            os.close(fd)
    _remove(staging)


def _cache_last(item: tuple[str, str]) -> tuple[bool, bool]:
    """Site files first, then the cache, its index (which names the other cache files) last."""
    rel = item[0]
    return rel.startswith(CACHE_DIR + "/"), rel == f"{CACHE_DIR}/cache.json"


def _plain_folders(root: Path, rel: str) -> None:
    """Make folder ``rel`` under ``root``, replacing links or files that stand in its way."""
    path = root
    for part in rel.split("/"):
        path = path / part
        try:
            mode = os.lstat(path).st_mode
        except FileNotFoundError:
            os.mkdir(path)
            continue
        if not stat.S_ISDIR(mode):  # a link (never written through) or a file
            os.unlink(path)
            os.mkdir(path)


def _prune(root: Path, keep: set[str]) -> None:
    """Delete what lies under ``root`` but is not in ``keep`` (site paths), never following links."""
    needed = {"/".join(rel.split("/")[:i]) for rel in keep for i in range(1, rel.count("/") + 1)}
    for dirpath, dirnames, filenames in os.walk(root, topdown=True):
        here = os.path.relpath(dirpath, root).replace(os.sep, "/")
        prefix = "" if here == "." else here + "/"
        for name in list(dirnames):
            rel = prefix + name
            path = os.path.join(dirpath, name)
            if os.path.islink(path):
                os.unlink(path)
                dirnames.remove(name)
            elif rel not in needed:
                shutil.rmtree(path)
                dirnames.remove(name)
        for name in filenames:
            if prefix + name not in keep:
                os.unlink(os.path.join(dirpath, name))


def _swap(staging: Path, final: Path, out: Path, token: str) -> None:
    """Put the finished site at ``final``, replacing a previous one."""
    taken = final.exists() and not (final / SITE_MARKER).is_file() and any(final.iterdir())
    if taken:  # something else appeared there during the build
        raise BuildError(f"--out {str(out)!r} changed during the build and is not a "
                         "trackreport site any more; the previous contents are left as they are")
    old = final.parent / _beside(final.name, "old", token)
    moved = False
    fd = _locked(final)  # the previous site's folder: locked until it is deleted
    try:
        try:
            if final.exists():
                os.rename(final, old)
                moved = True
            os.rename(staging, final)
        except OSError as exc:
            if moved and not final.exists():
                os.rename(old, final)  # put the previous site back
            raise BuildError(f"cannot replace the site at {str(out)!r}: "
                             f"{_reason(exc)}") from None
        if moved:
            _remove(old)  # killed meanwhile: the next build's _sweep deletes the rest
    finally:
        if fd is not None:
            os.close(fd)


class SiteWriter:
    """Writes files under the output folder, never outside it, never one path twice."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._seen: dict[str, str] = {}
        self._folders: set[str] = set()  # folders made (or found) so far
        self.base: Path | None = None
        """The previous site, when this build only adds to it (see ``on_top_of``)."""
        self.base_stamp: tuple[int, ...] = ()
        self.kept: set[str] = set()
        """Site paths of the previous site this build keeps as they are."""

    def on_top_of(self, site: Path) -> None:
        """Write only what changed: ``copy_tree`` from ``site`` keeps its files in place."""
        self.base = site
        self.base_stamp = stamp(site)

    def _folder(self, rel: str, path: str | Path) -> None:
        """Make the site folder ``rel`` (at ``path``) unless this writer made it already."""
        if rel not in self._folders:
            os.makedirs(path, exist_ok=True)
            self._folders.add(rel)

    def _claim(self, rel: str) -> None:
        key = rel.lower()  # also distinct on case-insensitive disks
        if key in self._seen:
            raise BuildError(
                f"two files of the site would be written to {rel!r} "
                f"(first {self._seen[key]!r}); this is a bug in the name mapping"
            )
        self._seen[key] = rel

    def write(self, rel: str, data: bytes | str) -> None:
        """Write ``data`` at site path ``rel`` (POSIX, relative); refuse a second write."""
        self._put(rel, data, claim=True)

    def stage(self, rel: str, data: bytes | str) -> None:
        """Write ``data`` at ``rel`` as ``write`` does, but leave claiming it to ``adopt``.

        For a page made ahead (by a build worker, or here) that the build may still
        replace: it is adopted, or deleted and made again.
        """
        self._put(rel, data, claim=False)

    def _put(self, rel: str, data: bytes | str, *, claim: bool) -> None:
        if isinstance(data, str):
            data = data.encode("utf-8")
        parts = rel.split("/")
        if (not rel or rel.startswith("/") or "\\" in rel or "\x00" in rel
                or any(p in ("", ".", "..") for p in parts)):
            raise BuildError(f"refusing to write {rel!r}: not a plain path inside the site")
        if claim:
            self._claim(rel)
        elif rel.lower() in self._seen:
            self._claim(rel)  # raises: the name is taken
        path = self.root.joinpath(*parts)
        self._folder("/".join(parts[:-1]), path.parent)
        with open(path, "xb") as fh:  # exclusive: never through an existing file or link
            fh.write(data)

    def discard(self, rel: str) -> None:
        """Delete site folder ``rel`` as staged: what a build worker wrote and never gave back.

        Refused when the folder holds a claimed file (written, adopted or kept).
        """
        prefix = rel.lower() + "/"
        if any(key.startswith(prefix) for key in self._seen):
            raise BuildError(f"refusing to discard {rel!r}: it holds files of this build")
        shutil.rmtree(self.root.joinpath(*rel.split("/")), ignore_errors=True)
        self._folders = {f for f in self._folders if f != rel and not f.startswith(rel + "/")}

    def holds(self, rel: str) -> bool:
        """Whether the site has file ``rel`` so far (written, adopted or kept)."""
        return self._seen.get(rel.lower()) == rel

    def adopt(self, rels: list[str]) -> None:
        """Claim files that another process (a build worker) wrote under the root."""
        for rel in rels:
            self._claim(rel)

    def copy_tree(self, old_site: Path, rel: str) -> list[str] | None:
        """Copy the folder ``rel`` of a previous site (hard links where possible).

        Returns the site paths copied, or None (nothing copied) when the folder
        is missing or holds anything but regular files and folders.
        """
        source = os.path.join(old_site, *rel.split("/"))
        if os.path.islink(source) or not os.path.isdir(source):
            return None
        found: list[tuple[str, str]] = []
        pending = [(source, rel)]
        while pending:  # os.scandir: the entry types come with the listing, no stat each
            folder, site_folder = pending.pop()
            try:
                entries = sorted(os.scandir(folder), key=lambda e: e.name)
            except OSError:
                return None
            for entry in entries:
                if entry.is_symlink():
                    return None
                if entry.is_dir(follow_symlinks=False):
                    pending.append((entry.path, f"{site_folder}/{entry.name}"))
                elif entry.is_file(follow_symlinks=False):
                    found.append((f"{site_folder}/{entry.name}", entry.path))
                else:
                    return None
        root = str(self.root)
        for site_path, _ in found:
            self._claim(site_path)
        if self.base is not None and Path(old_site) == self.base:
            self.kept.update(site_path for site_path, _ in found)
            return [site_path for site_path, _ in found]
        for site_path, path in found:
            target = os.path.join(root, site_path)
            self._folder(site_path.rpartition("/")[0], os.path.dirname(target))
            try:
                os.link(path, target)
            except OSError:
                shutil.copyfile(path, target)
        return [site_path for site_path, _ in found]

    @property
    def count(self) -> int:
        """Number of files written."""
        return len(self._seen)

