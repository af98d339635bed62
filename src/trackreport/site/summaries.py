"""What the build keeps of each run: ``RunSummary`` (params, metric statistics, tags,
downsampled series, the ``load_runs`` row), made by ``summarize`` from a read run.

The experiment pages, the index, the compare page and the exports are built from
summaries alone, so only one full run is in memory at a time.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import numpy as np

from ..records import Run
from ..rows import run_row
from . import format as fmt
from .urls import run_slug

KEPT_POINTS = 500
"""Points kept per run and metric for the experiment charts while the build runs."""


def finite(value: Any) -> bool:
    """True for a finite int or float (not bool)."""
    return fmt.is_number(value) and math.isfinite(value)


def forge_commit_url(remote: str | None, commit: str | None) -> str:
    """The commit page on GitHub, GitLab or Bitbucket for a remote URL, else ''."""
    if not remote or not commit or not re.fullmatch(r"[0-9a-fA-F]{7,64}", commit):
        return ""
    text = remote.strip()
    match = re.match(r"^(?:[a-z+]+://)?(?:[^@/]+@)?([^/:]+)(?::\d+)?[:/](.+?)(?:\.git)?/?$", text)
    if not match:
        return ""
    host, path = match.group(1).lower(), match.group(2)
    if not re.fullmatch(r"[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)+", path) or ".." in path.split("/"):
        return ""
    path = quote(path, safe="/")
    if host in ("github.com", "www.github.com"):
        return f"https://github.com/{path}/commit/{commit}"
    if host in ("gitlab.com", "www.gitlab.com"):
        return f"https://gitlab.com/{path}/-/commit/{commit}"
    if host in ("bitbucket.org", "www.bitbucket.org"):
        return f"https://bitbucket.org/{path}/commits/{commit}"
    return ""


@dataclass(slots=True)
class MetricStats:
    """True last/min/max of one metric of one run."""

    last: float
    min: float
    max: float
    count: int
    last_step: int


@dataclass
class RunSummary:
    """What the experiment pages, the index and data/ need of one run."""

    run_id: str
    slug: str
    name: str
    experiment: str
    status: str
    start: float | None
    end: float | None
    duration: float | None
    user: str | None
    commit: str | None
    commit_url: str
    parent_run_id: str | None
    params: dict[str, Any]
    tags: dict[str, str]
    stats: dict[str, MetricStats]
    series: dict[str, tuple[np.ndarray, np.ndarray]]
    row: dict[str, Any] = field(default_factory=dict)

    @property
    def page(self) -> str:
        return f"runs/{self.slug}/index.html"

    def value(self, key: str | None) -> float | None:
        """Last value of metric ``key`` when finite, else None."""
        if key is None or key not in self.stats:
            return None
        last = self.stats[key].last
        return last if math.isfinite(last) else None


def _stats(steps: Any, values: Any) -> MetricStats:
    array = np.asarray(values, dtype=np.float64)
    real = array[~np.isnan(array)] if np.isnan(array).any() else array
    low = float(real.min()) if real.size else math.nan
    high = float(real.max()) if real.size else math.nan
    return MetricStats(last=float(array[-1]), min=low, max=high, count=int(array.size),
                       last_step=int(steps[-1]))


SeriesArrays = dict[str, tuple[np.ndarray, np.ndarray]]
"""Each metric of a run as numpy arrays: steps (int64), values (float64)."""


def series_arrays(run: Run) -> SeriesArrays:
    """The run's metrics as numpy arrays, converted once for the summary and its pages.

    Metrics without values are left out. Metrics logged at the same steps (the
    usual case: ``log_metrics``) share one steps array; nothing writes into them.
    """
    out: SeriesArrays = {}
    last: tuple[list[int], np.ndarray] | None = None
    for key, s in run.metrics.items():
        if not s.values:
            continue
        if last is not None and last[0] == s.steps:
            steps = last[1]
        else:
            steps = np.asarray(s.steps, dtype=np.int64)
            last = (s.steps, steps)
        out[key] = (steps, np.asarray(s.values, dtype=np.float64))
    return out


def downsample_arrays(steps: np.ndarray, values: np.ndarray, n: int,
                      ) -> tuple[np.ndarray, np.ndarray]:
    """A series of about ``n`` points (``charts.downsample_arrays``); a shorter one as it is."""
    if steps.size <= n:
        return steps, values
    from . import charts

    return charts.downsample_arrays(steps, values, n)


def summarize(run: Run, arrays: SeriesArrays | None = None) -> RunSummary:
    """The summary of ``run`` the site keeps once its page is written.

    ``arrays``: ``series_arrays(run)``, when the caller has it already.
    """
    arrays = series_arrays(run) if arrays is None else arrays
    git = run.context.get("git") if isinstance(run.context.get("git"), dict) else {}
    commit = run.git_commit if isinstance(run.git_commit, str) else None
    remote = git.get("remote") or git.get("remote_url") or git.get("url")
    stats: dict[str, MetricStats] = {}
    series: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for key, (steps, values) in arrays.items():
        stats[key] = _stats(steps, values)
        series[key] = downsample_arrays(steps, values, KEPT_POINTS)
    summary = RunSummary(
        run_id=run.run_id, slug=run_slug(run.run_id), name=run.name,
        experiment=run.experiment, status=run.status, start=run.start_time,
        end=run.end_time, duration=run.duration,
        user=run.user if isinstance(run.user, str) else None, commit=commit,
        commit_url=forge_commit_url(remote if isinstance(remote, str) else None, commit),
        parent_run_id=run.parent_run_id if isinstance(run.parent_run_id, str) else None,
        params=dict(run.params), tags=dict(run.tags), stats=stats, series=series,
    )
    summary.row = run_row(run)
    return summary
