"""One value formatter: the same number reads the same in the CLI, the site and the summary;
machine outputs (CSV, JSON) keep every digit."""

from __future__ import annotations

import csv
import io
import json
import math
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

import trackreport as tr
from trackreport import display
from trackreport.cli import cli
from trackreport.site.build import build_site

ACC = 0.98123456789  # reads 0.9812; a percentage: 98.1 %
LOSS = 12345.678  # reads 12,346
LR = 0.00123456789  # a param: exactly as logged


def test_value() -> None:
    assert display.value(ACC) == "0.9812"
    assert display.value(0.91) == "0.91"
    assert display.value(LOSS) == "12,346"
    assert display.value(1234567) == "1,234,567"
    assert display.value(ACC, percent=True) == "98.1\u00a0%"
    assert display.value(0.91, percent=True) == "91\u00a0%"
    assert display.value(0.9952, percent=True) == "99.5\u00a0%"
    assert display.value(math.nan, percent=True) == "NaN"
    assert display.value(-math.inf) == "-∞"
    assert display.value(None) == ""
    assert display.value([1, 2]) == "[1, 2]"
    assert display.metric(ACC) == display.value(ACC)  # sentences say what tables say
    # differences follow the same style: no padding zeros; float noise does not show
    assert display.signed(0.11) == "+0.11"
    assert display.signed(-0.0205, percent=True) == "-2 points"
    assert display.relative(0.11, 0.8) == "13.8 %"


def test_core_does_not_import_the_site() -> None:
    code = ("import sys, trackreport.display, trackreport.tables, trackreport.inspection; "
            "print(sorted(m for m in sys.modules if m.startswith('trackreport.site')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def test_the_same_number_everywhere(store: Path, tmp_path: Path) -> None:
    tr.set_experiment("exp", primary_metric="acc", goal="max",
                      metrics={"pct": {"format": "percent"}})
    with tr.start_run(name="only") as run:
        tr.log_param("lr", LR)
        tr.log_metrics({"acc": ACC, "loss": LOSS, "pct": ACC})
    runner = CliRunner()
    table = runner.invoke(cli, ["runs", "--store", str(store)], catch_exceptions=False).output
    assert "0.9812" in table and "12,346" in table and str(LR) in table
    assert "0.981235" not in table  # not the old 6 digits
    markdown = runner.invoke(cli, ["runs", "--store", str(store), "--format", "markdown"],
                             catch_exceptions=False).output
    assert "| 0.9812 |" in markdown and "| 12,346 |" in markdown
    show = runner.invoke(cli, ["show", run.id, "--store", str(store)],
                         catch_exceptions=False).output
    assert "0.9812" in show and "12,346" in show and str(LR) in show
    # machine outputs keep every digit
    rows = list(csv.DictReader(io.StringIO(runner.invoke(
        cli, ["runs", "--store", str(store), "--format", "csv"], catch_exceptions=False).output)))
    assert float(rows[0]["metrics.acc"]) == ACC and float(rows[0]["metrics.loss"]) == LOSS
    data = json.loads(runner.invoke(cli, ["runs", "--store", str(store), "--format", "json"],
                                    catch_exceptions=False).output)
    assert data[0]["metrics.acc"] == ACC
    # the site: the run page's table, the experiment's headline, the compare data
    build_site(store, tmp_path / "site")
    page = (tmp_path / "site" / "runs" / run.id / "index.html").read_text("utf-8")
    assert "0.9812" in page and "12,346" in page
    experiment = next((tmp_path / "site" / "experiments").glob("*/index.html")).read_text("utf-8")
    assert "Only one run has acc so far: only, 0.9812." in experiment
    script = (tmp_path / "site" / "runs" / run.id / "data.js").read_text("utf-8")
    data = json.loads(script[script.index("] = ") + 4:-2])
    assert data["metrics"]["acc"]["text"]["last"] == "0.9812"
    assert data["metrics"]["pct"]["text"]["last"] == "98.1\u00a0%"
    assert data["param_text"] == {"lr": str(LR)}
    exported = list(csv.DictReader(io.StringIO(
        (tmp_path / "site" / "data" / "runs.csv").read_text("utf-8"))))
    assert float(exported[0]["metrics.acc"]) == ACC
