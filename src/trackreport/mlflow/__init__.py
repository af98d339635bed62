"""MLflow's tracking API over a trackreport store: ``import trackreport.mlflow as mlflow``.

``trackreport run -- python train.py`` puts a package named ``mlflow`` first on
the program's import path that is this module, so unmodified MLflow scripts
log into the trackreport store. See the README ("Run an MLflow script
unchanged") for what is supported; anything else raises ``MlflowException``
naming the function.
"""

from __future__ import annotations

import os
import sys
import types
from typing import Any

from .. import fluent as _tr
from . import data, entities, exceptions, models, pyfunc, sklearn, tracking
from ._fluent import (
    ActiveRun,
    active_run,
    create_experiment,
    end_run,
    flush_artifact_async_logging,
    flush_async_logging,
    get_artifact_uri,
    get_experiment,
    get_experiment_by_name,
    get_parent_run,
    get_registry_uri,
    get_run,
    get_tracking_uri,
    is_tracking_uri_set,
    last_active_run,
    log_artifact,
    log_artifacts,
    log_dict,
    log_figure,
    log_image,
    log_input,
    log_metric,
    log_metrics,
    log_param,
    log_params,
    log_table,
    log_text,
    search_experiments,
    set_experiment,
    set_experiment_tag,
    set_experiment_tags,
    set_registry_uri,
    set_tag,
    set_tags,
    set_tracking_uri,
    start_run,
)
from ._search import search_runs
from .exceptions import MlflowException, translated, unsupported
from .tracking import MlflowClient

__version__ = "3.0.0+trackreport"


@translated
def register_model(model_uri: str, name: str, await_registration_for: int = 0, *,
                   tags: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    """Register the model at ``runs:/<run_id>/<path>`` as the next version of ``name``."""
    return _tr.register_model(model_uri, name, tags=tags)


def autolog(log_input_examples: bool = False, log_model_signatures: bool = True,
            log_models: bool = True, disable: bool = False, exclusive: bool = False,
            silent: bool = False, **kwargs: Any) -> None:
    """Autolog scikit-learn when it is installed (other libraries are not supported)."""
    try:
        import sklearn as _sklearn  # noqa: F401
    except ImportError:
        return
    sklearn.autolog(log_input_examples=log_input_examples, log_models=log_models,
                    disable=disable, silent=silent,
                    max_tuning_runs=kwargs.get("max_tuning_runs", 5))


def _unsupported_module(name: str) -> types.ModuleType:
    """A module whose every attribute raises MlflowException (e.g. ``mlflow.pytorch``)."""
    module = types.ModuleType(f"{__name__}.{name}")
    module.__doc__ = f"mlflow.{name} is not supported by trackreport."

    def __getattr__(attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        return unsupported(f"{name}.{attr}")

    module.__getattr__ = __getattr__  # type: ignore[method-assign]
    sys.modules[module.__name__] = module
    return module


UNSUPPORTED_MODULES = ("projects", "deployments", "pytorch", "tensorflow", "keras",
                       "xgboost", "lightgbm", "catboost", "transformers", "spark",
                       "statsmodels", "onnx", "langchain", "openai", "genai", "evaluation",
                       "system_metrics", "server", "artifacts", "recipes", "prophet",
                       "h2o", "fastai", "paddle", "spacy", "sentence_transformers")
for _name in UNSUPPORTED_MODULES:
    globals()[_name] = _unsupported_module(_name)

evaluate = unsupported("evaluate")
delete_run = unsupported("delete_run")
delete_experiment = unsupported("delete_experiment")
delete_tag = unsupported("delete_tag")
run = unsupported("run")
trace = unsupported("trace")


def _use_environment() -> None:
    """``MLFLOW_EXPERIMENT_NAME`` picks the experiment, as in MLflow."""
    name = os.environ.get("MLFLOW_EXPERIMENT_NAME")
    if name:
        _tr.set_experiment(name)


_use_environment()

__all__ = [
    "ActiveRun", "MlflowClient", "MlflowException", "active_run", "autolog",
    "create_experiment", "data", "end_run", "entities", "exceptions",
    "flush_artifact_async_logging", "flush_async_logging", "get_artifact_uri",
    "get_experiment", "get_experiment_by_name", "get_parent_run", "get_registry_uri", "get_run",
    "get_tracking_uri", "is_tracking_uri_set", "last_active_run", "log_artifact",
    "log_artifacts", "log_dict", "log_figure", "log_image", "log_input", "log_metric",
    "log_metrics", "log_param", "log_params", "log_table", "log_text", "models", "pyfunc",
    "register_model", "search_experiments", "search_runs", "set_experiment",
    "set_experiment_tag", "set_experiment_tags", "set_registry_uri",
    "set_tag", "set_tags", "set_tracking_uri", "sklearn", "start_run", "tracking",
]
