"""log_artifacts on awkward folders: symlink loops, and the store inside the logged folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import trackreport as tr
from trackreport.artifacts import ArtifactWarning


def test_symlink_loops_are_skipped_with_a_warning(store: Path, tmp_path: Path) -> None:
    folder = tmp_path / "out"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text("a")
    (folder / "sub" / "b.txt").write_text("b")
    os.symlink("loop", folder / "loop")  # points at itself
    os.symlink("ping", folder / "sub" / "pong")
    os.symlink("pong", folder / "sub" / "ping")
    with tr.start_run() as run, pytest.warns(ArtifactWarning, match="loop") as caught:
        tr.log_artifacts(folder)
    assert len([w for w in caught if issubclass(w.category, ArtifactWarning)]) == 3
    assert [a.path for a in tr.get_run(run.id).artifacts] == ["a.txt", "sub/b.txt"]


def test_logging_the_folder_holding_the_store_skips_the_store(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TRACKREPORT_CAPTURE", "0")
    monkeypatch.delenv("TRACKREPORT_STORE", raising=False)
    (tmp_path / "train.py").write_text("print()")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "model.bin").write_bytes(b"m")
    tr.set_store("./trackruns")
    with tr.start_run() as run:
        tr.log_text("first", "notes.txt")  # something in the store before the copy
        run.flush()
        tr.log_artifacts(".")
        tr.log_artifacts(".", artifact_path="again")
    paths = [a.path for a in tr.get_run(run.id).artifacts]
    assert paths == ["again/out/model.bin", "again/train.py", "notes.txt", "out/model.bin",
                     "train.py"]
