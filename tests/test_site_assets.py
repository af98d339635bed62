"""The chart bundle written into a site's assets."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

from trackreport.site.assets import BUNDLE_NAME, LICENSE_NAME, bundle_text, write_assets

SRC = Path(__file__).resolve().parents[1] / "src"


def test_bundle_written_wrapped_with_license(tmp_path: Path) -> None:
    write_assets(tmp_path / "assets")
    vendor = tmp_path / "assets/vendor"
    assert sorted(p.name for p in vendor.iterdir()) == sorted([BUNDLE_NAME, LICENSE_NAME])
    code = (vendor / BUNDLE_NAME).read_text(encoding="utf-8")
    assert len(code) > 300_000
    lines = code.splitlines()
    assert lines[0].startswith("/*! vega ") and "BSD-3-Clause" in lines[0]
    # Wrapped: nothing but the banner comment and one function call at top level.
    assert lines[1] == "(function () {"
    assert code.endswith("\n})();\n")
    assert "window.vegaEmbed = vegaEmbed" in code or "window.vegaEmbed=" in code
    license_text = (vendor / LICENSE_NAME).read_text(encoding="utf-8")
    for name in ("vega", "vega-lite", "vega-embed"):
        assert f"  {name} " in license_text
    assert "University of Washington Interactive Data Lab" in license_text
    assert "Redistribution and use in source and binary forms" in license_text
    assert "vl-convert" in license_text


def test_bundle_has_no_external_fetch_targets() -> None:
    code = bundle_text()
    # No CDN or module loading at run time.
    assert "import(" not in code.replace("import()", "")
    assert "cdn.jsdelivr" not in code


def test_assets_deterministic(tmp_path: Path) -> None:
    write_assets(tmp_path / "a")
    write_assets(tmp_path / "b")
    for name in (BUNDLE_NAME, LICENSE_NAME):
        assert (tmp_path / "a/vendor" / name).read_bytes() == (
            tmp_path / "b/vendor" / name
        ).read_bytes()
    # Another process writes the same bytes.
    digest = hashlib.sha256((tmp_path / "a/vendor" / BUNDLE_NAME).read_bytes()).hexdigest()
    code = (
        "import hashlib, sys\n"
        "from pathlib import Path\n"
        "from trackreport.site.assets import write_assets\n"
        "write_assets(Path(sys.argv[1]))\n"
        f"print(hashlib.sha256((Path(sys.argv[1]) / 'vendor' / '{BUNDLE_NAME}').read_bytes()).hexdigest())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "c")],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(SRC), "PYTHONHASHSEED": "7", "PATH": "/usr/bin:/bin"},
    ).stdout.strip()
    assert out == digest


def test_bundle_cached_per_process() -> None:
    assert bundle_text() is bundle_text()


def test_write_assets_overwrites_and_creates_folders(tmp_path: Path) -> None:
    target = tmp_path / "deep/assets"
    write_assets(target)
    (target / "vendor" / BUNDLE_NAME).write_text("stale")
    write_assets(target)
    assert (target / "vendor" / BUNDLE_NAME).read_text(encoding="utf-8") == bundle_text()
