"""Build the static site: ``build_site(store, out)``.

One pass over the runs, one run in memory at a time: each run's page, data
script and artifact copies are written as soon as it is read, and only a
small summary (params, metric statistics, tags, downsampled series) is kept
for the experiment pages, the index, the compare page and ``data/``.

Deterministic: the same store gives the same bytes whatever the store and
output paths, working directory, clock, time zone, locale and hash seed.
Pages hold absolute UTC times (``<time datetime=...>``); "3 days ago" is
computed by the reader's browser, so nothing relative to the build moment is
written into a page.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import shlex
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np

from ..errors import BuildError, RunNotFoundError
from ..frames import RUN_COLUMNS, run_row
from ..reader import parse_lines, read_experiments, read_run
from ..records import FAILED, FINISHED, KILLED, RUNNING, Experiment, Run
from ..redact import redact_text
from ..store import Store
from . import format as fmt
from .csvsafe import formula_safe
from .models import RegistryPages, run_infos
from .notes import first_paragraph, json_script, json_text, render_markdown
from .output import SITE_MARKER, staged_output
from .pages import (
    CSP,
    Artifact,
    BestRun,
    Cell,
    Chart,
    Column,
    ComparePage,
    ExperimentCard,
    ExperimentPage,
    Fact,
    IndexPage,
    KeyValue,
    Link,
    MetricRow,
    Note,
    Page,
    Row,
    RunLine,
    RunPage,
    RunsTable,
    Sparkline,
)
from .previews import ArtifactBuilder
from .ranking import (
    GOAL_WORDS,
    Ranking,
    better,
    find_baseline,
    metric_goal,
    rank,
)
from .ranking import primary_metric as choose_primary
from .story import MetricInfo, headline
from .themes import get_template, make_environment, resolve_theme, static_files
from .urls import SlugRegistry, relative, root_of, run_slug, slugify

_MARKER_TEXT = (
    "This folder is a site built by trackreport (trackreport build).\n"
    "A new build replaces everything in it.\n"
)
DEFAULT_TITLE = "Experiments"
KEPT_POINTS = 500
"""Points kept per run and metric for the experiment charts while the build runs."""
COMPARE_POINTS = 300
"""Points per series in a run's data script (compare page)."""
CHART_RUNS = 30
"""At most this many runs are overlaid in one experiment chart (the best ones)."""
CHART_POINT_BUDGET = 12_000
"""About this many points per experiment chart, shared by its runs."""
LATEST_RUNS = 10
BIG_TABLE_COLUMNS = 50
BIG_TABLE_ROWS = 200
"""Past this many columns or rows a runs table gets fixed column widths (fast layout)."""
PARALLEL_PARAMS = 12

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
NO_FINITE = "no finite values"


_PARENT = re.compile(rb'"parent_run_id":\s*"([0-9A-Za-z_-]{1,128})"')


@dataclass
class BuildResult:
    """What ``build_site`` made."""

    experiments: int
    runs: int
    pages: int
    seconds: float
    index_path: Path

    def __str__(self) -> str:
        return (f"Built {fmt.plural(self.experiments, 'experiment')}, "
                f"{fmt.plural(self.runs, 'run')}, {fmt.plural(self.pages, 'page')} "
                f"in {self.seconds:.1f} s -> {self.index_path}")


# goals and words ---------------------------------------------------------------


def _finite(value: Any) -> bool:
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


# what is kept of each run ---------------------------------------------------------


@dataclass
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


def _stats(steps: list[int], values: list[float]) -> MetricStats:
    array = np.asarray(values, dtype=np.float64)
    real = array[~np.isnan(array)]
    low = float(real.min()) if real.size else math.nan
    high = float(real.max()) if real.size else math.nan
    return MetricStats(last=float(array[-1]), min=low, max=high, count=int(array.size),
                       last_step=int(steps[-1]))


def _downsample(steps: Any, values: Any, n: int) -> tuple[list[int], list[float]]:
    if len(steps) <= n:
        return list(steps), list(values)
    from . import charts

    out_steps, out_values = charts.downsample(steps, values, n)
    return list(out_steps), list(out_values)


# writing ------------------------------------------------------------------------------


class SiteWriter:
    """Writes files under the output folder, never outside it, never one path twice."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._seen: dict[str, str] = {}

    def write(self, rel: str, data: bytes | str) -> None:
        """Write ``data`` at site path ``rel`` (POSIX, relative); refuse a second write."""
        if isinstance(data, str):
            data = data.encode("utf-8")
        parts = rel.split("/")
        if (not rel or rel.startswith("/") or "\\" in rel or "\x00" in rel
                or any(p in ("", ".", "..") for p in parts)):
            raise BuildError(f"refusing to write {rel!r}: not a plain path inside the site")
        key = rel.lower()  # also distinct on case-insensitive disks
        if key in self._seen:
            raise BuildError(
                f"two files of the site would be written to {rel!r} "
                f"(first {self._seen[key]!r}); this is a bug in the name mapping"
            )
        self._seen[key] = rel
        path = self.root.joinpath(*parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "xb") as fh:  # exclusive: never through an existing file or link
            fh.write(data)

    @property
    def count(self) -> int:
        """Number of files written."""
        return len(self._seen)


def store_last_event(store: Store) -> float | None:
    """The latest event time in the store, from the tail of every events file."""
    latest: float | None = None
    files = list(store.experiment_event_files())
    for run_id in store.run_ids():
        files.extend(store.run_event_files(run_id))
    for rel in files:
        try:
            tail, length = store.storage.read_tail(rel, 65536)
        except (OSError, ValueError):
            continue
        if length > len(tail):
            tail = tail[tail.find(b"\n") + 1:]
        if not tail.endswith(b"\n"):
            tail = tail[: tail.rfind(b"\n") + 1]
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parsed = parse_lines(tail, rel)
        for event in parsed:
            t = event.get("time")
            if _finite(t) and (latest is None or t > latest):
                latest = float(t)
    return latest


def source_date_epoch() -> float | None:
    """``SOURCE_DATE_EPOCH`` as Unix seconds, when set to a number."""
    value = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not value:
        return None
    try:
        return float(int(value))
    except ValueError:
        raise BuildError(f"SOURCE_DATE_EPOCH must be whole Unix seconds, got {value!r}") from None


# the builder ----------------------------------------------------------------------------


def build_site(store: str | os.PathLike[str] | Store, out: str | os.PathLike[str] = "site",
               theme: str | os.PathLike[str] | None = None, title: str | None = None,
               progress: Callable[[int, int], None] | None = None) -> BuildResult:
    """Build the static site of ``store`` into the folder ``out``.

    Args:
        store: the store folder (or a Store).
        out: output folder; created if missing. The site is built in a folder
            beside it and replaces a previous trackreport site there only when
            complete (a failed build leaves the old site); any other non-empty
            folder is refused.
        theme: ``"default"``, or a theme folder overriding some default templates
            and static files.
        title: the site title (default "Experiments").
        progress: called as ``progress(done, total)`` after each run.

    Raises:
        BuildError: ``out`` is, is inside, or contains the store; ``out`` is a
            non-empty folder that is not a previous build; ``out`` cannot be
            written; unknown theme.
        StoreFormatError: ``store`` is not a trackreport store.
    """
    started = time.perf_counter()
    st = store if isinstance(store, Store) else Store(store)
    st.check_format()
    resolved_theme = resolve_theme(theme)
    with staged_output(st, Path(out)) as staging:
        builder = _Builder(st, staging, resolved_theme, title or DEFAULT_TITLE, progress)
        builder.build()
    index = Path(out) / "index.html"
    return BuildResult(experiments=builder.experiment_count, runs=len(builder.summaries),
                       pages=builder.pages, seconds=time.perf_counter() - started,
                       index_path=index)


class _Builder:
    def __init__(self, store: Store, out: Path, theme: Any, title: str,
                 progress: Callable[[int, int], None] | None) -> None:
        from .. import __version__

        self.store = store
        self.out = out
        self.theme = theme
        self.title = title
        self.progress = progress
        self.env = make_environment(theme)
        self.writer = SiteWriter(out)
        self.version = __version__
        self.summaries: list[RunSummary] = []
        self.children: dict[str, list[RunSummary]] = {}
        self.baselines: set[str] = set()
        self.pages = 0
        self.experiment_count = 0
        self.settings = read_experiments(store)
        self.exp_slug = SlugRegistry(slugify)
        self.last_event = store_last_event(store)
        epoch = source_date_epoch()
        self.built_at = epoch

    # helpers ------------------------------------------------------------------------
    def render(self, page: Page) -> None:
        template = get_template(self.env, page.template)
        self.writer.write(page.path, template.render(page=page))
        self.pages += 1

    def base(self, template: str, kind: str, path: str, title: str, heading: str,
             crumbs: list[tuple[str, str]], extra_scripts: Iterable[str] = ()) -> dict[str, Any]:
        scripts = ["assets/vendor/vega-bundle.js", "assets/charts.js", "assets/table.js",
                   *extra_scripts]
        last = fmt.date_time(self.last_event)
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
            last_event=last,
            generator=f"trackreport {self.version}",
        )

    def exp_page(self, name: str) -> str:
        return f"experiments/{self.exp_slug(name)}/index.html"

    # the build --------------------------------------------------------------------
    def build(self) -> None:
        self.writer.write(SITE_MARKER, _MARKER_TEXT)
        for name in sorted(self.settings):
            self.exp_slug(name)
        run_ids = self.store.run_ids()
        known = set(run_ids)
        self.registry = RegistryPages(
            self.store, self.base, self.render,
            lambda rid: f"runs/{run_slug(rid)}/index.html" if rid in known else None,
            self.out)
        for rel, path in static_files(self.theme):
            self.writer.write(f"assets/{rel}", path.read_bytes())
        try:
            from .assets import write_assets
        except ImportError:
            write_assets = None
        if write_assets is not None:
            write_assets(self.out / "assets")
        total = len(run_ids)
        # Newest first: nested runs start after their parent, so a parent's page is
        # written once its children are known (it lists them).
        done = 0
        parents = self.parent_ids(run_ids)
        ordered_ids = [r for r in reversed(run_ids) if r not in parents] + \
            [r for r in reversed(run_ids) if r in parents]
        for run_id in ordered_ids:
            try:
                run = read_run(self.store, run_id)
            except RunNotFoundError:
                continue
            summary = self.summarize(run)
            if summary.parent_run_id and summary.parent_run_id != summary.run_id:
                self.children.setdefault(summary.parent_run_id, []).append(summary)
            self.run_page(run, summary)
            self.data_script(run, summary)
            self.summaries.append(summary)
            del run
            done += 1
            if self.progress is not None:
                self.progress(done, total)
        position = {run_id: i for i, run_id in enumerate(run_ids)}
        self.summaries.sort(key=lambda s: position.get(s.run_id, len(position)))
        by_experiment: dict[str, list[RunSummary]] = {name: [] for name in self.settings}
        for summary in self.summaries:
            by_experiment.setdefault(summary.experiment, []).append(summary)
        self.experiment_count = len(by_experiment)
        cards = []
        for name in sorted(by_experiment):
            self.exp_slug(name)
        for name in sorted(by_experiment):
            cards.append(self.experiment_page(name, by_experiment[name]))
        self.index_page(cards)
        self.compare_page(sorted(by_experiment))
        self.registry.build(run_infos(
            self.summaries, self.primary_metric,
            lambda key, e: metric_goal(key, self.settings.get(e)),
            lambda key, e: MetricInfo.of(key, self.settings.get(e))))
        self.data_files()

    def parent_ids(self, run_ids: list[str]) -> set[str]:
        """Run ids named as a parent at the start of some run's events (first 64 kB read)."""
        found: set[str] = set()
        for run_id in run_ids:
            for rel in self.store.run_event_files(run_id):
                try:
                    head = self.store.storage.read_bytes(rel, 65536)
                except OSError:
                    continue
                found.update(m.decode("ascii", "replace")
                             for m in _PARENT.findall(head))
        return found

    # one run ------------------------------------------------------------------------
    def summarize(self, run: Run) -> RunSummary:
        git = run.context.get("git") if isinstance(run.context.get("git"), dict) else {}
        commit = run.git_commit if isinstance(run.git_commit, str) else None
        remote = git.get("remote") or git.get("remote_url") or git.get("url")
        stats: dict[str, MetricStats] = {}
        series: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for key, s in run.metrics.items():
            if not s.values:
                continue
            stats[key] = _stats(s.steps, s.values)
            steps, values = _downsample(s.steps, s.values, KEPT_POINTS)
            series[key] = (np.asarray(steps, dtype=np.int64), np.asarray(values, dtype=np.float64))
        self.exp_slug(run.experiment)
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

    def run_page(self, run: Run, summary: RunSummary) -> None:
        path = summary.page
        exp = self.settings.get(run.experiment)
        primary_key = self.primary_metric(run.experiment, [summary])
        crumbs = [("All experiments", "index.html"), (run.experiment, self.exp_page(run.experiment)),
                  (run.name, "")]
        chart_counter = iter(range(1, 1_000_000))

        def chart_id() -> str:
            return f"chart-{next(chart_counter)}"

        # who, when, how long, which commit
        parts = []
        if summary.user:
            parts.append(f"by {summary.user}")
        if run.host:
            parts.append(f"on {run.host}")
        if run.start_time is not None:
            parts.append(f"started {fmt.date_time(run.start_time)}")
        if run.duration is not None:
            parts.append(f"took {fmt.duration(run.duration)}")
        elif run.status == RUNNING and run.last_event_time is not None:
            parts.append(f"last heard from {fmt.date_time(run.last_event_time)}")
        if summary.commit:
            parts.append(f"commit {summary.commit[:7]}")
        facts = [
            Fact("Run id", run.run_id),
            Fact("Status", STATUS_TEXT.get(run.status, run.status.title())),
            Fact("Started", fmt.date_time(run.start_time), time=fmt.iso(run.start_time)),
        ]
        if run.end_time is not None:
            facts.append(Fact("Ended", fmt.date_time(run.end_time)))
        if run.duration is not None:
            facts.append(Fact("Duration", fmt.duration(run.duration)))
        if run.status == RUNNING and run.last_event_time is not None:
            facts.append(Fact("Last event", fmt.date_time(run.last_event_time),
                              time=fmt.iso(run.last_event_time)))
        if summary.user:
            facts.append(Fact("User", summary.user))
        if run.host:
            facts.append(Fact("Host", str(run.host)))
        if run.parent_run_id:
            facts.append(Fact("Part of run", run.parent_run_id,
                              url=relative(f"runs/{run.parent_run_id}/index.html", path)
                              if self.store.storage.exists(self.store.run_dir(run.parent_run_id))
                              else ""))
        git = run.context.get("git") if isinstance(run.context.get("git"), dict) else {}
        git_facts = []
        if summary.commit:
            git_facts.append(Fact("Commit", summary.commit[:12], url=summary.commit_url))
        if git.get("branch"):
            git_facts.append(Fact("Branch", str(git["branch"])))
        if "dirty" in git:
            git_facts.append(Fact("Uncommitted changes",
                                  "yes: the code differed from the commit" if git["dirty"]
                                  else "none"))
        remote = git.get("remote") or git.get("remote_url")
        if remote:
            git_facts.append(Fact("Remote", str(remote)))
        # metrics
        metric_rows = []
        charts_list = []
        primary: list[Fact] = []
        from . import charts as charts_mod

        keys = sorted(run.metrics, key=lambda k: (k != primary_key, k))
        for key in keys:
            s = run.metrics[key]
            if not s.values:
                continue
            st = summary.stats[key]
            goal = metric_goal(key, exp)
            note = ""
            if math.isnan(st.min):
                note = "every value is NaN (not a number)"
            elif math.isnan(st.last):
                note = "the last value is NaN"
            no_finite = math.isnan(st.min)
            metric_rows.append(MetricRow(
                key=key, last=NO_FINITE if no_finite else fmt.number(st.last),
                min="" if no_finite else fmt.number(st.min),
                max="" if no_finite else fmt.number(st.max), steps=fmt.integer(st.count),
                last_step=fmt.integer(st.last_step), goal_words=GOAL_WORDS.get(goal or "", ""),
                primary=key == primary_key, note=note))
            if key == primary_key:
                label = MetricInfo.of(key, exp).label
                primary.append(Fact(label, fmt.number(st.last),
                                    detail=GOAL_WORDS.get(goal or "", "")))
                if st.count > 1 and goal:
                    best = st.max if goal == "max" else st.min
                    primary.append(Fact(f"best {label} during the run", fmt.number(best),
                                        detail=f"over {fmt.plural(st.count, 'step')}"))
            finite = st.count if not note else sum(1 for v in s.values if math.isfinite(v))
            if finite < 2:  # one point makes no line: the table says it all
                continue
            spec = charts_mod.metric_chart(
                key, key, [charts_mod.Line(run.run_id, run.name, s.steps, s.values)], goal)
            charts_list.append(Chart(id=chart_id(), title=key, spec=json_script(spec),
                                     note=note))
        # artifacts
        artifacts = ArtifactBuilder(self.store, run.run_id, f"runs/{summary.slug}", path,
                                    self.writer.write, relative, chart_id)
        source_path = run.context.get("source")
        source_entry: Artifact | None = None
        source_record = None
        if isinstance(source_path, str):
            source_record = next((a for a in run.artifacts if a.path == source_path), None)
        tree = artifacts.tree(run.artifacts, skip={source_path} if source_record else None)
        if source_record is not None:
            source_entry = artifacts.entry(source_record, source=True)
        total = sum(a.size for a in run.artifacts)
        # environment
        environment, packages, command = _environment(run.context)
        page = RunPage(
            **self.base("run.html", "run", path, run.name, run.name, crumbs),
            run_id=run.run_id, name=run.name, status=run.status,
            status_text=STATUS_TEXT.get(run.status, run.status.title()),
            status_note=STATUS_NOTE.get(run.status, ""),
            # scrubbed again: stores written before errors were scrubbed at run end
            error=redact_text(str(run.error)) if run.error else "",
            experiment=Link(run.experiment, relative(self.exp_page(run.experiment), path)),
            summary=" · ".join(parts), primary=primary, facts=facts, git=git_facts,
            command=command,
            params=[KeyValue(k, fmt.param(v), fmt.plain_number(v)) for k, v in
                    sorted(run.params.items())],
            metrics=metric_rows, charts=charts_list,
            tags=[KeyValue(k, v) for k, v in sorted(run.tags.items())],
            notes=[Note(render_markdown(n.markdown), fmt.date_time(n.time)) for n in run.notes],
            artifacts=tree, artifacts_size=fmt.size(total) if run.artifacts else "",
            source=source_entry, environment=environment, packages=packages,
            children=self.child_lines(summary, path),
            models=self.registry.run_models(run.run_id, run.models, path),
            problems=_problems(run),
        )
        self.render(page)

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

    def child_lines(self, parent: RunSummary, path: str) -> list[RunLine]:
        kids = sorted(self.children.get(parent.run_id, []), key=lambda r: (r.start or 0.0,
                                                                           r.run_id))
        return [self.run_line(r, path) for r in kids]

    def data_script(self, run: Run, summary: RunSummary) -> None:
        from . import charts as charts_mod

        exp = self.settings.get(run.experiment)
        series = {}
        metrics = {}
        for key, s in run.metrics.items():
            if not s.values:
                continue
            steps, values = _downsample(s.steps, s.values, COMPARE_POINTS)
            # Drawn only: 6 significant digits (the metrics above keep every digit).
            series[key] = {"steps": steps, "values": charts_mod.round_significant(values)}
            st = summary.stats[key]
            metrics[key] = {"last": st.last, "min": st.min, "max": st.max, "steps": st.count,
                            "goal": metric_goal(key, exp)}
        data = {
            "run_id": run.run_id, "name": run.name, "experiment": run.experiment,
            "status": run.status,
            "url": relative(summary.page, "compare/index.html"),
            "params": {k: v for k, v in run.params.items()},
            "metrics": metrics, "series": series,
            "primary_metric": exp.primary_metric if exp else None,
        }
        key = json.dumps(run.run_id).replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
        text = (f"(window.trackreportRuns = window.trackreportRuns || {{}})[{key}] = "
                f"{json_text(data)};\n")
        self.writer.write(f"runs/{summary.slug}/data.js", text)

    # experiments ----------------------------------------------------------------------
    def primary_metric(self, name: str, runs: list[RunSummary]) -> str | None:
        return choose_primary(self.settings.get(name), [k for r in runs for k in r.stats])

    def ranking(self, name: str, runs: list[RunSummary]) -> tuple[Ranking, MetricInfo | None,
                                                                 MetricInfo | None]:
        """The runs of experiment ``name`` ranked, with the primary and tie-breaker metrics."""
        exp = self.settings.get(name)
        key = self.primary_metric(name, runs)
        info = MetricInfo.of(key, exp) if key else None
        tie_key = exp.tie_breaker if exp is not None and exp.tie_breaker != key else None
        tie_info = MetricInfo.of(tie_key, exp) if tie_key else None
        ranking = rank(runs, key, info.goal.value if info else None, tie_key,
                       tie_info.goal.value if tie_info else None)
        return ranking, info, tie_info

    def experiment_page(self, name: str, runs: list[RunSummary]) -> ExperimentCard:
        exp = self.settings.get(name) or Experiment(name)
        path = self.exp_page(name)
        ranking, info, tie_info = self.ranking(name, runs)
        key = ranking.key
        goal = ranking.goal
        ordered = ranking.ordered
        baseline = find_baseline(runs)
        if baseline is not None:
            self.baselines.add(baseline.run_id)
        winner = ranking.winner
        chron = sorted(runs, key=lambda r: (r.start or 0.0, r.run_id))
        last_activity = max((r.end or r.start or 0.0 for r in runs), default=None)
        counts = _status_counts(runs)
        sentences = headline(runs, ranking, baseline, info, tie_info)
        facts = [Fact("Runs", fmt.integer(len(runs)), detail=f"({counts})" if counts else "")]
        if key and info:
            source = {"set_experiment": "", "metrics": "", "name": " (goal guessed from its name)",
                      "unknown": ""}[info.goal.source]
            words = info.goal.words or "goal unknown: set_experiment(goal=\"max\") or \"min\""
            shown = key if info.label == key else f"{info.label} ({key})"
            facts.append(Fact("Ranked by", shown, detail=f"{words}{source}"))
            if tie_info:
                facts.append(Fact("Ties broken by", tie_info.label if tie_info.label == tie_info.key
                                  else f"{tie_info.label} ({tie_info.key})",
                                  detail=tie_info.goal.words))
        if baseline is not None:
            facts.append(Fact("Baseline", baseline.name, url=relative(baseline.page, path),
                              detail="(tagged baseline=true)" if baseline.tags.get("baseline")
                              else "(the first run; tag a run baseline=true to choose)"))
        if last_activity:
            facts.append(Fact("Last activity", fmt.date_time(last_activity),
                              time=fmt.iso(last_activity)))
        best_metrics = []
        if winner:
            for k in sorted(winner.stats):
                if k != key:
                    st = winner.stats[k]
                    label = MetricInfo.of(k, exp).label
                    best_metrics.append(Fact(label, NO_FINITE if math.isnan(st.min)
                                             else fmt.number(st.last)))
        counter = iter(range(1, 1_000_000))
        charts_list, bar_list, no_chart = self.experiment_charts(ordered, key, exp, counter)
        parallel = self.parallel(ordered, key, goal, counter)
        self.write_experiment_data(name, runs)
        slug = self.exp_slug(name)
        ranked_ids = [r.run_id for r in ranking.ranked]
        compare_top = [Link(f"Compare the top {n}",
                            relative("compare/index.html", path) + "?runs=" + ",".join(
                                quote(i, safe="") for i in ranked_ids[:n]))
                       for n in (2, 5) if len(ranked_ids) >= n]
        meanings = []
        for k in sorted({k for r in runs for k in r.stats}, key=lambda k: (k != key, k)):
            m = MetricInfo.of(k, exp)
            if m.label != k or m.description:
                words = "; ".join(w for w in (m.description, m.goal.words) if w)
                meanings.append(Fact(m.label, k, detail=words))
        page = ExperimentPage(
            **self.base("experiment.html", "experiment", path, name, name,
                        [("All experiments", "index.html"), (name, "")]),
            name=name, description=render_markdown(exp.description) if exp.description
            else render_markdown(""),
            highlights=sentences, facts=facts,
            best=self.best_run(winner, info, baseline, path) if winner else None,
            best_metrics=best_metrics[:8],
            table=self.runs_table(ordered, exp, ranking, baseline, path) if runs else None,
            charts=charts_list, bar_charts=bar_list,
            no_chart_text=_no_chart_text(no_chart), parallel=parallel,
            downloads=[Link("Runs as CSV", relative(f"experiments/{slug}/runs.csv", path)),
                       Link("Runs as JSON", relative(f"experiments/{slug}/runs.json", path))]
            if runs else [],
            metric_meanings=meanings, compare_top=compare_top,
            ships=self.registry.ships(name, path, self.summaries),
        )
        self.render(page)
        spark, trend = self.sparkline(chron, info)
        return ExperimentCard(
            name=name, url=relative(path, "index.html"),
            description=first_paragraph(exp.description),
            runs_text=fmt.plural(len(runs), "run"),
            last_run=fmt.date_time(last_activity) if last_activity else "",
            last_run_time=fmt.iso(last_activity) if last_activity else "",
            status_text=counts, headline=sentences[:2],
            best=self.best_run(winner, info, baseline, "index.html") if winner else None,
            sparkline=spark, trend_text=trend,
            ships=self.registry.ships(name, "index.html", self.summaries),
        ), last_activity or 0.0

    def best_run(self, r: RunSummary, info: MetricInfo | None, baseline: RunSummary | None,
                 page: str) -> BestRun:
        value = r.value(info.key) if info else None
        diff = ""
        if info and baseline is not None and value is not None:
            base = baseline.value(info.key)
            if baseline is r:
                diff = "the baseline"
            elif base is not None:
                diff = (f"{info.difference(value, base)} over the baseline {baseline.name} "
                        f"({info.value(base)})")
        return BestRun(name=r.name, url=relative(r.page, page), metric=info.key if info else "",
                       label=info.label if info else "",
                       value=info.value(value) if info else "",
                       goal_words=info.goal.words if info else "",
                       difference=diff, status=r.status, started=fmt.date_time(r.start),
                       started_time=fmt.iso(r.start))

    def sparkline(self, chron: list[RunSummary], info: MetricInfo | None
                  ) -> tuple[Sparkline | None, str]:
        if info is None or info.goal.value is None:
            return None, ""
        goal = info.goal.value
        points = [(r.start or 0.0, r.value(info.key)) for r in chron
                  if r.value(info.key) is not None]
        if not points:
            return None, ""
        best_so_far = []
        current: float | None = None
        for t, v in points:
            if current is None or better(v, current, goal):
                current = v
            best_so_far.append((t, current))
        first, last = best_so_far[0][1], best_so_far[-1][1]
        trend = (f"Best {info.label} so far went from {info.value(first)} to "
                 f"{info.value(last)} over {fmt.plural(len(points), 'run')}.")
        if first == last:
            trend = f"Best {info.label} unchanged since the first run: {info.value(last)}."
        if len(best_so_far) < 2:
            return None, ""
        width, height, pad = 160, 36, 3
        lo = min(v for _, v in best_so_far)
        hi = max(v for _, v in best_so_far)
        coords = []
        n = len(best_so_far)
        for i, (_, v) in enumerate(best_so_far):  # x: runs in the order they started
            x = pad + (width - 2 * pad) * i / (n - 1)
            y = pad + (height - 2 * pad) * (0.5 if hi == lo else (hi - v) / (hi - lo))
            coords.append((round(x, 1), round(y, 1)))
        # a step line: the best holds until a better run arrives
        stepped = [coords[0]]
        for (x, y) in coords[1:]:
            stepped.append((x, stepped[-1][1]))
            stepped.append((x, y))
        text = " ".join(f"{fmt.plain_number(x)},{fmt.plain_number(y)}" for x, y in stepped)
        lx, ly = coords[-1]
        return Sparkline(width=width, height=height, points=text, last_x=lx, last_y=ly,
                         label=trend), trend

    def runs_table(self, ordered: list[RunSummary], exp: Experiment, ranking: Ranking,
                   baseline: RunSummary | None, page: str) -> RunsTable:
        primary = ranking.key
        lead = [k for k in (primary, ranking.tie_breaker) if k]
        present = {r.run_id for r in ordered}
        children: dict[str, list[RunSummary]] = {}
        for r in ordered:
            if r.parent_run_id and r.parent_run_id in present and r.parent_run_id != r.run_id:
                children.setdefault(r.parent_run_id, []).append(r)
        grouped: list[RunSummary] = []
        placed: set[str] = set()

        def place(r: RunSummary) -> None:  # children right after their parent, ranked
            if r.run_id in placed:
                return
            placed.add(r.run_id)
            grouped.append(r)
            for kid in children.get(r.run_id, []):
                place(kid)

        for r in ordered:
            if r.parent_run_id not in children:
                place(r)
        for r in ordered:  # nesting cycles: keep every run
            place(r)
        param_keys = sorted({k for r in ordered for k in r.params})
        metric_keys = sorted({k for r in ordered for k in r.stats},
                             key=lambda k: (k not in lead, lead.index(k) if k in lead else 0, k))
        tag_keys = sorted({k for r in ordered for k in r.tags})
        infos = {k: MetricInfo.of(k, exp) for k in metric_keys}
        base_info = infos.get(primary) if primary else None
        base_value = baseline.value(primary) if baseline is not None and primary else None
        show_diff = base_info is not None and base_info.goal.value and base_value is not None
        columns = [Column("Status", "run", "text")]
        best_values: dict[str, float] = {}

        def metric_column(k: str) -> Column:
            m = infos[k]
            values = [r.stats[k].last for r in ordered if k in r.stats
                      and math.isfinite(r.stats[k].last)]
            if m.goal.value and values:
                best_values[k] = max(values) if m.goal.value == "max" else min(values)
            bits = [m.label if m.label != k else f"metric {k}"]
            if m.description:
                bits.append(m.description)
            bits.append("last value" + (f" ({m.goal.words})" if m.goal.words else ""))
            return Column(k, "metrics", "number", goal=m.goal.value or "", title=": ".join(bits))

        numeric_params = {
            k: all(fmt.is_number(r.params[k]) for r in ordered if k in r.params)
            for k in param_keys
        }
        for k in metric_keys[:len([k for k in lead if k in infos])]:
            columns.append(metric_column(k))
        if show_diff:
            assert baseline is not None and primary is not None  # noqa: S101
            columns.append(Column("vs baseline", "metrics", "number",
                                  goal=base_info.goal.value or "",
                                  title=f"{primary} minus the baseline {baseline.name}'s"))
        for k in metric_keys[len([k for k in lead if k in infos]):]:
            columns.append(metric_column(k))
        for k in metric_keys:
            columns.append(Column(f"{k} (min)", "metrics-minmax", "number", hidden=True,
                                  title=f"metric {k}: smallest value"))
            columns.append(Column(f"{k} (max)", "metrics-minmax", "number", hidden=True,
                                  title=f"metric {k}: largest value"))
        for k in param_keys:
            columns.append(Column(k, "params", "number" if numeric_params[k] else "text",
                                  title=f"param {k}"))
        for k in tag_keys:
            columns.append(Column(k, "tags", "text", title=f"tag {k}"))
        columns.extend([
            Column("Started", "run", "date", title="Start time, UTC"),
            Column("Duration", "run", "duration"),
            Column("User", "run", "text"),
            Column("Commit", "run", "text", title="git commit of the code"),
        ])
        n_lead = len([k for k in lead if k in infos])
        rows = []
        for r in grouped:
            cells = [Cell(STATUS_TEXT.get(r.status, r.status.title()), "run", None,
                          css=f"status status-{r.status.lower()}")]

            def metric_cell(k: str, r: RunSummary = r) -> Cell:
                st = r.stats.get(k)
                if st is None:
                    return Cell("", "metrics", None)
                if math.isnan(st.min):  # every value NaN: words, and sorted last
                    return Cell(NO_FINITE, "metrics", None, css="muted",
                                title="every logged value is NaN")
                return Cell(fmt.number(st.last), "metrics", fmt.plain_number(st.last) or None,
                            best=k in best_values and st.last == best_values[k])

            for k in metric_keys[:n_lead]:
                cells.append(metric_cell(k))
            if show_diff:
                v = r.value(primary)
                if r is baseline:
                    cells.append(Cell("baseline", "metrics", None, css="muted"))
                elif v is None:
                    cells.append(Cell("", "metrics", None))
                else:
                    diff = v - base_value
                    good = better(v, base_value, base_info.goal.value)
                    worse = better(base_value, v, base_info.goal.value)
                    mark = "▲ " if good else "▼ " if worse else ""
                    cells.append(Cell(mark + base_info.difference(v, base_value).split(" (")[0],
                                      "metrics", fmt.plain_number(diff) or None,
                                      css="better" if good else "worse" if worse else ""))
            for k in metric_keys[n_lead:]:
                cells.append(metric_cell(k))
            for k in metric_keys:
                st = r.stats.get(k)
                for v in ((st.min, st.max) if st and not math.isnan(st.min) else (None, None)):
                    cells.append(Cell(fmt.number(v) if v is not None else "", "metrics-minmax",
                                      fmt.plain_number(v) or None, hidden=True))
            for k in param_keys:
                if k in r.params:
                    v = r.params[k]
                    text = fmt.param(v)
                    short = text if len(text) <= 60 else text[:59] + "…"
                    cells.append(Cell(short, "params",
                                      fmt.plain_number(v) or None if numeric_params[k] else None,
                                      title=text if short != text else ""))
                else:
                    cells.append(Cell("", "params", None))
            for k in tag_keys:
                cells.append(Cell(r.tags.get(k, ""), "tags", None))
            cells.extend([
                Cell(fmt.date_time(r.start), "run", fmt.plain_number(r.start) or None,
                     time=fmt.iso(r.start)),
                Cell(fmt.duration(r.duration) if r.duration is not None
                     else ("running" if r.status == RUNNING else ""), "run",
                     fmt.plain_number(r.duration) or None),
                Cell(r.user or "", "run", None),
                Cell(r.commit[:7] if r.commit else "", "run", None, url=r.commit_url,
                     title=r.commit or "", css="mono"),
            ])
            parent = r.parent_run_id if r.parent_run_id in children else ""
            rows.append(Row(run_id=r.run_id, name=r.name, url=relative(r.page, page),
                            status=r.status, cells=cells, parent=parent or "",
                            children=len(children.get(r.run_id, [])),
                            baseline=r is baseline))
        caption = "Every run of this experiment"
        if primary and ranking.goal:
            caption += f", best {primary} first ({GOAL_WORDS[ranking.goal]})"
            if ranking.tie_breaker and ranking.tie_goal:
                caption += f", ties by {ranking.tie_breaker} ({GOAL_WORDS[ranking.tie_goal]})"
            caption += ", then newest."
        else:
            caption += ", newest first."
        if children:
            caption += " Child runs sit under their parent run."
        big = len(columns) + 1 > BIG_TABLE_COLUMNS or len(rows) > BIG_TABLE_ROWS
        return RunsTable(columns=columns, rows=rows,
                         compare_url=relative("compare/index.html", page), caption=caption,
                         fixed_layout=big)

    def experiment_charts(self, ordered: list[RunSummary], primary: str | None,
                          exp: Experiment, counter: Any
                          ) -> tuple[list[Chart], list[Chart], list[str]]:
        """(line charts over steps, bar charts of single values, metrics with no chart).

        A metric that no run logged at more than one step (a finite value each)
        gets a bar chart of its value by run instead of a line chart of dots.
        The primary metric comes first in its group.
        """
        from . import charts as charts_mod

        keys = sorted({k for r in ordered for k in r.series}, key=lambda k: (k != primary, k))
        shown_ids = {r.run_id for key in keys
                     for r in [r for r in ordered if key in r.series][:CHART_RUNS]}
        labels = _labels([r for r in ordered if r.run_id in shown_ids])
        domain = sorted(set(labels.values()))
        lines_out: list[Chart] = []
        bars_out: list[Chart] = []
        no_chart: list[str] = []
        for key in keys:
            having = [r for r in ordered if key in r.series]
            shown = having[:CHART_RUNS]
            goal = metric_goal(key, exp)
            label = MetricInfo.of(key, exp).label
            note = ""
            if len(having) > len(shown):
                note = (f"Showing the first {len(shown)} of {fmt.plural(len(having), 'run')} "
                        "in the table's order (best first).")
            finite = {r.run_id: r.series[key][1][np.isfinite(r.series[key][1])]
                      for r in having}
            if not any(v.size for v in finite.values()):
                no_chart.append(key)
                continue
            if all(v.size <= 1 for v in finite.values()):
                order = charts_mod.bar_order(key, goal)
                bars = [charts_mod.Bar(r.run_id, labels[r.run_id],
                                       float(finite[r.run_id][0]) if finite[r.run_id].size
                                       else math.nan)
                        for r in shown]
                spec = charts_mod.bar_chart(f"{label} by run", key, bars, goal, order=order,
                                            domain=domain)
                if spec is None:  # pragma: no cover - a finite value exists
                    continue
                first = "Lowest first" if order == "min" else "Highest first"
                words = GOAL_WORDS.get(goal or "", "")
                order_note = f"{first} ({words})." if words else f"{first}."
                missing = sum(1 for r in shown if not finite[r.run_id].size)
                if missing:
                    order_note += (f" {fmt.plural(missing, 'run')} without a finite value "
                                   "not shown.")
                drawn = len(shown) - missing
                bars_out.append(Chart(id=f"chart-{next(counter)}", title=f"{label} by run",
                                      spec=json_script(spec),
                                      note=" ".join(n for n in (order_note, note) if n),
                                      height=charts_mod.bar_chart_height(drawn)))
                continue
            once = [labels[r.run_id] for r in shown if finite[r.run_id].size == 1]
            if once:
                names = ", ".join(once[:3]) + (f" and {len(once) - 3} more" if len(once) > 3
                                               else "")
                verb = "has" if len(once) == 1 else "have"
                note = " ".join(n for n in (note, f"{names} {verb} one value only (no line to "
                                                  "draw): see the table.") if n)
            points = max(50, min(KEPT_POINTS, CHART_POINT_BUDGET // max(1, len(shown))))
            lines = []
            for r in shown:
                steps, values = r.series[key]
                s, v = _downsample(steps.tolist(), values.tolist(), points)
                lines.append(charts_mod.Line(r.run_id, labels[r.run_id], s, v))
            spec = charts_mod.metric_chart(label, key, lines, goal, domain=domain)
            lines_out.append(Chart(id=f"chart-{next(counter)}", title=label,
                                   spec=json_script(spec), note=note))
        return lines_out, bars_out, no_chart

    def parallel(self, ordered: list[RunSummary], key: str | None, goal: str | None,
                 counter: Any) -> Chart | None:
        if key is None or goal is None:
            return None
        having = [r for r in ordered if r.value(key) is not None]
        if len(having) < 2:
            return None
        keys = sorted({k for r in having for k in r.params})
        varying = [k for k in keys
                   if len({fmt.param(r.params.get(k)) for r in having}) > 1]
        params = (varying or keys)[:PARALLEL_PARAMS]
        if not params:
            return None
        from . import charts as charts_mod

        rows = []
        for r in having:
            row: dict[str, Any] = {"run": r.name}
            for k in params:
                if k in r.params:
                    v = r.params[k]
                    row[f"params.{k}"] = v if fmt.is_number(v) or isinstance(v, str) \
                        else fmt.param(v)
                else:
                    row[f"params.{k}"] = None
            row[f"metrics.{key}"] = r.value(key)
            rows.append(row)
        spec = charts_mod.parallel_coordinates(rows, [f"params.{k}" for k in params],
                                              f"metrics.{key}", goal)
        if spec is None:
            return None
        return Chart(id=f"chart-{next(counter)}", title=f"Params and {key}",
                     spec=json_script(spec),
                     note=f"Each line is a run: its params on the left, {key} on the right.")

    # index, compare, data -----------------------------------------------------------------
    def index_page(self, cards: list[tuple[ExperimentCard, float]]) -> None:
        path = "index.html"
        ordered_cards = [c for c, _ in sorted(cards, key=lambda c: (-c[1], c[0].name))]
        latest = sorted(self.summaries, key=lambda r: (-(r.start or 0.0), r.run_id))[:LATEST_RUNS]
        lines = [self.run_line(r, path) for r in latest]
        n_exp, n_runs = len(cards), len(self.summaries)
        summary = f"{fmt.plural(n_exp, 'experiment')}, {fmt.plural(n_runs, 'run')}."
        if not n_runs and not n_exp:
            summary = ("This store has no runs yet. Log one with trackreport.start_run() "
                       "and build again.")
        page = IndexPage(
            **self.base("index.html", "index", path, self.title, self.title,
                        [("All experiments", "")]),
            summary=summary, experiments=ordered_cards, latest_runs=lines,
            last_activity=fmt.date_time(self.last_event), last_activity_time=fmt.iso(self.last_event),
            downloads=[Link("All runs as CSV", "data/runs.csv"),
                       Link("All runs as JSON", "data/runs.json")],
        )
        self.render(page)

    def compare_page(self, experiments: list[str]) -> None:
        path = "compare/index.html"
        counts: dict[str, int] = {}
        for r in self.summaries:
            counts[r.experiment] = counts.get(r.experiment, 0) + 1
        index = {
            r.run_id: {"name": r.name, "experiment": r.experiment,
                       "url": relative(r.page, path),
                       "data": relative(f"runs/{r.slug}/data.js", path),
                       **({"baseline": True} if r.run_id in self.baselines else {})}
            for r in self.summaries
        }
        page = ComparePage(
            **self.base("compare.html", "compare", path, "Compare runs", "Compare runs",
                        [("All experiments", "index.html"), ("Compare runs", "")],
                        extra_scripts=["assets/compare.js"]),
            runs_index=json_script(index), run_count=len(index),
            experiments=[Link(n, relative(self.exp_page(n), path)) for n in experiments],
            run_counts=[fmt.plural(counts.get(n, 0), "run") for n in experiments],
        )
        self.render(page)

    def write_experiment_data(self, name: str, runs: list[RunSummary]) -> None:
        if not runs:
            return
        slug = self.exp_slug(name)
        rows = [r.row for r in sorted(runs, key=lambda r: (r.start or 0.0, r.run_id))]
        self.writer.write(f"experiments/{slug}/runs.csv", runs_csv(rows))
        self.writer.write(f"experiments/{slug}/runs.json", runs_json(rows))

    def data_files(self) -> None:
        rows = [r.row for r in sorted(self.summaries, key=lambda r: (r.start or 0.0, r.run_id))]
        self.writer.write("data/runs.csv", runs_csv(rows))
        self.writer.write("data/runs.json", runs_json(rows))


# helpers --------------------------------------------------------------------------------


def _labels(runs: list[RunSummary]) -> dict[str, str]:
    """Legend labels: the run name, with the end of the run id when names repeat."""
    counts: dict[str, int] = {}
    for r in runs:
        counts[r.name] = counts.get(r.name, 0) + 1
    return {r.run_id: r.name if counts[r.name] == 1 else f"{r.name} ({r.run_id[-8:]})"
            for r in runs}


def _no_chart_text(keys: list[str]) -> str:
    if not keys:
        return ""
    names = ", ".join(keys)
    return (f"No chart for {names}: no run has a finite value (every value is NaN or "
            "infinite).")


def _status_counts(runs: list[RunSummary]) -> str:
    words = {FINISHED: "finished", FAILED: "failed", RUNNING: "running", KILLED: "stopped"}
    counts: dict[str, int] = {}
    for r in runs:
        counts[r.status] = counts.get(r.status, 0) + 1
    order = [FINISHED, RUNNING, FAILED, KILLED, *sorted(set(counts) - set(words))]
    return ", ".join(f"{fmt.integer(counts[s])} {words.get(s, s.lower())}"
                     for s in order if counts.get(s))


def _problems(run: Run) -> list[str]:
    p = run.problems
    out = []
    if p.torn_lines:
        out.append(f"{fmt.plural(p.torn_lines, 'torn last line')} skipped (a writer stopped "
                   "mid-write).")
    if p.corrupt_lines:
        out.append(f"{fmt.plural(p.corrupt_lines, 'corrupt line')} skipped.")
    out.extend(p.messages)
    return out


_KNOWN_CONTEXT = {"user", "host", "git", "source", "argv", "command", "packages", "env",
                  "entry_point", "python"}


def _environment(context: dict[str, Any]) -> tuple[list[Fact], list[KeyValue], str]:
    """(environment facts, packages, command line) from a run's captured context."""
    facts: list[Fact] = []
    python = context.get("python")
    if isinstance(python, dict) and python.get("version"):
        impl = python.get("implementation")
        facts.append(Fact("Python", str(python["version"]) + (f" ({impl})" if impl else "")))
    elif isinstance(python, str):
        facts.append(Fact("Python", python))
    entry = context.get("entry_point")
    if isinstance(entry, dict):
        if entry.get("module"):
            facts.append(Fact("Entry point", f"module {entry['module']}"))
        elif entry.get("path"):
            facts.append(Fact("Entry point", str(entry["path"])))
    for key in sorted(context):
        if key in _KNOWN_CONTEXT:
            continue
        value = context[key]
        if isinstance(value, (str, int, float, bool)):
            label = key.replace("_", " ")
            facts.append(Fact(label[:1].upper() + label[1:], fmt.param(value)))
        elif isinstance(value, dict) and all(isinstance(v, (str, int, float, bool))
                                             for v in value.values()) and len(value) <= 20:
            for sub in sorted(value):
                label = f"{key} {sub}".replace("_", " ")
                facts.append(Fact(label[:1].upper() + label[1:], fmt.param(value[sub])))
    env = context.get("env")
    if isinstance(env, dict):
        for key in sorted(env):
            facts.append(Fact(f"${key}", fmt.param(env[key])))
    packages: list[KeyValue] = []
    raw = context.get("packages")
    if isinstance(raw, dict):
        packages = [KeyValue(str(k), fmt.param(v)) for k, v in sorted(raw.items(),
                                                                       key=lambda kv: str(kv[0]))]
    elif isinstance(raw, list):
        for item in raw:
            if isinstance(item, str):
                name, _, version = item.partition("==")
                packages.append(KeyValue(name, version))
            elif isinstance(item, dict) and "name" in item:
                packages.append(KeyValue(str(item["name"]), str(item.get("version", ""))))
        packages.sort(key=lambda kv: kv.key.lower())
    command = ""
    argv = context.get("argv")
    module = None
    if isinstance(entry, dict):
        argv = entry.get("argv", argv)
        module = entry.get("module")
    if isinstance(argv, list) and argv and all(isinstance(a, str) for a in argv):
        if isinstance(module, str) and module:
            command = shlex.join(["python", "-m", module, *argv[1:]])
        else:
            command = shlex.join(["python", *argv])
    elif isinstance(context.get("command"), str):
        command = context["command"]
    return facts, packages, command


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return fmt.param(value)
    if isinstance(value, (dict, list, tuple, bool)):
        return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str) \
            if not isinstance(value, bool) else str(value)
    return str(value)


def _columns(rows: list[dict[str, Any]]) -> list[str]:
    seen = {k for row in rows for k in row}
    prefixes = ("params.", "metrics.", "tags.")
    rest = sorted((c for c in seen if c not in RUN_COLUMNS),
                  key=lambda c: (next((i for i, p in enumerate(prefixes) if c.startswith(p)),
                                      len(prefixes)), c))
    return list(RUN_COLUMNS) + rest


def _export(column: str, value: Any) -> Any:
    if column in ("start_time", "end_time"):
        return fmt.iso(value) or None
    if isinstance(value, float) and not math.isfinite(value):
        return fmt.param(value)
    return value


def runs_csv(rows: list[dict[str, Any]]) -> str:
    """Runs as CSV with the columns of ``load_runs``; times ISO 8601 UTC, duration in seconds.

    Cells a spreadsheet would run as a formula get a leading ``'`` (see ``csvsafe``).
    """
    columns = _columns(rows)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([formula_safe(c) for c in columns])
    for row in rows:
        writer.writerow([formula_safe(_cell(_export(c, row.get(c)))) for c in columns])
    return buffer.getvalue()


def runs_json(rows: list[dict[str, Any]]) -> str:
    """Runs as a JSON array of objects (one per line), non-finite numbers as strings."""
    columns = _columns(rows)

    def clean(value: Any) -> Any:
        if isinstance(value, float) and not math.isfinite(value):
            return fmt.param(value)
        if isinstance(value, dict):
            return {str(k): clean(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [clean(v) for v in value]
        return value

    lines = [json.dumps({c: clean(_export(c, row.get(c))) for c in columns},
                        ensure_ascii=False, allow_nan=False, default=str)
             for row in rows]
    text = "[\n" + ",\n".join(lines) + "\n]\n" if lines else "[]\n"
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
