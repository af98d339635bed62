"""Create-only uploads (``If-None-Match: *``): "already exists" told apart from a lost response.

An upload whose first attempt succeeded but whose response was lost is
retried by s3fs; the retry then gets the "already exists" answer (AWS 412,
other servers 409) for the object it created itself. ``create_once`` compares
the existing object with the bytes sent: the same bytes are this upload's own
object (success); other bytes are another writer's (False).
"""

from __future__ import annotations

from typing import Any

_EXISTS_WORDS = ("PreconditionFailed", "412", "409", "already exists",
                 "ConditionalRequestConflict", "AlreadyExists")


def exists_error(exc: BaseException) -> bool:
    """True for the "already exists" answer of a conditional create (AWS 412, others 409)."""
    for err in (exc, exc.__cause__, exc.__context__):
        if err is None:
            continue
        if isinstance(err, FileExistsError):
            return True
        text = str(err)
        if any(word in text for word in _EXISTS_WORDS):
            return True
    return False


def holds(fs: Any, path: str, data: bytes) -> bool:
    """True when object ``path`` holds exactly ``data`` (its size first, then its bytes)."""
    fs.invalidate_cache(path)  # the listing cache must not answer for it
    try:
        info = fs.info(path)
        if int(info.get("size") or 0) != len(data):
            return False
        return bytes(fs.cat_file(path)) == data
    except FileNotFoundError:
        return False


def create_once(fs: Any, path: str, data: bytes) -> bool:
    """Create object ``path`` holding ``data`` unless it exists; False if another one does.

    An existing object with exactly these bytes is this upload's own (a retry
    after a lost response): True.
    """
    try:
        fs.pipe_file(path, data, mode="create")
    except Exception as exc:
        if exists_error(exc):
            return holds(fs, path, data)
        raise
    return True
