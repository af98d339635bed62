"""The incremental build cache, kept in ``<out>/.trackreport-cache/`` (not part of the site).

For every run it remembers the identity of each events file (size and
modification time; an append changes both), the run's summary, its logged
models, its last event time, and a key
of everything its page was made from. A later build reads only the runs whose
files changed and copies the pages whose key is unchanged from the previous
site, so an incremental build writes the same bytes as a clean one.

Format: ``cache.json`` (JSON, NaN and Infinity allowed: Python's ``json``)
and the downsampled series of every summary in two flat binary files,
``steps.bin`` (int64) and ``values.bin`` (float64), which ``cache.json``
indexes by offset. Nothing is unpickled.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from .output import CACHE_DIR
from .summaries import MetricStats, RunSummary

FORMAT = 2
_PACKAGE = Path(__file__).resolve().parent.parent


def digest(*parts: Any) -> str:
    """A short hex digest of JSON-able ``parts`` (``repr`` for anything else)."""
    text = json.dumps(parts, sort_keys=True, default=repr, ensure_ascii=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def tree_identity(folders: Iterable[Path], suffixes: tuple[str, ...] = ()) -> list[Any]:
    """(path, size, mtime) of the files under ``folders`` (only ``suffixes`` when given)."""
    out: list[Any] = []
    for folder in folders:
        for dirpath, dirnames, filenames in os.walk(folder):
            dirnames.sort()
            for name in sorted(filenames):
                if suffixes and not name.endswith(suffixes):
                    continue
                path = os.path.join(dirpath, name)
                try:
                    st = os.stat(path)
                except OSError:
                    continue
                out.append((path, st.st_size, st.st_mtime_ns))
    return out


def code_identity() -> list[Any]:
    """The identity of trackreport's own code: a changed module invalidates the cache."""
    from .themes import default_theme_dir  # the theme lives beside the package in a checkout

    return tree_identity([_PACKAGE, default_theme_dir()], (".py", ".html", ".css", ".js"))


@dataclass
class RunEntry:
    """What the cache keeps of one run."""

    files: dict[str, str]
    last_event: float | None
    models: list[Any]
    page_key: str
    summary: RunSummary | None = None
    pages: list[str] = field(default_factory=list)


@functools.cache
def _plain_fields() -> tuple[str, ...]:
    """The fields of RunSummary that cache.json holds as they are."""
    return tuple(f.name for f in fields(RunSummary) if f.name not in ("stats", "series"))


def _summary_json(s: RunSummary, steps: list[np.ndarray], values: list[np.ndarray],
                  offset: list[int]) -> dict[str, Any]:
    data = {name: getattr(s, name) for name in _plain_fields()}
    data["stats"] = {k: [st.last, st.min, st.max, st.count, st.last_step]
                     for k, st in s.stats.items()}
    series = {}
    for key, (st_arr, val_arr) in s.series.items():
        series[key] = [offset[0], int(st_arr.size)]
        steps.append(np.ascontiguousarray(st_arr, dtype=np.int64))
        values.append(np.ascontiguousarray(val_arr, dtype=np.float64))
        offset[0] += int(st_arr.size)
    data["series"] = series
    return data


def _summary_of(data: dict[str, Any], steps: np.ndarray, values: np.ndarray) -> RunSummary:
    fields_ = dict(data)
    fields_["stats"] = {k: MetricStats(last=float(v[0]), min=float(v[1]), max=float(v[2]),
                                       count=int(v[3]), last_step=int(v[4]))
                        for k, v in data["stats"].items()}
    fields_["series"] = {k: (steps[o:o + n], values[o:o + n])
                         for k, (o, n) in data["series"].items()}
    return RunSummary(**fields_)


class BuildCache:
    """The cache of a previous build (empty when there is none or it does not fit)."""

    def __init__(self, key: str, runs: dict[str, RunEntry] | None = None,
                 experiments: dict[str, str] | None = None, site: Path | None = None) -> None:
        self.key = key
        self.runs = runs or {}
        self.experiments = experiments or {}
        self.site = site
        """The previous site, whose unchanged files are copied."""

    @classmethod
    def load(cls, site: Path, key: str) -> BuildCache:
        """The cache inside ``site`` when it was made with the same ``key``, else empty."""
        folder = site / CACHE_DIR
        if folder.is_symlink():  # not one this build wrote: never read through a link
            return cls(key)
        try:
            with open(folder / "cache.json", encoding="utf-8") as fh:
                data = json.load(fh)
            if data.get("format") != FORMAT or data.get("key") != key:
                return cls(key)
            steps = np.fromfile(folder / "steps.bin", dtype=np.int64)
            values = np.fromfile(folder / "values.bin", dtype=np.float64)
            runs = {}
            for run_id, e in data["runs"].items():
                runs[run_id] = RunEntry(
                    files=e["files"], last_event=e["last_event"],
                    models=e["models"], page_key=e["page_key"], pages=e.get("pages", []),
                    summary=_summary_of(e["summary"], steps, values)
                    if e.get("summary") else None)
            return cls(key, runs, dict(data["experiments"]), site)
        except (OSError, ValueError, KeyError, TypeError, IndexError):
            return cls(key)

    def save(self, site: Path) -> None:
        """Write this cache into ``site`` (the folder being built)."""
        folder = site / CACHE_DIR
        folder.mkdir(parents=True, exist_ok=True)
        steps: list[np.ndarray] = []
        values: list[np.ndarray] = []
        offset = [0]
        runs = {}
        for run_id in sorted(self.runs):
            e = self.runs[run_id]
            runs[run_id] = {
                "files": e.files, "last_event": e.last_event,
                "models": e.models, "page_key": e.page_key, "pages": e.pages,
                "summary": _summary_json(e.summary, steps, values, offset)
                if e.summary is not None else None,
            }
        for name, arrays in (("steps.bin", steps), ("values.bin", values)):
            with open(folder / name, "wb") as fh:  # one after the other, never joined
                fh.writelines(arrays)
        text = json.dumps({"format": FORMAT, "key": self.key, "runs": runs,
                           "experiments": self.experiments}, ensure_ascii=False,
                          separators=(",", ":"), default=repr)
        (folder / "cache.json").write_text(text, encoding="utf-8")
