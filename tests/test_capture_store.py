"""End to end: a run started with capture on leaks no secret anywhere in the store."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SRC = str(Path(__file__).resolve().parent.parent / "src")
SECRETS = ["ghp_SECRETtoken1", "SECRETapikey2", "SECRETpassword3", "SECRETtoken4",
           "SECRETaws5", "SECRETurl6"]


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True,
                   env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x",
                        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@x"})


def test_no_secret_reaches_the_store(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "remote", "add", "origin", f"https://ada:{SECRETS[0]}@github.com/o/r.git")
    script = repo / "train.py"
    script.write_text(
        "import sys, trackreport as tr\n"
        "tr.set_store(sys.argv[-1])\n"
        "with tr.start_run(name='secret-check'):\n"
        "    tr.log_metric('loss', 0.5)\n",
        "utf-8")
    _git(repo, "add", "train.py")
    _git(repo, "commit", "-q", "-m", "init")
    store = tmp_path / "store"
    env = {**os.environ, "PYTHONPATH": SRC, "AWS_SECRET_ACCESS_KEY": SECRETS[4],
           "CUDA_VISIBLE_DEVICES": "0", "TRACKREPORT_CAPTURE": "1"}
    proc = subprocess.run(
        [sys.executable, "train.py", f"--api-key={SECRETS[1]}", "--password", SECRETS[2],
         "--token", SECRETS[3], f"--data=https://user:{SECRETS[5]}@example.com/d.csv",
         "--lr", "0.1", str(store)],
        cwd=repo, env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    blob = b"".join(p.read_bytes() for p in store.rglob("*") if p.is_file())
    for secret in SECRETS:
        assert secret.encode() not in blob, secret
    import trackreport as tr

    (run_id,) = tr.load_runs(store=store)["run_id"]
    context = tr.get_run(run_id, store=store).context
    assert context["git"]["remote"] == "https://github.com/o/r.git"
    assert context["env"] == {"CUDA_VISIBLE_DEVICES": "0"}
    assert "--lr" in context["entry_point"]["argv"] and "0.1" in context["entry_point"]["argv"]
    assert context["entry_point"]["path"] == "train.py"
    assert context["source"] == "source/train.py"


# A failed run's error text: the message of an exception that names a URL with a
# password and a token. The script reads the URL from the environment, so that the
# copy of the script the store keeps holds no secret of its own.
ERROR_SECRETS = ["SECRETpw7", "SECRETtok8", "SECRETkey9"]
FAILING_URL = (f"https://carol:{ERROR_SECRETS[0]}@api.example/v1?access_token={ERROR_SECRETS[1]}"
               f"&page=2")
_FAILING_SCRIPTS = {
    # the `with` block ends the run
    "with": ("import os, sys, trackreport as tr\n"
             "tr.set_store(sys.argv[-1])\n"
             "with tr.start_run(name='fails'):\n"
             "    tr.log_metric('loss', 0.5)\n"
             "    raise RuntimeError('could not reach ' + os.environ['FAILING_URL']\n"
             "                       + ' with api_key=' + os.environ['FAILING_KEY'])\n"),
    # the uncaught exception and interpreter exit end it (excepthook + atexit)
    "uncaught": ("import os, sys, trackreport as tr\n"
                 "tr.set_store(sys.argv[-1])\n"
                 "tr.start_run(name='fails')\n"
                 "tr.log_metric('loss', 0.5)\n"
                 "raise RuntimeError('could not reach ' + os.environ['FAILING_URL']\n"
                 "                   + ' with api_key=' + os.environ['FAILING_KEY'])\n"),
}


def _site_and_show_blob(store: Path, site: Path, run_id: str) -> bytes:
    """Every byte of the built site and of `trackreport show` (text and JSON) for the run."""
    from click.testing import CliRunner

    from trackreport.cli import cli
    from trackreport.site.build import build_site

    build_site(store, site)
    shown = [CliRunner().invoke(cli, ["show", run_id, "--store", str(store), *extra])
             for extra in ([], ["--json"])]
    assert all(r.exit_code == 0 for r in shown), [r.output for r in shown]
    return (b"".join(p.read_bytes() for p in site.rglob("*") if p.is_file())
            + "".join(r.output for r in shown).encode())


def test_failed_run_error_leaks_no_secret(tmp_path: Path) -> None:
    import trackreport as tr

    for kind, source in _FAILING_SCRIPTS.items():
        folder = tmp_path / kind
        folder.mkdir()
        (folder / "train.py").write_text(source, "utf-8")
        store = folder / "store"
        env = {**os.environ, "PYTHONPATH": SRC, "TRACKREPORT_CAPTURE": "1",
               "FAILING_URL": FAILING_URL, "FAILING_KEY": ERROR_SECRETS[2]}
        proc = subprocess.run([sys.executable, "train.py", str(store)], cwd=folder, env=env,
                              capture_output=True, text=True, check=False)
        assert proc.returncode == 1 and ERROR_SECRETS[0] in proc.stderr, proc.stderr  # it did fail
        (run_id,) = tr.load_runs(store=store)["run_id"]
        run = tr.get_run(run_id, store=store)
        assert run.status == "FAILED", kind
        assert run.error == ("RuntimeError: could not reach https://api.example/v1?page=2 "
                             "with api_key=***"), kind
        blob = b"".join(p.read_bytes() for p in store.rglob("*") if p.is_file())
        blob += _site_and_show_blob(store, folder / "site", run_id)
        for secret in ERROR_SECRETS:
            assert secret.encode() not in blob, (kind, secret)
        assert b"could not reach https://api.example/v1?page=2" in blob


def test_site_and_show_scrub_errors_of_older_stores(store: Path, tmp_path: Path) -> None:
    """A store written before errors were scrubbed: the site and `show` scrub them."""
    import json
    import time

    import trackreport as tr

    run = tr.start_run(name="old")
    run.flush()
    # what an older version wrote: the raw exception text (the writer now scrubs it)
    error = f"RuntimeError: could not reach {FAILING_URL} with api_key={ERROR_SECRETS[2]}"
    (store / "runs" / run.id / "events-older-0.jsonl").write_text(
        json.dumps({"type": "open", "format": 1, "writer": "older-0", "time": time.time()}) + "\n"
        + json.dumps({"type": "run.end", "time": time.time() + 1, "status": "FAILED",
                      "error": error}) + "\n"
    )
    run.end("FAILED")
    stored = b"".join(p.read_bytes() for p in store.rglob("*") if p.is_file())
    assert ERROR_SECRETS[0].encode() in stored  # the store does hold them
    blob = _site_and_show_blob(store, tmp_path / "site", run.id)
    for secret in ERROR_SECRETS:
        assert secret.encode() not in blob, secret
    assert b"could not reach https://api.example/v1?page=2 with api_key=***" in blob
