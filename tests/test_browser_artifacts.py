"""In chromium, from file://: artifact copies never run their script, Vega specs fetch nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from browser_helpers import Watch

pytestmark = pytest.mark.browser

SRC = Path(__file__).resolve().parent.parent / "src"
XHTML_SCRIPT = '<script xmlns="http://www.w3.org/1999/xhtml">alert("ran")</script>'
DOCUMENTS = {
    "page.shtm": "<html><body><script>alert('ran')</script></body></html>",
    "page.ehtml": "<html><body><script>alert('ran')</script></body></html>",
    "schema.xsd": f'<?xml version="1.0"?><root>{XHTML_SCRIPT}</root>',
    "binding.xbl": f'<?xml version="1.0"?><bindings>{XHTML_SCRIPT}</bindings>',
}
VEGA = {
    "$schema": "https://vega.github.io/schema/vega/v5.json",
    "data": [{"name": "t", "url": "https://evil.example/d.json"}],
    "marks": [{"type": "image", "encode": {"enter": {
        "url": {"value": "https://evil.example/pixel.png"}}}}],
}

MAKE = """
import json, sys
import trackreport as tr
tr.set_store(sys.argv[1])
docs, vega = json.loads(sys.argv[2]), json.loads(sys.argv[3])
with tr.start_run(name="documents", capture=False) as run:
    for name, text in docs.items():
        tr.log_text(text, "docs/" + name)
    tr.log_dict(vega, "charts/hostile.vl.json")
print(run.id)
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    import json

    from trackreport.site.build import build_site

    root = tmp_path_factory.mktemp("browser-artifacts")
    done = subprocess.run([sys.executable, "-c", MAKE, str(root / "store"),
                           json.dumps(DOCUMENTS), json.dumps(VEGA)],
                          capture_output=True, text=True, check=True,
                          env={"PYTHONPATH": str(SRC), "TRACKREPORT_CAPTURE": "0"})
    run_id = done.stdout.strip().splitlines()[-1]
    build_site(root / "store", root / "site")
    return root / "site", run_id


def _open(browser: Any, url: str) -> tuple[Any, Any, Watch]:
    context = browser.new_context()
    pg = context.new_page()
    watch = Watch().attach(pg)
    pg.goto(url)
    pg.wait_for_timeout(300)
    return context, pg, watch


def test_copied_documents_show_as_text(browser: Any, built: tuple[Path, str]) -> None:
    site, run_id = built
    folder = site / "runs" / run_id / "files" / "docs"
    for name, text in DOCUMENTS.items():
        stored = folder / f"{name}.txt"
        assert stored.read_text() == text
        context, pg, watch = _open(browser, stored.resolve().as_uri())
        try:
            assert watch.dialogs == [], name
            assert "alert" in pg.locator("body").inner_text(), name  # shown, not run
        finally:
            context.close()


def test_vega_spec_fetches_nothing(browser: Any, built: tuple[Path, str]) -> None:
    site, run_id = built
    page = site / "runs" / run_id / "index.html"
    context, pg, watch = _open(browser, page.resolve().as_uri())
    try:
        pg.wait_for_timeout(700)
        assert not [u for u in watch.requests if "evil.example" in u]
        assert pg.locator("pre.preview-text", has_text="evil.example").count() == 1
        assert pg.locator("svg image, canvas").count() == 0
        watch.assert_clean()
    finally:
        context.close()
