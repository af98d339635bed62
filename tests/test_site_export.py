"""runs.csv and runs.json cells: the short path for the usual values equals the general one."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

from trackreport.site import export
from trackreport.site.csvsafe import formula_safe

HOSTILE: list[Any] = [
    None, "", "plain", "=cmd|' /C calc'!A0", "+1", "@x", "\tq", "\rq", "-", "-0.5", "-x",
    "\u2028line", 0.5, -0.5, float("nan"), float("inf"), float("-inf"), np.float64("nan"),
    np.float64(2.5), 3, -3, 10**30, True, False, [1.0, float("nan")],
    {"k": float("-inf"), "z": [1]}, (1, 2), 1.7e9,
]
COLUMNS = ["run_name", "start_time", "end_time", "duration", "params.p", "metrics.m", "tags.t"]


def _general_csv(column: str, value: Any) -> str:
    return formula_safe(export._cell(export._export(column, value)))


def _general_json(column: str, value: Any) -> Any:
    return export._clean(export._export(column, value))


def test_csv_cells_as_the_general_path() -> None:
    for column in COLUMNS:
        for value in HOSTILE:
            if column.endswith("_time") and not (value is None or isinstance(value, float)):
                continue  # times are numbers or missing
            assert export._csv_text(column, value) == _general_csv(column, value), (column, value)


def test_json_values_as_the_general_path() -> None:
    for column in COLUMNS:
        for value in HOSTILE:
            if column.endswith("_time") and not (value is None or isinstance(value, float)):
                continue
            got = json.dumps(export._json_value(column, value), default=str, allow_nan=False)
            assert got == json.dumps(_general_json(column, value), default=str,
                                     allow_nan=False), (column, value)


def test_hostile_rows_round_trip() -> None:
    rows = [{"run_id": "a", "run_name": "=1+1", "start_time": 1.7e9, "params.p": float("nan"),
             "params.q": [1.0, float("inf")], "metrics.m": float("-inf"), "tags.t": "\u2028"},
            {"run_id": "b", "run_name": "-0.5", "start_time": None}]
    text = export.runs_csv(rows)
    lines = text.split("\n")
    assert lines[1].startswith("a,'=1+1,,,2023-11-14T22:13:20.000000Z")
    assert lines[2].startswith("b,-0.5,")
    assert "NaN" in lines[1] and "-Infinity" in lines[1]
    data = json.loads(export.runs_json(rows))
    assert data[0]["params.p"] == "NaN" and data[0]["params.q"] == [1.0, "Infinity"]
    assert data[0]["metrics.m"] == "-Infinity" and data[1]["start_time"] is None
    assert "\\u2028" in export.runs_json(rows)
    assert math.isnan(float(data[0]["params.p"]))
