"""Logging, start/end, import and read speed of trackreport, and MLflow for comparison.

    python benchmarks/bench_logging.py            # full run, about 40 s
    python benchmarks/bench_logging.py --quick    # fewer iterations, about 20 s
    python benchmarks/bench_logging.py --json     # machine-readable results on stdout
    python benchmarks/bench_logging.py --profile  # also cProfile every missed target

Every measurement runs in a fresh subprocess of the interpreter running this
file, with ``<repo>/src`` first on ``PYTHONPATH`` (so the working tree is
measured, not an installed copy). Stores are created in a temporary folder
(``--tmpdir``). The MLflow comparison runs when ``mlflow`` is importable by
``--mlflow-python`` (default: ``benchmarks/.mlflow-venv/bin/python``; create
that venv with ``sh benchmarks/_mlflow_venv.sh``); MLflow is not a dependency.

What is measured (see benchmarks/README.md):

1. ``tr.log_metric(key, value, step=i)`` in a loop, timed in batches of 1,000
   calls with ``time.perf_counter_ns``: median and p99 of the per-call time of
   the batches, buffered, the background flusher running. Also the same loop
   with the default step, ``tr.log_metrics`` with 10 keys (per value), and the
   amortised cost per value including the final flush by ``end_run``.
2. ``start_run`` + ``end_run``, with full capture inside a fresh git repository
   (the timed script is that repository's committed entry point) and with
   capture off: the first run of a fresh process and the median of the runs
   that follow in the same process.
3. ``import trackreport``: median wall time of fresh ``python -c "import
   trackreport"`` minus fresh ``python -c "pass"`` (interleaved).
4. ``tr.load_metrics`` on a store of 1,000,000 points written by the library
   (10 runs x 5 metrics x 20,000 steps), points per second, median of 3.
5. MLflow's default local store (SQLite, ``sqlite:///<tmp>/mlflow.db``) and its
   file store (``file:<tmp>/mlruns``): ``mlflow.log_metric`` per call and
   ``MlflowClient.log_batch`` with 10 keys per value, and the ratios.

Only the standard library is imported at the top: the same file is the MLflow
worker, run by the MLflow venv's interpreter, which has no trackreport.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

try:
    import resource
except ImportError:  # pragma: no cover - not on Windows
    resource = None  # type: ignore[assignment]

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SRC = REPO / "src"
DEFAULT_MLFLOW_PYTHON = HERE / ".mlflow-venv" / "bin" / "python"

# targets of issue 2 ("Speed")
TARGET_LOG_US = 2.0
TARGET_RATIO = 1000.0
TARGET_IMPORT_MS = 50.0
TARGET_START_END_MS = 30.0
TARGET_LOAD_PPS = 1_000_000.0

FULL = {"log_calls": 200_000, "batch": 1000, "paced_s": 1.6, "runs_warm": 30, "runs_cold": 7,
        "imports": 15, "load_reps": 3, "mlflow_calls": 300, "mlflow_batches": 30}
QUICK = {"log_calls": 50_000, "batch": 1000, "paced_s": 1.1, "runs_warm": 15, "runs_cold": 5,
         "imports": 7, "load_reps": 1, "mlflow_calls": 100, "mlflow_batches": 10}
LOAD_SHAPE = {"runs": 10, "metrics": 5, "steps": 20_000}  # 1,000,000 points


# ------------------------------------------------------------------------------------------
# small helpers
def _median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def _pct(xs: list[float], q: float) -> float:
    """The q-quantile (0..1) of xs, nearest-rank."""
    if not xs:
        return float("nan")
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, round(q * (len(s) - 1))))]


def _batch_stats(per_call_ns: list[float]) -> dict[str, float]:
    """Median / p99 / max of per-call times (ns) of batches, in microseconds."""
    return {"median_us": _median(per_call_ns) / 1000, "p99_us": _pct(per_call_ns, 0.99) / 1000,
            "max_us": max(per_call_ns) / 1000, "batches": len(per_call_ns)}


def _child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(SRC)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    for var in ("TRACKREPORT_CAPTURE", "TRACKREPORT_STORE", "PYTHONPROFILEIMPORTTIME",
                "PYTHONDONTWRITEBYTECODE"):
        env.pop(var, None)
    env.update(extra or {})
    return env


def _run_json(cmd: list[str], *, cwd: str | Path | None = None,
              env: dict[str, str] | None = None, timeout: float = 300) -> dict[str, Any]:
    """Run a worker; its last stdout line is a JSON object."""
    proc = subprocess.run(cmd, cwd=cwd, env=env if env is not None else _child_env(),
                          capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])}... failed ({proc.returncode}):\n"
                           f"{proc.stderr.strip()[-3000:]}")
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        raise RuntimeError(f"no JSON from {' '.join(cmd[:4])}: {proc.stdout[-500:]}")
    out = json.loads(lines[-1])
    if proc.stderr.strip():
        out.setdefault("stderr", proc.stderr.strip()[-2000:])
    return out


def _say(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------------
# workers (run in subprocesses)
def worker_log(args: argparse.Namespace) -> dict[str, Any]:
    """log_metric / log_metrics loops in batches, buffered, the flusher thread running."""
    import trackreport as tr

    n, batch = args.n, args.batch
    nbatches = n // batch
    perf = time.perf_counter_ns
    out: dict[str, Any] = {}

    # loop overhead: the same loop shape with a no-op call
    def noop(key: str, value: float, step: int | None = None) -> None:
        return None

    per: list[float] = []
    i = 0
    for _ in range(nbatches):
        t0 = perf()
        for _ in range(batch):
            noop("loss", i * 1e-3, step=i)
            i += 1
        per.append((perf() - t0) / batch)
    out["loop_overhead"] = _batch_stats(per)

    tr.set_store(args.store)
    for variant in ("log_metric", "log_metric_default_step"):
        run = tr.start_run(name=variant, capture=False)
        log_metric = tr.log_metric
        for w in range(1000):  # warm-up (first call checks the key)
            log_metric("warm", float(w), step=w)
        per = []
        i = 0
        explicit = variant == "log_metric"
        wall0 = perf()
        for _ in range(nbatches):
            if explicit:
                t0 = perf()
                for _ in range(batch):
                    log_metric("loss", i * 1e-3, step=i)
                    i += 1
                per.append((perf() - t0) / batch)
            else:
                t0 = perf()
                for _ in range(batch):
                    log_metric("loss", i * 1e-3)
                    i += 1
                per.append((perf() - t0) / batch)
        loop_ns = perf() - wall0
        t0 = perf()
        tr.end_run()
        end_ns = perf() - t0
        stats = _batch_stats(per)
        stats.update(values=i, end_run_ms=end_ns / 1e6,
                     amortised_us=(loop_ns + end_ns) / i / 1000)
        out[variant] = stats

    # paced: a busy "training step" of 2 ms after every 1,000 calls, for long enough that
    # the flusher thread wakes several times and competes for the GIL, as in real use
    run = tr.start_run(name="log_metric_paced", capture=False)
    log_metric = tr.log_metric
    per = []
    i = 0
    busy_ns = 2_000_000
    deadline = perf() + int(args.paced_s * 1e9)
    while perf() < deadline:
        t0 = perf()
        for _ in range(batch):
            log_metric("loss", i * 1e-3, step=i)
            i += 1
        t1 = perf()
        per.append((t1 - t0) / batch)
        while perf() - t1 < busy_ns:  # pure-Python work that holds the GIL
            pass
    tr.end_run()
    stats = _batch_stats(per)
    stats.update(values=i)
    out["log_metric_paced"] = stats

    # log_metrics with 10 keys: per value (batches of 100 calls = 1,000 values)
    keys = [f"metric_{k}" for k in range(10)]
    run = tr.start_run(name="log_metrics10", capture=False)
    log_metrics = tr.log_metrics
    for w in range(100):
        log_metrics(dict.fromkeys(keys, float(w)), step=w)
    calls_per_batch = max(1, batch // 10)
    per = []
    step = 100
    wall0 = perf()
    for _ in range(nbatches):
        t0 = perf()
        for _ in range(calls_per_batch):
            v = step * 1e-3
            log_metrics({"metric_0": v, "metric_1": v, "metric_2": v, "metric_3": v,
                         "metric_4": v, "metric_5": v, "metric_6": v, "metric_7": v,
                         "metric_8": v, "metric_9": v}, step=step)
            step += 1
        per.append((perf() - t0) / (calls_per_batch * 10))
    loop_ns = perf() - wall0
    t0 = perf()
    tr.end_run()
    end_ns = perf() - t0
    values = nbatches * calls_per_batch * 10
    stats = _batch_stats(per)
    stats.update(values=values, end_run_ms=end_ns / 1e6,
                 amortised_us=(loop_ns + end_ns) / values / 1000)
    out["log_metrics10"] = stats
    del run
    return out


# The timed script for start+end: written into a fresh git repository and committed,
# so that it is the entry point that capture copies and describes.
START_END_SCRIPT = '''\
"""Timed start_run + end_run (written by benchmarks/bench_logging.py)."""
import json, os, sys, time
import argparse
p = argparse.ArgumentParser()
p.add_argument("--store"); p.add_argument("--runs", type=int); p.add_argument("--capture")
p.add_argument("--profile", default="")
p.add_argument("--api-key", default="")  # exercises argv redaction
a = p.parse_args()
for mod in ("numpy", "pandas"):  # a training script imports these before its first run
    try:
        __import__(mod)
    except ImportError:
        pass
t_import = time.perf_counter_ns()
import trackreport as tr
import_ms = (time.perf_counter_ns() - t_import) / 1e6
tr.set_store(a.store)
capture = a.capture == "1"
perf = time.perf_counter_ns
if a.profile:
    import cProfile
    prof = cProfile.Profile()
    prof.enable()
times = []
for i in range(a.runs):
    t0 = perf()
    run = tr.start_run(name=f"run-{i}", capture=capture)
    tr.end_run()
    times.append((perf() - t0) / 1e6)
if a.profile:
    prof.disable()
    prof.dump_stats(a.profile)
rec = tr.get_run(run.id)  # proof that capture happened (or did not)
ctx = rec.context or {}
print(json.dumps({"first_ms": times[0], "rest_ms": times[1:], "import_ms": import_ms,
                  "modules": len(sys.modules), "git_commit": rec.git_commit,
                  "git_branch": rec.git_branch, "git_dirty": (ctx.get("git") or {}).get("dirty"),
                  "packages": len(ctx.get("packages") or {}),
                  "source": any(x.path.startswith("source/") for x in rec.artifacts)}))
'''


def _make_git_repo(root: Path) -> Path:
    repo = root / "project"
    repo.mkdir()
    (repo / "train.py").write_text(START_END_SCRIPT, encoding="utf-8")
    (repo / "README.md").write_text("benchmark project\n", encoding="utf-8")
    env = dict(os.environ, GIT_AUTHOR_NAME="bench", GIT_AUTHOR_EMAIL="bench@example.com",
               GIT_COMMITTER_NAME="bench", GIT_COMMITTER_EMAIL="bench@example.com")
    for cmd in (["git", "init", "-q", "-b", "main"],
                ["git", "remote", "add", "origin", "https://bench:s3cr3t@example.com/p.git"],
                ["git", "add", "-A"],
                ["git", "commit", "-q", "-m", "initial"]):
        subprocess.run(cmd, cwd=repo, env=env, check=True, capture_output=True)
    (repo / "README.md").write_text("benchmark project (dirty)\n", encoding="utf-8")
    return repo


def measure_start_end(root: Path, capture: bool, cfg: dict[str, int], python: str,
                      profile: str = "") -> dict[str, Any]:
    repo = root / "project"
    if not repo.exists():
        _make_git_repo(root)
    store = root / ("store-capture" if capture else "store-nocapture")
    firsts: list[float] = []
    rest: list[float] = []
    info: dict[str, Any] = {}
    for k in range(cfg["runs_cold"]):
        runs = cfg["runs_warm"] + 1 if k == 0 else 1
        cmd = [python, "train.py", "--store", str(store), "--runs", str(runs),
               "--capture", "1" if capture else "0", "--api-key=s3cr3t"]
        if profile and k == 0:
            cmd += ["--profile", profile]
        res = _run_json(cmd, cwd=repo)
        firsts.append(res["first_ms"])
        rest.extend(res["rest_ms"])
        if k == 0:
            info = {key: res.get(key) for key in ("modules", "git_commit", "git_branch",
                                                  "git_dirty", "packages", "source", "stderr")}
    return {"first_median_ms": _median(firsts), "first_all_ms": firsts,
            "median_ms": _median(rest), "p90_ms": _pct(rest, 0.9), "n": len(rest),
            "processes": len(firsts), **info}


def worker_load(args: argparse.Namespace) -> dict[str, Any]:
    """Write runs x metrics x steps points with the library, then time load_metrics.

    ``--variant log_metric``: one ``log_metric`` call (one line) per value;
    ``log_metrics``: one ``log_metrics`` call (one line) per step with all keys.
    """
    import gc

    import trackreport as tr

    tr.set_store(args.store)
    keys = [f"metric_{k}" for k in range(args.metrics)]
    t0 = time.perf_counter()
    for r in range(args.runs):
        with tr.start_run(name=f"load-{r}", capture=False):
            if args.variant == "log_metrics":
                log_metrics = tr.log_metrics
                for s in range(args.steps):
                    v = s * 1e-4 + r
                    log_metrics(dict.fromkeys(keys, v), step=s)
            else:
                log_metric = tr.log_metric
                for s in range(args.steps):
                    v = s * 1e-4 + r
                    for key in keys:
                        log_metric(key, v, step=s)
    write_s = time.perf_counter() - t0
    import pandas  # noqa: F401  # not timed: a reader pays this once per process

    expected = args.runs * args.metrics * args.steps
    secs = []
    cpus = []
    rows = 0
    for _ in range(args.reps):
        c0 = time.process_time()
        t0 = time.perf_counter()
        df = tr.load_metrics(store=args.store)
        secs.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
        rows = len(df)
        del df
    # diagnostic: the same call with the cyclic garbage collector off
    gc.collect()
    gc.disable()
    try:
        t0 = time.perf_counter()
        df = tr.load_metrics(store=args.store)
        nogc_s = time.perf_counter() - t0
        del df
    finally:
        gc.enable()
    files = list(Path(args.store).rglob("*.jsonl"))
    size = sum(p.stat().st_size for p in files)
    lines = sum(p.read_bytes().count(b"\n") for p in files)
    med = _median(secs)
    return {"variant": args.variant, "points": rows, "expected": expected, "seconds": secs,
            "median_s": med, "points_per_s": rows / med if med else 0.0, "write_s": write_s,
            "bytes": size, "lines": lines, "nogc_s": nogc_s,
            "nogc_points_per_s": rows / nogc_s if nogc_s else 0.0, "cpu_seconds": cpus,
            "points_per_cpu_s": rows / _median(cpus) if cpus else 0.0}


def worker_mlflow(args: argparse.Namespace) -> dict[str, Any]:
    """MLflow's log_metric and log_batch (10 keys) against the store MLFLOW_TRACKING_URI names."""
    import logging
    import warnings

    warnings.simplefilter("ignore")
    logging.disable(logging.WARNING)
    t0 = time.perf_counter()
    import mlflow
    from mlflow.entities import Metric
    from mlflow.tracking import MlflowClient

    import_s = time.perf_counter() - t0
    perf = time.perf_counter_ns
    out: dict[str, Any] = {"version": mlflow.__version__, "import_s": import_s,
                           "uri": mlflow.get_tracking_uri()}
    t0 = time.perf_counter()
    run = mlflow.start_run(run_name="bench")
    out["first_start_run_s"] = time.perf_counter() - t0
    for w in range(5):  # warm-up
        mlflow.log_metric("warm", float(w), step=w)
    per = []
    for i in range(args.n):
        t0 = perf()
        mlflow.log_metric("loss", i * 1e-3, step=i)
        per.append(perf() - t0)
    out["log_metric"] = {"median_us": _median(per) / 1000, "p99_us": _pct(per, 0.99) / 1000,
                         "calls": len(per)}
    client = MlflowClient()
    run_id = run.info.run_id
    keys = [f"metric_{k}" for k in range(10)]
    per = []
    for i in range(args.batches):
        ts = int(time.time() * 1000)
        metrics = [Metric(k, i * 1e-3, ts, i) for k in keys]
        t0 = perf()
        client.log_batch(run_id, metrics=metrics)
        per.append((perf() - t0) / 10)
    out["log_batch10"] = {"median_us": _median(per) / 1000, "p99_us": _pct(per, 0.99) / 1000,
                          "calls": len(per)}
    per = []
    for i in range(args.batches):
        t0 = perf()
        mlflow.log_metrics(dict.fromkeys(keys, i * 1e-3), step=args.batches + i)
        per.append((perf() - t0) / 10)
    out["log_metrics10"] = {"median_us": _median(per) / 1000, "p99_us": _pct(per, 0.99) / 1000,
                            "calls": len(per)}
    mlflow.end_run()
    return out


# ------------------------------------------------------------------------------------------
# orchestration
def measure_import(n: int, python: str) -> dict[str, Any]:
    env = _child_env()
    # compile .pyc files first, so every timed import is a normal warm import
    subprocess.run([python, "-c", "import trackreport"], env=env, check=True)

    cpu: dict[str, list[float]] = {"pass": [], "import trackreport": []}

    def wall(code: str) -> float:
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN) if resource else None
        t0 = time.perf_counter()
        subprocess.run([python, "-c", code], env=env, check=True)
        dt = (time.perf_counter() - t0) * 1000
        if r0 is not None:
            r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu[code].append((r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime) * 1000)
        return dt

    bare, full = [], []
    for _ in range(n):
        bare.append(wall("pass"))
        full.append(wall("import trackreport"))
    diffs = [f - b for f, b in zip(full, bare, strict=True)]
    cpu_ms = (_median(cpu["import trackreport"]) - _median(cpu["pass"])) if resource else None
    # -X importtime: trackreport's own cumulative figure and its heaviest imports
    proc = subprocess.run([python, "-X", "importtime", "-c", "import trackreport"],
                          env=env, capture_output=True, text=True, check=True)
    rows = []
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        selfus, cum, name = line.split(":", 1)[1].split("|", 2)
        rows.append((int(selfus), int(cum), name.rstrip()))
    top_cum = next((c for _, c, nm in rows if nm.strip() == "trackreport"), 0)
    heavy = sorted(rows, key=lambda r: -r[0])[:8]
    code = ("import sys; b=set(sys.modules); import trackreport; "
            "s=getattr(sys,'stdlib_module_names',()); "
            "print(sorted({m.split('.')[0] for m in set(sys.modules)-b} - set(s) "
            "- {'trackreport'}))")
    third = subprocess.run([python, "-c", code], env=env, capture_output=True, text=True,
                           check=True).stdout.strip()
    return {"median_ms": _median(diffs), "bare_ms": _median(bare), "import_ms": _median(full),
            "cpu_ms": cpu_ms,
            "n": n, "importtime_ms": top_cum / 1000,
            "heaviest_self": [(nm.strip(), s / 1000) for s, _, nm in heavy],
            "third_party": third}


def measure_mlflow(mlflow_python: str, tmp: Path, cfg: dict[str, int]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for label, uri_of in (("sqlite", lambda d: f"sqlite:///{d}/mlflow.db"),
                          ("file", lambda d: f"file:{d}/mlruns")):
        d = tmp / f"mlflow-{label}"
        d.mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
        env.pop("PYTHONPATH", None)
        env["MLFLOW_TRACKING_URI"] = uri_of(d)
        if label == "file":  # MLflow 3.x refuses the file store unless told to allow it
            env["MLFLOW_ALLOW_FILE_STORE"] = "true"
        cmd = [mlflow_python, str(Path(__file__).resolve()), "--worker", "mlflow",
               "--n", str(cfg["mlflow_calls"]), "--batches", str(cfg["mlflow_batches"])]
        _say(f"MLflow {label} store: {env['MLFLOW_TRACKING_URI']}")
        try:
            out[label] = _run_json(cmd, cwd=d, env=env, timeout=600)
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            out[label] = {"error": str(exc).strip().splitlines()[-1][:300]}
    return out


def mlflow_available(python: str) -> str | None:
    """mlflow's version when ``python`` can import it, else None."""
    if not python or not Path(python).exists():
        return None
    proc = subprocess.run(
        [python, "-c", "import importlib.metadata as m; print(m.version('mlflow'))"],
        capture_output=True, text=True, check=False)
    return proc.stdout.strip() if proc.returncode == 0 else None


def machine_info(python: str) -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True, check=False).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--", "src"],
                           capture_output=True, text=True, check=False).stdout.strip()
    pyver = subprocess.run([python, "-c", "import sys; print(sys.version.split()[0])"],
                           capture_output=True, text=True, check=False).stdout.strip()
    return {"cpu": cpu, "cpus": os.cpu_count(), "os": platform.platform(),
            "python": pyver, "python_path": python,
            "trackreport_commit": commit + ("+dirty src" if dirty else ""),
            "load_before": os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan"),
            "date": time.strftime("%Y-%m-%d %H:%M:%S %Z")}


def run_all(opts: argparse.Namespace) -> dict[str, Any]:
    cfg = dict(QUICK if opts.quick else FULL)
    python = opts.python
    results: dict[str, Any] = {"mode": "quick" if opts.quick else "full", "config": cfg,
                               "machine": machine_info(python)}
    tmp = Path(tempfile.mkdtemp(prefix="trbench-", dir=opts.tmpdir))
    results["tmpdir"] = str(tmp)
    try:
        _say(f"log_metric / log_metrics loops ({cfg['log_calls']:,} calls)")
        results["log"] = _run_json(
            [python, str(Path(__file__).resolve()), "--worker", "log", "--store",
             str(tmp / "store-log"), "--n", str(cfg["log_calls"]), "--batch", str(cfg["batch"]),
             "--paced-s", str(cfg["paced_s"])])

        for capture in (True, False):
            label = "capture" if capture else "nocapture"
            _say(f"start_run + end_run, {label} ({cfg['runs_cold']} processes, "
                 f"{cfg['runs_warm']} runs in the first)")
            try:
                results[f"start_end_{label}"] = measure_start_end(tmp, capture, cfg, python)
            except RuntimeError as exc:
                results[f"start_end_{label}"] = {"error": str(exc).strip().splitlines()[-1]}

        _say(f"import trackreport ({cfg['imports']} fresh processes each)")
        results["import"] = measure_import(cfg["imports"], python)

        variants = ["log_metric"] if opts.quick else ["log_metric", "log_metrics", "one_metric"]
        names = {"log_metric": "load", "log_metrics": "load_wide", "one_metric": "load_single"}
        for variant in variants:
            _say(f"load_metrics on 1,000,000 points written by {variant} (writing them first)")
            metrics, steps = LOAD_SHAPE["metrics"], LOAD_SHAPE["steps"]
            if variant == "one_metric":  # one metric per step: truly one value per line
                metrics, steps = 1, LOAD_SHAPE["metrics"] * LOAD_SHAPE["steps"]
            results[names[variant]] = _run_json(
                [python, str(Path(__file__).resolve()), "--worker", "load", "--store",
                 str(tmp / f"store-load-{variant}"), "--runs", str(LOAD_SHAPE["runs"]),
                 "--metrics", str(metrics), "--steps", str(steps),
                 "--reps", str(cfg["load_reps"]),
                 "--variant", "log_metric" if variant == "one_metric" else variant],
                timeout=600)

        mlpy = opts.mlflow_python
        version = mlflow_available(mlpy) if not opts.no_mlflow else None
        if version:
            results["mlflow"] = measure_mlflow(mlpy, tmp, cfg)
        else:
            results["mlflow"] = {"skipped": "--no-mlflow" if opts.no_mlflow else
                                 f"mlflow not importable by {mlpy} (sh benchmarks/_mlflow_venv.sh)"}
        results["load_after"] = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        results["targets"] = evaluate(results)
        if opts.profile:
            results["profiles"] = profile_misses(results, tmp, cfg, python)
    finally:
        if not opts.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    return results


def evaluate(r: dict[str, Any]) -> list[dict[str, Any]]:
    """PASS / MISS / N/A per target of issue 2."""
    out = []

    def add(name: str, value: float | None, target: str, ok: bool | None, unit: str,
            note: str = "") -> None:
        out.append({"target": name, "value": value, "unit": unit, "goal": target,
                    "result": "N/A" if ok is None else ("PASS" if ok else "MISS"),
                    "note": note})

    lm = r["log"]["log_metric"]["median_us"]
    add("log_metric median", lm, f"<= {TARGET_LOG_US:g} us", lm <= TARGET_LOG_US, "us")
    ml = r.get("mlflow", {}).get("sqlite", {})
    if "log_metric" in ml:
        ratio = ml["log_metric"]["median_us"] / lm
        add("vs MLflow default store (SQLite)", ratio, f">= {TARGET_RATIO:,.0f}x",
            ratio >= TARGET_RATIO, "x")
    else:
        add("vs MLflow default store (SQLite)", None, f">= {TARGET_RATIO:,.0f}x", None, "x",
            ml.get("error") or r.get("mlflow", {}).get("skipped", "not measured"))
    imp = r["import"]["median_ms"]
    cpu = r["import"].get("cpu_ms")
    add("import trackreport over bare python", imp, f"<= {TARGET_IMPORT_MS:g} ms",
        imp <= TARGET_IMPORT_MS, "ms", f"CPU time: {cpu:.1f} ms" if cpu is not None else "")
    se = r.get("start_end_capture", {})
    if "median_ms" in se:
        add("start+end, full capture (median)", se["median_ms"],
            f"<= {TARGET_START_END_MS:g} ms", se["median_ms"] <= TARGET_START_END_MS, "ms")
        add("start+end, full capture (1st run)", se["first_median_ms"],
            f"<= {TARGET_START_END_MS:g} ms", se["first_median_ms"] <= TARGET_START_END_MS,
            "ms")
    else:
        add("start+end, full capture", None, f"<= {TARGET_START_END_MS:g} ms", None, "ms",
            se.get("error", "not measured"))
    pps = r["load"]["points_per_s"]
    add("load_metrics throughput", pps, f">= {TARGET_LOAD_PPS:,.0f} pts/s",
        pps >= TARGET_LOAD_PPS and r["load"]["points"] == r["load"]["expected"], "pts/s",
        f"per CPU second: {r['load']['points_per_cpu_s']:,.0f}")
    return out


# ------------------------------------------------------------------------------------------
# profiling of missed targets
def _pstats_text(path: str, limit: int = 15) -> str:
    """The top functions by own time and by cumulative time, as pstats prints them."""
    import io
    import pstats

    buf = io.StringIO()
    st = pstats.Stats(path, stream=buf)
    for key in ("tottime", "cumulative"):
        buf.write(f"-- sorted by {key}\n")
        st.sort_stats(key).print_stats(limit)
    keep = [ln for ln in buf.getvalue().splitlines()
            if ln.strip() and not ln.lstrip().startswith(("Ordered by", "List reduced"))]
    return "\n".join(keep)


def profile_misses(r: dict[str, Any], tmp: Path, cfg: dict[str, int],
                   python: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for t in r["targets"]:
        if t["result"] != "MISS":
            continue
        name = t["target"]
        prof = str(tmp / f"prof-{len(out)}.pstats")
        _say(f"profiling missed target: {name}")
        try:
            if name.startswith("start+end"):
                measure_start_end(tmp, True, {**cfg, "runs_cold": 1}, python, profile=prof)
            elif name.startswith("import"):
                script = tmp / "import_trackreport.py"
                script.write_text("import trackreport\n", encoding="utf-8")
                subprocess.run([python, "-m", "cProfile", "-o", prof, str(script)],
                               env=_child_env(), check=True)
            elif name.startswith("load_metrics"):
                subprocess.run(
                    [python, "-m", "cProfile", "-o", prof, str(Path(__file__).resolve()),
                     "--worker", "load", "--store", str(tmp / "store-prof"), "--runs", "2",
                     "--metrics", "5", "--steps", "20000", "--reps", "1"],
                    env=_child_env(), check=True, capture_output=True)
            elif name.startswith(("log_metric", "vs MLflow")):
                subprocess.run(
                    [python, "-m", "cProfile", "-o", prof, str(Path(__file__).resolve()),
                     "--worker", "log", "--store", str(tmp / "store-prof"), "--n", "50000",
                     "--batch", "1000"], env=_child_env(), check=True, capture_output=True)
            else:
                continue
            out[name] = _pstats_text(prof)
        except (subprocess.CalledProcessError, RuntimeError, OSError) as exc:
            out[name] = f"profiling failed: {exc}"
    return out


# ------------------------------------------------------------------------------------------
# output
def _fmt(x: float | None, unit: str) -> str:
    if x is None or x != x:
        return "n/a"
    if unit == "pts/s":
        return f"{x:,.0f} pts/s"
    if unit == "x":
        return f"{x:,.0f}x"
    if unit == "us":
        return f"{x:,.3f} us" if x < 10 else f"{x:,.1f} us"
    if unit == "ms":
        return f"{x:,.1f} ms"
    return f"{x} {unit}"


def render(r: dict[str, Any]) -> str:
    m = r["machine"]
    lines = [
        f"trackreport logging benchmark ({r['mode']}) - {m['date']}",
        f"machine: {m['cpu']}, {m['cpus']} CPUs, {m['os']}",
        f"python {m['python']} ({m['python_path']}), trackreport @ {m['trackreport_commit']}, "
        f"stores under {r['tmpdir']}",
        f"load average (1 min) before / after (the benchmark itself adds about 1): "
        f"{m['load_before']:.2f} / {r.get('load_after', float('nan')):.2f} on {m['cpus']} CPUs"
        + ("  -- a busy machine: figures are noisy"
           if m["load_before"] > 0.5 * (m["cpus"] or 1) else ""),
        "",
    ]

    def table(title: str, header: list[str], rows: list[list[str]],
              left: int = 1) -> None:
        """Columns before ``left`` are left-aligned, the others right-aligned."""
        widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(header)]

        def fmt_row(cells: list[str]) -> str:
            return "  " + "  ".join(c.ljust(w) if i < left else c.rjust(w)
                                    for i, (c, w) in enumerate(zip(cells, widths, strict=True)))

        lines.append(title)
        lines.append(fmt_row(header).rstrip())
        lines.append("  " + "  ".join("-" * w for w in widths))
        lines.extend(fmt_row(row).rstrip() for row in rows)
        lines.append("")

    lg = r["log"]
    rows = []
    for key, label in (("log_metric", "tr.log_metric(k, v, step=i)"),
                       ("log_metric_default_step", "tr.log_metric(k, v)  default step"),
                       ("log_metric_paced", "log_metric, 2 ms busy work per 1,000 calls"),
                       ("log_metrics10", "tr.log_metrics({10 keys}, step=i)  per value"),
                       ("loop_overhead", "(empty Python loop + no-op call)")):
        s = lg[key]
        rows.append([label, _fmt(s["median_us"], "us"), _fmt(s["p99_us"], "us"),
                     _fmt(s["max_us"], "us"),
                     _fmt(s["amortised_us"], "us") if "amortised_us" in s else "",
                     f"{s['values']:,}" if "values" in s else ""])
    table("1. logging, per value (batches of 1,000 values; buffered, flusher thread on)",
          ["call", "median", "p99", "max", "incl. flush", "values"], rows)

    rows = []
    for label, key in (("full capture (git repo, entry point, packages)", "start_end_capture"),
                       ("capture=False", "start_end_nocapture")):
        s = r.get(key, {})
        if "error" in s:
            rows.append([label, "error", "", "", s["error"][:60]])
            continue
        rows.append([label, _fmt(s["first_median_ms"], "ms"), _fmt(s["median_ms"], "ms"),
                     _fmt(s["p90_ms"], "ms"), f"{s['processes']} / {s['n']}"])
    table("2. start_run + end_run", ["", "1st run/process", "median", "p90",
                                     "processes / runs"], rows)
    cap = r.get("start_end_capture", {})
    if "error" not in cap:
        lines[-1:-1] = [
            f"  captured: git commit {str(cap.get('git_commit'))[:10]} on "
            f"{cap.get('git_branch')} (dirty={cap.get('git_dirty')}), "
            f"{cap.get('packages')} package versions, entry-point source copied: "
            f"{cap.get('source')};",
            f"  {cap.get('modules')} modules loaded (the script imports numpy and pandas "
            "first, as a training script does)"]
        if cap.get("stderr"):
            lines[-1:-1] = ["  stderr of the timed script: " + cap["stderr"].splitlines()[-1]]

    imp = r["import"]
    table("3. import trackreport", ["", "value"], [
        ["python -c 'import trackreport' minus python -c 'pass' (median)",
         _fmt(imp["median_ms"], "ms")],
        ["  bare interpreter / with import (medians)",
         f"{imp['bare_ms']:.1f} / {imp['import_ms']:.1f} ms"],
        ["  CPU time (user+sys) of the same, medians subtracted", _fmt(imp["cpu_ms"], "ms")],
        ["  -X importtime cumulative of trackreport", _fmt(imp["importtime_ms"], "ms")],
        ["  non-stdlib packages imported", imp["third_party"]],
        ["  heaviest modules (self time)",
         ", ".join(f"{n} {ms:.1f}" for n, ms in imp["heaviest_self"][:4]) + " ms"],
    ], left=2)

    loads = [(r["load"], "log_metric of 5 metrics per step (the writer puts one step's "
                         "values on one line)")]
    if "load_wide" in r:
        loads.append((r["load_wide"], "one log_metrics call per step: 5 values per line"))
    if "load_single" in r:
        loads.append((r["load_single"], "log_metric of 1 metric per step: 1 value per line"))
    rows = []
    for ld, label in loads:
        rows += [
            [label, ""],
            ["  points read", f"{ld['points']:,} (expected {ld['expected']:,})"],
            ["  seconds per load_metrics call",
             ", ".join(f"{x:.3f}" for x in ld["seconds"])],
            ["  throughput (median)", _fmt(ld["points_per_s"], "pts/s")],
            ["  per CPU second (process time, less sensitive to a busy machine)",
             _fmt(ld["points_per_cpu_s"], "pts/s")],
            ["  the same call with gc.disable() (diagnostic)",
             _fmt(ld["nogc_points_per_s"], "pts/s")],
            ["  store: size / lines / write time",
             f"{ld['bytes'] / 1e6:.1f} MB / {ld['lines']:,} lines / {ld['write_s']:.2f} s"],
        ]
    table("4. load_metrics (store of 10 runs x 5 metrics x 20,000 steps = 1,000,000 points)",
          ["", "value"], rows, left=2)

    ml = r.get("mlflow", {})
    if "skipped" in ml:
        lines += [f"5. MLflow comparison skipped: {ml['skipped']}", ""]
    else:
        rows = []
        errors = []
        tr_lm = lg["log_metric"]["median_us"]
        tr_lb = lg["log_metrics10"]["median_us"]
        for store in ("sqlite", "file"):
            s = ml.get(store, {})
            name = "default (SQLite)" if store == "sqlite" else "file store"
            if "error" in s:
                rows.append([f"{name}: (error, see below)", "n/a", "n/a", "n/a"])
                errors.append(f"  {name}: {s['error']}")
                continue
            for key, label, ours in (("log_metric", "mlflow.log_metric", tr_lm),
                                     ("log_batch10", "client.log_batch 10 keys/value", tr_lb),
                                     ("log_metrics10", "mlflow.log_metrics 10 keys/value",
                                      tr_lb)):
                v = s[key]["median_us"]
                rows.append([f"{name}: {label}", _fmt(v, "us"), _fmt(s[key]["p99_us"], "us"),
                             f"{v / ours:,.0f}x"])
        version = next((s["version"] for s in ml.values() if "version" in s), "?")
        imp_s = next((s["import_s"] for s in ml.values() if "import_s" in s), float("nan"))
        first = ml.get("sqlite", {}).get("first_start_run_s", float("nan"))
        table(f"5. MLflow {version} (import mlflow {imp_s:.2f} s; creating the SQLite store and "
              f"the first start_run {first:.2f} s), same machine, same run",
              ["", "median", "p99", "MLflow / trackreport"], rows)
        if errors:
            lines[-1:-1] = errors
        lines[-1:-1] = ["  ratios: mlflow.log_metric vs tr.log_metric; log_batch and "
                        "log_metrics vs tr.log_metrics, per value"]

    rows = [[t["target"], _fmt(t["value"], t["unit"]), t["goal"], t["result"],
             t["note"][:60]] for t in r["targets"]]
    table("targets (issue 2)", ["target", "measured", "goal", "result", "note"], rows)
    for name, text in r.get("profiles", {}).items():
        lines += [f"profile of missed target: {name}", textwrap.indent(text, "  "), ""]
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="fewer iterations (about 20 s)")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.add_argument("--python", default=sys.executable,
                   help="interpreter that runs trackreport (default: this one)")
    p.add_argument("--mlflow-python", default=str(DEFAULT_MLFLOW_PYTHON),
                   help="interpreter with mlflow installed (default: %(default)s)")
    p.add_argument("--no-mlflow", action="store_true", help="skip the MLflow comparison")
    p.add_argument("--tmpdir", default=None, help="where to create the temporary stores")
    p.add_argument("--keep", action="store_true", help="keep the temporary stores")
    p.add_argument("--profile", action="store_true", help="cProfile every missed target")
    p.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    # internal: worker modes
    p.add_argument("--worker", choices=["log", "load", "mlflow"], help=argparse.SUPPRESS)
    p.add_argument("--store", help=argparse.SUPPRESS)
    p.add_argument("--n", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--batch", type=int, default=1000, help=argparse.SUPPRESS)
    p.add_argument("--batches", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--runs", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--metrics", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--steps", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--reps", type=int, default=1, help=argparse.SUPPRESS)
    p.add_argument("--variant", default="log_metric", help=argparse.SUPPRESS)
    p.add_argument("--paced-s", type=float, default=1.6, help=argparse.SUPPRESS)
    opts = p.parse_args(argv)

    if opts.worker:
        worker = {"log": worker_log, "load": worker_load, "mlflow": worker_mlflow}[opts.worker]
        print(json.dumps(worker(opts)))
        return 0

    t0 = time.perf_counter()
    results = run_all(opts)
    results["elapsed_s"] = time.perf_counter() - t0
    if opts.json:
        print(json.dumps(results, indent=2))
    else:
        print(render(results))
        print(f"(benchmark took {results['elapsed_s']:.0f} s)")
    missed = any(t["result"] == "MISS" for t in results["targets"])
    return 1 if opts.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
