"""The chart JavaScript of a built site: vega, vega-lite and vega-embed.

The code comes from the vl-convert-python package (``vl_convert.javascript_bundle``),
not from files kept in this repository. It is written once per site to
``assets/vendor/vega-bundle.js``, wrapped in a function scope so that it leaks
no top-level names: the only global it sets is ``window.vegaEmbed``. Its
license text goes next to it.
"""

from __future__ import annotations

import functools
from pathlib import Path

__all__ = ["BUNDLE_NAME", "LICENSE_NAME", "bundle_text", "license_text", "write_assets"]

BUNDLE_NAME = "vega-bundle.js"
LICENSE_NAME = "vega-bundle.LICENSE.txt"

# The snippet runs inside the bundle, where vl-convert provides `vegaEmbed`.
# Expose exactly one global; pages reach vega only through vega-embed.
_SNIPPET = "window.vegaEmbed = vegaEmbed;\n"

_VEGA_LICENSE = """\
Copyright (c) 2015-2024, University of Washington Interactive Data Lab
All rights reserved.

Redistribution and use in source and binary forms, with or without
modification, are permitted provided that the following conditions are met:

1. Redistributions of source code must retain the above copyright notice, this
   list of conditions and the following disclaimer.

2. Redistributions in binary form must reproduce the above copyright notice,
   this list of conditions and the following disclaimer in the documentation
   and/or other materials provided with the distribution.

3. Neither the name of the copyright holder nor the names of its contributors
   may be used to endorse or promote products derived from this software
   without specific prior written permission.

THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS "AS IS" AND
ANY EXPRESS OR IMPLIED WARRANTIES, INCLUDING, BUT NOT LIMITED TO, THE IMPLIED
WARRANTIES OF MERCHANTABILITY AND FITNESS FOR A PARTICULAR PURPOSE ARE
DISCLAIMED. IN NO EVENT SHALL THE COPYRIGHT HOLDER OR CONTRIBUTORS BE LIABLE
FOR ANY DIRECT, INDIRECT, INCIDENTAL, SPECIAL, EXEMPLARY, OR CONSEQUENTIAL
DAMAGES (INCLUDING, BUT NOT LIMITED TO, PROCUREMENT OF SUBSTITUTE GOODS OR
SERVICES; LOSS OF USE, DATA, OR PROFITS; OR BUSINESS INTERRUPTION) HOWEVER
CAUSED AND ON ANY THEORY OF LIABILITY, WHETHER IN CONTRACT, STRICT LIABILITY,
OR TORT (INCLUDING NEGLIGENCE OR OTHERWISE) ARISING IN ANY WAY OUT OF THE USE
OF THIS SOFTWARE, EVEN IF ADVISED OF THE POSSIBILITY OF SUCH DAMAGE.
"""


def _versions() -> dict[str, str]:
    import vl_convert as vlc

    return {
        "vega": vlc.get_vega_version(),
        "vega-lite": vlc.get_vegalite_versions()[-1],
        "vega-embed": vlc.get_vega_embed_version(),
    }


@functools.lru_cache(maxsize=1)
def bundle_text() -> str:
    """The wrapped bundle, as written to ``assets/vendor/vega-bundle.js``.

    About 900 KB and seconds to make, the same bytes every time for one
    installed vl-convert-python: made once per machine (``derived``), then read.
    """
    from . import derived

    key = [derived.package_version("vl-convert-python"), derived.source_digest(__file__)]
    return derived.remembered("vega-bundle", key, _make_bundle)


def _make_bundle() -> str:
    import vl_convert as vlc

    code = vlc.javascript_bundle(snippet=_SNIPPET)
    versions = _versions()
    banner = (
        "/*! "
        + ", ".join(f"{name} {version}" for name, version in versions.items())
        + f" | BSD-3-Clause | see {LICENSE_NAME} */\n"
    )
    # A function scope keeps the bundle's top-level `const`s and functions
    # out of the page's global scope; the snippet sets window.vegaEmbed.
    return banner + "(function () {\n" + code.rstrip() + "\n})();\n"


def _package_license() -> str:
    from importlib import metadata

    try:
        dist = metadata.distribution("vl-convert-python")
    except metadata.PackageNotFoundError:  # pragma: no cover - a dependency
        return ""
    for file in sorted(dist.files or [], key=str):
        name = file.name.upper()
        if name.startswith(("LICENSE", "LICENCE", "COPYING")):
            try:
                return file.read_text(encoding="utf-8")
            except OSError:  # pragma: no cover
                continue
    return ""


@functools.lru_cache(maxsize=1)
def license_text() -> str:
    """The licenses of the code in the bundle, as one text file."""
    versions = _versions()
    parts = [
        f"{BUNDLE_NAME} is made by vl-convert-python (vl_convert.javascript_bundle).",
        "It contains:",
        "",
        *(f"  {name} {version}, BSD-3-Clause" for name, version in versions.items()),
        "",
        "and their dependencies (among them d3 modules, ISC; vega-themes,",
        "vega-tooltip and vega-schema-url-parser, BSD-3-Clause;",
        "json-stringify-pretty-compact, fast-json-stable-stringify and",
        "lodash.debounce, MIT), each under its own permissive license.",
        "",
        "=" * 72,
        "vega, vega-lite, vega-embed (https://github.com/vega)",
        "=" * 72,
        "",
        _VEGA_LICENSE,
    ]
    package = _package_license().strip()
    if package:
        parts += [
            "=" * 72,
            "vl-convert (https://github.com/vega/vl-convert)",
            "=" * 72,
            "",
            package,
            "",
        ]
    return "\n".join(parts)


def write_assets(assets_dir: Path) -> None:
    """Write the chart bundle and its license under ``assets_dir/vendor/``.

    Writes ``vendor/vega-bundle.js`` and ``vendor/vega-bundle.LICENSE.txt``
    (UTF-8, ``\\n`` line ends, the same bytes on every build).

    Args:
        assets_dir: the site's ``assets`` folder; created when missing.
    """
    vendor = Path(assets_dir) / "vendor"
    vendor.mkdir(parents=True, exist_ok=True)
    for name, text in ((BUNDLE_NAME, bundle_text()), (LICENSE_NAME, license_text())):
        (vendor / name).write_bytes(text.encode("utf-8"))
