"""The output folder of a build: checked first, built beside, swapped in at the end.

A build writes into a new hidden folder next to ``--out`` (same file system,
so the final step is a rename). Only when the whole site is written does it
replace the previous site; a build that fails, or is interrupted, leaves the
previous site as it was and removes its own folder.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import BuildError
from ..store import Store

SITE_MARKER = ".trackreport-site"
"""A file every built site holds: a folder with it may be replaced by a new build."""


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
def staged_output(store: Store, out: Path) -> Iterator[Path]:
    """Yield an empty folder to build into; on success it becomes ``out``.

    The folder is made beside ``out`` (``.<name>.building-<random>``). On a
    normal exit the previous site at ``out`` (if any) is moved aside, the new
    one renamed into place and the old one deleted. On any exception the new
    folder is deleted and ``out`` is left untouched.

    Raises:
        BuildError: ``out`` is refused (see :func:`check_output`), or its
            parent folder cannot be created or written to.
    """
    final = check_output(store, out)
    parent = final.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        token = secrets.token_hex(4)
        staging = parent / f".{final.name}.building-{token}"
        staging.mkdir()
    except OSError as exc:
        raise BuildError(f"cannot write the site to {str(out)!r}: {_reason(exc)}") from None
    try:
        yield staging
        _swap(staging, final, out, token)
    except BaseException:
        _remove(staging)
        raise


def _swap(staging: Path, final: Path, out: Path, token: str) -> None:
    """Put the finished site at ``final``, replacing a previous one."""
    taken = final.exists() and not (final / SITE_MARKER).is_file() and any(final.iterdir())
    if taken:  # something else appeared there during the build
        raise BuildError(f"--out {str(out)!r} changed during the build and is not a "
                         "trackreport site any more; the previous contents are left as they are")
    old = final.parent / f".{final.name}.old-{token}"
    moved = False
    try:
        if final.exists():
            os.rename(final, old)
            moved = True
        os.rename(staging, final)
    except OSError as exc:
        if moved and not final.exists():
            os.rename(old, final)  # put the previous site back
        raise BuildError(f"cannot replace the site at {str(out)!r}: {_reason(exc)}") from None
    if moved:
        _remove(old)


class SiteWriter:
    """Writes files under the output folder, never outside it, never one path twice."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._seen: dict[str, str] = {}
        self._folders: set[str] = set()  # folders made (or found) so far

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
        if isinstance(data, str):
            data = data.encode("utf-8")
        parts = rel.split("/")
        if (not rel or rel.startswith("/") or "\\" in rel or "\x00" in rel
                or any(p in ("", ".", "..") for p in parts)):
            raise BuildError(f"refusing to write {rel!r}: not a plain path inside the site")
        self._claim(rel)
        path = self.root.joinpath(*parts)
        self._folder("/".join(parts[:-1]), path.parent)
        with open(path, "xb") as fh:  # exclusive: never through an existing file or link
            fh.write(data)

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

