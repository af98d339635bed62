"""trackreport: experiment tracking without a server.

Log params, metrics, tags, artifacts and notes to append-only JSONL files;
``trackreport build`` turns the store into a static website.
"""

from __future__ import annotations

from .errors import (
    InvalidKeyError,
    InvalidMetricTypeError,
    InvalidValueError,
    NoActiveRunError,
    ParamChangedError,
    RunNotFoundError,
    StoreFormatError,
    TrackreportError,
    UnsupportedStoreError,
)
from .fluent import (
    active_run,
    end_run,
    get_run,
    get_store,
    load_metrics,
    load_runs,
    log_artifact,
    log_artifacts,
    log_dict,
    log_figure,
    log_image,
    log_metric,
    log_metrics,
    log_param,
    log_params,
    log_text,
    note,
    set_experiment,
    set_store,
    set_tag,
    set_tags,
    start_run,
)
from .records import Experiment, MetricSeries, Run
from .run import ActiveRun

__version__ = "0.1.0"

__all__ = [
    "ActiveRun",
    "Experiment",
    "InvalidKeyError",
    "InvalidMetricTypeError",
    "InvalidValueError",
    "MetricSeries",
    "NoActiveRunError",
    "ParamChangedError",
    "Run",
    "RunNotFoundError",
    "StoreFormatError",
    "TrackreportError",
    "UnsupportedStoreError",
    "__version__",
    "active_run",
    "end_run",
    "get_run",
    "get_store",
    "load_metrics",
    "load_runs",
    "log_artifact",
    "log_artifacts",
    "log_dict",
    "log_figure",
    "log_image",
    "log_metric",
    "log_metrics",
    "log_param",
    "log_params",
    "log_text",
    "note",
    "set_experiment",
    "set_store",
    "set_tag",
    "set_tags",
    "start_run",
]
