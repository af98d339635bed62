"""Speed, memory and size of ``trackreport build`` on a big synthetic store (issue 3, "Speed").

    python benchmarks/bench_build.py              # 1,000 runs x 1,000 steps, about 1 min
    python benchmarks/bench_build.py --quick      # 100 runs x 200 steps, about 15 s
    python benchmarks/bench_build.py --keep DIR   # keep the stores and sites in DIR
    python benchmarks/bench_build.py --profile    # + cProfile of build_site on the main store
    python benchmarks/bench_build.py --check      # exit 1 when a target is missed

What it does:

1. Writes a synthetic store in store format v1 (DESIGN.md section 3) directly
   with orjson, one events file per run, as fast as the disk allows: ``--runs``
   runs x 10 params x 5 metrics x ``--steps`` steps (default 1,000 x 1,000 =
   5,000,000 points), spread over 5 experiments that each declare a primary
   metric and a goal, plus ONE extra run whose ``train_loss`` has
   ``--long-steps`` steps (default 100,000; its other metrics 1,000 points each).
2. Reads the store back with the library (``trackreport.load_runs`` row count,
   experiments, and ``trackreport.get_run`` of the long run), so the generator
   cannot drift from the format unnoticed.
3. Builds the site in a fresh ``python -c`` process that calls
   ``trackreport.site.build.build_site``: wall time as seen from here
   (interpreter start and imports included), build_site's own time, and the
   peak resident memory of that process: ``VmHWM`` of ``/proc/self/status``,
   read by the process itself just before it exits (elsewhere ``ru_maxrss``).
   Not ``ru_maxrss`` on Linux: ``subprocess`` starts children with vfork, and
   exec then carries the parent's high-water mark into the child's
   ``ru_maxrss`` (and so into ``RUSAGE_CHILDREN``); after reading the big store
   back, this process is bigger than the build. ``VmHWM`` counts the child's
   own memory only, as ``/usr/bin/time -v`` does. Also its CPU time, which a
   busy machine disturbs less than the wall time, and that of the worker
   processes it forks (``TRACKREPORT_BUILD_WORKERS``; ``RUSAGE_CHILDREN``).
   Then one run is added and the site rebuilt incrementally (2b), and
   ``trackreport serve --out <that site>`` is started three times, timing
   process start to the index page answered (2c).
4. Sizes: the whole site, the site without the shared ``assets/`` folder, and
   the run page of the long run: everything under its ``runs/<slug>/`` folder
   (``index.html``, ``data.js`` and any per-run files; no shared assets).
5. "Site size grows with runs, not steps": the same generator, ``--growth-runs``
   runs (100; ``--quick``: 20) at 100, 1,000 and 4,000 steps per run, each built
   in a fresh process. The target compares 4,000 with 1,000 steps: both are
   above the point budgets of the charts (at most 1,000 points per series on
   a run page, fewer elsewhere), so the site excluding assets must stay about
   the same size. Below those budgets a chart holds every point, so the
   100-step site is smaller; it is printed for information. The site size
   per run of this 1,000-step store and of the main store shows growth with runs.

Every child process gets ``<repo>/src`` first on ``PYTHONPATH``, and this
script imports trackreport from there too, so the working tree is measured.
It needs the runtime dependencies of trackreport (orjson, numpy, pandas,
jinja2, ...) in the interpreter that runs it. Stores and sites go to a
temporary folder that is removed at the end, unless ``--keep DIR``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import orjson

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SRC = REPO / "src"

# targets of issue 3 ("Speed"); sizes in decimal units (1 kB = 1,000 bytes)
TARGET_BUILD_S = 30.0
TARGET_RSS_BYTES = 1_500_000_000
TARGET_RUN_PAGE_BYTES = 300_000
TARGET_FULL_S = 5.0  # issue 9: the full build_site() of the main store (2 CPUs)
TARGET_INCREMENTAL_S = 0.5  # issue 9: one run added to it, rebuilt incrementally
TARGET_SERVE_S = 0.5  # issue 9: serve answers its first page with a built site in --out
TARGET_STEP_RATIO = 1.15  # site excl. assets at 4x the steps, both above the chart budgets

FULL = {"runs": 1000, "steps": 1000, "long_steps": 100_000, "growth_runs": 100}
QUICK = {"runs": 100, "steps": 200, "long_steps": 100_000, "growth_runs": 20}
GROWTH_STEPS = (100, 1000, 4000)
GROWTH_BASE, GROWTH_HIGH = 1000, 4000

T0 = 1_790_000_000.0  # 2026-09-21, start of the first synthetic run
RUN_GAP_S = 900.0  # runs start 15 minutes apart
STEP_S = 0.5  # seconds per step
EXPERIMENTS = [
    # name, primary metric, goal, description
    ("image-classifier", "val_acc", "max",
     "ResNet variants on the product photo set.\n\nGoal: **val_acc** above 0.9."),
    ("lr-sweep", "val_loss", "min",
     "Learning-rate and weight-decay sweep of the baseline model."),
    ("augmentation", "val_acc", "max",
     "Which augmentations help: flips, crops, colour jitter, mixup."),
    ("distillation", "val_loss", "min",
     "Distilling the large model into a small one for the phone app."),
    ("long-context", "val_acc", "max",
     "Longer input windows; slower, hopefully better."),
]
METRICS = ("val_acc", "val_loss", "train_loss", "lr", "grad_norm")
OPTIMIZERS = ("adam", "adamw", "sgd", "lion")
MODELS = ("resnet18", "resnet34", "resnet50", "convnext-t")
PACKAGES = {"numpy": "2.1.3", "torch": "2.5.1", "torchvision": "0.20.1", "pandas": "2.2.3",
            "scikit-learn": "1.5.2", "pillow": "11.0.0", "trackreport": "0.1.0",
            "tqdm": "4.67.1"}
_NL = orjson.OPT_APPEND_NEWLINE


# ------------------------------------------------------------------------------------------
# the synthetic store
def _dump(events: list[dict[str, Any]]) -> bytes:
    return b"".join([orjson.dumps(e, option=_NL) for e in events])


def _run_id(t: float, rng: np.random.Generator) -> str:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(t))
    return f"{stamp}-{int(rng.integers(0, 2**32)):08x}"


def _writer(i: int, rng: np.random.Generator) -> str:
    return f"{4000 + i % 3000}-{int(rng.integers(0, 2**48)):012x}"


def _context(i: int, rng: np.random.Generator, argv: list[str]) -> dict[str, Any]:
    return {
        "user": ("ana", "ben", "chen", "dara")[i % 4],
        "host": f"gpu-{i % 8:02d}",
        "python": {"version": "3.11.7", "implementation": "CPython"},
        "platform": "Linux-6.8.0-x86_64",
        "entry_point": {"path": "train.py", "module": None, "argv": argv},
        "git": {"commit": f"{int(rng.integers(0, 2**63)):016x}" * 2 + "0a1b2c3d",
                "branch": "main", "dirty": bool(i % 7 == 0),
                "remote": "https://github.com/example/vision.git"},
        "packages": PACKAGES,
        "env": {},
    }


def _params(i: int, rng: np.random.Generator) -> dict[str, Any]:
    return {
        "lr": float(10 ** rng.uniform(-4.5, -1.5)),
        "batch_size": int(rng.choice([32, 64, 128, 256])),
        "optimizer": OPTIMIZERS[int(rng.integers(0, len(OPTIMIZERS)))],
        "weight_decay": float(10 ** rng.uniform(-6, -2)),
        "dropout": round(float(rng.uniform(0.0, 0.5)), 2),
        "epochs": int(rng.integers(10, 100)),
        "warmup_steps": int(rng.integers(0, 2000)),
        "model": MODELS[i % len(MODELS)],
        "seed": i,
        "augment": bool(rng.random() < 0.5),
    }


def _series(rng: np.random.Generator, steps: np.ndarray, total: int) -> dict[str, np.ndarray]:
    """Five plausible learning curves over ``steps`` (of ``total`` steps)."""
    n = steps.size
    x = steps / max(1, total)
    tau = rng.uniform(0.05, 0.4)
    ceiling = rng.uniform(0.6, 0.95)
    floor = rng.uniform(0.05, 0.4)
    return {
        "val_acc": ceiling * (1 - np.exp(-x / tau)) + rng.normal(0, 0.01, n),
        "val_loss": floor + 2.0 * np.exp(-x / tau) + np.abs(rng.normal(0, 0.02, n)),
        "train_loss": floor * 0.8 + 2.3 * np.exp(-x / (tau * 0.8)) + np.abs(rng.normal(0, 0.05, n)),
        "lr": 1e-3 * 0.5 * (1 + np.cos(np.pi * x)),
        "grad_norm": np.abs(rng.normal(1.0, 0.3, n)) * (1 + np.exp(-x / tau)),
    }


def _metric_lines(t: float, steps: np.ndarray, values: dict[str, np.ndarray],
                  step_s: float) -> list[dict[str, Any]]:
    keys = list(values)
    cols = [values[k].tolist() for k in keys]
    times = (t + 1.0 + steps * step_s).tolist()
    return [{"type": "metrics", "time": tm, "step": s, "values": dict(zip(keys, vs, strict=True))}
            for tm, s, *vs in zip(times, steps.tolist(), *cols, strict=True)]


def make_store(root: Path, runs: int, steps: int, long_steps: int = 0,
               seed: int = 1) -> dict[str, Any]:
    """Write a store of ``runs`` x 10 params x 5 metrics x ``steps`` (+ one long run)."""
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    (root / "runs").mkdir(parents=True)
    (root / "experiments").mkdir()
    (root / "trackreport-store.json").write_bytes(
        orjson.dumps({"format": "trackreport-store", "version": 1}, option=_NL))
    writer = _writer(0, rng)
    events: list[dict[str, Any]] = [{"type": "open", "format": 1, "writer": writer, "time": T0}]
    for name, primary, goal, description in EXPERIMENTS:
        events.append({"type": "experiment", "time": T0, "name": name,
                       "description": description, "primary_metric": primary, "goal": goal})
    (root / "experiments" / f"events-{writer}.jsonl").write_bytes(_dump(events))

    step_array = np.arange(steps, dtype=np.int64)
    points = 0
    run_ids = []
    for i in range(runs + (1 if long_steps else 0)):
        long = i == runs
        t = T0 + i * RUN_GAP_S
        run_id = _run_id(t, rng)
        writer = _writer(i, rng)
        experiment = EXPERIMENTS[0 if long else i % len(EXPERIMENTS)][0]
        params = _params(i, rng)
        argv = ["train.py", "--lr", f"{params['lr']:.3g}", "--model", params["model"]]
        step_s = STEP_S
        if long:
            name = f"long-run-{long_steps}-steps"
            every = max(1, long_steps // 1000)
            step_s = 0.05
            dense = np.arange(long_steps, dtype=np.int64)
            sparse = dense[::every]
            lines = _metric_lines(t, dense, {"train_loss": _series(rng, dense, long_steps)
                                             ["train_loss"]}, step_s)
            curves = _series(rng, sparse, long_steps)
            del curves["train_loss"]
            extras = _metric_lines(t, sparse, curves, step_s)
            for line, extra in zip(lines[::every], extras, strict=True):
                line["values"].update(extra["values"])
            points += dense.size + sparse.size * len(curves)
            end = t + 1.0 + long_steps * step_s
        else:
            name = f"{experiment}-{i:04d}"
            lines = _metric_lines(t, step_array, _series(rng, step_array, steps), step_s)
            points += steps * len(METRICS)
            end = t + 1.0 + steps * step_s
        failed = (not long) and i % 37 == 5
        events = [
            {"type": "open", "format": 1, "writer": writer, "time": t},
            {"type": "run.start", "time": t, "run_id": run_id, "experiment": experiment,
             "name": name, "parent_run_id": None, "context": _context(i, rng, argv)},
            {"type": "params", "time": t + 0.5, "params": params},
            *lines,
            {"type": "run.end", "time": end, "status": "FAILED" if failed else "FINISHED",
             "error": "RuntimeError: CUDA out of memory" if failed else None},
        ]
        folder = root / "runs" / run_id
        folder.mkdir()
        (folder / f"events-{writer}.jsonl").write_bytes(_dump(events))
        run_ids.append(run_id)
    return {"runs": len(run_ids), "points": points, "bytes": tree_size(root),
            "seconds": time.perf_counter() - started,
            "long_run_id": run_ids[-1] if long_steps else None}


def verify_store(root: Path, expected_runs: int, long_run_id: str | None,
                 long_steps: int) -> dict[str, Any]:
    """Read the store back with the library; raise when it does not read as written."""
    started = time.perf_counter()
    if str(SRC) not in sys.path:
        sys.path.insert(0, str(SRC))
    import trackreport as tr

    frame = tr.load_runs(store=str(root))
    problems = []
    if len(frame) != expected_runs:
        problems.append(f"load_runs gave {len(frame)} rows, expected {expected_runs}")
    experiments = sorted(set(frame["experiment"])) if len(frame) else []
    if experiments != sorted(e[0] for e in EXPERIMENTS):
        problems.append(f"experiments read back: {experiments}")
    for key in METRICS:
        if f"metrics.{key}" not in frame.columns:
            problems.append(f"no column metrics.{key}")
    n_params = sum(c.startswith("params.") for c in frame.columns)
    if n_params != 10:
        problems.append(f"{n_params} param columns, expected 10")
    if long_run_id:
        run = tr.get_run(long_run_id, store=str(root))
        n = len(run.metrics["train_loss"].steps)
        if n != long_steps:
            problems.append(f"the long run has {n} train_loss steps, expected {long_steps}")
    if problems:
        raise SystemExit("the synthetic store does not read back as written:\n  "
                         + "\n  ".join(problems))
    return {"rows": len(frame), "seconds": time.perf_counter() - started}


# ------------------------------------------------------------------------------------------
# the build, in a fresh process
_CHILD = """\
import json, resource, sys, time
t0 = time.perf_counter()
from trackreport.site.build import build_site
t1 = time.perf_counter()
result = build_site(sys.argv[1], sys.argv[2])
t2 = time.perf_counter()
usage = resource.getrusage(resource.RUSAGE_SELF)
workers = resource.getrusage(resource.RUSAGE_CHILDREN)  # the build's forked workers
peak, source = usage.ru_maxrss, "ru_maxrss"
try:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                peak, source = int(line.split()[1]), "VmHWM"
except OSError:
    pass
print(json.dumps({"import_s": t1 - t0, "build_s": t2 - t1, "reported_s": result.seconds,
                  "cpu_s": usage.ru_utime + usage.ru_stime,
                  "workers_cpu_s": workers.ru_utime + workers.ru_stime,
                  "workers_peak_kib": workers.ru_maxrss,
                  "experiments": result.experiments, "runs": result.runs,
                  "pages": result.pages, "peak_kib": peak, "peak_source": source}))
"""

_PROFILE = """\
import cProfile, pstats, sys
from trackreport.site.build import build_site
profile = cProfile.Profile()
profile.runcall(build_site, sys.argv[1], sys.argv[2])
stats = pstats.Stats(profile)
stats.sort_stats("tottime").print_stats(25)
stats.sort_stats("cumulative").print_stats(35)
"""


MACHINE_CACHE: Path | None = None
"""``$TRACKREPORT_CACHE`` of every build here: empty before the first (see section 2)."""


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    if MACHINE_CACHE is not None:
        env["TRACKREPORT_CACHE"] = str(MACHINE_CACHE)
    env["PYTHONPATH"] = os.pathsep.join([str(SRC), *filter(None, [env.get("PYTHONPATH")])])
    env.pop("SOURCE_DATE_EPOCH", None)
    return env


def build_command(store: Path, out: Path, code: str = _CHILD) -> list[str]:
    return [sys.executable, "-c", code, str(store), str(out)]


def run_build(store: Path, out: Path) -> dict[str, Any]:
    command = build_command(store, out)
    started = time.perf_counter()
    proc = subprocess.run(command, env=child_env(), capture_output=True, text=True)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"the build failed (exit {proc.returncode}):\n{proc.stderr}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["wall_s"] = wall
    result["maxrss_bytes"] = result["peak_kib"] * 1024
    result["stderr"] = proc.stderr.strip()
    return result


def first_page_seconds(store: Path, site: Path, timeout: float = 60.0) -> float:
    """Seconds from starting ``trackreport serve --out site`` to its index page answered."""
    import socket
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = [sys.executable, "-m", "trackreport", "serve", "--store", str(store),
               "--out", str(site), "--port", str(port)]
    started = time.perf_counter()
    proc = subprocess.Popen(command, env=child_env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as page:
                    page.read()
                return time.perf_counter() - started
            except OSError:
                if proc.poll() is not None or time.perf_counter() - started > timeout:
                    raise SystemExit("serve did not answer: "
                                     + (proc.stderr.read().decode() if proc.stderr else "")
                                     ) from None
                time.sleep(0.005)
    finally:
        proc.send_signal(signal.SIGINT)  # stops the incremental build it started too
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# ------------------------------------------------------------------------------------------
# sizes
def tree_size(root: Path) -> int:
    total = 0
    for folder, _dirs, files in os.walk(root):
        for name in files:
            total += os.lstat(os.path.join(folder, name)).st_size
    return total


def site_sizes(site: Path) -> dict[str, Any]:
    total = tree_size(site)
    assets = tree_size(site / "assets")
    per_run = {p.name: tree_size(p) for p in (site / "runs").iterdir() if p.is_dir()}
    top = {p.name + ("/" if p.is_dir() else ""): tree_size(p) if p.is_dir() else p.stat().st_size
           for p in sorted(site.iterdir()) if p.name != "assets"}
    return {"total": total, "assets": assets, "without_assets": total - assets, "top": top,
            "runs_folder": sum(per_run.values()), "per_run": per_run,
            "files": sum(len(files) for _, _, files in os.walk(site))}


def run_folder(site: Path, run_id: str) -> Path:
    try:
        from trackreport.site.urls import run_slug
        slug = run_slug(run_id)
    except ImportError:  # pragma: no cover - an older layout
        slug = run_id.lower()
    folder = site / "runs" / slug
    if not folder.is_dir():
        raise SystemExit(f"no run folder for {run_id} in {site / 'runs'}")
    return folder


# ------------------------------------------------------------------------------------------
# printing
def kb(n: float) -> str:
    return f"{n / 1e3:,.1f} kB"


def mb(n: float) -> str:
    return f"{n / 1e6:,.1f} MB"


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def table(headers: list[str], rows: list[list[str]], right: set[int] | None = None) -> str:
    right = right if right is not None else set(range(1, len(headers)))
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows, strict=True)]

    def line(cells: list[str]) -> str:
        padded = [str(c).rjust(w) if i in right else str(c).ljust(w)
                  for i, (c, w) in enumerate(zip(cells, widths, strict=True))]
        return ("  " + "  ".join(padded)).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *map(line, rows)])


def git_revision() -> str:
    try:
        rev = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--", "src"],
                               capture_output=True, text=True).stdout.strip()
        return rev + (" (src/ modified)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def load_average() -> str:
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:
        return "n/a"


# ------------------------------------------------------------------------------------------
def _use_src(path: Path) -> None:
    global SRC
    SRC = path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, help="runs in the main store (1000; --quick: 100)")
    parser.add_argument("--steps", type=int, help="steps per run (1000; --quick: 200)")
    parser.add_argument("--long-steps", type=int,
                        help="steps of the one long run's train_loss (100000; 0: no long run)")
    parser.add_argument("--growth-runs", type=int,
                        help="runs of the stores of the growth check (100; --quick: 20)")
    parser.add_argument("--quick", action="store_true", help="a scaled-down smoke check")
    parser.add_argument("--keep", metavar="DIR", type=Path,
                        help="write stores and sites into DIR (new or empty) and keep them")
    parser.add_argument("--profile", action="store_true",
                        help="also cProfile build_site on the main store (a separate build)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--src", type=Path, default=SRC,
                        help="the source folder to measure (default: <repo>/src), e.g. a "
                             "clean `git archive` export of a commit")
    args = parser.parse_args(argv)
    if not (args.src / "trackreport" / "__init__.py").is_file():
        parser.error(f"--src {args.src}: no trackreport package there")
    _use_src(args.src.resolve())
    shape = dict(QUICK if args.quick else FULL)
    for key in shape:
        if getattr(args, key) is not None:
            shape[key] = getattr(args, key)
    if shape["runs"] < 1 or shape["steps"] < 1 or shape["growth_runs"] < 1 \
            or shape["long_steps"] < 0:
        parser.error("--runs, --steps and --growth-runs must be at least 1")

    if args.keep:
        if args.keep.exists() and any(args.keep.iterdir()):
            parser.error(f"--keep {args.keep}: the folder is not empty")
        args.keep.mkdir(parents=True, exist_ok=True)
        work = args.keep.resolve()
    else:
        work = Path(tempfile.mkdtemp(prefix="trbench-build-"))
    given = argv if argv is not None else sys.argv[1:]
    command = shlex.join([sys.executable, os.path.relpath(__file__), *given])
    try:
        return _run(args, shape, work, command)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def _run(args: argparse.Namespace, shape: dict[str, int], work: Path, command: str) -> int:
    load_before = load_average()
    mode = "quick" if args.quick else "full"
    print(f"trackreport build benchmark ({mode}) - "
          f"{time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}")
    print(f"command: {command}")
    print(f"machine: {cpu_name()}, {os.cpu_count()} CPUs, {platform.platform()}")
    measured = f"{git_revision()}" if SRC == REPO / "src" else str(SRC)
    print(f"python {platform.python_version()} ({sys.executable}), trackreport @ "
          f"{measured}, data under {work}{'' if args.keep else ' (removed at the end)'}")
    print()

    # 1. the main store ------------------------------------------------------------------
    runs, steps, long_steps = shape["runs"], shape["steps"], shape["long_steps"]
    store = work / "store"
    made = make_store(store, runs, steps, long_steps)
    checked = verify_store(store, made["runs"], made["long_run_id"], long_steps)
    print(f"1. synthetic store: {runs:,} runs x 10 params x {len(METRICS)} metrics x "
          f"{steps:,} steps" + (f" + 1 run with a {long_steps:,}-step metric" if long_steps
                                else "")
          + f", {len(EXPERIMENTS)} experiments")
    print(table(["", "runs", "points", "size", "seconds"], [
        ["written (orjson)", f"{made['runs']:,}", f"{made['points']:,}", mb(made["bytes"]),
         f"{made['seconds']:.1f}"],
        ["read back (load_runs)", f"{checked['rows']:,}", "", "", f"{checked['seconds']:.1f}"],
    ]))
    print()

    # 2. the build -----------------------------------------------------------------------
    site = work / "site"
    print("2. build (fresh process):", shlex.join(
        [sys.executable, "-c", "<build_site(store, site), print figures>", str(store),
         str(site)]))
    global MACHINE_CACHE
    MACHINE_CACHE = work / "machine-cache"  # empty: the first build on a machine
    first = run_build(store, work / "first-site")
    shutil.rmtree(work / "first-site")
    built = run_build(store, site)  # the machine's cache (chart bundle, templates) warm
    sizes = site_sizes(site)
    print(table(["", "value"], [
        ["first build on a machine: build_site()", f"{first['build_s']:.1f} s"],
        ["  (it also makes the chart bundle and compiles the templates, kept in "
         "$TRACKREPORT_CACHE for every later build)", ""],
        ["a full build after that:", ""],
        ["wall time, process start to exit", f"{built['wall_s']:.1f} s"],
        ["  import trackreport.site.build", f"{built['import_s']:.2f} s"],
        ["  build_site()", f"{built['build_s']:.1f} s"],
        ["CPU time (user + sys)", f"{built['cpu_s']:.1f} s"],
        ["  + its worker processes", f"{built['workers_cpu_s']:.1f} s"],
        ["largest worker's peak RSS (ru_maxrss)", mb(built["workers_peak_kib"] * 1024)],
        [f"peak RSS of the build process ({built['peak_source']})",
         mb(built["maxrss_bytes"])],
        ["experiments / runs / pages", f"{built['experiments']} / {built['runs']:,} / "
                                       f"{built['pages']:,}"],
        ["site: files", f"{sizes['files']:,}"],
        ["site: total size", mb(sizes["total"])],
        ["site: shared assets/", mb(sizes["assets"])],
        ["site: without assets/", mb(sizes["without_assets"])],
        *[[f"  {name}", mb(size)] for name, size in sizes["top"].items() if size >= 10_000],
    ], right={1}))
    if built["stderr"]:
        print("  build stderr:", built["stderr"][:2000])
    print()

    # 2b. incremental rebuilds --------------------------------------------------------------
    extra = work / "extra-store"
    make_store(extra, 1, steps, seed=7)
    new_run = next((extra / "runs").iterdir())
    shutil.move(str(new_run), str(store / "runs" / new_run.name))
    again = run_build(store, site)
    unchanged = run_build(store, site)
    print("2b. incremental build (the same --out, its cache in .trackreport-cache/; fresh "
          "processes)")
    print(table(["", "build_site()", "wall time"], [
        ["one run added", f"{again['build_s']:.2f} s", f"{again['wall_s']:.1f} s"],
        ["nothing changed", f"{unchanged['build_s']:.2f} s", f"{unchanged['wall_s']:.1f} s"],
        ["full build (above)", f"{built['build_s']:.2f} s", f"{built['wall_s']:.1f} s"],
    ], right={1, 2}))
    print()

    # 2c. serve's first page, a built site (with its cache) in --out ------------------------
    served = [first_page_seconds(store, site) for _ in range(3)]
    print("2c. `trackreport serve --out <the site above>`: process start to the first page "
          "answered (3 tries)")
    print(table(["", "seconds"], [[f"try {i + 1}", f"{t:.2f}"] for i, t in enumerate(served)],
                right={1}))
    print()

    # 3. run pages --------------------------------------------------------------------------
    long_bytes = None
    long_folder = run_folder(site, made["long_run_id"]) if made["long_run_id"] else None
    print("3. run pages (the run's folder: index.html, data.js, per-run files; no assets/)")
    ordinary = sorted(size for name, size in sizes["per_run"].items()
                      if long_folder is None or name != long_folder.name)
    rows = []
    if ordinary:
        rows.append([f"ordinary run ({steps:,} steps), median", kb(statistics.median(ordinary)),
                     ""])
        rows.append(["ordinary run, largest", kb(ordinary[-1]), ""])
    if long_folder is not None:
        long_bytes = tree_size(long_folder)
        rows.append([f"long run ({long_steps:,}-step train_loss)", kb(long_bytes),
                     f"runs/{long_folder.name}/"])
        for path in sorted(p for p in long_folder.rglob("*") if p.is_file()):
            rows.append([f"  {path.relative_to(long_folder)}", kb(path.stat().st_size), ""])
    print(table(["page", "size", "folder"], rows, right={1}))
    print()

    # 4. growth with steps and runs ---------------------------------------------------------
    growth_runs = shape["growth_runs"]
    print(f"4. site size vs steps: {growth_runs:,} runs x 10 params x {len(METRICS)} metrics, "
          f"no long run, each built in a fresh process")
    growth: dict[int, dict[str, Any]] = {}
    for n_steps in GROWTH_STEPS:
        g_store, g_site = work / f"growth-{n_steps}-store", work / f"growth-{n_steps}-site"
        g_made = make_store(g_store, growth_runs, n_steps)
        g_built = run_build(g_store, g_site)
        growth[n_steps] = {"made": g_made, "built": g_built, "sizes": site_sizes(g_site)}
    base = growth[GROWTH_BASE]["sizes"]["without_assets"]
    rows = []
    for n_steps, g in growth.items():
        without = g["sizes"]["without_assets"]
        rows.append([f"{n_steps:,}", f"{g['made']['points']:,}", mb(g["made"]["bytes"]),
                     mb(without), kb(without / growth_runs), f"{without / base:.3f}",
                     f"{g['built']['wall_s']:.1f} s", mb(g["built"]["maxrss_bytes"])])
    print(table(["steps/run", "points", "store", "site w/o assets", "per run",
                 f"vs {GROWTH_BASE:,} steps", "build", "peak RSS"], rows))
    step_ratio = growth[GROWTH_HIGH]["sizes"]["without_assets"] / base
    print("  Below the charts' point budgets (at most 1,000 points per series on a run page,"
          " fewer elsewhere)\n  every point is drawn, so pages grow with steps up to the "
          "budget and then stay flat.")
    if steps == GROWTH_BASE and growth_runs != runs:
        main_per_run = sizes["without_assets"] / made["runs"]
        print(f"  Site w/o assets per run at {steps:,} steps: {kb(base / growth_runs)} with "
              f"{growth_runs:,} runs, {kb(main_per_run)} with {made['runs']:,} runs (main "
              f"store, long run included).")
    print()

    # 5. targets ---------------------------------------------------------------------------
    results = [
        ("build wall time (fresh process)", f"{built['wall_s']:.1f} s",
         f"<= {TARGET_BUILD_S:.0f} s", built["wall_s"] <= TARGET_BUILD_S),
        ("peak RSS of the build", mb(built["maxrss_bytes"]),
         f"<= {mb(TARGET_RSS_BYTES)}", built["maxrss_bytes"] <= TARGET_RSS_BYTES),
        ("full build_site()", f"{built['build_s']:.1f} s", f"<= {TARGET_FULL_S:.0f} s",
         built["build_s"] <= TARGET_FULL_S),
        ("one run added: build_site()", f"{again['build_s']:.2f} s",
         f"<= {TARGET_INCREMENTAL_S} s and 10% of full",
         again["build_s"] <= min(TARGET_INCREMENTAL_S, 0.1 * built["build_s"])),
    ]
    results.append(("serve: first page, a cache in --out (best of 3)",
                    f"{min(served):.2f} s", f"<= {TARGET_SERVE_S} s",
                    min(served) <= TARGET_SERVE_S))
    if long_bytes is not None:
        results.append((f"run page of the {long_steps:,}-step run, no assets", kb(long_bytes),
                        f"<= {kb(TARGET_RUN_PAGE_BYTES)}", long_bytes <= TARGET_RUN_PAGE_BYTES))
    results.append((f"site w/o assets, {GROWTH_HIGH:,} vs {GROWTH_BASE:,} steps/run",
                    f"{step_ratio:.3f}x", f"<= {TARGET_STEP_RATIO:.2f}x",
                    step_ratio <= TARGET_STEP_RATIO))
    scale = "" if (runs, steps) == (FULL["runs"], FULL["steps"]) else \
        f" (scaled down: {runs:,} runs x {steps:,} steps; the targets are for 1,000 x 1,000)"
    print(f"5. targets (issue 3, 'Speed'){scale}")
    print(table(["target", "measured", "limit", "result"],
                [[name, value, limit, verdict(ok)] for name, value, limit, ok in results]))
    print(f"\nload average (1 min) before / after: {load_before} / {load_average()} on "
          f"{os.cpu_count()} CPUs")

    if args.profile:
        print("\n6. cProfile of build_site on the main store (a separate build, slower than"
              " the timed one)")
        out = work / "site-profile"
        proc = subprocess.run(build_command(store, out, _PROFILE), env=child_env(),
                              capture_output=True, text=True)
        print(proc.stdout[-30000:] if proc.returncode == 0 else proc.stderr)
    missed = [name for name, _v, _l, ok in results if not ok]
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
