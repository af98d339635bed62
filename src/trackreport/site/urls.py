"""File names and links of the site: slugs and relative URLs.

Slugs are lowercase ASCII (``a-z``, ``0-9``, ``-``). A name that is already a
clean slug is used as it is; any other name gets a short hash of the original
added (``Wine Quality`` -> ``wine-quality-1a2b3c``), so names differing only by
case, punctuation, unicode or ``/`` still get distinct, stable folder names.
Every URL in a page is relative to that page, so the site works from
``file://`` and under any URL prefix.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
import unicodedata
from urllib.parse import quote

_CLEAN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_OTHER = re.compile(r"[^a-z0-9]+")
MAX_BASE = 60
HASH_LENGTH = 6
# Names a folder must not take (Windows device names, and our own top-level folders).
_RESERVED = frozenset({"con", "prn", "aux", "nul", "com1", "lpt1", "index"})


def short_hash(text: str, length: int = HASH_LENGTH) -> str:
    """The first ``length`` hex digits of the SHA-256 of ``text`` (UTF-8)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:length]


def slug_base(name: str) -> str:
    """Lowercase ASCII letters and digits of ``name``, other runs of characters as ``-``."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    base = _OTHER.sub("-", folded.lower()).strip("-")
    return base[:MAX_BASE].rstrip("-")


def is_clean_slug(name: str) -> bool:
    """True when ``name`` can be used as a folder name unchanged."""
    return bool(_CLEAN.match(name)) and len(name) <= MAX_BASE and name not in _RESERVED


def slugify(name: str, length: int = HASH_LENGTH) -> str:
    """The folder name of an experiment or any other name (see the module docstring)."""
    if is_clean_slug(name):
        return name
    base = slug_base(name)
    suffix = short_hash(name, length)
    return f"{base}-{suffix}" if base else suffix


def run_slug(run_id: str) -> str:
    """The folder name of a run: the run id exactly as ``trackreport runs`` prints it.

    Run ids are restricted to safe characters (``store.check_run_id``) and unique,
    so ``runs/<run_id>/`` can be linked from anywhere (summaries, CI logs, chat).
    """
    from ..store import check_run_id

    return check_run_id(run_id)


class SlugRegistry:
    """Hands out distinct slugs: the same name always gets the same slug within a build.

    In the (unlikely) case that two different names map to one slug, the later
    one gets a longer hash; register names in a sorted order to keep this stable.
    """

    def __init__(self, make=slugify) -> None:
        self._make = make
        self._by_name: dict[str, str] = {}
        self._owner: dict[str, str] = {}

    def __call__(self, name: str) -> str:
        """The slug of ``name`` (allocated on first use)."""
        found = self._by_name.get(name)
        if found is not None:
            return found
        for length in (HASH_LENGTH, 12, 64):
            if length == HASH_LENGTH:
                slug = self._make(name, length)
            else:
                base = slug_base(name)
                slug = f"{base}-{short_hash(name, length)}" if base else short_hash(name, length)
            if slug not in self._owner:
                break
        else:  # pragma: no cover - a SHA-256 collision
            slug = f"{slug}-{len(self._owner)}"
        self._by_name[name] = slug
        self._owner[slug] = name
        return slug


_FILE_OK = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def file_segment(name: str) -> str:
    """A safe file or folder name for one segment of an artifact path.

    Keeps ``[A-Za-z0-9._-]`` names that do not start with a dot, lowercased;
    anything else (and anything lowercasing changed) gets a hash suffix before
    its extension, so ``ROC.png`` and ``roc.png`` stay distinct even on
    case-insensitive disks.
    """
    if _FILE_OK.match(name) and name == name.lower() and len(name) <= 100:
        return name
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem or not re.fullmatch(r"[A-Za-z0-9]{1,10}", ext):
        stem, ext = name, ""
    base = slug_base(stem)[:60]
    suffix = short_hash(name)
    out = f"{base}-{suffix}" if base else suffix
    return f"{out}.{ext.lower()}" if ext else out


def relative(target: str, page: str) -> str:
    """URL of site path ``target`` as seen from the page at site path ``page``.

    Both are POSIX paths relative to the site root (``runs/x/index.html``).
    The result is percent-encoded; a folder target ends with ``/``.
    """
    if not target:
        raise ValueError("no path specified")
    # posixpath.relpath would do, but it asks the OS for the working folder on every
    # call (thousands per build); both paths are relative to the same root anyway
    start = _parts(posixpath.dirname(page))
    goal = _parts(target)
    common = 0
    for a, b in zip(start, goal, strict=False):  # the common leading folders
        if a != b:
            break
        common += 1
    rel = "/".join([".."] * (len(start) - common) + goal[common:]) or "."
    if target.endswith("/") and not rel.endswith("/"):
        rel += "/"
    return quote(rel, safe="/-._~")


def _parts(path: str) -> list[str]:
    return [part for part in posixpath.normpath(path).split("/") if part and part != "."]


def root_of(page: str) -> str:
    """The relative prefix from ``page`` to the site root: ``""``, ``../``, ``../../``."""
    depth = page.count("/")
    return "../" * depth
