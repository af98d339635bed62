"""What a reader sees: titles, breadcrumbs, tables, best marks, links, run details."""

from __future__ import annotations

import json
import re

import pytest

from site_fixtures import XSS, Built, shared_build
from trackreport.site.pages import CSP


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return shared_build(tmp_path_factory)


def _text(node) -> str:
    return " ".join(node.get_text(" ").split())


def test_index_cards(built: Built) -> None:
    soup = built.soup("index.html")
    assert soup.title.string == "Experiments"
    cards = soup.select("article.experiment-card")
    names = [_text(c.select_one(".card-title")) for c in cards]
    assert "wine" in names and XSS in names and "Wine" in names
    wine = cards[names.index("wine")]
    assert _text(wine.select_one(".card-description")) == "Predict wine quality from chemistry."
    assert re.search(r"6 runs \(.*\) · last run \d{4}-", _text(wine))
    assert _text(wine.select_one(".card-headline")).startswith("Best: gb-lr0.1-d3, val_acc 0.95,")
    assert _text(wine.select_one(".big-number")) == "0.95"
    assert wine.select_one(".best-line a").string == "gb-lr0.1-d3"
    assert wine.select_one("svg.sparkline polyline")["points"]
    latest = soup.select("section.card table tbody tr")
    assert 0 < len(latest) <= 10
    assert _text(soup.select_one("footer")).startswith("Store last updated ")
    assert "Made with trackreport" in _text(soup.select_one("footer"))


def test_experiment_page_answers_first(built: Built) -> None:
    soup = built.soup("experiments/wine/index.html")
    assert soup.title.string == "wine · Experiments"
    assert [_text(li) for li in soup.select(".breadcrumbs li")] == ["All experiments", "wine"]
    assert soup.select_one(".breadcrumbs a")["href"] == "../../index.html"
    lead = _text(soup.select_one("p.lead"))
    assert lead == "Best: gb-lr0.1-d3, val_acc 0.95, +0.09 (10.5 %) over baseline (0.86)."
    assert _text(soup.select_one(".best-card .big-number")).startswith("0.95")
    assert _text(soup.select_one(".best-card .difference")).startswith("+0.09 (10.5 %)")
    assert soup.select_one(".markdown strong").string == "wine quality"
    links = {a.string: a["href"] for a in soup.select(".downloads a")}
    assert links == {"Runs as CSV": "runs.csv", "Runs as JSON": "runs.json"}


def test_runs_table_markup(built: Built) -> None:
    soup = built.soup("experiments/wine/index.html")
    root = soup.select_one("div.runs-table[data-runs-table]")
    assert root["data-compare-url"] == "../../compare/index.html"
    assert root.select_one(".table-tools") is not None
    headers = root.select("thead th")
    assert headers[0].string == "Run" and headers[0]["data-group"] == "run"
    for th in headers:
        assert th["data-group"] in {"run", "params", "metrics", "metrics-minmax", "tags"}
        assert th["data-type"] in {"number", "text", "date", "duration"}
        assert th["scope"] == "col"
    by_label = {_text(th): th for th in headers}
    assert by_label["val_acc"]["data-goal"] == "max"
    assert by_label["train_loss"]["data-goal"] == "min"
    assert "hidden-group" in by_label["val_acc (min)"]["class"]
    assert by_label["lr"]["data-type"] == "number"
    rows = root.select("tbody tr")
    assert len(rows) == 6
    names = [_text(r.select_one("th[scope=row] a")) for r in rows]
    assert names[0] == "gb-lr0.1-d3"  # best val_acc first
    assert names[-1] == "artifacts"  # lowest val_acc last
    for row in rows:
        cells = row.find_all(["th", "td"], recursive=False)
        assert len(cells) == len(headers)
        for th, td in zip(headers, cells, strict=True):
            assert td["data-group"] == th["data-group"]
        box = row.select_one("input.run-select")
        assert box["value"] == row["data-run-id"]
        assert box["aria-label"].startswith("Select ")
    index = [_text(th) for th in headers].index("val_acc")
    best = [r.find_all(["th", "td"], recursive=False)[index] for r in rows]
    assert "best" in best[0]["class"] and "★" in _text(best[0])
    assert all("best" not in c.get("class", []) for c in best[1:])
    assert best[0]["data-sort"] == "0.95"
    for row in rows:  # minmax cells are hidden too
        for td in row.select('td[data-group="metrics-minmax"]'):
            assert "hidden-group" in td["class"]


def test_run_links_resolve_to_the_right_run(built: Built) -> None:
    soup = built.soup("experiments/wine/index.html")
    for row in soup.select("tbody tr[data-run-id]"):
        href = row.select_one("th a")["href"]
        target = built.soup(f"experiments/wine/{href}")
        assert row["data-run-id"] in _text(target.select_one(".facts"))


def test_run_page_summary(built: Built) -> None:
    soup = built.soup(built.run_page("best"))
    assert soup.title.string == "gb-lr0.1-d3 · Experiments"
    assert [_text(li) for li in soup.select(".breadcrumbs li")] == [
        "All experiments", "wine", "gb-lr0.1-d3"]
    assert _text(soup.select_one("h1 .badge")) == "Finished"
    assert "status-finished" in soup.select_one("h1 .badge")["class"]
    assert _text(soup.select_one(".primary-card .big-number")) == "0.95"
    metrics = {_text(r.th).split()[0]: [_text(td) for td in r.select("td")]
               for r in soup.select(".metrics-table tbody tr")}
    assert metrics["val_acc"][:4] == ["0.95", "0.82", "0.95", "3"]
    params = {_text(r.th): _text(r.td) for r in soup.select(".kv-table tr")}
    assert params["lr"] == "0.1" and params["depth"] == "3"
    charts = soup.select("figure.chart-card")
    assert {_text(c.figcaption) for c in charts} == {"val_acc", "train_loss"}
    for c in charts:
        div = c.select_one("div.chart")
        script = c.select_one("script")
        assert script["type"] == "application/json" and script["id"] == div["data-chart"]
        json.loads(script.string)


def test_running_and_failed_runs_say_so(built: Built) -> None:
    running = built.soup(built.run_page("running"))
    assert _text(running.select_one("h1 .badge")) == "Running"
    assert "has not ended" in _text(running.select_one(".status-note"))
    commit = running.select_one(f'a[href="https://github.com/acme/wine/commit/{"3f9a2c1b" * 5}"]')
    assert commit is not None and commit["rel"] == ["noopener", "noreferrer"]
    text = _text(running)
    assert "main" in text and "yes: the code differed from the commit" in text
    assert "python train/fit.py --lr 0.1 --token '***'" in text
    assert "3.11.7 (CPython)" in text and "CUDA_VISIBLE_DEVICES" in text
    failed = built.soup(built.run_page("failed"))
    assert _text(failed.select_one("h1 .badge")) == "Failed"
    assert "boom" in _text(failed.select_one(".error-box"))
    assert XSS in failed.select_one(".error-box").get_text()


def test_all_nan_metric_is_explained(built: Built) -> None:
    soup = built.soup(built.run_page("svg_run"))
    assert "every value is NaN" in _text(soup.select_one(".metrics-table"))


def test_artifacts_tree_and_previews(built: Built) -> None:
    rel = built.run_page("artifacts")
    soup = built.soup(rel)
    tree = soup.select_one("ul.artifact-tree")
    items = tree.select("li")
    names = [_text(li.select_one(".folder-name, .file-name")) for li in items]
    assert names.index("data/") < names.index("table.csv") < names.index("config.json")
    files = {_text(li.select_one(".file-name")): li for li in tree.select("li.artifact-file")}
    # CSV as a table
    table = files["table.csv"].select_one("table")
    assert [_text(th) for th in table.select("thead th")] == ["a", "b", "c"]
    assert [[_text(td) for td in tr.select("td")] for tr in table.select("tbody tr")] == [
        ["1", "2", "3"], ["4", "5", "6"]]
    assert files["table.tsv"].select_one("table") is not None
    # HTML: sandboxed srcdoc, stored as .txt
    frame = files["report.html"].select_one("iframe")
    assert frame.has_attr("sandbox") and frame["sandbox"] in ("", [""], [])
    assert "allow-same-origin" not in str(frame) and not frame.has_attr("src")
    assert "<script>alert(3)</script>" in frame["srcdoc"]
    link = files["report.html"].select_one("a[download]")
    assert link["href"].endswith("report.html.txt") and link["download"] == "report.html.txt"
    # SVG: only as a data: image
    img = files["plot.svg"].select_one("img")
    assert img["src"].startswith("data:image/svg+xml;base64,")
    assert files["plot.svg"].select_one("a[download]")["href"].endswith("plot.svg.txt")
    # markdown rendered and cleaned
    md = files["summary.md"].select_one(".markdown")
    assert md.select_one("h1").string == "Summary" and md.select_one("img") is None
    # JSON pretty, logs first lines
    assert '"n_estimators": 100' in files["config.json"].select_one("pre").get_text()
    log = files["train.log"]
    assert log.select_one("pre").get_text().count("line") == 60
    assert "Only the beginning" in _text(log)
    # a Vega-Lite spec drawn as a chart
    chart = files["curve.vl.json"].select_one("figure.chart-card script")
    assert chart["type"] == "application/json"
    # images copied and shown
    png = files["img.png"].select_one("img")
    assert (built.site / rel).parent.joinpath(png["src"]).is_file()
    # case-colliding names get distinct files
    roc = {files[n].select_one("a")["href"] for n in ("ROC.txt", "roc.txt")}
    assert len(roc) == 2


def test_site_copies_of_renderable_files_end_in_txt(built: Built) -> None:
    for path in built.site.joinpath("runs").rglob("*"):
        if path.is_file():
            assert not path.name.lower().endswith((".html", ".htm", ".svg", ".xml", ".xhtml")) \
                or path.name == "index.html", path


def test_compare_page(built: Built) -> None:
    soup = built.soup("compare/index.html")
    assert soup.title.string == "Compare runs · Experiments"
    index = json.loads(soup.select_one("script#runs-index").string)
    assert len(index) == 14
    entry = index[str(built.info["best"])]
    assert entry["name"] == "gb-lr0.1-d3" and entry["experiment"] == "wine"
    assert (built.site / "compare" / entry["url"]).is_file()
    assert (built.site / "compare" / entry["data"]).is_file()
    assert soup.select_one("div#compare") is not None and soup.select_one("noscript")
    scripts = [s["src"] for s in soup.select("script[src]")]
    assert scripts == ["../assets/vendor/vega-bundle.js", "../assets/charts.js",
                       "../assets/table.js", "../assets/compare.js"]


def test_every_page_has_the_csp_and_scripts(built: Built) -> None:
    for page in built.pages():
        soup = built.soup(page.relative_to(built.site).as_posix())
        metas = soup.select('meta[http-equiv="Content-Security-Policy"]')
        assert [m["content"] for m in metas] == [CSP], page
        srcs = [s["src"] for s in soup.select("script[src]")]
        assert [s.rsplit("/", 1)[-1] for s in srcs[:3]] == [
            "vega-bundle.js", "charts.js", "table.js"], page
