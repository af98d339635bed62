"""A store on S3 (a moto server on 127.0.0.1) against the same store on local disk.

    python benchmarks/bench_s3.py            # 200 runs x 3 metrics x 300 steps
    python benchmarks/bench_s3.py --runs 50  # quicker
    python benchmarks/bench_s3.py --scale --runs 10000 --steps 1000 --hour-flushes 0
                                             # bench_scale.py's 10,000-run store on S3

What it does:

1. Writes a store on local disk with the library (``--runs`` runs, each a
   child-free loop of log_metric calls) and copies its objects to a fresh
   bucket on a moto S3 server started as its own process (so the server does
   not share this process's GIL with the build).
2. Builds the site from local disk (clean build), then from S3 twice (clean
   builds): with a cold reader cache (every object fetched) and with a warm
   one (``$TRACKREPORT_CACHE``: listings only). Prints the times and the
   warm-S3 / local ratio (target: at most 2x).
3. Logs one more run to the S3 store through the library (segments, then one
   compacted object at close) and builds again: counts the objects fetched
   (target: only that run's objects) and the listings sent.
4. One hour of a 1 s-flush run (``--hour-flushes``, default 3,600; 0 skips
   it): a child process logs ``--hour-steps`` steps of 4 metrics between
   explicit flushes, each flush one segment, and is then killed (SIGKILL: no
   compaction at close, the segments stay). Times a clean build of that store
   with a cold and a warm reader cache, ``trackreport compact``, and the builds
   after it; prints the objects, requests and fetches of each.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_port(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the moto server did not start")


def _log_runs(store: str, runs: int, steps: int, first: int = 0) -> None:
    import trackreport as tr

    tr.set_store(store)
    tr.set_experiment("bench-s3", primary_metric="val_acc", goal="max")
    for r in range(first, first + runs):
        with tr.start_run(name=f"run-{r}"):
            tr.log_params({"lr": 0.01 * (r + 1), "depth": r % 7})
            for step in range(steps):
                tr.log_metrics({"val_acc": step / steps, "loss": 1 / (step + 1),
                                "lr": 0.01}, step=step)


def _upload(local: Path, bucket: str, endpoint: str) -> int:
    from concurrent.futures import ThreadPoolExecutor

    import boto3

    client = boto3.client("s3", endpoint_url=endpoint)
    files = [path for path in sorted(local.rglob("*")) if path.is_file()]

    def put(path: Path) -> None:
        client.put_object(Bucket=bucket, Key=f"store/{path.relative_to(local).as_posix()}",
                          Body=path.read_bytes())

    with ThreadPoolExecutor(8) as pool:  # boto3 clients are thread-safe
        list(pool.map(put, files))
    return len(files)


def _build(store: object, out: Path) -> float:
    from trackreport.site.build import build_site

    start = time.perf_counter()
    build_site(store, out, clean=True)  # type: ignore[arg-type]
    return time.perf_counter() - start


_HOUR_WRITER = """
import os, signal, sys, trackreport as tr
tr.set_store(sys.argv[1])
tr.set_experiment("bench-hour", primary_metric="val_acc", goal="max")
flushes, steps = int(sys.argv[2]), int(sys.argv[3])
run = tr.start_run(name="one-hour")
tr.log_params({"lr": 0.01, "batch_size": 64})
step = 0
for _ in range(flushes):
    for _ in range(steps):
        tr.log_metrics({"loss": 1 / (step + 1), "val_acc": step / (flushes * steps),
                        "lr": 0.01, "grad_norm": 1.0 + step % 7}, step=step)
        step += 1
    run.flush()  # one segment, as the timer uploads one a second at TRACKREPORT_FLUSH_SECONDS=1
print(run.id, flush=True)
os.kill(os.getpid(), signal.SIGKILL)  # a killed writer: no compaction at close
"""


def _counts(store: object) -> str:
    storage = store.storage  # type: ignore[attr-defined]
    return f"{storage.fetched} objects fetched, {storage.requests} requests"


def _hour(args: argparse.Namespace, work: Path) -> None:
    """Section 4: a run that flushed every second for an hour, before and after compaction."""
    import boto3

    from trackreport.store import Store

    endpoint = os.environ["AWS_ENDPOINT_URL"]
    boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket="bench-hour")
    url = "s3://bench-hour/store"
    env = {**os.environ, "TRACKREPORT_FLUSH_SECONDS": "3600"}  # only the explicit flushes
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _HOUR_WRITER, url, str(args.hour_flushes),
                           str(args.hour_steps)], env=env, capture_output=True, text=True)
    t_log = time.perf_counter() - t0
    if proc.returncode != -signal.SIGKILL:
        raise SystemExit(f"the writer failed: {proc.stderr}")
    run_id = proc.stdout.split()[0]

    def objects() -> int:
        return len(Store(url).storage.list_files(Store.run_dir(run_id)))

    print(f"\none hour of 1 s flushes: {args.hour_flushes} flushes x {args.hour_steps} steps "
          f"x 4 metrics, writer killed; {objects()} objects in the run "
          f"({t_log:.1f} s to log)")

    def builds(label: str) -> None:
        cache = work / f"cache-hour-{label}"
        os.environ["TRACKREPORT_CACHE"] = str(cache)
        for kind in ("cold", "warm"):
            store = Store(url)
            took = _build(store, work / "site-hour")
            print(f"build {label} compaction, {kind} cache: {took:6.2f} s  ({_counts(store)})")

    local = work / "hour-warm-up"
    _log_runs(str(local), 1, 10)
    _build(Store(local), work / "hour-warm-up-site")  # imports, the chart bundle: not timed
    builds("before")
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "trackreport", "compact", "--store", url],
                         env=os.environ, capture_output=True, text=True, check=True)
    t_compact = time.perf_counter() - t0
    print(f"trackreport compact:               {t_compact:6.2f} s  ({out.stdout.strip()} "
          f"{objects()} object(s) left in the run)")
    builds("after")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200,
                        help="runs of sections 1-3 (0 skips them)")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--hour-flushes", type=int, default=3600,
                        help="flushes of the one-hour run of section 4 (0 skips it)")
    parser.add_argument("--hour-steps", type=int, default=10,
                        help="steps of 4 metrics logged between two flushes")
    parser.add_argument("--scale", action="store_true",
                        help="sections 1-3 on the store of bench_scale.py (--runs runs x 10 "
                             "params x 5 metrics x --steps steps, JSONL written directly)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-s3-"))
    port = _free_port()
    endpoint = f"http://127.0.0.1:{port}"
    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench",  # noqa: S106
                      AWS_DEFAULT_REGION="us-east-1", AWS_ENDPOINT_URL=endpoint,
                      TRACKREPORT_CAPTURE="0", TRACKREPORT_CACHE=str(work / "cache"))
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1",
                               "-p", str(port)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        _wait_port(port)
        if args.runs:
            _sections_1_to_3(args, work, endpoint)
        if args.hour_flushes:
            _hour(args, work)
    finally:
        server.terminate()
        server.wait(timeout=30)


def _sections_1_to_3(args: argparse.Namespace, work: Path, endpoint: str) -> None:
    """A store of many runs: local disk against S3 with a cold and a warm cache."""
    import boto3

    boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket="bench-s3")
    local = work / "local"
    t0 = time.perf_counter()
    if args.scale:
        sys.path.insert(0, str(Path(__file__).parent))
        import bench_scale

        bench_scale.make_scale_store(local, args.runs, args.steps)
    else:
        _log_runs(str(local), args.runs, args.steps)
    objects = _upload(local, "bench-s3", endpoint)
    print(f"store: {args.runs} runs x {5 if args.scale else 3} metrics x {args.steps} steps, "
          f"{objects} objects ({time.perf_counter() - t0:.1f} s to make and upload)")

    from trackreport.objectstore import ObjectStorage
    from trackreport.store import Store

    url = "s3://bench-s3/store"
    _build(Store(local), work / "warm-up")  # imports, the chart bundle: not timed
    t_local = _build(Store(local), work / "site-local")
    cold = Store(url)
    t_cold = _build(cold, work / "site-s3")
    warm = Store(url)
    t_warm = _build(warm, work / "site-s3")
    assert isinstance(cold.storage, ObjectStorage) and isinstance(warm.storage, ObjectStorage)
    print(f"build, local disk:          {t_local:6.2f} s")
    print(f"build, S3, cold cache:      {t_cold:6.2f} s  ({cold.storage.fetched} objects "
          f"fetched, {cold.storage.requests} requests)")
    print(f"build, S3, warm cache:      {t_warm:6.2f} s  ({warm.storage.fetched} objects "
          f"fetched, {warm.storage.requests} requests)")
    print(f"warm S3 / local:            {t_warm / t_local:6.2f}x  (target <= 2x)")

    env = {**os.environ, "TRACKREPORT_FLUSH_SECONDS": "0.2"}
    code = (f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); "
            f"import bench_s3; bench_s3._log_runs({url!r}, 1, {args.steps}, "
            f"first={args.runs})")
    subprocess.run([sys.executable, "-c", code], env=env, check=True)
    again = Store(url)
    t_again = _build(again, work / "site-s3")
    assert isinstance(again.storage, ObjectStorage)
    new_objects = len(again.storage.list_event_files(again.run_dir(again.run_ids()[-1])))
    print(f"build after one new run:    {t_again:6.2f} s  ({again.storage.fetched} objects "
          f"fetched; the new run has {new_objects}; {again.storage.requests} requests)")


if __name__ == "__main__":
    main()
