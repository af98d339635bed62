"""``mlflow.tracking``: the client and the tracking URI functions."""

from __future__ import annotations

from .._fluent import get_tracking_uri, is_tracking_uri_set, set_tracking_uri
from .client import MlflowClient

__all__ = ["MlflowClient", "get_tracking_uri", "is_tracking_uri_set", "set_tracking_uri"]
