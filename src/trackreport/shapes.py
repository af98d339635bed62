"""Shape checks of stored events: which well-formed JSON lines a reader must skip.

A line can be valid JSON and still be unusable: ``tags`` a list, a metric
``step`` of -1, a ``time`` of 1e308. The reader skips such a line and counts it
like a corrupt one (``trackreport check`` reports it with its line number and
the reason), so that one bad line never breaks the reading of a whole store.
Only the event types this version writes are checked; unknown types stay
ignored (forward compatibility).

The captured ``context`` of a ``run.start`` event is cleaned rather than
rejected: known fields of the wrong type are dropped, and each drop is named.

Standard library only.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import chain, compress
from operator import itemgetter, not_
from typing import Any

from . import events
from .errors import InvalidKeyError
from .keys import check_artifact_path

# Unix seconds before the end of pandas' datetime64[ns] range (year 2262).
MAX_TIME = 9.0e9
MAX_STEP = 2**63 - 1
END_STATUSES = frozenset({"FINISHED", "FAILED", "KILLED"})
NONFINITE = frozenset({"NaN", "Infinity", "-Infinity"})

_get_step = itemgetter("step")
_get_values = itemgetter("values")
_get_time = itemgetter("time")


def _is_number(value: object) -> bool:
    return type(value) is float or type(value) is int  # not bool


def _time_problem(event: dict[str, Any]) -> str | None:
    t = event.get("time")
    if not _is_number(t):
        return f"time is {_kind(t)}, not a number"
    if not 0 <= t < MAX_TIME:
        return f"time {t!r} is not a plausible Unix time"
    return None


def _kind(value: object) -> str:
    """``value``'s JSON kind for a message: "a string", "missing", ..."""
    if value is None:
        return "missing"
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
             list: "a list", dict: "an object"}
    return names.get(type(value), type(value).__name__)


def _str_or_none(event: dict[str, Any], *fields: str) -> str | None:
    for name in fields:
        value = event.get(name)
        if value is not None and not isinstance(value, str):
            return f"{name} is {_kind(value)}, not a string"
    return None


def _metrics(event: dict[str, Any]) -> str | None:
    step = event.get("step")
    if type(step) is not int:
        return f"step is {_kind(step)}, not an integer"
    if not 0 <= step <= MAX_STEP:
        return f"step {step} is out of range"
    values = event.get("values")
    if type(values) is not dict:
        return f"values is {_kind(values)}, not an object"
    for key, value in values.items():
        if not (_is_number(value) or (type(value) is str and value in NONFINITE)):
            return f"metric {key!r} is {_kind(value)}, not a number"
    return None


def _params(event: dict[str, Any]) -> str | None:
    params = event.get("params")
    return None if type(params) is dict else f"params is {_kind(params)}, not an object"


def _tags(event: dict[str, Any]) -> str | None:
    tags = event.get("tags")
    if type(tags) is not dict:
        return f"tags is {_kind(tags)}, not an object"
    for key, value in tags.items():
        if not isinstance(value, (str, int, float, bool)):
            return f"tag {key!r} is {_kind(value)}, not a string"
    return None


def _note(event: dict[str, Any]) -> str | None:
    markdown = event.get("markdown")
    return None if type(markdown) is str else f"markdown is {_kind(markdown)}, not a string"


def _artifact(event: dict[str, Any]) -> str | None:
    path = event.get("path")
    try:
        if check_artifact_path(path) != path:
            return f"path {path!r} is not a normalised path inside the run"
    except InvalidKeyError as exc:
        return str(exc)
    size = event.get("size")
    if type(size) is not int or size < 0:
        return f"size {size!r} is not a byte count"
    problem = _str_or_none(event, "sha256", "media_type")
    if problem:
        return problem
    image = event.get("image")
    if image is not None:
        if type(image) is not dict:
            return f"image is {_kind(image)}, not an object"
        if type(image.get("key")) is not str:
            return f"image key is {_kind(image.get('key'))}, not a string"
        step = image.get("step")
        if type(step) is not int or not 0 <= step <= MAX_STEP:
            return f"image step {step!r} is not a step"
    return None


def _model(event: dict[str, Any]) -> str | None:
    path = event.get("path")
    if type(path) is not str:
        return f"path is {_kind(path)}, not a string"
    return _str_or_none(event, "flavor")


def _run_start(event: dict[str, Any]) -> str | None:
    return _str_or_none(event, "name", "experiment")


def _run_end(event: dict[str, Any]) -> str | None:
    status = event.get("status")
    if status not in END_STATUSES:
        return f"status {status!r} is not one of FINISHED, FAILED, KILLED"
    return _str_or_none(event, "error")


def _experiment(event: dict[str, Any]) -> str | None:
    name = event.get("name")
    if type(name) is not str or not name:
        return f"name is {_kind(name)}, not a name"
    problem = _str_or_none(event, "description", "primary_metric")
    if problem:
        return problem
    goal = event.get("goal")
    if goal is not None and goal not in ("min", "max"):
        return f"goal {goal!r} is not 'min' or 'max'"
    if event.get("tags") is not None:
        return _tags(event)
    return None


def _run_rename(event: dict[str, Any]) -> str | None:
    name = event.get("name")
    return None if type(name) is str and name else f"name is {_kind(name)}, not a name"


def _nothing(event: dict[str, Any]) -> str | None:
    return None


_CHECKS: dict[str, Callable[[dict[str, Any]], str | None]] = {
    events.OPEN: _nothing, events.RUN_START: _run_start, events.RUN_RESUME: _nothing,
    events.RUN_END: _run_end, events.PARAMS: _params, events.METRICS: _metrics,
    events.TAGS: _tags, events.ARTIFACT: _artifact, events.MODEL: _model,
    events.NOTE: _note, events.EXPERIMENT: _experiment, events.RUN_RENAME: _run_rename,
}


def event_problem(event: dict[str, Any]) -> str | None:
    """Why a reader must skip ``event`` (wrong field types, ...), or None when it is usable."""
    kind = event.get("type")
    if type(kind) is not str:
        return f"type is {_kind(kind)}, not an event type"
    check = _CHECKS.get(kind)
    if check is None:  # an unknown type: ignored, never "bad"
        return None
    return _time_problem(event) or check(event)


def bad_events(parsed: list[dict[str, Any]]) -> list[tuple[int, str]]:
    """(index, reason) of every event of ``parsed`` that a reader must skip.

    Metric events (nearly all lines of a store) are checked in bulk with
    C-level ``set(map(...))`` passes; only when that finds something odd, or
    for the few other events, is each one checked on its own.
    """
    metric = [event.get("type") == events.METRICS for event in parsed]
    out = [(i, reason) for i in compress(range(len(parsed)), map(not_, metric))
           if (reason := event_problem(parsed[i]))]
    metric_events = list(compress(parsed, metric))
    if metric_events and not metrics_look_fine(metric_events):
        out += [(i, reason) for i in compress(range(len(parsed)), metric)
                if (reason := event_problem(parsed[i]))]
        out.sort()
    return out


def metrics_look_fine(mevents: list[dict[str, Any]]) -> bool:
    """True when every metric event surely passes ``event_problem`` (the fast check)."""
    try:
        steps = list(map(_get_step, mevents))
        valuess = list(map(_get_values, mevents))
        times = list(map(_get_time, mevents))
    except KeyError:
        return False
    if set(map(type, steps)) != {int} or min(steps) < 0 or max(steps) > MAX_STEP:
        return False
    if not set(map(type, times)) <= {float, int} or min(times) < 0 or max(times) >= MAX_TIME:
        return False
    if set(map(type, valuess)) != {dict}:
        return False
    value_types = set(map(type, chain.from_iterable(map(dict.values, valuess))))
    if value_types <= {float}:
        return True
    if not value_types <= {float, int, str}:
        return False
    texts = set(filter(str.__instancecheck__, chain.from_iterable(map(dict.values, valuess))))
    return texts <= NONFINITE


# the captured context ----------------------------------------------------------------

_STR_FIELDS = ("user", "host", "platform", "source")
_SUB_FIELDS: dict[str, dict[str, tuple[type, ...]]] = {
    "python": {"version": (str,), "implementation": (str,)},
    "entry_point": {"path": (str,), "module": (str,), "argv": (list,)},
    "git": {"commit": (str,), "branch": (str,), "dirty": (bool,), "remote": (str,)},
}
_STR_MAPS = ("packages", "env")


def clean_context(context: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """A copy of a run's captured context whose known fields have their documented types.

    Returns the cleaned dict and one phrase per dropped field ("git.commit is an
    integer, not a string"). Unknown fields pass unchanged.
    """
    out = dict(context)
    dropped: list[str] = []

    def drop(name: str, value: object, wanted: str) -> None:
        dropped.append(f"{name} is {_kind(value)}, not {wanted}")

    for name in _STR_FIELDS:
        value = out.get(name)
        if value is not None and type(value) is not str:
            drop(name, value, "a string")
            del out[name]
    for name, fields in _SUB_FIELDS.items():
        value = out.get(name)
        if value is None:
            continue
        if type(value) is not dict:
            drop(name, value, "an object")
            del out[name]
            continue
        sub = dict(value)
        for field, types in fields.items():
            item = sub.get(field)
            if item is not None and type(item) not in types:
                drop(f"{name}.{field}", item, "a list" if types == (list,) else
                     "true or false" if types == (bool,) else "a string")
                del sub[field]
        argv = sub.get("argv")
        if argv is not None and not all(type(a) is str for a in argv):
            dropped.append(f"{name}.argv holds something other than strings")
            del sub["argv"]
        out[name] = sub
    for name in _STR_MAPS:
        value = out.get(name)
        if value is None:
            continue
        if type(value) is not dict:
            drop(name, value, "an object")
            del out[name]
            continue
        bad = sorted(k for k, v in value.items() if type(v) is not str)
        if bad:
            dropped.append(f"{name} {bad[0]!r} is {_kind(value[bad[0]])}, not a string"
                           + (f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""))
            out[name] = {k: v for k, v in value.items() if type(v) is str}
    return out, dropped
