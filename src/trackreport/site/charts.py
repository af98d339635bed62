"""Vega-Lite chart specs for the site, made with altair.

Every function here returns a plain ``dict`` (a Vega-Lite spec), never HTML:
the page templates embed the dict as JSON and ``assets/charts.js`` draws it
with vega-embed. Long series are downsampled shape-preserving (MinMaxLTTB from
``tsdownsample``) so that a page stays small whatever the step count; tables
show the true last/min/max, charts only need the shape.

Output is deterministic: the same input gives the same dict in any process
(every selection parameter has an explicit name, data rows are built here and
never hashed by altair).
"""

from __future__ import annotations

import copy
import functools
import json
import math
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from . import format as fmt

__all__ = [
    "MAX_POINTS",
    "Bar",
    "Line",
    "bar_chart",
    "bar_chart_height",
    "bar_order",
    "downsample",
    "metric_chart",
    "parallel_coordinates",
    "round_significant",
    "unique_labels",
    "vegalite_artifact",
]

MAX_POINTS = 1000
"""About how many points one series keeps on a chart."""

CHART_HEIGHT = 240

# Names of the selection parameters: fixed, so the output never depends on
# altair's global counter (``param_1``, ``param_2``, ...).
LEGEND_PARAM = "legend_runs"
ZOOM_PARAM = "zoom_x"
HOVER_PARAM = "hover_point"
BAR_HOVER_PARAM = "hover_bar"

BAR_STEP = 26
"""Height of one bar's band, in px (a bar chart grows with its runs)."""
BAR_AXIS = 48
"""About the height of a bar chart's x axis and its title, in px."""


def bar_chart_height(n_bars: int) -> int:
    """About how tall a bar chart of ``n_bars`` bars is drawn, in px."""
    return n_bars * BAR_STEP + BAR_AXIS

# Colour schemes by number of runs: Tableau 10 is calm and distinct; past ten
# runs Tableau 20 repeats colours later.
_SCHEME_SMALL = "tableau10"
_SCHEME_LARGE = "tableau20"

# Steps are whole numbers: a tick between two steps (a short run, or zoomed
# in) gets no label. The expression holds no user data.
STEP_LABEL = "datum.value % 1 ? '' : format(datum.value, ',')"

_VEGALITE_SCHEMA_RE = re.compile(r"https://vega\.github\.io/schema/vega-lite/v[0-9][0-9.]*\.json")
VEGALITE_SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
# Top-level keys of a full Vega spec that Vega-Lite does not have.
_VEGA_ONLY_KEYS = ("marks", "signals", "scales", "axes", "legends", "projections")


@dataclass
class Line:
    """One run's series of one metric, as drawn on a chart.

    Attributes:
        run_id: the run's id (used to tell apart runs that share a name).
        label: what the legend and tooltips show, usually the run name. Keep
            labels unique on a page (see :func:`unique_labels`).
        steps: the logged steps, parallel to ``values``.
        values: the logged values; NaN and +-inf are allowed and not drawn.
    """

    run_id: str
    label: str
    steps: Sequence[int]
    values: Sequence[float]


def downsample(
    steps: Sequence[int], values: Sequence[float], n_out: int = MAX_POINTS
) -> tuple[list[int], list[float]]:
    """Reduce a series to about ``n_out`` points, keeping its shape.

    Non-finite values (NaN, +-inf) cannot be drawn and are dropped first, so a
    series that is all NaN gives two empty lists. A series with at most
    ``n_out`` finite points comes back unchanged (sorted by step). Longer
    series go through ``tsdownsample.MinMaxLTTBDownsampler``; the first and last
    points and the global minimum and maximum are always kept, so a spike
    never disappears from a chart.

    Args:
        steps: the steps (integers), parallel to ``values``.
        values: the values.
        n_out: the number of points to keep (at least 3).

    Returns:
        ``(steps, values)`` as plain Python lists of int and float.

    Raises:
        ValueError: ``steps`` and ``values`` differ in length, or ``n_out < 3``.
    """
    x, y = downsample_arrays(steps, values, n_out)
    return x.tolist(), y.tolist()


def downsample_arrays(steps: Sequence[int], values: Sequence[float], n_out: int) -> Any:
    """:func:`downsample` as numpy arrays ``(int64 steps, float64 values)``."""
    import numpy as np

    if n_out < 3:
        raise ValueError(f"n_out must be at least 3, got {n_out!r}")
    x = np.asarray(steps, dtype=np.int64).reshape(-1)
    y = np.asarray(values, dtype=np.float64).reshape(-1)
    if x.shape != y.shape:
        raise ValueError(
            f"steps and values differ in length: {x.shape[0]} steps, {y.shape[0]} values"
        )
    finite = np.isfinite(y)
    if not finite.all():
        x, y = x[finite], y[finite]
    if x.size > 1 and (x[1:] < x[:-1]).any():  # steps out of order
        order = np.argsort(x, kind="stable")
        x, y = x[order], y[order]
    if x.size > n_out:
        # Four slots stay free for the first, last, lowest and highest point, which
        # join tsdownsample's indices unless there (sorted and unique: its LTTB
        # walks the buckets in order; test_site_charts checks it)
        picked = _minmax_lttb()(x, y, max(3, n_out - 4))
        need = [0, x.size - 1, int(y.argmin()), int(y.argmax())]
        where = picked.searchsorted(need).tolist()
        if any(at >= picked.size or picked[at] != i for i, at in zip(need, where, strict=True)):
            picked = np.union1d(picked, np.array(need, dtype=picked.dtype))
        x, y = x[picked], y[picked]
    return x, y


@functools.lru_cache(maxsize=1)
def _minmax_lttb() -> Any:
    """``MinMaxLTTBDownsampler().downsample`` for contiguous int64 x and float64 y.

    tsdownsample's Python wrapper checks dtypes and picks the compiled function on
    every call (about ten times the cost of the downsampling itself for a
    1,000-point series, thousands of times per build); the inputs here are
    always int64/float64, so the compiled function is looked up once. The
    public wrapper is the fallback should a tsdownsample release rename it.
    """
    from tsdownsample import MinMaxLTTBDownsampler

    downsampler = MinMaxLTTBDownsampler()
    compiled = getattr(getattr(downsampler, "mod_single_core", None), "downsample_i64_f64",
                       None)
    if compiled is not None:
        import numpy as np

        return lambda x, y, n_out: compiled(np.ascontiguousarray(x), np.ascontiguousarray(y),
                                            n_out, ratio=4)  # 4: the wrapper's minmax_ratio
    return lambda x, y, n_out: downsampler.downsample(x, y, n_out=n_out)


SIGNIFICANT_DIGITS = 6
"""Significant digits of the values drawn on line charts (tables keep every digit)."""

# Exact powers of ten (10**22 is the largest a float holds exactly): dividing an
# integer by one, or multiplying by one, rounds once, to the float nearest the
# decimal, which prints with at most ``SIGNIFICANT_DIGITS`` digits.
_POW10 = [float(10**i) for i in range(23)]


def round_significant(values: Any, digits: int = SIGNIFICANT_DIGITS) -> list[float]:
    """``values`` rounded to ``digits`` significant digits, as a list of floats.

    Chart data needs no more: the shape is the same and the JSON is about
    three times shorter than with the 17 digits a float can print with.
    Non-finite values and zeros stay as they are. Vectorised with numpy; the
    result is the float nearest the rounded decimal, so it prints short.
    """
    return round_array(values, digits).tolist()  # type: ignore[no-any-return]


def round_array(values: Any, digits: int = SIGNIFICANT_DIGITS) -> Any:
    """:func:`round_significant` as a float64 numpy array (orjson writes it as the list)."""
    import numpy as np

    y = np.array(values, dtype=np.float64).reshape(-1)
    usual = np.isfinite(y) & (y != 0.0)
    pick = None
    if usual.all():  # the usual series: every value is rounded, no indexing
        v = y
    else:
        pick = np.flatnonzero(usual)
        if not pick.size:
            return y
        v = y[pick]
    k = (digits - 1) - np.floor(np.log10(np.abs(v))).astype(np.int64)
    pow10 = _pow10_array()
    up = (k >= 0) & (k <= 22)  # |v| below 10**digits: scale up, round, divide
    if up.all():
        scale = pow10[k]
        out = np.rint(v * scale) / scale
    else:
        down = (k < 0) & (k >= -22)  # big values: scale down, round, multiply
        out = v.copy()
        if up.any():
            scale = pow10[k[up]]
            out[up] = np.rint(v[up] * scale) / scale
        if down.any():
            scale = pow10[-k[down]]
            out[down] = np.rint(v[down] / scale) * scale
        for i in np.flatnonzero(~(up | down)).tolist():  # tiny or huge: rare
            out[i] = float(f"{float(v[i]):.{digits}g}")
    if pick is None:
        return out
    y[pick] = out
    return y


@functools.lru_cache(maxsize=1)
def _pow10_array() -> Any:
    import numpy as np

    return np.array(_POW10)


def unique_labels(runs: Sequence[tuple[str, str]]) -> dict[str, str]:
    """Give each run a legend label that no other run on the page shares.

    Args:
        runs: ``(run_id, name)`` pairs.

    Returns:
        ``{run_id: label}``: the name where it is unique, else
        ``"name (run_id)"``.
    """
    counts: dict[str, int] = {}
    for _, name in runs:
        counts[name] = counts.get(name, 0) + 1
    return {run_id: (name if counts[name] == 1 else f"{name} ({run_id})") for run_id, name in runs}


def _goal_phrase(goal: str | None) -> str:
    if goal == "max":
        return "higher is better"
    if goal == "min":
        return "lower is better"
    return ""


def metric_chart(
    title: str,
    key: str,
    lines: list[Line],
    goal: str | None = None,
    *,
    domain: Sequence[str] | None = None,
    show_title: bool = False,
    n_out: int = MAX_POINTS,
    arrays: bool = False,
) -> dict[str, Any]:
    """A line chart of one metric, one line per run.

    The legend toggles runs (click; shift-click adds), the x axis zooms and
    pans (wheel, drag; double-click resets), and the nearest point shows a
    tooltip with run, step and value. Each series is downsampled to about
    ``n_out`` points.

    Args:
        title: the chart's title in words (the spec's ``description``; shown
            only with ``show_title``, since the page prints it as a caption).
        key: the metric key, used as the y axis title.
        lines: one :class:`Line` per run. Colours follow the sorted labels, so
            charts of one page agree when they get the same runs.
        goal: ``"min"``, ``"max"`` or None; named in the description.
        domain: the labels of every run of the page, when some runs have no
            line on this chart; keeps colours the same across the page.
            Defaults to the sorted labels of ``lines``.
        show_title: put ``title`` on the chart itself (for images rendered
            outside a page).
        n_out: points per series after downsampling.
        arrays: the rows' steps and values as numpy arrays rather than lists,
            for ``notes.json_script`` (the same JSON, without making a Python
            number of each point); vl-convert needs the lists.

    Returns:
        A Vega-Lite spec (dict), data inline as one row per run,
        ``{"run": label, "step": [steps], "value": [values]}`` (values to
        :data:`SIGNIFICANT_DIGITS` significant digits, non-finite left out),
        which the spec's ``flatten`` transform turns into one datum per point.
    """
    labels = sorted({line.label for line in lines})
    color_domain = sorted(set(domain)) if domain is not None else labels
    missing = [label for label in labels if label not in set(color_domain)]
    color_domain = color_domain + missing

    # One row per run, its points as two arrays; the spec's flatten transform
    # makes one datum per point in the browser. Runs without a finite value
    # get no row (their colour stays in the domain).
    rows: list[dict[str, Any]] = []
    for line in lines:
        steps, values = downsample_arrays(line.steps, line.values, n_out)
        if steps.size:
            rows.append({"run": line.label, "step": steps if arrays else steps.tolist(),
                         "value": round_array(values) if arrays
                         else round_significant(values)})

    description = title
    phrase = _goal_phrase(goal)
    if phrase:
        description = f"{title} ({phrase})"
    scheme = _SCHEME_SMALL if len(color_domain) <= 10 else _SCHEME_LARGE
    # a fresh copy of the (sorted, shared) skeleton with this call's values filled in
    spec = _metric_template().fill({_KEY: key, _DESCRIPTION: description}, color_domain)
    for layer in spec["layer"]:
        layer["encoding"]["color"]["scale"]["scheme"] = scheme
        if len(color_domain) == 1:  # one run (a run page): a legend would only repeat its name
            layer["encoding"]["color"]["legend"] = None
    if show_title:
        spec["title"] = {"text": title, "subtitle": phrase} if phrase else {"text": title}
    return _with_rows(spec, rows, nested_sorted=True)


# Stand-ins for the parts of a metric chart that change between calls. The
# chart is made with altair once per process (altair validates every piece
# against the Vega-Lite schema, which costs tens of milliseconds per chart and
# would dominate a site build); each call fills in a copy.
_KEY = "\x00trackreport:key"
_DESCRIPTION = "\x00trackreport:description"
_DOMAIN = "\x00trackreport:domain"


@functools.lru_cache(maxsize=1)
def _metric_skeleton() -> str:
    from . import derived

    key = [derived.package_version("altair"), derived.source_digest(__file__)]
    return derived.remembered("metric-chart", key, _make_metric_skeleton)


def _make_metric_skeleton() -> str:
    import altair as alt

    legend = alt.selection_point(name=LEGEND_PARAM, fields=["run"], bind="legend")
    zoom = alt.selection_interval(name=ZOOM_PARAM, bind="scales", encodings=["x"])
    hover = alt.selection_point(
        name=HOVER_PARAM,
        fields=["run", "step"],
        nearest=True,
        on="pointerover",
        clear="pointerout",
        empty=False,
    )
    base = alt.Chart(alt.NamedData(name="rows")).encode(
        x=alt.X("step:Q", title="Step", axis=alt.Axis(tickMinStep=1, labelExpr=STEP_LABEL)),
        y=alt.Y("value:Q", title=_KEY, scale=alt.Scale(zero=False)),
        color=alt.Color(
            "run:N",
            title="Run",
            scale=alt.Scale(domain=[_DOMAIN], scheme=_SCHEME_SMALL),
            legend=alt.Legend(orient="bottom", direction="horizontal", columns=3, labelLimit=260),
        ),
    )
    line_layer = (
        base.mark_line(strokeWidth=1.75, strokeCap="round", strokeJoin="round")
        .encode(opacity=alt.condition(legend, alt.value(1.0), alt.value(0.12)))
        .add_params(legend, zoom)
        .properties(name="lines")
    )
    point_layer = (
        base.mark_circle(size=46)
        .encode(
            opacity=alt.condition(hover, alt.value(1.0), alt.value(0.0)),
            tooltip=[
                # An explicit (empty) format makes Vega-Lite read the run from
                # the hovered point; without it the nearest-point (voronoi)
                # tooltip shows "undefined" for nominal fields.
                alt.Tooltip("run:N", title="Run", format=""),
                alt.Tooltip("step:Q", title="Step", format=","),
                alt.Tooltip("value:Q", title=_KEY, format=".4~g"),
            ],
        )
        .transform_filter(legend)
        .add_params(hover)
        .properties(name="points")
    )
    chart = (
        alt.layer(line_layer, point_layer)
        .transform_flatten(["step", "value"])
        .properties(width="container", height=CHART_HEIGHT, description=_DESCRIPTION)
    )
    return json.dumps(chart.to_dict(), sort_keys=True)


def warm_up() -> None:
    """Make the cached chart skeleton now (altair's import and schema: a second or two)."""
    _metric_template()


@functools.lru_cache(maxsize=1)
def _metric_skeleton_spec() -> dict[str, Any]:
    """The skeleton as a dict whose keys are sorted at every level; never modified."""
    return _stable(json.loads(_metric_skeleton()))


class _Template:
    """A skeleton spec, copied and filled in per call without walking it in Python.

    The skeleton (plain JSON values) is kept marshalled: loading it makes a
    fresh copy several times faster than a recursive copy in Python, and
    nothing is unpickled. The place of each stand-in is found once, so a call
    sets just those places. The result equals ``_fill(skeleton, strings, domain)``.
    """

    def __init__(self, skeleton: dict[str, Any]) -> None:
        import marshal

        self._loads = marshal.loads
        self._bytes = marshal.dumps(skeleton)
        self._spots: list[tuple[tuple[str | int, ...], str | None]] = []
        self._find(skeleton, ())

    def _find(self, obj: Any, path: tuple[str | int, ...]) -> None:
        if isinstance(obj, dict):
            for k, v in obj.items():
                self._find(v, (*path, k))
        elif isinstance(obj, list):
            if obj == [_DOMAIN]:
                self._spots.append((path, None))
                return
            for i, v in enumerate(obj):
                self._find(v, (*path, i))
        elif isinstance(obj, str) and obj in (_KEY, _DESCRIPTION, _DOMAIN):
            self._spots.append((path, obj))

    def fill(self, strings: Mapping[str, str], domain: list[str]) -> dict[str, Any]:
        """A new copy of the skeleton with the stand-ins replaced (``[_DOMAIN]``: ``domain``)."""
        spec = self._loads(self._bytes)
        for path, stand_in in self._spots:
            parent = spec
            for step in path[:-1]:
                parent = parent[step]
            if stand_in is None:
                parent[path[-1]] = list(domain)
            elif stand_in in strings:
                parent[path[-1]] = strings[stand_in]
        return spec  # type: ignore[no-any-return]


@functools.lru_cache(maxsize=1)
def _metric_template() -> _Template:
    return _Template(_metric_skeleton_spec())


def _fill(obj: Any, strings: Mapping[str, str], domain: list[str]) -> Any:
    """Put the call's values where the skeleton holds stand-ins (one pass)."""
    if isinstance(obj, dict):
        return {k: _fill(v, strings, domain) for k, v in obj.items()}
    if isinstance(obj, list):
        if obj == [_DOMAIN]:
            return list(domain)
        return [_fill(v, strings, domain) for v in obj]
    if isinstance(obj, str) and obj in strings:
        return strings[obj]
    return obj


def _stable(spec: dict[str, Any]) -> dict[str, Any]:
    """Sort keys recursively, so output bytes never depend on insertion order."""

    def walk(obj: Any) -> Any:
        if isinstance(obj, dict):
            return {k: walk(obj[k]) for k in sorted(obj)}
        if isinstance(obj, list):
            return [walk(v) for v in obj]
        return obj

    return walk(spec)


def _with_rows(spec: dict[str, Any], rows: list[dict[str, Any]], *,
               nested_sorted: bool = False) -> dict[str, Any]:
    """``spec`` (without data) sorted by :func:`_stable`, with ``rows`` attached inline.

    Only the skeleton is walked: the rows can be long, and each has its keys
    sorted here (flat rows of scalars and lists of numbers). ``nested_sorted``:
    every level below the top is sorted already (a filled skeleton), so only
    the top level is sorted.
    """
    if not nested_sorted:
        spec = _stable(spec)
    spec["data"] = {
        "name": "rows",
        "values": [{k: row[k] for k in sorted(row)} for row in rows],
    }
    return {k: spec[k] for k in sorted(spec)}


# ---------------------------------------------------------------- final values


@dataclass
class Bar:
    """One run's single value of a metric (a metric logged once per run).

    Attributes:
        run_id: the run's id.
        label: the run's label, as on the page's other charts.
        value: the value; NaN and +-inf are not drawn.
    """

    run_id: str
    label: str
    value: float


# Words in a metric name that say lower is better, for the order of bars when
# the experiment does not say (the name is matched in lower case, anywhere).
_LOWER_IS_BETTER = ("loss", "error", "rmse", "mae", "mse", "time", "seconds")


def bar_order(key: str, goal: str | None = None) -> str:
    """``"min"`` or ``"max"``: which end of a bar chart comes first.

    The metric's ``goal`` when known; else ``"min"`` for names containing
    loss, error, rmse, mae, mse, time or seconds, else ``"max"``.
    """
    if goal in ("min", "max"):
        return goal
    lowered = key.lower()
    return "min" if any(word in lowered for word in _LOWER_IS_BETTER) else "max"


def bar_chart(
    title: str,
    key: str,
    bars: list[Bar],
    goal: str | None = None,
    *,
    order: str | None = None,
    domain: Sequence[str] | None = None,
    show_title: bool = False,
) -> dict[str, Any] | None:
    """A horizontal bar chart of one value per run, best first, values written on the bars.

    For metrics logged once per run (``val_f1``, ``fit_seconds``): a line
    chart over steps would show one dot per run. Bars start at zero; each is
    labelled with its value (4 significant digits) and coloured like the
    run's line on the page's other charts.

    Args:
        title: the chart's title in words (the spec's ``description``).
        key: the metric key (the x axis title).
        bars: one :class:`Bar` per run; non-finite values are left out.
        goal: ``"min"``, ``"max"`` or None; named in the description.
        order: ``"min"`` (smallest first) or ``"max"`` (largest first);
            defaults to :func:`bar_order` of ``key`` and ``goal``. Ties keep
            the order of ``bars``.
        domain: the labels of every run of the page (colours); defaults to
            the sorted labels of ``bars``.
        show_title: put ``title`` on the chart itself.

    Returns:
        A Vega-Lite spec (dict) with rows ``{"run", "value", "shown",
        "rank"}``, or None when no bar has a finite value.
    """
    from .format import number

    order = order or bar_order(key, goal)
    finite = [(i, b) for i, b in enumerate(bars) if _is_number(b.value)]
    if not finite:
        return None
    sign = 1.0 if order == "min" else -1.0
    ranked = sorted(finite, key=lambda ib: (sign * float(ib[1].value), ib[0]))
    rows = [
        {"run": b.label, "value": float(b.value), "shown": number(float(b.value)), "rank": rank}
        for rank, (_, b) in enumerate(ranked)
    ]
    labels = sorted({b.label for _, b in finite})
    color_domain = sorted(set(domain)) if domain is not None else labels
    color_domain = color_domain + [label for label in labels if label not in set(color_domain)]

    description = title
    phrase = _goal_phrase(goal)
    if phrase:
        description = f"{title} ({phrase})"
    spec = _fill(
        json.loads(_bar_skeleton()),
        {_KEY: key, _DESCRIPTION: description},
        color_domain,
    )
    scheme = _SCHEME_SMALL if len(color_domain) <= 10 else _SCHEME_LARGE
    for layer in spec["layer"]:
        color = layer["encoding"].get("color")
        if color is not None:
            color["scale"]["scheme"] = scheme
    if show_title:
        spec["title"] = {"text": title, "subtitle": phrase} if phrase else {"text": title}
    return _with_rows(spec, rows)


@functools.lru_cache(maxsize=1)
def _bar_skeleton() -> str:
    from . import derived

    key = [derived.package_version("altair"), derived.source_digest(__file__)]
    return derived.remembered("bar-chart", key, _make_bar_skeleton)


def _make_bar_skeleton() -> str:
    import altair as alt

    hover = alt.selection_point(
        name=BAR_HOVER_PARAM, fields=["run"], on="pointerover", clear="pointerout", empty=False
    )
    y = alt.Y(
        "run:N",
        title=None,
        # "min": layered views union their domains, which keeps only count/min/max sorts.
        sort=alt.EncodingSortField(field="rank", op="min", order="ascending"),
        axis=alt.Axis(labelLimit=180, ticks=False, domain=False, labelPadding=6),
    )
    x = alt.X("value:Q", title=_KEY, axis=alt.Axis(grid=True, tickCount=5))
    tooltip = [
        alt.Tooltip("run:N", title="Run", format=""),
        alt.Tooltip("shown:N", title=_KEY),
    ]
    bars = (
        alt.Chart()
        .mark_bar(cornerRadiusEnd=2, height={"band": 0.7})
        .encode(
            x=x,
            y=y,
            color=alt.Color(
                "run:N",
                scale=alt.Scale(domain=[_DOMAIN], scheme=_SCHEME_SMALL),
                legend=None,
            ),
            opacity=alt.condition(hover, alt.value(1.0), alt.value(0.85)),
            tooltip=tooltip,
        )
        .add_params(hover)
        .properties(name="bars")
    )
    labels = (
        alt.Chart()
        .mark_text(align="left", baseline="middle", dx=4, fontSize=11)
        .encode(x=x, y=y, text="shown:N", tooltip=tooltip)
        .properties(name="values")
    )
    chart = alt.layer(bars, labels, data=alt.NamedData(name="rows")).properties(
        width="container", height=alt.Step(BAR_STEP), description=_DESCRIPTION
    )
    return json.dumps(chart.to_dict(), sort_keys=True)


# ---------------------------------------------------------------- parallel coordinates


def _is_number(value: Any) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )


def _numeric_like(value: Any) -> bool:
    """Numbers, and numpy scalars that behave like them."""
    if _is_number(value):
        return True
    try:
        import numpy as np
    except ImportError:  # pragma: no cover - numpy is a dependency
        return False
    return isinstance(value, np.integer | np.floating) and bool(np.isfinite(value))


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    pd = sys.modules.get("pandas")  # pandas values come only from a caller that loaded it
    return pd is not None and (value is pd.NA or value is pd.NaT)


def _axis_name(column: str) -> str:
    for prefix in ("params.", "metrics."):
        if column.startswith(prefix):
            return column[len(prefix) :]
    return column


def _row_label(row: Mapping[str, Any]) -> str:
    for key in ("run", "label", "run_name", "name", "run_id"):
        value = row.get(key)
        if isinstance(value, str) and value:
            return value
    return "?"


def _display(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if _numeric_like(value):
        number = float(value)
        if number.is_integer() and abs(number) < 1e15:
            return fmt.value(int(number))
        return fmt.value(number)
    return json.dumps(value, sort_keys=True, default=str)


@dataclass
class _Axis:
    name: str
    kind: str  # "q" numbers, "c" categories
    numbers: list[float | None]
    shown: list[str]


def parallel_coordinates(
    rows: list[dict[str, Any]], params: list[str], metric: str, goal: str | None
) -> dict[str, Any] | None:
    """Params on the left, the primary metric on the right, one line per run.

    Each axis is normalised to 0..1 in the browser (fold + joinaggregate +
    calculate, as in the Vega-Lite parallel-coordinates example). Numeric
    params keep their order; other params (strings, booleans, lists) become
    evenly spaced categories in sorted order. Params that never change, or
    that no run has, are left out. Lines are coloured by the metric, brighter
    is better.

    Args:
        rows: one dict per run with a label under ``"run"`` (or ``run_name``,
            ``name``, ``run_id``) and its values under the names in
            ``params`` and ``metric`` (flat keys, e.g. ``"lr"`` or
            ``"params.lr"`` as in ``load_runs``).
        params: the param keys to show, in axis order.
        metric: the key of the primary metric.
        goal: ``"min"``, ``"max"`` or None.

    Returns:
        A Vega-Lite spec, or None when fewer than 2 runs have the metric or
        no param varies.
    """
    runs = [r for r in rows if _numeric_like(r.get(metric))]
    if len(runs) < 2:
        return None

    axes: list[_Axis] = []
    for param in params:
        present = [r.get(param) for r in runs]
        known = [v for v in present if not _is_missing(v)]
        if not known:
            continue
        if all(_numeric_like(v) for v in known):
            numbers = [None if _is_missing(v) else float(v) for v in present]
            if len({n for n in numbers if n is not None}) < 2:
                continue
            shown = ["" if _is_missing(v) else _display(v) for v in present]
            axes.append(_Axis(_axis_name(param), "q", numbers, shown))
        else:
            shown = ["" if _is_missing(v) else _display(v) for v in present]
            categories = sorted(
                {s for s, v in zip(shown, present, strict=True) if not _is_missing(v)}
            )
            if len(categories) < 2:
                continue
            position = {c: float(i) for i, c in enumerate(categories)}
            numbers = [
                None if _is_missing(v) else position[s] for s, v in zip(shown, present, strict=True)
            ]
            axes.append(_Axis(_axis_name(param), "c", numbers, shown))
    if not axes:
        return None

    metric_name = _axis_name(metric)
    metric_values = [float(r[metric]) for r in runs]
    axes.append(_Axis(metric_name, "q", list(metric_values), [_display(v) for v in metric_values]))

    # Columns get safe names (a0, a1, ...): user keys may hold dots, brackets
    # or quotes that Vega-Lite would read as paths or expressions. User text
    # only ever travels as data, never inside an expression.
    ids = [f"a{i}" for i in range(len(axes))]
    data_rows: list[dict[str, Any]] = []
    for index, run in enumerate(runs):
        row: dict[str, Any] = {"run": _row_label(run), "metric": metric_values[index]}
        for axis_id, axis in zip(ids, axes, strict=True):
            row[axis_id] = axis.numbers[index]
            row["t" + axis_id[1:]] = axis.shown[index]
        data_rows.append(row)
    axis_rows = [
        {"axis_id": axis_id, "axis": axis.name, "kind": axis.kind}
        for axis_id, axis in zip(ids, axes, strict=True)
    ]
    axis_order = [axis.name for axis in axes]

    spec = _fill(json.loads(_parallel_skeleton(goal == "min")),
                 {_KEY: metric_name,
                  _DESCRIPTION: f"Parallel coordinates: params and {metric_name}"},
                 axis_order)
    spec["transform"] = [
        {"window": [{"op": "count", "as": "index"}]},
        {"fold": ids, "as": ["axis_id", "raw"]},
        {
            "lookup": "axis_id",
            "from": {
                "data": {"values": axis_rows},
                "key": "axis_id",
                "fields": ["axis", "kind"],
            },
        },
        {"calculate": "datum['t' + slice(datum.axis_id, 1)]", "as": "shown"},
        {
            "joinaggregate": [
                {"op": "min", "field": "raw", "as": "lo"},
                {"op": "max", "field": "raw", "as": "hi"},
            ],
            "groupby": ["axis_id"],
        },
        {
            "calculate": "isValid(datum.raw) ? (datum.hi > datum.lo ? "
            "(datum.raw - datum.lo) / (datum.hi - datum.lo) : 0.5) : null",
            "as": "norm",
        },
    ]
    return _with_rows(spec, data_rows)


@functools.lru_cache(maxsize=2)
def _parallel_skeleton(reverse: bool) -> str:
    from . import derived

    key = [derived.package_version("altair"), derived.source_digest(__file__), reverse]
    return derived.remembered("parallel-chart", key, lambda: _make_parallel_skeleton(reverse))


def _make_parallel_skeleton(reverse: bool) -> str:
    import altair as alt

    tooltip = [
        alt.Tooltip("run:N", title="Run"),
        alt.Tooltip("axis:N", title="Axis"),
        alt.Tooltip("shown:N", title="Value"),
        alt.Tooltip("metric:Q", title=_KEY, format=".4~g"),
    ]
    x = alt.X(
        "axis:N",
        sort=[_DOMAIN],
        title=None,
        scale=alt.Scale(padding=0.3),
        axis=alt.Axis(
            orient="top", labelAngle=0, labelLimit=140, domain=False, ticks=False, labelPadding=8
        ),
    )
    y = alt.Y("norm:Q", axis=None, scale=alt.Scale(domain=[0, 1]))
    color = alt.Color(
        "metric:Q",
        title=_KEY,
        scale=alt.Scale(scheme="viridis", reverse=reverse),
        legend=alt.Legend(type="gradient", gradientLength=160),
    )
    rules = alt.Chart().mark_rule(color="#9aa0a6", strokeWidth=1).encode(x=x)
    lines = (
        alt.Chart()
        .mark_line(strokeWidth=1.5, opacity=0.75)
        .encode(x=x, y=y, color=color, detail="index:N", tooltip=tooltip)
    )
    points = (
        alt.Chart().mark_circle(size=24, opacity=0.9).encode(x=x, y=y, color=color, tooltip=tooltip)
    )
    ticks = (
        alt.Chart()
        .mark_text(align="left", dx=5, fontSize=10, color="#6b7280", limit=120)
        .encode(x=x, y=y, text="shown:N")
        .transform_filter("datum.norm === 0 || datum.norm === 1 || datum.kind === 'c'")
        .transform_aggregate(groupby=["axis", "norm", "shown"], n="count()")
    )
    chart = alt.layer(rules, lines, points, ticks, data=alt.NamedData(name="rows")).properties(
        width="container",
        height=CHART_HEIGHT + 40,
        description=_DESCRIPTION,
    )
    # Not validated against the Vega-Lite schema here (a second or more): the shape is
    # fixed, the tests validate it.
    return json.dumps(chart.to_dict(validate=False), sort_keys=True)


# ---------------------------------------------------------------- logged specs


_CONTAINER_VIEWS = ("hconcat", "vconcat", "concat", "facet", "repeat")


def is_vegalite(spec: dict[str, Any]) -> bool:
    """True for a Vega-Lite spec; False for a full Vega spec (which the site does not draw).

    A ``$schema`` naming a library decides (as in vega-embed); without one, a
    spec with a top-level key only Vega has (``marks``, ``signals``, ...) is Vega.
    """
    schema = spec.get("$schema")
    if isinstance(schema, str) and re.search(r"/schema/[\w-]+/[\w.-]+\.json$", schema):
        return re.search(r"/schema/vega-lite/[\w.-]+\.json$", schema) is not None
    return not any(key in spec for key in _VEGA_ONLY_KEYS)


def vegalite_artifact(spec: dict[str, Any]) -> dict[str, Any]:
    """Make a logged (user-supplied) Vega-Lite spec safe to draw on a page.

    Removes what would fetch, link or carry hidden content: ``usermeta``,
    ``data.url`` (the data becomes empty), ``href`` channels and mark
    properties, ``url`` channels and image marks that load a url, and a
    ``$schema`` that is not a vega.github.io URL. Sets ``width`` to
    ``"container"`` for single and layered views. The ``$schema`` is always a
    Vega-Lite one, so the browser never reads the spec as full Vega (check
    :func:`is_vegalite` first: a Vega spec is not made safe here). The input is
    not changed.

    Args:
        spec: a Vega-Lite spec as logged (e.g. by ``log_figure`` with altair).

    Returns:
        A cleaned copy.
    """
    cleaned = _clean(copy.deepcopy(spec))
    if not isinstance(cleaned, dict):
        return {}
    schema = cleaned.get("$schema")
    if not (isinstance(schema, str) and _VEGALITE_SCHEMA_RE.fullmatch(schema)):
        cleaned["$schema"] = VEGALITE_SCHEMA
    if not any(key in cleaned for key in _CONTAINER_VIEWS):
        cleaned["width"] = "container"
    return cleaned


def _clean(obj: Any, parent_key: str | None = None) -> Any:
    if isinstance(obj, list):
        return [_clean(v, parent_key) for v in obj]
    if not isinstance(obj, dict):
        return obj
    out: dict[str, Any] = {}
    for key, value in obj.items():
        if key == "usermeta":
            continue
        if key in ("values", "datasets") and parent_key in ("data", None, "from"):
            # Data rows are shown as data, never interpreted as a spec.
            out[key] = value
            continue
        if key == "href":
            continue
        if key == "element" and parent_key == "bind":
            # A binding may only create its input next to the chart.
            continue
        if key == "url" and parent_key in ("encoding", "mark"):
            continue
        if key == "data" and isinstance(value, dict) and "url" in value:
            value = {k: v for k, v in value.items() if k != "url"}
            if "values" not in value and "name" not in value:
                value["values"] = []
            # Format hints belong to the removed url.
            value.pop("format", None)
        if key == "mark" and _is_image_mark(value):
            value = {"type": "image"} if isinstance(value, str) else value
        out[key] = _clean(value, key)
    if out.get("mark") is not None and _is_image_mark(out["mark"]):
        encoding = out.get("encoding")
        if isinstance(encoding, dict):
            encoding.pop("url", None)
        if isinstance(out["mark"], dict):
            out["mark"].pop("url", None)
    return out


def _is_image_mark(mark: Any) -> bool:
    if isinstance(mark, str):
        return mark == "image"
    return isinstance(mark, dict) and mark.get("type") == "image"
