"""The ``trackreport`` command line: a thin click layer over library functions."""

from __future__ import annotations

import logging
import math
import os
import signal
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from . import __version__, env
from .errors import TrackreportError
from .storage import is_url
from .store import Store, check_location
from .tables import clean_text

STORE_HELP = ("The store: a folder, or a URL such as s3://bucket/prefix "
              "(default: $TRACKREPORT_STORE, else ./trackruns).")


class StoreURL(str):
    """``--store`` given as a URL, with the ``--storage-option`` values that go with it."""

    storage_options: dict[str, Any]


def store_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """The ``--store`` option (and ``--storage-option``) shared by every command."""
    func = click.option("--store", "store", type=click.Path(),
                        envvar=env.TRACKREPORT_STORE, default=env.DEFAULT_STORE,
                        show_default=True, help=STORE_HELP, callback=_store_path)(func)
    return click.option("--storage-option", "storage_options", multiple=True,
                        metavar="KEY=VALUE", expose_value=False, is_eager=True,
                        callback=_storage_options,
                        help="An fsspec option for a URL store, e.g. "
                             "endpoint_url=http://127.0.0.1:9000 (repeatable).")(func)


def _storage_options(ctx: click.Context, param: click.Parameter,
                     value: tuple[str, ...]) -> None:
    options: dict[str, Any] = {}
    for item in value:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{item!r} is not KEY=VALUE", ctx=ctx, param=param)
        options[key.strip()] = _option_value(text)
    ctx.meta["trackreport.storage_options"] = options


def _option_value(text: str) -> Any:
    """``true``/``false``/numbers as such (fsspec options such as ``anon=true``), else text."""
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    try:
        return int(text)
    except ValueError:
        return text


def _store_path(ctx: click.Context, param: click.Parameter, value: str) -> Path | StoreURL:
    """``--store`` as a Path, or a StoreURL carrying its storage options."""
    text = check_location(value)
    if is_url(text):
        url = StoreURL(text)
        url.storage_options = (ctx.meta.get("trackreport.storage_options")
                               or env.storage_options() or {})
        return url
    return Path(text)


def store_at(path: Path | StoreURL) -> Store:
    """The store at ``path``: a folder, or a URL with its storage options."""
    if isinstance(path, StoreURL):
        return Store(str(path), storage_options=path.storage_options)
    return Store(path)


def open_store(path: Path | StoreURL) -> Store:
    """A readable store at ``path`` (one clear error otherwise)."""
    if not isinstance(path, StoreURL) and path.exists() and not path.is_dir():
        raise TrackreportError(f"--store {path} is a file, not a store folder")
    store = store_at(path)
    store.check_format()
    return store


class TrackreportGroup(click.Group):
    """A click group that turns TrackreportError into one line on stderr and exit 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except TrackreportError as exc:
            raise click.ClickException(_one_line(clean_text(str(exc)))) from None
        except PermissionError as exc:  # e.g. a store folder this user may not list
            where = f": {exc.filename}" if exc.filename else ""
            raise click.ClickException(_one_line(f"{exc.strerror or exc}{where}")) from None
        except BrokenPipeError:  # `trackreport runs | head`
            sys.stderr.close()
            sys.exit(0)


@click.group(cls=TrackreportGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="trackreport")
def cli() -> None:
    """trackreport: experiment tracking without a server.

    Runs are plain append-only JSONL files in a store folder; `trackreport build`
    turns the store into a static website.
    """


@cli.command("runs")
@store_option
@click.option("--experiment", "-e", help="Only runs of this experiment.")
@click.option("--filter", "-f", "filter_", metavar="F",
              help="MLflow search syntax plus OR, NOT and parentheses, e.g. "
                   "\"metrics.val_acc > 0.9 and params.model = 'gb'\".")
@click.option("--sort", "-s", metavar="K",
              help="Sort by a column, e.g. metrics.val_acc; prefix '-' or add ' DESC' "
                   "for descending.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json", "markdown"]),
              default="table", show_default=True, help="Output format.")
@click.option("--columns", metavar="C1,C2", help="Only these columns (comma-separated).")
def runs_cmd(store: Path, experiment: str | None, filter_: str | None, sort: str | None,
             fmt: str, columns: str | None) -> None:
    """List runs, one row each: name, status, times, params, metrics (last), tags."""
    from .frames import rows_frame, run_rows, sort_runs
    from .tables import RENDERERS

    logged = run_rows(open_store(store), experiment=experiment)
    df = rows_frame(logged, filter_)
    if sort:
        key, descending = _sort_key(sort)
        if key not in df.columns:
            raise TrackreportError(f"--sort: no column {key!r}; columns are: "
                                   + ", ".join(df.columns[:30]))
        df = sort_runs(df, key, descending=descending)
    ids = list(df["run_id"])
    if columns is not None:
        wanted = [c.strip() for c in columns.split(",") if c.strip()]
        if not wanted:
            raise TrackreportError(f"--columns {columns!r} names no column; give names "
                                   "separated by commas, e.g. run_name,metrics.val_acc")
        missing = [c for c in wanted if c not in df.columns]
        if missing:
            raise TrackreportError(f"--columns: no column {missing[0]!r}")
        df = df[wanted]
    elif fmt == "table":  # a terminal: the most telling columns first, metrics before params
        df = df.drop(columns=[c for c in ("end_time", "host", "git_branch", "parent_run_id")
                              if c in df.columns])
        df["git_commit"] = df["git_commit"].map(lambda c: c[:8] if isinstance(c, str) else c)
        rank = {"metrics.": 1, "params.": 2, "tags.": 3}
        df = df[sorted(df.columns, key=lambda c: next(
            (r for p, r in rank.items() if c.startswith(p)), 0))]
    headers = list(df.columns)
    rows = [[_plain(v, fmt) for v in row] for row in df.itertuples(index=False, name=None)]
    by_id = {row["run_id"]: row for row in logged}
    for cells, run_id in zip(rows, ids, strict=True):  # never logged: empty, not NaN
        for i, column in enumerate(headers):
            if column.startswith("metrics.") and column not in by_id[run_id]:
                cells[i] = None
    if fmt == "table" and not rows:
        click.echo("No runs." if not filter_ else "No runs match the filter.")
        return
    click.echo(RENDERERS[fmt](headers, rows))


def _sort_key(text: str) -> tuple[str, bool]:
    text = text.strip()
    upper = text.upper()
    if upper.endswith(" DESC"):
        return text[:-5].strip(), True
    if upper.endswith(" ASC"):
        return text[:-4].strip(), False
    if text.startswith("-"):
        return text[1:], True
    return text, False


def _plain(value: Any, fmt: str) -> Any:
    import pandas as pd

    if value is None:
        return None
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, pd.Timedelta):
        if pd.isna(value):
            return None
        seconds = value.total_seconds()
        if fmt == "table":
            from .display import duration

            return duration(seconds)
        return seconds
    if value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value) and fmt == "table":
        return None
    if hasattr(value, "item") and not isinstance(value, (list, dict, str)):
        try:
            return value.item()
        except (ValueError, AttributeError):
            return value
    return value


@cli.command("show")
@click.argument("run_id")
@store_option
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def show_cmd(run_id: str, store: Path, as_json: bool) -> None:
    """Everything about one run (RUN_ID may be a unique prefix)."""
    import orjson

    from .inspection import resolve_run_id, run_summary
    from .reader import read_run

    st = open_store(store)
    summary = run_summary(read_run(st, resolve_run_id(st, run_id)))
    if as_json:
        click.echo(orjson.dumps(summary, option=orjson.OPT_INDENT_2).decode())
        return
    from .tables import cell_text, clean_lines, render_table

    def text(value: Any) -> str:
        return clean_text(cell_text(value))

    click.echo(f"{text(summary['name'])}  ({summary['run_id']})")
    click.echo(f"  experiment  {text(summary['experiment'])}")
    error = clean_lines(str(summary["error"])).splitlines() if summary["error"] else []
    click.echo(f"  status      {summary['status']}" + (f": {error[0]}" if error else ""))
    if error[1:]:
        click.echo(_indent("\n".join(error[1:]), 14))
    click.echo(f"  started     {summary['start_time']}")
    if summary["end_time"]:
        click.echo(f"  ended       {summary['end_time']} ({summary['duration']})")
    ctx = summary["context"]
    for label, value in (("user", ctx.get("user")), ("host", ctx.get("host"))):
        if value:
            click.echo(f"  {label:<11} {text(value)}")
    git = ctx.get("git") or {}
    if git.get("commit"):
        dirty = " (uncommitted changes)" if git.get("dirty") else ""
        click.echo(f"  git         {text(git['commit'][:12])} on "
                   f"{text(git.get('branch') or 'detached HEAD')}{dirty}")
    entry = ctx.get("entry_point") or {}
    if entry.get("argv"):
        click.echo("  command     " + " ".join(text(a) for a in entry["argv"]))
    if summary["parent_run_id"]:
        click.echo(f"  parent      {summary['parent_run_id']}")
    click.echo(f"  site page   runs/{summary['run_id']}/index.html  (in the built site)")
    if summary["params"]:
        click.echo("\nParams")
        from .display import param  # as logged, as the site's run page shows it

        rows = [[k, param(v)] for k, v in summary["params"].items()]
        click.echo(_indent(render_table(["param", "value"], rows)))
    if summary["metrics"]:
        click.echo("\nMetrics")
        rows = [[k, m["last"], m["min"], m["max"], m["steps"]]
                for k, m in summary["metrics"].items()]
        click.echo(_indent(render_table(["metric", "last", "min", "max", "steps"], rows)))
    if summary["tags"]:
        click.echo("\nTags")
        click.echo(_indent(render_table(["tag", "value"], list(summary["tags"].items()))))
    if summary["artifacts"]:
        click.echo("\nArtifacts")
        rows = [[a["path"], a["size"], a["media_type"]] for a in summary["artifacts"]]
        click.echo(_indent(render_table(["path", "bytes", "type"], rows, max_width=70)))
    for note in summary["notes"]:
        click.echo("\nNote")
        click.echo(_indent(clean_lines(note)))
    for problem in summary["problems"]:
        click.echo(f"\nwarning: {clean_text(problem)}")


def _indent(text: str, width: int = 2) -> str:
    return "\n".join(" " * width + line for line in text.splitlines())


@cli.command("check")
@store_option
def check_cmd(store: Path) -> None:
    """Check every events file: torn last lines (warning), corrupt lines (error), unknown events.

    Exits 1 when a corrupt line is found; a torn last line alone exits 0.
    """
    from .inspection import check_store

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = check_store(open_store(store))
    for report in result.files:
        if report.torn_last_line:
            click.echo(f"warning: {report.path}: torn last line (a writer stopped mid-write)")
        if report.unreadable:
            click.echo(f"error: {clean_text(report.unreadable)}")
        if report.corrupt_lines:
            lines = ", ".join(str(n) for n in report.corrupt_lines[:10])
            more = " ..." if len(report.corrupt_lines) > 10 else ""
            click.echo(f"error: {report.path}: {len(report.corrupt_lines)} corrupt line(s): "
                       f"line {lines}{more}")
            for number in report.corrupt_lines[:3]:
                why = report.reasons.get(number)
                if why:
                    click.echo(f"  line {number}: {clean_text(why)}")
        for kind, count in sorted(report.unknown_events.items()):
            click.echo(f"note: {report.path}: {count} event(s) of unknown type {kind!r} ignored")
    for message in result.warnings:
        click.echo(f"warning: {clean_text(message)}")
    for run_id, name in result.running:
        click.echo(f"running: {run_id} ({clean_text(name)}) has not ended: still running, or "
                   "its process was killed")
    verdict = "OK" if result.ok else "CORRUPT"
    unreadable = f", {result.unreadable} unreadable files" if result.unreadable else ""
    click.echo(f"{verdict}: {result.runs} runs, {len(result.files)} files, "
               f"{result.corrupt} corrupt lines, {result.torn} torn last lines, "
               f"{len(result.running)} running{unreadable}")
    if not result.ok:
        sys.exit(1)


@cli.command("build")
@store_option
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path), default="site",
              show_default=True, help="Folder to write the site into.")
@click.option("--theme", default=None, metavar="NAME|PATH",
              help="'default' or a theme folder overriding any of the default templates.")
@click.option("--title", default=None, help="Site title (default: Experiments).")
@click.option("--clean", is_flag=True,
              help="Rebuild everything (ignore the cache in <out>/.trackreport-cache/).")
def build_cmd(store: Path, out: Path, theme: str | None, title: str | None,
              clean: bool) -> None:
    """Build the static report site from the store (only what changed since the last build)."""
    from .site.build import build_site

    st = open_store(store)
    progress = _progress_bar() if sys.stderr.isatty() and not os.environ.get("CI") else None
    try:
        with _terminate_as_interrupt():
            result = build_site(st, out, theme=theme, title=title, progress=progress,
                                clean=clean)
    except OSError as exc:  # a disk that fills up or goes away mid-build
        raise click.ClickException(
            f"cannot build the site into {str(out)!r}: {exc.strerror or exc}") from None
    finally:
        if progress is not None:
            progress(-1, -1)
    index = Path(result.index_path)
    shown = os.path.relpath(index) if not index.is_absolute() or _under_cwd(index) else index
    click.echo(f"Built {result.experiments} experiment{'s' if result.experiments != 1 else ''}, "
               f"{result.runs} run{'s' if result.runs != 1 else ''}, {result.pages} pages "
               f"in {result.seconds:.1f} s -> {shown}")


@cli.command("compact")
@store_option
def compact_cmd(store: Path | StoreURL) -> None:
    """Fold the segments of every writer (live or dead) into compacted objects (object stores).

    Safe while runs log and while others read: readers skip what a compacted
    object covers, and a writer that closes later writes a wider object.
    """
    from .compaction import compact_store

    st = open_store(store)
    if not isinstance(store, StoreURL):
        click.echo("Nothing to compact: a local store keeps one file per writer.")
        return
    written, removed = compact_store(st)
    if not written and not removed:
        click.echo("Nothing to compact: every writer's events are already one object.")
        return
    click.echo(f"Compacted: {written} object{'s' if written != 1 else ''} written, "
               f"{removed} folded object{'s' if removed != 1 else ''} deleted.")


@cli.command("serve")
@store_option
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True,
              help="Port to listen on (0: any free port).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (the default is this machine only).")
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder to build into (default: a temporary folder removed on exit).")
@click.option("--theme", default=None, metavar="NAME|PATH", help="As for build.")
@click.option("--title", default=None, help="Site title (default: Experiments).")
def serve_cmd(store: Path, port: int, host: str, out: Path | None, theme: str | None,
              title: str | None) -> None:
    """Build the site, serve it, and rebuild it whenever the store changes.

    Open pages reload themselves after each rebuild. A store on object storage
    is checked every $TRACKREPORT_FLUSH_SECONDS (10 s by default). Ctrl-C stops.
    """
    from .site.serve import serve

    target = open_store(store) if isinstance(store, StoreURL) else store
    status = serve(target, out, host=host, port=port, theme=theme, title=title,
                   echo=lambda line: click.echo(line))
    # Stopped and cleaned up: leave now (tearing down pandas & co. costs seconds).
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


@contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM (a CI job's time limit, say) stops the build as Ctrl-C does.

    The unfinished site folder is deleted and the build workers stop, rather
    than the process ending at once and leaving both behind; exit status 143.
    """
    def stop(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)

    try:
        previous = signal.signal(signal.SIGTERM, stop)
    except ValueError:  # not the main thread: the caller's handling stands
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _under_cwd(path: Path) -> bool:
    try:
        path.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return False
    return True


def _progress_bar(label: str = "Building") -> Callable[[int, int], None]:
    state: dict[str, Any] = {}

    def update(done: int, total: int) -> None:
        if done < 0:
            bar = state.pop("bar", None)
            if bar is not None:
                bar.__exit__(None, None, None)
            return
        if "bar" not in state:
            state["bar"] = click.progressbar(length=max(total, 1), label=label,
                                             file=sys.stderr)
            state["bar"].__enter__()
            state["done"] = 0
        state["bar"].update(done - state["done"])
        state["done"] = done

    return update


@cli.command("summary")
@store_option
@click.option("--experiment", "-e", default=None, help="Only this experiment.")
@click.option("--baseline", "-b", default=None, metavar="RUN|TAG",
              help="A run id, a run name, or a tag key (the newest run whose tag is true). "
                   "Default: the newest run tagged baseline=true, else the first run.")
@click.option("--limit", "-n", type=int, default=10, show_default=True,
              help="Newest runs per experiment in the table.")
@click.option("--images", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write chart images into this folder and link them (relative to --output, "
                   "else to the current folder).")
@click.option("--images-url", default=None, metavar="PREFIX",
              help="Link the images under this URL instead (where they are published).")
@click.option("--image-format", type=click.Choice(["png", "svg"]), default="png",
              show_default=True, help="Chart image format.")
@click.option("--site-url", default=None, metavar="URL",
              help="The published site: run names link to their pages there.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the Markdown to this file (default: standard output).")
def summary_cmd(store: Path, experiment: str | None, baseline: str | None, limit: int,
                images: Path | None, images_url: str | None, image_format: str,
                site_url: str | None, output: Path | None) -> None:
    """A Markdown report for CI: best runs, newest runs against the baseline, charts.

    Suits $GITHUB_STEP_SUMMARY and pull-request comments:
    trackreport summary >> "$GITHUB_STEP_SUMMARY"
    """
    from .summary import SummaryError, images_for, make_summary

    if images_url is not None and images is None:
        raise SummaryError("--images-url needs --images (the folder the images are written to)")
    where = images_for(images, output, images_url, image_format) if images is not None else None
    text = make_summary(open_store(store), experiment=experiment, baseline=baseline,
                        limit=limit, images=where, site_url=site_url)
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(f"cannot write {str(output)!r}: {exc.strerror or exc}") from None


@cli.command("init-ci")
@click.argument("forge", type=click.Choice(["github", "gitlab"]))
@click.option("--force", is_flag=True, help="Replace an existing workflow file.")
def init_ci_cmd(forge: str, force: bool) -> None:
    """Write a CI workflow that builds the site and publishes it to GitHub or GitLab Pages.

    github: .github/workflows/trackreport-pages.yml; gitlab: .gitlab-ci.yml
    (in the current folder).
    """
    from .ci import write_workflow

    path = write_workflow(forge, ".", force=force)
    click.echo(f"Wrote {path.as_posix()}")
    if forge == "github":
        click.echo("Turn Pages on with Settings > Pages > Source: GitHub Actions, then push.")


@cli.group("publish", cls=TrackreportGroup)
def publish_group() -> None:
    """Publish the site: gh-pages commits it to a branch GitHub Pages serves."""


@publish_group.command("gh-pages")
@store_option
@click.option("--remote", default="origin", show_default=True, help="The git remote to push to.")
@click.option("--branch", default="gh-pages", show_default=True,
              help="The branch that receives the site as its whole tree.")
@click.option("--message", "-m", default=None, metavar="MSG", help="Commit message.")
@click.option("--no-push", is_flag=True, help="Commit only; do not push.")
@click.option("--theme", default=None, metavar="NAME|PATH", help="As for build.")
@click.option("--title", default=None, help="Site title (default: Experiments).")
def publish_gh_pages_cmd(store: Path, remote: str, branch: str, message: str | None,
                         no_push: bool, theme: str | None, title: str | None) -> None:
    """Build the site and commit it as the branch's whole tree (your checkout stays as it is)."""
    from .publish import open_repo, publish_gh_pages

    repo = open_repo(".")
    result = publish_gh_pages(open_store(store), repo, branch=branch, remote=remote,
                              message=message, push=not no_push, theme=theme, title=title)
    where = f", pushed to {result.pushed_to}" if result.pushed_to else " (not pushed)"
    click.echo(f"Published {result.files} files to {result.branch} as {result.commit[:12]}"
               f"{where}")


@cli.command("run", context_settings={"ignore_unknown_options": True,
                                      "allow_interspersed_args": False})
@store_option
@click.option("--experiment", "-e", default=None,
              help="Experiment of the program's runs (as MLFLOW_EXPERIMENT_NAME).")
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
def run_cmd(store: Path, experiment: str | None, command: tuple[str, ...]) -> None:
    """Run an unmodified MLflow program: `import mlflow` logs into the store.

    Example: trackreport run --store runs -- python train.py --alpha 0.5
    """
    from .shim import run_program

    sys.exit(run_program(list(command), store, experiment,
                         storage_options=getattr(store, "storage_options", None)))


@cli.group("import", cls=TrackreportGroup)
def import_group() -> None:
    """Import runs from another tracker (MLflow)."""


@import_group.command("mlflow")
@click.argument("source")
@store_option
@click.option("--experiment", "-e", "experiments", multiple=True, metavar="NAME",
              help="Import only this MLflow experiment (repeatable).")
def import_mlflow_cmd(source: str, store: Path, experiments: tuple[str, ...]) -> None:
    """Import an MLflow file store (mlruns/) or SQLite database (sqlite:///mlflow.db).

    Importing again adds only what is new.
    """
    from .importers.mlflow_import import import_mlflow

    progress = (_progress_bar("Importing") if sys.stderr.isatty() and not os.environ.get("CI")
                else None)
    try:
        report = import_mlflow(source, store_at(store), experiments or None,
                               progress=progress)
    finally:
        if progress is not None:
            progress(-1, -1)
    click.echo(report.summary())


@cli.group("models", cls=TrackreportGroup)
def models_group() -> None:
    """The model registry: list, show, register, alias."""


@models_group.command("list")
@store_option
def models_list_cmd(store: Path) -> None:
    """Registered models: latest version, aliases, description."""
    from .display import date_time
    from .registry import list_models
    from .tables import render_table

    found = list_models(open_store(store))
    if not found:
        click.echo("No registered models.")
        return
    rows = [[m.name, m.latest_version,
             ", ".join(f"{a}=v{v}" for a, v in m.aliases.items()),
             date_time(m.versions[-1].created), m.description.split("\n")[0]] for m in found]
    click.echo(render_table(["name", "latest", "aliases", "last registered", "description"],
                            rows))


@models_group.command("show")
@click.argument("name")
@store_option
def models_show_cmd(name: str, store: Path) -> None:
    """One registered model: its versions, source runs and aliases."""
    from .display import date_time
    from .registry import get_model
    from .tables import render_table

    model = get_model(open_store(store), name)
    click.echo(model.name)
    if model.description:
        click.echo(_indent(model.description))
    for alias, version in model.aliases.items():
        click.echo(f"  @{alias} -> version {version} (since {date_time(model.alias_since(alias))})")
    for key, value in model.tags.items():
        click.echo(f"  tag {key} = {value}")
    rows = [[v.version, ", ".join(v.aliases), v.source, date_time(v.created)]
            for v in model.versions]
    click.echo(_indent(render_table(["version", "aliases", "source", "registered"], rows,
                                    max_width=70)))


@models_group.command("register")
@click.argument("source", metavar="RUN_ID/PATH")
@click.argument("name")
@store_option
@click.option("--description", "-d", default=None, help="Description of this version.")
def models_register_cmd(source: str, name: str, store: Path, description: str | None) -> None:
    """Register the model RUN_ID/PATH (or runs:/RUN_ID/PATH) as the next version of NAME."""
    from .inspection import resolve_run_id
    from .models import parse_runs_uri
    from .registry import register_model

    st = open_store(store)
    if not source.startswith("runs:/"):
        run_part, _, path = source.partition("/")
        source = f"runs:/{resolve_run_id(st, run_part)}/{path or 'model'}"
    run_id, path = parse_runs_uri(source)
    version = register_model(st, run_id, path, name, description=description)
    click.echo(f"Registered {version.name} version {version.version} from {version.source}")


@models_group.command("alias")
@click.argument("name")
@click.argument("alias")
@click.argument("version")
@store_option
def models_alias_cmd(name: str, alias: str, version: str, store: Path) -> None:
    """Point ALIAS (e.g. champion) of model NAME at VERSION."""
    from .registry import set_model_alias

    set_model_alias(open_store(store), name, alias, version)
    click.echo(f"{name}@{alias} -> version {int(version)}")


def main() -> None:
    """Entry point: user mistakes become one line on stderr and exit 1, never a traceback."""
    logging.getLogger("trackreport").addHandler(logging.StreamHandler())
    warnings.showwarning = _show_warning
    cli(prog_name="trackreport")


def _show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                  file: Any = None, line: str | None = None) -> None:
    """Warnings (a torn line in a run still being written, ...) as one plain line."""
    click.echo(f"warning: {_one_line(str(message))}", err=True)


def _one_line(text: str) -> str:
    return " ".join(text.split())
