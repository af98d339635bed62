"""A writer's events on object storage, as rolled create-only segments with a local spool.

Objects cannot be appended to: each ``write`` uploads the next segment
``events-<writer>-<seq>.jsonl`` (``segments`` names them) and copies its bytes
to a local spool; ``close`` uploads the spool as one compacted object and
deletes the segments it covers (``compaction``).
"""

from __future__ import annotations

import os
import tempfile
from typing import IO, TYPE_CHECKING

from . import compaction, segments

if TYPE_CHECKING:
    from .objectstore import ObjectStorage


class SegmentHandle:
    """A writer's events for one folder on object storage, as create-only segments.

    ``write`` uploads one new segment (its own ``open`` line first) and keeps a
    local spool of what it uploaded; ``close`` replaces the segments by one
    compacted object made from the spool and closes the spool.
    """

    def __init__(self, storage: ObjectStorage, rel: str) -> None:
        self.storage = storage
        self.folder, name = rel.rsplit("/", 1)
        self.writer = name[len("events-"):-len(".jsonl")]
        self.seq = 0
        self.compacted_to = 0  # the last seq folded into a compacted object
        self._open = b""
        self._spool: IO[bytes] | None = None
        self._released = False  # the spool closed for good: segments only, no compaction

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
        if self._spool is None and not self._released:
            # unbuffered: a forked child's copy holds no buffered bytes to flush into it
            self._spool = tempfile.TemporaryFile(prefix="trackreport-spool-", buffering=0)
            _spooling.add(self)
            if self.seq:  # a late write after close: the spool starts with what is compacted
                self._spool.write(self._compacted())
        self.seq = seq
        if self._spool is not None:
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
        if self._released:
            return
        if self.seq <= 1 or self.compacted_to == self.seq or self._spool is None:
            if self._spool is not None and self.seq <= 1:
                self._close_spool()  # one segment is this writer's one object
                self.compacted_to = self.seq
            return
        self._spool.seek(0)
        data = self._spool.read()
        name = segments.compacted_name(self.writer, 1, self.seq)
        try:
            self.storage.create_exclusive(f"{self.folder}/{name}", data)
            compaction.delete_superseded(self.storage, self.folder)
        except Exception:
            return
        self.compacted_to = self.seq
        self._close_spool()  # what it held is the compacted object now

    def release(self) -> None:
        """Close the spool for good (a forked child, interpreter exit): from now on
        segments only; ``trackreport compact`` folds them."""
        self._released = True
        self._close_spool()

    def _close_spool(self) -> None:
        if self._spool is not None:
            self._spool.close()
            self._spool = None
        _spooling.discard(self)

    def reset(self) -> None:
        """Nothing to reset: every write is a new object."""


# handles with an open spool (strong references: a forked child's writer forgets its
# parent's handles before the hook below closes the child's copies of their spools)
_spooling: set[SegmentHandle] = set()


def release_all() -> None:
    """Close every spool still open (its writer was never closed, or its compaction
    failed): at interpreter exit, after the last flush; and in a forked child, which
    never writes through its parent's handles (the parent's spools stay open)."""
    for handle in list(_spooling):
        handle.release()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=release_all)
