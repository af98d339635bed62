"""Environment variables trackreport reads, in one place."""

from __future__ import annotations

import os

TRACKREPORT_STORE = "TRACKREPORT_STORE"
TRACKREPORT_CAPTURE = "TRACKREPORT_CAPTURE"
DEFAULT_STORE = "./trackruns"


def store_path() -> str:
    """The store folder from ``$TRACKREPORT_STORE``, else ``./trackruns``."""
    return os.environ.get(TRACKREPORT_STORE) or DEFAULT_STORE


def capture_enabled() -> bool:
    """False when ``$TRACKREPORT_CAPTURE`` is 0/false/no/off."""
    value = os.environ.get(TRACKREPORT_CAPTURE, "1").strip().lower()
    return value not in {"0", "false", "no", "off"}


TRACKREPORT_FLUSH_SECONDS = "TRACKREPORT_FLUSH_SECONDS"
TRACKREPORT_CACHE = "TRACKREPORT_CACHE"


def flush_seconds(default: float) -> float:
    """The writer's flush interval: ``$TRACKREPORT_FLUSH_SECONDS`` if set (> 0), else ``default``."""
    text = os.environ.get(TRACKREPORT_FLUSH_SECONDS, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        return default
    return value if 0 < value < float("inf") else default


def cache_dir() -> str:
    """The reader's cache of immutable store objects: ``$TRACKREPORT_CACHE``, else ~/.cache/trackreport."""
    return os.environ.get(TRACKREPORT_CACHE) or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
        "trackreport")
