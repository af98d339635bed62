"""``trackreport run``: run a program with the ``mlflow`` shim first on its import path."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .errors import TrackreportError
from .store import absolute_location

SHIM_DIR = Path(__file__).parent / "_shim"
"""The folder holding the ``mlflow`` shim package (on PYTHONPATH only under ``trackreport run``)."""


def shim_environment(store: str | os.PathLike[str], experiment: str | None,
                     base: dict[str, str] | None = None,
                     storage_options: Mapping[str, Any] | None = None) -> dict[str, str]:
    """The environment of a program run by ``trackreport run`` (children inherit it)."""
    env = dict(os.environ if base is None else base)
    rest = env.get("PYTHONPATH")
    env["PYTHONPATH"] = os.pathsep.join([str(SHIM_DIR), *([rest] if rest else [])])
    env["TRACKREPORT_STORE"] = absolute_location(store)  # a URL stays a URL
    if storage_options:
        env["TRACKREPORT_STORAGE_OPTIONS"] = json.dumps(dict(storage_options))
    env["TRACKREPORT_MLFLOW_PINNED"] = "1"  # set_tracking_uri keeps this store
    if experiment is not None:
        env["MLFLOW_EXPERIMENT_NAME"] = experiment
    return env


def run_program(command: list[str], store: str | os.PathLike[str],
                experiment: str | None = None,
                storage_options: Mapping[str, Any] | None = None) -> int:
    """Run ``command`` with the shim; returns its exit status (128+N after signal N)."""
    if not command:
        raise TrackreportError("trackreport run needs a command after --")
    env = shim_environment(store, experiment, storage_options=storage_options)
    try:
        proc = subprocess.Popen(command, env=env)
    except FileNotFoundError:
        raise TrackreportError(f"command not found: {command[0]}") from None
    except PermissionError:
        raise TrackreportError(f"command is not executable: {command[0]}") from None
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # the program gets Ctrl-C itself
    previous_term = signal.signal(signal.SIGTERM, lambda signum, frame: proc.terminate())
    try:
        code = proc.wait()
    finally:
        signal.signal(signal.SIGINT, previous)
        signal.signal(signal.SIGTERM, previous_term)
    return 128 - code if code < 0 else code
