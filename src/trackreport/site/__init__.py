"""The static report site: ``build_site(store, out)`` turns a store into HTML.

Imported lazily: ``import trackreport`` never loads jinja2, pandas or altair.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .build import BuildResult, build_site

__all__ = ["BuildResult", "build_site"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import build

        return getattr(build, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
