"""The committed example: examples/trackruns builds exactly the committed site_example/."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STORE = ROOT / "examples" / "trackruns"
SITE = ROOT / "site_example"
SRC = str(ROOT / "src")


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*"))
            if p.is_file() and ".trackreport-cache" not in p.relative_to(root).parts}


def test_site_example_rebuilds_byte_for_byte(tmp_path: Path) -> None:
    out = tmp_path / "rebuilt"
    env = {**os.environ, "PYTHONPATH": SRC}
    env.pop("SOURCE_DATE_EPOCH", None)
    proc = subprocess.run(
        [sys.executable, "-m", "trackreport", "build", "--store", str(STORE), "--out", str(out),
         "--title", "trackreport example"],
        capture_output=True, text=True, env=env, cwd=tmp_path, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("Built 1 experiment, 9 runs")
    want, got = _files(SITE), _files(out)
    assert sorted(got) == sorted(want), "the set of files differs: run `make site-example`"
    differing = [name for name in want if want[name] != got[name]]
    assert differing == [], f"rebuilt files differ (run `make site-example`): {differing[:5]}"


def test_example_store_reads_and_checks_clean() -> None:
    import trackreport as tr

    runs = tr.load_runs(store=STORE)
    assert len(runs) == 9 and set(runs["status"]) == {"FINISHED"}
    proc = subprocess.run([sys.executable, "-m", "trackreport", "check", "--store", str(STORE)],
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": SRC},
                          check=False)
    assert proc.returncode == 0 and proc.stdout.startswith("OK: 9 runs"), proc.stdout


def test_run_pages_show_the_primary_metric_in_its_format() -> None:
    # val_roc_auc is declared format="percent": the run page's big number agrees with the
    # experiment page ("99.5 %"), not a bare 0.9952.
    from bs4 import BeautifulSoup

    root = Path(__file__).resolve().parent.parent / "site_example" / "runs"
    bigs = [BeautifulSoup((d / "index.html").read_text("utf-8"), "html.parser")
            .select_one(".big-number").get_text(strip=True) for d in sorted(root.iterdir())]
    assert bigs and all(b.endswith("%") for b in bigs), bigs
    assert "99.5\u00a0%" in bigs


def test_tables_show_a_percent_metric_as_the_sentences_do() -> None:
    # The runs table and the run pages' metric tables write val_roc_auc as "99.5 %" too,
    # so one value never reads as 99.5 % in a sentence and 0.9952 in the table beside it.
    from bs4 import BeautifulSoup

    site = Path(__file__).resolve().parent.parent / "site_example"
    exp = BeautifulSoup(next((site / "experiments").glob("*/index.html")).read_text("utf-8"),
                        "html.parser")
    table = exp.select_one("table")
    headers = [th.get_text(" ", strip=True) for th in table.select("thead th")]
    column = next(i for i, h in enumerate(headers) if "val_roc_auc" in h or "ROC" in h)
    cells = [tr.find_all(["th", "td"])[column].get_text(strip=True).rstrip("★")
             for tr in table.select("tbody tr")]
    assert cells and all(c.endswith("\u00a0%") for c in cells), cells
    assert "99.5\u00a0%" in cells
    for page in sorted((site / "runs").glob("*/index.html")):
        soup = BeautifulSoup(page.read_text("utf-8"), "html.parser")
        row = soup.select_one("tr.primary-row")
        big = soup.select_one(".big-number").get_text(strip=True)
        assert row.find_all("td")[0].get_text(strip=True) == big
