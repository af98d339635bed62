"""The registry pages in Debian's chromium from file://, under the site's CSP, hostile names included.

These tests fail (never skip) when /usr/bin/chromium is missing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from browser_helpers import SHOTS, Watch
from test_site_models import HOSTILE_MODELS, make_registry_store
from trackreport.site.build import build_site

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    root = tmp_path_factory.mktemp("registry-browser")
    ids = make_registry_store(root / "store")
    build_site(root / "store", root / "site")
    return root / "site", ids


def test_registry_pages_in_chromium(browser: Any, site: tuple[Path, dict[str, str]]) -> None:
    root, _ = site
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    pg = context.new_page()
    watch = Watch().attach(pg)
    pg.goto((root / "index.html").resolve().as_uri())
    pg.get_by_role("link", name="Models", exact=True).click()
    assert pg.url.endswith("models/index.html")
    assert pg.locator("h1").inner_text() == "Models"
    titles = pg.locator(".model-card .card-title a").all_inner_texts()
    assert sorted(titles) == sorted(["churn", *HOSTILE_MODELS])
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SHOTS / "models-index.png"), full_page=True)
    for name in HOSTILE_MODELS:  # every hostile name is shown as text and its page opens
        pg.goto((root / "models/index.html").resolve().as_uri())
        pg.locator(".model-card .card-title a", has_text=name[:30]).first.click()
        assert pg.locator("h1").inner_text() == name
    pg.goto((root / "models/index.html").resolve().as_uri())
    pg.locator(".model-card .card-title a", has_text="churn").first.click()
    assert "version 2 ships (alias champion" in pg.locator(".intro .model-sentence").inner_text()
    pg.screenshot(path=str(SHOTS / "model-page.png"), full_page=True)
    pg.get_by_role("link", name="rf-300").first.click()
    assert pg.locator("h1").inner_text().startswith("rf-300")
    pg.get_by_role("link", name="registered as churn v2 (champion)").click()
    assert pg.url.endswith("#v2")
    assert pg.locator("#v2").is_visible()
    watch.assert_clean()
    context.close()


def test_ships_line_leads_to_the_model_in_chromium(browser: Any,
                                                   site: tuple[Path, dict[str, str]]) -> None:
    root, _ = site
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    watch = Watch().attach(pg)
    pg.goto((root / "index.html").resolve().as_uri())
    card = pg.locator(".experiment-card", has=pg.locator("h3", has_text="churn"))
    line = card.locator(".ships", has_text="churn version 2")
    assert line.inner_text() == "Ships: churn version 2 (champion), from run rf-300."
    assert line.is_visible()
    card.locator(".card-title a").click()  # the experiment page says it at the top too
    intro = pg.locator(".intro .ships", has_text="churn version 2")
    assert intro.is_visible()
    box = intro.bounding_box()
    assert box is not None and box["y"] + box["height"] <= 900  # above the fold
    intro.get_by_role("link", name="churn version 2").click()
    assert pg.url.endswith("#v2")
    assert pg.locator("h1").inner_text() == "churn"
    assert pg.locator("#v2").is_visible()
    watch.assert_clean()
    context.close()


def test_example_model_sections_fit_a_phone(browser: Any) -> None:
    """Long class names (sklearn.ensemble._gb.GradientBoostingClassifier) wrap at 390 px."""
    example = Path(__file__).resolve().parents[1] / "site_example"
    pages = [*sorted(example.glob("runs/*/index.html")), *sorted(example.glob("models/**/*.html"))]
    assert len(pages) >= 11
    pg = browser.new_page(viewport={"width": 390, "height": 844})
    wide = {}
    for page in pages:
        pg.goto(page.as_uri())
        width = pg.evaluate("document.documentElement.scrollWidth")
        if width != 390:
            wide[page.relative_to(example).as_posix()] = width
    assert wide == {}
    pg.close()
