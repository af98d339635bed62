"""A store on S3 (moto's real HTTP endpoint): writing, reading, errors, one line each."""

from __future__ import annotations

import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import trackreport as tr
from proc_helpers import child_env
from s3_helpers import list_objects
from trackreport.objectstore import ObjectStorage
from trackreport.store import Store
from trackreport.writer import EventFile, WriteWarning


def test_import_and_local_logging_never_import_fsspec(tmp_path: Path) -> None:
    code = ("import sys, trackreport as tr\n"
            f"tr.set_store({str(tmp_path / 'st')!r})\n"
            "with tr.start_run():\n    tr.log_metric('m', 1.0)\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('fsspec', 's3fs', 'botocore', 'aiobotocore')))")
    out = subprocess.run([sys.executable, "-c", code], env=child_env(), capture_output=True,
                         text=True, timeout=60, check=True)
    assert out.stdout.strip() == "[]"


def test_object_store_modules_import_fsspec_only_when_a_store_is_opened() -> None:
    modules = ["objectstore", "objectcache", "objectconnect", "createonly", "segmentwriter",
               "compaction", "segments", "shutdown", "fetching"]
    code = (f"import sys, importlib\nfor m in {modules!r}: importlib.import_module('trackreport.' + m)\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('fsspec', 's3fs', 'botocore', 'aiobotocore')))")
    out = subprocess.run([sys.executable, "-c", code], env=child_env(), capture_output=True,
                         text=True, timeout=60, check=True)
    assert out.stdout.strip() == "[]"


def test_a_run_on_s3_rolls_segments_and_leaves_one_object(s3_store: str) -> None:
    with tr.start_run(name="s3-run") as run:
        tr.log_params({"lr": 0.1})
        tr.log_metric("loss", 1.0, step=0)
        run.flush()
        tr.log_metric("loss", 0.5, step=1)
        run.flush()
        segs = [k for k in list_objects(s3_store) if k.startswith(f"runs/{run.id}/events-")]
        # start_run uploads the first segment (the run is visible at once), each flush one more
        assert [k[-12:] for k in segs] == ["000001.jsonl", "000002.jsonl", "000003.jsonl"]
        tr.log_metric("loss", 0.25, step=2)
    keys = [k for k in list_objects(s3_store) if k.startswith(f"runs/{run.id}/")]
    assert len(keys) == 1 and keys[0].endswith(".c1-4.jsonl"), keys
    got = tr.get_run(run.id)
    assert got.status == "FINISHED" and got.params == {"lr": 0.1}
    assert got.metrics["loss"].steps == [0, 1, 2]
    assert got.metrics["loss"].values == [1.0, 0.5, 0.25]
    assert "trackreport-store.json" in list_objects(s3_store)


def test_empty_flushes_upload_nothing(s3_store: str) -> None:
    with tr.start_run() as run:
        tr.log_metric("m", 1.0)
        run.flush()
        before = list_objects(s3_store)
        time.sleep(0.6)  # three timer ticks with nothing logged
        run.flush()
        assert list_objects(s3_store) == before


def test_timer_uploads_after_the_flush_interval(s3_store: str) -> None:
    with tr.start_run() as run:
        tr.log_metric("m", 1.0)
        deadline = time.monotonic() + 10
        while not [k for k in list_objects(s3_store) if k.startswith(f"runs/{run.id}/")]:
            assert time.monotonic() < deadline, "the timer never uploaded a segment"
            time.sleep(0.05)


def test_a_colliding_writer_id_is_refused(s3_store: str) -> None:
    store = Store(s3_store)
    store.ensure()
    first = EventFile(store.storage, "runs/r1", "1-abc")
    first.add({"type": "tags", "time": 1.0, "tags": {"who": "first"}})
    assert first.flush()
    other = Store(s3_store)  # another process's view: its own file system object
    second = EventFile(other.storage, "runs/r1", "1-abc")
    second.add({"type": "tags", "time": 2.0, "tags": {"who": "second"}})
    with pytest.warns(WriteWarning, match="another writer uses the id '1-abc'"):
        assert not second.flush()
    data = store.storage.read_bytes("runs/r1/events-1-abc-000001.jsonl")
    assert b"first" in data and b"second" not in data
    assert [k for k in list_objects(s3_store) if k.startswith("runs/r1/")] == [
        "runs/r1/events-1-abc-000001.jsonl"]
    first.close()
    second.queue.clear()
    second._pending = b""


def test_conditional_create_errors_of_other_servers_are_recognised() -> None:
    from trackreport.createonly import exists_error

    assert exists_error(FileExistsError("x"))
    assert exists_error(OSError(16, "An error occurred (ConditionalRequestConflict) ... 409"))
    assert exists_error(OSError(22, "At least one of the pre-conditions you specified did not "
                                     "hold (PreconditionFailed, 412)"))
    assert not exists_error(OSError(5, "Internal error"))


def test_a_missing_bucket_is_one_line_naming_it(moto_endpoint: str, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "trackreport", "runs", "--store", "s3://no-such-bucket/p"],
        cwd=tmp_path, env=child_env(), capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert "bucket 'no-such-bucket' does not exist" in result.stderr


def test_missing_credentials_are_one_line_saying_so(moto_endpoint: str, s3_store: str,
                                                     tmp_path: Path) -> None:
    env = child_env(HOME=str(tmp_path), AWS_CONFIG_FILE=str(tmp_path / "none"),
                    AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"))
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                 "AWS_PROFILE"):
        env.pop(name, None)
    result = subprocess.run([sys.executable, "-m", "trackreport", "runs", "--store", s3_store],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert f"no credentials for store {s3_store}: set AWS_ACCESS_KEY_ID" in result.stderr
    assert "does not exist" not in result.stderr  # the bucket does: s3fs alone said it did not


def test_reader_cache_fetches_only_new_objects(s3_store: str, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from trackreport.reader import iter_runs

    with tr.start_run(name="one"):
        tr.log_metric("m", 1.0)
    monkeypatch.setenv("TRACKREPORT_CACHE", str(tmp_path / "empty-cache"))
    cold = Store(s3_store)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert [r.name for r in iter_runs(cold)] == ["one"]
    assert isinstance(cold.storage, ObjectStorage)
    assert cold.storage.requests == 3  # list runs/ (and every events object below), fetch
    warm = Store(s3_store)  # a new reader: listings only, the object comes from the cache
    assert [r.name for r in iter_runs(warm)] == ["one"]
    assert warm.storage.requests == 2
    with tr.start_run(name="two"):
        tr.log_metric("m", 2.0)
    again = Store(s3_store)
    assert sorted(r.name for r in iter_runs(again)) == ["one", "two"]  # ids of one second: any order
    assert again.storage.requests == 2 + 1  # the same listings, one fetch


def test_a_build_lists_the_runs_once_however_long_it_takes(
        s3_store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from trackreport import objectstore
    from trackreport.site.build import build_site

    for i in range(4):
        with tr.start_run(name=f"run-{i}"):
            tr.log_metric("m", float(i))
    listed: list[str] = []
    real = ObjectStorage._ls

    def recording(self: ObjectStorage, rel: str, fresh: bool = False) -> Any:
        listed.append(rel)
        return real(self, rel, fresh)

    monkeypatch.setattr(ObjectStorage, "_ls", recording)
    monkeypatch.setattr(objectstore, "LISTING_SECONDS", 0.0)  # every listing is already old
    store = Store(s3_store)
    build_site(store, tmp_path / "site")
    assert len(list((tmp_path / "site" / "runs").iterdir())) == 4
    assert [rel for rel in listed if rel.startswith("runs/")] == []  # not one per run
    store.run_event_files(store.run_ids()[0])  # outside a build a listing still ages
    assert listed[-1].startswith("runs/")


def test_artifacts_models_and_registry_on_s3(s3_store: str, tmp_path: Path) -> None:
    from trackreport.site.build import build_site

    (tmp_path / "notes.txt").write_text("hello from a file")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "a.csv").write_text("x,y\n1,2\n")
    with tr.start_run(name="with-files") as run:
        tr.log_artifact(str(tmp_path / "notes.txt"), artifact_path="docs")
        tr.log_artifacts(str(tmp_path / "out"), artifact_path="tables")
        tr.log_text("# summary\n", "summary.md")
        tr.log_dict({"k": 1}, "config.json")
        tr.log_model({"weights": [1, 2, 3]}, "model")
        tr.log_image(np.full((4, 4, 3), 200, dtype=np.uint8), key="samples", step=0)
    keys = list_objects(s3_store)
    assert any(k.startswith(f"runs/{run.id}/artifacts/") and k.endswith(".png") for k in keys)
    for rel in ("docs/notes.txt", "tables/a.csv", "summary.md", "config.json",
                "model/model.json"):
        assert f"runs/{run.id}/artifacts/{rel}" in keys
    got = tr.get_run(run.id)
    assert {a.path for a in got.artifacts} >= {"docs/notes.txt", "tables/a.csv", "summary.md"}
    assert tr.load_model(f"runs:/{run.id}/model") == {"weights": [1, 2, 3]}
    version = tr.register_model(f"runs:/{run.id}/model", "net")
    again = tr.register_model(f"runs:/{run.id}/model", "net")
    assert (version.version, again.version) == (1, 2)
    tr.set_model_alias("net", "prod", 1)
    assert tr.load_model("models:/net@prod") == {"weights": [1, 2, 3]}
    assert not any(p.name.startswith("s3:") for p in Path.cwd().iterdir())
    site = tmp_path / "site"
    build_site(Store(s3_store), site)
    page = (site / "runs" / run.id / "index.html").read_text()
    assert "notes.txt" in page and "summary.md" in page
    copied = [p.read_bytes() for p in (site / "runs" / run.id).rglob("notes.txt*")]
    assert copied == [b"hello from a file"]
    assert (site / "models").is_dir()


def test_flush_seconds_sets_the_local_interval_too(tmp_path: Path) -> None:
    from proc_helpers import Child, script

    body = """
    with tr.start_run() as run:
        print(run.id, flush=True)
        tr.log_metric("m", 1.0)
        time.sleep(60)
    """
    for seconds, expect in (("30", False), ("0.1", True)):
        store = tmp_path / f"st-{seconds}"  # (only the child's environment: this process's
        # flusher would otherwise wait out the 30 s set here)
        child = Child([sys.executable, "-u", "-c", script(body), str(store)],
                      child_env(TRACKREPORT_FLUSH_SECONDS=seconds))
        try:
            run_id = child.read_line()
            time.sleep(1.5)  # the timer flushes within 0.1 s, or not for 30 s
            text = b"".join(p.read_bytes() for p in (store / "runs" / run_id).glob("events-*"))
        finally:
            child.kill()
        assert (b'"m"' in text) is expect, (seconds, text)


@pytest.mark.parametrize("flushes", [0, 2])
def test_a_late_value_after_the_run_ended_makes_a_wider_object(s3_store: str,
                                                               flushes: int) -> None:
    from trackreport.writer import flush_all

    with tr.start_run() as run:
        for i in range(flushes):
            tr.log_metric("m", float(i), step=i)
            run.flush()
    run.log_metric("test_acc", 0.91)  # a final evaluation through the kept handle
    flush_all()
    keys = [k for k in list_objects(s3_store) if k.startswith(f"runs/{run.id}/")]
    assert len(keys) == 1 and keys[0].endswith(f".c1-{flushes + 3}.jsonl"), keys  # start, flushes, end, late
    got = tr.get_run(run.id)
    assert got.metrics["test_acc"].values == [0.91] and got.status == "FINISHED"
    assert len(got.metrics.get("m").steps if flushes else []) == flushes


@pytest.mark.parametrize("value", ["fast", "0", "-1", "inf", "nan"])
def test_a_bad_flush_interval_is_one_line_at_start_run(tmp_path: Path, value: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from trackreport.errors import InvalidValueError

    monkeypatch.setenv("TRACKREPORT_FLUSH_SECONDS", value)
    tr.set_store(tmp_path / "store")
    with pytest.raises(InvalidValueError, match="TRACKREPORT_FLUSH_SECONDS must be a number"):
        tr.start_run()
    assert tr.active_run() is None
    assert not (tmp_path / "store" / "runs").exists()


def test_a_lost_upload_response_is_recognised_as_our_own_object(s3_store: str) -> None:
    """s3fs retries a create whose response was lost: the retry's 412 is not a collision."""
    store = Store(s3_store)
    store.ensure()
    storage = store.storage
    assert isinstance(storage, ObjectStorage)
    rel = "runs/r1/events-7-abc-000001.jsonl"
    assert storage.create_exclusive(rel, b'{"a":1}\n')
    assert storage.create_exclusive(rel, b'{"a":1}\n')  # the same bytes again: ours
    assert not storage.create_exclusive(rel, b'{"a":2}\n')  # other bytes: another writer's
    assert not storage.create_exclusive(rel, b'{"a":1}\n\n')  # other size
    assert storage.read_bytes(rel) == b'{"a":1}\n'

    # through the writer: every upload is sent twice, as a retry after a lost response is
    fs = storage.fs
    sent = fs.pipe_file
    calls = []

    def twice(path: str, data: bytes, **kwargs: object) -> None:
        calls.append(path)
        sent(path, data, **kwargs)
        sent(path, data, **kwargs)  # the retry: moto answers 412 PreconditionFailed

    fs.pipe_file = twice
    file = EventFile(storage, "runs/r2", "8-abc")
    file.add({"type": "tags", "time": 1.0, "tags": {"who": "me"}})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no WriteWarning: the segment counts as written
        assert file.flush()
        file.add({"type": "tags", "time": 2.0, "tags": {"who": "me again"}})
        assert file.close()
    fs.pipe_file = sent
    assert len(calls) == 3  # two segments, then the compacted object
    assert [k for k in list_objects(s3_store) if k.startswith("runs/r2/")] == [
        "runs/r2/events-8-abc.c1-2.jsonl"]
    data = storage.read_bytes("runs/r2/events-8-abc.c1-2.jsonl")
    assert data.count(b'"me"') == 1 and data.count(b'"me again"') == 1


def test_a_forked_child_leaves_no_unclosed_spool(moto_endpoint: str, tmp_path: Path) -> None:
    from s3_helpers import make_bucket

    url = f"s3://{make_bucket(moto_endpoint)}/store"
    code = f"""
import os, sys, trackreport as tr
tr.set_store({url!r})
with tr.start_run() as run:
    tr.log_metric("m", 1.0, step=0)
    run.flush()  # the parent's spool is open when it forks
    pid = os.fork()
    if pid == 0:
        tr.log_metric("child", 1.0)
        sys.exit(0)
    assert os.waitpid(pid, 0)[1] == 0
    tr.log_metric("m", 2.0, step=1)
print(run.id)
"""
    out = subprocess.run([sys.executable, "-W", "always::ResourceWarning", "-c", code],
                         env=child_env(TRACKREPORT_CACHE=str(tmp_path / "cache")),
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "ResourceWarning" not in out.stderr, out.stderr
    run_id = out.stdout.split()[-1]
    got = Store(url)
    assert len([k for k in list_objects(url) if k.startswith(f"runs/{run_id}/events-")]) == 2
    from trackreport.reader import read_run

    run = read_run(got, run_id)
    assert run.metrics["m"].values == [1.0, 2.0]  # the parent's spool survived the fork
    assert run.metrics["child"].values == [1.0]


def _count_fetches(fs: Any, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the fetch calls ("cat", "cat_file") made on ``fs`` from now on."""
    calls: list[str] = []
    cat, cat_file = fs.cat, fs.cat_file
    monkeypatch.setattr(fs, "cat", lambda paths, **kw: calls.append("cat") or cat(paths, **kw))
    monkeypatch.setattr(fs, "cat_file",
                        lambda path, **kw: calls.append("cat_file") or cat_file(path, **kw))
    return calls


def test_tails_of_a_killed_writers_segments_are_fetched_in_one_batch(
        s3_store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A build reads the tail of each segment in turn: one concurrent fetch, not one each."""
    store = Store(s3_store)
    store.ensure()
    file = EventFile(store.storage, "runs/r1", "9-abc")
    for i in range(12):  # twelve flushes and no close: the segments stay, as a killed writer's
        file.add({"type": "tags", "time": float(i + 1), "tags": {"i": str(i)}})
        assert file.flush()
    monkeypatch.setenv("TRACKREPORT_CACHE", str(tmp_path / "cold"))
    reader = Store(s3_store)
    storage = reader.storage
    assert isinstance(storage, ObjectStorage)
    rels = reader.storage.list_event_files("runs/r1")
    assert len(rels) == 12
    calls = _count_fetches(storage.fs, monkeypatch)
    tails = [storage.read_tail(rel, 200)[0] for rel in rels]
    assert calls == ["cat"]  # the first tail fetched all twelve concurrently (and cached them)
    assert [t.count(b'"i":"') for t in tails] == [1] * 12
    assert b'"i":"11"' in tails[-1]
    assert file.close()  # folds them (and closes the spool)


def test_without_a_writable_cache_tails_are_fetched_one_at_a_time(
        s3_store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The batch is fetched for the cache: where it cannot keep them, no batch is refetched."""
    store = Store(s3_store)
    store.ensure()
    file = EventFile(store.storage, "runs/r1", "10-abc")
    for i in range(5):
        file.add({"type": "tags", "time": float(i + 1), "tags": {"i": str(i)}})
        assert file.flush()
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("TRACKREPORT_CACHE", str(tmp_path / "a-file"))  # cannot hold a folder
    storage = Store(s3_store).storage
    assert isinstance(storage, ObjectStorage)
    rels = storage.list_event_files("runs/r1")
    calls = _count_fetches(storage.fs, monkeypatch)
    tails = [storage.read_tail(rel, 200)[0] for rel in rels]
    assert calls == ["cat"] + ["cat_file"] * 4
    assert [b'"i":"%d"' % i in t for i, t in enumerate(tails)] == [True] * 5
    assert file.close()


def test_storage_options_from_the_environment(s3_store: str, moto_endpoint: str,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from click.testing import CliRunner

    from s3_helpers import reset_fluent
    from trackreport import fluent
    from trackreport.cli import cli
    from trackreport.errors import InvalidValueError

    reset_fluent()  # forget set_store: the store and its options come from the environment
    monkeypatch.setattr(fluent, "_stores", {})
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    monkeypatch.setenv("TRACKREPORT_STORE", s3_store)
    monkeypatch.setenv("TRACKREPORT_STORAGE_OPTIONS", json.dumps({"endpoint_url": moto_endpoint}))
    with tr.start_run(name="from-env"):
        tr.log_metric("m", 1.0)
    listed = CliRunner().invoke(cli, ["runs", "--format", "csv", "--columns", "run_name"])
    assert listed.exit_code == 0 and listed.output.splitlines() == ["run_name", "from-env"]
    monkeypatch.setattr(fluent, "_stores", {})
    for bad in ("[1]", "{endpoint_url: x}"):
        monkeypatch.setenv("TRACKREPORT_STORAGE_OPTIONS", bad)
        with pytest.raises(InvalidValueError, match="TRACKREPORT_STORAGE_OPTIONS must be a JSON "
                                                    "object such as"):
            tr.start_run()
        refused = CliRunner().invoke(cli, ["runs"])
        assert refused.exit_code == 1
        assert refused.output.startswith("Error: TRACKREPORT_STORAGE_OPTIONS must be a JSON")
