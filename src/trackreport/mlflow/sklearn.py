"""``mlflow.sklearn``: log, load and autolog scikit-learn models into a trackreport store.

``autolog`` patches ``fit`` of scikit-learn's estimators while enabled. Per
top-level ``fit`` (fits inside it, e.g. a pipeline's steps or a search's
candidates, are not logged separately) it logs: the estimator's params
(``get_params(deep=True)``), tags ``estimator_name`` and ``estimator_class``,
training metrics on the training data (classifiers: ``training_score``,
accuracy, weighted precision/recall/F1, and log loss and ROC AUC when the
estimator has ``predict_proba``; regressors: ``training_score``, MSE, RMSE, MAE,
R²), and the fitted model under ``model`` (saved as ``log_model`` saves it: an
MLflow model too). ``GridSearchCV`` / ``RandomizedSearchCV`` also log
``best_<param>`` params, ``best_cv_score``, the best estimator under
``best_estimator``, and one child run per best candidate
(``max_tuning_runs``, default 5) with the candidate's full params and its
``cv_results_`` means, deviations and rank (not the per-split values).
"""

from __future__ import annotations

import functools
import math
import threading
from typing import Any

from .. import fluent
from . import _fluent
from .exceptions import MlflowException, translated
from .models import ModelInfo

FLAVOR_NAME = "sklearn"


@translated
def log_model(sk_model: Any, artifact_path: str | None = None, *, name: str | None = None,
              signature: Any = None, input_example: Any = None,
              registered_model_name: str | None = None, serialization_format: Any = None,
              **kwargs: Any) -> ModelInfo:
    """Save a scikit-learn model with the active run (``name`` or ``artifact_path``).

    The folder is a trackreport model and a valid MLflow model (``MLmodel`` with
    the ``python_function`` and ``sklearn`` flavors). ``serialization_format``:
    ``"skops"`` (the default, as in MLflow 3; pickle when skops cannot save the
    model) or ``"pickle"``/``"cloudpickle"`` (a pickle file).
    """
    run = _fluent._active()
    path, meta = _save(run, sk_model, name or artifact_path or "model", signature,
                       input_example, serialization_format)
    uri = f"runs:/{run.id}/{path}"
    version = None
    if registered_model_name:
        version = fluent.register_model(uri, registered_model_name).version
    return ModelInfo(uri, run.id, path, {"sklearn": {"format": meta["format"]},
                                         "python_function": {"loader_module": "mlflow.sklearn"}},
                     signature, version)


def _save(run: Any, sk_model: Any, path: str, signature: Any = None, input_example: Any = None,
          serialization_format: Any = None) -> tuple[str, dict[str, Any]]:
    """Save a model as trackreport and MLflow models both; (its path, its model.json)."""
    from ..models import read_model_json, save_model
    from .mlmodel import write_mlmodel

    formats = ("pickle",) if serialization_format in ("pickle", "cloudpickle") else (
        "skops", "pickle")
    evts = save_model(run.store, run.id, sk_model, path, input_example, "sklearn",
                      formats=formats)
    path = evts[-1]["path"]
    meta = read_model_json(run.store, run.id, path)
    files = write_mlmodel(run.store, run.id, path, meta,
                          _signature(signature, sk_model, input_example, meta))
    for event in evts[:-1] + files + evts[-1:]:
        run._file.add(event)
    return path, meta


def _signature(signature: Any, model: Any, example: Any, meta: dict[str, Any]
               ) -> dict[str, Any] | None:
    """The signature to record: the one given, else inferred from the input example."""
    if signature is not None:
        if hasattr(signature, "to_dict"):
            signature = signature.to_dict()
        return signature if isinstance(signature, dict) else None
    if meta.get("signature") is None:
        return None
    from .models.signature import infer_signature

    try:
        output = model.predict(example)
    except Exception:  # a model that cannot predict on its example: inputs only
        output = None
    return infer_signature(example, output).to_dict()


@translated
def load_model(model_uri: str, dst_path: str | None = None, **kwargs: Any) -> Any:
    """Load a model from ``runs:/<run_id>/<path>`` or ``models:/name/<version|@alias>``.

    joblib/pickle models run code from the file when loaded: trusted stores only.
    """
    return fluent.load_model(model_uri)


def save_model(*args: Any, **kwargs: Any) -> None:
    """Not supported: models are saved with a run (``log_model``)."""
    raise MlflowException("mlflow.sklearn.save_model is not supported by trackreport "
                          "(use log_model inside a run)", error_code="NOT_IMPLEMENTED")


# autolog ---------------------------------------------------------------------------------
_state = threading.local()
_patched: dict[Any, Any] = {}  # class -> its original fit
_settings: dict[str, Any] = {}


def autolog(log_input_examples: bool = False, log_model_signatures: bool = True,
            log_models: bool = True, log_datasets: bool = True, disable: bool = False,
            exclusive: bool = False, disable_for_unsupported_versions: bool = False,
            silent: bool = False, max_tuning_runs: int | None = 5,
            log_post_training_metrics: bool = True, **kwargs: Any) -> None:
    """Log scikit-learn ``fit`` calls (see the module docstring); ``disable=True`` undoes it."""
    if disable:
        for cls, original in _patched.items():
            cls.fit = original
        _patched.clear()
        return
    _settings.update(log_models=log_models, max_tuning_runs=max_tuning_runs,
                     log_input_examples=log_input_examples)
    from sklearn.model_selection import GridSearchCV, RandomizedSearchCV
    from sklearn.utils import all_estimators

    classes = [cls for _, cls in all_estimators()] + [GridSearchCV, RandomizedSearchCV]
    for cls in classes:
        owner = next((c for c in cls.__mro__ if "fit" in c.__dict__), None)
        if owner is None or owner in _patched:
            continue
        original = owner.__dict__["fit"]
        _patched[owner] = original
        owner.fit = _patch(original)


def _patch(original: Any) -> Any:
    @functools.wraps(original)
    def fit(self: Any, *args: Any, **kwargs: Any) -> Any:
        if getattr(_state, "busy", False) or not _patched:
            return original(self, *args, **kwargs)
        _state.busy = True
        try:
            return _logged_fit(original, self, args, kwargs)
        finally:
            _state.busy = False

    return fit


def _logged_fit(original: Any, est: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    own = fluent.active_run() is None
    run = _fluent._active()
    try:
        search = hasattr(est, "param_grid") or hasattr(est, "param_distributions")
        run.log_params(_params(est.get_params(deep=not search)))
        run.set_tags({"estimator_name": type(est).__name__,
                      "estimator_class": f"{type(est).__module__}.{type(est).__qualname__}"})
        result = original(est, *args, **kwargs)
        x = args[0] if args else kwargs.get("X")
        y = args[1] if len(args) > 1 else kwargs.get("y")
        if y is not None:
            metrics = _training_metrics(est, x, y, kwargs.get("sample_weight"))
            if metrics:
                run.log_metrics(metrics, step=0)
        if hasattr(est, "best_estimator_") or hasattr(est, "cv_results_"):
            _log_search(run, est)
        if _settings.get("log_models", True):
            _save(run, est, "model")
    except BaseException as exc:
        if own:
            from ..run import outcome

            run.end(*outcome(type(exc), exc))
        raise
    if own:
        _fluent._last_run_id[:] = [run.id]
        run.end("FINISHED")
    return result


def _params(params: dict[str, Any]) -> dict[str, str]:
    """Params as MLflow logs them: text."""
    return {str(k): str(v) for k, v in params.items()}


def _training_metrics(est: Any, x: Any, y: Any, weight: Any) -> dict[str, float]:
    from sklearn import base, metrics

    out: dict[str, float] = {}
    try:
        if base.is_classifier(est):
            pred = est.predict(x)
            out["training_accuracy_score"] = metrics.accuracy_score(y, pred, sample_weight=weight)
            for key, func in (("training_precision_score", metrics.precision_score),
                              ("training_recall_score", metrics.recall_score),
                              ("training_f1_score", metrics.f1_score)):
                out[key] = func(y, pred, average="weighted", sample_weight=weight)
            if hasattr(est, "predict_proba"):
                proba = est.predict_proba(x)
                out["training_log_loss"] = metrics.log_loss(y, proba, sample_weight=weight,
                                                            labels=est.classes_)
                if proba.shape[1] == 2:
                    out["training_roc_auc"] = metrics.roc_auc_score(y, proba[:, 1],
                                                                    sample_weight=weight)
                else:
                    out["training_roc_auc"] = metrics.roc_auc_score(
                        y, proba, average="weighted", multi_class="ovo", sample_weight=weight,
                        labels=est.classes_)
        elif base.is_regressor(est):
            pred = est.predict(x)
            mse = metrics.mean_squared_error(y, pred, sample_weight=weight)
            out["training_mean_squared_error"] = mse
            out["training_root_mean_squared_error"] = math.sqrt(mse)
            out["training_mean_absolute_error"] = metrics.mean_absolute_error(
                y, pred, sample_weight=weight)
            out["training_r2_score"] = metrics.r2_score(y, pred, sample_weight=weight)
        if hasattr(est, "score"):
            out["training_score"] = est.score(x, y, sample_weight=weight) \
                if weight is not None else est.score(x, y)
    except Exception:  # noqa: S110 - a metric the estimator cannot give is left out
        pass
    return {k: float(v) for k, v in out.items()}


def _log_search(run: Any, search: Any) -> None:
    best = getattr(search, "best_params_", None) or {}
    run.log_params({f"best_{k}": str(v) for k, v in best.items()})
    if getattr(search, "best_score_", None) is not None:
        run.log_metrics({"best_cv_score": float(search.best_score_)}, step=0)
    if _settings.get("log_models", True) and hasattr(search, "best_estimator_"):
        _save(run, search.best_estimator_, "best_estimator")
    limit = _settings.get("max_tuning_runs", 5)
    results = search.cv_results_
    ranks = list(results["rank_test_score"]) if "rank_test_score" in results else []
    order = sorted(range(len(ranks)), key=lambda i: (ranks[i], i))
    if limit is not None:
        order = order[:limit]
    from sklearn.base import clone

    base = search.estimator
    numeric = [k for k in results if k != "params" and not k.startswith(("param_", "split"))]
    for i in order:
        with fluent.start_run(nested=True, parent_run_id=run.id,
                              experiment=run.experiment) as child:
            candidate = clone(base).set_params(**results["params"][i])
            child.log_params(_params(candidate.get_params(deep=True)))
            child.set_tags({"estimator_name": type(base).__name__,
                            "estimator_class": f"{type(base).__module__}."
                                               f"{type(base).__qualname__}"})
            values = {}
            for key in numeric:
                try:
                    values[key] = float(results[key][i])
                except (TypeError, ValueError):
                    continue
            child.log_metrics(values, step=0)
