"""Names of event objects on object storage, and which of them a reader uses.

Objects cannot be appended to, so a writer on object storage rolls create-only
segments ``events-<writer>-<seq>.jsonl`` (seq 1, 2, 3, ...) and folds them into
one compacted object ``events-<writer>.c<first>-<last>.jsonl`` that covers the
segments ``first`` to ``last`` (DESIGN.md section 8). A reader ignores every
segment and compacted object that a wider compacted object of the same writer
covers, so a compacted object may appear before its segments are deleted, and
``trackreport compact`` and a writer that closes later never disagree.

A plain ``events-<writer>.jsonl`` (a store copied from a local disk) is used as
it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

_SEGMENT = re.compile(r"^events-(?P<writer>.+)-(?P<seq>[0-9]{6,})\.jsonl$")
_COMPACTED = re.compile(r"^events-(?P<writer>.+)\.c(?P<first>[0-9]+)-(?P<last>[0-9]+)\.jsonl$")


@dataclass(frozen=True)
class EventObject:
    """One events object's name, parsed: its writer and the segment range it holds."""

    name: str
    writer: str
    first: int
    last: int
    compacted: bool

    def covers(self, other: EventObject) -> bool:
        """True when this compacted object holds everything ``other`` holds (and more)."""
        return (self.compacted and self.writer == other.writer and self.first <= other.first
                and other.last <= self.last and (self.first, self.last) != (other.first, other.last))


def segment_name(writer: str, seq: int) -> str:
    """The name of a writer's segment number ``seq`` (1, 2, ...)."""
    return f"events-{writer}-{seq:06d}.jsonl"


def compacted_name(writer: str, first: int, last: int) -> str:
    """The name of the object that folds a writer's segments ``first`` to ``last``."""
    return f"events-{writer}.c{first}-{last}.jsonl"


@lru_cache(maxsize=1 << 16)  # a folder of a killed writer's segments is parsed often
def parse(name: str) -> EventObject | None:
    """A segment's or compacted object's name parsed; None for any other name."""
    match = _COMPACTED.match(name)
    if match:
        first, last = int(match["first"]), int(match["last"])
        if first <= last:
            return EventObject(name, match["writer"], first, last, True)
        return None
    match = _SEGMENT.match(name)
    if match:
        seq = int(match["seq"])
        return EventObject(name, match["writer"], seq, seq, False)
    return None


def is_immutable(name: str) -> bool:
    """True for segment and compacted objects: written once, never changed."""
    return parse(name) is not None


def visible(names: list[str]) -> list[str]:
    """The event object names a reader uses: those no wider compacted object covers.

    Names that are neither segments nor compacted objects are kept. Sorted.
    """
    parsed = [parse(name) for name in names]
    compacted: dict[str, list[EventObject]] = {}
    for obj in parsed:
        if obj is not None and obj.compacted:
            compacted.setdefault(obj.writer, []).append(obj)
    out = []
    for name, obj in zip(names, parsed, strict=True):
        if obj is None or not any(c.covers(obj) for c in compacted.get(obj.writer, ())):
            out.append(name)
    return sorted(out)


def superseded(names: list[str]) -> list[str]:
    """The names a wider compacted object covers: safe to delete, readers ignore them."""
    keep = set(visible(names))
    return sorted(name for name in names if name not in keep)
