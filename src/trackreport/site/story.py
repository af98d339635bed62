"""The headline sentences: which run is best, by how much, and is it still improving.

Plain English for readers who never saw the project; every case (improved,
same as the baseline, worse, tie, one run, no metric, unknown goal, all runs
failed, no finite value, runs still going) has its sentence, tested word for
word in tests/test_site_story.py. Standard library only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..records import FAILED, RUNNING, Experiment
from . import format as fmt
from .ranking import Goal, Ranking, metric_spec, resolve_goal

MAX_NAMES = 5
"""At most this many run names in a sentence, then "and N more"."""


@dataclass(frozen=True)
class MetricInfo:
    """A metric as readers see it: label, meaning, goal and number format."""

    key: str
    label: str
    description: str
    goal: Goal
    percent: bool

    @classmethod
    def of(cls, key: str, experiment: Experiment | None) -> MetricInfo:
        """The metric ``key`` with the words ``set_experiment(metrics=)`` gave it."""
        spec = metric_spec(key, experiment)
        label = spec.get("label") or key
        return cls(key=key, label=label, description=spec.get("description", ""),
                   goal=resolve_goal(key, experiment), percent=spec.get("format") == "percent")

    def value(self, value: float | None) -> str:
        """A value in the metric's format (``0.958`` or ``95.8 %``)."""
        return fmt.metric(value, self.percent)

    def difference(self, value: float, base: float) -> str:
        """``+0.110 (13.8 %)``, ``+2.1 points`` or ``-0.020``."""
        diff = value - base
        text = fmt.signed(diff, self.percent)
        if not self.percent and base != 0 and diff != 0:
            text += f" ({fmt.relative(diff, base)})"
        return text


def names(runs: Sequence[Any]) -> str:
    """``a``, ``a and b``, ``a, b and c``, ``a, b, c, d, e and 3 more``."""
    shown = [r.name for r in runs[:MAX_NAMES]]
    rest = len(runs) - len(shown)
    if rest:
        return ", ".join(shown) + f" and {rest} more"
    if len(shown) == 1:
        return shown[0]
    return ", ".join(shown[:-1]) + " and " + shown[-1]


def baseline_words(name: str) -> str:
    """The baseline run in a sentence: ``the baseline rf-1``, or the bare name when
    it says so already (``baseline-stump``, not ``the baseline baseline-stump``)."""
    return name if "baseline" in name.lower() else f"the baseline {name}"


def _verb(count: int, one: str, many: str) -> str:
    return one if count == 1 else many


def verdict(runs: Sequence[Any], ranking: Ranking, baseline: Any | None,
            info: MetricInfo | None, tie_info: MetricInfo | None = None) -> str:
    """The first sentence: the best run and its margin over the baseline, or why there is none."""
    if not runs:
        return "No runs yet. Runs logged with this experiment name will appear here."
    count = fmt.plural(len(runs), "run")
    if all(r.status == FAILED for r in runs):
        if len(runs) == 1:
            return "The only run failed, so there is no result yet: its page shows the error."
        return f"All {count} failed, so there is no result yet: each run's page shows its error."
    if info is None:
        return (f"{count}, but no metric to rank them by: name one with "
                "set_experiment(primary_metric=...).")
    if info.goal.value is None:
        return (f"{count}, not ranked: is a higher or a lower {info.label} better? "
                f"Say so with set_experiment(goal=\"max\") or goal=\"min\".")
    ranked = ranking.ranked
    if not ranked:
        logged = any(info.key in getattr(r, "stats", {}) for r in runs)
        if logged:
            return f"No run has a usable {info.label} yet: every value logged is NaN or infinite."
        return f"No run has logged {info.label} yet."
    best_value = ranking.best_value
    assert best_value is not None  # noqa: S101 - ranked is not empty
    if len(ranked) == 1:
        only = ranked[0]
        return f"Only one run has {info.label} so far: {only.name}, {info.value(best_value)}."
    base_value = baseline.value(info.key) if baseline is not None else None
    tied = ranking.tied
    winner = ranking.winner
    if baseline is not None and base_value is not None and baseline in tied:
        others = [r for r in tied if r is not baseline]
        text = f"No run beats {baseline_words(baseline.name)} ({info.value(base_value)})"
        if others:
            text += (f"; {fmt.plural(len(others), 'run')} {_verb(len(others), 'ties', 'tie')} "
                     "with it")
            if winner is baseline and ranking.decided_by and tie_info is not None:
                text += f", and it stays ahead on {tie_info.label}"
            elif winner is not None and winner is not baseline and tie_info is not None:
                return (f"Best: {winner.name}, {info.label} {info.value(best_value)}, the same "
                        f"as {baseline_words(baseline.name)}; it wins the tie on {tie_info.label} "
                        f"({tie_info.value(winner.value(tie_info.key))}).")
            return text + "."
        runner = next((r for r in ranked if r is not baseline), None)
        if runner is not None:
            runner_value = runner.value(info.key)
            text += (f": the next best, {runner.name}, is "
                     f"{info.difference(runner_value, base_value).lstrip('+-')} worse "
                     f"({info.value(runner_value)})")
        return text + "."
    over = ""
    if baseline is not None and base_value is not None:
        over = (f", {info.difference(best_value, base_value)} over "
                f"{baseline_words(baseline.name)} ({info.value(base_value)})")
    elif baseline is not None:
        over = f"; {baseline_words(baseline.name)} has no {info.label} to compare with"
    if winner is None:
        return (f"{len(tied)} runs tie at {info.value(best_value)} {info.label}: "
                f"{names(tied)}{over}. Name a tie_breaker in set_experiment to pick one.")
    text = f"Best: {winner.name}, {info.label} {info.value(best_value)}{over}."
    if len(tied) > 1 and tie_info is not None:
        others = len(tied) - 1
        text += (f" It ties with {fmt.plural(others, 'other run')} and wins on "
                 f"{tie_info.label} ({tie_info.value(winner.value(tie_info.key))}, "
                 f"{tie_info.goal.words}).")
    return text


def progress(runs: Sequence[Any], info: MetricInfo | None) -> str:
    """When the best-so-far last improved, counted in runs and time before the latest run."""
    if info is None or info.goal.value is None:
        return ""
    chron = sorted((r for r in runs if r.value(info.key) is not None),
                   key=lambda r: (r.start or 0.0, r.run_id))
    if len(chron) < 2:
        return ""
    best: float | None = None
    improved_at = 0
    for i, r in enumerate(chron):
        v = r.value(info.key)
        if best is None or (v > best if info.goal.value == "max" else v < best):
            best, improved_at = v, i
    after = len(chron) - 1 - improved_at
    if after == 0:
        return "The latest run is the best so far: still improving."
    latest, improver = chron[-1], chron[improved_at]
    ago = "one run ago" if after == 1 else f"{fmt.integer(after)} runs ago"
    text = f"Last improvement: {ago}"
    if latest.start is not None and improver.start is not None:
        text += f", {fmt.span(latest.start - improver.start)} before the latest run"
    return text + "."


def status_sentence(runs: Sequence[Any]) -> str:
    """Failed and still-running runs in words, or ''."""
    if not runs or all(r.status == FAILED for r in runs):
        return ""
    failed = sum(r.status == FAILED for r in runs)
    running = sum(r.status == RUNNING for r in runs)
    parts = []
    if failed:
        parts.append(f"{fmt.plural(failed, 'run')} failed")
    if running:
        words = fmt.plural(running, "run") if not failed else str(running)
        parts.append(f"{words} {_verb(running, 'is', 'are')} still running (or stopped "
                     "without saying so)")
    if not parts:
        return ""
    return " and ".join(parts) + "."


def headline(runs: Sequence[Any], ranking: Ranking, baseline: Any | None,
             info: MetricInfo | None, tie_info: MetricInfo | None = None) -> list[str]:
    """The sentences at the top of an experiment page (the first one also on the index)."""
    out = [verdict(runs, ranking, baseline, info, tie_info)]
    if ranking.ranked:
        out.append(progress(runs, info))
    out.append(status_sentence(runs))
    return [s for s in out if s]
