"""Which run is best: goal resolution, ties, the tie-breaker and the baseline.

Standard library only (no jinja2, pandas or altair), so the CLI and a Markdown
summary can rank runs exactly as the site does. Runs are any objects with
``run_id``, ``start`` (Unix seconds or None), ``tags`` and ``value(key)``
(the last finite value of a metric, else None).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..records import Experiment

MAX_WORDS = frozenset({
    "accuracy", "acc", "f1", "auc", "precision", "recall", "r2", "score", "iou", "map",
    "auroc", "auprc", "f2", "bleu", "rouge", "ndcg", "dice", "reward", "return",
    "sensitivity", "specificity", "top1", "top5", "mrr", "kappa", "mcc", "correct", "hit",
    "hits",
})
"""Name parts that mean higher is better."""
MIN_WORDS = frozenset({
    "loss", "error", "rmse", "mse", "mae", "mape", "perplexity", "time", "seconds", "latency",
    "err", "smape", "ppl", "nll", "wer", "cer", "logloss", "brier", "regret", "duration",
    "distance", "fpr", "fnr",
})
"""Name parts that mean lower is better."""

EXPLICIT = "set_experiment"
FROM_METRICS = "metrics"
FROM_NAME = "name"
UNKNOWN = "unknown"

GOAL_WORDS = {"max": "higher is better", "min": "lower is better"}


class Rankable(Protocol):
    """What ranking needs of a run."""

    run_id: str
    start: float | None
    tags: dict[str, str]

    def value(self, key: str | None) -> float | None: ...


@dataclass(frozen=True)
class Goal:
    """Which direction of a metric is better, and where that came from."""

    value: str | None
    """``"max"``, ``"min"`` or None when unknown."""
    source: str
    """``set_experiment``, ``metrics``, ``name`` or ``unknown``."""

    @property
    def words(self) -> str:
        """'higher is better', 'lower is better' or ''."""
        return GOAL_WORDS.get(self.value or "", "")


def _tokens(key: str) -> list[str]:
    return [t for t in re.split(r"[^a-z0-9]+", key.lower()) if t]


@functools.lru_cache(maxsize=4096)
def guess_goal(key: str) -> str | None:
    """'max' or 'min' when a part of the metric's name says it (val_acc, test/rmse), else None.

    The last matching part decides (``loss_accuracy`` is an accuracy).
    """
    for token in reversed(_tokens(key)):
        if token in MIN_WORDS or token.startswith(("loss", "error")):
            return "min"
        if token in MAX_WORDS or token.startswith(("accura", "precis")):
            return "max"
    return None


def metric_spec(key: str | None, experiment: Experiment | None) -> dict[str, Any]:
    """The ``metrics=`` entry of ``key`` from ``set_experiment`` ({} when none)."""
    if key is None or experiment is None:
        return {}
    spec = (experiment.metrics or {}).get(key)
    return spec if isinstance(spec, dict) else {}


def resolve_goal(key: str, experiment: Experiment | None) -> Goal:
    """The goal of metric ``key``: ``set_experiment(goal=)`` for the primary metric, else its
    ``metrics=`` entry, else a guess from its name, else unknown."""
    if (experiment is not None and key == experiment.primary_metric
            and experiment.goal in ("min", "max")):
        return Goal(experiment.goal, EXPLICIT)
    spec_goal = metric_spec(key, experiment).get("goal")
    if spec_goal in ("min", "max"):
        return Goal(spec_goal, FROM_METRICS)
    guessed = guess_goal(key)
    if guessed is not None:
        return Goal(guessed, FROM_NAME)
    return Goal(None, UNKNOWN)


def metric_goal(key: str, experiment: Experiment | None) -> str | None:
    """``resolve_goal(key, experiment).value``."""
    return resolve_goal(key, experiment).value


def better(a: float, b: float, goal: str) -> bool:
    """True when ``a`` is strictly better than ``b`` for ``goal``."""
    return a > b if goal == "max" else a < b


def primary_metric(experiment: Experiment | None, keys: Sequence[str]) -> str | None:
    """The experiment's primary metric, else a logged metric whose name says its goal
    (validation/test ones first), else None."""
    if experiment is not None and experiment.primary_metric:
        return experiment.primary_metric
    ordered = sorted(set(keys))
    guessed = [k for k in ordered if guess_goal(k)]
    preferred = [k for k in guessed if k.lower().startswith(("val", "test", "valid", "eval"))]
    return (preferred or guessed or [None])[0]


@dataclass
class Ranking:
    """Runs ranked by the primary metric (and the tie-breaker)."""

    key: str | None
    goal: str | None
    tie_breaker: str | None
    tie_goal: str | None
    ordered: list[Any]
    """Every run: ranked ones best first (ties newest first), then the rest, newest first."""
    tied: list[Any] = field(default_factory=list)
    """Runs sharing the best value of the primary metric exactly (one when no tie)."""
    decided_by: str | None = None
    """The tie-breaker key when it picked one run out of a tie, else None."""

    @property
    def ranked(self) -> list[Any]:
        """Runs with a finite value of the primary metric, best first."""
        if self.key is None or self.goal is None:
            return []
        return [r for r in self.ordered if r.value(self.key) is not None]

    @property
    def winner(self) -> Any | None:
        """The one best run, or None (no goal, no value, or an undecided tie)."""
        if len(self.tied) == 1:
            return self.tied[0]
        if len(self.tied) > 1 and self.decided_by:
            return self.ordered[0]
        return None

    @property
    def best_value(self) -> float | None:
        """The best value of the primary metric."""
        return self.tied[0].value(self.key) if self.tied else None


def rank(runs: Sequence[Rankable], key: str | None, goal: str | None,
         tie_breaker: str | None = None, tie_goal: str | None = None) -> Ranking:
    """Rank ``runs`` by metric ``key`` towards ``goal``; equal means equal as logged.

    Within a tie on ``key``, a ``tie_breaker`` metric with a known ``tie_goal``
    orders runs (a run without it comes after those with it); without one the
    tied runs stay tied and are ordered newest first.
    """
    def newest(r: Rankable) -> tuple[float, str]:
        return (-(r.start or 0.0), r.run_id)

    def sort_value(r: Rankable, k: str | None, g: str | None) -> tuple[int, float]:
        v = r.value(k) if k is not None else None
        if v is None or g is None:
            return (1, 0.0)
        return (0, -v if g == "max" else v)

    use_tb = tie_breaker if tie_breaker and tie_goal and tie_breaker != key else None
    ordered = sorted(runs, key=lambda r: (sort_value(r, key, goal),
                                          sort_value(r, use_tb, tie_goal), newest(r)))
    if key is None or goal is None:
        return Ranking(key, goal, use_tb, tie_goal if use_tb else None, ordered)
    with_value = [r for r in ordered if r.value(key) is not None]
    if not with_value:
        return Ranking(key, goal, use_tb, tie_goal if use_tb else None, ordered)
    top = with_value[0].value(key)
    tied = [r for r in with_value if r.value(key) == top]
    decided = None
    if len(tied) > 1 and use_tb:
        first = tied[0].value(use_tb)
        if first is not None and all(r.value(use_tb) != first for r in tied[1:]):
            decided = use_tb
    return Ranking(key, goal, use_tb, tie_goal if use_tb else None, ordered, tied, decided)


def is_true(value: object) -> bool:
    """True for a tag value that means yes: ``true``, ``1`` or ``yes`` (any case)."""
    return value is not None and str(value).strip().lower() in ("true", "1", "yes")


def is_baseline_tag(tags: dict[str, str]) -> bool:
    """True when a run is tagged ``baseline=true``."""
    return is_true(tags.get("baseline"))


def find_baseline(runs: Sequence[Rankable]) -> Any | None:
    """The newest run tagged ``baseline=true``, else the first run started; None if no runs."""
    chron = sorted(runs, key=lambda r: (r.start or 0.0, r.run_id))
    tagged = [r for r in chron if is_baseline_tag(r.tags)]
    if tagged:
        return tagged[-1]
    return chron[0] if chron else None
