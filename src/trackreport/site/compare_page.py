"""The compare page (``compare/index.html?runs=a,b``): what differs, and did it matter?"""

from __future__ import annotations

from . import format as fmt
from .common import SiteContext
from .notes import json_script
from .pages import ComparePage, Link
from .summaries import RunSummary
from .urls import relative


def compare_page(ctx: SiteContext, summaries: list[RunSummary], experiments: list[str],
                 baselines: set[str]) -> ComparePage:
    """The compare page with the index of every run (its data scripts load the rest)."""
    path = "compare/index.html"
    counts: dict[str, int] = {}
    for r in summaries:
        counts[r.experiment] = counts.get(r.experiment, 0) + 1
    index = {
        r.run_id: {"name": r.name, "experiment": r.experiment,
                   "url": relative(r.page, path),
                   "data": relative(f"runs/{r.slug}/data.js", path),
                   **({"baseline": True} if r.run_id in baselines else {})}
        for r in summaries
    }
    return ComparePage(
        **ctx.base("compare.html", "compare", path, "Compare runs", "Compare runs",
                   [("All experiments", "index.html"), ("Compare runs", "")],
                   extra_scripts=["assets/compare.js"]),
        runs_index=json_script(index), run_count=len(index),
        experiments=[Link(n, relative(ctx.exp_page(n), path)) for n in experiments],
        run_counts=[fmt.plural(counts.get(n, 0), "run") for n in experiments],
    )
