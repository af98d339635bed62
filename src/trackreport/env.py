"""Environment variables trackreport reads, in one place."""

from __future__ import annotations

import os
from typing import Any

TRACKREPORT_STORE = "TRACKREPORT_STORE"
TRACKREPORT_STORAGE_OPTIONS = "TRACKREPORT_STORAGE_OPTIONS"
TRACKREPORT_CAPTURE = "TRACKREPORT_CAPTURE"
DEFAULT_STORE = "./trackruns"


def store_path() -> str:
    """The store folder from ``$TRACKREPORT_STORE``, else ``./trackruns``."""
    return os.environ.get(TRACKREPORT_STORE) or DEFAULT_STORE


def storage_options() -> dict[str, Any] | None:
    """fsspec options for a store at a URL from ``$TRACKREPORT_STORAGE_OPTIONS`` (a JSON
    object, e.g. ``{"endpoint_url": "http://127.0.0.1:9000"}``), else None.

    Raises:
        InvalidValueError: the variable is set but is not a JSON object (one line).
    """
    text = os.environ.get(TRACKREPORT_STORAGE_OPTIONS, "").strip()
    if not text:
        return None
    import json

    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        from .errors import InvalidValueError

        raise InvalidValueError(f"{TRACKREPORT_STORAGE_OPTIONS} must be a JSON object such as "
                                '{"endpoint_url": "http://127.0.0.1:9000"}, '
                                f"not {text[:40]!r}")
    return value


def capture_enabled() -> bool:
    """False when ``$TRACKREPORT_CAPTURE`` is 0/false/no/off."""
    value = os.environ.get(TRACKREPORT_CAPTURE, "1").strip().lower()
    return value not in {"0", "false", "no", "off"}


TRACKREPORT_FLUSH_SECONDS = "TRACKREPORT_FLUSH_SECONDS"
TRACKREPORT_CACHE = "TRACKREPORT_CACHE"


def flush_seconds(default: float) -> float:
    """The writer's flush interval: ``$TRACKREPORT_FLUSH_SECONDS`` if set (> 0), else ``default``.

    A bad value falls back to ``default`` here (the flusher thread must not
    fail); ``check_flush_seconds`` refuses it at ``start_run``.
    """
    try:
        return _flush_seconds() or default
    except ValueError:
        return default


def check_flush_seconds() -> None:
    """Raise ``InvalidValueError`` (one line) when ``$TRACKREPORT_FLUSH_SECONDS`` is not a number > 0."""
    try:
        _flush_seconds()
    except ValueError as exc:
        from .errors import InvalidValueError

        raise InvalidValueError(str(exc)) from None


def _flush_seconds() -> float | None:
    text = os.environ.get(TRACKREPORT_FLUSH_SECONDS, "").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value < float("inf"):
        raise ValueError(f"{TRACKREPORT_FLUSH_SECONDS} must be a number of seconds above 0, "
                         f"not {text[:40]!r}")
    return value


def cache_dir() -> str:
    """The reader's cache of immutable store objects: ``$TRACKREPORT_CACHE``, else ~/.cache/trackreport."""
    return os.environ.get(TRACKREPORT_CACHE) or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
        "trackreport")
