"""Runs as CSV and JSON (``data/runs.*``, ``experiments/<slug>/runs.*``) with the
columns of ``load_runs``: times ISO 8601 UTC, non-finite numbers as words.
"""

from __future__ import annotations

import csv
import io
import json
import math
from typing import Any

from ..rows import RUN_COLUMNS
from . import format as fmt
from .csvsafe import formula_safe
from .summaries import RunSummary


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return fmt.param(value)
    if isinstance(value, (dict, list, tuple, bool)):
        return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str) \
            if not isinstance(value, bool) else str(value)
    return str(value)


def _columns(rows: list[dict[str, Any]]) -> list[str]:
    seen = {k for row in rows for k in row}
    prefixes = ("params.", "metrics.", "tags.")
    rest = sorted((c for c in seen if c not in RUN_COLUMNS),
                  key=lambda c: (next((i for i, p in enumerate(prefixes) if c.startswith(p)),
                                      len(prefixes)), c))
    return list(RUN_COLUMNS) + rest


def _export(column: str, value: Any) -> Any:
    if column in ("start_time", "end_time"):
        return fmt.iso(value) or None
    if isinstance(value, float) and not math.isfinite(value):
        return fmt.param(value)
    return value


_TIMES = frozenset({"start_time", "end_time"})
_RISKY_FIRST = frozenset("=+@\t\r-")  # first characters formula_safe may act on


def _csv_text(column: str, value: Any) -> str:
    """``formula_safe(_cell(_export(column, value)))``, with the usual cells on a short path."""
    if column in _TIMES:
        text = fmt.iso(value)
    elif type(value) is str:
        text = value
    elif value is None:
        return ""
    elif isinstance(value, float):
        text = fmt.param(value)  # finite or not, as _export then _cell write it
    else:
        text = _cell(value)
    if text and text[0] in _RISKY_FIRST:
        return formula_safe(text)
    return text


def runs_csv(rows: list[dict[str, Any]]) -> str:
    """Runs as CSV with the columns of ``load_runs``; times ISO 8601 UTC, duration in seconds.

    Cells a spreadsheet would run as a formula get a leading ``'`` (see ``csvsafe``).
    """
    columns = _columns(rows)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([formula_safe(c) for c in columns])
    writer.writerows([_csv_text(c, row.get(c)) for c in columns] for row in rows)
    return buffer.getvalue()


def _clean(value: Any) -> Any:
    """``value`` for JSON: non-finite floats as words, inside lists and dicts too."""
    if isinstance(value, float) and not math.isfinite(value):
        return fmt.param(value)
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def _json_value(column: str, value: Any) -> Any:
    """``_clean(_export(column, value))``, with the usual values on a short path."""
    if column in _TIMES:
        return fmt.iso(value) or None
    if type(value) is str or value is None:
        return value
    return _clean(value)


def runs_json(rows: list[dict[str, Any]]) -> str:
    """Runs as a JSON array of objects (one per line), non-finite numbers as strings."""
    columns = _columns(rows)
    encode = json.JSONEncoder(ensure_ascii=False, allow_nan=False, default=str).encode
    lines = [encode({c: _json_value(c, row.get(c)) for c in columns}) for row in rows]
    text = "[\n" + ",\n".join(lines) + "\n]\n" if lines else "[]\n"
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def export_rows(summaries: list[RunSummary]) -> list[dict[str, Any]]:
    """The ``load_runs`` rows of ``summaries``, oldest first."""
    return [r.row for r in sorted(summaries, key=lambda r: (r.start or 0.0, r.run_id))]
