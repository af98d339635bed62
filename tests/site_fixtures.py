"""A store for the site tests, made with the public API, hostile names included."""

from __future__ import annotations

import base64
import os
import time
from pathlib import Path

import orjson

import trackreport as tr
from trackreport.site.cache import CACHE_DIR

XSS = "</script><img src=x onerror=alert(1)>"
SVG_XSS = '"><svg onload=alert(1)>'
# A 1x1 PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
OUTSIDE_MARK = "NOT-IN-THE-STORE-314159"

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
        tr.log_text("OUTSIDE_MARK-PLACEHOLDER", "leak.txt")
        tr.log_text(f"{XSS}\n", f"odd/{XSS}.txt")
        tr.log_text("upper\n", "plots/ROC.txt")
        tr.log_text("lower\n", "plots/roc.txt")
        tr.log_text("unicode\n", "plots/résumé ü.txt")
        png_path = outside / "img.png"
        png_path.write_bytes(PNG)
        tr.log_artifact(png_path, "plots")
    # replace leak.txt in the store by a symlink to a file outside the store
    secret = outside / "secret.txt"
    secret.write_text(OUTSIDE_MARK)
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


class Built:
    """A fixture store and the site built from it."""

    def __init__(self, root: Path) -> None:
        from trackreport.site.build import build_site

        self.root = root
        self.store = root / "store"
        self.outside = root / "outside"
        self.outside.mkdir()
        self.info = make_store_in_subprocess(self.store, self.outside)
        self.site = root / "site"
        self.progress: list[tuple[int, int]] = []
        self.result = build_site(self.store, self.site, progress=lambda d, t:
                                 self.progress.append((d, t)))

    def pages(self) -> list[Path]:
        """Every HTML page of the site, sorted."""
        return sorted(self.site.rglob("*.html"))

    def soup(self, rel: str):
        """The parsed page at site path ``rel``."""
        from bs4 import BeautifulSoup

        return BeautifulSoup((self.site / rel).read_text("utf-8"), "html.parser")

    def run_page(self, key: str) -> str:
        """Site path of the page of the fixture run ``key`` (see make_store)."""
        return f"runs/{self.info[key]}/index.html"


def site_files(site: Path) -> dict[str, bytes]:
    """Every file of a built site by relative path."""
    return {p.relative_to(site).as_posix(): p.read_bytes()
            for p in sorted(site.rglob("*"))
            if p.is_file() and CACHE_DIR not in p.relative_to(site).parts}


def make_store_in_subprocess(store: Path, outside: Path) -> dict[str, object]:
    """``make_store`` in a fresh interpreter (the fluent API keeps per-process state)."""
    import json
    import subprocess
    import sys

    here = Path(__file__).resolve().parent
    src = here.parent / "src"
    code = ("import json, sys; from pathlib import Path; import site_fixtures as f; "
            "print(json.dumps(f.make_store(Path(sys.argv[1]), Path(sys.argv[2]))))")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(src), str(here)]),
           "TRACKREPORT_CAPTURE": "0"}
    done = subprocess.run([sys.executable, "-c", code, str(store), str(outside)],
                          capture_output=True, text=True, env=env, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


_BUILT: list[Built] = []


def shared_build(tmp_path_factory) -> Built:
    """One fixture store and site per test session, shared by the site test modules."""
    if not _BUILT:
        _BUILT.append(Built(tmp_path_factory.mktemp("site-build")))
    return _BUILT[0]
