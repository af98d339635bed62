"""`trackreport publish gh-pages` against a real bare repository in a temp folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from summary_fixtures import make_fixed_store

GIT_ENV = {"GIT_AUTHOR_NAME": "Ada", "GIT_AUTHOR_EMAIL": "ada@example.org",
           "GIT_COMMITTER_NAME": "Ada", "GIT_COMMITTER_EMAIL": "ada@example.org",
           "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}


def git(cwd: Path, *args: str) -> str:
    out = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True,
                         env={**os.environ, **GIT_ENV})
    return out.stdout.strip()


def publish(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "trackreport", "publish", "gh-pages", *args],
                          cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **GIT_ENV})


@pytest.fixture()
def project(tmp_path: Path) -> tuple[Path, Path]:
    """A checkout with a committed store, an uncommitted change, a staged file and a bare
    ``origin``."""
    bare = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    work = tmp_path / "work"
    work.mkdir()
    git(work, "init", "-q", "-b", "main")
    make_fixed_store(work / "trackruns")
    (work / "train.py").write_text("print('train')\n")
    git(work, "add", ".")
    git(work, "commit", "-q", "-m", "first")
    git(work, "remote", "add", "origin", str(bare))
    git(work, "push", "-q", "origin", "main")
    (work / "train.py").write_text("print('changed, not committed')\n")
    (work / "staged.txt").write_text("staged\n")
    git(work, "add", "staged.txt")
    (work / "untracked.txt").write_text("untracked\n")
    return work, bare


def _state(work: Path) -> tuple[str, str, str, str, str]:
    return (git(work, "rev-parse", "--abbrev-ref", "HEAD"), git(work, "rev-parse", "HEAD"),
            git(work, "status", "--porcelain"), git(work, "diff", "--cached"),
            (work / "train.py").read_text())


def test_publish_commits_the_site_as_the_whole_branch(project: tuple[Path, Path]) -> None:
    work, bare = project
    before = _state(work)
    out = publish(work)
    assert out.returncode == 0, out.stderr
    assert "pushed to origin" in out.stdout
    assert _state(work) == before  # branch, HEAD, working tree and index untouched
    files = set(git(bare, "ls-tree", "-r", "--name-only", "gh-pages").splitlines())
    assert ".nojekyll" in files and "index.html" in files and "data/runs.csv" in files
    assert "runs/20260901T000000Z-00000001/index.html" in files
    assert not any(f.startswith(("trackruns/", ".trackreport-cache")) or f == "train.py"
                   for f in files)
    # exactly the built site: compare with a build of the same store
    built = work.parent / "built"
    subprocess.run([sys.executable, "-m", "trackreport", "build", "--store",
                    str(work / "trackruns"), "--out", str(built)], check=True,
                   capture_output=True)
    expected = {str(p.relative_to(built)).replace(os.sep, "/") for p in built.rglob("*")
                if p.is_file() and ".trackreport-cache" not in p.parts} | {".nojekyll"}
    assert files == expected
    assert git(bare, "show", "gh-pages:index.html") == (built / "index.html").read_text().strip()
    first = git(bare, "rev-parse", "gh-pages")
    assert git(bare, "log", "--format=%s", "gh-pages").startswith("Publish the trackreport site")

    out = publish(work, "-m", "second publish")
    assert out.returncode == 0, out.stderr
    assert git(bare, "rev-parse", "gh-pages^") == first  # a new commit on top
    assert git(bare, "log", "-1", "--format=%s", "gh-pages") == "second publish"
    assert _state(work) == before
    assert git(work, "rev-parse", "gh-pages") == git(bare, "rev-parse", "gh-pages")


def test_no_push_commits_locally_only(project: tuple[Path, Path]) -> None:
    work, bare = project
    out = publish(work, "--no-push", "--branch", "pages")
    assert out.returncode == 0, out.stderr and "(not pushed)" in out.stdout
    assert git(work, "ls-tree", "--name-only", "pages", ".nojekyll") == ".nojekyll"
    assert git(bare, "branch", "--list", "pages") == ""


def test_not_a_repository_is_one_line(tmp_path: Path) -> None:
    make_fixed_store(tmp_path / "trackruns")
    out = publish(tmp_path)
    assert out.returncode == 1
    assert out.stderr.count("\n") == 1 and "is not in a git repository" in out.stderr


def test_missing_remote_is_one_line(project: tuple[Path, Path]) -> None:
    work, _ = project
    out = publish(work, "--remote", "upstream")
    assert out.returncode == 1
    assert out.stderr == ("Error: no git remote 'upstream' (remotes: origin); add one, pass "
                          "--remote, or --no-push\n")
    assert "gh-pages" not in git(work, "branch", "--list")


def test_dirty_gh_pages_worktree_is_one_line(project: tuple[Path, Path]) -> None:
    work, _ = project
    assert publish(work, "--no-push").returncode == 0
    pages = work.parent / "pages-wt"
    git(work, "worktree", "add", "-q", str(pages), "gh-pages")
    (pages / "index.html").write_text("edited by hand\n")
    head = git(work, "rev-parse", "gh-pages")
    out = publish(work, "--no-push")
    assert out.returncode == 1 and out.stderr.count("\n") == 1
    assert "has uncommitted changes" in out.stderr and str(pages) in out.stderr
    assert git(work, "rev-parse", "gh-pages") == head
    # a clean gh-pages worktree follows the new commit
    git(pages, "checkout", "--", "index.html")
    assert publish(work, "--no-push").returncode == 0
    assert git(pages, "rev-parse", "HEAD") == git(work, "rev-parse", "gh-pages") != head
    assert git(pages, "status", "--porcelain") == ""


def test_a_failed_push_says_the_commit_was_made(project: tuple[Path, Path]) -> None:
    work, bare = project
    git(work, "remote", "set-url", "origin", str(bare.parent / "gone.git"))
    out = publish(work)
    assert out.returncode == 1 and out.stderr.count("\n") == 1
    assert out.stderr.startswith("Error: committed the site to gh-pages as ")
    assert "git push" in out.stderr
