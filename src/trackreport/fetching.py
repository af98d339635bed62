"""Fetch a folder's event files: concurrently on object storage, re-listing once if one vanished.

On object storage a segment can be deleted between the listing and the fetch
(a writer closing, or ``trackreport compact``, folded it into a compacted
object); the folder is then listed again, once, and the new objects fetched.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import StoreReadError

if TYPE_CHECKING:
    from .store import Store


def _folder(path: str) -> str:
    return path.rsplit("/", 1)[0] if "/" in path else ""


def fetch_event_files(store: Store, paths: list[str]) -> list[tuple[str, bytes]]:
    """(path, bytes) of each events file, in the order given; missing files are left out.

    Raises:
        StoreReadError: a file exists but cannot be read (naming it).
    """
    storage = store.storage
    got = storage.read_many(paths)
    vanished = [p for p in paths if isinstance(got.get(p), FileNotFoundError)]
    if vanished and storage.remote:  # compacted meanwhile: list those folders again, once
        folders = {_folder(p) for p in vanished}
        fresh = {p for folder in sorted(folders)
                 for p in storage.list_event_files(folder, fresh=True)}
        paths = sorted({p for p in paths if _folder(p) not in folders} | fresh)
        todo = [p for p in paths if not isinstance(got.get(p), bytes)]
        got.update(storage.read_many(todo))
    out = []
    for path in paths:
        value = got.get(path)
        if isinstance(value, FileNotFoundError):
            continue
        if isinstance(value, OSError):
            raise StoreReadError(f"cannot read {store.root / path}: "
                                 f"{value.strerror or type(value).__name__}")
        if isinstance(value, Exception):
            raise value
        if value is not None:
            out.append((path, value))
    return out
