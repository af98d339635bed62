"""Build the static site: ``build_site(store, out)``.

One pass over the runs, one run in memory at a time: each run's page, data
script and artifact copies are written as soon as it is read, and only a
small summary (params, metric statistics, tags, downsampled series) is kept
for the experiment pages, the index, the compare page and ``data/``.

Deterministic: the same store gives the same bytes whatever the store and
output paths, working directory, clock, time zone, locale and hash seed.
Relative times ("3 days ago") count back from the store's last event (or
``SOURCE_DATE_EPOCH`` when set), never from the wall clock.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import shlex
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np

from ..errors import BuildError
from ..frames import RUN_COLUMNS, run_row
from ..reader import iter_runs, parse_lines, read_experiments
from ..records import FAILED, FINISHED, KILLED, RUNNING, Experiment, Run
from ..store import Store
from . import format as fmt
from .notes import first_paragraph, json_script, json_text, render_markdown
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
from .themes import get_template, make_environment, resolve_theme, static_files
from .urls import SlugRegistry, relative, root_of, run_slug, slugify

SITE_MARKER = ".trackreport-site"
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
GOAL_WORDS = {"max": "higher is better", "min": "lower is better"}
NO_FINITE = "no finite values"

_MAX_TOKENS = {
    "acc", "accuracy", "auc", "auroc", "auprc", "f1", "f2", "precision", "recall", "score",
    "r2", "iou", "map", "bleu", "rouge", "ndcg", "dice", "reward", "return", "correct",
    "sensitivity", "specificity", "top1", "top5", "hit", "hits", "mrr", "kappa", "mcc",
}
_MIN_TOKENS = {
    "loss", "error", "err", "rmse", "mse", "mae", "mape", "smape", "perplexity", "ppl", "nll",
    "wer", "cer", "distance", "regret", "latency", "logloss", "brier", "fpr", "fnr",
}
_RATIO_TOKENS = {
    "acc", "accuracy", "auc", "auroc", "auprc", "f1", "f2", "precision", "recall", "iou",
    "dice", "top1", "top5", "sensitivity", "specificity",
}


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


def _tokens(key: str) -> list[str]:
    return [t for t in re.split(r"[^a-z0-9]+", key.lower()) if t]


def guess_goal(key: str) -> str | None:
    """'min' or 'max' for a metric whose name says it (loss, accuracy, ...), else None."""
    tokens = _tokens(key)
    for token in reversed(tokens):
        if token in _MIN_TOKENS or token.startswith(("loss", "error")):
            return "min"
        if token in _MAX_TOKENS or token.startswith(("accura", "precis")):
            return "max"
    return None


def metric_goal(key: str, experiment: Experiment | None) -> str | None:
    """The experiment's goal for its primary metric, a guess from the name otherwise."""
    if experiment is not None and experiment.primary_metric == key:
        return experiment.goal
    return guess_goal(key)


def _is_ratio(key: str, *values: float) -> bool:
    return any(t in _RATIO_TOKENS for t in _tokens(key)) and all(0 <= v <= 1 for v in values)


def _finite(value: Any) -> bool:
    return fmt.is_number(value) and math.isfinite(value)


def _better(a: float, b: float, goal: str) -> bool:
    return a > b if goal == "max" else a < b


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


def _inside(child: Path, parent: Path) -> bool:
    return child == parent or parent in child.parents


def prepare_output(store: Store, out: Path) -> Path:
    """Check ``out`` against the store and empty a previous build there; returns its path."""
    store_real = Path(os.path.realpath(store.root))
    out_real = Path(os.path.realpath(out))
    if out_real == store_real:
        raise BuildError(f"--out {str(out)!r} is the store itself; choose another folder")
    if _inside(out_real, store_real):
        raise BuildError(f"--out {str(out)!r} is inside the store; choose a folder outside it")
    if _inside(store_real, out_real):
        raise BuildError(f"--out {str(out)!r} contains the store; choose a folder beside it")
    if out_real.exists():
        if not out_real.is_dir():
            raise BuildError(f"--out {str(out)!r} exists and is not a folder")
        entries = sorted(os.listdir(out_real))
        if entries:
            if SITE_MARKER not in entries or not (out_real / SITE_MARKER).is_file():
                raise BuildError(
                    f"--out {str(out)!r} is a folder that is not empty and was not made by "
                    "trackreport build; choose an empty or new folder"
                )
            for name in entries:
                path = out_real / name
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path)
                else:
                    path.unlink()
    out_real.mkdir(parents=True, exist_ok=True)
    return out_real


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
            parsed = parse_lines(tail, rel, check_shapes=True)  # no time of a bad line
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
        out: output folder; created if missing. A previous trackreport site there
            is replaced; any other non-empty folder is refused.
        theme: ``"default"``, or a theme folder overriding some default templates
            and static files.
        title: the site title (default "Experiments").
        progress: called as ``progress(done, total)`` after each run.

    Raises:
        BuildError: ``out`` is, is inside, or contains the store; ``out`` is a
            non-empty folder that is not a previous build; unknown theme.
        StoreFormatError: ``store`` is not a trackreport store.
    """
    started = time.perf_counter()
    st = store if isinstance(store, Store) else Store(store)
    st.check_format()
    resolved_theme = resolve_theme(theme)
    out_path = prepare_output(st, Path(out))
    builder = _Builder(st, out_path, resolved_theme, title or DEFAULT_TITLE, progress)
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
        self.pages = 0
        self.experiment_count = 0
        self.settings = read_experiments(store)
        self.exp_slug = SlugRegistry(slugify)
        self.run_slug = SlugRegistry(run_slug)
        self.last_event = store_last_event(store)
        epoch = source_date_epoch()
        self.now = epoch if epoch is not None else self.last_event
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
        for run_id in run_ids:
            self.run_slug(run_id)
        for rel, path in static_files(self.theme):
            self.writer.write(f"assets/{rel}", path.read_bytes())
        try:
            from .assets import write_assets
        except ImportError:
            write_assets = None
        if write_assets is not None:
            write_assets(self.out / "assets")
        total = len(run_ids)
        for done, run in enumerate(iter_runs(self.store), start=1):
            summary = self.summarize(run)
            self.run_page(run, summary)
            self.data_script(run, summary)
            self.summaries.append(summary)
            del run
            if self.progress is not None:
                self.progress(done, total)
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
        self.data_files()

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
            run_id=run.run_id, slug=self.run_slug(run.run_id), name=run.name,
            experiment=run.experiment, status=run.status, start=run.start_time,
            end=run.end_time, duration=run.duration,
            user=run.user if isinstance(run.user, str) else None, commit=commit,
            commit_url=forge_commit_url(remote if isinstance(remote, str) else None, commit),
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
            ago = fmt.ago(run.start_time, self.now)
            parts.append(f"started {fmt.date_time(run.start_time)}" + (f" ({ago})" if ago else ""))
        if run.duration is not None:
            parts.append(f"took {fmt.duration(run.duration)}")
        elif run.status == RUNNING and run.last_event_time is not None:
            parts.append(f"last heard from {fmt.date_time(run.last_event_time)}")
        if summary.commit:
            parts.append(f"commit {summary.commit[:7]}")
        facts = [
            Fact("Run id", run.run_id),
            Fact("Status", STATUS_TEXT.get(run.status, run.status.title())),
            Fact("Started", fmt.date_time(run.start_time),
                 detail=f"({fmt.ago(run.start_time, self.now)})" if run.start_time else ""),
        ]
        if run.end_time is not None:
            facts.append(Fact("Ended", fmt.date_time(run.end_time)))
        if run.duration is not None:
            facts.append(Fact("Duration", fmt.duration(run.duration)))
        if run.status == RUNNING and run.last_event_time is not None:
            facts.append(Fact("Last event", fmt.date_time(run.last_event_time),
                              detail=f"({fmt.ago(run.last_event_time, self.now)})"))
        if summary.user:
            facts.append(Fact("User", summary.user))
        if run.host:
            facts.append(Fact("Host", str(run.host)))
        if run.parent_run_id:
            parent_slug = self.run_slug(run.parent_run_id)
            facts.append(Fact("Part of run", run.parent_run_id,
                              url=relative(f"runs/{parent_slug}/index.html", path)
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
                primary.append(Fact(key, fmt.number(st.last),
                                    detail=GOAL_WORDS.get(goal or "", "")))
                if st.count > 1 and goal:
                    best = st.max if goal == "max" else st.min
                    primary.append(Fact(f"best {key} during the run", fmt.number(best),
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
            error=str(run.error) if run.error else "",
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
            models=[KeyValue(str(m.get("path", "")), str(m.get("flavor", ""))) for m in
                    sorted(run.models, key=lambda m: str(m.get("path", "")))],
            problems=_problems(run),
        )
        self.render(page)

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
        exp = self.settings.get(name)
        if exp is not None and exp.primary_metric:
            return exp.primary_metric
        keys = sorted({k for r in runs for k in r.stats})
        guessed = [k for k in keys if guess_goal(k)]
        preferred = [k for k in guessed if k.lower().startswith(("val", "test", "valid", "eval"))]
        return (preferred or guessed or [None])[0]

    def ordered(self, runs: list[RunSummary], key: str | None, goal: str | None
                ) -> list[RunSummary]:
        def rank(r: RunSummary) -> tuple:
            value = r.value(key)
            newest = -(r.start or 0.0)
            if value is None or goal is None:
                return (1, 0.0, newest, r.run_id)
            return (0, -value if goal == "max" else value, newest, r.run_id)

        return sorted(runs, key=rank)

    def experiment_page(self, name: str, runs: list[RunSummary]) -> ExperimentCard:
        exp = self.settings.get(name) or Experiment(name)
        path = self.exp_page(name)
        key = self.primary_metric(name, runs)
        goal = metric_goal(key, exp) if key else None
        ordered = self.ordered(runs, key, goal)
        best_summary = ordered[0] if ordered and ordered[0].value(key) is not None and goal else None
        best = self.best_run(best_summary, key, goal, path) if best_summary else None
        chron = sorted(runs, key=lambda r: (r.start or 0.0, r.run_id))
        last_activity = max((r.end or r.start or 0.0 for r in runs), default=None)
        counts = _status_counts(runs)
        highlights = self.highlights(runs, chron, best_summary, key, goal, exp)
        facts = [Fact("Runs", fmt.integer(len(runs)), detail=f"({counts})" if counts else "")]
        if key:
            guessed = "" if exp.primary_metric else " (guessed from its name)"
            words = GOAL_WORDS.get(goal or "", "")
            facts.append(Fact("Primary metric", key + guessed,
                              detail=f"({words})" if words else ""))
        if last_activity:
            facts.append(Fact("Last activity", fmt.date_time(last_activity),
                              detail=f"({fmt.ago(last_activity, self.now)})"))
        best_metrics = []
        if best_summary:
            for k in sorted(best_summary.stats):
                if k != key:
                    st = best_summary.stats[k]
                    best_metrics.append(Fact(k, NO_FINITE if math.isnan(st.min)
                                             else fmt.number(st.last)))
        counter = iter(range(1, 1_000_000))
        charts_list, bar_list, no_chart = self.experiment_charts(ordered, key, exp, counter)
        parallel = self.parallel(ordered, key, goal, counter)
        self.write_experiment_data(name, runs)
        slug = self.exp_slug(name)
        page = ExperimentPage(
            **self.base("experiment.html", "experiment", path, name, name,
                        [("All experiments", "index.html"), (name, "")]),
            name=name, description=render_markdown(exp.description) if exp.description
            else render_markdown(""),
            highlights=highlights, facts=facts, best=best, best_metrics=best_metrics[:8],
            table=self.runs_table(ordered, exp, key, path) if runs else None,
            charts=charts_list, bar_charts=bar_list,
            no_chart_text=_no_chart_text(no_chart), parallel=parallel,
            downloads=[Link("Runs as CSV", relative(f"experiments/{slug}/runs.csv", path)),
                       Link("Runs as JSON", relative(f"experiments/{slug}/runs.json", path))]
            if runs else [],
        )
        self.render(page)
        spark, trend = self.sparkline(chron, key, goal)
        runs_text = fmt.plural(len(runs), "run")
        if last_activity:
            runs_text += f" · last run {fmt.ago(last_activity, self.now)}"
        return ExperimentCard(
            name=name, url=relative(path, "index.html"),
            description=first_paragraph(exp.description), runs_text=runs_text,
            status_text=counts, best=self.best_run(best_summary, key, goal, "index.html")
            if best_summary else None, sparkline=spark, trend_text=trend,
        ), last_activity or 0.0

    def best_run(self, r: RunSummary, key: str | None, goal: str | None, page: str) -> BestRun:
        return BestRun(name=r.name, url=relative(r.page, page), metric=key or "",
                       value=fmt.number(r.value(key)), goal_words=GOAL_WORDS.get(goal or "", ""),
                       status=r.status, started=fmt.date_time(r.start))

    def highlights(self, runs: list[RunSummary], chron: list[RunSummary],
                   best: RunSummary | None, key: str | None, goal: str | None,
                   exp: Experiment) -> list[str]:
        out: list[str] = []
        if not runs:
            return ["No runs yet. Runs logged with this experiment name will appear here."]
        if key is None:
            out.append(f"{fmt.plural(len(runs), 'run')}; none has a metric to rank by yet.")
            return out
        if best is None:
            out.append(f"No run has a value of {key} yet.")
            return out
        value = best.value(key)
        if value is None:
            return out
        sentence = f"Best: {best.name}, {key} {fmt.number(value)}"
        with_value = [r for r in chron if r.value(key) is not None]
        baseline = next((r for r in with_value if "baseline" in r.tags
                         or "baseline" in r.tags.values()), None)
        label = "the baseline"
        if baseline is None and with_value:
            baseline = with_value[0]
            label = "the first run"
        if len(with_value) == 1:
            sentence += " (the only run with this metric so far)."
        elif baseline is best:
            sentence += f"; {label} is still the best."
        elif baseline is not None:
            base = baseline.value(key) or 0.0
            sentence += f", {self.margin(key, value, base, goal or 'max')} than {label} " \
                        f"({baseline.name}, {fmt.number(base)})."
        out.append(sentence)
        if len(with_value) > 1:
            position = with_value.index(best)
            after = len(with_value) - 1 - position
            if after == 0:
                out.append("The latest run is the best so far.")
            else:
                out.append(f"No improvement in the last {fmt.plural(after, 'run')}.")
        failed = sum(r.status == FAILED for r in runs)
        running = sum(r.status == RUNNING for r in runs)
        if failed or running:
            bits = []
            if failed:
                bits.append(f"{fmt.plural(failed, 'run')} failed")
            if running:
                bits.append(f"{fmt.plural(running, 'run')} still running (or stopped without "
                            "saying so)")
            out.append("; ".join(bits).capitalize() + ".")
        return out

    @staticmethod
    def margin(key: str, value: float, base: float, goal: str) -> str:
        diff = value - base
        better = _better(value, base, goal)
        word = "better" if better else "worse"
        if diff == 0:
            return "the same"
        if _is_ratio(key, value, base):
            return f"{fmt.number(abs(diff) * 100, 2)} points {word}"
        if base != 0:
            pct = abs(diff) / abs(base) * 100
            direction = "higher" if diff > 0 else "lower"
            return f"{fmt.number(pct, 2)}% {direction} ({word})"
        return f"{fmt.number(abs(diff))} {'higher' if diff > 0 else 'lower'} ({word})"

    def sparkline(self, chron: list[RunSummary], key: str | None, goal: str | None
                  ) -> tuple[Sparkline | None, str]:
        if key is None or goal is None:
            return None, ""
        points = [(r.start or 0.0, r.value(key)) for r in chron if r.value(key) is not None]
        if not points:
            return None, ""
        best_so_far = []
        current: float | None = None
        for t, v in points:
            if current is None or _better(v, current, goal):
                current = v
            best_so_far.append((t, current))
        first, last = best_so_far[0][1], best_so_far[-1][1]
        trend = (f"Best {key} so far went from {fmt.number(first)} to {fmt.number(last)} "
                 f"over {fmt.plural(len(points), 'run')} ({GOAL_WORDS[goal]}).")
        if first == last:
            trend = f"Best {key} so far: {fmt.number(last)} ({GOAL_WORDS[goal]})."
        if len(best_so_far) < 2:
            return None, trend
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

    def runs_table(self, ordered: list[RunSummary], exp: Experiment, primary: str | None,
                   page: str) -> RunsTable:
        param_keys = sorted({k for r in ordered for k in r.params})
        metric_keys = sorted({k for r in ordered for k in r.stats},
                             key=lambda k: (k != primary, k))
        tag_keys = sorted({k for r in ordered for k in r.tags})
        columns = [
            Column("Status", "run", "text"),
            Column("Started", "run", "date", title="Start time, UTC"),
            Column("Duration", "run", "duration"),
            Column("User", "run", "text"),
            Column("Commit", "run", "text", title="git commit of the code"),
        ]
        numeric_params = {
            k: all(fmt.is_number(r.params[k]) for r in ordered if k in r.params)
            for k in param_keys
        }
        for k in param_keys:
            columns.append(Column(k, "params", "number" if numeric_params[k] else "text",
                                  title=f"param {k}"))
        goals = {k: metric_goal(k, exp) for k in metric_keys}
        best_values: dict[str, float] = {}
        for k in metric_keys:
            goal = goals[k]
            values = [r.stats[k].last for r in ordered if k in r.stats
                      and math.isfinite(r.stats[k].last)]
            if goal and values:
                best_values[k] = max(values) if goal == "max" else min(values)
            words = GOAL_WORDS.get(goal or "", "")
            columns.append(Column(k, "metrics", "number", goal=goal or "",
                                  title=f"metric {k}: last value" + (f" ({words})" if words
                                                                     else "")))
        for k in metric_keys:
            columns.append(Column(f"{k} (min)", "metrics-minmax", "number", hidden=True,
                                  title=f"metric {k}: smallest value"))
            columns.append(Column(f"{k} (max)", "metrics-minmax", "number", hidden=True,
                                  title=f"metric {k}: largest value"))
        for k in tag_keys:
            columns.append(Column(k, "tags", "text", title=f"tag {k}"))
        rows = []
        for r in ordered:
            cells = [
                Cell(STATUS_TEXT.get(r.status, r.status.title()), "run", None,
                     css=f"status status-{r.status.lower()}"),
                Cell(fmt.date_time(r.start), "run", fmt.plain_number(r.start) or None),
                Cell(fmt.duration(r.duration) if r.duration is not None
                     else ("running" if r.status == RUNNING else ""), "run",
                     fmt.plain_number(r.duration) or None),
                Cell(r.user or "", "run", None),
                Cell(r.commit[:7] if r.commit else "", "run", None, url=r.commit_url,
                     title=r.commit or "", css="mono"),
            ]
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
            for k in metric_keys:
                st = r.stats.get(k)
                if st is None:
                    cells.append(Cell("", "metrics", None))
                    continue
                if math.isnan(st.min):  # every value NaN: words, and sorted last
                    cells.append(Cell(NO_FINITE, "metrics", None, css="muted",
                                      title="every logged value is NaN"))
                    continue
                cells.append(Cell(fmt.number(st.last), "metrics",
                                  fmt.plain_number(st.last) or None,
                                  best=k in best_values and st.last == best_values[k]))
            for k in metric_keys:
                st = r.stats.get(k)
                for v in ((st.min, st.max) if st and not math.isnan(st.min) else (None, None)):
                    cells.append(Cell(fmt.number(v) if v is not None else "", "metrics-minmax",
                                      fmt.plain_number(v) or None, hidden=True))
            for k in tag_keys:
                cells.append(Cell(r.tags.get(k, ""), "tags", None))
            rows.append(Row(run_id=r.run_id, name=r.name, url=relative(r.page, page),
                            status=r.status, cells=cells))
        caption = "Every run of this experiment"
        if primary and goals.get(primary):
            caption += f", best {primary} first ({GOAL_WORDS[goals[primary]]}), then newest."
        else:
            caption += ", newest first."
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
                spec = charts_mod.bar_chart(f"{key} by run", key, bars, goal, order=order,
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
                bars_out.append(Chart(id=f"chart-{next(counter)}", title=f"{key} by run",
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
            spec = charts_mod.metric_chart(key, key, lines, goal, domain=domain)
            lines_out.append(Chart(id=f"chart-{next(counter)}", title=key,
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
        lines = []
        for r in latest:
            key = self.primary_metric(r.experiment, [r])
            value = r.value(key)
            lines.append(RunLine(
                name=r.name, url=relative(r.page, path),
                experiment=Link(r.experiment, relative(self.exp_page(r.experiment), path)),
                status=r.status, status_text=STATUS_TEXT.get(r.status, r.status.title()),
                started=fmt.date_time(r.start), started_ago=fmt.ago(r.start, self.now),
                sort=fmt.plain_number(r.start),
                metric=f"{key} {fmt.number(value)}" if value is not None else ""))
        n_exp, n_runs = len(cards), len(self.summaries)
        summary = f"{fmt.plural(n_exp, 'experiment')}, {fmt.plural(n_runs, 'run')}"
        if self.last_event is not None:
            summary += f"; last activity {fmt.ago(self.last_event, self.now)}"
        summary += "."
        if not n_runs and not n_exp:
            summary = ("This store has no runs yet. Log one with trackreport.start_run() "
                       "and build again.")
        page = IndexPage(
            **self.base("index.html", "index", path, self.title, self.title,
                        [("All experiments", "")]),
            summary=summary, experiments=ordered_cards, latest_runs=lines,
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
                       "data": relative(f"runs/{r.slug}/data.js", path)}
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
    """Runs as CSV with the columns of ``load_runs``; times ISO 8601 UTC, duration in seconds."""
    columns = _columns(rows)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(_export(c, row.get(c))) for c in columns])
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
