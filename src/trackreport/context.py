"""Run context captured automatically at ``start_run`` (DESIGN.md section 2).

:func:`capture_context` returns one JSON-serialisable dict: who and where
(user, host), what (Python, platform, the entry point and its argv, the
installed distributions the script imported, allowlisted environment
variables) and which code (git commit, branch, dirty flag, remote).

It runs at every ``start_run``, so it is built to be fast (a few
milliseconds): the ``git`` command line is called directly (GitPython alone
takes 100+ ms to import), two commands started at once (``git status
--porcelain=v2 --branch`` for commit, branch and dirty flag; ``git config``
for the remote) that run while the other fields are gathered, with a short
timeout; the repository root is the nearest ``.git`` up from the script
(no process, and none at all outside a repository). Package versions come
from ``*.dist-info`` directory names instead of ``importlib.metadata``
(26 ms to import, and ``packages_distributions()`` parses every
distribution's RECORD: 70-90 ms with 60 packages installed).

Capture never raises and never leaks: a failure is recorded as ``None``,
with a :class:`CaptureWarning` when something is genuinely wrong (git
failing with an error, timing out, or missing inside a repository); being
outside a git repository, a detached HEAD, ``python -c`` or a notebook are
normal and recorded quietly. Secrets go through :mod:`trackreport.redact`,
environment variables other than :data:`~trackreport.redact.ENV_ALLOWLIST`
are never read into the result, and no absolute path of the machine is
recorded (the entry point is relative to the git root, or just its name).

Standard library only.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

from trackreport.redact import allowed_env, redact_argv, redact_url

if TYPE_CHECKING:
    import pathlib

__all__ = ["GIT_TIMEOUT", "CaptureWarning", "capture_context", "entry_point_source"]

GIT_TIMEOUT = 2.0
"""Seconds all git commands of one capture may take together before they are killed."""


class CaptureWarning(UserWarning):
    """Part of the run context could not be captured; it is recorded as ``None``."""


_warned: set[str] = set()


def _warn_once(key: str, message: str) -> None:
    """Warn about one kind of capture problem once per process, not at every run."""
    if key not in _warned:
        _warned.add(key)
        warnings.warn(message, CaptureWarning, stacklevel=3)


# --- who, where, what ----------------------------------------------------------


def _user() -> str | None:
    import getpass

    try:
        return getpass.getuser()
    except Exception:  # OSError on 3.13+, KeyError from pwd before: no name for this uid
        return None


def _host() -> str | None:
    if hasattr(os, "uname"):  # what socket.gethostname() returns on POSIX, without importing socket
        return os.uname().nodename or None
    import socket

    return socket.gethostname() or None


_IMPLEMENTATIONS = {"cpython": "CPython", "pypy": "PyPy", "ironpython": "IronPython"}


def _python() -> dict[str, str]:
    info = sys.version_info
    version = f"{info.major}.{info.minor}.{info.micro}"
    if info.releaselevel != "final":
        version += {"alpha": "a", "beta": "b", "candidate": "rc"}.get(info.releaselevel, "")
        version += str(info.serial)
    name = sys.implementation.name
    return {"version": version, "implementation": _IMPLEMENTATIONS.get(name, name)}


def _platform() -> str:
    # platform.platform() also calls libc_ver(), which reads the interpreter binary:
    # milliseconds for a string no reader needs. system-release-machine says the same.
    if hasattr(os, "uname"):
        uname = os.uname()
        system, release, machine = uname.sysname, uname.release, uname.machine
        if system == "Darwin":
            import platform

            system, release = "macOS", platform.mac_ver()[0] or release
        return f"{system}-{release}-{machine}"
    import platform

    return f"{platform.system()}-{platform.release()}-{platform.machine()}"


# --- entry point ---------------------------------------------------------------


def _main_file() -> str | None:
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if not isinstance(path, str) or not path:
        return None  # python -c, REPL, notebooks (IPython's __main__ has no __file__)
    if os.path.basename(path) in ("ipykernel_launcher.py", "<stdin>"):
        return None
    path = os.path.abspath(path)
    return path if os.path.isfile(path) else None  # -m of a zipped or frozen module


def entry_point_source() -> pathlib.Path | None:
    """Return the script file that started this process, to copy as an artifact.

    Returns:
        The absolute path of ``__main__``'s file for ``python script.py``,
        ``python -m module`` and console scripts; ``None`` for ``python -c``,
        the REPL, notebooks, stdin and modules that are not plain files.
    """
    path = _main_file()
    if path is None:
        return None
    import pathlib

    return pathlib.Path(path)


def _main_module() -> str | None:
    """``pkg.mod`` for ``python -m pkg.mod`` (``pkg`` for ``python -m pkg``), else None."""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    name = getattr(spec, "name", None)
    if not isinstance(name, str):
        return None
    return name.removesuffix(".__main__")


def _entry_point(script: str | None, git_root: str | None, argv: list[str]) -> dict[str, Any]:
    path = None
    if script is not None:
        path = os.path.basename(script)
        if git_root is not None:
            rel = os.path.relpath(os.path.realpath(script), os.path.realpath(git_root))
            if not rel.startswith(os.pardir):
                path = rel.replace(os.sep, "/")
    args = [str(a) for a in argv]
    if args:  # sys.argv[0] is often absolute (always so with -m and console scripts)
        if path is not None and script is not None and _same_name(args[0], script):
            args[0] = path
        elif os.path.isabs(args[0]):
            args[0] = os.path.basename(args[0])
    return {"path": path, "module": _main_module(), "argv": _tilde(redact_argv(args))}


def _same_name(arg: str, script: str) -> bool:
    return os.path.basename(arg) == os.path.basename(script)


def _tilde(args: list[str]) -> list[str]:
    """Write the home directory as ``~`` in argv (``--data /home/ada/x`` -> ``--data ~/x``)."""
    home = os.path.expanduser("~").rstrip("/\\")
    if len(home) < 2 or home.startswith("~"):
        return args
    pattern = re.compile(re.escape(home) + r"(?=[/\\]|$)")
    return [pattern.sub("~", arg) if home in arg else arg for arg in args]


# --- git -----------------------------------------------------------------------

_GIT_COMMANDS = {
    "status": [
        "git",
        "--no-optional-locks",  # never take index.lock: a concurrent `git commit` must not fail
        "status",
        "--porcelain=v2",
        "--branch",
        "--untracked-files=no",
    ],
    "remotes": ["git", "config", "-z", "--get-regexp", r"^remote\..*\.url$"],
}
_NOT_A_REPO = re.compile(r"not a git repository", re.IGNORECASE)


class _GitResult(NamedTuple):
    info: dict[str, Any] | None
    root: str | None


def _find_worktree(directory: str) -> str | None:
    """The nearest directory at or above ``directory`` holding ``.git`` (a dir, or a file
    in worktrees and submodules): what ``git rev-parse --show-toplevel`` finds, for a
    few ``stat`` calls instead of a process."""
    current = os.path.abspath(directory)
    while True:
        if os.path.exists(os.path.join(current, ".git")):
            return current
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent


def _kill(proc: subprocess.Popen[bytes]) -> None:
    try:
        if os.name == "posix":
            os.killpg(proc.pid, signal.SIGKILL)  # git and anything it started (hooks, fsmonitor)
        else:
            proc.kill()
    except OSError:
        pass
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()
    try:
        proc.wait(timeout=1)
    except subprocess.TimeoutExpired:
        pass


def _parse_status(text: str) -> dict[str, Any]:
    commit = branch = None
    dirty = False
    for line in text.splitlines():
        if line.startswith("# branch.oid "):
            oid = line[len("# branch.oid ") :].strip()
            commit = None if oid == "(initial)" else oid
        elif line.startswith("# branch.head "):
            head = line[len("# branch.head ") :].strip()
            branch = None if head == "(detached)" else head
        elif line and not line.startswith("#"):
            dirty = True
    return {"commit": commit, "branch": branch, "dirty": dirty}


def _parse_remote(text: str) -> str | None:
    """Pick ``origin``'s URL, else the first remote's, from ``git config -z --get-regexp``."""
    urls: dict[str, str] = {}
    for entry in text.split("\0"):
        key, _, value = entry.partition("\n")
        name = key[len("remote.") : -len(".url")]
        if key and value and name not in urls:
            urls[name] = value.strip()
    url = urls.get("origin") or next(iter(urls.values()), None)
    return redact_url(url) if url else None


class _GitJob:
    """The git commands of one capture: started together, collected after the other fields.

    Outside any ``.git`` (and without ``$GIT_DIR``) no process is started at all.
    """

    def __init__(self, cwd: str) -> None:
        self.root = _find_worktree(cwd)
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.problem: tuple[str, str] | None = None
        if self.root is None and "GIT_DIR" not in os.environ:
            return
        options: dict[str, Any] = {
            "cwd": cwd,
            "env": dict(os.environ, LC_ALL="C", LANGUAGE="C", GIT_TERMINAL_PROMPT="0"),
            "stdin": subprocess.DEVNULL,
            "stdout": subprocess.PIPE,
            "stderr": subprocess.PIPE,
        }
        if os.name == "posix":
            options["start_new_session"] = True  # its own process group, killed as one
        else:
            options["creationflags"] = getattr(subprocess, "CREATE_NO_WINDOW", 0)
        try:
            for name, command in _GIT_COMMANDS.items():
                self.procs[name] = subprocess.Popen(command, **options)
        except OSError as exc:  # FileNotFoundError for git itself, or for cwd; EAGAIN, ...
            self.close()
            if isinstance(exc, FileNotFoundError) and exc.filename == "git":
                self.problem = ("git-missing", "git is not installed")
            else:
                self.problem = ("git-error", f"git could not start: {exc}")
        self.deadline = time.monotonic() + GIT_TIMEOUT

    def close(self) -> None:
        """Kill whatever is still running (a timeout, or an error while collecting)."""
        for proc in self.procs.values():
            if proc.returncode is None:
                _kill(proc)

    def _output(self, name: str) -> tuple[int, str, str]:
        proc = self.procs[name]
        out, err = proc.communicate(timeout=max(0.0, self.deadline - time.monotonic()))
        return proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")

    def result(self) -> _GitResult:
        """Wait for git (until the deadline) and parse its answers; warn on real failures."""
        found = None
        try:
            if self.problem is None and self.procs:
                found = self._collect()
        except subprocess.TimeoutExpired:
            self.problem = ("git-timeout", f"git did not answer within {GIT_TIMEOUT:g} s")
        finally:
            self.close()
        if self.problem is not None:
            key, message = self.problem
            _warn_once(key, f"{message}: git commit, branch and remote not recorded")
            return _GitResult(None, self.root)  # the entry point stays relative to the repository
        return found or _GitResult(None, None)

    def _collect(self) -> _GitResult:
        code, out, err = self._output("status")
        if code != 0:
            if not _NOT_A_REPO.search(err):  # outside a repository is normal; the rest is not
                self.problem = ("git-error", f"git status failed ({err.strip() or code})")
            return _GitResult(None, None)
        info = _parse_status(out)
        code, out, err = self._output("remotes")
        if code not in (0, 1):  # 1: no remote configured
            _warn_once("git-remote", f"git config failed, remote not recorded: {err.strip()}")
        info["remote"] = _parse_remote(out) if code == 0 else None
        return _GitResult(info, self.root)


# --- packages ------------------------------------------------------------------


class _Dist(NamedTuple):
    name: str  # canonical (PEP 503) name: scikit-learn, pyyaml
    version: str
    path: str  # the .dist-info / .egg-info path


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


class _Root:
    """One sys.path directory holding installed distributions, indexed lazily."""

    def __init__(self, path: str, dists: dict[str, _Dist]) -> None:
        self.path = path
        self.dists = dists  # by canonical name
        self._top_level: dict[str, list[_Dist]] | None = None
        self._owners: dict[str, list[_Dist]] = {}

    def top_level_index(self) -> dict[str, list[_Dist]]:
        """Top-level names from every ``top_level.txt`` (setuptools writes it; tiny files)."""
        if self._top_level is None:
            index: dict[str, list[_Dist]] = {}
            for dist in self.dists.values():
                try:
                    with open(os.path.join(dist.path, "top_level.txt"), encoding="utf-8") as f:
                        names = f.read().split()
                except OSError:
                    continue
                for name in names:
                    index.setdefault(name.replace("/", "."), []).append(dist)
            self._top_level = index
        return self._top_level

    def owners(self, module: str) -> list[_Dist]:
        """The distributions in this directory that installed top-level ``module`` (cached)."""
        if module not in self._owners:
            self._owners[module] = self._find_owners(module)
        return self._owners[module]

    def _find_owners(self, module: str) -> list[_Dist]:
        direct = self.dists.get(_canonical(module))
        if direct is not None:
            return [direct]  # numpy -> numpy-2.4.dist-info in the same directory
        listed = self.top_level_index().get(module)
        if listed:
            return listed  # yaml -> PyYAML, dateutil -> python-dateutil
        # No top_level.txt (hatch, flit, meson wheels): search RECORDs, likeliest first.
        # A byte search, not a CSV parse: every RECORD here is ~1 MB, read in ~2 ms.
        patterns = [f"\n{module}/".encode(), f"\n{module}.".encode()]
        for dist in sorted(self.dists.values(), key=lambda d: not _similar(module, d.name)):
            try:
                with open(os.path.join(dist.path, "RECORD"), "rb") as f:
                    data = b"\n" + f.read()
            except OSError:
                continue
            if any(p in data for p in patterns):
                return [dist]
        return []


_roots: dict[str, _Root | None] = {}


def _scan_root(path: str) -> _Root | None:
    try:
        entries = os.listdir(path)
    except OSError:
        return None
    dists: dict[str, _Dist] = {}
    for entry in entries:
        if entry.endswith(".dist-info"):
            stem = entry[: -len(".dist-info")]
        elif entry.endswith(".egg-info"):
            stem = entry[: -len(".egg-info")]
        else:
            continue
        # name-version.dist-info / name-version-py3.11.egg-info: neither part holds a "-".
        name, _, rest = stem.partition("-")
        version = rest.split("-", 1)[0]
        if name and version:
            dists[_canonical(name)] = _Dist(_canonical(name), version, os.path.join(path, entry))
    return _Root(path, dists) if dists else None


def _root(path: str) -> _Root | None:
    if path not in _roots:
        _roots[path] = _scan_root(path)
    return _roots[path]


def _similar(module: str, dist_name: str) -> bool:
    """``module``'s letters appear in order in ``dist_name`` (sklearn / scikit-learn, PIL / pillow)."""
    letters = iter(dist_name)
    return all(c in letters for c in module.lower() if c.isalnum())


def _module_dirs(module: object) -> list[str]:
    """The sys.path-level directories a top-level module was loaded from."""
    path = getattr(module, "__file__", None)
    if isinstance(path, str):
        directory, base = os.path.split(path)
        if base.startswith("__init__."):
            directory = os.path.dirname(directory)
        return [directory]
    try:  # namespace package: one directory per portion
        return [os.path.dirname(p) for p in getattr(module, "__path__", ()) if isinstance(p, str)]
    except Exception:  # a custom __path__ that fails to iterate
        return []


def _editable_owner(module: object, name: str) -> _Dist | None:
    """A distribution installed with ``pip install -e`` whose source holds ``module``."""
    key = _canonical(name)
    dists = [root.dists[key] for root in _roots.values() if root is not None and key in root.dists]
    if not dists:
        return None
    import json
    from urllib.parse import unquote, urlsplit

    for dist in dists:
        try:
            with open(os.path.join(dist.path, "direct_url.json"), encoding="utf-8") as f:
                direct = json.load(f)
            if not direct.get("dir_info", {}).get("editable"):
                continue
            source = os.path.abspath(unquote(urlsplit(str(direct["url"])).path))
        except (OSError, ValueError, KeyError, AttributeError):
            continue
        for directory in _module_dirs(module):
            directory = os.path.abspath(directory)
            if directory == source or directory.startswith(source.rstrip(os.sep) + os.sep):
                return dist
    return None


_SKIP_MODULES = frozenset(sys.stdlib_module_names) | frozenset(sys.builtin_module_names)


def _packages() -> dict[str, str]:
    """``{distribution: version}`` for installed distributions whose top-level modules are imported.

    Private top-level modules (``_pytest``, ``_distutils_hack``, started by a
    ``.pth`` file at every interpreter start) are skipped: their public package
    is imported too when the script uses it. A namespace package (``google``)
    counts for every distribution that installed part of it.
    """
    for entry in sys.path:
        _root(os.path.abspath(entry or os.curdir))
    by_path = {path: root for path, root in _roots.items() if root is not None}
    found: dict[str, str] = {}
    for name, module in list(sys.modules.items()):
        if module is None or "." in name or name.startswith("_") or name in _SKIP_MODULES:
            continue
        owners: list[_Dist] = []
        for directory in _module_dirs(module):
            root = by_path.get(os.path.abspath(directory))
            if root is not None:
                owners.extend(root.owners(name))
        if not owners and (editable := _editable_owner(module, name)) is not None:
            owners.append(editable)
        for dist in owners:
            found.setdefault(dist.name, dist.version)
    return dict(sorted(found.items()))


# --- all together ----------------------------------------------------------------


def _safe(field: str, provider: Callable[[], Any]) -> Any:
    # Broad on purpose: capture is a side job and a bug in it must not kill a training run.
    try:
        return provider()
    except Exception as exc:
        _warn_once(f"error-{field}", f"could not capture {field}: {type(exc).__name__}: {exc}")
        return None


def capture_context(argv: list[str] | None = None) -> dict[str, Any]:
    """Capture who, where and what is running, for the ``run.start`` event.

    Args:
        argv: the command line to record, redacted; defaults to ``sys.argv``.

    Returns:
        A JSON-serialisable dict, never raising::

            {"user": "ada" | None, "host": "gpu-3",
             "python": {"version": "3.11.7", "implementation": "CPython"},
             "platform": "Linux-6.1.0-x86_64",
             "entry_point": {"path": "train/fit.py" | None,   # relative to the git root,
                             "module": "pkg.cli" | None,     # else the file name
                             "argv": ["train/fit.py", "--lr", "0.1", "--token", "***"]},
             "git": {"commit": "3f9a...", "branch": "main" | None, "dirty": False,
                     "remote": "https://github.com/o/r.git" | None} | None,
             "packages": {"numpy": "2.4.6", "scikit-learn": "1.9.1"},
             "env": {"CUDA_VISIBLE_DEVICES": "0"}}

        ``git`` is ``None`` outside a repository; ``branch`` is ``None`` on a
        detached HEAD; ``commit`` is ``None`` before the first commit.

    Warns:
        CaptureWarning: once per process and kind of problem, when git fails
        with an error, times out, or is missing inside a repository.
    """
    script = _safe("entry point", _main_file)
    args = list(sys.argv if argv is None else argv)
    # git runs in the script's directory while the other fields are gathered.
    job = _safe("git", lambda: _GitJob(os.path.dirname(script) if script else os.curdir))
    context = {
        "user": _safe("user", _user),
        "host": _safe("host", _host),
        "python": _safe("python", _python),
        "platform": _safe("platform", _platform),
        "entry_point": None,
        "git": None,
        "packages": _safe("packages", _packages),
        "env": _safe("env", lambda: allowed_env(os.environ)),
    }
    git = (_safe("git", job.result) if job is not None else None) or _GitResult(None, None)
    context["git"] = git.info
    context["entry_point"] = _safe("entry point", lambda: _entry_point(script, git.root, args))
    return context
