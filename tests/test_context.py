"""trackreport.context against real git repositories, driven by real subprocesses."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"

# The child prints one JSON line: the context, the CaptureWarnings, and what it was asked to add.
CHILD = textwrap.dedent(
    """
    import json, sys, warnings
    {imports}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        import trackreport.context as tc
        {setup}
        context = tc.capture_context()
        source = tc.entry_point_source()
    print(json.dumps({{
        "context": context,
        "source": None if source is None else str(source),
        "warnings": [str(w.message) for w in caught if issubclass(w.category, tc.CaptureWarning)],
        "extra": {extra},
    }}))
    """
)


def child_code(imports: str = "", setup: str = "", extra: str = "None") -> str:
    return CHILD.format(imports=imports, setup=setup, extra=extra)


def child_env(**overrides: str | None) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("GIT_DIR", "GIT_WORK_TREE", "AWS_SECRET_ACCESS_KEY", "CUDA_VISIBLE_DEVICES")
    }
    env["PYTHONPATH"] = str(SRC)
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def run_child(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, *argv],
        cwd=cwd,
        env=env or child_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["raw"] = proc.stdout
    return result


def write_script(path: Path, **kwargs: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(child_code(**kwargs), encoding="utf-8")
    return path


def git(repo: Path, *args: str) -> str:
    env = child_env(
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_AUTHOR_NAME="Ada",
        GIT_AUTHOR_EMAIL="ada@example.com",
        GIT_COMMITTER_NAME="Ada",
        GIT_COMMITTER_EMAIL="ada@example.com",
    )
    proc = subprocess.run(
        ["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=True
    )
    return proc.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository on branch main with one commit holding scripts/train.py and data.txt."""
    root = tmp_path / "proj"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    write_script(root / "scripts" / "train.py")
    (root / "data.txt").write_text("v1\n")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "first")
    return root


def assert_no_machine_paths(result: dict[str, Any], *paths: Path | str) -> None:
    text = json.dumps(result["context"])
    for path in (sys.executable, sys.prefix, os.getcwd(), str(Path.home()), *paths):
        assert str(path) not in text


def test_clean_repo(repo: Path, tmp_path: Path) -> None:
    result = run_child(["scripts/train.py"], cwd=repo)
    context = result["context"]
    assert context["git"] == {
        "commit": git(repo, "rev-parse", "HEAD"),
        "branch": "main",
        "dirty": False,
        "remote": None,
    }
    assert context["entry_point"]["path"] == "scripts/train.py"
    assert context["entry_point"]["argv"] == ["scripts/train.py"]
    assert context["entry_point"]["module"] is None
    assert result["source"] == str((repo / "scripts" / "train.py").resolve())
    assert result["warnings"] == []
    assert set(context) == {
        "user",
        "host",
        "python",
        "platform",
        "entry_point",
        "git",
        "packages",
        "env",
    }
    assert context["python"]["version"].startswith(f"{sys.version_info[0]}.{sys.version_info[1]}.")
    assert context["python"]["implementation"] == "CPython"
    assert context["host"] and context["platform"]
    assert_no_machine_paths(result, tmp_path, repo)


def test_script_given_by_absolute_path_from_elsewhere(repo: Path, tmp_path: Path) -> None:
    # git runs in the script's directory, not the cwd; argv[0] is made relative too
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = run_child([str(repo / "scripts" / "train.py"), "--lr", "0.1"], cwd=elsewhere)
    context = result["context"]
    assert context["git"]["commit"] == git(repo, "rev-parse", "HEAD")
    assert context["entry_point"] == {
        "path": "scripts/train.py",
        "module": None,
        "argv": ["scripts/train.py", "--lr", "0.1"],
    }
    assert_no_machine_paths(result, tmp_path, repo)


def test_dirty_repo(repo: Path) -> None:
    (repo / "data.txt").write_text("v2\n")
    result = run_child(["scripts/train.py"], cwd=repo)
    assert result["context"]["git"]["dirty"] is True
    assert result["warnings"] == []


def test_untracked_files_do_not_make_it_dirty(repo: Path) -> None:
    (repo / "notes.txt").write_text("scratch\n")
    assert run_child(["scripts/train.py"], cwd=repo)["context"]["git"]["dirty"] is False


def test_detached_head(repo: Path) -> None:
    (repo / "data.txt").write_text("v2\n")
    git(repo, "commit", "-q", "-am", "second")
    first = git(repo, "rev-parse", "HEAD~1")
    git(repo, "checkout", "-q", "--detach", first)
    result = run_child(["scripts/train.py"], cwd=repo)
    assert result["context"]["git"] == {
        "commit": first,
        "branch": None,
        "dirty": False,
        "remote": None,
    }
    assert result["warnings"] == []


def test_repo_without_commits(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q", "-b", "trunk")
    write_script(tmp_path / "train.py")
    result = run_child(["train.py"], cwd=tmp_path)
    assert result["context"]["git"] == {
        "commit": None,
        "branch": "trunk",
        "dirty": False,
        "remote": None,
    }
    assert result["warnings"] == []


def test_not_a_repo(tmp_path: Path) -> None:
    write_script(tmp_path / "train.py")
    probe = subprocess.run(
        ["git", "rev-parse", "--show-toplevel"], cwd=tmp_path, capture_output=True, check=False
    )
    assert probe.returncode != 0, "tmp_path must not be inside a git repository"
    result = run_child(["train.py"], cwd=tmp_path)
    assert result["context"]["git"] is None
    assert result["context"]["entry_point"]["path"] == "train.py"
    assert result["warnings"] == []
    assert_no_machine_paths(result, tmp_path)


def test_worktree(repo: Path, tmp_path: Path) -> None:
    # a linked worktree has a .git *file*; its own branch and root
    worktree = tmp_path / "wt"
    git(repo, "worktree", "add", "-q", "-b", "feature", str(worktree))
    result = run_child(["scripts/train.py"], cwd=worktree)
    assert result["context"]["git"]["branch"] == "feature"
    assert result["context"]["git"]["commit"] == git(repo, "rev-parse", "HEAD")
    assert result["context"]["entry_point"]["path"] == "scripts/train.py"


def test_remote_credentials_are_stripped(repo: Path) -> None:
    git(repo, "remote", "add", "origin", "https://user:ghp_SECRET@github.com/o/r.git")
    result = run_child(["scripts/train.py"], cwd=repo)
    assert result["context"]["git"]["remote"] == "https://github.com/o/r.git"
    assert "ghp_SECRET" not in result["raw"]
    assert "user:ghp" not in result["raw"]


def test_remote_other_than_origin(repo: Path) -> None:
    git(repo, "remote", "add", "upstream", "https://tok@gitlab.example.org/g/p.git")
    result = run_child(["scripts/train.py"], cwd=repo)
    assert result["context"]["git"]["remote"] == "https://gitlab.example.org/g/p.git"


def test_scp_style_remote_is_kept(repo: Path) -> None:
    git(repo, "remote", "add", "origin", "git@github.com:org/repo.git")
    result = run_child(["scripts/train.py"], cwd=repo)
    assert result["context"]["git"]["remote"] == "git@github.com:org/repo.git"


def test_argv_secrets_are_redacted(repo: Path) -> None:
    argv = ["--api-key=SECRET1", "--password", "SECRET2", "--token=SECRET3", "--lr", "0.1"]
    result = run_child(["scripts/train.py", *argv], cwd=repo)
    assert result["context"]["entry_point"]["argv"] == [
        "scripts/train.py",
        "--api-key=***",
        "--password",
        "***",
        "--token=***",
        "--lr",
        "0.1",
    ]
    for secret in ("SECRET1", "SECRET2", "SECRET3"):
        assert secret not in result["raw"]


def test_home_directory_in_argv_is_written_as_tilde(repo: Path, tmp_path: Path) -> None:
    home = tmp_path / "home" / "ada"
    home.mkdir(parents=True)
    env = child_env(HOME=str(home))
    result = run_child(["scripts/train.py", f"--data={home}/d.csv", str(home)], cwd=repo, env=env)
    assert result["context"]["entry_point"]["argv"][1:] == ["--data=~/d.csv", "~"]
    assert str(home) not in json.dumps(result["context"])


def test_only_allowlisted_environment_is_captured(repo: Path) -> None:
    env = child_env(**{"AWS_SECRET_ACCESS_KEY": "SECRET4", "CUDA_VISIBLE_DEVICES": "0"})
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "SLURM_JOB_ID", "PYTHONHASHSEED"):
        env.pop(name, None)
    result = run_child(["scripts/train.py"], cwd=repo, env=env)
    assert result["context"]["env"] == {"CUDA_VISIBLE_DEVICES": "0"}
    assert "SECRET4" not in result["raw"]
    assert "AWS_SECRET_ACCESS_KEY" not in result["raw"]


def test_python_dash_c(repo: Path) -> None:
    code = child_code()
    result = run_child(["-c", code, "--token", "SECRET5"], cwd=repo)
    context = result["context"]
    assert context["entry_point"] == {
        "path": None,
        "module": None,
        "argv": ["-c", "--token", "***"],
    }
    assert result["source"] is None
    assert context["git"]["commit"] == git(repo, "rev-parse", "HEAD")  # from the cwd
    assert result["warnings"] == []
    assert "SECRET5" not in result["raw"]


def test_python_dash_m(repo: Path) -> None:
    write_script(repo / "pkg" / "tool.py")
    (repo / "pkg" / "__init__.py").write_text("")
    result = run_child(["-m", "pkg.tool", "--lr", "1"], cwd=repo)
    assert result["context"]["entry_point"] == {
        "path": "pkg/tool.py",
        "module": "pkg.tool",
        "argv": ["pkg/tool.py", "--lr", "1"],
    }
    assert result["source"] == str((repo / "pkg" / "tool.py").resolve())
    assert_no_machine_paths(result, repo)


def test_stdin_entry_point(repo: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-"],
        input=child_code(),
        cwd=repo,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["context"]["entry_point"]["path"] is None
    assert result["source"] is None


def _oracle() -> str:
    """Child-side expectation from importlib.metadata.packages_distributions() (slow, exact)."""
    return textwrap.dedent(
        """(lambda im, re: {
            re.sub(r"[-_.]+", "-", d).lower(): im.version(d)
            for name, dists in im.packages_distributions().items()
            if name in sys.modules and not name.startswith("_")
            and name not in sys.stdlib_module_names
            for d in dists
        })(__import__("importlib.metadata").metadata, __import__("re"))"""
    ).replace("\n", " ")


def test_packages_imported_by_the_script(repo: Path) -> None:
    numpy = pytest.importorskip("numpy")
    yaml = pytest.importorskip("yaml")  # module yaml, distribution PyYAML (top_level.txt)
    sklearn = pytest.importorskip("sklearn")  # scikit-learn: no top_level.txt, RECORD only
    dateutil = pytest.importorskip("dateutil")  # python-dateutil
    write_script(
        repo / "fit.py",
        imports="import numpy, yaml, sklearn, dateutil",
        extra=_oracle(),
    )
    result = run_child(["fit.py"], cwd=repo)
    packages = result["context"]["packages"]
    assert packages["numpy"] == numpy.__version__
    assert packages["pyyaml"] == yaml.__version__
    assert packages["scikit-learn"] == sklearn.__version__
    assert "python-dateutil" in packages
    del dateutil
    # exactly what importlib.metadata says about the imported top-level modules; an
    # editable install of trackreport itself (make venv) is found from its
    # direct_url.json, which packages_distributions() does not map.
    others = {k: v for k, v in packages.items() if k != "trackreport"}
    assert others == {k: v for k, v in result["extra"].items() if k != "trackreport"}
    assert list(packages) == sorted(packages)


def test_packages_not_imported_are_not_listed(repo: Path) -> None:
    pytest.importorskip("pygments")
    result = run_child(["scripts/train.py"], cwd=repo)
    packages = result["context"]["packages"]
    assert "pygments" not in packages
    assert "scikit-learn" not in packages
    assert "setuptools" not in packages  # only _distutils_hack, imported by a .pth file


def test_editable_install_is_listed(repo: Path, tmp_path: Path) -> None:
    # pip install -e: the dist-info sits in site-packages, the code in the project
    site = tmp_path / "site"
    (site / "mypkg-0.3.dev1.dist-info").mkdir(parents=True)
    project = tmp_path / "mypkg-src"
    (project / "mypkg").mkdir(parents=True)
    (project / "mypkg" / "__init__.py").write_text("")
    (site / "mypkg-0.3.dev1.dist-info" / "direct_url.json").write_text(
        json.dumps({"url": project.as_uri(), "dir_info": {"editable": True}})
    )
    # a look-alike next to it, not installed: same name, other place
    (tmp_path / "mypkg-src2" / "mypkg").mkdir(parents=True)
    write_script(repo / "use.py", imports="import mypkg")
    env = child_env(PYTHONPATH=os.pathsep.join([str(SRC), str(site), str(project)]))
    assert run_child(["use.py"], cwd=repo, env=env)["context"]["packages"]["mypkg"] == "0.3.dev1"
    env = child_env(PYTHONPATH=os.pathsep.join([str(SRC), str(site), str(tmp_path / "mypkg-src2")]))
    assert "mypkg" not in run_child(["use.py"], cwd=repo, env=env)["context"]["packages"]


def _fake_git(directory: Path, body: str) -> Path:
    directory.mkdir()
    fake = directory / "git"
    fake.write_text(f"#!/bin/sh\n{body}\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    return directory


@pytest.mark.skipif(os.name != "posix", reason="PATH games with a shell script")
def test_no_git_on_path_inside_a_repo(repo: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    result = run_child(["scripts/train.py"], cwd=repo, env=child_env(PATH=str(empty)))
    assert result["context"]["git"] is None
    assert result["context"]["entry_point"]["path"] == "scripts/train.py"  # found without git
    assert len(result["warnings"]) == 1
    assert "git is not installed" in result["warnings"][0]


@pytest.mark.skipif(os.name != "posix", reason="PATH games with a shell script")
def test_no_git_on_path_outside_a_repo_is_quiet(tmp_path: Path) -> None:
    write_script(tmp_path / "train.py")
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    result = run_child(["train.py"], cwd=tmp_path, env=child_env(PATH=str(empty)))
    assert result["context"]["git"] is None
    assert result["warnings"] == []


@pytest.mark.skipif(os.name != "posix", reason="fake git is a shell script")
def test_git_failing_warns_once(repo: Path, tmp_path: Path) -> None:
    bin_dir = _fake_git(tmp_path / "bin", "echo 'fatal: index file corrupt' >&2\nexit 128")
    write_script(repo / "twice.py", setup="tc.capture_context()")
    result = run_child(["twice.py"], cwd=repo, env=child_env(PATH=f"{bin_dir}:/usr/bin:/bin"))
    assert result["context"]["git"] is None
    assert len(result["warnings"]) == 1  # two captures, one warning
    assert "index file corrupt" in result["warnings"][0]


@pytest.mark.skipif(os.name != "posix", reason="fake git is a shell script")
def test_git_timing_out_is_killed_and_warns(repo: Path, tmp_path: Path) -> None:
    bin_dir = _fake_git(tmp_path / "bin", "sleep 30")  # a child git would leave behind, too
    write_script(
        repo / "slow.py",
        imports="import time",
        setup="tc.GIT_TIMEOUT = 0.3; t0 = time.monotonic()",
        extra="time.monotonic() - t0",
    )
    result = run_child(["slow.py"], cwd=repo, env=child_env(PATH=f"{bin_dir}:/usr/bin:/bin"))
    assert result["context"]["git"] is None
    assert result["context"]["user"] is not None  # the rest is still there
    assert any("did not answer" in w for w in result["warnings"])
    assert result["extra"] < 5


def test_getuser_failing_records_none(repo: Path) -> None:
    write_script(
        repo / "nouser.py",
        setup=(
            "import getpass\n    def _fail(): raise OSError('no user')\n    getpass.getuser = _fail"
        ),
    )
    result = run_child(["nouser.py"], cwd=repo)
    assert result["context"]["user"] is None
    assert result["context"]["git"] is not None


def test_import_is_light() -> None:
    code = (
        "import sys, trackreport.context as tc; tc.capture_context(); "
        "print([m for m in ('pandas', 'jinja2', 'altair', 'git') if m in sys.modules])"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], env=child_env(), capture_output=True, text=True, check=True
    )
    assert proc.stdout.strip() == "[]"
