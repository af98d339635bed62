"""Images over time (log_image) in Debian's chromium, from file:// under the site's CSP:
the compare page shows the chosen runs' images side by side with one slider per key that
moves every run together; the run page has a slider too, and links to every step
without JavaScript. Also the compare page's headline, in the experiment's words.

These tests fail (never skip) when /usr/bin/chromium is missing.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from browser_helpers import HOSTILE, SHOTS, STATIC, Watch

pytestmark = pytest.mark.browser

STORE_SCRIPT = r"""
import sys
import numpy as np
import trackreport as tr

HOSTILE = sys.argv[2]
tr.set_store(sys.argv[1])
tr.set_experiment("vision", primary_metric="val_acc", goal="max",
                  metrics={"val_acc": {"label": "Validation accuracy", "format": "percent"}})

def image(run, step):
    a = np.zeros((6, 6, 3), dtype=np.uint8)
    a[:, :, run % 3] = 60 + 60 * step
    return a

# (name, final accuracy, steps with images of "samples")
for i, (name, acc, steps) in enumerate([("baseline-cnn", 0.9, [0, 1, 2]),
                                         ("cnn-wide", 0.9952, [0, 1, 2]),
                                         ("cnn-deep", 0.97, [0, 2]),
                                         ("cnn-plain", 0.5, [])]):
    with tr.start_run(name=name, capture=False, tags={"baseline": "true"} if i == 0 else {}):
        tr.log_param("width", 16 * (i + 1))
        tr.log_metric("val_acc", acc, step=0)
        for step in steps:
            tr.log_image(image(i, step), key="samples", step=step)
        if i == 1:
            tr.log_image(image(i, 0), key=HOSTILE, step=0)

# ties: one experiment breaks them on loss (lower is better), one does not
tr.set_experiment("ties", primary_metric="acc", goal="max", tie_breaker="loss")
for name, acc, loss in [("t-a", 0.9, 0.3), ("t-b", 0.9, 0.2), ("t-c", 0.8, 0.1)]:
    with tr.start_run(name=name, capture=False):
        tr.log_metrics({"acc": acc, "loss": loss})
tr.set_experiment("plain-ties", primary_metric="acc", goal="max")
for name in ("p-a", "p-b"):
    with tr.start_run(name=name, capture=False):
        tr.log_metric("acc", 0.9)
"""

NAMES = ["baseline-cnn", "cnn-wide", "cnn-deep", "cnn-plain", "t-a", "t-b", "t-c", "p-a", "p-b"]


@pytest.fixture(scope="module")
def media_site(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from trackreport.site.build import build_site

    root = tmp_path_factory.mktemp("media-site")
    store = root / "store"
    env = dict(os.environ, TRACKREPORT_CAPTURE="0", PYTHONPATH=str(STATIC.parents[2] / "src"))
    subprocess.run([sys.executable, "-c", STORE_SCRIPT, str(store), HOSTILE], check=True, env=env)
    build_site(store, root / "site")
    site = root / "site"
    ids = {}
    for data in (site / "runs").glob("*/data.js"):
        for name in NAMES:
            if f'"name":"{name}"' in data.read_text("utf-8"):
                ids[name] = data.parent.name
    assert sorted(ids) == sorted(NAMES)
    return {"site": site, "ids": ids}


@pytest.fixture
def open_page(browser: Any) -> Any:
    contexts = []

    def opener(path: Path, query: str = "", width: int = 1280,
               javascript: bool = True) -> tuple[Any, Watch]:
        context = browser.new_context(viewport={"width": width, "height": 900},
                                      java_script_enabled=javascript)
        contexts.append(context)
        pg = context.new_page()
        watch = Watch().attach(pg)
        pg.goto(path.resolve().as_uri() + query)
        return pg, watch

    yield opener
    for context in contexts:
        context.close()


def image_row(pg: Any, key: str) -> Any:
    return pg.locator("#compare .cmp-media").filter(
        has=pg.locator("h3", has_text=key)).first


def shown(row: Any) -> dict[str, str]:
    """Run id -> the step file its cell shows, or 'none'."""
    return row.evaluate(
        "row => Object.fromEntries(Array.from(row.querySelectorAll('figure')).map(f => {"
        "  const img = f.querySelector('img');"
        "  return [f.dataset.runId, img && !img.hidden ? img.getAttribute('src').split('/').pop()"
        "          : (f.querySelector('.cmp-no-image').hidden ? '?' : 'none')]; }))")


def loaded(row: Any) -> bool:
    return row.evaluate("row => Array.from(row.querySelectorAll('img')).filter(i => !i.hidden)"
                        ".every(i => i.complete && i.naturalWidth === 6)")


def test_compare_images_side_by_side_and_one_slider_moves_all(
        open_page: Any, media_site: dict[str, Any]) -> None:
    site, ids = media_site["site"], media_site["ids"]
    chosen = [ids["cnn-wide"], ids["cnn-deep"], ids["cnn-plain"]]
    pg, watch = open_page(site / "compare/index.html", "?runs=" + ",".join(chosen))
    pg.wait_for_selector("#compare[data-state=ready]")
    row = image_row(pg, "samples")
    slider = row.locator("input[type=range]")
    # the last step first: cnn-deep has it, cnn-plain logged no image of this key
    assert row.get_attribute("data-step") == "2"
    assert shown(row) == {ids["cnn-wide"]: "step-000002.png", ids["cnn-deep"]: "step-000002.png",
                          ids["cnn-plain"]: "none"}
    assert row.locator(".cmp-step").inner_text() == "Step 2 (3 of 3)"
    pg.wait_for_function("row => Array.from(row.querySelectorAll('img')).filter(i => !i.hidden)"
                         ".every(i => i.complete && i.naturalWidth === 6)",
                         arg=row.element_handle())
    # one slider moves every run: at step 1 only cnn-wide has an image
    slider.fill("1")
    assert row.get_attribute("data-step") == "1"
    assert shown(row) == {ids["cnn-wide"]: "step-000001.png", ids["cnn-deep"]: "none",
                          ids["cnn-plain"]: "none"}
    assert row.locator(".cmp-no-image:visible").first.inner_text() == "No image at this step"
    slider.focus()
    pg.keyboard.press("Home")
    assert shown(row) == {ids["cnn-wide"]: "step-000000.png", ids["cnn-deep"]: "step-000000.png",
                          ids["cnn-plain"]: "none"}
    pg.wait_for_function("row => Array.from(row.querySelectorAll('img')).filter(i => !i.hidden)"
                         ".every(i => i.complete && i.naturalWidth === 6)",
                         arg=row.element_handle())
    # the pictures themselves changed, and every URL is a file of the site
    for src in row.evaluate("row => Array.from(row.querySelectorAll('img:not([hidden])'))"
                            ".map(i => i.getAttribute('src'))"):
        assert src.startswith("../runs/") and (site / "compare" / src).resolve().is_file()
    # a hostile key is text, never markup: no image tag made of it, no dialog
    hostile = image_row(pg, HOSTILE)
    assert hostile.locator("h3").inner_text() == HOSTILE
    assert hostile.locator("input[type=range]").count() == 0  # one step: no slider
    assert pg.locator("#compare img[src=x]").count() == 0
    assert shown(hostile)[ids["cnn-wide"]] != "none"
    assert shown(hostile)[ids["cnn-deep"]] == "none"
    watch.assert_clean()


def test_compare_headline_in_the_experiments_words(
        open_page: Any, media_site: dict[str, Any]) -> None:
    site, ids = media_site["site"], media_site["ids"]
    pg, watch = open_page(site / "compare/index.html",
                          f"?runs={ids['cnn-wide']},{ids['baseline-cnn']},{ids['cnn-deep']}")
    pg.wait_for_selector("#compare[data-state=ready]")
    assert pg.locator("[data-headline]").inner_text() == (
        "Best of these 3 runs: cnn-wide, with Validation accuracy 99.5\u00a0%, 9.5 points "
        "better than baseline-cnn (90\u00a0%).")
    # the metrics table: the label, the key below it, values as the experiment formats them
    row = pg.locator("#compare table.cmp-metrics tr[data-metric=val_acc]")
    assert row.locator("th").inner_text().splitlines()[:2] == ["Validation accuracy", "val_acc"]
    assert row.locator("td .cmp-value").all_inner_texts() == ["\u2605 99.5\u00a0%", "90\u00a0%",
                                                              "97\u00a0%"]
    pg, _ = open_page(site / "compare/index.html",
                      f"?runs={ids['baseline-cnn']},{ids['cnn-plain']}")
    pg.wait_for_selector("#compare[data-state=ready]")
    assert pg.locator("[data-headline]").inner_text() == (
        "None of the other runs beats baseline-cnn, which has Validation accuracy 90\u00a0%.")
    watch.assert_clean()
    cases = {
        ("t-a", "t-b", "t-c"): "Best of these 3 runs: t-b, with acc 0.9, the same as t-a; it "
                               "wins the tie on loss (0.2).",
        ("p-b", "p-a"): "Both runs tie on acc at 0.9: p-b and p-a.",
        ("t-a", "p-a"): "These runs come from 2 different experiments, which each judge their "
                        "runs by their own measure, so none is picked as the best. Their "
                        "numbers are side by side below.",
        ("cnn-wide",): "Only one run is chosen. Tick two or more in an experiment's runs table "
                       "to compare them.",
    }
    for names, sentence in cases.items():
        pg, watch = open_page(site / "compare/index.html",
                              "?runs=" + ",".join(ids[n] for n in names))
        pg.wait_for_selector("#compare[data-state=ready]")
        assert pg.locator("[data-headline]").inner_text() == sentence
        watch.assert_clean()


@pytest.mark.parametrize("width", [1280, 390])
def test_compare_page_fits_the_screen(open_page: Any, media_site: dict[str, Any],
                                      width: int) -> None:
    site, ids = media_site["site"], media_site["ids"]
    pg, watch = open_page(site / "compare/index.html", "?runs=" + ",".join(ids.values()),
                          width=width)
    pg.wait_for_selector("#compare[data-state=ready]")
    pg.wait_for_timeout(300)
    assert pg.evaluate("document.documentElement.scrollWidth") <= width
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SHOTS / f"compare-media-{width}.png"), full_page=True)
    watch.assert_clean()


def test_run_page_slider_and_links_without_javascript(
        open_page: Any, media_site: dict[str, Any]) -> None:
    site, ids = media_site["site"], media_site["ids"]
    page = site / "runs" / ids["cnn-wide"] / "index.html"
    # without JavaScript: the last step's image and a link to every step
    pg, _ = open_page(page, javascript=False)
    figure = pg.locator("figure[data-image-steps]").filter(
        has=pg.locator(".image-key", has_text="samples"))
    assert figure.locator("img").get_attribute("src").endswith("samples/step-000002.png")
    links = figure.locator("a[data-step]")
    assert links.all_inner_texts() == ["0", "1", "2"]
    for href in links.evaluate_all("as => as.map(a => a.getAttribute('href'))"):
        assert (page.parent / href).resolve().is_file()
    assert figure.locator("input").count() == 0
    # with it: a slider shows any step in place
    pg, watch = open_page(page)
    figure = pg.locator("figure[data-image-steps]").filter(
        has=pg.locator(".image-key", has_text="samples"))
    slider = figure.locator("input[type=range]")
    slider.fill("0")
    assert figure.get_attribute("data-step") == "0"
    assert figure.locator("img").get_attribute("src").endswith("samples/step-000000.png")
    assert figure.locator("[data-image-step-text]").inner_text() == "step 0 (1 of 3)"
    assert pg.locator("img[src=x]").count() == 0
    assert pg.locator(".image-key").all_inner_texts() == sorted([HOSTILE, "samples"])
    watch.assert_clean()
