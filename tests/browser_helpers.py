"""Helpers for the browser tests: launch Debian's chromium, watch a page, and
write small contract-markup fixture pages (the runs table, chart cards, the
compare page) for testing the site's JavaScript on its own."""

from __future__ import annotations

import html
import json
import math
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; base-uri 'none'; "
    "form-action 'none'"
)
STATIC = Path(__file__).resolve().parents[1] / "themes/default/static"
SHOTS = Path("/tmp/shots")
HOSTILE = "<img src=x onerror=alert(1)>"


def launch(playwright: Any) -> Any:
    """Debian's chromium, never a downloaded one; fails when it is missing."""
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: the browser tests need Debian's chromium"
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


@dataclass
class Watch:
    """What a page did that it should not: errors, CSP reports, requests, dialogs."""

    errors: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def attach(self, page: Any) -> Watch:
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.on(
            "console",
            lambda msg: (
                self.console.append(f"{msg.type}: {msg.text}")
                if msg.type in ("error", "warning")
                else None
            ),
        )
        page.on("request", lambda req: self.requests.append(req.url))

        def on_dialog(dialog: Any) -> None:
            self.dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)
        return self

    def assert_clean(self) -> None:
        assert self.errors == [], self.errors
        assert self.dialogs == [], self.dialogs
        csp = [m for m in self.console if "Content Security Policy" in m or "Refused" in m]
        assert csp == [], csp
        errors = [m for m in self.console if m.startswith("error:")]
        assert errors == [], errors
        foreign = [u for u in self.requests if not u.startswith(("file://", "data:"))]
        assert foreign == [], foreign


def script_json(obj: Any) -> str:
    """JSON for a <script type="application/json"> element, as the pages write it."""
    text = json.dumps(obj, sort_keys=True, ensure_ascii=False, allow_nan=False)
    return (
        text.replace("&", "\\u0026")
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def page(title: str, body: str, scripts: list[str], depth: int) -> str:
    up = "../" * depth
    tags = "".join(f'<script src="{up}assets/{s}"></script>' for s in scripts)
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title>"
        "<style>body{font:15px/1.45 system-ui,sans-serif;max-width:1100px;margin:1.5rem auto;"
        "padding:0 1rem}table{border-collapse:collapse}th,td{padding:.3rem .6rem;"
        "border-bottom:1px solid #ddd;text-align:left}td.num{text-align:right}"
        ".chart-card{border:1px solid #ddd;border-radius:8px;padding:.75rem;margin:0 0 1rem}"
        "@media (prefers-color-scheme: dark){body{background:#111827;color:#e5e7eb}}</style>"
        f"</head><body>{body}{tags}</body></html>"
    )


# ---------------------------------------------------------------- fixture site


@dataclass
class FixtureRun:
    run_id: str
    name: str
    params: dict[str, Any]
    acc: list[float]
    status: str = "FINISHED"
    tags: dict[str, str] = field(default_factory=dict)


FIXTURE_RUNS = [
    FixtureRun("r01", "run-2", {"lr": 0.1, "model": "gb", "seed": 1}, [0.5, 0.7, 0.81]),
    FixtureRun("r02", "run-10", {"lr": 0.01, "model": "gb", "seed": 1}, [0.4, 0.6, 0.74]),
    FixtureRun("r03", "run-1", {"lr": 1.0, "model": "rf", "seed": 1}, [0.6, 0.8, 0.9]),
    FixtureRun("r04", HOSTILE, {"lr": 0.3, "model": "<b>x</b>", "seed": 1}, [0.3, 0.5, 0.66]),
    FixtureRun("r05", "run-3", {"lr": 0.2, "model": "gb", "seed": 1}, [], status="FAILED"),
]


def _num(value: float | None) -> str:
    return "" if value is None or not math.isfinite(value) else repr(value)


def write_fixture_site(root: Path) -> dict[str, Path]:
    """A tiny site with the contract markup: an experiment page and the compare page."""
    from trackreport.site.assets import write_assets
    from trackreport.site.charts import Line, metric_chart, parallel_coordinates

    assets = root / "assets"
    write_assets(assets)
    for name in ("charts.js", "table.js", "compare.js"):
        shutil.copyfile(STATIC / name, assets / name)

    runs = FIXTURE_RUNS
    # Experiment page: runs table + charts.
    head = [
        '<th data-group="run" data-type="text" scope="col">Run</th>',
        '<th data-group="run" data-type="text" scope="col">Status</th>',
        '<th data-group="params" data-type="number" scope="col">lr</th>',
        '<th data-group="params" data-type="text" scope="col">model</th>',
        '<th data-group="metrics" data-type="number" data-goal="max" scope="col">val_acc</th>',
        '<th data-group="metrics-minmax" data-type="number" data-goal="max" '
        'class="hidden-group" scope="col">val_acc min</th>',
        '<th data-group="tags" data-type="text" scope="col">stage</th>',
    ]
    body_rows = []
    for run in runs:
        last = run.acc[-1] if run.acc else None
        low = min(run.acc) if run.acc else None
        esc = html.escape(run.name)
        body_rows.append(
            f'<tr data-run-id="{run.run_id}"><th scope="row">'
            f'<input type="checkbox" class="run-select" value="{run.run_id}" '
            f'aria-label="Select {esc}"> <a href="../../runs/{run.run_id}/index.html">{esc}</a></th>'
            f'<td data-group="run">{run.status}</td>'
            f'<td data-group="params" class="num" data-sort="{run.params["lr"]}">{run.params["lr"]}</td>'
            f'<td data-group="params">{html.escape(run.params["model"])}</td>'
            f'<td data-group="metrics" class="num" data-sort="{_num(last)}">'
            f"{'' if last is None else last}</td>"
            f'<td data-group="metrics-minmax" class="num hidden-group" data-sort="{_num(low)}">'
            f"{'' if low is None else low}</td>"
            f'<td data-group="tags"></td></tr>'
        )
    table = (
        '<div class="runs-table" data-runs-table data-compare-url="../../compare/index.html">'
        '<div class="table-tools"></div><div class="table-scroll"><table><thead><tr>'
        + "".join(head)
        + "</tr></thead><tbody>"
        + "".join(body_rows)
        + "</tbody></table></div></div>"
    )
    lines = [Line(r.run_id, r.name, list(range(len(r.acc))), r.acc) for r in runs]
    chart = metric_chart("Validation accuracy", "val_acc", lines, "max")
    rows = [{"run": r.name, **r.params, "val_acc": r.acc[-1]} for r in runs if r.acc]
    pc = parallel_coordinates(rows, ["lr", "model", "seed"], "val_acc", "max")
    charts = (
        '<figure class="chart-card"><figcaption>Validation accuracy</figcaption>'
        '<div class="chart" data-chart="chart-val_acc"></div>'
        f'<script type="application/json" id="chart-val_acc">{script_json(chart)}</script></figure>'
        '<figure class="chart-card"><figcaption>Params and val_acc</figcaption>'
        '<div class="chart" data-chart="chart-parallel"></div>'
        f'<script type="application/json" id="chart-parallel">{script_json(pc)}</script></figure>'
    )
    experiment = root / "experiments/wine/index.html"
    experiment.parent.mkdir(parents=True, exist_ok=True)
    experiment.write_text(
        page(
            "wine",
            f"<h1>wine</h1>{table}{charts}",
            ["vendor/vega-bundle.js", "charts.js", "table.js"],
            2,
        ),
        encoding="utf-8",
    )

    # Compare page + one data script per run.
    index = {}
    for run in runs:
        data_rel = f"../data/runs/{run.run_id}.js"
        index[run.run_id] = {
            "name": run.name,
            "experiment": "wine",
            "url": f"../runs/{run.run_id}/index.html",
            "data": data_rel,
        }
        record = {
            "run_id": run.run_id,
            "name": run.name,
            "experiment": "wine",
            "status": run.status,
            "url": f"../runs/{run.run_id}/index.html",
            "params": run.params,
            "metrics": (
                {
                    "val_acc": {
                        "last": run.acc[-1],
                        "min": min(run.acc),
                        "max": max(run.acc),
                        "steps": len(run.acc),
                        "goal": "max",
                    }
                }
                if run.acc
                else {}
            ),
            "series": (
                {"val_acc": {"steps": list(range(len(run.acc))), "values": run.acc}}
                if run.acc
                else {}
            ),
            "primary_metric": "val_acc",
        }
        path = root / "data/runs" / f"{run.run_id}.js"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            "(window.trackreportRuns = window.trackreportRuns || {})"
            f"[{script_json(run.run_id)}] = {script_json(record)};\n",
            encoding="utf-8",
        )
    compare = root / "compare/index.html"
    compare.parent.mkdir(parents=True, exist_ok=True)
    compare.write_text(
        page(
            "Compare runs",
            '<h1>Compare runs</h1><script type="application/json" id="runs-index">'
            f'{script_json(index)}</script><div id="compare"></div>',
            ["vendor/vega-bundle.js", "charts.js", "compare.js"],
            1,
        ),
        encoding="utf-8",
    )
    return {"experiment": experiment, "compare": compare}
