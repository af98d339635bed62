"""A store for the site tests, made with the public API, hostile names included."""

from __future__ import annotations

import base64
import os
import time
from pathlib import Path

import orjson

import trackreport as tr

XSS = "</script><img src=x onerror=alert(1)>"
SVG_XSS = '"><svg onload=alert(1)>'
# A 1x1 PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
SECRET = "TOPSECRET-outside-the-store"

HOSTILE_EXPERIMENTS = [XSS, SVG_XSS, "Wine", "a/b", "a-b", "数据 实验"]


def _log_basic(name: str, lr: float, depth: int, accs: list[float], **tags: str) -> str:
    with tr.start_run(name=name, capture=False, tags=tags or None) as run:
        tr.log_params({"lr": lr, "depth": depth, "model": "gb"})
        for step, acc in enumerate(accs):
            tr.log_metrics({"val_acc": acc, "train_loss": 1.0 - acc + 0.05}, step=step)
        return run.id


def make_store(root: Path, outside: Path) -> dict[str, object]:
    """Fill ``root`` with a store; ``outside`` is a folder beside it (for symlink tests)."""
    info: dict[str, object] = {}
    tr.set_store(root)
    tr.set_experiment("wine", description="Predict **wine quality** from chemistry.\n\n"
                      "Second paragraph with a [link](https://example.org).",
                      primary_metric="val_acc", goal="max")
    info["baseline"] = _log_basic("baseline", 0.1, 1, [0.80, 0.85, 0.86], baseline="yes")
    info["best"] = _log_basic("gb-lr0.1-d3", 0.1, 3, [0.82, 0.90, 0.95])
    info["mid"] = _log_basic("gb-lr0.3-d2", 0.3, 2, [0.81, 0.88, 0.91])
    # same name twice
    info["dup"] = _log_basic("gb-lr0.3-d2", 0.3, 5, [0.70, 0.75, 0.78])
    with tr.start_run(name="artifacts", capture=False) as run:
        info["artifacts"] = run.id
        tr.log_param("lr", 0.05)
        tr.log_param(f"key {XSS}", SVG_XSS)
        tr.log_metric("val_acc", 0.5, step=0)
        tr.set_tag(XSS, SVG_XSS)
        tr.note(f"**Why** this run: see [docs](https://example.org/docs). {XSS} "
                "[click](javascript:alert(1)) <script>alert(2)</script>")
        tr.log_text("a,b,c\n1,2,3\n4,5,6\n", "data/table.csv")
        tr.log_text("x\ty\n1\t2\n", "data/table.tsv")
        tr.log_text("<html><body><h1>Report</h1><script>alert(3)</script></body></html>",
                    "report.html")
        tr.log_text('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(4)" width="10" '
                    'height="10"><rect width="10" height="10" fill="red"/></svg>', "plot.svg")
        tr.log_text("# Summary\n\nAll **good**. <img src=x onerror=alert(5)>\n", "summary.md")
        tr.log_dict({"n_estimators": 100, "nested": {"a": [1, 2]}}, "config.json")
        tr.log_text("line\n" * 500, "logs/train.log")
        tr.log_dict({
            "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
            "data": {"values": [{"x": 1, "y": 2}, {"x": 2, "y": 3}]},
            "mark": "line",
            "encoding": {"x": {"field": "x", "type": "quantitative"},
                         "y": {"field": "y", "type": "quantitative"}},
        }, "plots/curve.vl.json")
        tr.log_text("SECRET-PLACEHOLDER", "leak.txt")
        tr.log_text(f"{XSS}\n", f"odd/{XSS}.txt")
        tr.log_text("upper\n", "plots/ROC.txt")
        tr.log_text("lower\n", "plots/roc.txt")
        tr.log_text("unicode\n", "plots/résumé ü.txt")
        png_path = outside / "img.png"
        png_path.write_bytes(PNG)
        tr.log_artifact(png_path, "plots")
    # replace leak.txt in the store by a symlink to a file outside the store
    secret = outside / "secret.txt"
    secret.write_text(SECRET)
    leak = root / "runs" / str(info["artifacts"]) / "artifacts" / "leak.txt"
    leak.unlink()
    os.symlink(secret, leak)

    tr.set_experiment(XSS, description=f"Hostile {XSS} [x](javascript:alert(1))",
                      primary_metric="loss", goal="min")
    with tr.start_run(name=XSS, capture=False) as run:
        info["xss_run"] = run.id
        tr.log_param(XSS, XSS)
        tr.log_metric("loss", 0.3, step=0)
        tr.log_metric(f"m{XSS}", 1.0, step=0)
        tr.set_tag("note", SVG_XSS)
    with tr.start_run(name=SVG_XSS, capture=False) as run:
        info["svg_run"] = run.id
        tr.log_metric("loss", float("nan"), step=0)
        tr.log_metric("loss", float("nan"), step=1)
    try:
        with tr.start_run(name="will-fail", capture=False) as run:
            info["failed"] = run.id
            tr.log_metric("loss", 0.2, step=0)
            raise ValueError(f"boom {XSS}")
    except ValueError:
        pass
    for name in HOSTILE_EXPERIMENTS[1:]:
        tr.set_experiment(name)
        with tr.start_run(name=f"run of {name}", capture=False):
            tr.log_metric("accuracy", 0.5, step=0)
    tr.set_experiment("empty-one", description="Nothing here yet.")
    tr.set_experiment("wine")
    # a run left RUNNING (its process vanished): written by hand in format v1
    running = "20300101T000000Z-0badc0de"
    info["running"] = running
    folder = root / "runs" / running
    folder.mkdir(parents=True)
    t = time.time() + 5
    lines = [
        {"type": "open", "format": 1, "writer": "w1", "time": t},
        {"type": "run.start", "time": t, "run_id": running, "experiment": "wine",
         "name": "still-going", "parent_run_id": None,
         "context": {"user": "ada", "host": "gpu-3",
                     "python": {"version": "3.11.7", "implementation": "CPython"},
                     "platform": "Linux-6.1.0-x86_64",
                     "entry_point": {"path": "train/fit.py", "module": None,
                                     "argv": ["train/fit.py", "--lr", "0.1", "--token", "***"]},
                     "git": {"commit": "3f9a2c1b" * 5, "branch": "main", "dirty": True,
                             "remote": "https://github.com/acme/wine.git"},
                     "packages": {"numpy": "2.4.6", "scikit-learn": "1.9.1"},
                     "env": {"CUDA_VISIBLE_DEVICES": "0"}}},
        {"type": "params", "time": t + 1, "params": {"lr": 0.1, "depth": 4}},
        {"type": "metrics", "time": t + 2, "step": 0, "values": {"val_acc": 0.6}},
    ]
    (folder / "events-w1.jsonl").write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in lines))
    return info
