"""The page of one experiment (``experiments/<slug>/index.html``) and its index card."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import numpy as np

from ..records import FAILED, FINISHED, KILLED, RUNNING, Experiment
from . import format as fmt
from .common import NO_FINITE, STATUS_TEXT, SiteContext
from .notes import first_paragraph, json_script, render_markdown
from .pages import (
    BestRun,
    Cell,
    Chart,
    Column,
    ExperimentCard,
    ExperimentPage,
    Fact,
    LazyCells,
    Link,
    Row,
    RunsTable,
    Sparkline,
)
from .ranking import GOAL_WORDS, Ranking, better, find_baseline, metric_goal
from .story import MetricInfo, baseline_words, headline
from .summaries import KEPT_POINTS, RunSummary, downsample_arrays
from .urls import relative

CHART_RUNS = 30
"""At most this many runs are overlaid in one experiment chart (the best ones)."""
CHART_POINT_BUDGET = 12_000
"""About this many points per experiment chart, shared by its runs."""
BIG_TABLE_COLUMNS = 50
BIG_TABLE_ROWS = 200
"""Past this many columns or rows a runs table gets fixed column widths (fast layout)."""
PARALLEL_PARAMS = 12


@dataclass
class ExperimentView:
    """What the page and the index card of one experiment share."""

    name: str
    exp: Experiment
    path: str
    runs: list[RunSummary]
    ranking: Ranking
    info: MetricInfo | None
    tie_info: MetricInfo | None
    baseline: RunSummary | None
    last_activity: float | None
    counts: str
    sentences: list[str]


def experiment_view(ctx: SiteContext, name: str, runs: list[RunSummary]) -> ExperimentView:
    """Rank the runs of experiment ``name`` and say what stands out."""
    ranking, info, tie_info = ctx.ranking(name, runs)
    baseline = find_baseline(runs)
    return ExperimentView(
        name=name, exp=ctx.settings.get(name) or Experiment(name), path=ctx.exp_page(name),
        runs=runs, ranking=ranking, info=info, tie_info=tie_info, baseline=baseline,
        last_activity=max((r.end or r.start or 0.0 for r in runs), default=None),
        counts=_status_counts(runs),
        sentences=headline(runs, ranking, baseline, info, tie_info))


def experiment_page(ctx: SiteContext, view: ExperimentView,
                    last_event: float | None) -> ExperimentPage:
    """The page of one experiment: which run is best, and why.

    ``last_event``: the latest event of its runs (the footer).
    """
    name, exp, path, runs = view.name, view.exp, view.path, view.runs
    ranking, info, tie_info = view.ranking, view.info, view.tie_info
    key = ranking.key
    goal = ranking.goal
    ordered = ranking.ordered
    baseline = view.baseline
    winner = ranking.winner
    last_activity = view.last_activity
    counts = view.counts
    sentences = view.sentences
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
    charts_list, bar_list, no_chart = experiment_charts(ordered, key, exp, counter)
    parallel_chart = parallel(ordered, key, goal, counter)
    slug = ctx.exp_slug(name)
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
        **ctx.base("experiment.html", "experiment", path, name, name,
                    [("All experiments", "index.html"), (name, "")],
                    updated=("Experiment last updated", last_event)),
        name=name, description=render_markdown(exp.description) if exp.description
        else render_markdown(""),
        highlights=sentences, facts=facts,
        best=best_run(winner, info, baseline, path) if winner else None,
        best_metrics=best_metrics[:8],
        table=runs_table(ordered, exp, ranking, baseline, path) if runs else None,
        charts=charts_list, bar_charts=bar_list,
        no_chart_text=_no_chart_text(no_chart), parallel=parallel_chart,
        downloads=[Link("Runs as CSV", relative(f"experiments/{slug}/runs.csv", path)),
                   Link("Runs as JSON", relative(f"experiments/{slug}/runs.json", path))]
        if runs else [],
        metric_meanings=meanings, compare_top=compare_top,
    )
    return page


def experiment_card(view: ExperimentView) -> ExperimentCard:
    """The experiment's card on the index page."""
    exp, path, runs, info = view.exp, view.path, view.runs, view.info
    winner, baseline, last_activity = view.ranking.winner, view.baseline, view.last_activity
    chron = sorted(runs, key=lambda r: (r.start or 0.0, r.run_id))
    spark, trend = sparkline(chron, info)
    return ExperimentCard(
        name=view.name, url=relative(path, "index.html"),
        description=first_paragraph(exp.description),
        runs_text=fmt.plural(len(runs), "run"),
        last_run=fmt.date_time(last_activity) if last_activity else "",
        last_run_time=fmt.iso(last_activity) if last_activity else "",
        status_text=view.counts, headline=view.sentences[:2],
        best=best_run(winner, info, baseline, "index.html") if winner else None,
        sparkline=spark, trend_text=trend,
    )


def best_run(r: RunSummary, info: MetricInfo | None, baseline: RunSummary | None,
             page: str) -> BestRun:
    value = r.value(info.key) if info else None
    diff = ""
    if info and baseline is not None and value is not None:
        base = baseline.value(info.key)
        if baseline is r:
            diff = "the baseline"
        elif base is not None:
            diff = (f"{info.difference(value, base)} over {baseline_words(baseline.name)} "
                    f"({info.value(base)})")
    return BestRun(name=r.name, url=relative(r.page, page), metric=info.key if info else "",
                   label=info.label if info else "",
                   value=info.value(value) if info else "",
                   goal_words=info.goal.words if info else "",
                   difference=diff, status=r.status, started=fmt.date_time(r.start),
                   started_time=fmt.iso(r.start))

def sparkline(chron: list[RunSummary], info: MetricInfo | None
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

def runs_table(ordered: list[RunSummary], exp: Experiment, ranking: Ranking,
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
                              title=f"{primary} minus {baseline_words(baseline.name)}'s"))
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

    def row_cells(r: RunSummary) -> list[Cell]:
        """The cells of one run's row (made as the page is written, one row at a time)."""
        cells = [Cell(STATUS_TEXT.get(r.status, r.status.title()), "run", None,
                      css=f"status status-{r.status.lower()}")]

        def metric_cell(k: str, r: RunSummary = r) -> Cell:
            st = r.stats.get(k)
            if st is None:
                return Cell("", "metrics", None)
            if math.isnan(st.min):  # every value NaN: words, and sorted last
                return Cell(NO_FINITE, "metrics", None, css="muted",
                            title="every logged value is NaN")
            return Cell(infos[k].value(st.last), "metrics", fmt.plain_number(st.last) or None,
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
                cells.append(Cell(infos[k].value(v) if v is not None else "", "metrics-minmax",
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
        return cells

    rows = []
    for r in grouped:
        parent = r.parent_run_id if r.parent_run_id in children else ""
        rows.append(Row(run_id=r.run_id, name=r.name, url=relative(r.page, page),
                        status=r.status, cells=LazyCells(row_cells, r), parent=parent or "",
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


class _FiniteValues:
    """``finite(run)``: the finite kept values of one metric of a run, found when first asked.

    A chart needs them for the runs it shows and, to choose between lines and
    bars, only until the first run with more than one value.
    """

    def __init__(self, key: str) -> None:
        self.key = key
        self.found: dict[str, Any] = {}

    def __call__(self, run: RunSummary) -> Any:
        values = self.found.get(run.run_id)
        if values is None:
            values = run.series[self.key][1]
            values = self.found[run.run_id] = values[np.isfinite(values)]
        return values


def experiment_charts(ordered: list[RunSummary], primary: str | None,
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
        finite = _FiniteValues(key)
        if not any(finite(r).size for r in having):
            no_chart.append(key)
            continue
        if all(finite(r).size <= 1 for r in having):
            order = charts_mod.bar_order(key, goal)
            bars = [charts_mod.Bar(r.run_id, labels[r.run_id],
                                   float(finite(r)[0]) if finite(r).size
                                   else math.nan)
                    for r in shown]
            spec = charts_mod.bar_chart(f"{label} by run", key, bars, goal, order=order,
                                        domain=domain)
            if spec is None:  # pragma: no cover - a finite value exists
                continue
            first = "Lowest first" if order == "min" else "Highest first"
            words = GOAL_WORDS.get(goal or "", "")
            order_note = f"{first} ({words})." if words else f"{first}."
            missing = sum(1 for r in shown if not finite(r).size)
            if missing:
                order_note += (f" {fmt.plural(missing, 'run')} without a finite value "
                               "not shown.")
            drawn = len(shown) - missing
            bars_out.append(Chart(id=f"chart-{next(counter)}", title=f"{label} by run",
                                  spec=json_script(spec),
                                  note=" ".join(n for n in (order_note, note) if n),
                                  height=charts_mod.bar_chart_height(drawn)))
            continue
        once = [labels[r.run_id] for r in shown if finite(r).size == 1]
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
            s, v = downsample_arrays(steps, values, points)
            lines.append(charts_mod.Line(r.run_id, labels[r.run_id], s, v))
        spec = charts_mod.metric_chart(label, key, lines, goal, domain=domain, arrays=True)
        lines_out.append(Chart(id=f"chart-{next(counter)}", title=label,
                               spec=json_script(spec), note=note))
    return lines_out, bars_out, no_chart


def _varies(runs: list[RunSummary], key: str) -> bool:
    """True when param ``key`` reads differently in two of ``runs`` (missing: ``None``)."""
    texts = (fmt.param(r.params.get(key)) for r in runs)
    first = next(texts, None)
    return any(text != first for text in texts)


def parallel(ordered: list[RunSummary], key: str | None, goal: str | None,
             counter: Any) -> Chart | None:
    if key is None or goal is None:
        return None
    having = [r for r in ordered if r.value(key) is not None]
    if len(having) < 2:
        return None
    keys = sorted({k for r in having for k in r.params})
    varying = [k for k in keys if _varies(having, k)]
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
