"""Would DuckDB fold a large store faster than the build's own reader? (issue 11)

    pip install duckdb                      # not a dependency of trackreport
    python benchmarks/bench_duckdb.py       # 1,000 runs x 5 metrics x 1,000 steps
    python benchmarks/bench_duckdb.py --runs 200

Issue 11 asks for DuckDB as an optional extra only if it measurably wins. What
the build needs of each run is its metrics as arrays (for the charts) and
their last, min, max and count, and the rest of the run (params, tags,
status, artifacts, ...) folded with the store format's rules (torn and
corrupt lines counted, wrong-typed fields skipped, renames, deleted tags).

What it does, on ``bench_scale.py``'s store shape (5 metrics per ``metrics``
line, as ``log_metrics`` writes them):

1. trackreport: ``read_run`` + ``series_arrays`` + the statistics, run by run,
   in this process: everything the build reads of a run.
2. DuckDB, schema detected: one query over every events file
   (``read_ndjson``, ``values`` as a MAP, the keys unknown beforehand as in a
   real store), per file and metric the steps and values as lists and
   min/max/count. 2 threads.
3. DuckDB, schema given by hand (the five metric names as a STRUCT: the best
   case, which a real store cannot know beforehand): the metric rows to
   numpy, split per file, plus ``read_run(metrics=False)`` for the rest of
   each run, which DuckDB cannot fold with the store's rules.

Prints CPU and wall time of each and their ratio to trackreport's.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_build as bb  # noqa: E402
import bench_scale as bs  # noqa: E402


def _timed(work: Any) -> tuple[float, float, Any]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def ours(store: Path, ids: list[str]) -> int:
    """Every run's metrics as arrays with their statistics, the build's way."""
    from trackreport.reader import read_run
    from trackreport.site.summaries import _stats, series_arrays
    from trackreport.store import Store

    opened = Store(store)
    series = 0
    for run_id in ids:
        for steps, values in series_arrays(read_run(opened, run_id)).values():
            _stats(steps, values)
            series += 1
    return series


def duckdb_detected(files: list[str]) -> int:
    import duckdb

    con = duckdb.connect()
    con.execute("SET threads=2")
    rows = """SELECT filename, step, "values" FROM read_ndjson(?, filename=true,
        columns={'type': 'VARCHAR', 'step': 'BIGINT', 'values': 'MAP(VARCHAR, DOUBLE)'})
        WHERE type = 'metrics'"""
    result = con.execute(f"""
        SELECT filename, k, list(step ORDER BY step), list(v ORDER BY step),
               min(v), max(v), count(*)
        FROM (SELECT filename, step, unnest(map_keys("values")) AS k,
                     unnest(map_values("values")) AS v FROM ({rows}))
        GROUP BY filename, k""", [files]).fetchall()  # noqa: S608 - constant text
    return len(result)


def duckdb_given(store: Path, ids: list[str], files: list[str]) -> int:
    import duckdb

    from trackreport.reader import read_run
    from trackreport.store import Store

    con = duckdb.connect()
    con.execute("SET threads=2")
    struct = ", ".join(f"{key} DOUBLE" for key in bb.METRICS)
    table = con.execute(f"""
        SELECT filename, step, "values".* FROM read_ndjson(?, filename=true,
            columns={{'type': 'VARCHAR', 'step': 'BIGINT', 'values': 'STRUCT({struct})'}})
        WHERE type = 'metrics' ORDER BY filename, step""",  # noqa: S608 - constant names
        [files]).fetchnumpy()
    names = np.asarray(table["filename"])
    starts = np.flatnonzero(np.r_[True, names[1:] != names[:-1]])
    bounds = list(zip(starts.tolist(), [*starts[1:].tolist(), names.size], strict=True))
    series = 0
    for low, high in bounds:
        for key in bb.METRICS:
            values = np.asarray(table[key][low:high], dtype=np.float64)
            finite = values[~np.isnan(values)]
            (float(values[-1]), float(finite.min()), float(finite.max()), values.size)
            series += 1
    opened = Store(store)
    for run_id in ids:  # the rest of each run, with the store format's rules
        read_run(opened, run_id, metrics=False)
    return series


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=1000)
    args = parser.parse_args(argv)
    try:
        import duckdb
    except ImportError:
        print("DuckDB is not installed: pip install duckdb", file=sys.stderr)
        return 2
    print(f"trackreport vs DuckDB {duckdb.__version__}: {args.runs:,} runs x 5 metrics x "
          f"{args.steps:,} steps; machine: {bb.cpu_name()}, load {bb.load_average()}")
    with tempfile.TemporaryDirectory(prefix="trbench-duckdb-") as work:
        store = Path(work) / "store"
        made = bs.make_scale_store(store, args.runs, args.steps)
        ids = made["ids"]
        files = sorted(str(p) for p in store.glob("runs/*/events-*.jsonl"))
        ours(store, ids[:20])  # imports and caches warm
        rows = []
        wall, cpu, count = _timed(lambda: ours(store, ids))
        base = cpu
        rows.append(["trackreport read_run (1 process)", f"{wall:.2f} s", f"{cpu:.2f} s",
                     "1.00", f"{count:,}"])
        for label, work_ in (
                ("DuckDB, schema detected (2 threads)", lambda: duckdb_detected(files)),
                ("DuckDB, schema given + read_run for the rest",
                 lambda: duckdb_given(store, ids, files))):
            wall, cpu, count = _timed(work_)
            rows.append([label, f"{wall:.2f} s", f"{cpu:.2f} s", f"{cpu / base:.2f}",
                         f"{count:,}"])
        print(bb.table(["how", "wall", "CPU", "CPU / trackreport", "series"], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
