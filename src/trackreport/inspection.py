"""Library functions behind ``trackreport runs``, ``show`` and ``check``."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

from .display import duration, iso
from .errors import RunNotFoundError, TrackreportError
from .reader import FileReport, ReadWarning, file_report, read_run
from .records import RUNNING, Run
from .redact import redact_text
from .store import Store


def resolve_run_id(store: Store, prefix: str) -> str:
    """The run id that ``prefix`` names (a whole id or a unique prefix of one)."""
    ids = store.run_ids()
    if prefix in ids:
        return prefix
    matches = [i for i in ids if i.startswith(prefix)] if prefix else []
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise RunNotFoundError(f"no run {prefix!r} in the store at {store.root}")
    raise RunNotFoundError(f"{prefix!r} matches {len(matches)} runs; give more of the id")


def run_summary(run: Run) -> dict[str, Any]:
    """Everything about one run as plain data (for ``trackreport show``)."""
    metrics = {}
    for key, series in sorted(run.metrics.items()):
        finite = [v for v in series.values if not math.isnan(v)]
        metrics[key] = {
            "last": series.last, "min": min(finite) if finite else None,
            "max": max(finite) if finite else None, "steps": len(series.steps),
        }
    return {
        "run_id": run.run_id, "name": run.name, "experiment": run.experiment,
        # scrubbed again: stores written before errors were scrubbed at run end
        "status": run.status, "error": redact_text(str(run.error)) if run.error else run.error,
        "start_time": iso(run.start_time),
        "end_time": iso(run.end_time), "duration": duration(run.duration),
        "parent_run_id": run.parent_run_id, "params": dict(sorted(run.params.items())),
        "metrics": metrics, "tags": dict(sorted(run.tags.items())),
        "notes": [n.markdown for n in run.notes],
        "artifacts": [{"path": a.path, "size": a.size, "media_type": a.media_type}
                      for a in run.artifacts],
        "context": run.context,
        "problems": run_problems(run),
    }


def run_problems(run: Run) -> list[str]:
    """What the reader skipped or dropped in one run's files, one sentence each."""
    p = run.problems
    out = []
    if p.torn_lines:
        out.append(f"{p.torn_lines} torn last line(s) skipped (a writer stopped mid-write).")
    if p.corrupt_lines:
        out.append(f"{p.corrupt_lines} corrupt line(s) skipped.")
    return out + p.messages


@dataclass
class CheckResult:
    """What ``trackreport check`` found in a store."""

    files: list[FileReport] = field(default_factory=list)
    running: list[tuple[str, str]] = field(default_factory=list)  # (run_id, name)
    warnings: list[str] = field(default_factory=list)  # what reading the runs dropped
    runs: int = 0

    @property
    def corrupt(self) -> int:
        """Corrupt lines (not counting torn last lines)."""
        return sum(len(f.corrupt_lines) for f in self.files)

    @property
    def torn(self) -> int:
        """Files whose last line is torn."""
        return sum(1 for f in self.files if f.torn_last_line)

    @property
    def unreadable(self) -> int:
        """Files that could not be read."""
        return sum(1 for f in self.files if f.unreadable)

    @property
    def ok(self) -> bool:
        """True unless a corrupt line or an unreadable file was found (the rest are warnings)."""
        return self.corrupt == 0 and self.unreadable == 0


def check_store(store: Store) -> CheckResult:
    """Read every events file of the store and report torn, corrupt and unknown lines."""
    store.check_format()
    result = CheckResult()
    paths = list(store.experiment_event_files()) + list(store.registry_event_files())
    for run_id in store.run_ids():
        run_paths = store.run_event_files(run_id)
        paths += run_paths
        if run_paths:
            result.runs += 1
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ReadWarning)
                    run = read_run(store, run_id, metrics=False)
            except (TrackreportError, OSError):
                continue
            if run.status == RUNNING:
                result.running.append((run_id, run.name))
            result.warnings.extend(run.problems.messages)
    for path in paths:
        report, _ = file_report(store, path)
        result.files.append(report)
    return result
