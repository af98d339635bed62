"""Build the static site: ``build_site(store, out)``, the orchestrator.

One pass over the runs, one run in memory at a time: each run's page, data
script and artifact copies are written as soon as it is read, and only a
small summary (``summaries.RunSummary``) is kept for the experiment pages, the
index, the compare page and ``data/``. Each page kind is built by its own
module (``run_page``, ``experiment_page``, ``index_page``, ``compare_page``,
``models``) from summaries; ``export`` writes the CSV/JSON files and
``output`` keeps writes inside the output folder.

Deterministic: the same store gives the same bytes whatever the store and
output paths, working directory, clock, time zone, locale and hash seed.
Pages hold absolute UTC times (``<time datetime=...>``); "3 days ago" is
computed by the reader's browser, so nothing relative to the build moment is
written into a page.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import BuildError, RunNotFoundError
from ..reader import parse_lines, read_experiments, read_run
from ..store import Store
from . import format as fmt
from .cache import FORMAT, BuildCache, RunEntry, code_identity, digest, tree_identity
from .common import DEFAULT_TITLE, SiteContext
from .compare_page import compare_page
from .experiment_page import experiment_card, experiment_page, experiment_view
from .export import export_rows, runs_csv, runs_json
from .index_page import index_page
from .models import RegistryPages, run_infos
from .output import SITE_MARKER, SiteWriter, staged_output
from .pages import Page
from .prefetch import Prefetched, Workers, replay_warnings, worker_count
from .ranking import metric_goal
from .run_page import data_script, run_page
from .story import MetricInfo
from .summaries import RunSummary, finite, forge_commit_url, series_arrays, summarize
from .themes import get_template, make_environment, resolve_theme, static_files
from .urls import run_slug

__all__ = ["SITE_MARKER", "BuildResult", "SiteWriter", "build_site", "forge_commit_url",
           "runs_csv", "runs_json", "source_date_epoch"]

_MARKER_TEXT = (
    "This folder is a site built by trackreport (trackreport build).\n"
    "A new build replaces everything in it.\n"
)



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



def file_last_event(store: Store, rel: str) -> float | None:
    """The latest event time in the events file ``rel``, from its tail."""
    try:
        tail, length = store.storage.read_tail(rel, 65536)
    except (OSError, ValueError):
        return None
    if length > len(tail):
        tail = tail[tail.find(b"\n") + 1:]
    if not tail.endswith(b"\n"):
        tail = tail[: tail.rfind(b"\n") + 1]
    import warnings

    latest: float | None = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parsed = parse_lines(tail, rel, check_shapes=True)  # no time of a bad line
    for event in parsed:
        t = event.get("time")
        if finite(t) and (latest is None or t > latest):
            latest = float(t)
    return latest


def _latest(times: Iterable[float | None]) -> float | None:
    found = [t for t in times if t is not None]
    return max(found) if found else None


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
               progress: Callable[[int, int], None] | None = None,
               clean: bool = False) -> BuildResult:
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
        clean: ignore the cache of the previous build (``<out>/.trackreport-cache/``)
            and read every run again. Without it, only runs whose events files
            changed are read, and unchanged pages are copied from the previous
            site; the result is the same bytes either way.

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
    previous = Path(os.path.realpath(out))
    held = getattr(st.storage, "held_listings", contextlib.nullcontext)
    with held(), staged_output(st, Path(out)) as writer:  # the store as it was listed
        builder = _Builder(st, writer, resolved_theme, title or DEFAULT_TITLE, progress)
        builder.build(None if clean else previous)
    index = Path(out) / "index.html"
    return BuildResult(experiments=builder.experiment_count, runs=len(builder.summaries),
                       pages=builder.pages, seconds=time.perf_counter() - started,
                       index_path=index)




class _Builder:
    def __init__(self, store: Store, writer: SiteWriter, theme: Any, title: str,
                 progress: Callable[[int, int], None] | None) -> None:
        from .. import __version__

        self.store = store
        self.out = writer.root
        self.theme = theme
        self.progress = progress
        self.env = make_environment(theme)
        self.writer = writer
        self.summaries: list[RunSummary] = []
        self.children: dict[str, list[RunSummary]] = {}
        self.pages = 0
        self.experiment_count = 0
        self.settings = read_experiments(store)
        self.ctx = SiteContext(settings=self.settings, title=title, version=__version__)
        self.built_at = source_date_epoch()
        self._views: dict[str, Any] = {}  # the experiment views, for _experiment_files
        self._last_events: dict[str, float | None] = {}  # each run's, as _build_runs found

    def render(self, page: Page) -> None:
        template = get_template(self.env, page.template)
        self.writer.write(page.path, template.render(page=page))
        self.pages += 1

    def _identities(self, rels: list[str]) -> dict[str, str]:
        out = {}
        for rel in rels:
            try:
                out[rel] = self.store.storage.identity(rel)
            except (OSError, ValueError):
                continue
        return out

    def _global_key(self) -> str:
        theme_dirs = [*self.theme.template_dirs, *self.theme.static_dirs]
        return digest(FORMAT, self.ctx.version, self.ctx.title, self.built_at,
                      code_identity(), tree_identity(theme_dirs), str(self.theme.name))

    def _copy(self, old: BuildCache, rel: str) -> bool:
        """Copy folder ``rel`` from the previous site; False when it cannot be."""
        if old.site is None:
            return False
        copied = self.writer.copy_tree(old.site, rel)
        if copied is None:
            return False
        self.pages += sum(1 for p in copied if p.endswith("/index.html"))
        return True

    def build(self, previous: Path | None = None) -> None:
        """Write the whole site; reuse what ``previous`` (a site with a cache) still has right."""
        ctx = self.ctx
        key = self._global_key()
        old = BuildCache.load(previous, key) if previous is not None else BuildCache(key)
        new = BuildCache(key)
        self.writer.write(SITE_MARKER, _MARKER_TEXT)
        for name in sorted(self.settings):
            ctx.exp_slug(name)
        run_ids = self.store.run_ids()
        known = set(run_ids)
        registry_files = self._identities(self.store.registry_event_files())
        self.registry = RegistryPages(
            self.store, ctx.base, self.render,
            lambda rid: f"runs/{run_slug(rid)}/index.html" if rid in known else None,
            self.writer.holds)
        if old.site is not None:  # only what changed is written; the rest stays in place
            self.writer.on_top_of(old.site)
        # Which runs are as the previous build saw them (same events files, same sizes).
        files = self.store.run_file_identities(run_ids)
        # (A run whose parent is gone is read again: reading drops the link.)
        fresh = {rid for rid in run_ids
                 if rid in old.runs and old.runs[rid].files == files[rid]
                 and (summary := old.runs[rid].summary) is not None
                 and (not summary.parent_run_id or files.get(summary.parent_run_id))}
        stale = [rid for rid in run_ids if rid not in fresh]
        count = worker_count(len(stale))
        if count:  # made once here, not once per worker: forked workers inherit them
            from .charts import warm_up

            warm_up()
            get_template(self.env, "run.html")
        with Workers(self, count) if count else contextlib.nullcontext() as workers:
            self._build_runs(old, new, key, run_ids, files, fresh, stale, workers)
        self._build_pages(old, new, key, files, registry_files)

    def _write_assets(self, old: BuildCache) -> None:
        if not (old.site is not None and self._copy(old, "assets")):
            for rel, path in static_files(self.theme):
                self.writer.write(f"assets/{rel}", path.read_bytes())
            try:
                from .assets import write_assets
            except ImportError:
                write_assets = None
            if write_assets is not None:
                write_assets(self.out / "assets")

    def _build_runs(self, old: BuildCache, new: BuildCache, key: str, run_ids: list[str],
                    files: dict[str, dict[str, str]], fresh: set[str], stale: list[str],
                    workers: Workers | None) -> None:
        """Write every run's page (workers, when given, read and render the runs to read).

        First every run to read is read once, its summary kept and its page written
        as if it listed no children; then, with every run's parent known, a page
        that must list children (or that a worker made differently) is made again.
        """
        ctx = self.ctx
        total = len(run_ids)
        done = len(fresh)
        if self.progress is not None:  # the runs as they were: nothing to read
            for counted in range(1, done + 1):
                self.progress(counted, total)
        if workers is not None:
            results: Iterable[Any] = workers.map("_prefetch_one", stale, chunksize=8)
            self._write_assets(old)  # while the workers read
        else:
            self._write_assets(old)
            results = map(self._prefetch_one, stale)
        items: dict[str, Prefetched | tuple[RunSummary, list[Any], float | None]] = {}
        storage = self.store.storage
        for run_id, got in zip(stale, results, strict=True):
            if got is not None and not isinstance(got, Prefetched):
                # The worker failed: read the run here (and fail here); its page is
                # made below, once the runs that list children are known.
                self.writer.discard(f"runs/{run_slug(run_id)}")  # what the worker wrote
                got = self._summary_here(run_id)
            if got is None:  # the run vanished
                continue
            items[run_id] = got
            if workers is not None and isinstance(got, Prefetched) and got.requests:
                storage.requests += got.requests  # type: ignore[attr-defined]
                storage.fetched += got.fetched  # type: ignore[attr-defined]
            done += 1
            if self.progress is not None:
                self.progress(done, total)
        summaries = {rid: old.runs[rid].summary for rid in fresh}
        summaries.update((rid, got.summary if isinstance(got, Prefetched) else got[0])
                         for rid, got in items.items())
        parents = {s.parent_run_id for s in summaries.values()
                   if s is not None and s.parent_run_id and s.parent_run_id != s.run_id}
        # Newest first, then the runs that list children: a page lists its children in
        # the order they were made.
        ordered_ids = [r for r in reversed(run_ids) if r not in parents] + \
            [r for r in reversed(run_ids) if r in parents]
        last_events = self._last_events  # the experiment pages' footers use it too
        for run_id in ordered_ids:
            run = None
            arrays = None
            item: Prefetched | None = None
            if run_id in fresh:
                entry = old.runs[run_id]
                summary, models, last_event = entry.summary, entry.models, entry.last_event
                assert summary is not None  # noqa: S101 - fresh entries have one
            else:
                got = items.get(run_id)
                if got is None:  # the run vanished
                    continue
                if isinstance(got, Prefetched):
                    item = got
                    replay_warnings(item)
                    summary, models, last_event = item.summary, item.models, item.last_event
                else:  # read here: its page is made below
                    summary, models, last_event = got
            last_events[run_id] = last_event
            ctx.exp_slug(summary.experiment)
            if summary.parent_run_id and summary.parent_run_id != summary.run_id:
                self.children.setdefault(summary.parent_run_id, []).append(summary)
            parent = summary.parent_run_id
            parent_exists = bool(parent) and self.store.storage.exists(
                self.store.run_dir(parent))
            page = summary.page
            kids = self.children.get(run_id, [])
            run_models = self.registry.run_models(run_id, models, page)
            page_key = digest(key, files[run_id], repr(self.settings.get(summary.experiment)),
                              ctx.exp_page(summary.experiment),
                              [repr(ctx.run_line(k, page)) for k in kids], parent_exists,
                              repr(run_models), last_event)
            if item is not None and (kids or item.slug != ctx.exp_slug(summary.experiment)
                                     or item.parent_exists != parent_exists
                                     or repr(item.run_models) != repr(run_models)):
                for rel in item.written:  # not what this build makes: make it here
                    (self.out / rel).unlink(missing_ok=True)
                item = None
            elif item is not None:
                self.writer.adopt(item.written)
                self.pages += 1
            if item is None and not (run_id in fresh and old.runs[run_id].page_key == page_key
                                     and self._copy(old, f"runs/{summary.slug}")):
                if run is None:
                    try:
                        run = read_run(self.store, run_id)
                    except RunNotFoundError:
                        continue
                    arrays = series_arrays(run)
                self.render(run_page(ctx, self.store, run, summary, children=kids,
                                     parent_exists=parent_exists, models=run_models,
                                     write=self.writer.write,
                                     last_event=last_event, arrays=arrays))
                self.writer.write(f"runs/{summary.slug}/data.js",
                                  data_script(ctx, run, summary, arrays))
            new.runs[run_id] = RunEntry(files=files[run_id], last_event=last_event,
                                        models=models, page_key=page_key, summary=summary)
            self.summaries.append(summary)
            del run, arrays, item
        ctx.last_event = _latest([*last_events.values(), *(
            file_last_event(self.store, rel) for rel in self.store.experiment_event_files())])
        position = {run_id: i for i, run_id in enumerate(run_ids)}
        self.summaries.sort(key=lambda s: position.get(s.run_id, len(position)))

    def _build_pages(self, old: BuildCache, new: BuildCache, key: str,
                     files: dict[str, dict[str, str]], registry_files: dict[str, str]) -> None:
        """The experiment pages, the index, compare, models and data/ (from the summaries)."""
        ctx = self.ctx
        by_experiment: dict[str, list[RunSummary]] = {name: [] for name in self.settings}
        for summary in self.summaries:
            by_experiment.setdefault(summary.experiment, []).append(summary)
        self.experiment_count = len(by_experiment)
        for name in sorted(by_experiment):
            ctx.exp_slug(name)
        cards = []
        views = {}
        todo = []  # the experiments whose pages are made again
        for name in sorted(by_experiment):
            runs = by_experiment[name]
            view = views[name] = experiment_view(ctx, name, runs)
            slug = ctx.exp_slug(name)
            exp_key = digest(key, repr(self.settings.get(name)), view.path, registry_files,
                             [(r.run_id, files[r.run_id], r.parent_run_id) for r in runs])
            new.experiments[name] = exp_key
            if not (old.experiments.get(name) == exp_key
                    and self._copy(old, f"experiments/{slug}")):
                todo.append(name)
            card = experiment_card(view)
            card.ships = self.registry.ships(name, "index.html", self.summaries)
            cards.append((card, view.last_activity or 0.0))
        self._views = views
        # Experiment pages are made by workers (a fork sees every summary) while this
        # process makes the index, compare, the registry and data/.
        count = worker_count(len(self.summaries)) if len(todo) > 1 else 0
        with Workers(self, count) if count else contextlib.nullcontext() as workers:
            made = workers.map("_experiment_files", todo) if workers is not None else None
            if made is None:
                for name in todo:
                    self._experiment_files(name, self.writer.write)
            self.render(index_page(ctx, cards, self.summaries))
            self.render(compare_page(ctx, self.summaries, sorted(by_experiment), views))
            self.registry.build(run_infos(
                self.summaries, ctx.primary_metric,
                lambda key, e: metric_goal(key, self.settings.get(e)),
                lambda key, e: MetricInfo.of(key, self.settings.get(e))))
            rows = export_rows(self.summaries)
            self.writer.write("data/runs.csv", runs_csv(rows))
            self.writer.write("data/runs.json", runs_json(rows))
            new.save(self.out)  # while the workers finish
            for name, written in zip(todo, made if made is not None else (),
                                     strict=False):
                if isinstance(written, list):
                    self.writer.adopt(written)
                    self.pages += 1
                else:  # the worker failed: make it here (and fail here)
                    self.writer.discard(f"experiments/{ctx.exp_slug(name)}")  # what it wrote
                    self._experiment_files(name, self.writer.write)

    def _experiment_files(self, name: str,
                          write: Callable[[str, bytes | str], None] | None = None) -> list[str]:
        """Write the page of experiment ``name`` and its runs.csv and runs.json.

        ``write``: how (default: ``stage``, as a worker does; the builder adopts them).
        Returns the site paths written.
        """
        put = write or self.writer.stage
        ctx = self.ctx
        view = self._views[name]
        runs = view.runs
        slug = ctx.exp_slug(name)
        page = experiment_page(ctx, view, _latest(self._last_events[r.run_id] for r in runs))
        page.ships = self.registry.ships(name, view.path, self.summaries)
        written = [page.path]
        put(page.path, get_template(self.env, page.template).render(page=page))
        if runs:
            rows = export_rows(runs)
            written += [f"experiments/{slug}/runs.csv", f"experiments/{slug}/runs.json"]
            put(written[1], runs_csv(rows))
            put(written[2], runs_json(rows))
        if write is not None:
            self.pages += 1
        return written

    def _summary_here(self, run_id: str) -> tuple[RunSummary, list[Any], float | None] | None:
        """Read a run in this process: its summary, models and last event (None: it vanished)."""
        try:
            run = read_run(self.store, run_id)
        except RunNotFoundError:
            return None
        return summarize(run, series_arrays(run)), list(run.models), run.last_event_time

    def _prefetch_one(self, run_id: str) -> Prefetched | None:
        """Read a run and write its page as if it listed no children (in a worker, or here)."""
        storage = self.store.storage
        sent = getattr(storage, "requests", 0), getattr(storage, "fetched", 0)
        try:
            run = read_run(self.store, run_id)
        except RunNotFoundError:
            return None
        arrays = series_arrays(run)
        summary, models = summarize(run, arrays), list(run.models)
        last_event = run.last_event_time
        ctx = self.ctx
        slug = ctx.exp_slug(summary.experiment)
        parent = summary.parent_run_id
        parent_exists = bool(parent) and self.store.storage.exists(self.store.run_dir(parent))
        run_models = self.registry.run_models(run_id, models, summary.page)
        written: list[str] = []

        def write(rel: str, data: bytes | str) -> None:
            self.writer.stage(rel, data)
            written.append(rel)

        page = run_page(ctx, self.store, run, summary, children=[],
                        parent_exists=parent_exists, models=run_models, write=write,
                        last_event=last_event, arrays=arrays)
        write(page.path, get_template(self.env, page.template).render(page=page))
        write(f"runs/{summary.slug}/data.js", data_script(ctx, run, summary, arrays))
        return Prefetched(run_id=run_id, summary=summary, models=models, slug=slug,
                          parent_exists=parent_exists, run_models=run_models, written=written,
                          last_event=last_event,
                          requests=getattr(storage, "requests", 0) - sent[0],
                          fetched=getattr(storage, "fetched", 0) - sent[1])
