"""Validation of keys, names, steps, metric values and artifact paths.

Pure functions; each failure raises a TrackreportError subclass whose message
names the offending value and what is allowed. Nothing here writes.
"""

from __future__ import annotations

import numbers
import re
from typing import Any

from .errors import InvalidKeyError, InvalidMetricTypeError, InvalidValueError

MAX_KEY_LENGTH = 250
MAX_STEP = 2**63 - 1  # steps are 64-bit integers in the store and in load_metrics
MAX_NAME_BYTES = 255  # one file name (artifact path segment) in UTF-8, as file systems allow
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def check_key(key: object, what: str = "key") -> str:
    """Return ``key`` if it is a valid param/metric/tag key or name, else raise.

    A key is a non-empty string of at most 250 printable characters, without
    leading or trailing spaces, a ``..`` path segment or a leading ``/``.
    """
    if not isinstance(key, str):
        raise InvalidKeyError(f"{what} must be a string, got {type(key).__name__} {key!r}")
    if not key:
        raise InvalidKeyError(f"{what} {key!r} is empty")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidKeyError(
            f"{what} {key[:40]!r}... is {len(key)} characters long (at most {MAX_KEY_LENGTH})"
        )
    if _CONTROL.search(key):
        raise InvalidKeyError(f"{what} {key!r} contains a control character")
    if not key.isascii() and not _is_utf8(key):
        raise InvalidKeyError(f"{what} {key!r} contains a lone surrogate (not valid UTF-8)")
    if key != key.strip():
        raise InvalidKeyError(f"{what} {key!r} has leading or trailing white space")
    if key.startswith("/"):
        raise InvalidKeyError(f"{what} {key!r} starts with '/'")
    if ".." in key.replace("\\", "/").split("/"):
        raise InvalidKeyError(f"{what} {key!r} contains a '..' path segment")
    return key


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_text(text: str, what: str) -> str:
    """Return ``text`` if it can be stored (valid UTF-8: no lone surrogates), else raise.

    Lone surrogates come from file names decoded with ``surrogateescape``
    (``os.listdir`` of non-UTF-8 names).
    """
    if not text.isascii() and not _is_utf8(text):
        bad = next(i for i, ch in enumerate(text) if "\ud800" <= ch <= "\udfff")
        raise InvalidValueError(
            f"{what} contains a lone surrogate {text[bad]!r} at position {bad} "
            "(not valid UTF-8; decode the bytes with errors='replace')"
        )
    return text


def check_step(step: object, key: str) -> int:
    """Return ``step`` as an int if it is a whole number >= 0 (and < 2**63), else raise."""
    if isinstance(step, bool) or not isinstance(step, numbers.Integral):
        if isinstance(step, numbers.Real) and not isinstance(step, bool):
            raise InvalidMetricTypeError(
                f"step of metric {key!r} must be an integer >= 0, got {step!r}"
            )
        raise InvalidMetricTypeError(
            f"step of metric {key!r} must be an integer >= 0, got {type(step).__name__} {step!r}"
        )
    step = int(step)
    if step < 0:
        raise InvalidValueError(f"step of metric {key!r} must be >= 0, got {step}")
    if step > MAX_STEP:
        raise InvalidValueError(f"step of metric {key!r} must be < 2**63, got {step}")
    return step


def metric_value(value: Any, key: str) -> float:
    """Return ``value`` as a float (numpy scalars and 0-d arrays included), else raise."""
    try:
        return _metric_float(value, key)
    except OverflowError:
        raise InvalidValueError(
            f"metric {key!r} is too large for a 64-bit float: {_short_repr(value)}"
        ) from None


def _metric_float(value: Any, key: str) -> float:
    kind = type(value)
    if kind is float or kind is int:
        return float(value)
    if isinstance(value, bool) or isinstance(value, (str, bytes)):
        raise InvalidMetricTypeError(
            f"metric {key!r} must be a number, got {kind.__name__} {value!r}"
        )
    if isinstance(value, numbers.Real):
        return float(value)
    shape = getattr(value, "shape", None)
    if shape == () and hasattr(value, "item"):
        item = value.item()
        if isinstance(item, numbers.Real) and not isinstance(item, bool):
            return float(item)
    raise InvalidMetricTypeError(
        f"metric {key!r} must be a number, got {kind.__name__} {_short_repr(value)}"
    )


def check_artifact_path(path: object, what: str = "artifact path") -> str:
    """Return a normalised relative POSIX artifact path, or raise if it escapes the run."""
    if not isinstance(path, str):
        raise InvalidKeyError(f"{what} must be a string, got {type(path).__name__} {path!r}")
    norm = path.replace("\\", "/")
    if not norm or norm.strip("/") == "":
        raise InvalidKeyError(f"{what} {path!r} is empty")
    if norm.startswith("/") or re.match(r"^[A-Za-z]:", norm):
        raise InvalidKeyError(f"{what} {path!r} is absolute; give a path inside the run")
    parts = [p for p in norm.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise InvalidKeyError(f"{what} {path!r} escapes the run folder ('..')")
    for part in parts:
        if _CONTROL.search(part):
            raise InvalidKeyError(f"{what} {path!r} contains a control character")
        if not part.isascii():
            if not _is_utf8(part):
                raise InvalidKeyError(
                    f"{what} {path!r} contains a lone surrogate (a file name that is not "
                    "valid UTF-8); rename the file"
                )
            if len(part.encode("utf-8")) > MAX_NAME_BYTES:
                raise InvalidKeyError(
                    f"{what} {path!r} has a name of {len(part.encode('utf-8'))} bytes "
                    f"(at most {MAX_NAME_BYTES} in UTF-8)"
                )
        elif len(part) > MAX_NAME_BYTES:
            raise InvalidKeyError(
                f"{what} {path!r} has a name of {len(part)} bytes (at most {MAX_NAME_BYTES})"
            )
        if part != part.strip():
            raise InvalidKeyError(f"{what} {path!r} has a segment with leading or trailing spaces")
    if not parts:
        raise InvalidKeyError(f"{what} {path!r} is empty")
    joined = "/".join(parts)
    if len(joined) > 1000:
        raise InvalidKeyError(f"{what} {joined[:40]!r}... is too long (at most 1000 characters)")
    return joined


def _short_repr(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
