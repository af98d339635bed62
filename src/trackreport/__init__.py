"""trackreport: experiment tracking without a server.

Log params, metrics, tags, artifacts and notes to append-only JSONL files;
``trackreport build`` turns the store into a static website.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import (
    InvalidKeyError,
    InvalidMetricTypeError,
    InvalidValueError,
    ModelFlavorError,
    ModelNotFoundError,
    NoActiveRunError,
    ParamChangedError,
    RunNotFoundError,
    StoreFormatError,
    StoreUnavailableError,
    TrackreportError,
    UnsupportedStoreError,
    UntrustedModelError,
)
from .fluent import (
    active_run,
    delete_model_alias,
    end_run,
    get_model_version,
    get_run,
    get_store,
    list_models,
    load_metrics,
    load_model,
    load_runs,
    log_artifact,
    log_artifacts,
    log_dict,
    log_figure,
    log_image,
    log_metric,
    log_metrics,
    log_model,
    log_param,
    log_params,
    log_text,
    note,
    register_model,
    set_experiment,
    set_model_alias,
    set_model_tag,
    set_registered_model_description,
    set_store,
    set_tag,
    set_tags,
    start_run,
)
from .records import Experiment, MetricSeries, Run
from .run import ActiveRun

if TYPE_CHECKING:  # pragma: no cover
    from .models import ModelInfo
    from .registry import ModelVersion, RegisteredModel

# The model classes load on first use: the logging path does not pay for them.
_LAZY = {"ModelInfo": "models", "ModelVersion": "registry", "RegisteredModel": "registry"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__version__ = "0.1.0"

__all__ = [
    "ActiveRun",
    "Experiment",
    "InvalidKeyError",
    "InvalidMetricTypeError",
    "InvalidValueError",
    "MetricSeries",
    "ModelFlavorError",
    "ModelInfo",
    "ModelNotFoundError",
    "ModelVersion",
    "NoActiveRunError",
    "ParamChangedError",
    "RegisteredModel",
    "Run",
    "RunNotFoundError",
    "StoreFormatError",
    "StoreUnavailableError",
    "TrackreportError",
    "UnsupportedStoreError",
    "UntrustedModelError",
    "__version__",
    "active_run",
    "delete_model_alias",
    "end_run",
    "get_model_version",
    "get_run",
    "get_store",
    "list_models",
    "load_metrics",
    "load_model",
    "load_runs",
    "log_artifact",
    "log_artifacts",
    "log_dict",
    "log_figure",
    "log_image",
    "log_metric",
    "log_metrics",
    "log_model",
    "log_param",
    "log_params",
    "log_text",
    "note",
    "register_model",
    "set_experiment",
    "set_model_alias",
    "set_model_tag",
    "set_registered_model_description",
    "set_store",
    "set_tag",
    "set_tags",
    "start_run",
]
