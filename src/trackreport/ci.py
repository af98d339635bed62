"""``trackreport init-ci``: write a CI workflow that publishes the site to Pages.

The workflows are package data files (``ci_templates/*.yml``), not Python
strings; the only substitution is the trackreport version to install.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from .errors import TrackreportError

VERSION_MARK = "@TRACKREPORT_VERSION@"


class CIError(TrackreportError):
    """A workflow cannot be written (unknown forge, file exists, folder not writable)."""


@dataclass(frozen=True)
class Forge:
    """Where a forge's workflow goes and which template fills it."""

    name: str
    template: str
    target: str


FORGES = {
    "github": Forge("github", "github.yml", ".github/workflows/trackreport-pages.yml"),
    "gitlab": Forge("gitlab", "gitlab.yml", ".gitlab-ci.yml"),
}


def workflow_text(forge: str) -> str:
    """The workflow file for ``forge`` (``github`` or ``gitlab``), installing this version."""
    from . import __version__

    spec = _forge(forge)
    text = resources.files("trackreport").joinpath("ci_templates", spec.template).read_text(
        encoding="utf-8")
    return text.replace(VERSION_MARK, __version__)


def write_workflow(forge: str, folder: str | os.PathLike[str] = ".", force: bool = False) -> Path:
    """Write the workflow of ``forge`` under ``folder``; returns its path.

    Raises:
        CIError: unknown forge; the file exists and ``force`` is false; it cannot be written.
    """
    spec = _forge(forge)
    target = Path(folder) / spec.target
    if (target.exists() or target.is_symlink()) and not force:
        raise CIError(f"{spec.target} exists; pass --force to replace it")
    text = workflow_text(forge)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, target)
    except OSError as exc:
        raise CIError(f"cannot write {spec.target}: {exc.strerror or exc}") from None
    return target


def _forge(name: str) -> Forge:
    try:
        return FORGES[name]
    except KeyError:
        raise CIError(f"unknown forge {name!r}: use github or gitlab") from None
