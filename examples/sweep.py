"""A hyperparameter sweep logged with trackreport: copy it, change the model, keep the logging.

The task: tell malignant from benign breast tumours (scikit-learn's Wisconsin
diagnostic data set, which ships inside scikit-learn, so nothing is downloaded).
The story the report tells:

* first a baseline: a one-split decision tree, tagged ``baseline=true``;
* then six gradient-boosting runs: learning rate (0.03, 0.1, 0.3) x tree depth
  (1, 3), with the validation metrics logged after every boosting stage;
* then logistic regression on standardised features (C = 0.1 and 1);
* finally the winner gets a note saying why it won, and its model is registered
  as ``tumour-classifier`` with the alias ``champion`` (the version to ship).

Every metric has a label and a one-line meaning (``set_experiment(metrics=)``);
validation ROC AUC ranks the runs (validation accuracy ties too often on 143
tumours) and validation log-loss breaks ties.

Every run logs params, tags, a markdown note, per-stage metrics, final metrics,
its config (JSON), a CSV table, a PNG figure (matplotlib), a chart (altair,
stored as its Vega-Lite spec) and the fitted model (``run.log_model``). Then the
script reads the runs back, prints the best one and registers its model. Load
the model that ships, by name, from any script::

    model = tr.load_model("models:/tumour-classifier@champion")

Run it (under 10 s; ``--quick`` fits fewer boosting stages)::

    python examples/sweep.py                  # store: $TRACKREPORT_STORE, else ./trackruns
    python examples/sweep.py --store /tmp/runs --quick
    trackreport runs --store /tmp/runs        # then look at what was logged

Model results are deterministic (every random_state is fixed).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import altair as alt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    log_loss,
    precision_recall_fscore_support,
    roc_auc_score,
)
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

import trackreport as tr

EXPERIMENT = "breast-cancer-classifier"
MODEL_NAME = "tumour-classifier"  # the registered model: the winner's model ships under it
SEED = 0  # one seed for the split and the models: the same numbers on every run

DESCRIPTION = """\
Which model best tells **malignant** from **benign** breast tumours?

Data: the Wisconsin diagnostic breast cancer data set that ships with scikit-learn
(569 tumours, 30 features computed from a digitised image of a fine needle aspirate).
Split 75 % train / 25 % validation, stratified, `random_state=0`.

- **Baseline:** a decision tree with a single split, the simplest model that learns anything.
- **Sweep:** gradient boosting over learning rate x tree depth; the validation
  accuracy and log-loss are logged after every boosting stage, so the charts show
  when a model stops improving or starts to overfit.
- **Linear models:** logistic regression on standardised features.

Ranked by validation ROC AUC (higher is better): with 143 validation tumours, accuracy
moves in steps of 0.7 % and many runs tie on it. Ties go to the lower validation log-loss.
"""

# What each metric means, for readers of the report (labels replace the keys in
# headings, cards and charts; the keys stay in the tables).
METRICS = {
    "val_acc": {"label": "Validation accuracy", "goal": "max", "format": "percent",
                "description": "Share of held-out tumours classified correctly"},
    "val_logloss": {"label": "Validation log-loss", "goal": "min",
                    "description": "How confident and right the predicted probabilities are "
                                   "(lower is better; breaks ties)"},
    "val_roc_auc": {"label": "Validation ROC AUC", "goal": "max", "format": "percent",
                    "description": "Chance a malignant tumour scores higher than a benign one"},
    "val_f1": {"label": "Validation F1", "goal": "max",
               "description": "Balance of precision and recall for the benign class"},
    "train_acc": {"label": "Training accuracy", "goal": "max", "format": "percent",
                  "description": "Accuracy on the data the model was fitted on (far above "
                                 "validation: overfitting)"},
    "fit_seconds": {"label": "Fit time (s)", "goal": "min",
                    "description": "Seconds to fit the model on this machine"},
    "best_val_acc": {"label": "Best validation accuracy during boosting", "goal": "max",
                     "format": "percent",
                     "description": "Highest validation accuracy after any boosting stage"},
    "best_stage": {"label": "Stage of the best accuracy",
                   "description": "Number of trees when the best validation accuracy was "
                                  "first reached"},
}

# The grid. Each value comes with a sentence for the run's note: a reader of the
# report sees *why* a run exists, not only its numbers.
LEARNING_RATES = {
    0.03: "a small learning rate takes small steps: it needs many trees but tends to "
          "generalise well.",
    0.1: "0.1 is scikit-learn's default learning rate, the usual starting point.",
    0.3: "a large learning rate fits in few trees but may overshoot and overfit.",
}
MAX_DEPTHS = {
    1: "Depth-1 trees (stumps) each look at one feature: an additive model, hard to overfit.",
    3: "Depth-3 trees can model interactions between up to three features.",
}
BASELINE_CS = {
    0.1: "strong regularisation (C=0.1): a simple, stable reference point.",
    1.0: "scikit-learn's default regularisation (C=1): the baseline most people would try first.",
}


@dataclass
class Data:
    """The train/validation split and the names the plots need."""

    X_train: pd.DataFrame  # one column per feature, named: the model's input signature
    X_val: pd.DataFrame
    y_train: np.ndarray
    y_val: np.ndarray
    feature_names: list[str]
    class_names: list[str]


def load_data() -> Data:
    """Load the data set (bundled with scikit-learn) and split it the same way every time."""
    bunch = load_breast_cancer(as_frame=True)
    X_train, X_val, y_train, y_val = train_test_split(
        bunch.data, bunch.target, test_size=0.25, stratify=bunch.target, random_state=SEED
    )
    return Data(X_train, X_val, y_train.to_numpy(), y_val.to_numpy(),
                feature_names=[str(n) for n in bunch.feature_names],
                class_names=[str(n) for n in bunch.target_names])


# --- artifacts: a CSV table, a matplotlib figure, an altair chart -------------------------
def per_class_table(data: Data, y_pred: np.ndarray) -> pd.DataFrame:
    """Precision, recall, F1 and support per class on the validation set."""
    precision, recall, f1, support = precision_recall_fscore_support(data.y_val, y_pred)
    return pd.DataFrame({"class": data.class_names, "precision": precision.round(4),
                         "recall": recall.round(4), "f1": f1.round(4), "support": support})


def confusion_figure(data: Data, y_pred: np.ndarray, title: str) -> Figure:
    """A confusion matrix drawn with matplotlib.

    ``Figure()`` (rather than ``pyplot``) renders with the non-interactive Agg
    backend: no window opens, it works on a server or in CI, and there is no
    global figure list to clean up afterwards.
    """
    matrix = confusion_matrix(data.y_val, y_pred)
    fig = Figure(figsize=(3.6, 3.2))
    ax = fig.add_subplot()
    ax.imshow(matrix, cmap="Blues")
    for (i, j), count in np.ndenumerate(matrix):
        ax.text(j, i, str(count), ha="center", va="center",
                color="white" if count > matrix.max() / 2 else "black")
    ticks = range(len(data.class_names))
    ax.set_xticks(ticks, data.class_names)
    ax.set_yticks(ticks, data.class_names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title, fontsize=10)
    return fig


def importance_chart(data: Data, importance: np.ndarray, what: str) -> alt.Chart:
    """The ten most important features as an altair bar chart."""
    top = np.argsort(importance)[::-1][:10]
    frame = pd.DataFrame({"feature": [data.feature_names[i] for i in top],
                          "importance": importance[top].round(4)})
    return (
        alt.Chart(frame, title=f"Top 10 features ({what})")
        .mark_bar()
        .encode(x=alt.X("importance:Q", title=what),
                y=alt.Y("feature:N", sort="-x", title=None),
                tooltip=["feature", "importance"])
    )


def log_evaluation(data: Data, proba_val: np.ndarray, run_name: str, tmp: Path) -> None:
    """Final metrics and the artifacts every run gets, from its validation probabilities."""
    y_pred = proba_val.argmax(axis=1)
    # No step: final metrics get step 0 (the default is "next step for that key").
    tr.log_metrics({"val_roc_auc": roc_auc_score(data.y_val, proba_val[:, 1]),
                    "val_f1": f1_score(data.y_val, y_pred)})

    # A CSV file: write it anywhere, then log_artifact copies it into the store.
    csv_path = tmp / "per_class.csv"
    per_class_table(data, y_pred).to_csv(csv_path, index=False)
    tr.log_artifact(csv_path, artifact_path="tables")  # -> tables/per_class.csv

    # A matplotlib figure, saved as PNG straight into the run.
    tr.log_figure(confusion_figure(data, y_pred, f"{run_name}: validation set"),
                  "plots/confusion_matrix.png")


# --- the runs -----------------------------------------------------------------------------
def stump_baseline_run(data: Data, tmp: Path) -> str:
    """The baseline: one split of one feature. Every other run must beat it."""
    name = "baseline-stump"
    with tr.start_run(name=name, tags={"model": "decision_tree", "dataset": "breast_cancer",
                                       "role": "baseline", "baseline": "true"}) as run:
        tr.note("**Why** this run: the baseline. A decision tree with one split on one "
                "feature; any model worth its complexity must beat it.")
        model = DecisionTreeClassifier(max_depth=1, random_state=SEED)
        tr.log_params({"model": "DecisionTreeClassifier", "max_depth": 1,
                       "n_train": len(data.y_train)})
        tr.log_dict({"dataset": "breast_cancer", "test_size": 0.25, "seed": SEED,
                     "model": {"class": "DecisionTreeClassifier", **model.get_params()}},
                    "config.json")
        start = time.perf_counter()
        model.fit(data.X_train, data.y_train)
        fit_seconds = time.perf_counter() - start
        proba_train = model.predict_proba(data.X_train)
        proba_val = model.predict_proba(data.X_val)
        tr.log_metrics({"train_acc": accuracy_score(data.y_train, proba_train.argmax(axis=1)),
                        "val_acc": accuracy_score(data.y_val, proba_val.argmax(axis=1)),
                        "val_logloss": log_loss(data.y_val, proba_val),
                        "fit_seconds": fit_seconds})
        log_evaluation(data, proba_val, name, tmp)
        tr.log_figure(importance_chart(data, model.feature_importances_, "impurity importance"),
                      "charts/feature_importance.vl.json")
        # The fitted model, saved with the run; the input example records the columns
        # (names and types) it expects, shown on the run and model pages.
        run.log_model(model, "model", input_example=data.X_val.head(5))
        return run.id


def baseline_run(data: Data, C: float, tmp: Path) -> str:
    """Logistic regression: one fit, final metrics only."""
    name = f"logreg-C{C:g}"
    with tr.start_run(name=name, tags={"model": "logistic_regression",
                                       "dataset": "breast_cancer", "role": "linear"}) as run:
        tr.note(f"**Why** this run: a linear model with {BASELINE_CS[C]} "
                "Boosted trees must beat it to be worth their complexity.")
        model = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=1000))
        classifier = model[-1]
        tr.log_params({"model": "LogisticRegression", "C": C, "max_iter": 1000,
                       "scaling": "standard", "n_train": len(data.y_train)})
        # The full config as a JSON artifact: every constructor argument, defaults included.
        tr.log_dict({"dataset": "breast_cancer", "test_size": 0.25, "seed": SEED,
                     "scaler": "StandardScaler",
                     "model": {"class": "LogisticRegression", **classifier.get_params()}},
                    "config.json")

        start = time.perf_counter()
        model.fit(data.X_train, data.y_train)
        fit_seconds = time.perf_counter() - start

        proba_train = model.predict_proba(data.X_train)
        proba_val = model.predict_proba(data.X_val)
        # The same keys as the boosting runs, so the report charts them side by side.
        tr.log_metrics({"train_acc": accuracy_score(data.y_train, proba_train.argmax(axis=1)),
                        "val_acc": accuracy_score(data.y_val, proba_val.argmax(axis=1)),
                        "val_logloss": log_loss(data.y_val, proba_val),
                        "fit_seconds": fit_seconds})
        log_evaluation(data, proba_val, name, tmp)
        # On standardised features, |coefficient| is a fair measure of importance.
        tr.log_figure(importance_chart(data, np.abs(classifier.coef_[0]), "|coefficient|"),
                      "charts/feature_importance.vl.json")
        run.log_model(model, "model", input_example=data.X_val.head(5))
        return run.id


def boosting_run(data: Data, learning_rate: float, max_depth: int, n_estimators: int,
                 tmp: Path) -> str:
    """Gradient boosting: metrics after every boosting stage, then final metrics."""
    name = f"gbm-lr{learning_rate:g}-d{max_depth}"
    with tr.start_run(name=name, tags={"model": "gradient_boosting",
                                       "dataset": "breast_cancer", "role": "sweep"}) as run:
        tr.note(f"**Why** this run: {LEARNING_RATES[learning_rate]} {MAX_DEPTHS[max_depth]}")
        model = GradientBoostingClassifier(learning_rate=learning_rate, max_depth=max_depth,
                                           n_estimators=n_estimators, subsample=0.8,
                                           random_state=SEED)
        tr.log_params({"model": "GradientBoostingClassifier", "learning_rate": learning_rate,
                       "max_depth": max_depth, "n_estimators": n_estimators,
                       "subsample": 0.8, "n_train": len(data.y_train)})
        tr.log_dict({"dataset": "breast_cancer", "test_size": 0.25, "seed": SEED,
                     "model": {"class": "GradientBoostingClassifier", **model.get_params()}},
                    "config.json")

        start = time.perf_counter()
        model.fit(data.X_train, data.y_train)
        fit_seconds = time.perf_counter() - start

        # staged_predict_proba yields the model's probabilities after 1, 2, ... trees:
        # one fit gives the whole learning curve. Step = number of trees so far. The
        # argmax of the probabilities is the predicted class (what staged_predict gives).
        stages = zip(model.staged_predict_proba(data.X_train),
                     model.staged_predict_proba(data.X_val), strict=True)
        val_acc_by_stage, val_loss_by_stage = [], []
        for step, (proba_train, proba_val) in enumerate(stages, start=1):
            metrics = {"train_acc": accuracy_score(data.y_train, proba_train.argmax(axis=1)),
                       "val_acc": accuracy_score(data.y_val, proba_val.argmax(axis=1)),
                       "val_logloss": log_loss(data.y_val, proba_val)}
            tr.log_metrics(metrics, step=step)
            val_acc_by_stage.append(metrics["val_acc"])
            val_loss_by_stage.append(metrics["val_logloss"])
        best_stage = int(np.argmax(val_acc_by_stage)) + 1  # the first stage with the best value
        tr.log_metrics({"best_val_acc": max(val_acc_by_stage), "best_stage": best_stage,
                        "fit_seconds": fit_seconds})
        log_evaluation(data, proba_val, name, tmp)  # proba_val: after the last stage
        tr.log_figure(importance_chart(data, model.feature_importances_, "impurity importance"),
                      "charts/feature_importance.vl.json")

        # Tags can be set at any time, e.g. once the result is known: here, whether the
        # validation log-loss ended more than 10 % above its minimum (a sign of overfitting).
        overfits = val_loss_by_stage[-1] > 1.1 * min(val_loss_by_stage)
        tr.set_tag("overfits", "yes" if overfits else "no")
        tr.note(f"**Result:** validation accuracy {val_acc_by_stage[-1]:.3f} after "
                f"{n_estimators} trees (best {max(val_acc_by_stage):.3f}, first reached after "
                f"{best_stage}); validation log-loss {val_loss_by_stage[-1]:.3f} "
                f"(lowest {min(val_loss_by_stage):.3f}).")
        # Boosted trees are pickled: skops (the safer default for scikit-learn) needs about
        # 5 s and 5 MB for 200 trees, pickle 35 ms and 0.25 MB. Loading a pickle runs code
        # from the file: load these only from a store you trust.
        run.log_model(model, "model", input_example=data.X_val.head(5), flavor="pickle")
        return run.id


# --- main ---------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", help="store folder (default: $TRACKREPORT_STORE, "
                                        "else ./trackruns)")
    parser.add_argument("--quick", action="store_true",
                        help="fit 50 boosting stages instead of 200 (for tests)")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    if args.store:
        tr.set_store(args.store)
    # Optional, but the report uses it: a description, and which metric ranks the runs.
    tr.set_experiment(EXPERIMENT, description=DESCRIPTION, primary_metric="val_roc_auc",
                      goal="max", tie_breaker="val_logloss", metrics=METRICS)

    data = load_data()
    n_estimators = 50 if args.quick else 200
    run_ids = []
    with tempfile.TemporaryDirectory() as tmp:
        run_ids.append(stump_baseline_run(data, Path(tmp)))
        for max_depth in MAX_DEPTHS:
            for learning_rate in LEARNING_RATES:
                run_ids.append(boosting_run(data, learning_rate, max_depth, n_estimators,
                                            Path(tmp)))
        for C in BASELINE_CS:
            run_ids.append(baseline_run(data, C, Path(tmp)))

    # Read the runs back as a pandas DataFrame: one row per run, last value per metric.
    runs = tr.load_runs(experiment=EXPERIMENT)
    runs = runs[runs["run_id"].isin(run_ids)]  # this sweep only (the store may hold older runs)
    # Best first: highest ROC AUC; ties broken by the lower log-loss (as the report ranks them).
    runs = runs.sort_values(["metrics.val_roc_auc", "metrics.val_logloss"],
                            ascending=[False, True])
    print(f"Logged {len(runs)} runs to experiment {EXPERIMENT!r} in "
          f"{tr.get_store().root} ({time.perf_counter() - started:.1f} s)\n")
    columns = {"run_name": "run", "metrics.val_roc_auc": "val_roc_auc",
               "metrics.val_acc": "val_acc",
               "metrics.val_logloss": "val_logloss"}
    table = runs[list(columns)].rename(columns=columns)
    print(table.to_string(index=False, float_format="{:.4f}".format))
    best = runs.iloc[0]
    baseline = runs[runs["run_name"] == "baseline-stump"].iloc[0]
    runner_up = runs.iloc[1]
    # The winner gets a note saying why it won (the report shows it on the run page).
    with tr.start_run(run_id=best["run_id"]):
        tr.set_tag("stage", "winner")
        tr.note(f"**Why this run won:** the highest validation ROC AUC of the sweep, "
                f"{best['metrics.val_roc_auc']:.1%} against {baseline['metrics.val_roc_auc']:.1%} "
                f"for the baseline and {runner_up['metrics.val_roc_auc']:.1%} for the runner-up "
                f"{runner_up['run_name']}, and the lowest validation log-loss "
                f"({best['metrics.val_logloss']:.3f}): a linear model on standardised "
                "features separates these tumours better than boosted trees.")
    # Model registry: the winner's model (logged with its run) becomes the next version of
    # MODEL_NAME, and the alias "champion" moves to it: "the version to ship". Other
    # scripts load it by name: tr.load_model("models:/tumour-classifier@champion").
    version = tr.register_model(
        f"runs:/{best['run_id']}/model", MODEL_NAME, tags={"dataset": "breast_cancer"},
        description=(f"Run {best['run_name']}, the best of the sweep by validation ROC AUC "
                     f"({best['metrics.val_roc_auc']:.1%})."))
    tr.set_model_alias(MODEL_NAME, "champion", version.version)
    tr.set_registered_model_description(
        MODEL_NAME, "Tells **malignant** from **benign** breast tumours, from 30 measurements "
        "of a fine needle aspirate (the Wisconsin diagnostic data set). `predict` gives "
        "0 for malignant, 1 for benign; `predict_proba` the chance of each.")
    print(f"\nBest run: {best['run_name']} ({best['run_id']}): validation ROC AUC "
          f"{best['metrics.val_roc_auc']:.4f}, log-loss {best['metrics.val_logloss']:.4f}")
    print(f"Registered its model as {MODEL_NAME} version {version.version} (champion): "
          f'tr.load_model("models:/{MODEL_NAME}@champion")')


if __name__ == "__main__":
    main()
