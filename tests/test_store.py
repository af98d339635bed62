"""The store location: a URL is object storage (never a folder named ``s3:``); one
this installation cannot use, or whose endpoint does not answer, is one clear error."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

import trackreport as tr
from proc_helpers import child_env

UNUSABLE = ["gs://bucket", "az://c/p", "nosuchproto://x/y"]  # no fsspec backend installed


def _dead_endpoint() -> str:
    """The URL of a local port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.mark.parametrize("url", UNUSABLE)
def test_a_url_without_a_backend(store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 url: str) -> None:
    monkeypatch.chdir(tmp_path)
    tr.set_store(url)
    with pytest.raises(tr.UnsupportedStoreError) as e:
        tr.start_run()
    assert repr(url) in str(e.value)
    with pytest.raises(tr.TrackreportError, match="store"):
        tr.load_runs(store=url)
    assert not (tmp_path / (url.split(":")[0] + ":")).exists()  # no folder named "gs:"
    assert list(tmp_path.iterdir()) == []


def test_env_var_url_with_a_dead_endpoint_fails_at_start_run(tmp_path: Path) -> None:
    endpoint = _dead_endpoint()
    env = child_env(TRACKREPORT_STORE="s3://bucket/prefix", AWS_ENDPOINT_URL=endpoint,
                    AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x")  # noqa: S106
    child = subprocess.run(
        [sys.executable, "-c",
         "import trackreport as tr\ntry:\n    tr.start_run()\n"
         "except tr.StoreUnavailableError as exc:\n    print(exc)"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert f"endpoint {endpoint} does not answer" in child.stdout, child.stderr
    assert list(tmp_path.iterdir()) == []  # nothing created


@pytest.mark.parametrize("command", [["runs"], ["check"], ["build", "--out", "site"]])
def test_cli_store_url_with_a_dead_endpoint(tmp_path: Path, command: list[str]) -> None:
    endpoint = _dead_endpoint()
    result = subprocess.run(
        [sys.executable, "-m", "trackreport", *command, "--store", "s3://bucket/prefix",
         "--storage-option", f"endpoint_url={endpoint}"],
        cwd=tmp_path, env=child_env(AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x"),  # noqa: S106
        capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert result.stderr.count("\n") == 1, result.stderr
    assert f"endpoint {endpoint} does not answer" in result.stderr
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []
    result = subprocess.run([sys.executable, "-m", "trackreport", *command],
                            cwd=tmp_path, capture_output=True, text=True, timeout=60,
                            env=child_env(TRACKREPORT_STORE="gs://bucket/prefix"))
    assert result.returncode != 0 and "gs://bucket/prefix" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_bad_storage_option_is_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "trackreport", "runs", "--store", "s3://b/p",
         "--storage-option", "endpoint_url"],
        cwd=tmp_path, env=child_env(), capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "'endpoint_url' is not KEY=VALUE" in result.stderr


def test_a_file_url_is_a_local_folder(tmp_path: Path) -> None:
    tr.set_store((tmp_path / "st").as_uri())
    with tr.start_run(name="local") as run:
        tr.log_metric("m", 1.0)
    assert (tmp_path / "st" / "runs" / run.id).is_dir()
    assert tr.get_run(run.id).metrics["m"].values == [1.0]


def test_windows_style_and_odd_local_paths_are_still_folders(tmp_path: Path) -> None:
    from trackreport.store import check_location

    for path in ["C:\\\\runs", "./s3_bucket", "runs:backup", "a/b://c"]:
        assert check_location(path) == path


@pytest.mark.parametrize("proxy", [False, True])
def test_an_endpoint_from_an_aws_profile_is_checked_too(tmp_path: Path, proxy: bool) -> None:
    # the client resolves it (AWS's own endpoint, or a profile's): s3fs alone would call a
    # dead one a missing bucket, after long retries
    endpoint = _dead_endpoint()
    config = tmp_path / "aws-config"
    config.write_text(f"[default]\nendpoint_url = {endpoint}\n")
    env = child_env(AWS_CONFIG_FILE=str(config), AWS_ACCESS_KEY_ID="x",
                    AWS_SECRET_ACCESS_KEY="x")  # noqa: S106
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "HTTPS_PROXY", "https_proxy",
                 "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        env.pop(name, None)
    if proxy:  # behind a proxy a direct check proves nothing: s3fs's own error stands
        env["HTTPS_PROXY"] = endpoint
    from trackreport import objectconnect

    code = ("import fsspec\nfrom trackreport.objectconnect import _default_endpoint\n"
            "print(_default_endpoint(fsspec.filesystem('s3', skip_instance_cache=True)))")
    found = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=60)
    assert found.stdout.strip() == ("None" if proxy else endpoint), found.stderr
    if proxy:
        return
    result = subprocess.run([sys.executable, "-m", "trackreport", "runs", "--store", "s3://b/p"],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert f"endpoint {endpoint} does not answer" in result.stderr
    assert f"{objectconnect.CONNECT_TRIES} tries" in result.stderr
