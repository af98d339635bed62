"""Large stores: ``trackreport build`` of 10,000 runs and of one 1,000,000-step run (issue 11).

    python benchmarks/bench_scale.py              # 10,000 runs x 5 metrics x 1,000 steps + 1M-step run
    python benchmarks/bench_scale.py --quick      # 1,000 runs x 200 steps + a 200,000-step run
    python benchmarks/bench_scale.py --keep DIR   # keep the stores and sites in DIR
    python benchmarks/bench_scale.py --check      # exit 1 when a target is missed

What it does:

1. Writes a store of ``--runs`` runs x 10 params x 5 metrics x ``--steps``
   steps (50 million points by default) straight to JSONL, in store format v1
   exactly as the writer produces it (one ``open`` line, ``run.start`` with a
   captured context, ``params``, one ``metrics`` line per step with the five
   values, ``run.end``), spread over 5 experiments. The values come from a
   pool of 16 learning curves per experiment (each line formatted with orjson
   once, then reused with each run's own times), which writes about a million
   lines a second; the build reads and folds every line all the same.
2. Writes a second store holding one run of ``--long-steps`` steps x 5
   metrics (1,000,000 by default), every line its own values.
3. Reads one run of each back with the library (so the generator cannot drift
   from the format unnoticed), then builds each store in a fresh process
   (``bench_build.run_build``: ``build_site`` in ``python -c``), and prints
   wall time, ``build_site()``'s own time, CPU time of the process and of
   the worker processes it forks, and peak resident memory: the build
   process's ``VmHWM`` and the largest worker's ``ru_maxrss``
   (``getrusage(RUSAGE_CHILDREN)`` in the build process), with their ratio to
   the targets. ``--repeat N`` builds the large store N times (each a fresh
   site and process) and reports the fastest, with every time.
4. Times a fixed piece of work before and after the builds, the machine's pace
   at the time: ``read_run`` of one run of the store, the median of 100 in a
   fresh process. This shared machine's pace varies by half from one hour to
   the next; the figure says which kind of hour a result comes from.

Targets (issue 11, "Speed and scale"): the 10,000-run store builds in at most
60 s with at most 2 GB peak; the 1,000,000-step run in at most 1 GB.
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import orjson

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_build as bb  # noqa: E402 - the shared helpers of the build benchmark

TARGET_SCALE_S = 60.0
TARGET_SCALE_RSS = 2_000_000_000
TARGET_LONG_RSS = 1_000_000_000

FULL = {"runs": 10_000, "steps": 1000, "long_steps": 1_000_000}
QUICK = {"runs": 1000, "steps": 200, "long_steps": 200_000}
POOL = 16  # learning curves per experiment, reused across its runs
_NL = orjson.OPT_APPEND_NEWLINE


def _value_fragments(rng: np.random.Generator, steps: int) -> list[str]:
    """The ``"values":{...}`` of each step of one learning curve, as the writer encodes them."""
    curves = bb._series(rng, np.arange(steps, dtype=np.int64), steps)
    keys = list(curves)
    columns = [curves[k].tolist() for k in keys]
    return [orjson.dumps(dict(zip(keys, row, strict=True))).decode()
            for row in zip(*columns, strict=True)]


def _metric_lines(t: float, fragments: list[str], step_s: float) -> str:
    start = t + 1.0
    return "".join([f'{{"type":"metrics","time":{start + step * step_s!r},"step":{step},'
                    f'"values":{values}}}\n' for step, values in enumerate(fragments)])


def _head(run_id: str, writer: str, t: float, i: int, experiment: str, name: str,
          rng: np.random.Generator) -> bytes:
    params = bb._params(i, rng)
    argv = ["train.py", "--lr", f"{params['lr']:.3g}", "--model", params["model"]]
    return b"".join(orjson.dumps(e, option=_NL) for e in [
        {"type": "open", "format": 1, "writer": writer, "time": t},
        {"type": "run.start", "time": t, "run_id": run_id, "experiment": experiment,
         "name": name, "parent_run_id": None, "context": bb._context(i, rng, argv)},
        {"type": "params", "time": t + 0.5, "params": params},
    ])


def _end(t: float, failed: bool) -> bytes:
    return orjson.dumps({"type": "run.end", "time": t, "status": "FAILED" if failed
                         else "FINISHED", "error": "RuntimeError: CUDA out of memory"
                         if failed else None}, option=_NL)


def _new_store(root: Path) -> None:
    (root / "runs").mkdir(parents=True)
    (root / "experiments").mkdir()
    (root / "trackreport-store.json").write_bytes(
        orjson.dumps({"format": "trackreport-store", "version": 1}, option=_NL))
    writer = "1-000000000000"
    events = [{"type": "open", "format": 1, "writer": writer, "time": bb.T0}]
    events += [{"type": "experiment", "time": bb.T0, "name": name, "description": text,
                "primary_metric": primary, "goal": goal}
               for name, primary, goal, text in bb.EXPERIMENTS]
    (root / "experiments" / f"events-{writer}.jsonl").write_bytes(
        b"".join(orjson.dumps(e, option=_NL) for e in events))


def make_scale_store(root: Path, runs: int, steps: int, seed: int = 11) -> dict[str, Any]:
    """``runs`` x 10 params x 5 metrics x ``steps``, JSONL written directly."""
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    _new_store(root)
    pools = [[_value_fragments(rng, steps) for _ in range(POOL)] for _ in bb.EXPERIMENTS]
    ids = []
    for i in range(runs):
        t = bb.T0 + i * 60.0
        run_id = bb._run_id(t, rng)
        writer = bb._writer(i, rng)
        which = i % len(bb.EXPERIMENTS)
        experiment = bb.EXPERIMENTS[which][0]
        fragments = pools[which][int(rng.integers(0, POOL))]
        folder = root / "runs" / run_id
        folder.mkdir()
        with open(folder / f"events-{writer}.jsonl", "wb") as fh:
            fh.write(_head(run_id, writer, t, i, experiment, f"{experiment}-{i:05d}", rng))
            fh.write(_metric_lines(t, fragments, bb.STEP_S).encode())
            fh.write(_end(t + 1.0 + steps * bb.STEP_S, i % 37 == 5))
        ids.append(run_id)
    return {"runs": runs, "points": runs * steps * len(bb.METRICS), "ids": ids,
            "bytes": bb.tree_size(root), "seconds": time.perf_counter() - started}


def make_long_store(root: Path, steps: int, seed: int = 12) -> dict[str, Any]:
    """One run of ``steps`` steps x 5 metrics, every line its own values."""
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    _new_store(root)
    t = bb.T0
    run_id = bb._run_id(t, rng)
    writer = bb._writer(0, rng)
    folder = root / "runs" / run_id
    folder.mkdir()
    step_s = 0.05
    with open(folder / f"events-{writer}.jsonl", "wb") as fh:
        fh.write(_head(run_id, writer, t, 0, bb.EXPERIMENTS[0][0], f"long-{steps}", rng))
        chunk = 100_000
        curves = bb._series(rng, np.arange(steps, dtype=np.int64), steps)
        keys = list(curves)
        for first in range(0, steps, chunk):
            stop = min(steps, first + chunk)
            columns = [curves[k][first:stop].tolist() for k in keys]
            fh.write("".join([
                f'{{"type":"metrics","time":{t + 1.0 + step * step_s!r},"step":{step},'
                f'"values":{orjson.dumps(dict(zip(keys, row, strict=True))).decode()}}}\n'
                for step, row in zip(range(first, stop), zip(*columns, strict=True),
                                     strict=True)]).encode())
        fh.write(_end(t + 1.0 + steps * step_s, False))
    return {"runs": 1, "points": steps * len(bb.METRICS), "ids": [run_id],
            "bytes": bb.tree_size(root), "seconds": time.perf_counter() - started}


def verify(root: Path, run_id: str, steps: int) -> None:
    """Read one run back with the library; exit when it does not read as written."""
    if str(bb.SRC) not in sys.path:
        sys.path.insert(0, str(bb.SRC))
    import trackreport as tr

    run = tr.get_run(run_id, store=str(root))
    found = {k: len(s.steps) for k, s in run.metrics.items()}
    if found != dict.fromkeys(bb.METRICS, steps) or len(run.params) != 10 \
            or run.problems.corrupt_lines or run.status not in ("FINISHED", "FAILED"):
        raise SystemExit(f"{run_id} does not read back as written: {found}, "
                         f"{len(run.params)} params, status {run.status}")


PACE_CODE = """
import statistics, sys, time
from trackreport.reader import read_run
from trackreport.store import Store
store, run_id = Store(sys.argv[1]), sys.argv[2]
for _ in range(10):
    read_run(store, run_id)
times = []
for _ in range(100):
    started = time.process_time()
    read_run(store, run_id)
    times.append(time.process_time() - started)
print(statistics.median(times) * 1000)
"""


def pace(store: Path, run_id: str) -> float:
    """Milliseconds of CPU to read one run, the median of 100 in a fresh process."""
    proc = subprocess.run([sys.executable, "-c", PACE_CODE, str(store), run_id],
                          env=bb.child_env(), capture_output=True, text=True, check=True)
    return float(proc.stdout.strip())


def _row(label: str, built: dict[str, Any], limit_s: float | None,
         limit_rss: float) -> list[str]:
    worker = built["workers_peak_kib"] * 1024
    peak = built["maxrss_bytes"]
    return [label, f"{built['wall_s']:.1f} s", f"{built['build_s']:.1f} s",
            f"{built['cpu_s']:.1f} + {built['workers_cpu_s']:.1f} s", bb.mb(peak),
            bb.mb(worker) if worker else "-",
            f"{built['build_s'] / limit_s:.2f}" if limit_s else "-",
            f"{max(peak, worker) / limit_rss:.2f}"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, help="runs of the large store (10000)")
    parser.add_argument("--steps", type=int, help="steps per run (1000)")
    parser.add_argument("--long-steps", type=int, help="steps of the single long run (1000000)")
    parser.add_argument("--quick", action="store_true", help="a scaled-down smoke check")
    parser.add_argument("--keep", metavar="DIR", type=Path, help="keep stores and sites in DIR")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--repeat", type=int, default=1, metavar="N",
                        help="build the large store N times, report the fastest (1)")
    args = parser.parse_args(argv)
    shape = dict(QUICK if args.quick else FULL)
    for key in shape:
        if getattr(args, key) is not None:
            shape[key] = getattr(args, key)
    if min(shape.values()) < 1 or args.repeat < 1:
        parser.error("--runs, --steps, --long-steps and --repeat must be at least 1")
    if args.keep:
        if args.keep.exists() and any(args.keep.iterdir()):
            parser.error(f"--keep {args.keep}: the folder is not empty")
        args.keep.mkdir(parents=True, exist_ok=True)
        work = args.keep.resolve()
    else:
        work = Path(tempfile.mkdtemp(prefix="trbench-scale-"))
    try:
        return _run(args, shape, work)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def _run(args: argparse.Namespace, shape: dict[str, int], work: Path) -> int:
    given = sys.argv[1:]
    print(f"trackreport scale benchmark - {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}")
    print(f"command: {shlex.join([sys.executable, os.path.relpath(__file__), *given])}")
    print(f"machine: {bb.cpu_name()}, {os.cpu_count()} CPUs, {platform.platform()}, "
          f"load {bb.load_average()}")
    print(f"trackreport @ {bb.git_revision()}, data under {work}")
    print()
    runs, steps, long_steps = shape["runs"], shape["steps"], shape["long_steps"]
    big, long_ = work / "store-runs", work / "store-long"
    made = make_scale_store(big, runs, steps)
    verify(big, made["ids"][-1], steps)
    made_long = make_long_store(long_, long_steps)
    verify(long_, made_long["ids"][0], long_steps)
    print("1. stores (JSONL written directly, store format v1; one run of each read back)")
    print(bb.table(["store", "runs", "points", "size", "written in"], [
        [f"{runs:,} runs x 5 metrics x {steps:,} steps", f"{runs:,}",
         f"{made['points']:,}", bb.mb(made["bytes"]), f"{made['seconds']:.0f} s"],
        [f"1 run x 5 metrics x {long_steps:,} steps", "1", f"{made_long['points']:,}",
         bb.mb(made_long["bytes"]), f"{made_long['seconds']:.0f} s"],
    ]))
    print()
    pace_before = pace(big, made["ids"][-1])
    tries = [bb.run_build(big, work / f"site-runs-{i}") for i in range(args.repeat)]
    built = min(tries, key=lambda b: b["build_s"])
    built_long = bb.run_build(long_, work / "site-long")
    pace_after = pace(big, made["ids"][-1])
    print("2. builds (fresh processes; CPU: build process + its workers; peak: VmHWM of the "
          "build process, ru_maxrss of its largest worker)")
    print(bb.table(["store", "wall", "build_site()", "CPU", "peak RSS", "largest worker",
                    "time/target", "peak/target"], [
        _row(f"{runs:,} runs", built, TARGET_SCALE_S, TARGET_SCALE_RSS),
        _row(f"1 run, {long_steps:,} steps", built_long, None, TARGET_LONG_RSS),
    ]))
    if len(tries) > 1:
        print(f"  {runs:,} runs, the fastest of {len(tries)} builds; every build_site(): "
              + ", ".join(f"{b['build_s']:.1f} s" for b in tries))
    print(f"  the machine's pace: reading one {steps:,}-step run took {pace_before:.2f} ms of "
          f"CPU before the builds, {pace_after:.2f} ms after (median of 100)")
    for label, result in (("runs", built), ("long", built_long)):
        if result["stderr"]:
            print(f"  build stderr ({label}):", result["stderr"][:1000])
    print()
    peak = max(built["maxrss_bytes"], built["workers_peak_kib"] * 1024)
    peak_long = max(built_long["maxrss_bytes"], built_long["workers_peak_kib"] * 1024)
    results = [
        (f"{runs:,} runs: build_site()", f"{built['build_s']:.1f} s",
         f"<= {TARGET_SCALE_S:.0f} s", built["build_s"] <= TARGET_SCALE_S),
        (f"{runs:,} runs: peak RSS (one process)", bb.mb(peak),
         f"<= {bb.mb(TARGET_SCALE_RSS)}", peak <= TARGET_SCALE_RSS),
        (f"{long_steps:,}-step run: peak RSS", bb.mb(peak_long),
         f"<= {bb.mb(TARGET_LONG_RSS)}", peak_long <= TARGET_LONG_RSS),
    ]
    scaled = "" if shape == FULL else " (scaled down; the targets are for the full sizes)"
    print(f"3. targets (issue 11, 'Speed and scale'){scaled}")
    print(bb.table(["target", "measured", "limit", "result"],
                   [[n, v, lim, bb.verdict(ok)] for n, v, lim, ok in results]))
    print(f"\nload average (1 min) at the end: {bb.load_average()} on {os.cpu_count()} CPUs")
    return 1 if args.check and not all(ok for *_, ok in results) else 0


if __name__ == "__main__":
    sys.exit(main())
