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


def test_a_fresh_checkout_builds_with_the_top_level_theme(tmp_path: Path) -> None:
    """Only the files git tracks (a fresh clone), src/ on the path: the theme comes from themes/."""
    assert (ROOT / "themes/default/templates/base.html").is_file()
    assert not (ROOT / "src/trackreport/themes").exists()
    listed = subprocess.run(["git", "ls-files", "-z", "src", "themes"], cwd=ROOT, check=True,
                            capture_output=True).stdout.decode().split("\0")
    clone = tmp_path / "clone"
    for rel in filter(None, listed):
        (clone / rel).parent.mkdir(parents=True, exist_ok=True)
        (clone / rel).write_bytes((ROOT / rel).read_bytes())
    store = tmp_path / "store"
    env = {**os.environ, "PYTHONPATH": str(clone / "src")}
    env.pop("TRACKREPORT_STORE", None)
    script = ("import trackreport as tr, sys\n"
              "from trackreport.site.themes import default_theme_dir\n"
              "print(tr.__file__)\n"
              "print(default_theme_dir())\n"
              f"tr.set_store({str(store)!r})\n"
              "with tr.start_run(name='r', capture=False):\n"
              "    tr.log_metric('acc', 0.5)\n"
              "from trackreport.cli import main\n"
              f"sys.argv = ['trackreport', 'build', '--store', {str(store)!r}, '--out', 'site']\n"
              "main()\n")
    proc = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env,
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith(str(clone / "src"))
    assert Path(lines[1]) == clone / "themes" / "default"
    assert (tmp_path / "site/assets/style.css").read_bytes() == \
        (clone / "themes/default/static/style.css").read_bytes()
