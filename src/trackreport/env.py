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
