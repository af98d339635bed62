"""The store location: a URL (object storage) is a clear error, never a folder named ``s3:``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import trackreport as tr
from proc_helpers import child_env

URLS = ["s3://bucket/prefix", "gs://bucket", "file:///tmp/x", "az://c/p"]


@pytest.mark.parametrize("url", URLS)
def test_set_store_with_a_url(store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                              url: str) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(tr.UnsupportedStoreError, match="object storage is not supported yet") as e:
        tr.set_store(url)
    assert repr(url) in str(e.value)
    with pytest.raises(tr.TrackreportError, match="not supported"):
        tr.load_runs(store=url)
    assert not (tmp_path / (url.split(":")[0] + ":")).exists()  # no folder named "s3:"


@pytest.mark.parametrize("url", URLS[:2])
def test_env_var_url_fails_at_start_run(tmp_path: Path, url: str) -> None:
    env = child_env(TRACKREPORT_STORE=url)
    child = subprocess.run(
        [sys.executable, "-c",
         "import trackreport as tr\ntry:\n    tr.start_run()\n"
         "except tr.UnsupportedStoreError as exc:\n    print(exc)"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert "object storage is not supported yet" in child.stdout, child.stderr
    assert url in child.stdout
    assert list(tmp_path.iterdir()) == []  # nothing created


@pytest.mark.parametrize("command", [["runs"], ["check"], ["build", "--out", "site"]])
def test_cli_store_url(tmp_path: Path, command: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "trackreport", *command, "--store", "s3://bucket/prefix"],
        cwd=tmp_path, env=child_env(), capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "object storage is not supported yet" in result.stderr
    assert "s3://bucket/prefix" in result.stderr
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []
    env = child_env(TRACKREPORT_STORE="s3://bucket/prefix")
    result = subprocess.run([sys.executable, "-m", "trackreport", *command],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "not supported yet" in result.stderr


def test_windows_style_and_odd_local_paths_are_still_folders(tmp_path: Path) -> None:
    from trackreport.store import check_location

    for path in ["C:\\\\runs", "./s3_bucket", "runs:backup", "a/b://c"]:
        assert check_location(path) == path
