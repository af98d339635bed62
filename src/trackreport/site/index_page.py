"""The front page (``index.html``): what are we working on, and how is each effort going?"""

from __future__ import annotations

from . import format as fmt
from .common import SiteContext
from .pages import ExperimentCard, IndexPage, Link
from .summaries import RunSummary

LATEST_RUNS = 10


def index_page(ctx: SiteContext, cards: list[tuple[ExperimentCard, float]],
               summaries: list[RunSummary]) -> IndexPage:
    """The index: one card per experiment (latest activity first) and the newest runs."""
    path = "index.html"
    ordered_cards = [c for c, _ in sorted(cards, key=lambda c: (-c[1], c[0].name))]
    latest = sorted(summaries, key=lambda r: (-(r.start or 0.0), r.run_id))[:LATEST_RUNS]
    lines = [ctx.run_line(r, path) for r in latest]
    n_exp, n_runs = len(cards), len(summaries)
    summary = f"{fmt.plural(n_exp, 'experiment')}, {fmt.plural(n_runs, 'run')}."
    if not n_runs and not n_exp:
        summary = ("This store has no runs yet. Log one with trackreport.start_run() "
                   "and build again.")
    return IndexPage(
        **ctx.base("index.html", "index", path, ctx.title, ctx.title,
                   [("All experiments", "")]),
        summary=summary, experiments=ordered_cards, latest_runs=lines,
        last_activity=fmt.date_time(ctx.last_event), last_activity_time=fmt.iso(ctx.last_event),
        downloads=[Link("All runs as CSV", "data/runs.csv"),
                   Link("All runs as JSON", "data/runs.json")],
    )
