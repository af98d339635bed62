"""The registry pages of the built site (BeautifulSoup): models index, model pages, run pages."""

from __future__ import annotations

import posixpath
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import numpy as np
import pytest
from bs4 import BeautifulSoup

import trackreport as tr
from trackreport.site.build import build_site

HOSTILE_MODELS = ["<script>alert(1)", "<img src=x onerror=alert(2)>", "it's \"quoted\"", "m" * 200, "模型 ünï"]


def make_registry_store(root: Path) -> dict[str, str]:
    """Three runs of 'churn', two versions (v2 champion), and hostile model names."""
    tr.set_store(root)
    tr.set_experiment("churn", primary_metric="val_acc", goal="max")
    ids = {}
    for name, acc in (("rf-100", 0.88), ("rf-300", 0.91), ("rf-500", 0.90)):
        with tr.start_run(name=name, capture=False) as run:
            tr.log_metric("val_acc", acc)
            tr.log_model({"trees": name}, "model", input_example=np.zeros((2, 4)))
        ids[name] = run.id
    tr.register_model(f"runs:/{ids['rf-100']}/model", "churn")
    tr.set_model_alias("churn", "champion", 1)
    tr.register_model(f"runs:/{ids['rf-300']}/model", "churn", tags={"reviewed": "yes"})
    tr.set_model_alias("churn", "champion", 2)
    tr.set_registered_model_description("churn", "Predicts **churn** <b>bold</b>.")
    for name in HOSTILE_MODELS:
        tr.register_model(f"runs:/{ids['rf-500']}/model", name)
        tr.set_model_alias(name, "champion", 1)
    return ids


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    root = tmp_path_factory.mktemp("registry")
    ids = make_registry_store(root / "store")
    build_site(root / "store", root / "site")
    return root / "site", ids


def soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def target(page: Path, href: str) -> Path:
    return Path(posixpath.normpath(str(page.parent / unquote(href.split("#")[0]))))


def test_models_index_answers_which_model_ships(site: tuple[Path, dict[str, str]]) -> None:
    root, _ = site
    page = root / "models/index.html"
    doc = soup(page)
    titles = [a.get_text() for a in doc.select(".model-card .card-title a")]
    assert sorted(titles) == sorted(["churn", *HOSTILE_MODELS])
    card = next(c for c in doc.select(".model-card") if c.h3.get_text() == "churn")
    sentence = card.select_one(".model-sentence").get_text()
    assert sentence.startswith("churn: version 2 ships (alias champion since 20")
    assert "from run rf-300 (val_acc 0.91)" in sentence
    for a in doc.select(".model-card .card-title a"):
        assert target(page, a["href"]).is_file()
    assert "<script>alert" not in page.read_text() and "<img src=x" not in page.read_text()
    assert card.select_one(".card-description").get_text() == "Predicts churn <b>bold</b>."
    assert doc.find("b") is None
    nav = [a.get_text() for a in soup(root / "index.html").select(".site-links a")]
    assert "Models" in nav


def test_model_page_versions_aliases_runs_files(site: tuple[Path, dict[str, str]]) -> None:
    root, ids = site
    index = root / "models/index.html"
    href = soup(index).find("a", string="churn")["href"]
    page = target(index, href)
    doc = soup(page)
    assert doc.h1.get_text() == "churn"
    assert doc.select_one(".intro .markdown strong").get_text() == "churn"  # sanitized markdown
    assert doc.find("b") is None
    rows = doc.select(".versions-table tbody tr")
    assert [r.td.get_text() for r in rows] == ["2", "1"]
    assert [b.get_text() for b in rows[0].select(".alias-badge")] == ["champion"]
    run_link = rows[0].find("a", string="rf-300")
    assert target(page, run_link["href"]).is_file()
    assert ids["rf-300"] in str(target(page, run_link["href"]))
    delta = rows[0].select("td")[4].get_text()
    assert "vs v1" in delta and "better" in delta and "▲" in delta
    assert "models:/churn@champion" in doc.select_one(".snippet").get_text()
    v2 = doc.select_one("#v2")
    assert [th.get_text() for th in v2.select(".signature-table tbody th")] == ["array"]
    assert "float64" in v2.select_one(".signature-table td").get_text()
    files = {a.get_text(): a["href"] for a in v2.select(".model-files a[download]")
             if a.get_text() != "Download"}
    assert set(files) == {"model.pkl", "model.json"}
    for href in files.values():
        assert target(page, href).is_file()
    assert "reviewed" in v2.get_text()


def test_run_page_names_its_registrations(site: tuple[Path, dict[str, str]]) -> None:
    root, ids = site
    page = root / "runs" / ids["rf-300"] / "index.html"
    doc = soup(page)
    section = doc.find(id="models-heading").parent
    link = section.find("a", string="registered as churn v2 (champion)")
    assert link is not None and link["href"].endswith("#v2")
    assert target(page, link["href"]).is_file()
    assert "float64" in section.select_one(".signature-table").get_text()
    other = soup(root / "runs" / ids["rf-100"] / "index.html")
    assert other.find("a", string="registered as churn v1") is not None


def test_hostile_model_names_get_distinct_safe_folders(site: tuple[Path, dict[str, str]]
                                                       ) -> None:
    root, _ = site
    folders = [p for p in (root / "models").iterdir() if p.is_dir()]
    assert len(folders) == 1 + len(HOSTILE_MODELS)
    for folder in folders:
        assert folder.name.isascii() and len(folder.name) < 80
        doc = soup(folder / "index.html")
        assert doc.h1.get_text() in ["churn", *HOSTILE_MODELS]
        html = (folder / "index.html").read_text()
        assert "<script>alert" not in html and "<img src=x" not in html


def test_empty_registry_page_and_same_bytes(tmp_path: Path) -> None:
    tr.set_store(tmp_path / "store")
    with tr.start_run(name="solo", capture=False):
        tr.log_metric("val_acc", 0.5)
    build_site(tmp_path / "store", tmp_path / "a")
    build_site(tmp_path / "store", tmp_path / "b")
    text = (tmp_path / "a/models/index.html").read_text()
    assert "No models registered yet" in text
    assert text == (tmp_path / "b/models/index.html").read_text()


def ships_line(doc: BeautifulSoup, model_link_text: str) -> Any:
    """The .ships paragraph whose model link says ``model_link_text``."""
    for p in doc.select(".ships"):
        a = p.find("a")
        if a is not None and a.get_text() == model_link_text:
            return p
    raise AssertionError(f"no ships line for {model_link_text!r} in "
                         f"{[p.get_text() for p in doc.select('.ships')]}")


def test_index_and_experiment_pages_name_the_model_that_ships(
        site: tuple[Path, dict[str, str]]) -> None:
    root, ids = site
    index = root / "index.html"
    card = next(c for c in soup(index).select(".experiment-card")
                if c.h3.get_text() == "churn")
    exp_page = target(index, card.h3.a["href"])
    for page, holder in ((index, card), (exp_page, soup(exp_page).select_one(".intro"))):
        line = ships_line(holder, "churn version 2")
        assert " ".join(line.get_text().split()) == \
            "Ships: churn version 2 (champion), from run rf-300."
        model_href, run_href = (a["href"] for a in line.find_all("a"))
        assert model_href.endswith("#v2")
        model_page = target(page, model_href)
        assert model_page.is_file() and soup(model_page).h1.get_text() == "churn"
        assert soup(model_page).find(id="v2") is not None
        assert target(page, run_href) == root / "runs" / ids["rf-300"] / "index.html"
        # v1 lost the champion alias: it is not named; the hostile names are text only
        assert "churn version 1" not in holder.get_text()
        for name in HOSTILE_MODELS:
            ships_line(holder, f"{name} version 1")
    html = exp_page.read_text()
    assert "<script>alert" not in html and "<img src=x" not in html


def test_other_aliases_say_registered_and_no_alias_no_line(tmp_path: Path) -> None:
    tr.set_store(tmp_path / "store")
    tr.set_experiment("fraud", primary_metric="auc", goal="max")
    with tr.start_run(name="xgb-1", capture=False) as run:
        tr.log_metric("auc", 0.8)
        tr.log_model({"w": 1}, "model")
    tr.set_experiment("plain", primary_metric="auc", goal="max")
    with tr.start_run(name="lonely", capture=False) as lonely:
        tr.log_metric("auc", 0.7)
        tr.log_model({"w": 2}, "model")
    tr.register_model(f"runs:/{run.id}/model", "fraud-model")
    tr.set_model_alias("fraud-model", "challenger", 1)
    tr.register_model(f"runs:/{lonely.id}/model", "unaliased")  # no alias: not named
    build_site(tmp_path / "store", tmp_path / "site")
    index = soup(tmp_path / "site/index.html")
    cards = {c.h3.get_text(): c for c in index.select(".experiment-card")}
    line = ships_line(cards["fraud"], "fraud-model version 1")
    assert " ".join(line.get_text().split()) == \
        "Registered: fraud-model version 1 (challenger), from run xgb-1."
    assert cards["plain"].select(".ships") == []
    plain = target(tmp_path / "site/index.html", cards["plain"].h3.a["href"])
    assert soup(plain).select(".ships") == []
