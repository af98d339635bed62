"""Storage: long names, file/folder clashes, and a store deleted while a script logs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import trackreport as tr
from proc_helpers import child_env, spawn, wait_for
from trackreport.storage import LocalStorage, PathConflictError


@pytest.mark.parametrize("name", [
    "a" * 242 + ".txt",  # 246 bytes
    "b" * 251 + ".txt",  # 255 bytes: the longest name a file system takes
    "数据" * 41 + ".txt",  # 82 CJK characters: 250 bytes
])
def test_long_file_names_are_stored(store: Path, tmp_path: Path, name: str) -> None:
    src = tmp_path / name
    src.write_text("x")
    with tr.start_run() as run:
        tr.log_artifact(src)
        tr.log_text("y", f"dir/{name}")
    paths = [a.path for a in tr.get_run(run.id).artifacts]
    assert paths == sorted([name, f"dir/{name}"])
    assert (store / "runs" / run.id / "artifacts" / "dir" / name).read_text() == "y"


def test_a_name_too_long_for_a_file_system_fails_at_the_call(store: Path) -> None:
    with tr.start_run():
        with pytest.raises(tr.InvalidKeyError, match="256 bytes"):
            tr.log_text("x", "c" * 252 + ".txt")
        with pytest.raises(tr.InvalidKeyError, match="256 bytes"):
            tr.log_text("x", "数" * 84 + ".txt")


def test_clash_names_both_paths(store: Path) -> None:
    with tr.start_run():
        tr.log_text("1", "conflict")
        with pytest.raises(tr.TrackreportError,
                           match=r"'conflict/a.txt' clashes with artifact 'conflict'"):
            tr.log_text("2", "conflict/a.txt")
    with tr.start_run():
        tr.log_text("1", "conflict/a.txt")
        with pytest.raises(tr.TrackreportError,
                           match=r"'conflict' clashes with artifact 'conflict/a.txt'"):
            tr.log_text("2", "conflict")
    with tr.start_run(), pytest.raises(tr.TrackreportError,
                                       match=r"'x/a/b.txt' clashes with artifact 'x/a'"):
        tr.log_text("1", "x/a")
        tr.log_text("2", "x/a/b.txt")


def test_storage_clash_error(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    storage.put_bytes("a", b"1")
    with pytest.raises(PathConflictError) as info:
        storage.put_bytes("a/b/c", b"2")
    assert (info.value.rel, info.value.other) == ("a/b/c", "a")
    assert sorted(os.listdir(tmp_path)) == ["a"]  # no temporary file left behind


DELETE_WHILE_LOGGING = """
    import pathlib, shutil
    signal_file = pathlib.Path(sys.argv[2])
    with tr.start_run(name="survivor") as run:
        tr.log_param("lr", 0.1)
        for step in range(100):
            tr.log_metric("loss", 1.0, step=step)
        run.flush()
        signal_file.write_text(run.id)
        while pathlib.Path(STORE).exists():  # the test deletes the store now
            time.sleep(0.01)
        for step in range(100, 200):
            tr.log_metric("loss", 2.0, step=step)
        tr.log_text("after", "after.txt")
        tr.log_param("late", 1)
    print("done", flush=True)
"""


def test_store_deleted_while_logging_is_recreated(tmp_path: Path) -> None:
    import shutil

    store = tmp_path / "store"
    signal_file = tmp_path / "ready"
    child = spawn(DELETE_WHILE_LOGGING, store, str(signal_file))
    wait_for(signal_file.exists)
    run_id = signal_file.read_text()
    shutil.rmtree(store)
    code, _out, err = child.finish(timeout=60)
    assert code == 0, err
    assert err.count("was deleted") == 1  # one warning
    assert (store / "trackreport-store.json").is_file()
    check = subprocess.run([sys.executable, "-m", "trackreport", "check", "--store", str(store)],
                           capture_output=True, text=True, env=child_env(), timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "not a trackreport store" not in check.stdout + check.stderr
    got = tr.get_run(run_id, store=store)
    assert got.name == "survivor" and got.status == "FINISHED"
    assert got.metrics["loss"].steps == list(range(100, 200))  # what was logged after it
    assert got.params == {"late": 1}
    assert [a.path for a in got.artifacts] == ["after.txt"]


def test_event_file_identities_match_the_listing_and_never_leave_the_store(
        tmp_path: Path) -> None:
    from trackreport.storage import UnsafePathWarning

    root = tmp_path / "store"
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "events-x.jsonl").write_text("{}\n")
    runs = root / "runs"
    for name in ("plain", "inner-target"):
        (runs / name).mkdir(parents=True)
        (runs / name / "events-a.jsonl").write_text("{}\n")
        (runs / name / "notes.txt").write_text("not events")
    (runs / "plain" / "events-b.jsonl").symlink_to(runs / "inner-target" / "events-a.jsonl")
    (runs / "plain" / "events-c.jsonl").symlink_to(outside / "events-x.jsonl")
    (runs / "linked-in").symlink_to(runs / "inner-target", target_is_directory=True)
    (runs / "linked-out").symlink_to(outside, target_is_directory=True)
    storage = LocalStorage(root)
    rels = [f"runs/{n}" for n in ("plain", "inner-target", "linked-in", "linked-out", "gone")]
    with pytest.warns(UnsafePathWarning):
        fast = storage.event_file_identities(rels)
    with pytest.warns(UnsafePathWarning):
        slow = {rel: {p: storage.identity(p) for p in storage.list_event_files(rel)}
                for rel in rels}
    assert fast == slow
    assert sorted(fast["runs/plain"]) == ["runs/plain/events-a.jsonl",
                                         "runs/plain/events-b.jsonl"]
    assert fast["runs/linked-in"] and fast["runs/linked-out"] == {} and fast["runs/gone"] == {}


@pytest.mark.skipif(sys.platform == "win32", reason="symbolic links")
def test_paths_resolve_as_realpath_does_and_never_out_of_the_store(tmp_path: Path) -> None:
    """The path check skips ``realpath`` when no part below the store's root is a link:
    every path must come out as ``realpath`` has it, and a link out must still be refused."""
    from trackreport.storage import UnsafePathError

    real_root = tmp_path / "real"
    (real_root / "runs" / "a").mkdir(parents=True)
    (real_root / "runs" / "a" / "events-1.jsonl").write_text("{}\n")
    (real_root / "file").write_text("x")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_text("s")
    (real_root / "runs" / "inner").symlink_to(real_root / "runs" / "a")
    (real_root / "runs" / "out").symlink_to(outside)
    (real_root / "loop").symlink_to(real_root / "loop")
    linked_root = tmp_path / "linked"
    linked_root.symlink_to(real_root)
    for root in (real_root, linked_root):
        storage = LocalStorage(root)
        for rel in ("", "runs", "runs/a/events-1.jsonl", "runs/./a//events-1.jsonl",
                    "runs/missing/x", "file/below-a-file", "runs/inner/events-1.jsonl",
                    "loop"):  # a link to itself: realpath leaves it, reading it fails
            want = Path(os.path.realpath(root / rel))
            assert storage._resolve(rel) == want, rel
        for rel in ("runs/out", "runs/out/secret"):
            with pytest.raises(UnsafePathError):
                storage._resolve(rel)
