"""``trackreport publish gh-pages``: commit the built site as the whole tree of a branch.

Like ``mkdocs gh-deploy`` / ghp-import: the site is built into a temporary
folder, staged through a temporary index file, committed on top of the branch
with ``commit-tree`` and the branch ref moved with ``update-ref``. The user's
working tree, index and current branch are never touched. GitPython drives
git and is imported only here, when publishing.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import TrackreportError

CACHE_FOLDER = ".trackreport-cache"
"""Incremental build cache inside the output folder; never published."""
FALLBACK_IDENTITY = ("trackreport", "trackreport@localhost")


class PublishError(TrackreportError):
    """The site cannot be published (not a repository, dirty worktree, no remote, git failed)."""


@dataclass
class PublishResult:
    """What ``publish_gh_pages`` did."""

    branch: str
    commit: str
    parent: str | None
    files: int
    pushed_to: str | None


def _git() -> Any:
    try:
        import git
    except ImportError as exc:  # GitPython missing, or no git executable
        raise PublishError(f"cannot use git: {' '.join(str(exc).split())[:200]}") from None
    return git


def open_repo(folder: str | os.PathLike[str] = ".") -> Any:
    """The git repository holding ``folder`` (one clear error when there is none)."""
    git = _git()
    try:
        repo = git.Repo(folder, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise PublishError(f"{os.path.abspath(folder)} is not in a git repository "
                           "(run it from your project's checkout, or git init first)") from None
    if repo.bare:
        raise PublishError(f"{repo.git_dir} is a bare repository: run it from a checkout")
    return repo


def publish_gh_pages(store: str | os.PathLike[str], repo: Any, *, branch: str = "gh-pages",
                     remote: str = "origin", message: str | None = None, push: bool = True,
                     theme: str | None = None, title: str | None = None) -> PublishResult:
    """Build the site of ``store`` and commit it as the whole tree of ``branch`` of ``repo``,
    then push it to ``remote``.

    ``.nojekyll`` is added (GitHub Pages then serves every file as is) and the
    build cache is left out. A worktree that has ``branch`` checked out must be
    clean; it is moved to the new commit.

    Raises:
        PublishError: a bad branch name, a missing remote (when pushing), a dirty worktree
            of ``branch``, or a git command that fails.
        BuildError, StoreFormatError: the site cannot be built.
    """
    from .site.build import build_site

    git = _git()
    _check_branch_name(repo, branch)
    if push and remote not in [r.name for r in repo.remotes]:
        known = ", ".join(r.name for r in repo.remotes) or "none"
        raise PublishError(f"no git remote {remote!r} (remotes: {known}); add one, pass "
                           "--remote, or --no-push")
    checked_out = _worktrees_on(repo, branch)
    for path in checked_out:
        if git.Repo(path).is_dirty(untracked_files=True):
            raise PublishError(f"the {branch} worktree {path} has uncommitted changes; "
                               "commit or discard them first")
    ref = f"refs/heads/{branch}"
    parent = _resolve(repo, ref)
    with tempfile.TemporaryDirectory(prefix="trackreport-publish-") as tmp:
        site = Path(tmp) / "site"
        built = build_site(store, site, theme=theme, title=title)
        shutil.rmtree(site / CACHE_FOLDER, ignore_errors=True)
        (site / ".nojekyll").write_bytes(b"")
        files = sum(1 for p in site.rglob("*") if p.is_file())
        if message is None:
            message = (f"Publish the trackreport site: {built.runs} run"
                       f"{'' if built.runs == 1 else 's'}, {built.experiments} experiment"
                       f"{'' if built.experiments == 1 else 's'}")
        env = {**_identity_env(repo), "GIT_DIR": str(repo.git_dir), "GIT_WORK_TREE": str(site),
               "GIT_INDEX_FILE": str(Path(tmp) / "index")}
        g = git.Git(str(site))
        try:
            # -f: the user's ignore rules (core.excludesFile, info/exclude) must not drop
            # site files such as data/runs.csv.
            g.execute(["git", "add", "-A", "-f", "."], env=env)
            tree = g.execute(["git", "write-tree"], env=env).strip()
            args = ["git", "commit-tree", tree, *(["-p", parent] if parent else []),
                    "-m", message]
            commit = g.execute(args, env=env).strip()
            g.execute(["git", "update-ref", "-m", "trackreport publish", ref, commit,
                       parent or "0" * len(commit)], env=env)
            for path in checked_out:  # clean (checked above): follow the branch
                git.Repo(path).git.read_tree("-m", "-u", parent or commit, commit)
        except git.GitCommandError as exc:
            raise PublishError(_git_error(exc)) from None
    pushed = None
    if push:
        try:
            repo.git.push(remote, f"{ref}:{ref}")
        except git.GitCommandError as exc:
            raise PublishError(f"committed the site to {branch} as {commit[:12]}, but "
                               + _git_error(exc)) from None
        pushed = remote
    return PublishResult(branch=branch, commit=commit, parent=parent, files=files,
                         pushed_to=pushed)


def _check_branch_name(repo: Any, branch: str) -> None:
    git = _git()
    try:
        repo.git.check_ref_format("--branch", branch)
    except git.GitCommandError:
        raise PublishError(f"--branch: {branch!r} is not a valid branch name") from None
    if branch.startswith("-"):
        raise PublishError(f"--branch: {branch!r} is not a valid branch name")


def _resolve(repo: Any, ref: str) -> str | None:
    git = _git()
    try:
        return str(repo.git.rev_parse("--verify", "--quiet", ref + "^{commit}")).strip() or None
    except git.GitCommandError:
        return None


def _worktrees_on(repo: Any, branch: str) -> list[str]:
    """Paths of the worktrees that have ``branch`` checked out."""
    found, path = [], None
    for line in str(repo.git.worktree("list", "--porcelain")).splitlines():
        if line.startswith("worktree "):
            path = line[len("worktree "):]
        elif line == f"branch refs/heads/{branch}" and path:
            found.append(path)
    return found


def _identity_env(repo: Any) -> dict[str, str]:
    """Author and committer for the commit: git's config, else a fallback (fresh CI machines)."""
    env: dict[str, str] = {}
    reader = repo.config_reader()
    name = reader.get_value("user", "name", default="") or ""
    email = reader.get_value("user", "email", default="") or ""
    if not name and not os.environ.get("GIT_AUTHOR_NAME"):
        env["GIT_AUTHOR_NAME"] = env["GIT_COMMITTER_NAME"] = FALLBACK_IDENTITY[0]
    if not email and not os.environ.get("GIT_AUTHOR_EMAIL"):
        env["GIT_AUTHOR_EMAIL"] = env["GIT_COMMITTER_EMAIL"] = FALLBACK_IDENTITY[1]
    return env


def _git_error(exc: Any) -> str:
    stderr = " ".join(str(getattr(exc, "stderr", "") or "").split())
    stderr = stderr.removeprefix("stderr:").strip().strip("'").strip()
    command = " ".join(str(a) for a in (exc.command if isinstance(exc.command, list)
                                        else [exc.command])[:3])
    return f"{command} failed: {stderr or exc.status}"[:400]
