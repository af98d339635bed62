"""The compare page (``compare/index.html?runs=a,b``): what differs, and did it matter?"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import format as fmt
from .common import SiteContext
from .experiment_page import ExperimentView
from .notes import json_script
from .pages import ComparePage, Link
from .ranking import better
from .story import baseline_words
from .summaries import RunSummary
from .urls import relative


def compare_page(ctx: SiteContext, summaries: list[RunSummary], experiments: list[str],
                 views: Mapping[str, ExperimentView]) -> ComparePage:
    """The compare page with the index of every run (its data scripts load the rest).

    Beside each run's links, the index holds the words the page's headline
    needs, made here with the site's formatter: each experiment's ranking
    metric, goal and baseline, and each run's difference to that baseline.
    """
    path = "compare/index.html"
    counts: dict[str, int] = {}
    for r in summaries:
        counts[r.experiment] = counts.get(r.experiment, 0) + 1
    index: dict[str, dict[str, Any]] = {}
    for r in summaries:
        entry: dict[str, Any] = {"name": r.name, "experiment": r.experiment,
                                 "url": relative(r.page, path),
                                 "data": relative(f"runs/{r.slug}/data.js", path)}
        view = views.get(r.experiment)
        if view is not None and view.baseline is r:
            entry["baseline"] = True
        elif view is not None and view.info is not None and view.baseline is not None:
            value, base = r.value(view.info.key), view.baseline.value(view.info.key)
            goal = view.info.goal.value
            if value is not None and base is not None and value != base and goal:
                # "11.1 points better than": the size, and the word that says which way
                entry["vs_baseline"] = view.info.difference(value, base).lstrip("+-")
                entry["vs_word"] = "better" if better(value, base, goal) else "worse"
        index[r.run_id] = entry
    return ComparePage(
        **ctx.base("compare.html", "compare", path, "Compare runs", "Compare runs",
                   [("All experiments", "index.html"), ("Compare runs", "")],
                   extra_scripts=["assets/compare.js"]),
        runs_index=json_script(index), run_count=len(index),
        experiments_index=json_script({n: _experiment(views[n]) for n in experiments
                                       if n in views}),
        experiments=[Link(n, relative(ctx.exp_page(n), path)) for n in experiments],
        run_counts=[fmt.plural(counts.get(n, 0), "run") for n in experiments],
    )


def _experiment(view: ExperimentView) -> dict[str, Any]:
    """What the compare headline says of an experiment: its ranking metric, the metric
    that breaks ties, and its baseline."""
    info, base = view.info, view.baseline
    out: dict[str, Any] = {}
    if info is not None:
        out.update(metric=info.key, label=info.label, goal=info.goal.value)
    tie = view.tie_info
    if tie is not None and tie.goal.value:
        out["tie_breaker"] = {"metric": tie.key, "label": tie.label, "goal": tie.goal.value}
    if base is not None:
        out.update(baseline=base.run_id, baseline_words=baseline_words(base.name))
        value = base.value(info.key) if info is not None else None
        if info is not None and value is not None:
            out["baseline_value"] = info.value(value)
    return out
