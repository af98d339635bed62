"""The Vega-Lite specs of the site, asserted as dicts (never as HTML)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from trackreport.site.charts import (
    BAR_HOVER_PARAM,
    HOVER_PARAM,
    LEGEND_PARAM,
    MAX_POINTS,
    ZOOM_PARAM,
    Bar,
    Line,
    bar_chart,
    bar_order,
    downsample,
    downsample_arrays,
    metric_chart,
    parallel_coordinates,
    round_significant,
    unique_labels,
    vegalite_artifact,
)

SRC = Path(__file__).resolve().parents[1] / "src"


def walk(obj: Any) -> Any:
    """Every dict inside a spec, depth first."""
    if isinstance(obj, dict):
        yield obj
        for value in obj.values():
            yield from walk(value)
    elif isinstance(obj, list):
        for value in obj:
            yield from walk(value)


def rows_of(spec: dict[str, Any], run: str | None = None) -> list[dict[str, Any]]:
    """The data rows of a spec, one per point: a line chart's rows are flattened
    (``step`` and ``value`` arrays) as its ``flatten`` transform does in the browser."""
    rows = []
    for row in spec["data"]["values"]:
        if isinstance(row.get("step"), list):
            assert len(row["step"]) == len(row["value"])
            rows.extend({**row, "step": s, "value": v}
                        for s, v in zip(row["step"], row["value"], strict=True))
        else:
            rows.append(row)
    return [r for r in rows if run is None or r["run"] == run]


def noisy(n: int, seed: int = 0) -> tuple[list[int], list[float]]:
    rng = np.random.default_rng(seed)
    values = np.cumsum(rng.normal(size=n))
    return list(range(n)), values.tolist()


# ---------------------------------------------------------------- downsample


def test_downsample_keeps_about_n_points_and_the_extremes() -> None:
    steps, values = noisy(100_000)
    values[12_345] = 1e6  # a spike
    values[67_890] = -1e6  # a dip
    out_steps, out_values = downsample(steps, values)
    assert len(out_steps) == len(out_values) <= MAX_POINTS
    assert len(out_steps) >= MAX_POINTS * 0.9
    assert max(out_values) == 1e6 and min(out_values) == -1e6
    assert 12_345 in out_steps and 67_890 in out_steps
    assert out_steps[0] == 0 and out_steps[-1] == 99_999
    assert out_steps == sorted(out_steps)
    # Every kept point is a real one.
    assert all(values[s] == v for s, v in zip(out_steps, out_values, strict=True))
    assert all(type(s) is int for s in out_steps)
    assert all(type(v) is float for v in out_values)


def test_downsample_keeps_what_a_mask_of_the_picked_points_and_extremes_keeps() -> None:
    """The picked indices are merged with the first, last, lowest and highest point
    without a mask over the whole series; it relies on tsdownsample's indices being
    sorted and unique, checked here on noisy, spiky and flat series of many lengths."""
    from trackreport.site.charts import _minmax_lttb

    merged = 0
    for seed in range(120):
        rng = np.random.default_rng(seed)
        n = int(rng.integers(20, 3000))
        n_out = int(rng.integers(3, min(n, 600)))
        kind = seed % 3
        y = (rng.normal(size=n) if kind == 0 else np.cumsum(rng.normal(size=n)) if kind == 1
             else np.where(rng.random(n) < 0.01, 5.0, 1.0))  # flat with rare spikes
        x = np.arange(n, dtype=np.int64) * 3
        picked = _minmax_lttb()(x, y, max(3, n_out - 4))
        assert (np.diff(picked.astype(np.int64)) > 0).all(), seed
        keep = np.zeros(n, dtype=bool)
        keep[picked] = True
        extremes = [0, n - 1, int(np.argmin(y)), int(np.argmax(y))]
        merged += not keep[extremes].all()
        keep[extremes] = True
        out_x, out_y = downsample_arrays(x, y, n_out) if n > n_out else (x[keep], y[keep])
        assert out_x.tolist() == x[keep].tolist() and out_y.tolist() == y[keep].tolist(), seed
        assert out_x.dtype == np.int64 and out_y.dtype == np.float64
    assert merged > 10  # both ways were taken: extremes already picked, and added


def test_downsample_short_series_unchanged() -> None:
    assert downsample([0, 1, 2], [0.5, 0.25, 1.0]) == ([0, 1, 2], [0.5, 0.25, 1.0])
    assert downsample([], []) == ([], [])
    # Exactly n_out points: unchanged too.
    steps, values = noisy(MAX_POINTS)
    assert downsample(steps, values) == (steps, values)


def test_downsample_drops_non_finite_values() -> None:
    nan, inf = float("nan"), float("inf")
    assert downsample([0, 1, 2, 3, 4], [1.0, nan, inf, -inf, 2.0]) == ([0, 4], [1.0, 2.0])
    assert downsample(list(range(5000)), [nan] * 5000) == ([], [])
    steps, values = noisy(5000)
    values[::3] = [nan] * len(values[::3])
    _, out_values = downsample(steps, values, n_out=200)
    assert len(out_values) <= 200
    assert all(math.isfinite(v) for v in out_values)


def test_downsample_sorts_by_step_and_accepts_numpy() -> None:
    steps = np.array([3, 1, 2, 0])
    values = np.array([3.0, 1.0, 2.0, 0.0], dtype=np.float32)
    assert downsample(steps, values) == ([0, 1, 2, 3], [0.0, 1.0, 2.0, 3.0])


def test_downsample_rejects_mismatched_input() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        downsample([0, 1], [1.0])
    with pytest.raises(ValueError, match="n_out"):
        downsample([0, 1], [1.0, 2.0], n_out=2)


def test_downsample_a_million_points() -> None:
    steps, values = noisy(1_000_000)
    x, y = np.asarray(steps), np.asarray(values)
    out, _ = downsample(x, y)
    assert len(out) <= MAX_POINTS


# ---------------------------------------------------------------- metric_chart


def three_lines(n: int = 5000) -> list[Line]:
    return [Line(f"id{i}", name, *noisy(n, seed=i)) for i, name in enumerate(["b", "a", "c"])]


def test_metric_chart_rows_and_encodings() -> None:
    spec = metric_chart("Validation accuracy", "val_acc", three_lines(), goal="max")
    assert spec["width"] == "container"
    assert 200 <= spec["height"] <= 300
    assert "higher is better" in spec["description"]
    assert "url" not in spec["data"]
    rows = rows_of(spec)
    assert set(rows[0]) == {"run", "step", "value"}
    for run in ("a", "b", "c"):
        assert 900 <= len(rows_of(spec, run)) <= MAX_POINTS
    layers = {layer["name"]: layer for layer in spec["layer"]}
    line = layers["lines"]
    assert line["mark"]["type"] == "line"
    assert line["encoding"]["x"]["field"] == "step"
    assert line["encoding"]["x"]["title"] == "Step"
    assert line["encoding"]["y"]["title"] == "val_acc"
    assert line["encoding"]["color"]["field"] == "run"
    tooltip = layers["points"]["encoding"]["tooltip"]
    assert [t["field"] for t in tooltip] == ["run", "step", "value"]
    assert tooltip[2]["format"]


def test_metric_chart_one_row_per_run_flattened_in_the_browser() -> None:
    nan = float("nan")
    lines = [
        Line("id1", "b", [0, 1, 2, 3], [1 / 3, nan, 2 / 3, float("inf")]),
        Line("id2", "a", [5, 6], [123456789.123, -0.000123456789]),
        Line("id3", "c", [0, 1], [nan, nan]),
    ]
    spec = metric_chart("m", "m", lines)
    assert spec["data"]["values"] == [
        {"run": "b", "step": [0, 2], "value": [0.333333, 0.666667]},
        {"run": "a", "step": [5, 6], "value": [123457000.0, -0.000123457]},
    ]
    assert spec["transform"] == [{"flatten": ["step", "value"]}]
    # Plain lists of plain numbers: 6 significant digits print short.
    for row in spec["data"]["values"]:
        assert all(type(s) is int for s in row["step"])
        assert all(type(v) is float and len(repr(v)) <= 12 for v in row["value"])
    # The skeleton's keys are sorted; data sits in its sorted place.
    assert list(spec) == sorted(spec)
    assert list(spec["layer"][0]) == sorted(spec["layer"][0])


def test_round_significant() -> None:
    nan, inf = float("nan"), float("inf")
    out = round_significant([0.0, 1 / 3, -2 / 3, 1e-300 / 3, 1e300 / 3, 999999.7, 12.0, inf,
                             -inf, 1234567.0, 0.1 + 0.2])
    assert out[:7] == [0.0, 0.333333, -0.666667, 3.33333e-301, 3.33333e299, 1000000.0, 12.0]
    assert out[7:] == [inf, -inf, 1234570.0, 0.3]
    assert math.isnan(round_significant([nan])[0])
    assert round_significant([]) == []
    # The same as formatting with 6 significant digits, vectorised.
    rng = np.random.default_rng(7)
    values = rng.normal(size=20_000) * 10.0 ** rng.integers(-30, 30, 20_000)
    assert round_significant(values) == [float(f"{v:.6g}") for v in values.tolist()]


def test_round_significant_usual_series_as_the_general_path() -> None:
    # All finite, non-zero, below 10**6: rounded without indexing; one NaN more
    # takes the general path, which must give the same numbers.
    rng = np.random.default_rng(11)
    values = rng.uniform(0.001, 2.0, 1000)
    usual = round_significant(values)
    general = round_significant([*values.tolist(), float("nan")])
    assert usual == general[:-1] == [float(f"{v:.6g}") for v in values.tolist()]
    assert math.isnan(general[-1])


def test_metric_chart_skeleton_copies_are_fresh_and_filled() -> None:
    from trackreport.site import charts

    first = metric_chart("acc", "acc", [Line("r1", "a", [0, 1], [0.5, 0.6])], "max")
    first["layer"][0]["encoding"]["y"]["title"] = "changed"
    first["layer"][0]["encoding"]["color"]["scale"]["domain"].append("x")
    second = metric_chart("loss</script>", "loss</script>",
                          [Line("r1", "b", [0, 1], [0.5, 0.6]),
                           Line("r2", "c", [0, 1], [0.7, 0.8])], "min")
    text = json.dumps(second)
    assert "\\u0000" not in text and "trackreport:" not in text  # no stand-in left
    for layer in second["layer"]:
        assert layer["encoding"]["y"]["title"] == "loss</script>"
        assert layer["encoding"]["color"]["scale"]["domain"] == ["b", "c"]
    assert second["description"] == "loss</script> (lower is better)"
    # the same dict as the general, recursive fill of the skeleton
    filled = charts._fill(charts._metric_skeleton_spec(),
                          {charts._KEY: "k", charts._DESCRIPTION: "d"}, ["a", "b"])
    assert charts._metric_template().fill(
        {charts._KEY: "k", charts._DESCRIPTION: "d"}, ["a", "b"]) == filled


def test_metric_chart_keeps_the_true_extremes() -> None:
    steps, values = noisy(50_000)
    values[4242] = 1e4
    values[4243] = -1e4
    spec = metric_chart("Loss", "loss", [Line("x", "x", steps, values)])
    kept = [r["value"] for r in rows_of(spec)]
    assert len(kept) <= MAX_POINTS
    assert max(kept) == 1e4
    assert min(kept) == -1e4


def test_metric_chart_drops_non_finite_and_survives_all_nan() -> None:
    nan = float("nan")
    lines = [
        Line("a", "a", [0, 1, 2], [1.0, nan, float("inf")]),
        Line("b", "b", [0, 1], [nan, nan]),
    ]
    spec = metric_chart("m", "m", lines)
    assert rows_of(spec) == [{"run": "a", "step": 0, "value": 1.0}]
    # Strict JSON: no NaN anywhere.
    json.dumps(spec, allow_nan=False)
    # The all-NaN run still owns its colour.
    assert spec["layer"][0]["encoding"]["color"]["scale"]["domain"] == ["a", "b"]


def test_colour_domain_is_sorted_and_shared() -> None:
    spec = metric_chart("m", "m", three_lines(10))
    scale = spec["layer"][0]["encoding"]["color"]["scale"]
    assert scale["domain"] == ["a", "b", "c"]
    page = ["a", "b", "c", "d"]
    other = metric_chart("n", "n", three_lines(10)[:1], domain=page)
    assert other["layer"][0]["encoding"]["color"]["scale"]["domain"] == page
    # Every layer shares one scale.
    for layer in spec["layer"]:
        assert layer["encoding"]["color"]["scale"] == scale


def test_interaction_params_have_fixed_names() -> None:
    first = metric_chart("m", "m", three_lines(10))
    # Another chart in between would advance altair's counter.
    metric_chart("n", "n", three_lines(10))
    second = metric_chart("m", "m", three_lines(10))
    names = [p["name"] for p in first["params"]]
    assert names == [LEGEND_PARAM, ZOOM_PARAM, HOVER_PARAM]
    assert [p["name"] for p in second["params"]] == names
    params = {p["name"]: p for p in first["params"]}
    assert params[LEGEND_PARAM]["bind"] == "legend"
    assert params[LEGEND_PARAM]["select"]["fields"] == ["run"]
    assert params[ZOOM_PARAM]["bind"] == "scales"
    assert params[ZOOM_PARAM]["select"] == {"encodings": ["x"], "type": "interval"}
    assert "param_" not in json.dumps(first)
    assert "view_" not in json.dumps(first)
    # The legend selection dims the other runs.
    opacity = first["layer"][0]["encoding"]["opacity"]
    assert opacity["condition"]["param"] == LEGEND_PARAM


def test_metric_chart_deterministic_across_calls_and_processes() -> None:
    lines = three_lines(3000)
    text = json.dumps(metric_chart("Accuracy", "acc", lines, "max"), sort_keys=True)
    assert json.dumps(metric_chart("Accuracy", "acc", lines, "max"), sort_keys=True) == text
    code = (
        "import json, numpy as np\n"
        "from trackreport.site.charts import Line, metric_chart\n"
        "def noisy(n, seed):\n"
        "    v = np.cumsum(np.random.default_rng(seed).normal(size=n))\n"
        "    return list(range(n)), v.tolist()\n"
        "lines = [Line(f'id{i}', n, *noisy(3000, i)) for i, n in enumerate(['b', 'a', 'c'])]\n"
        "import altair as alt\n"
        "alt.Chart().mark_point().add_params(alt.selection_point()).to_dict()\n"
        "print(json.dumps(metric_chart('Accuracy', 'acc', lines, 'max'), sort_keys=True))\n"
    )
    for seed in ("1", "2"):
        out = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONPATH": str(SRC), "PYTHONHASHSEED": seed, "PATH": "/usr/bin:/bin"},
        ).stdout.strip()
        assert out == text


def test_metric_chart_is_cheap_per_call() -> None:
    # A build makes one chart per metric per run page: altair's schema
    # validation must not run for every one of them.
    # (Speed itself is measured by benchmarks/bench_build.py.)
    import altair as alt

    lines = [Line("a", "run-a", *noisy(1000))]
    first = metric_chart("m", "m", lines)

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("altair validated a chart again")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(alt.Chart, "to_dict", refuse)
        mp.setattr(alt.LayerChart, "to_dict", refuse)
        for i in range(3):
            spec = metric_chart(f"m{i}", f"m{i}", lines)
    assert spec.keys() == first.keys()


def test_row_limit_does_not_bite_with_20_runs() -> None:
    lines = [Line(f"id{i}", f"run-{i}", *noisy(1000, i)) for i in range(20)]
    spec = metric_chart("m", "m", lines)
    assert len(rows_of(spec)) == 20_000
    assert spec["layer"][0]["encoding"]["color"]["scale"]["scheme"] == "tableau20"


def test_metric_chart_long_series_page_stays_small() -> None:
    steps, values = noisy(100_000)
    spec = metric_chart("m", "m", [Line("a", "run-a", steps, values)])
    assert len(json.dumps(spec)) < 100_000


def test_hostile_labels_stay_data() -> None:
    hostile = "</script><img src=x onerror=alert(1)>"
    spec = metric_chart("t", "a.b[0]'\"", [Line("x", hostile, [0, 1], [1.0, 2.0])])
    assert rows_of(spec)[0]["run"] == hostile
    # A key is only a title, never a field name or an expression.
    for node in walk(spec):
        for key in ("field", "calculate", "filter", "expr", "test"):
            if isinstance(node.get(key), str):
                assert hostile not in node[key] and "a.b[0]" not in node[key]


def test_unique_labels() -> None:
    labels = unique_labels([("1", "a"), ("2", "b"), ("3", "a")])
    assert labels == {"1": "a (1)", "2": "b", "3": "a (3)"}


def test_show_title() -> None:
    spec = metric_chart("Validation accuracy", "val_acc", three_lines(5), "min", show_title=True)
    assert spec["title"]["text"] == "Validation accuracy"
    assert spec["title"]["subtitle"] == "lower is better"
    assert "title" not in metric_chart("Validation accuracy", "val_acc", three_lines(5))


def test_metric_chart_compiles_and_renders() -> None:
    import vl_convert as vlc

    spec = metric_chart("Accuracy", "acc", three_lines(2000), "max")
    svg = vlc.vegalite_to_svg(spec)
    assert svg.count("<path") >= 3


# ---------------------------------------------------------------- parallel coordinates


def pc_rows(n: int = 6) -> list[dict[str, Any]]:
    return [
        {
            "run": f"run-{i}",
            "params.lr": 10.0 ** -(i % 3),
            "params.model": ["rf", "gb"][i % 2],
            "params.seed": 7,
            "params.x.y[0]": i * i,
            "metrics.val_acc": 0.8 + i / 100,
        }
        for i in range(n)
    ]


def test_parallel_coordinates_shape() -> None:
    spec = parallel_coordinates(
        pc_rows(),
        ["params.lr", "params.model", "params.seed", "params.x.y[0]"],
        "metrics.val_acc",
        "max",
    )
    assert spec is not None
    assert spec["width"] == "container"
    rows = spec["data"]["values"]
    assert len(rows) == 6
    transforms = spec["transform"]
    assert transforms[0] == {"window": [{"op": "count", "as": "index"}]}
    fold = transforms[1]
    # seed never changes: left out; the metric is the last axis.
    assert fold["fold"] == ["a0", "a1", "a2", "a3"]
    lookup = transforms[2]["from"]["data"]["values"]
    assert [a["axis"] for a in lookup] == ["lr", "model", "x.y[0]", "val_acc"]
    assert [a["kind"] for a in lookup] == ["q", "c", "q", "q"]
    assert any("joinaggregate" in t for t in transforms)
    layers = spec["layer"]
    lines = next(layer for layer in layers if layer["mark"]["type"] == "line")
    assert lines["encoding"]["color"]["field"] == "metric"
    assert lines["encoding"]["detail"]["field"] == "index"
    assert lines["encoding"]["x"]["sort"] == ["lr", "model", "x.y[0]", "val_acc"]
    # Categorical values become positions, the text stays for labels.
    assert {r["a1"] for r in rows} == {0.0, 1.0}
    assert {r["t1"] for r in rows} == {"rf", "gb"}
    json.dumps(spec, allow_nan=False)


def test_parallel_coordinates_goal_min_reverses_colours() -> None:
    spec_min = parallel_coordinates(pc_rows(), ["params.lr"], "metrics.val_acc", "min")
    spec_max = parallel_coordinates(pc_rows(), ["params.lr"], "metrics.val_acc", "max")
    assert spec_min is not None and spec_max is not None

    def scale(spec: dict[str, Any]) -> dict[str, Any]:
        layer = next(x for x in spec["layer"] if x["mark"]["type"] == "line")
        return layer["encoding"]["color"]["scale"]

    assert scale(spec_min)["reverse"] is True
    assert scale(spec_max)["reverse"] is False


def test_parallel_coordinates_none_cases() -> None:
    assert parallel_coordinates(pc_rows(1), ["params.lr"], "metrics.val_acc", "max") is None
    assert parallel_coordinates([], ["params.lr"], "metrics.val_acc", "max") is None
    # No param varies, or none given.
    assert parallel_coordinates(pc_rows(), ["params.seed"], "metrics.val_acc", "max") is None
    assert parallel_coordinates(pc_rows(), [], "metrics.val_acc", "max") is None
    # Runs without the metric do not count.
    rows = pc_rows(3)
    rows[0]["metrics.val_acc"] = None
    rows[1]["metrics.val_acc"] = float("nan")
    assert parallel_coordinates(rows, ["params.lr"], "metrics.val_acc", "max") is None


def test_parallel_coordinates_hostile_and_odd_values() -> None:
    rows = pc_rows(4)
    rows[0]["run"] = "<img src=x onerror=alert(1)>"
    rows[1]["params.model"] = "'); alert(1); ('"
    rows[2]["params.model"] = None
    rows[3]["params.flag"] = True
    spec = parallel_coordinates(rows, ["params.model", "params.flag"], "metrics.val_acc", "max")
    assert spec is not None
    text = json.dumps(spec)
    for node in walk(spec):
        for key in ("calculate", "filter", "expr", "test"):
            value = node.get(key)
            if isinstance(value, str):
                assert "alert" not in value
    assert "'); alert(1); ('" in text
    values = spec["data"]["values"]
    assert values[2]["a0"] is None
    deterministic = parallel_coordinates(
        rows, ["params.model", "params.flag"], "metrics.val_acc", "max"
    )
    assert json.dumps(deterministic) == text


def test_parallel_coordinates_renders() -> None:
    import vl_convert as vlc

    spec = parallel_coordinates(pc_rows(), ["params.lr", "params.model"], "metrics.val_acc", "max")
    svg = vlc.vegalite_to_svg(spec)
    assert "model" in svg and "val_acc" in svg


# ---------------------------------------------------------------- logged specs


def test_vegalite_artifact_strips_what_could_fetch_or_link() -> None:
    logged = {
        "$schema": "https://evil.example/schema.json",
        "usermeta": {"embedOptions": {"loader": {"baseURL": "https://evil.example/"}}},
        "data": {"url": "https://evil.example/data.csv", "format": {"type": "csv"}},
        "mark": {"type": "point", "href": "javascript:alert(1)"},
        "encoding": {
            "x": {"field": "a", "type": "quantitative"},
            "href": {"field": "link"},
        },
        "layer": [
            {
                "data": {"url": "data/local.json"},
                "mark": {"type": "image", "url": "https://evil.example/x.png"},
                "encoding": {"url": {"field": "img"}},
            },
            {
                "transform": [
                    {
                        "lookup": "k",
                        "from": {"data": {"url": "https://evil.example/l.json"}, "key": "k"},
                    }
                ],
                "mark": "line",
            },
        ],
        "params": [{"name": "p", "bind": {"input": "range", "element": "#nav"}}],
        "config": {"mark": {"href": "https://evil.example/"}},
    }
    original = json.dumps(logged, sort_keys=True)
    clean = vegalite_artifact(logged)
    assert json.dumps(logged, sort_keys=True) == original  # input untouched
    text = json.dumps(clean)
    assert "evil.example" not in text
    assert "usermeta" not in text
    assert clean["$schema"] == "https://vega.github.io/schema/vega-lite/v5.json"
    assert '"href"' not in text
    assert '"url"' not in text
    assert "#nav" not in text
    assert clean["width"] == "container"
    assert clean["data"] == {"values": []}
    assert clean["layer"][0]["mark"] == {"type": "image"}
    assert clean["encoding"]["x"] == {"field": "a", "type": "quantitative"}


def test_vegalite_artifact_keeps_a_good_spec() -> None:
    import altair as alt
    import pandas as pd

    df = pd.DataFrame({"x": [1, 2, 3], "y": [3, 1, 2], "href": ["a", "b", "c"]})
    spec = alt.Chart(df).mark_line().encode(x="x", y="y").to_dict()
    clean = vegalite_artifact(spec)
    assert clean["$schema"].startswith("https://vega.github.io/schema/vega-lite/")
    # Data rows are data: a column named href stays.
    datasets = clean["datasets"]
    assert next(iter(datasets.values()))[0] == {"x": 1, "y": 3, "href": "a"}
    assert clean["width"] == "container"
    concat = vegalite_artifact({"hconcat": [spec, spec]})
    assert "width" not in concat


# ---------------------------------------------------------------- bar charts (final values)


def test_bar_order_by_goal_then_name() -> None:
    assert bar_order("val_f1", "min") == "min"
    assert bar_order("fit_seconds", "max") == "max"
    for key in ("val_loss", "Test_Error", "rmse", "val_mae", "mse", "train_time", "fit_seconds"):
        assert bar_order(key) == "min", key
    for key in ("val_f1", "best_stage", "auc"):
        assert bar_order(key) == "max", key


def test_bar_chart_rows_sorted_best_first_with_labels() -> None:
    bars = [Bar("a", "run-a", 0.9), Bar("b", "run-b", 0.95), Bar("c", "run-c", math.nan),
            Bar("d", "run-d", 1234.5678), Bar("e", "run-e", 0.9)]
    spec = bar_chart("val_f1 by run", "val_f1", bars, "max", domain=["run-a", "run-b", "zz"])
    assert spec is not None
    rows = sorted(spec["data"]["values"], key=lambda r: r["rank"])
    assert [r["run"] for r in rows] == ["run-d", "run-b", "run-a", "run-e"]  # ties keep order
    assert [r["shown"] for r in rows] == ["1,235", "0.95", "0.9", "0.9"]
    assert spec["description"] == "val_f1 by run (higher is better)"
    marks = {layer["mark"]["type"] for layer in spec["layer"]}
    assert marks == {"bar", "text"}
    y = spec["layer"][0]["encoding"]["y"]
    assert y["field"] == "run" and y["sort"] == {"field": "rank", "op": "min",
                                                 "order": "ascending"}
    color = spec["layer"][0]["encoding"]["color"]
    assert color["scale"]["domain"] == ["run-a", "run-b", "zz", "run-d", "run-e"]
    assert color["legend"] is None
    assert [p["name"] for p in spec.get("params", [])] == [BAR_HOVER_PARAM]
    low = bar_chart("fit_seconds by run", "fit_seconds", bars[:2], None)
    assert [r["run"] for r in sorted(low["data"]["values"], key=lambda r: r["rank"])] == [
        "run-a", "run-b"]


def test_bar_chart_none_without_finite_values_and_deterministic() -> None:
    assert bar_chart("x", "x", [Bar("a", "a", math.nan), Bar("b", "b", math.inf)]) is None
    assert bar_chart("x", "x", []) is None
    bars = [Bar(str(i), f"run-{i}", i / 7) for i in range(12)]
    one = json.dumps(bar_chart("x by run", "x", bars, "max"), sort_keys=True)
    code = ("import json, sys; from trackreport.site.charts import Bar, bar_chart; "
            "bars = [Bar(str(i), f'run-{i}', i / 7) for i in range(12)]; "
            "sys.stdout.write(json.dumps(bar_chart('x by run', 'x', bars, 'max'), sort_keys=True))")
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True, env={"PYTHONPATH": str(SRC), "PYTHONHASHSEED": "123"})
    assert other.stdout == one
    assert "tableau20" in one


def test_bar_chart_compiles_and_renders() -> None:
    import vl_convert as vlc

    bars = [Bar("a", "run-a", 0.5), Bar("b", "</script><b>x</b>", 0.7)]
    svg = vlc.vegalite_to_svg(bar_chart("acc by run", "acc", bars, "max", show_title=True))
    assert svg.count("<path") >= 2 and "0.7" in svg and "&lt;/script&gt;" in svg


def test_parallel_coordinates_spec_is_valid_vegalite() -> None:
    # The build skips altair's validation of this chart (its shape is fixed): check it here.
    import altair as alt

    spec = parallel_coordinates(pc_rows(), ["params.lr", "params.model"], "metrics.val_acc",
                                "max")
    assert spec is not None
    alt.LayerChart.from_dict(spec, validate=True)  # raises on a spec the schema refuses
    broken = {**spec, "layer": [{**spec["layer"][0], "mark": {"type": "no-such-mark"}}]}
    with pytest.raises(Exception, match="no-such-mark"):
        alt.LayerChart.from_dict(broken, validate=True)
