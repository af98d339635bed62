"""Store format v1: encoding and decoding of one event line.

Every line is one JSON object, UTF-8, terminated by ``\\n``. Non-finite floats
are written as the strings "NaN", "Infinity" and "-Infinity" so that every
line is strict JSON.
"""

from __future__ import annotations

import json
import math
from typing import Any

import orjson

FORMAT_VERSION = 1
STORE_MARKER = {"format": "trackreport-store", "version": FORMAT_VERSION}

OPEN = "open"
RUN_START = "run.start"
RUN_RESUME = "run.resume"
RUN_END = "run.end"
RUN_RENAME = "run.rename"
PARAMS = "params"
METRICS = "metrics"
TAGS = "tags"
ARTIFACT = "artifact"
MODEL = "model"
NOTE = "note"
DATASET = "dataset"
EXPERIMENT = "experiment"

_NONFINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_OPTS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


def _nonfinite(value: float) -> str:
    if value != value:
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def json_default(obj: Any) -> Any:
    """The ``default`` of the JSON encoders: tuples, sets, numpy values, else ``str(obj)``."""
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
    return orjson.dumps(event, default=json_default, option=_OPTS) + b"\n"


def encode_metric(time: float, step: int, key: str, value: float) -> bytes:
    """Fast path for one metric value: the same bytes as encode() of a metrics event."""
    if value - value != 0.0:  # NaN or +-inf
        value = _nonfinite(value)  # type: ignore[assignment]
    return orjson.dumps(
        {"type": METRICS, "time": time, "step": step, "values": {key: value}}
    ) + b"\n"


class UnstorableValueError(ValueError):
    """A value has no JSON form in the store (the message says why)."""


def param_value(value: Any) -> tuple[Any, Any, bool]:
    """A param value as readers see it, as it is written, and whether it is written as JSON text.

    Most values are written as JSON. A value holding a non-finite float or an
    integer beyond 64 bits (which strict JSON and orjson cannot carry) is
    written as the JSON text of Python's ``json`` module (``"NaN"``,
    ``"Infinity"``, ``"-Infinity"``, ``"100000000000000000000"``), and its key
    is listed in the event's ``"encoded"`` field so that readers parse it back.
    Raises UnstorableValueError when the value cannot be stored at all.
    """
    kind = type(value)
    if kind is str:
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise UnstorableValueError("contains a lone surrogate (not valid UTF-8)") from None
        return value, value, False
    if kind is float and value - value != 0.0:  # NaN or +-inf
        text = json.dumps(value)
        return value, text, True
    try:
        data = orjson.dumps(value, default=json_default, option=_OPTS)
    except orjson.JSONEncodeError as exc:
        data = b""
        if "64-bit" not in str(exc):
            raise UnstorableValueError(_reason(exc)) from None
    else:
        if b"null" not in data:  # orjson writes NaN as null: look closer only then
            plain = orjson.loads(data)
            return plain, plain, False
    try:
        text = json.dumps(value, default=json_default, ensure_ascii=False, allow_nan=True)
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise UnstorableValueError("contains a lone surrogate (not valid UTF-8)") from None
    except RecursionError:
        raise UnstorableValueError("is nested too deeply") from None
    except (TypeError, ValueError) as exc:
        raise UnstorableValueError(_reason(exc)) from None
    if data:  # orjson wrote it: is a NaN or an infinity in there, or only null?
        try:
            orjson.loads(text)  # orjson reads no NaN/Infinity tokens
        except orjson.JSONDecodeError:
            pass
        else:
            plain = orjson.loads(data)
            return plain, plain, False
    return json.loads(text), text, True


def _reason(exc: Exception) -> str:
    text = str(exc)
    if "Recursion limit" in text:
        return "is nested too deeply"
    if "surrogates not allowed" in text:
        return "contains a lone surrogate (not valid UTF-8)"
    if "Dict key must" in text or "keys must be" in text:
        return "has a dict key that is not a string (JSON keys are text)"
    return f"cannot be stored as JSON ({text})"


def param_from_json(value: Any) -> Any:
    """A param written as JSON text (listed under ``"encoded"``) back to its value."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


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
    """``value`` after a round trip through the event encoding (as a reader sees it).

    Raises UnstorableValueError when it has no JSON form.
    """
    try:
        return orjson.loads(orjson.dumps(value, default=json_default, option=_OPTS))
    except orjson.JSONEncodeError as exc:
        raise UnstorableValueError(_reason(exc)) from None
