"""Ranking and the headline sentences, word for word (golden sentences)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pytest

from trackreport.records import FAILED, FINISHED, RUNNING, Experiment
from trackreport.site.ranking import (
    find_baseline,
    guess_goal,
    primary_metric,
    rank,
    resolve_goal,
)
from trackreport.site.story import MetricInfo, headline

DAY = 86400.0


@dataclass
class R:
    """A run as ranking sees it."""

    name: str
    metrics: dict[str, float]
    start: float
    status: str = FINISHED
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def run_id(self) -> str:
        return f"id-{self.name}"

    @property
    def stats(self) -> dict[str, float]:
        return self.metrics

    def value(self, key: str | None) -> float | None:
        v = self.metrics.get(key) if key else None
        return v if v is not None and math.isfinite(v) else None


def sentences(runs: list[R], exp: Experiment) -> list[str]:
    key = primary_metric(exp, [k for r in runs for k in r.metrics])
    info = MetricInfo.of(key, exp) if key else None
    tie = MetricInfo.of(exp.tie_breaker, exp) if exp.tie_breaker else None
    ranking = rank(runs, key, info.goal.value if info else None,
                   exp.tie_breaker, tie.goal.value if tie else None)
    return headline(runs, ranking, find_baseline(runs), info, tie)


ACC = Experiment("e", primary_metric="val_acc", goal="max",
                 metrics={"val_acc": {"label": "validation accuracy"}})


# goal resolution -----------------------------------------------------------------
def test_goal_explicit_beats_everything() -> None:
    exp = Experiment("e", primary_metric="val_loss", goal="max",
                     metrics={"val_loss": {"goal": "min"}})
    goal = resolve_goal("val_loss", exp)
    assert (goal.value, goal.source) == ("max", "set_experiment")


def test_goal_from_metrics_spec_then_name_then_unknown() -> None:
    exp = Experiment("e", primary_metric="quality", metrics={"quality": {"goal": "max"}})
    assert (resolve_goal("quality", exp).value, resolve_goal("quality", exp).source) == \
        ("max", "metrics")
    # no goal given: accuracy is guessed higher-is-better (never the old "min" default)
    exp = Experiment("e", primary_metric="val_acc")
    assert (resolve_goal("val_acc", exp).value, resolve_goal("val_acc", exp).source) == \
        ("max", "name")
    assert resolve_goal("epoch", exp).value is None
    assert resolve_goal("epoch", exp).source == "unknown"


@pytest.mark.parametrize(("key", "goal"), [
    ("val_acc", "max"), ("accuracy", "max"), ("f1", "max"), ("test/auc", "max"),
    ("precision", "max"), ("recall", "max"), ("r2", "max"), ("score", "max"), ("iou", "max"),
    ("map", "max"), ("val_loss", "min"), ("error", "min"), ("rmse", "min"), ("mse", "min"),
    ("mae", "min"), ("mape", "min"), ("perplexity", "min"), ("time", "min"),
    ("fit_seconds", "min"), ("latency", "min"), ("epoch", None), ("lr", None),
])
def test_goal_guessed_from_name(key: str, goal: str | None) -> None:
    assert guess_goal(key) == goal


def test_accuracy_without_goal_ranks_higher_first() -> None:
    runs = [R("low", {"val_acc": 0.5}, 1), R("high", {"val_acc": 0.9}, 2)]
    ranking = rank(runs, "val_acc", resolve_goal("val_acc", Experiment("e", "",
                                                                       "val_acc")).value)
    assert ranking.winner.name == "high"


# ties ---------------------------------------------------------------------------
def test_tie_without_tie_breaker_names_every_tied_run() -> None:
    runs = [R("base", {"val_acc": 0.9}, 1), R("a", {"val_acc": 0.958}, 2),
            R("b", {"val_acc": 0.958}, 3), R("c", {"val_acc": 0.95}, 4)]
    ranking = rank(runs, "val_acc", "max")
    assert ranking.winner is None
    assert {r.name for r in ranking.tied} == {"a", "b"}


def test_tie_breaker_decides() -> None:
    runs = [R("a", {"val_acc": 0.958, "val_logloss": 0.2}, 1),
            R("b", {"val_acc": 0.958, "val_logloss": 0.1}, 2)]
    ranking = rank(runs, "val_acc", "max", "val_logloss", "min")
    assert ranking.winner.name == "b" and ranking.decided_by == "val_logloss"


def test_equal_means_equal_as_logged() -> None:
    runs = [R("a", {"val_acc": 0.9580001}, 1), R("b", {"val_acc": 0.958}, 2)]
    ranking = rank(runs, "val_acc", "max")
    assert ranking.winner.name == "a" and len(ranking.tied) == 1


def test_baseline_is_newest_tagged_else_first() -> None:
    runs = [R("first", {}, 1), R("tagged-old", {}, 2, tags={"baseline": "true"}),
            R("tagged-new", {}, 3, tags={"baseline": "True"}), R("last", {}, 4)]
    assert find_baseline(runs).name == "tagged-new"
    assert find_baseline(runs[:1] + runs[3:]).name == "first"
    assert find_baseline([]) is None


# golden sentences ---------------------------------------------------------------------
def test_improved() -> None:
    runs = [R("baseline-logreg", {"val_acc": 0.8}, 0, tags={"baseline": "true"}),
            R("rf-100", {"val_acc": 0.85}, DAY), R("rf-300", {"val_acc": 0.91}, 3 * DAY),
            R("rf-500", {"val_acc": 0.9}, 4 * DAY), R("gb", {"val_acc": 0.88}, 5 * DAY)]
    assert sentences(runs, ACC) == [
        "Best: rf-300, validation accuracy 0.91, +0.11 (13.8 %) over baseline-logreg (0.8).",
        "Last improvement: 2 runs ago, 2 days before the latest run.",
    ]


def test_latest_is_best_percent_format() -> None:
    exp = Experiment("e", primary_metric="val_acc", goal="max",
                     metrics={"val_acc": {"label": "Validation accuracy",
                                          "format": "percent"}})
    runs = [R("base", {"val_acc": 0.9}, 0), R("better", {"val_acc": 0.937}, 60)]
    assert sentences(runs, exp) == [
        "Best: better, Validation accuracy 93.7\u00a0%, +3.7 points over the baseline base (90\u00a0%).",
        "The latest run is the best so far: still improving.",
    ]


def test_same_as_baseline_with_ties() -> None:
    runs = [R("logreg-C0.1", {"val_acc": 0.958}, 0)] + [
        R(f"gb-{i}", {"val_acc": 0.958}, i * 60) for i in range(1, 5)] + [
        R("gb-5", {"val_acc": 0.94}, 300)]
    assert sentences(runs, ACC)[0] == \
        "No run beats the baseline logreg-C0.1 (0.958); 4 runs tie with it."
    assert sentences(runs, ACC)[1] == "Last improvement: 5 runs ago, 5 minutes before the latest run."


def test_one_tie_with_baseline_is_singular() -> None:
    runs = [R("base", {"val_acc": 0.9}, 0), R("other", {"val_acc": 0.9}, 60)]
    assert sentences(runs, ACC)[0] == "No run beats the baseline base (0.9); 1 run ties with it."
    assert sentences(runs, ACC)[1] == \
        "Last improvement: one run ago, 1 minute before the latest run."


def test_worse_than_baseline() -> None:
    exp = Experiment("e", primary_metric="rmse", goal="min")
    runs = [R("base", {"rmse": 4.0}, 0), R("deep", {"rmse": 4.5}, 60),
            R("wide", {"rmse": 5.0}, 120)]
    assert sentences(runs, exp)[0] == \
        "No run beats the baseline base (4): the next best, deep, is 0.5 (12.5 %) worse (4.5)."


def test_tie_names_the_tied_runs() -> None:
    runs = [R("base", {"val_acc": 0.9}, 0)] + [R(n, {"val_acc": 0.958}, i * 60)
                                               for i, n in enumerate("abcdef", start=1)]
    assert sentences(runs, ACC)[0] == (
        "6 runs tie at 0.958 validation accuracy: f, e, d, c, b and 1 more, +0.058 (6.44 %) "
        "over the baseline base (0.9). Name a tie_breaker in set_experiment to pick one.")


def test_tie_decided_by_tie_breaker() -> None:
    exp = Experiment("e", primary_metric="val_acc", goal="max", tie_breaker="val_logloss")
    runs = [R("base", {"val_acc": 0.9, "val_logloss": 0.3}, 0),
            R("a", {"val_acc": 0.95, "val_logloss": 0.12}, 60),
            R("b", {"val_acc": 0.95, "val_logloss": 0.1}, 120)]
    assert sentences(runs, exp)[0] == (
        "Best: b, val_acc 0.95, +0.05 (5.56 %) over the baseline base (0.9). "
        "It ties with 1 other run and wins on val_logloss (0.1, lower is better).")


def test_one_run() -> None:
    assert sentences([R("only", {"val_acc": 0.7}, 0)], ACC) == [
        "Only one run has validation accuracy so far: only, 0.7."]


def test_no_primary_metric() -> None:
    runs = [R("a", {"epoch": 3}, 0), R("b", {}, 1)]
    assert sentences(runs, Experiment("e")) == [
        "2 runs, but no metric to rank them by: name one with set_experiment(primary_metric=...)."]


def test_unknown_goal() -> None:
    exp = Experiment("e", primary_metric="quality")
    runs = [R("a", {"quality": 3}, 0), R("b", {"quality": 4}, 1)]
    assert sentences(runs, exp) == [
        '2 runs, not ranked: is a higher or a lower quality better? Say so with '
        'set_experiment(goal="max") or goal="min".']


def test_all_runs_failed() -> None:
    runs = [R("a", {}, 0, status=FAILED), R("b", {"val_acc": 0.5}, 1, status=FAILED)]
    assert sentences(runs, ACC) == [
        "All 2 runs failed, so there is no result yet: each run's page shows its error."]


def test_nan_best() -> None:
    runs = [R("a", {"val_acc": math.nan}, 0), R("b", {"val_acc": math.inf}, 1)]
    assert sentences(runs, ACC) == [
        "No run has a usable validation accuracy yet: every value logged is NaN or infinite."]


def test_running_and_failed_runs() -> None:
    runs = [R("base", {"val_acc": 0.8}, 0), R("new", {"val_acc": 0.85}, 60),
            R("live", {"val_acc": 0.82}, 120, status=RUNNING),
            R("broken", {}, 180, status=FAILED)]
    assert sentences(runs, ACC) == [
        "Best: new, validation accuracy 0.85, +0.05 (6.25 %) over the baseline base (0.8).",
        "Last improvement: one run ago, 1 minute before the latest run.",
        "1 run failed and 1 is still running (or stopped without saying so).",
    ]
    assert sentences(runs[:3], ACC)[2] == \
        "1 run is still running (or stopped without saying so)."


def test_no_runs() -> None:
    assert sentences([], ACC) == [
        "No runs yet. Runs logged with this experiment name will appear here."]
