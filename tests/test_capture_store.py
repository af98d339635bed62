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
