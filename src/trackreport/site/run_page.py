"""The page of one run (``runs/<run_id>/index.html``) and its data script for compare."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

from ..records import RUNNING, Run
from ..redact import redact_text
from ..store import Store
from . import format as fmt
from .common import NO_FINITE, STATUS_NOTE, STATUS_TEXT, SiteContext
from .environment import environment
from .media import image_steps
from .models import RunModel
from .notes import json_script, json_text, render_markdown
from .pages import (
    Artifact,
    Chart,
    Fact,
    ImageRow,
    KeyValue,
    Link,
    MetricRow,
    Note,
    RunDataset,
    RunPage,
)
from .previews import ArtifactBuilder
from .ranking import GOAL_WORDS, metric_goal
from .story import MetricInfo
from .summaries import RunSummary, SeriesArrays, series_arrays
from .urls import relative

COMPARE_POINTS = 300
"""Points per series in a run's data script (compare page)."""


def run_page(ctx: SiteContext, store: Store, run: Run, summary: RunSummary, *,
             children: list[RunSummary], parent_exists: bool, models: list[RunModel],
             write: Callable[[str, bytes | str], None], last_event: float | None,
             arrays: SeriesArrays | None = None) -> RunPage:
    """The page of one run; its artifact files and previews go through ``write``.

    ``arrays``: ``series_arrays(run)``, when the caller has it already.
    """
    arrays = series_arrays(run) if arrays is None else arrays
    path = summary.page
    exp = ctx.settings.get(run.experiment)
    primary_key = ctx.primary_metric(run.experiment, [summary])
    crumbs = [("All experiments", "index.html"), (run.experiment, ctx.exp_page(run.experiment)),
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
                          if parent_exists
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
        info = MetricInfo.of(key, exp)  # the experiment's label and format (percent)
        shown = info.value
        metric_rows.append(MetricRow(
            key=key, last=NO_FINITE if no_finite else shown(st.last),
            min="" if no_finite else shown(st.min),
            max="" if no_finite else shown(st.max), steps=fmt.integer(st.count),
            last_step=fmt.integer(st.last_step), goal_words=GOAL_WORDS.get(goal or "", ""),
            primary=key == primary_key, note=note))
        if key == primary_key:
            label = info.label
            primary.append(Fact(label, shown(st.last),
                                detail=GOAL_WORDS.get(goal or "", "")))
            if st.count > 1 and goal:
                best = st.max if goal == "max" else st.min
                primary.append(Fact(f"best {label} during the run", shown(best),
                                    detail=f"over {fmt.plural(st.count, 'step')}"))
        finite = st.count if not note else sum(1 for v in s.values if math.isfinite(v))
        if finite < 2:  # one point makes no line: the table says it all
            continue
        steps, values = arrays[key]
        spec = charts_mod.metric_chart(
            key, key, [charts_mod.Line(run.run_id, run.name, steps, values)], goal,
            arrays=True)
        charts_list.append(Chart(id=chart_id(), title=key, spec=json_script(spec),
                                 note=note))
    # artifacts
    artifacts = ArtifactBuilder(store, run.run_id, f"runs/{summary.slug}", path,
                                write, relative, chart_id)
    source_path = run.context.get("source")
    source_entry: Artifact | None = None
    source_record = None
    if isinstance(source_path, str):
        source_record = next((a for a in run.artifacts if a.path == source_path), None)
    # images logged with log_image: a row per key with every step (not in the file tree)
    steps_by_key = image_steps(f"runs/{summary.slug}", run.artifacts)
    skip = {record.path for steps in steps_by_key.values() for _, record, _ in steps}
    if source_record is not None:
        skip.add(source_record.path)
    tree = artifacts.tree(run.artifacts, skip=skip)
    if source_record is not None:
        source_entry = artifacts.entry(source_record, source=True)
    images = []
    for key, steps in steps_by_key.items():
        links = [Link(fmt.integer(step), url) for step, record, _ in steps
                 if (url := artifacts.copy(record)[0])]
        if links:
            images.append(ImageRow(key=key, steps=links))
    total = sum(a.size for a in run.artifacts)
    # environment
    env_facts, packages, command = environment(run.context)
    page = RunPage(
        **ctx.base("run.html", "run", path, run.name, run.name, crumbs,
                   extra_scripts=["assets/media.js"] if images else (),
                   updated=("Run last updated", last_event)),
        run_id=run.run_id, name=run.name, status=run.status,
        status_text=STATUS_TEXT.get(run.status, run.status.title()),
        status_note=STATUS_NOTE.get(run.status, ""),
        # scrubbed again: stores written before errors were scrubbed at run end
        error=redact_text(str(run.error)) if run.error else "",
        experiment=Link(run.experiment, relative(ctx.exp_page(run.experiment), path)),
        summary=" · ".join(parts), primary=primary, facts=facts, git=git_facts,
        command=command,
        params=[KeyValue(k, fmt.param(v), fmt.plain_number(v)) for k, v in
                sorted(run.params.items())],
        metrics=metric_rows, charts=charts_list,
        tags=[KeyValue(k, v) for k, v in sorted(run.tags.items())],
        notes=[Note(render_markdown(n.markdown), fmt.date_time(n.time)) for n in run.notes],
        images=images, artifacts=tree, artifacts_size=fmt.size(total) if run.artifacts else "",
        source=source_entry, environment=env_facts, packages=packages,
        children=[ctx.run_line(r, path) for r in sorted(
            children, key=lambda r: (r.start or 0.0, r.run_id))],
        models=models,
        datasets=[run_dataset(d) for d in run.datasets if isinstance(d, dict)],
        problems=problems(run),
    )
    return page



def data_script(ctx: SiteContext, run: Run, summary: RunSummary,
                arrays: SeriesArrays | None = None) -> str:
    """The run's data script for the compare page (``runs/<run_id>/data.js``).

    Raw values (for ranking and charts) go with the words a person reads:
    each metric's label and its last, min and max in the experiment's format
    (``99.5 %``), params as logged, and each image key's steps with the site
    path of its file. ``arrays``: ``series_arrays(run)``, when the caller has it already.
    """
    from . import charts as charts_mod

    arrays = series_arrays(run) if arrays is None else arrays
    exp = ctx.settings.get(run.experiment)
    series = {}
    metrics = {}
    for key, s in run.metrics.items():
        if not s.values:
            continue
        if len(s.steps) <= COMPARE_POINTS:
            steps, values = s.steps, s.values
        else:
            steps, values = charts_mod.downsample_arrays(*arrays[key], COMPARE_POINTS)
        # Drawn only: 6 significant digits (the metrics above keep every digit).
        series[key] = {"steps": steps, "values": charts_mod.round_array(values)}
        st = summary.stats[key]
        info = MetricInfo.of(key, exp)
        metrics[key] = {"last": st.last, "min": st.min, "max": st.max, "steps": st.count,
                        "goal": metric_goal(key, exp), "label": info.label,
                        "text": _value_words(st, info.percent)}
    page = "compare/index.html"
    images = {key: [[step, relative(site_path, page)] for step, _, site_path in steps]
              for key, steps in image_steps(f"runs/{summary.slug}", run.artifacts).items()}
    data = {
        "run_id": run.run_id, "name": run.name, "experiment": run.experiment,
        "status": run.status,
        "url": relative(summary.page, page),
        "params": {k: v for k, v in run.params.items()},
        "param_text": {k: fmt.param(v) for k, v in run.params.items()},
        "metrics": metrics, "series": series, "images": images,
        "primary_metric": exp.primary_metric if exp else None,
    }
    key = json.dumps(run.run_id).replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    text = (f"(window.trackreportRuns = window.trackreportRuns || {{}})[{key}] = "
            f"{json_text(data)};\n")
    return text



def _value_words(st: Any, percent: bool) -> dict[str, str]:
    """Last, min and max of a metric as the site writes them (``99.5 %``); NaN in words."""
    if math.isnan(st.min):
        return {"last": NO_FINITE, "min": "", "max": ""}
    return {"last": "not a number" if math.isnan(st.last) else fmt.value(st.last, percent),
            "min": fmt.value(st.min, percent), "max": fmt.value(st.max, percent)}


def problems(run: Run) -> list[str]:
    """What went wrong reading the run, in words."""
    p = run.problems
    out = []
    if p.torn_lines:
        out.append(f"{fmt.plural(p.torn_lines, 'torn last line')} skipped (a writer stopped "
                   "mid-write).")
    if p.corrupt_lines:
        out.append(f"{fmt.plural(p.corrupt_lines, 'corrupt line')} skipped.")
    out.extend(p.messages)
    return out


def run_dataset(record: dict[str, Any]) -> RunDataset:
    """A ``dataset`` event (``log_input``) for the run page; odd field types show as text."""
    def text(key: str) -> str:
        value = record.get(key)
        return value if isinstance(value, str) else ""

    words = []
    rows = record.get("rows")
    if isinstance(rows, int) and not isinstance(rows, bool):
        words.append(fmt.plural(rows, "row"))
    if text("context"):
        words.append(f"used for {text('context')}")
    if text("source"):
        words.append(f"from {text('source')}")
    schema = record.get("schema") if isinstance(record.get("schema"), dict) else {}
    columns = [KeyValue(str(c.get("name")), str(c.get("dtype")))
               for c in schema.get("columns") or [] if isinstance(c, dict)] \
        if isinstance(schema.get("columns"), list) else []
    if schema.get("type") == "array":
        shape = schema.get("shape") if isinstance(schema.get("shape"), list) else []
        columns = [KeyValue("array", f"{' × '.join(str(d) for d in shape)} "
                                     f"{schema.get('dtype') or ''}".strip())]
    return RunDataset(name=text("name") or "unnamed data set", summary=", ".join(words),
                      digest=text("digest"), columns=columns)
