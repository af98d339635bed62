"""examples/sweep.py runs as a user runs it (a real subprocess, capture on) and logs a full sweep."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import trackreport as tr

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "examples" / "sweep.py"
EXPERIMENT = "breast-cancer-classifier"
QUICK_STAGES = 50  # boosting stages with --quick
STAGED = ("train_acc", "val_acc", "val_logloss")

pytest.importorskip("sklearn")
pytest.importorskip("matplotlib")


def run_sweep(store: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("TRACKREPORT_STORE", "TRACKREPORT_CAPTURE")}  # defaults: capture on
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"),
                                                      env.get("PYTHONPATH")]))
    for name in ("DISPLAY", "MPLBACKEND"):  # headless, with matplotlib's default backend
        env.pop(name, None)
    proc = subprocess.run([sys.executable, str(SCRIPT), "--store", str(store), "--quick"],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    base = tmp_path_factory.mktemp("sweep")
    store = base / "store"
    proc = run_sweep(store, cwd=base)
    return store, proc.stdout


@pytest.fixture(scope="module")
def runs(sweep: tuple[Path, str]) -> dict[str, tr.Run]:
    store, _ = sweep
    frame = tr.load_runs(experiment=EXPERIMENT, store=store)
    return {run_id: tr.get_run(run_id, store=store) for run_id in frame["run_id"]}


def boosting(runs: dict[str, tr.Run]) -> list[tr.Run]:
    return [r for r in runs.values() if r.tags.get("model") == "gradient_boosting"]


def test_at_least_six_finished_runs_with_params_and_tags(runs: dict[str, tr.Run]) -> None:
    assert len(runs) >= 6
    for run in runs.values():
        assert run.status == "FINISHED", (run.name, run.error)
        assert run.experiment == EXPERIMENT
        assert run.tags["dataset"] == "breast_cancer"
        assert run.params["model"] in ("GradientBoostingClassifier", "LogisticRegression",
                                       "DecisionTreeClassifier")
        assert run.params["n_train"] == 426
    grid = {(r.params["learning_rate"], r.params["max_depth"]) for r in boosting(runs)}
    assert len(grid) >= 6  # every grid cell is its own run
    assert {r.tags["model"] for r in runs.values()} == {"gradient_boosting",
                                                        "logistic_regression", "decision_tree"}
    assert len({r.name for r in runs.values()}) == len(runs)


def test_staged_metrics_one_value_per_boosting_stage(runs: dict[str, tr.Run]) -> None:
    for run in boosting(runs):
        assert run.params["n_estimators"] == QUICK_STAGES
        for key in STAGED:
            series = run.metrics[key]
            assert series.steps == list(range(1, QUICK_STAGES + 1)), (run.name, key)
            assert all(v >= 0 for v in series.values)
            if key.endswith("_acc"):
                assert all(v <= 1 for v in series.values)
        # Boosting learns: the training accuracy after the last stage beats the first.
        assert run.metrics["train_acc"].values[-1] > run.metrics["train_acc"].values[0]
        assert run.metrics["best_val_acc"].last == max(run.metrics["val_acc"].values)
        assert run.tags["overfits"] in ("yes", "no")
    for run in runs.values():
        for key in ("val_acc", "val_logloss", "val_roc_auc", "val_f1"):
            assert key in run.metrics, (run.name, key)
        assert 0.85 < run.metrics["val_acc"].last <= 1


def test_artifacts_csv_png_chart_config_and_source(sweep: tuple[Path, str],
                                                   runs: dict[str, tr.Run]) -> None:
    store, _ = sweep
    for run in runs.values():
        arts = {a.path: a for a in run.artifacts}
        folder = store / "runs" / run.run_id / "artifacts"
        assert {"tables/per_class.csv", "plots/confusion_matrix.png", "config.json",
                "charts/feature_importance.vl.json"} <= set(arts), (run.name, sorted(arts))
        for path, art in arts.items():
            assert (folder / path).stat().st_size == art.size

        with open(folder / "tables/per_class.csv", newline="") as f:
            rows = list(csv.DictReader(f))
        assert [r["class"] for r in rows] == ["malignant", "benign"]
        assert sum(int(r["support"]) for r in rows) == 143  # the validation set
        assert arts["tables/per_class.csv"].media_type == "text/csv"

        png = (folder / "plots/confusion_matrix.png").read_bytes()
        assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 2000
        assert arts["plots/confusion_matrix.png"].media_type == "image/png"

        chart = arts["charts/feature_importance.vl.json"]
        assert chart.media_type.startswith("application/vnd.vegalite")
        spec = json.loads((folder / chart.path).read_text())
        assert spec["mark"]["type"] == "bar" and "vega-lite" in spec["$schema"]

        config = json.loads((folder / "config.json").read_text())
        assert config["seed"] == 0
        if run.tags["model"] == "gradient_boosting":
            assert config["model"]["random_state"] == 0
            assert config["model"]["learning_rate"] == run.params["learning_rate"]

        # Capture is on: the entry point's source is copied into the run.
        sources = [p for p in arts if p.endswith("sweep.py")]
        assert sources, sorted(arts)
        assert (folder / sources[0]).read_bytes() == SCRIPT.read_bytes()


def test_notes_explain_each_run(runs: dict[str, tr.Run]) -> None:
    for run in runs.values():
        assert run.notes, run.name
        assert run.notes[0].markdown.startswith("**Why** this run:")
    for run in boosting(runs):
        assert any(n.markdown.startswith("**Result:**") for n in run.notes)


def test_experiment_settings(sweep: tuple[Path, str]) -> None:
    # Read the experiments' events files directly: the store format is a contract.
    store, _ = sweep
    settings: dict[str, object] = {}
    for path in sorted((store / "experiments").glob("events-*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            event = json.loads(line)
            if event["type"] == "experiment" and event["name"] == EXPERIMENT:
                settings.update(event)
    assert settings["primary_metric"] == "val_roc_auc"
    assert settings["goal"] == "max"
    assert settings["tie_breaker"] == "val_logloss"
    metrics = settings["metrics"]
    assert isinstance(metrics, dict)
    for key in ("val_acc", "val_logloss", "val_roc_auc", "val_f1", "train_acc", "fit_seconds",
                "best_val_acc", "best_stage"):
        assert metrics[key]["label"] and metrics[key]["description"], key
    assert "**malignant**" in str(settings["description"])


def test_summary_names_the_best_run(sweep: tuple[Path, str]) -> None:
    store, stdout = sweep
    frame = tr.load_runs(experiment=EXPERIMENT, store=store)
    best = frame.sort_values(["metrics.val_roc_auc", "metrics.val_logloss"],
                             ascending=[False, True]).iloc[0]
    assert f"Logged {len(frame)} runs" in stdout
    assert f"Best run: {best['run_name']} ({best['run_id']})" in stdout


def test_results_are_deterministic_and_summary_counts_one_sweep(
        sweep: tuple[Path, str], tmp_path: Path) -> None:
    # A second sweep into the same store: same numbers, and the summary counts only its own runs.
    store, first_stdout = sweep
    second = tmp_path / "store"
    shutil.copytree(store, second)
    before = set(tr.load_runs(store=second)["run_id"])
    proc = run_sweep(second, cwd=tmp_path)
    frame = tr.load_runs(experiment=EXPERIMENT, store=second)
    assert len(frame) == 2 * len(before)
    assert f"Logged {len(before)} runs" in proc.stdout
    keys = ["metrics.val_acc", "metrics.val_logloss", "metrics.train_acc", "metrics.val_roc_auc"]
    old = frame[frame["run_id"].isin(before)].set_index("run_name")[keys].sort_index()
    new = frame[~frame["run_id"].isin(before)].set_index("run_name")[keys].sort_index()
    assert old.equals(new)
    # The printed table (everything but the timing, the run id and the version) is the same.
    assert first_stdout.splitlines()[2:-2] == proc.stdout.splitlines()[2:-2]
    # The second sweep's winner is the next version of the model, and champion moves to it.
    champion = tr.load_model("models:/tumour-classifier@champion", store=second)
    assert tr.get_model_version("tumour-classifier", 2, store=second).aliases == ["champion"]
    assert tr.get_model_version("tumour-classifier", 1, store=second).aliases == []
    assert "version 2 (champion)" in proc.stdout.splitlines()[-1]
    assert hasattr(champion, "predict_proba")


def test_the_example_tells_a_story(runs: dict[str, tr.Run]) -> None:
    """Baseline first, then runs that beat it, one clear winner (no tie), with a note why."""
    chron = sorted(runs.values(), key=lambda r: (r.start_time, r.run_id))
    assert chron[0].tags.get("baseline") == "true"
    auc = [r.metrics["val_roc_auc"].last for r in chron]
    best = max(auc)
    assert auc.count(best) == 1  # no exact tie on the primary metric
    assert best > auc[0] and auc[0] == min(auc)
    winner = chron[auc.index(best)]
    assert winner.tags.get("stage") == "winner"
    assert any(n.markdown.startswith("**Why this run won:**") for n in winner.notes)


def test_every_run_logs_its_model_and_the_winner_ships(sweep: tuple[Path, str],
                                                       runs: dict[str, tr.Run]) -> None:
    store, stdout = sweep
    for run in runs.values():
        assert [m["path"] for m in run.models] == ["model"], run.name
        meta = json.loads((store / "runs" / run.run_id / "artifacts/model/model.json")
                          .read_text())
        # boosted trees are pickled (skops is slow and large for them), the others skops
        boosted = run.tags["model"] == "gradient_boosting"
        assert meta["format"] == ("pickle" if boosted else "skops"), run.name
        columns = [c["name"] for c in meta["signature"]["columns"]]
        assert len(columns) == 30 and columns[0] == "mean radius"
    winner = next(r for r in runs.values() if r.tags.get("stage") == "winner")
    version = tr.get_model_version("tumour-classifier", "latest", store=store)
    assert (version.version, version.run_id, version.aliases) == (1, winner.run_id,
                                                                 ["champion"])
    assert version.description.startswith(f"Run {winner.name}, the best of the sweep")
    model = tr.list_models(store=store)[0]
    assert model.name == "tumour-classifier" and "**malignant**" in model.description
    assert stdout.splitlines()[-1] == ("Registered its model as tumour-classifier version 1 "
                                       "(champion): "
                                       'tr.load_model("models:/tumour-classifier@champion")')
