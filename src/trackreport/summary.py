"""``trackreport summary``: a GitHub-flavoured Markdown report for CI job summaries and PRs.

The best run of each experiment, then per experiment the headline sentences of
the site, and a table of the newest runs against the baseline: the primary
metric first, then the other metrics, each difference signed and marked better
or worse by the metric's goal. Ranking, goals, the baseline and the sentences
come from ``site/ranking.py`` and ``site/story.py``, numbers from
``site/format.py``, so the summary and the site always agree. Charts are the
site's Vega-Lite specs rendered to PNG or SVG files by vl-convert.

Every user string is escaped for Markdown (:func:`md`): a run name cannot
open a link, an image, a table cell or raw HTML, nor mention anyone.
"""

from __future__ import annotations

import math
import os
import posixpath
import string
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from . import display as fmt
from .errors import TrackreportError
from .reader import iter_runs, read_experiments, read_run
from .records import Experiment, Run
from .site.ranking import find_baseline, is_true, rank
from .site.ranking import primary_metric as choose_primary
from .site.story import MetricInfo, headline
from .site.urls import slugify
from .store import Store

DEFAULT_LIMIT = 10
"""Newest runs per experiment in the table."""
MAX_METRICS = 6
"""Metric columns per table (the primary metric first)."""
IMAGE_FORMATS = ("png", "svg")
CHART_POINTS = 500

_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_PUNCTUATION = frozenset(string.punctuation) - set(_ENTITIES)


class SummaryError(TrackreportError):
    """A summary cannot be made as asked (unknown experiment or baseline, bad option)."""


def md(text: object) -> str:
    """``text`` as inert Markdown: ``& < >`` as entities, ASCII punctuation backslash-escaped
    (``|`` as ``\\|``, so a table cell stays one cell), line breaks and other control
    characters as spaces, bidirectional controls as U+FFFD."""
    out = []
    for ch in str(text):
        if ch in _ENTITIES:
            out.append(_ENTITIES[ch])
        elif ch in _PUNCTUATION:
            out.append("\\" + ch)
        elif ch < " " or ch == "\x7f" or ch in "\u2028\u2029\x85":
            out.append(" ")
        elif ch in fmt.BIDI_CONTROLS:
            out.append("\ufffd")
        else:
            out.append(ch)
    return "".join(out)


@dataclass
class SummaryRun:
    """What the summary keeps of one run: identity, status, tags and last values."""

    run_id: str
    name: str
    experiment: str
    status: str
    start: float | None
    tags: dict[str, str]
    last: dict[str, float] = field(default_factory=dict)

    def value(self, key: str | None) -> float | None:
        """The last value of metric ``key`` when finite, else None."""
        value = self.last.get(key) if key is not None else None
        return value if value is not None and math.isfinite(value) else None

    @property
    def stats(self) -> dict[str, float]:
        """Metrics logged (story.verdict asks whether a metric was logged at all)."""
        return self.last

    @classmethod
    def of(cls, run: Run) -> SummaryRun:
        """The summary record of ``run``."""
        return cls(run_id=run.run_id, name=run.name, experiment=run.experiment,
                   status=run.status, start=run.start_time, tags=dict(run.tags),
                   last={k: s.values[-1] for k, s in run.metrics.items() if s.values})


@dataclass
class Images:
    """Where chart images go and how the Markdown links them."""

    folder: Path
    """Folder the image files are written into (created if missing)."""
    link_base: str
    """Prefix of each image's link: a path relative to the Markdown file, or a URL."""
    format: str = "png"


@dataclass
class Baseline:
    """The baseline of one experiment and why it is the one."""

    run: SummaryRun | None
    reason: str


def images_for(folder: str | os.PathLike[str], markdown_file: str | os.PathLike[str] | None,
               url: str | None = None, image_format: str = "png") -> Images:
    """Images written to ``folder``, linked under ``url`` when given, else relative to
    the folder of ``markdown_file`` (the working directory when the Markdown goes to stdout)."""
    if image_format not in IMAGE_FORMATS:
        raise SummaryError(f"--image-format: {image_format!r} is not one of png, svg")
    folder = Path(folder)
    if url is not None:
        if not url.startswith(("https://", "http://")):
            raise SummaryError(f"--images-url: {url!r} is not an http(s) URL")
        return Images(folder, url if url.endswith("/") else url + "/", image_format)
    start = Path(markdown_file).resolve().parent if markdown_file else Path.cwd()
    rel = os.path.relpath(folder.resolve(), start).replace(os.sep, "/")
    base = "" if rel == "." else quote(rel, safe="/-_.~") + "/"
    return Images(folder, base, image_format)


def make_summary(store: Store, *, experiment: str | None = None, baseline: str | None = None,
                 limit: int = DEFAULT_LIMIT, images: Images | None = None,
                 site_url: str | None = None) -> str:
    """The Markdown summary of ``store``.

    Args:
        store: a readable store.
        experiment: only this experiment (default: every experiment with runs).
        baseline: a run id, a run name, or a tag key (the newest run whose tag is true);
            default: the newest run tagged ``baseline=true``, else the first run.
        limit: newest runs per experiment in the table.
        images: where to write chart images; None for no charts.
        site_url: the published site; run names then link to their pages there.

    Raises:
        SummaryError: unknown experiment, a ``baseline`` that names no run, a bad limit
            or site URL.
    """
    if limit < 1:
        raise SummaryError(f"--limit: {limit} is not a positive number of runs")
    if site_url is not None and not site_url.startswith(("https://", "http://")):
        raise SummaryError(f"--site-url: {site_url!r} is not an http(s) URL")
    settings = read_experiments(store)
    by_exp: dict[str, list[SummaryRun]] = {}
    for run in iter_runs(store, experiment=experiment):
        by_exp.setdefault(run.experiment, []).append(SummaryRun.of(run))
    if experiment is not None and experiment not in by_exp and experiment not in settings:
        known = ", ".join(repr(n) for n in sorted(set(by_exp) | set(settings))[:10]) or "none"
        raise SummaryError(f"--experiment: no experiment {experiment!r} in the store "
                           f"(experiments: {known})")
    names = [experiment] if experiment is not None else sorted(by_exp)
    baselines = {name: _baseline(by_exp.get(name, []), baseline) for name in names}
    if baseline is not None and not any(b.run is not None and b.reason.startswith("--baseline")
                                        for b in baselines.values()):
        raise SummaryError(f"--baseline: {baseline!r} is no run id, run name or tag key "
                           "(tag set to true) of any run" + (f" of {experiment!r}"
                                                               if experiment else ""))
    out = ["## Experiments", ""]
    if not names:
        return "\n".join([*out, "No runs in the store yet.", ""])
    sections = []
    overview = ["| Experiment | Runs | Best run | Primary metric | Best value | vs. baseline |",
                "|---|---:|---|---|---:|---|"]
    for name in names:
        runs = by_exp.get(name, [])
        exp = settings.get(name)
        report = _Experiment(store, name, exp, runs, baselines[name], site_url)
        overview.append(report.overview_row())
        sections.append(report.section(limit, images))
    return "\n".join([*out, *overview, "", *sections]).rstrip("\n") + "\n"


def _baseline(runs: list[SummaryRun], wanted: str | None) -> Baseline:
    chron = sorted(runs, key=lambda r: (r.start or 0.0, r.run_id))
    if wanted is not None:
        by_id = [r for r in chron if r.run_id == wanted]
        by_name = [r for r in chron if r.name == wanted]
        by_tag = [r for r in chron if is_true(r.tags.get(wanted))]
        if by_id:
            return Baseline(by_id[-1], "--baseline: this run id")
        if by_name:
            return Baseline(by_name[-1], "--baseline: the newest run of this name")
        if by_tag:
            return Baseline(by_tag[-1], f"--baseline: the newest run tagged {wanted}=true")
    found = find_baseline(runs)
    if found is None:
        return Baseline(None, "")
    if is_true(found.tags.get("baseline")):
        reason = "the newest run tagged baseline=true"
    else:
        reason = "the first run; tag a run baseline=true or pass --baseline to choose"
    if wanted is not None:
        reason += f" (--baseline {wanted} names no run of this experiment)"
    return Baseline(found, reason)


class _Experiment:
    def __init__(self, store: Store, name: str, exp: Experiment | None,
                 runs: list[SummaryRun], baseline: Baseline, site_url: str | None) -> None:
        self.store = store
        self.name = name
        self.exp = exp
        self.runs = runs
        self.baseline = baseline
        self.site_url = site_url
        key = choose_primary(exp, [k for r in runs for k in r.last])
        self.info = MetricInfo.of(key, exp) if key else None
        tie_key = exp.tie_breaker if exp is not None and exp.tie_breaker != key else None
        self.tie_info = MetricInfo.of(tie_key, exp) if tie_key else None
        self.ranking = rank(runs, key, self.info.goal.value if self.info else None, tie_key,
                            self.tie_info.goal.value if self.tie_info else None)

    def run_text(self, run: SummaryRun) -> str:
        text = md(run.name)
        if self.site_url:
            url = self.site_url.rstrip("/") + f"/runs/{quote(run.run_id, safe='')}/"
            text = f"[{text}]({url})"
        return text

    def overview_row(self) -> str:
        info, winner = self.info, self.ranking.winner
        best = self.run_text(winner) if winner is not None else "–"
        metric = md(_metric_name(info)) if info else "–"
        value = info.value(winner.value(info.key)) if info and winner is not None else "–"
        versus = "–"
        base = self.baseline.run
        if info and winner is not None and base is not None:
            versus = ("the baseline" if base is winner else
                      _difference(info, winner.value(info.key), base.value(info.key)))
        return (f"| {md(self.name)} | {fmt.integer(len(self.runs))} | {best} | {metric} | "
                f"{value} | {versus} |")

    def section(self, limit: int, images: Images | None) -> str:
        lines = [f"### {md(self.name)}", ""]
        base = self.baseline.run
        sentences = headline(self.runs, self.ranking, base, self.info, self.tie_info)
        lines += [" ".join(md(s) for s in sentences), ""]
        facts = []
        if self.info:
            words = self.info.goal.words or "goal unknown"
            guessed = " (goal guessed from its name)" if self.info.goal.source == "name" else ""
            facts.append(f"Ranked by **{md(_metric_name(self.info))}**: {words}{guessed}.")
        if base is not None:
            facts.append(f"Baseline: **{self.run_text(base)}** ({md(self.baseline.reason)}).")
        if facts:
            lines += [" ".join(facts), ""]
        if not self.runs:
            return "\n".join(lines)
        newest = sorted(self.runs, key=lambda r: (-(r.start or 0.0), r.run_id))
        shown = newest[:limit]
        if base is not None and base not in shown:
            shown.append(base)
        keys = self.metric_keys()
        lines += self.table(shown, keys)
        if len(self.runs) > limit:
            lines.append(f"The newest {fmt.plural(limit, 'run')} of "
                         f"{fmt.integer(len(self.runs))}"
                         + (", and the baseline." if base is not None and base not in
                            newest[:limit] else "."))
        hidden = len({k for r in self.runs for k in r.last}) - len(keys)
        if hidden > 0:
            lines.append(f"{fmt.plural(hidden, 'more metric')} not shown.")
        if len(self.runs) > limit or hidden > 0:
            lines.append("")
        if images is not None and self.info is not None:
            chart = self.chart(shown, images)
            if chart:
                lines += [chart, ""]
        return "\n".join(lines)

    def metric_keys(self) -> list[str]:
        primary = self.info.key if self.info else None
        keys = sorted({k for r in self.runs for k in r.last}, key=lambda k: (k != primary, k))
        return keys[:MAX_METRICS]

    def table(self, shown: Sequence[SummaryRun], keys: list[str]) -> list[str]:
        base = self.baseline.run
        infos = [MetricInfo.of(k, self.exp) for k in keys]
        head = ["Run", "Status", *(md(_metric_name(i)) for i in infos)]
        align = ["---", "---", *("---:" for _ in infos)]
        rows = ["| " + " | ".join(head) + " |", "|" + "|".join(align) + "|"]
        winner = self.ranking.winner
        for run in shown:
            marks = []
            if base is not None and run is base:
                marks.append("baseline")
            if winner is not None and run is winner:
                marks.append("best")
            name = self.run_text(run) + (f" ({', '.join(marks)})" if marks else "")
            cells = [name, run.status.lower()]
            for info in infos:
                cells.append(_cell(info, run, base))
            rows.append("| " + " | ".join(cells) + " |")
        return [*rows, ""]

    def chart(self, shown: Sequence[SummaryRun], images: Images) -> str:
        """Render the primary metric of ``shown`` to an image file; its Markdown line."""
        import vl_convert as vlc

        from .site import charts

        assert self.info is not None  # noqa: S101 - checked by the caller
        key = self.info.key
        having = [r for r in shown if key in r.last]
        if not having:
            return ""
        labels = charts.unique_labels([(r.run_id, r.name) for r in having])
        title = self.info.label
        series = {}
        for r in having:
            full = read_run(self.store, r.run_id).metrics[key]
            series[r.run_id] = charts.downsample(full.steps, full.values, CHART_POINTS)
        if all(len(s[0]) <= 1 for s in series.values()):
            bars = [charts.Bar(r.run_id, labels[r.run_id],
                               series[r.run_id][1][0] if series[r.run_id][1] else math.nan)
                    for r in having]
            spec = charts.bar_chart(title, key, bars, self.info.goal.value, show_title=True)
        else:
            lines = [charts.Line(r.run_id, labels[r.run_id], *series[r.run_id]) for r in having]
            spec = charts.metric_chart(title, key, lines, self.info.goal.value,
                                       show_title=True)
        if spec is None:
            return ""
        name = f"{slugify(self.name)}-{slugify(key)}.{images.format}"
        images.folder.mkdir(parents=True, exist_ok=True)
        if images.format == "svg":
            data = vlc.vegalite_to_svg(spec).encode("utf-8")
        else:
            data = vlc.vegalite_to_png(spec, scale=2)
        (images.folder / name).write_bytes(data)
        link = images.link_base + quote(name)
        if not images.link_base.startswith(("http://", "https://")):
            link = posixpath.normpath(link)
        return f"![{md(title)}]({link})"


def _metric_name(info: MetricInfo | None) -> str:
    if info is None:
        return ""
    return info.key if info.label == info.key else f"{info.label} ({info.key})"


def _difference(info: MetricInfo, value: float | None, base: float | None) -> str:
    """``+0.031 (+3.4 %) 🟢 better``, ``-0.020 (-2.1 %) 🔴 worse``, ``same``; ``–`` without
    values. Percent-formatted metrics differ in points (``+2.1 points``)."""
    if value is None or base is None:
        return "–"
    diff = value - base
    if diff == 0:
        return "same"
    text = fmt.signed(diff, info.percent)
    if not info.percent and base != 0:
        sign = "+" if diff > 0 else "-"
        text += f" ({sign}{fmt.relative(diff, base)})"
    goal = info.goal.value
    if goal is None:
        return text
    improved = diff > 0 if goal == "max" else diff < 0
    return f"{text} {'🟢 better' if improved else '🔴 worse'}"


def _cell(info: MetricInfo, run: SummaryRun, base: SummaryRun | None) -> str:
    """The run's value, and its difference to the baseline on the next line."""
    if info.key not in run.last:
        return "–"
    value = run.value(info.key)
    if value is None:
        return fmt.number(run.last[info.key])
    text = info.value(value)
    if base is None or run is base:
        return text
    diff = _difference(info, value, base.value(info.key))
    return text if diff == "–" else f"{text}<br>{diff}"
