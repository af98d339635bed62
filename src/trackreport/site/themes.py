"""Themes: where templates and static files come from, and the jinja2 environment.

A theme is a folder with ``templates/`` and/or ``static/``. The default theme
lives at the repository's top level (``themes/default``); a wheel ships it inside
the package (``trackreport/themes/default``, hatch ``force-include``), and an
editable install or a source tree reads it from the checkout. A user theme, given
by path, overrides any subset of the default templates and static files; its
templates may extend the originals through the ``default:`` prefix, e.g.
``{% extends "default:base.html" %}``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ..errors import BuildError

DEFAULT = "default"
CHECKOUT_THEMES = Path(__file__).resolve().parents[3] / "themes"
"""``themes/`` at the top of a source checkout (``src/trackreport/site/themes.py`` up three)."""


@dataclass(frozen=True)
class Theme:
    """A resolved theme: the folders searched for templates and static files, in order."""

    name: str
    template_dirs: tuple[Path, ...]
    """User template folder first (if any), then the default theme's."""
    static_dirs: tuple[Path, ...]
    """Default static folder first, then the user's (later ones win)."""
    default_templates: Path
    """The default theme's template folder (reachable with the ``default:`` prefix)."""


def default_theme_dir() -> Path:
    """The default theme folder: in the installed package, else in the checkout."""
    installed = Path(str(resources.files("trackreport") / "themes" / DEFAULT))
    if (installed / "templates").is_dir():
        return installed
    checkout = CHECKOUT_THEMES / DEFAULT  # editable install, or src/ on sys.path
    if (checkout / "templates").is_dir():
        return checkout
    raise BuildError(  # pragma: no cover - a broken install
        f"the default theme is missing: neither {installed} (installed package) nor "
        f"{checkout} (source checkout) has a templates/ folder")


def available_themes() -> list[str]:
    """Names of the themes shipped in the package."""
    base = default_theme_dir().parent
    return sorted(p.name for p in base.iterdir() if (p / "templates").is_dir())


def resolve_theme(theme: str | os.PathLike[str] | None = None) -> Theme:
    """The Theme for ``--theme``: None or ``"default"``, a shipped theme name, or a folder.

    Raises BuildError naming the available themes when ``theme`` is neither.
    """
    default = default_theme_dir()
    default_templates = default / "templates"
    default_static = default / "static"
    if theme is None or str(theme) == DEFAULT:
        return Theme(DEFAULT, (default_templates,), (default_static,), default_templates)
    shipped = default.parent / str(theme)
    if isinstance(theme, str) and "/" not in theme and os.sep not in theme \
            and (shipped / "templates").is_dir():
        user = shipped
    else:
        user = Path(theme)
        if not user.is_dir():
            names = ", ".join(available_themes())
            raise BuildError(
                f"unknown theme {str(theme)!r}: give a theme folder (with templates/ "
                f"and/or static/) or one of: {names}"
            )
        if not (user / "templates").is_dir() and not (user / "static").is_dir():
            raise BuildError(
                f"theme folder {str(theme)!r} has neither a templates/ nor a static/ folder"
            )
    templates = [user / "templates"] if (user / "templates").is_dir() else []
    static = [user / "static"] if (user / "static").is_dir() else []
    return Theme(user.name or str(theme), (*templates, default_templates),
                 (default_static, *static), default_templates)


def make_environment(theme: Theme):  # -> jinja2.Environment
    """The jinja2 Environment of a theme: autoescape on, undefined names fail the build,
    bidirectional controls in printed text shown as U+FFFD (``notes.visible_text``)."""
    import jinja2

    from .derived import template_cache
    from .notes import visible_text

    default_loader = jinja2.FileSystemLoader(str(theme.default_templates))
    user_dirs = [str(d) for d in theme.template_dirs if d != theme.default_templates]
    loaders: list[jinja2.BaseLoader] = []
    if user_dirs:
        loaders.append(jinja2.FileSystemLoader(user_dirs))
    loaders.append(default_loader)
    loaders.append(jinja2.PrefixLoader({DEFAULT: default_loader}, delimiter=":"))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        finalize=visible_text,  # compiled into the templates' code: see derived.CODE_FORMAT
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        bytecode_cache=template_cache(),
        auto_reload=False,  # one environment per build: no file check on every page
    )
    return env


def get_template(env, name: str):  # -> jinja2.Template
    """A template by name; a missing one raises BuildError naming the search path."""
    import jinja2

    try:
        return env.get_template(name)
    except jinja2.TemplateNotFound as exc:
        loader = env.loader
        searched = []
        for sub in getattr(loader, "loaders", []):
            searched.extend(getattr(sub, "searchpath", []))
        raise BuildError(
            f"template {exc.name!r} not found; searched: {', '.join(searched)}"
        ) from None


def static_files(theme: Theme) -> Iterator[tuple[str, Path]]:
    """(relative POSIX path, file) of every static file, later theme folders winning, sorted."""
    found: dict[str, Path] = {}
    for folder in theme.static_dirs:
        if not folder.is_dir():
            continue
        for dirpath, dirnames, filenames in os.walk(folder):
            dirnames.sort()
            for name in sorted(filenames):
                path = Path(dirpath) / name
                if path.is_symlink() or name.startswith("."):
                    continue
                rel = path.relative_to(folder).as_posix()
                found[rel] = path
    for rel in sorted(found):
        yield rel, found[rel]
