"""Compaction on object storage: fold a writer's segments into one compacted object.

A compacted object appears before the objects it covers are deleted, and a
reader ignores whatever a wider compacted object covers (``segments``), so
compaction is safe beside readers, live writers and other compactions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import segments

if TYPE_CHECKING:
    from .objectstore import ObjectStorage
    from .store import Store


def join_segments(parts: list[bytes]) -> bytes:
    """Segments' bytes as one object: the first ``open`` line kept, the others dropped."""
    out = [parts[0]] if parts else []
    for part in parts[1:]:
        newline = part.find(b"\n") + 1
        if newline and b'"type":"open"' in part[:newline]:
            part = part[newline:]
        out.append(part)
    return b"".join(out)


def delete_superseded(storage: ObjectStorage, folder: str) -> int:
    """Delete the event objects in ``folder`` that a wider compacted object covers.

    Run after creating a compacted object: of two compactions racing (a
    closing writer and ``trackreport compact``), the later listing sees both
    objects, so the narrower one never stays behind.
    """
    names = [name for name in storage.list_dir(folder, fresh=True)
             if segments.is_immutable(name)]
    gone = segments.superseded(names)
    storage.delete([f"{folder}/{name}" for name in gone])
    return len(gone)


def _runs_of_segments(objs: list[segments.EventObject]) -> list[list[segments.EventObject]]:
    """One writer's objects in groups of contiguous segment ranges."""
    objs = sorted(objs, key=lambda o: o.first)
    groups: list[list[segments.EventObject]] = [[objs[0]]]
    for obj in objs[1:]:
        if obj.first == groups[-1][-1].last + 1:
            groups[-1].append(obj)
        else:
            groups.append([obj])
    return groups


def compact_folder(storage: ObjectStorage, folder: str) -> tuple[int, int]:
    """Fold each writer's contiguous segments in ``folder`` into compacted objects.

    Returns (objects written, objects deleted).
    """
    names = [rel.rsplit("/", 1)[-1] for rel in storage.list_event_files(folder, fresh=True)]
    by_writer: dict[str, list[segments.EventObject]] = {}
    for name in names:
        obj = segments.parse(name)
        if obj is not None:
            by_writer.setdefault(obj.writer, []).append(obj)
    written = removed = 0
    for writer, objs in sorted(by_writer.items()):
        for group in _runs_of_segments(objs):
            if len(group) < 2:
                continue
            rels = [f"{folder}/{o.name}" for o in group]
            got = storage.read_many(rels)
            if any(isinstance(v, Exception) for v in got.values()):
                continue  # a writer compacted them meanwhile: nothing to do
            data = join_segments([got[r] for r in rels])  # type: ignore[misc]
            name = segments.compacted_name(writer, group[0].first, group[-1].last)
            written += int(storage.create_exclusive(f"{folder}/{name}", data))
            removed += delete_superseded(storage, folder)
    return written, removed


def compact_store(store: Store) -> tuple[int, int]:
    """Fold every writer's segments (live or dead) in every folder of ``store``.

    Returns (objects written, objects deleted). A local store has nothing to fold.
    """
    from .store import EXPERIMENTS

    storage = store.storage
    if not storage.remote:
        return 0, 0
    # the registry keeps one create-only object per seq (its lock on object storage)
    folders = [EXPERIMENTS, *(store.run_dir(run_id) for run_id in store.run_ids())]
    written = removed = 0
    for folder in folders:
        n, gone = compact_folder(storage, folder)  # type: ignore[arg-type]
        written += n
        removed += gone
    return written, removed
