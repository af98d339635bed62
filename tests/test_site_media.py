"""Images over time in the built site: which files a page shows per key and step, the run
page's image rows (escaped, without JavaScript), the compare page's data, and its headline
words made by the build."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
from bs4 import BeautifulSoup

import trackreport as tr
from trackreport.records import ArtifactRecord
from trackreport.site.build import build_site
from trackreport.site.media import image_steps

HOSTILE = "</script><img src=x onerror=alert(1)>"


def record(path: str, key: str | None, step: int | None, media_type: str = "image/png",
           size: int = 10) -> ArtifactRecord:
    image = {"key": key, "step": step} if key is not None else None
    return ArtifactRecord(path=path, size=size, sha256="0" * 64, media_type=media_type,
                          time=0.0, image=image)


def test_image_steps_per_key_sorted_first_logged_wins() -> None:
    records = [
        record("images/b/step-000002.png", "b", 2),
        record("images/b/step-000000.png", "b", 0),
        record("images/b/step-000002-2.png", "b", 2),  # another process, same step
        record("images/a/step-000001.jpg", "a", 1, "image/jpeg"),
        record("images/s/step-000000.svg", "s", 0, "image/svg+xml"),  # a document: never
        record("images/h/step-000000.html", "h", 0, "text/html"),
        record("images/big/step-000000.png", "big", 0, size=10**9),  # not copied
        record("plots/roc.png", None, None),  # not from log_image
        record("images/odd/step.png", "odd", "3"),  # type: ignore[arg-type]  # bad event
    ]
    steps = image_steps("runs/r1", records)
    assert list(steps) == ["a", "b"]
    assert [(s, site) for s, _, site in steps["b"]] == [
        (0, "runs/r1/files/images/b/step-000000.png"),
        (2, "runs/r1/files/images/b/step-000002.png")]
    assert steps["a"][0][1].path == "images/a/step-000001.jpg"


def build(store: Path, tmp_path: Path) -> tuple[Path, dict[str, str]]:
    tr.set_experiment("vision", primary_metric="val_acc", goal="max",
                      metrics={"val_acc": {"label": "Accuracy", "format": "percent"}})
    ids = {}
    for name, acc in (("base-model", 0.8), (HOSTILE, 0.9), ("baseline-x", 0.5)):
        tags = {"baseline": "true"} if name == "base-model" else {}
        with tr.start_run(name=name, tags=tags) as run:
            tr.log_metric("val_acc", acc)
            for step in range(3):
                tr.log_image(np.full((4, 4), step * 0.3), key=HOSTILE, step=step)
        ids[name] = run.id
    site = tmp_path / "site"
    build_site(store, site)
    return site, ids


def test_run_page_images_escaped_with_a_link_per_step(store: Path, tmp_path: Path) -> None:
    site, ids = build(store, tmp_path)
    page = site / "runs" / ids["base-model"] / "index.html"
    html = page.read_text("utf-8")
    assert "<img src=x" not in html and "</script><img" not in html
    soup = BeautifulSoup(html, "html.parser")
    figure = soup.select_one("figure[data-image-steps]")
    assert figure.select_one(".image-key").get_text() == HOSTILE
    img = figure.select_one("img[data-image-current]")
    assert img["src"].endswith("/step-000002.png") and (page.parent / img["src"]).is_file()
    links = figure.select("a[data-step]")
    assert [a.get_text() for a in links] == ["0", "1", "2"]
    assert all((page.parent / a["href"]).is_file() for a in links)
    # the image files are in the Images section, not again in the file tree
    assert not soup.select(".artifact-tree img")
    assert 'src="../../assets/media.js"' in html
    other = (site / "runs" / ids["baseline-x"] / "index.html").read_text("utf-8")
    assert "media.js" in other
    plain = tr.start_run(name="no-images")
    tr.end_run()
    build_site(store, site)
    assert "media.js" not in (site / "runs" / plain.id / "index.html").read_text("utf-8")


def json_script(html: str, element_id: str) -> Any:
    match = re.search(rf'<script type="application/json" id="{element_id}">(.*?)</script>',
                      html, re.S)
    assert match, element_id
    return json.loads(match.group(1))


def test_compare_data_and_headline_words(store: Path, tmp_path: Path) -> None:
    site, ids = build(store, tmp_path)
    html = (site / "compare" / "index.html").read_text("utf-8")
    assert "<img src=x" not in html
    index = json_script(html, "runs-index")
    assert index[ids["base-model"]]["baseline"] is True
    assert "vs_baseline" not in index[ids["base-model"]]
    # the size of the difference and which way it goes, in the experiment's format
    assert (index[ids[HOSTILE]]["vs_baseline"], index[ids[HOSTILE]]["vs_word"]) == (
        "10 points", "better")
    assert (index[ids["baseline-x"]]["vs_baseline"], index[ids["baseline-x"]]["vs_word"]) == (
        "30 points", "worse")
    assert json_script(html, "experiments-index") == {"vision": {
        "metric": "val_acc", "label": "Accuracy", "goal": "max", "baseline": ids["base-model"],
        "baseline_words": "the baseline base-model", "baseline_value": "80\u00a0%"}}
    script = (site / "runs" / ids[HOSTILE] / "data.js").read_text("utf-8")
    data = json.loads(script[script.index("] = ") + 4:-2])
    assert data["metrics"]["val_acc"]["text"] == {"last": "90\u00a0%", "min": "90\u00a0%",
                                                  "max": "90\u00a0%"}
    assert [step for step, _ in data["images"][HOSTILE]] == [0, 1, 2]
    for _, url in data["images"][HOSTILE]:
        assert url.startswith("../runs/") and (site / "compare" / url).resolve().is_file()


def test_baseline_named_baseline_is_not_said_twice(store: Path, tmp_path: Path) -> None:
    tr.set_experiment("e", primary_metric="acc", goal="max")
    with tr.start_run(name="baseline-stump", tags={"baseline": "true"}):
        tr.log_metric("acc", 0.5)
    with tr.start_run(name="forest"):
        tr.log_metric("acc", 0.75)
    build_site(store, tmp_path / "site")
    page = next((tmp_path / "site" / "experiments").glob("*/index.html")).read_text("utf-8")
    assert "Best: forest, acc 0.75, +0.25 (50 %) over baseline-stump (0.5)." in page
    assert "the baseline baseline" not in page
