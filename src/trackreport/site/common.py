"""What every page builder shares: ``SiteContext`` (settings, title, slugs, the
fields of every page) and the words for run statuses.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..records import FAILED, FINISHED, KILLED, RUNNING, Experiment
from . import format as fmt
from .pages import CSP, Link, RunLine
from .ranking import Ranking, rank
from .ranking import primary_metric as choose_primary
from .story import MetricInfo
from .summaries import RunSummary
from .urls import SlugRegistry, relative, root_of, slugify

DEFAULT_TITLE = "Experiments"
NO_FINITE = "no finite values"
STATUS_TEXT = {
    FINISHED: "Finished",
    FAILED: "Failed",
    RUNNING: "Running",
    KILLED: "Stopped",
}
STATUS_NOTE = {
    RUNNING: ("This run has not ended: it is still going, or its process stopped without "
              "saying so (for example the machine was switched off)."),
    KILLED: "This run was stopped before it finished (Ctrl-C or a stop signal).",
    FAILED: "This run ended with an error.",
}


@dataclass
class SiteContext:
    """The site-wide inputs of every page: experiment settings, title, version, slugs."""

    settings: dict[str, Experiment]
    title: str = DEFAULT_TITLE
    version: str = ""
    last_event: float | None = None
    exp_slug: SlugRegistry = field(default_factory=lambda: SlugRegistry(slugify))

    def base(self, template: str, kind: str, path: str, title: str, heading: str,
             crumbs: list[tuple[str, str]], extra_scripts: Iterable[str] = (),
             updated: tuple[str, float | None] | None = None) -> dict[str, Any]:
        """The fields every ``Page`` has, for the page at site path ``path``.

        ``updated``: (words, time) for the footer of a page about one run or
        experiment (its own last event, so other runs' events leave the page as
        it was); by default the store's last event.
        """
        scripts = ["assets/vendor/vega-bundle.js", "assets/charts.js", "assets/table.js",
                   *extra_scripts]
        words, when = updated or ("Store last updated", self.last_event)
        last = fmt.date_time(when)
        return dict(
            template=template, kind=kind, path=path,
            title=f"{title} · {self.title}" if title != self.title else title,
            heading=heading, root=root_of(path), site_title=self.title,
            home_url=relative("index.html", path),
            compare_url=relative("compare/index.html", path),
            stylesheets=[relative("assets/style.css", path)],
            scripts=[relative(s, path) for s in scripts],
            csp=CSP,
            breadcrumbs=[Link(text, relative(url, path) if url else "") for text, url in crumbs],
            last_event=last, last_event_words=words,
            generator=f"trackreport {self.version}",
        )

    def exp_page(self, name: str) -> str:
        """Site path of the page of experiment ``name``."""
        return f"experiments/{self.exp_slug(name)}/index.html"

    def primary_metric(self, name: str, runs: list[RunSummary]) -> str | None:
        """The metric experiment ``name`` is ranked by, given its runs."""
        return choose_primary(self.settings.get(name), [k for r in runs for k in r.stats])

    def ranking(self, name: str, runs: list[RunSummary]
                ) -> tuple[Ranking, MetricInfo | None, MetricInfo | None]:
        """The runs of experiment ``name`` ranked, with the primary and tie-breaker metrics."""
        exp = self.settings.get(name)
        key = self.primary_metric(name, runs)
        info = MetricInfo.of(key, exp) if key else None
        tie_key = exp.tie_breaker if exp is not None and exp.tie_breaker != key else None
        tie_info = MetricInfo.of(tie_key, exp) if tie_key else None
        ranking = rank(runs, key, info.goal.value if info else None, tie_key,
                       tie_info.goal.value if tie_info else None)
        return ranking, info, tie_info

    def run_line(self, r: RunSummary, path: str) -> RunLine:
        """A run in a short list: name, experiment, status, start, primary metric."""
        key = self.primary_metric(r.experiment, [r])
        value = r.value(key)
        info = MetricInfo.of(key, self.settings.get(r.experiment)) if key else None
        return RunLine(
            name=r.name, url=relative(r.page, path),
            experiment=Link(r.experiment, relative(self.exp_page(r.experiment), path)),
            status=r.status, status_text=STATUS_TEXT.get(r.status, r.status.title()),
            started=fmt.date_time(r.start), started_time=fmt.iso(r.start),
            sort=fmt.plain_number(r.start),
            metric=f"{info.label} {info.value(value)}" if info and value is not None else "")
