"""Round trip of every tracking call through the store and back."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

import trackreport as tr
from trackreport.records import FAILED, FINISHED, KILLED, RUNNING


def events_lines(store: Path) -> list[dict]:
    lines = []
    for path in sorted(store.rglob("events-*.jsonl")):
        for line in path.read_text("utf-8").splitlines():
            lines.append(json.loads(line, parse_constant=lambda c: pytest.fail(c)))
    return lines


def test_round_trip_of_every_call(store: Path, tmp_path: Path) -> None:
    tr.set_experiment("wine", description="# Wine\nPredict *quality*.",
                      primary_metric="val_acc", goal="max")
    src = tmp_path / "roc.png"
    src.write_bytes(b"\x89PNG fake")
    folder = tmp_path / "outputs"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text("a")
    (folder / "sub" / "b.csv").write_text("x,y\n1,2\n")
    with tr.start_run(name="gb-1", tags={"model": "gb"}) as run:
        assert tr.active_run() is run
        tr.log_param("max_depth", 5)
        tr.log_params({"n_estimators": 100, "features": ["a", "b"], "lr": 0.1,
                       "none": None, "flag": True})
        tr.log_metric("val_acc", 0.5)
        tr.log_metric("val_acc", 0.75)
        tr.log_metric("val_acc", 0.9, step=10)
        tr.log_metric("val_acc", 0.95)  # next step after the highest: 11
        tr.log_metrics({"loss": 1.5, "mae": 3}, step=2)
        tr.log_metric("weird", math.nan)
        tr.log_metric("weird", math.inf)
        tr.log_metric("weird", -math.inf)
        tr.set_tag("stage", "candidate")
        tr.set_tags({"stage": "final", "n": 3})
        tr.note("**Why** this run")
        tr.log_artifact(src, artifact_path="plots")
        tr.log_artifacts(folder, artifact_path="out")
        tr.log_text("hello", "notes/summary.txt")
        tr.log_dict({"a": 1, "b": [1, 2]}, "config.json")
        run.log_param("via_method", "yes")
    assert tr.active_run() is None
    got = tr.get_run(run.id)
    assert got.name == "gb-1" and got.experiment == "wine" and got.status == FINISHED
    assert got.params == {"max_depth": 5, "n_estimators": 100, "features": ["a", "b"],
                          "lr": 0.1, "none": None, "flag": True, "via_method": "yes"}
    assert got.metrics["val_acc"].steps == [0, 1, 10, 11]
    assert got.metrics["val_acc"].values == [0.5, 0.75, 0.9, 0.95]
    assert got.metrics["loss"].steps == [2] and got.metrics["mae"].values == [3.0]
    weird = got.metrics["weird"].values
    assert math.isnan(weird[0]) and weird[1:] == [math.inf, -math.inf]
    assert got.tags == {"model": "gb", "stage": "final", "n": "3"}
    assert [n.markdown for n in got.notes] == ["**Why** this run"]
    paths = {a.path: a for a in got.artifacts}
    assert set(paths) == {"plots/roc.png", "out/a.txt", "out/sub/b.csv",
                          "notes/summary.txt", "config.json"}
    assert paths["plots/roc.png"].media_type == "image/png"
    assert paths["out/sub/b.csv"].media_type == "text/csv"
    assert (store / "runs" / run.id / "artifacts" / "notes" / "summary.txt").read_text() == "hello"
    assert json.loads((store / "runs" / run.id / "artifacts" / "config.json").read_text()) == {
        "a": 1, "b": [1, 2]}
    exp = tr.load_runs(experiment="wine")
    assert list(exp["run_name"]) == ["gb-1"]
    assert exp.loc[0, "metrics.val_acc"] == 0.95
    assert exp.loc[0, "params.features"] == ["a", "b"]
    assert str(exp["start_time"].dtype) == "datetime64[ns, UTC]"
    assert exp.loc[0, "duration"].total_seconds() >= 0
    hist = tr.load_metrics(run_ids=[run.id], keys=["val_acc"])
    assert list(hist.columns) == ["run_id", "key", "step", "value", "time"]
    assert list(hist["step"]) == [0, 1, 10, 11]
    for event in events_lines(store):
        assert "type" in event and isinstance(event["time"], float)


def test_store_layout_and_marker(store: Path) -> None:
    with tr.start_run() as run:
        tr.log_metric("x", 1)
    marker = json.loads((store / "trackreport-store.json").read_text())
    assert marker == {"format": "trackreport-store", "version": 1}
    files = list((store / "runs" / run.id).glob("events-*.jsonl"))
    assert len(files) == 1
    first = json.loads(files[0].read_text().splitlines()[0])
    assert first["type"] == "open" and first["format"] == 1
    assert files[0].name == f"events-{first['writer']}.jsonl"
    assert run.name  # a readable default name
    assert run.store.root == store.absolute()


def test_without_with_block_and_end_run(store: Path) -> None:
    run = tr.start_run(name="plain")
    tr.log_metric("m", 1.0)
    assert tr.get_run(run.id).status == RUNNING
    tr.end_run()
    assert tr.active_run() is None
    assert tr.get_run(run.id).status == FINISHED


def test_exception_in_with_ends_failed(store: Path) -> None:
    with pytest.raises(ZeroDivisionError), tr.start_run(name="bad") as run:
        1 / 0  # noqa: B018
    got = tr.get_run(run.id)
    assert got.status == FAILED
    assert got.error.startswith("ZeroDivisionError")


def test_keyboard_interrupt_ends_killed(store: Path) -> None:
    with pytest.raises(KeyboardInterrupt), tr.start_run() as run:
        raise KeyboardInterrupt
    assert tr.get_run(run.id).status == KILLED


@pytest.mark.parametrize(("code", "status"), [(None, FINISHED), (0, FINISHED), (2, FAILED),
                                              ("bye", FAILED)])
def test_sys_exit_codes(store: Path, code: object, status: str) -> None:
    with pytest.raises(SystemExit), tr.start_run() as run:
        raise SystemExit(code)
    assert tr.get_run(run.id).status == status


def test_resume_continues_steps_and_keeps_params(store: Path) -> None:
    with tr.start_run(name="first") as run:
        tr.log_param("lr", 0.1)
        tr.log_metric("loss", 1.0)
        tr.log_metric("loss", 0.5)
    with tr.start_run(run_id=run.id) as again:
        assert again.name == "first"
        tr.log_metric("loss", 0.25)
        tr.log_param("lr", 0.1)  # same value: fine
        with pytest.raises(tr.ParamChangedError, match="lr"):
            tr.log_param("lr", 0.2)
    got = tr.get_run(run.id)
    assert got.metrics["loss"].steps == [0, 1, 2]
    assert got.status == FINISHED
    # one file per process: resuming in the same process appends to its own file
    assert len(list((store / "runs" / run.id).glob("events-*.jsonl"))) == 1


def test_resume_unknown_run(store: Path) -> None:
    with tr.start_run():
        pass
    with pytest.raises(tr.RunNotFoundError, match="nope"):
        tr.start_run(run_id="nope")


def test_nested_runs(store: Path) -> None:
    with tr.start_run(name="parent") as parent:
        with pytest.raises(tr.TrackreportError, match="already active"):
            tr.start_run()
        with tr.start_run(name="child", nested=True) as child:
            tr.log_metric("m", 1)
        assert tr.active_run() is parent
    assert tr.get_run(child.id).parent_run_id == parent.id
    assert "m" not in tr.get_run(parent.id).metrics


def test_no_active_run(store: Path) -> None:
    with pytest.raises(tr.NoActiveRunError, match="start_run"):
        tr.log_metric("x", 1)


def test_numpy_values(store: Path) -> None:
    np = pytest.importorskip("numpy")
    with tr.start_run() as run:
        tr.log_metric("a", np.float32(0.5))
        tr.log_metric("b", np.int64(3), step=np.int64(4))
        tr.log_metric("c", np.array(2.5))
        tr.log_param("arr", np.arange(3))
    got = tr.get_run(run.id)
    assert got.metrics["a"].values == [0.5]
    assert got.metrics["b"].steps == [4] and got.metrics["b"].values == [3.0]
    assert got.metrics["c"].values == [2.5]
    assert got.params["arr"] == [0, 1, 2]


def test_experiment_settings_last_wins(store: Path) -> None:
    tr.set_experiment("e1", description="first", primary_metric="loss", goal="min")
    with tr.start_run():
        pass
    tr.set_experiment("e1", goal="max")
    with tr.start_run():
        pass
    from trackreport.reader import read_experiments

    exps = read_experiments(tr.get_store())
    assert exps["e1"].description == "first"
    assert exps["e1"].goal == "max" and exps["e1"].primary_metric == "loss"


def test_load_runs_filter_and_stats(store: Path) -> None:
    for i, model in enumerate(["rf", "gb", "rf"]):
        with tr.start_run(name=f"r{i}"):
            tr.log_param("model", model)
            tr.log_param("depth", i + 1)
            for s in range(3):
                tr.log_metric("loss", 10 - i - s)
    df = tr.load_runs(filter="params.model = 'rf' and metrics.loss < 8")
    assert list(df["run_name"]) == ["r2"]
    df = tr.load_runs(filter="params.depth >= 2 OR params.model = 'rf'", metric_stats=("min",
                                                                                        "max"))
    assert sorted(df["run_name"]) == ["r0", "r1", "r2"]
    row = df.set_index("run_name").loc["r0"]
    assert row["metrics_min.loss"] == 8 and row["metrics_max.loss"] == 10
    assert row["metrics.loss"] == 8


def test_log_figure_matplotlib_and_altair(store: Path) -> None:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import altair as alt
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([1, 2, 3])
    chart = alt.Chart(alt.Data(values=[{"x": 1, "y": 2}])).mark_point().encode(x="x:Q", y="y:Q")
    with tr.start_run() as run:
        tr.log_figure(fig, "plots/loss.png")
        tr.log_figure(chart, "plots/chart.vl.json")
        with pytest.raises(tr.TrackreportError, match="altair"):
            tr.log_figure(chart, "plots/chart.txt")
        with pytest.raises(TypeError, match="matplotlib"):
            tr.log_figure(object(), "x.png")
    plt.close(fig)
    arts = {a.path: a for a in tr.get_run(run.id).artifacts}
    png = store / "runs" / run.id / "artifacts" / "plots" / "loss.png"
    assert png.read_bytes().startswith(b"\x89PNG")
    assert arts["plots/chart.vl.json"].media_type == "application/vnd.vegalite.v5+json"
    spec = json.loads((store / "runs" / run.id / "artifacts/plots/chart.vl.json").read_text())
    assert spec["mark"]["type"] == "point"


def test_log_artifacts_skips_symlink_outside(store: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "ok.txt").write_text("ok")
    (folder / "inside.txt").symlink_to(folder / "ok.txt")
    (folder / "leak.txt").symlink_to(secret)
    with tr.start_run() as run, pytest.warns(UserWarning, match="outside"):
        tr.log_artifacts(folder)
    arts = {a.path for a in tr.get_run(run.id).artifacts}
    assert arts == {"ok.txt", "inside.txt"}
    assert b"top secret" not in b"".join(p.read_bytes() for p in store.rglob("*") if p.is_file())


def test_log_image_sources_and_steps(store: Path, tmp_path: Path) -> None:
    np = pytest.importorskip("numpy")
    png = tmp_path / "p.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\nfake")
    with tr.start_run() as run:
        tr.log_image(np.zeros((4, 5, 3)), key="samples")
        tr.log_image(np.full((4, 5), 200, dtype=np.uint8), key="samples")
        tr.log_image(png, key="samples", step=7)
        tr.log_image(np.ones((2, 2)), key="val/pred")
        with pytest.raises(tr.TrackreportError, match="shape"):
            tr.log_image(np.zeros((2, 2, 7)), key="bad")
        with pytest.raises(TypeError, match="log_image"):
            tr.log_image("not-a-file-but-str" and 5, key="bad")
    images = [a for a in tr.get_run(run.id).artifacts if a.image]
    assert [(a.image["key"], a.image["step"]) for a in images] == [
        ("samples", 0), ("samples", 1), ("samples", 7), ("val/pred", 0)]
    first = store / "runs" / run.id / "artifacts" / images[0].path
    assert first.read_bytes().startswith(b"\x89PNG") and images[0].media_type == "image/png"
    assert "/" not in images[3].path.split("/")[1]


def test_set_experiment_reaches_an_existing_store_without_a_run(store: Path) -> None:
    from trackreport.reader import read_experiments

    tr.set_experiment("before-store", description="not written: no store yet")
    assert not store.exists()
    with tr.start_run(experiment="other"):
        pass
    tr.set_experiment("planned", description="Runs come *tomorrow*", primary_metric="auc",
                      goal="max")
    exps = read_experiments(tr.get_store())
    assert exps["planned"].description == "Runs come *tomorrow*"
    assert exps["planned"].goal == "max"
