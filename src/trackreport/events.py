"""Store format v1: encoding and decoding of one event line.

Every line is one JSON object, UTF-8, terminated by ``\\n``. Non-finite floats
are written as the strings "NaN", "Infinity" and "-Infinity" so that every
line is strict JSON.
"""

from __future__ import annotations

import math
from typing import Any

import orjson

FORMAT_VERSION = 1
STORE_MARKER = {"format": "trackreport-store", "version": FORMAT_VERSION}

OPEN = "open"
RUN_START = "run.start"
RUN_RESUME = "run.resume"
RUN_END = "run.end"
PARAMS = "params"
METRICS = "metrics"
TAGS = "tags"
ARTIFACT = "artifact"
MODEL = "model"
NOTE = "note"
EXPERIMENT = "experiment"

_NONFINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_OPTS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


def _nonfinite(value: float) -> str:
    if value != value:
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def _default(obj: Any) -> Any:
    if isinstance(obj, (set, frozenset, tuple)):
        return list(obj)
    if hasattr(obj, "item") and getattr(obj, "shape", None) == ():
        return obj.item()
    if hasattr(obj, "tolist"):
        return obj.tolist()
    return str(obj)


def encode(event: dict[str, Any]) -> bytes:
    """One event as a strict-JSON line (with the trailing newline)."""
    if event.get("type") == METRICS:
        values = event["values"]
        for value in values.values():
            if not math.isfinite(value):
                values = {k: (v if math.isfinite(v) else _nonfinite(v)) for k, v in values.items()}
                event = {**event, "values": values}
                break
    return orjson.dumps(event, default=_default, option=_OPTS) + b"\n"


def encode_metric(time: float, step: int, key: str, value: float) -> bytes:
    """Fast path for one metric value: the same bytes as encode() of a metrics event."""
    if value - value != 0.0:  # NaN or +-inf
        value = _nonfinite(value)  # type: ignore[assignment]
    return orjson.dumps(
        {"type": METRICS, "time": time, "step": step, "values": {key: value}}
    ) + b"\n"


def decode(line: bytes) -> dict[str, Any]:
    """Parse one line; raises ValueError when it is not a JSON object with a type."""
    obj = orjson.loads(line)
    if not isinstance(obj, dict) or not isinstance(obj.get("type"), str):
        raise ValueError("not an event object")
    return obj


def metric_from_json(value: Any) -> float:
    """A stored metric value back to a float ("NaN" etc. included)."""
    if isinstance(value, str):
        return _NONFINITE[value]
    return float(value)


def jsonable(value: Any) -> Any:
    """``value`` after a round trip through the event encoding (as a reader sees it)."""
    return orjson.loads(orjson.dumps(value, default=_default, option=_OPTS))
