"""The wheel ships the default theme: a site builds from an installed wheel outside the checkout."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import trackreport as tr

ROOT = Path(__file__).resolve().parent.parent


def test_build_site_from_installed_wheel(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(dist), str(ROOT)], check=True, capture_output=True)
    wheel = next(dist.glob("trackreport-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for expected in ("trackreport/py.typed", "trackreport/filter_grammar.lark",
                     "trackreport/themes/default/templates/base.html",
                     "trackreport/themes/default/static/style.css",
                     "trackreport/themes/default/static/table.js",
                     "trackreport/ci_templates/github.yml",
                     "trackreport/ci_templates/gitlab.yml"):
        assert expected in names, expected
    target = tmp_path / "installed"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target",
                    str(target), str(wheel)], check=True, capture_output=True)

    store = tmp_path / "store"
    tr.set_store(store)
    try:
        tr.set_experiment("wheel-check", primary_metric="acc", goal="max")
        for i in range(2):
            with tr.start_run(name=f"r{i}", capture=False):
                tr.log_metric("acc", 0.5 + i / 10)
    finally:
        tr.set_store("./trackruns")
        tr.set_experiment("Default")
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {**os.environ, "PYTHONPATH": str(target)}
    script = ("import trackreport, sys; print(trackreport.__file__); "
              "from trackreport.cli import main; sys.argv = ['trackreport', 'build', "
              f"'--store', {str(store)!r}, '--out', 'site']; main()")
    proc = subprocess.run([sys.executable, "-c", script], cwd=work, env=env,
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0].startswith(str(target))  # the wheel, not the checkout
    assert "Built 1 experiment, 2 runs" in proc.stdout
    assert (work / "site" / "index.html").is_file()
    assert (work / "site" / "assets" / "style.css").is_file()
