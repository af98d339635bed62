"""Plain-text renderings of tabular data for the command line: table, csv, json, markdown."""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Sequence
from typing import Any

import orjson

from . import display


def cell_text(value: Any, column: str = "") -> str:
    """A cell as a person reads it, as the site shows it: a number through
    :func:`trackreport.display.value` (``0.9812``, ``12,346``), a param (a
    ``params.`` column) exactly as logged, lists and dicts as JSON, None as empty."""
    if value is None:
        return ""
    if column.startswith("params."):
        return display.param(value)
    if isinstance(value, (list, dict)):
        return _json(value)
    if display.is_number(value):
        return display.value(value)
    return str(value)


def raw_text(value: Any) -> str:
    """A cell for machines (CSV): every digit kept, NaN and infinities as words."""
    if value is None:
        return ""
    if isinstance(value, float):
        return display.param(value)  # repr: the shortest text that reads back the same
    if isinstance(value, (list, dict)):
        return _json(value)
    return str(value)


def _json(value: Any) -> str:
    try:
        return orjson.dumps(value).decode("utf-8")
    except TypeError:  # an int beyond 64 bits (a param read back exactly)
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


# ESC-introduced terminal sequences: CSI (colours, cursor moves), OSC (titles,
# hyperlinks; ended by BEL or ESC \), and two-character escapes.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b.?"
                      r"|\x9b[0-?]*[ -/]*[@-~]", re.DOTALL)


def clean_text(text: str) -> str:
    """``text`` safe for a terminal: escape sequences removed, other control characters
    (newlines included) shown as spaces."""
    text = _ESCAPES.sub("", text)
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else " " for ch in text)


def clean_lines(text: str) -> str:
    """Like ``clean_text``, but keeps the line breaks of multi-line text (notes, errors)."""
    return "\n".join(clean_text(line) for line in _ESCAPES.sub("", text).splitlines())


_clean = clean_text


def render_table(headers: Sequence[str], rows: Sequence[Sequence[Any]],
                 max_width: int = 40) -> str:
    """An aligned plain-text table (cells cut at ``max_width`` characters)."""
    texts = [[_clean(cell_text(v, h)) for h, v in zip(headers, row, strict=True)]
             for row in rows]
    heads = [_clean(h) for h in headers]

    def cut(text: str) -> str:
        return text if len(text) <= max_width else text[: max_width - 1] + "…"

    heads = [cut(h) for h in heads]
    texts = [[cut(t) for t in row] for row in texts]
    widths = [max([len(h)] + [len(row[i]) for row in texts]) for i, h in enumerate(heads)]
    numeric = [all(_is_number(row[i]) for row in rows if row[i] is not None) and any(
        row[i] is not None for row in rows) for i in range(len(heads))]

    def line(cells: Sequence[str], align: bool) -> str:
        parts = []
        for i, text in enumerate(cells):
            parts.append(text.rjust(widths[i]) if align and numeric[i] else text.ljust(widths[i]))
        return "  ".join(parts).rstrip()

    out = [line(heads, False), "  ".join("-" * w for w in widths)]
    out += [line(row, True) for row in texts]
    return "\n".join(out)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def render_csv(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """CSV with a header row."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow([raw_text(v) for v in row])
    return buf.getvalue().rstrip("\n")


def render_markdown(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A GitHub-flavoured markdown table (pipes and newlines escaped)."""

    def esc(text: str) -> str:
        return (_clean(text).replace("\\", "\\\\").replace("|", "\\|")
                .replace("<", "&lt;").replace(">", "&gt;"))

    out = ["| " + " | ".join(esc(h) for h in headers) + " |",
           "|" + "|".join("---:" if any(_is_number(r[i]) for r in rows) else "---"
                          for i in range(len(headers))) + "|"]
    out += ["| " + " | ".join(esc(cell_text(v, h)) for h, v in zip(headers, row, strict=True))
            + " |" for row in rows]
    return "\n".join(out)


def render_json(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A JSON array of objects; NaN and infinities as strings."""

    def val(v: Any) -> Any:
        if isinstance(v, float) and not math.isfinite(v):
            return raw_text(v)
        if isinstance(v, list):
            return [val(x) for x in v]
        if isinstance(v, dict):
            return {k: val(x) for k, x in v.items()}
        return v

    records = [{h: val(v) for h, v in zip(headers, row, strict=True)} for row in rows]
    try:
        return orjson.dumps(records, option=orjson.OPT_INDENT_2).decode("utf-8")
    except TypeError:  # an int beyond 64 bits (a param read back exactly)
        return json.dumps(records, indent=2, ensure_ascii=False, default=str)


RENDERERS = {"table": render_table, "csv": render_csv, "markdown": render_markdown,
             "json": render_json}
