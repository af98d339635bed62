"""Incremental builds: the cache in <out>/.trackreport-cache/ gives the same bytes as a clean build.

Each step changes the store from another process (a real writer), then builds
the same output folder again (incremental) and a new folder with ``clean=True``;
the two sites must be identical, file for file.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from site_fixtures import site_files
from trackreport.site import build as build_mod
from trackreport.site.build import build_site
from trackreport.site.cache import CACHE_DIR

SRC = str(Path(__file__).resolve().parent.parent / "src")


def log(store: Path, code: str) -> str:
    """Run ``code`` in a fresh interpreter with ``tr`` imported and the store set; its stdout."""
    script = "import trackreport as tr\ntr.set_store(STORE)\n" + textwrap.dedent(code)
    env = {**os.environ, "PYTHONPATH": SRC, "TRACKREPORT_CAPTURE": "0"}
    proc = subprocess.run([sys.executable, "-c", f"STORE = {str(store)!r}\n" + script],
                          capture_output=True, text=True, env=env, check=False)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


@pytest.fixture
def store(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    root = tmp_path / "store"
    (tmp_path / "weights.txt").write_text("w=1\n")
    out = log(root, f"""
        tr.set_experiment("alpha", primary_metric="acc", goal="max", description="First")
        ids = []
        with tr.start_run(name="parent") as p:
            tr.log_param("lr", 0.1)
            for s in range(5):
                tr.log_metric("acc", 0.5 + s / 20, step=s)
            with tr.start_run(name="child", nested=True) as c:
                tr.log_metric("acc", 0.7)
            tr.log_artifact({str(tmp_path / "weights.txt")!r}, artifact_path="model")
        tr.set_experiment("beta")
        with tr.start_run(name="other", tags={{"baseline": "true"}}) as o:
            tr.log_metric("loss", 1.0, step=0)
            tr.log_metric("loss", 0.5, step=1)
            tr.log_model({{"weights": [1, 2]}}, "model")
        mv = tr.register_model(f"runs:/{{o.id}}/model", "scorer")
        print(p.id, c.id, o.id)
    """)
    parent, child, other = out.split()
    return root, {"parent": parent, "child": child, "other": other}


def assert_same_as_clean(store: Path, out: Path, tmp_path: Path) -> None:
    """The site at ``out`` is byte for byte a clean build of ``store``."""
    assert site_files(out) == site_files(build_site(store, tmp_path / "c", clean=True)
                                         .index_path.parent)


def assert_incremental_equals_clean(store: Path, tmp_path: Path, label: str) -> None:
    inc = tmp_path / "inc"
    build_site(store, inc)
    clean = tmp_path / f"clean-{label}"
    build_site(store, clean, clean=True)
    got, want = site_files(inc), site_files(clean)
    assert sorted(got) == sorted(want), (label, sorted(set(got) ^ set(want))[:5])
    differing = [name for name in want if want[name] != got[name]]
    assert differing == [], (label, differing[:5])
    assert (inc / CACHE_DIR / "cache.json").is_file()
    shutil.rmtree(clean)


def test_incremental_equals_clean_through_every_kind_of_change(
        store: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    root, ids = store
    build_site(root, tmp_path / "inc")
    assert_incremental_equals_clean(root, tmp_path, "unchanged")
    log(root, f"""
        with tr.start_run(run_id={ids['parent']!r}):
            tr.log_metric("acc", 0.99, step=9)
    """)
    assert_incremental_equals_clean(root, tmp_path, "append")
    log(root, """
        tr.set_experiment("alpha")
        with tr.start_run(name="new-run"):
            tr.log_metric("acc", 0.6, step=0)
            tr.log_metric("acc", 0.8, step=1)
    """)
    assert_incremental_equals_clean(root, tmp_path, "new run")
    (tmp_path / "notes.md").write_text("# results\n")
    log(root, f"""
        with tr.start_run(run_id={ids['other']!r}):
            tr.log_artifact({str(tmp_path / "notes.md")!r})
    """)
    assert_incremental_equals_clean(root, tmp_path, "new artifact")
    log(root, f"""
        import numpy as np
        with tr.start_run(run_id={ids['parent']!r}):
            tr.log_image(np.zeros((4, 4)), key="samples", step=0)
            tr.log_image(np.ones((4, 4)), key="samples", step=1)
    """)
    assert_incremental_equals_clean(root, tmp_path, "new images")
    shutil.rmtree(root / "runs" / ids["child"])
    assert_incremental_equals_clean(root, tmp_path, "removed run")
    log(root, 'tr.set_experiment("beta", description="Now described", primary_metric="loss")')
    assert_incremental_equals_clean(root, tmp_path, "experiment setting")
    log(root, 'tr.set_model_alias("scorer", "champion", 1)')
    assert_incremental_equals_clean(root, tmp_path, "registry")


def test_only_changed_runs_are_read_again(store: tuple[Path, dict[str, str]], tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    root, ids = store
    out = tmp_path / "site"
    build_site(root, out)
    log(root, """
        tr.set_experiment("beta")
        with tr.start_run(name="newest") as r:
            tr.log_metric("loss", 0.25)
        print(r.id)
    """)
    read: list[str] = []
    real = build_mod.read_run

    def counting(store_: object, run_id: str) -> object:
        read.append(run_id)
        return real(store_, run_id)

    monkeypatch.setattr(build_mod, "read_run", counting)
    before = {p: os.stat(out / p).st_ino for p in site_files(out)}
    build_site(root, out)
    assert len(read) == 1 and read[0] not in ids.values()
    after = {p: os.stat(out / p).st_ino for p in site_files(out)}
    rewritten = sorted(p for p in after if before.get(p) != after[p])
    # the new run's folder, its experiment, the index, compare, models and data: nothing else
    assert not [p for p in rewritten if p.startswith(("runs/" + ids["parent"],
                                                      "runs/" + ids["other"], "assets/"))]
    assert not [p for p in rewritten if p.startswith("experiments/alpha")], rewritten
    assert "index.html" in rewritten and "data/runs.csv" in rewritten
    read.clear()
    build_site(root, out, clean=True)
    # every run once; the run that lists a child once more, to write its page with it
    assert len(read) == 5 and len(set(read)) == 4 and read.count(ids["parent"]) == 2, read


def test_cli_clean_flag_and_a_corrupt_cache(store: tuple[Path, dict[str, str]],
                                            tmp_path: Path) -> None:
    root, _ = store
    out = tmp_path / "site"
    env = {**os.environ, "PYTHONPATH": SRC}
    for extra in ([], ["--clean"]):
        proc = subprocess.run([sys.executable, "-m", "trackreport", "build", "--store", str(root),
                               "--out", str(out), *extra], capture_output=True, text=True,
                              env=env, check=False)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.startswith("Built 2 experiments, 3 runs")
    (out / CACHE_DIR / "cache.json").write_text("{not json")
    (out / CACHE_DIR / "values.bin").write_bytes(b"\x00")
    build_site(root, out)
    assert_same_as_clean(root, out, tmp_path)


def _cli_build(store: Path, out: Path, workers: str, *extra: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": SRC, "TRACKREPORT_BUILD_WORKERS": workers}
    return subprocess.run([sys.executable, "-m", "trackreport", "build", "--store", str(store),
                           "--out", str(out), *extra], capture_output=True, text=True, env=env,
                          check=False)


def test_build_workers_write_the_same_bytes(store: tuple[Path, dict[str, str]],
                                            tmp_path: Path) -> None:
    root, ids = store
    (tmp_path / "plot.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>')
    log(root, f"""
        tr.set_experiment("alpha")
        for i in range(12):
            with tr.start_run(name=f"sweep-{{i}}", tags={{"i": str(i)}}):
                tr.log_params({{"seed": i}})
                for s in range(30):
                    tr.log_metric("acc", (s * i % 17) / 17, step=s)
                if i == 3:
                    tr.log_artifact({str(tmp_path / "plot.svg")!r})
                    tr.note("**bold** <b>not html</b>")
        with tr.start_run(run_id={ids['parent']!r}):  # a parent read again, children listed
            tr.log_metric("acc", 0.9, step=20)
    """)
    sites = {}
    for workers in ("0", "2"):
        out = tmp_path / f"site-{workers}"
        proc = _cli_build(root, out, workers)
        assert proc.returncode == 0, proc.stderr
        sites[workers] = site_files(out)
    assert sorted(sites["0"]) == sorted(sites["2"])
    assert [p for p in sites["0"] if sites["0"][p] != sites["2"][p]] == []
    # incremental with workers: one new run, the rest from the cache
    log(root, """
        tr.set_experiment("beta")
        with tr.start_run(name="late"):
            tr.log_metric("loss", 0.1, step=0)
    """)
    assert _cli_build(root, tmp_path / "site-2", "2").returncode == 0
    assert _cli_build(root, tmp_path / "clean", "0", "--clean").returncode == 0
    got, want = site_files(tmp_path / "site-2"), site_files(tmp_path / "clean")
    assert sorted(got) == sorted(want)
    assert [p for p in want if want[p] != got[p]] == []


@pytest.mark.parametrize("how", ["raises", "dies"])
def test_what_a_build_worker_fails_to_make_the_builder_makes(
        how: str, store: tuple[Path, dict[str, str]], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker fails on one run and on one experiment page (after writing their files,
    when it dies): the build makes those, and every run a dead pool did not give back,
    itself, and the site is the same bytes as a clean build's."""
    root, ids = store
    log(root, """
        tr.set_experiment("alpha")
        for i in range(6):
            with tr.start_run(name=f"more-{i}"):
                tr.log_metric("acc", i / 10, step=0)
    """)
    clean = tmp_path / "clean"
    build_site(root, clean)
    real_run, real_experiment = (build_mod._Builder._prefetch_one,
                                 build_mod._Builder._experiment_files)
    parent_pid = os.getpid()

    def fails_in_a_worker(make: Any, chosen: bool) -> Any:
        in_worker = chosen and os.getpid() != parent_pid
        if in_worker and how == "raises":
            raise OSError("worker lost its disk")
        made = make()
        if in_worker:
            os._exit(9)  # its files are written, its result never comes back
        return made

    def run_fails_in_a_worker(self: object, run_id: str) -> object:
        return fails_in_a_worker(lambda: real_run(self, run_id), run_id == ids["other"])

    def experiment_fails_in_a_worker(self: object, name: str, write: object = None) -> object:
        return fails_in_a_worker(lambda: real_experiment(self, name, write), name == "alpha")

    monkeypatch.setattr(build_mod._Builder, "_prefetch_one", run_fails_in_a_worker)
    monkeypatch.setattr(build_mod._Builder, "_experiment_files", experiment_fails_in_a_worker)
    monkeypatch.setenv("TRACKREPORT_BUILD_WORKERS", "2")
    out = tmp_path / "site"
    build_site(root, out)
    got, want = site_files(out), site_files(clean)
    assert sorted(got) == sorted(want)
    assert [p for p in want if want[p] != got[p]] == []


def test_a_deleted_parent_run_is_dropped_from_its_child_as_in_a_clean_build(
        store: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    root, ids = store
    out = tmp_path / "site"
    build_site(root, out)
    shutil.rmtree(root / "runs" / ids["parent"])
    build_site(root, out)
    assert_same_as_clean(root, out, tmp_path)
    rows = (out / "data" / "runs.csv").read_text()
    assert ids["parent"] not in rows


@pytest.mark.parametrize("workers", ["0", "2"])
def test_a_run_deleted_while_the_build_reads_is_left_out(
        store: tuple[Path, dict[str, str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        workers: str) -> None:
    root, ids = store
    real = build_mod.read_run

    def deleting(store_: object, run_id: str) -> object:
        if run_id == ids["parent"]:  # deleted between the listing and its read
            shutil.rmtree(root / "runs" / run_id, ignore_errors=True)
        return real(store_, run_id)

    monkeypatch.setattr(build_mod, "read_run", deleting)
    monkeypatch.setenv("TRACKREPORT_BUILD_WORKERS", workers)
    out = tmp_path / "site"
    result = build_site(root, out)
    assert result.runs == 2
    assert not (out / "runs" / ids["parent"]).exists()
    child = (out / "runs" / ids["child"] / "index.html").read_text()
    assert f'runs/{ids["parent"]}/index.html' not in child
    monkeypatch.undo()
    build_site(root, out)  # the child, read before or after its parent went, is read again
    assert_same_as_clean(root, out, tmp_path)


@pytest.mark.parametrize("workers", ["0", "2"])
def test_runs_naming_each_other_or_themselves_as_parent(
        store: tuple[Path, dict[str, str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        workers: str) -> None:
    import orjson

    root, _ = store
    a, b, c = "20300101T000000Z-0000000a", "20300101T000000Z-0000000b", "20300101T000001Z-0000000c"
    for run_id, parent in ((a, b), (b, a), (c, c)):  # a cycle, and a run its own parent
        folder = root / "runs" / run_id
        folder.mkdir(parents=True)
        lines = [{"type": "open", "format": 1, "writer": "w1", "time": 1.9e9},
                 {"type": "run.start", "time": 1.9e9, "run_id": run_id, "experiment": "loop",
                  "name": f"run {run_id[-1]}", "parent_run_id": parent, "context": {}},
                 {"type": "metrics", "time": 1.9e9 + 1, "step": 0, "values": {"acc": 0.5}}]
        (folder / "events-w1.jsonl").write_bytes(b"".join(orjson.dumps(e) + b"\n"
                                                         for e in lines))
    monkeypatch.setenv("TRACKREPORT_BUILD_WORKERS", workers)
    out = tmp_path / "site"
    assert build_site(root, out).runs == 6
    page_a = (out / "runs" / a / "index.html").read_text()
    assert f"../{b}/index.html" in page_a  # each lists the other, as parent and as child
    with (root / "runs" / a / "events-w1.jsonl").open("ab") as fh:
        fh.write(orjson.dumps({"type": "metrics", "time": 1.9e9 + 2, "step": 1,
                               "values": {"acc": 0.75}}) + b"\n")
    build_site(root, out)
    assert_same_as_clean(root, out, tmp_path)


def test_bad_build_workers_setting_is_one_line(store: tuple[Path, dict[str, str]],
                                               tmp_path: Path) -> None:
    root, _ = store
    proc = _cli_build(root, tmp_path / "site", "many")
    assert proc.returncode != 0
    assert proc.stderr.strip().count("\n") == 0
    assert "TRACKREPORT_BUILD_WORKERS" in proc.stderr and "'many'" in proc.stderr
    assert not (tmp_path / "site").exists()


# an incremental build writes only what changed into the previous site -------------------


def test_unchanged_files_stay_in_place_and_foreign_ones_go(
        store: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    root, ids = store
    out = tmp_path / "site"
    build_site(root, out)
    page = next((out / "runs").glob(f"{ids['parent']}*/index.html"))  # in alpha
    before = os.stat(page)
    (out / "stray.html").write_text("not ours")
    (out / "runs" / "gone").mkdir()
    (out / "runs" / "gone" / "index.html").write_text("old")
    outside = tmp_path / "outside"
    outside.mkdir()
    # a link where the build writes (the experiment folder it rewrites after a new run)
    log(root, 'tr.set_experiment("beta", description="Described")')
    beta = next((out / "experiments").glob("beta*"))
    shutil.rmtree(beta)
    beta.symlink_to(outside, target_is_directory=True)
    build_site(root, out)
    after = os.stat(page)
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert not (out / "stray.html").exists() and not (out / "runs" / "gone").exists()
    assert list(outside.iterdir()) == []  # nothing written through the link
    assert not beta.is_symlink() and (beta / "index.html").is_file()
    assert_same_as_clean(root, out, tmp_path)


def test_a_failure_while_files_are_put_in_place_means_a_full_build_next(
        store: tuple[Path, dict[str, str]], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from trackreport.errors import BuildError
    from trackreport.site import output

    root, ids = store
    out = tmp_path / "site"
    build_site(root, out)
    log(root, f"""
        with tr.start_run(run_id={ids['parent']!r}):
            tr.log_metric("acc", 0.99, step=9)
    """)
    calls = []
    real = os.replace

    def failing(src: object, dst: object) -> None:
        calls.append(dst)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        real(src, dst)

    monkeypatch.setattr(output.os, "replace", failing)
    with pytest.raises(BuildError, match="No space left on device; the next build rebuilds"):
        build_site(root, out)
    monkeypatch.undo()
    assert not (out / CACHE_DIR / "cache.json").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging left
    read: list[str] = []
    real_read = build_mod.read_run
    monkeypatch.setattr(build_mod, "read_run",
                        lambda s, rid: read.append(rid) or real_read(s, rid))
    build_site(root, out)
    # every run read again (the one that lists a child twice: see the test above)
    assert len(set(read)) == 3 and len(read) == 4 and read.count(ids["parent"]) == 2, read
    monkeypatch.undo()
    assert_same_as_clean(root, out, tmp_path)


def test_a_site_replaced_during_the_build_is_left_alone(
        store: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    from trackreport.errors import BuildError

    root, _ = store
    out = tmp_path / "site"
    build_site(root, out)
    (out / "index.html").write_text("changed")  # the cache still fits: an incremental build
    replaced = []

    def another_build(done: int, total: int) -> None:
        if not replaced:
            replaced.append(build_site(root, out, clean=True))

    with pytest.raises(BuildError, match="changed by another build during this one"):
        build_site(root, out, progress=another_build)
    assert_same_as_clean(root, out, tmp_path)


def test_a_linked_cache_folder_is_neither_read_nor_followed(
        store: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    root, _ = store
    out = tmp_path / "site"
    build_site(root, out)
    elsewhere = tmp_path / "elsewhere"
    shutil.move(str(out / CACHE_DIR), elsewhere)  # a valid cache, now behind a link
    (out / CACHE_DIR).symlink_to(elsewhere, target_is_directory=True)
    before = sorted(p.name for p in elsewhere.iterdir())
    build_site(root, out)
    assert sorted(p.name for p in elsewhere.iterdir()) == before  # nothing deleted there
    assert not (out / CACHE_DIR).is_symlink() and (out / CACHE_DIR / "cache.json").is_file()
    assert_same_as_clean(root, out, tmp_path)
