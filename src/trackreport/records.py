"""Read-side records: what the reader returns for a run and an experiment.

Plain dataclasses (standard library only) so that the logging path, the CLI and
the site builder share them without importing pandas.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

RUNNING = "RUNNING"
FINISHED = "FINISHED"
FAILED = "FAILED"
KILLED = "KILLED"


@dataclass
class MetricSeries:
    """Every logged value of one metric of one run, sorted by step (then time).

    ``steps``/``values``/``times`` are parallel lists; ``values`` may hold NaN and
    +-inf. A step logged twice keeps both values, in the order they were logged.
    """

    key: str
    steps: list[int] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    times: list[float] = field(default_factory=list)

    @property
    def last(self) -> float | None:
        """The value at the highest step, or None when nothing was logged."""
        return self.values[-1] if self.values else None


@dataclass
class ArtifactRecord:
    """One logged file: its path inside the run's ``artifacts/`` folder."""

    path: str
    size: int
    sha256: str
    media_type: str
    time: float
    image: dict[str, Any] | None = None  # {"key", "step"} for images logged by log_image


@dataclass
class NoteRecord:
    """A markdown note logged with ``note()``."""

    markdown: str
    time: float


@dataclass
class ReadProblems:
    """What the reader skipped while reading some event files."""

    torn_lines: int = 0
    corrupt_lines: int = 0
    unknown_events: int = 0
    messages: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # why each malformed event was skipped


@dataclass
class Run:
    """Everything the store knows about one run, merged from all its writers."""

    run_id: str
    name: str
    experiment: str
    status: str
    start_time: float | None
    end_time: float | None
    parent_run_id: str | None = None
    error: str | None = None
    context: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, MetricSeries] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    notes: list[NoteRecord] = field(default_factory=list)
    artifacts: list[ArtifactRecord] = field(default_factory=list)
    models: list[dict[str, Any]] = field(default_factory=list)
    datasets: list[dict[str, Any]] = field(default_factory=list)
    """Datasets the run used (``log_input``): name, digest, source_type, source,
    schema ({"columns": [{"name", "dtype"}]} or {"shape", "dtype"}), rows, context."""
    last_event_time: float | None = None
    imported_from: dict[str, Any] | None = None
    """Where an imported run came from: {"system": "mlflow", "run_id", "experiment_id"}."""
    problems: ReadProblems = field(default_factory=ReadProblems)

    @property
    def user(self) -> str | None:
        """The user who started the run, when captured."""
        return self.context.get("user")

    @property
    def host(self) -> str | None:
        """The host the run started on, when captured."""
        return self.context.get("host")

    @property
    def git_commit(self) -> str | None:
        """The git commit of the entry point, when captured."""
        return (self.context.get("git") or {}).get("commit")

    @property
    def git_branch(self) -> str | None:
        """The git branch of the entry point, when captured."""
        return (self.context.get("git") or {}).get("branch")

    @property
    def duration(self) -> float | None:
        """Seconds from start to end (None while running or unknown)."""
        if self.start_time is None or self.end_time is None:
            return None
        return max(0.0, self.end_time - self.start_time)


@dataclass
class Experiment:
    """An experiment's settings, as last set by ``set_experiment``."""

    name: str
    description: str = ""
    primary_metric: str | None = None
    goal: str | None = None  # "min" or "max" for the primary metric; None: see ranking
    tie_breaker: str | None = None  # decides between runs tied on the primary metric
    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Per metric: label, description, goal ("min"/"max"), format ("number"/"percent")."""
    tags: dict[str, str] = field(default_factory=dict)
    """Experiment tags (MLflow's ``set_experiment_tag``, imported ones); the last value wins."""
    created: float | None = None
    """Unix seconds of the first ``experiment`` event (None when only runs name it)."""
