"""The story on built pages: nested runs, run folders, and (in chromium) the layout
and the reader's-clock "3 days ago" on the committed example site."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup

from trackreport.site.build import build_site

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "site_example"

STORE_CODE = """
import json, sys
import trackreport as tr
tr.set_store(sys.argv[1])
tr.set_experiment("nested", primary_metric="score", goal="max")
ids = {}
with tr.start_run(name="sweep", capture=False) as parent:
    ids["parent"] = parent.id
    for i, score in enumerate([0.5, 0.7]):
        with tr.start_run(name=f"child-{i}", nested=True, capture=False) as child:
            ids[f"child-{i}"] = child.id
            tr.log_metric("score", score)
print(json.dumps(ids))
"""


@pytest.fixture(scope="module")
def nested(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    base = tmp_path_factory.mktemp("nested")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "TRACKREPORT_CAPTURE": "0"}
    done = subprocess.run([sys.executable, "-c", STORE_CODE, str(base / "store")], env=env,
                          capture_output=True, text=True, check=True)
    ids = json.loads(done.stdout.strip().splitlines()[-1])
    build_site(base / "store", base / "site")
    return base / "site", ids


def test_every_run_page_lives_at_its_run_id(nested: tuple[Path, dict[str, str]]) -> None:
    site, ids = nested
    assert sorted(p.name for p in (site / "runs").iterdir()) == sorted(ids.values())
    for run_id in ids.values():
        assert (site / "runs" / run_id / "index.html").is_file()


def test_parent_page_links_each_child(nested: tuple[Path, dict[str, str]]) -> None:
    site, ids = nested
    soup = BeautifulSoup((site / "runs" / ids["parent"] / "index.html").read_text("utf-8"),
                         "html.parser")
    section = soup.find(id="children-heading").find_parent("section")
    links = {a.get_text(): a["href"] for a in section.select("a.run-name")}
    assert links == {"child-0": f"../{ids['child-0']}/index.html",
                     "child-1": f"../{ids['child-1']}/index.html"}
    assert "score 0.7" in section.get_text(" ")


def test_experiment_table_groups_children_under_parent(nested: tuple[Path, dict[str, str]]
                                                       ) -> None:
    site, ids = nested
    soup = BeautifulSoup((site / "experiments/nested/index.html").read_text("utf-8"),
                         "html.parser")
    rows = soup.select("[data-runs-table] tbody tr")
    order = [r["data-run-id"] for r in rows]
    assert order == [ids["parent"], ids["child-1"], ids["child-0"]]
    assert rows[0]["data-children"] == "2"
    assert [r.get("data-parent") for r in rows[1:]] == [ids["parent"]] * 2
    # best run considers every run, children included
    assert soup.select_one(".best-card .best-name a").get_text() == "child-1"


def test_show_prints_the_run_page_path(nested: tuple[Path, dict[str, str]]) -> None:
    site, ids = nested
    from click.testing import CliRunner

    from trackreport.cli import cli

    result = CliRunner().invoke(cli, ["show", ids["parent"], "--store",
                                      str(site.parent / "store")])
    assert result.exit_code == 0, result.output
    assert f"runs/{ids['parent']}/index.html" in result.output


# in chromium, on the committed example site ---------------------------------------------
def _example_pages() -> dict[str, Path]:
    return {"index": EXAMPLE / "index.html",
            "experiment": next((EXAMPLE / "experiments").glob("*/index.html")),
            "run": next((EXAMPLE / "runs").glob("*/index.html"))}


@pytest.mark.browser
def test_primary_metric_header_visible_at_1280(browser: Any) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(_example_pages()["experiment"].as_uri())
    header = page.locator("[data-runs-table] thead th[data-group='metrics']").first
    header.scroll_into_view_if_needed()
    box = header.bounding_box()
    assert "val_roc_auc" in header.inner_text()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 1280
    assert page.evaluate("window.scrollX") == 0
    page.close()


@pytest.mark.browser
@pytest.mark.parametrize("name", ["index", "experiment", "run"])
def test_no_sideways_scroll_on_a_phone(browser: Any, name: str) -> None:
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(_example_pages()[name].as_uri())
    page.wait_for_timeout(300)
    assert page.evaluate("document.documentElement.scrollWidth") == 390
    page.close()


@pytest.mark.browser
def test_relative_times_come_from_the_readers_clock(browser: Any) -> None:
    index = _example_pages()["index"]
    html = index.read_text("utf-8")
    assert "just now" not in html and " ago" not in html
    soup = BeautifulSoup(html, "html.parser")
    last = max(dt.datetime.fromisoformat(t["datetime"].replace("Z", "+00:00"))
               for t in soup.select("time[datetime]"))
    page = browser.new_page()
    page.clock.set_fixed_time(last + dt.timedelta(days=3, minutes=5))
    page.goto(index.as_uri())
    text = page.locator("main").inner_text()
    assert "3 days ago" in text
    assert "just now" not in text and "less than a minute" not in text
    page.close()
