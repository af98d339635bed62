"""The reader's local copy of immutable event objects, under ``$TRACKREPORT_CACHE``.

Segments and compacted objects are written once and never changed, so a copy
kept on disk is as good as the object: a second build fetches only new
objects. Any other events object (a store copied from disk) is kept under its
listed size and ETag, so a changed object is fetched again.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from . import env, segments


def cache_file(url: str, rel: str, info: Mapping[str, Any]) -> Path | None:
    """Where events object ``rel`` of the store at ``url`` is cached (None: not cacheable).

    ``info`` is the object's listing entry (its size and ETag), or empty.
    """
    name = rel.rsplit("/", 1)[-1]
    tag = info.get("ETag") or ""
    if not segments.is_immutable(name) and not (name.startswith("events-") and tag):
        return None
    key = f"{url}/{rel}\0{info.get('size')}\0{tag}"
    digest = hashlib.sha256(key.encode()).hexdigest()
    return Path(env.cache_dir()) / "objects" / digest[:2] / digest


def load(path: Path | None) -> bytes | None:
    """The cached bytes at ``path``; None when not cached."""
    if path is None:
        return None
    try:
        return path.read_bytes()
    except OSError:
        return None


def save(path: Path | None, data: bytes) -> None:
    """Keep ``data`` at ``path`` (atomically); a cache that cannot be written is skipped."""
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(3).hex()}")
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError:  # a cache that cannot be written only costs a fetch next time
        pass
