"""Empty and odd states of the site (LOOK.md): an experiment whose runs log no
metrics, a run with nothing logged, a metric that is all NaN, a name 200
characters long, metrics logged once per run (bar charts), a big runs table,
the index's latest runs and the compare page without runs."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup

LONG_NAME = "long-" + "abcdefghij" * 19 + "--end"  # 200 characters
assert len(LONG_NAME) == 200

STORE_SCRIPT = r'''
import math, sys
import trackreport as tr

LONG_NAME = sys.argv[2]
tr.set_store(sys.argv[1])

# Metrics logged over steps and once per run (the sweep's shape).
tr.set_experiment("sweep", primary_metric="val_acc", goal="max")
for name, lr, accs, f1, secs in [
    ("gbm-lr0.03-d1", 0.03, [0.90, 0.93, 0.95], 0.961, 0.23),
    ("gbm-lr0.1-d1", 0.1, [0.91, 0.95, 0.97], 0.978, 0.20),
    ("gbm-lr0.3-d3", 0.3, [0.92, 0.96, 0.96], 0.955, 0.74),
]:
    with tr.start_run(name=name, capture=False):
        tr.log_params({"learning_rate": lr})
        for step, acc in enumerate(accs):
            tr.log_metrics({"val_acc": acc, "val_loss": 1 - acc}, step=step)
        tr.log_metrics({"val_f1": f1, "fit_seconds": secs, "best_stage": 10 * len(accs)})
with tr.start_run(name="logreg", capture=False):
    tr.log_params({"C": 1.0})
    tr.log_metrics({"val_acc": 0.94, "val_f1": 0.966, "fit_seconds": 0.02})

# The primary metric is logged once per run: its bar chart comes first.
tr.set_experiment("final-only", primary_metric="score", goal="max")
for name, score, rmse in [("a", 0.5, 3.0), ("b", 0.9, 1.0), ("c", 0.7, 2.0)]:
    with tr.start_run(name=name, capture=False):
        tr.log_metrics({"score": score, "rmse": rmse, "accuracy": score})

# Runs without any metric.
tr.set_experiment("no-metrics", description="Runs that log params only.")
for i in range(2):
    with tr.start_run(name=f"params-only-{i}", capture=False):
        tr.log_params({"seed": i})

# Odd runs: nothing logged, all-NaN metric, a 200-character name.
tr.set_experiment("odd", primary_metric="loss", goal="min")
with tr.start_run(name="bare", capture=False) as run:
    bare = run.id
with tr.start_run(name="all-nan", capture=False) as run:
    nan_run = run.id
    tr.log_metric("loss", float("nan"), step=0)
    tr.log_metric("loss", float("nan"), step=1)
    tr.log_metric("ghost", float("nan"), step=0)
    tr.log_metric("ghost", float("nan"), step=1)
with tr.start_run(name=LONG_NAME, capture=False) as run:
    long_run = run.id
    tr.log_param("depth", 3)
    tr.log_metric("loss", 0.5, step=0)
    tr.log_metric("loss", 0.4, step=1)
    tr.log_metric("ghost", float("nan"), step=0)

# A wide table: more than 50 columns.
tr.set_experiment("wide")
for i in range(2):
    with tr.start_run(name=f"wide-{i}", capture=False):
        tr.log_params({f"p{j:02d}": j * i for j in range(60)})
        tr.log_metric("accuracy", 0.5 + i / 10, step=0)

import json
print(json.dumps({"bare": bare, "nan": nan_run, "long": long_run}))
'''


class StateSite:
    def __init__(self, root: Path) -> None:
        from trackreport.site.build import build_site

        self.store = root / "store"
        src = Path(__file__).resolve().parents[1] / "src"
        env = dict(os.environ, TRACKREPORT_CAPTURE="0", PYTHONPATH=str(src))
        done = subprocess.run([sys.executable, "-c", STORE_SCRIPT, str(self.store), LONG_NAME],
                              check=True, env=env, capture_output=True, text=True)
        self.ids: dict[str, str] = json.loads(done.stdout.strip().splitlines()[-1])
        self.site = root / "site"
        build_site(self.store, self.site)

    def soup(self, rel: str) -> BeautifulSoup:
        return BeautifulSoup((self.site / rel).read_text("utf-8"), "html.parser")

    def experiment(self, name: str) -> str:
        pages = [p for p in (self.site / "experiments").glob("*/index.html")
                 if p.parent.name == name or p.parent.name.startswith(name + "-")]
        assert len(pages) == 1, pages
        return pages[0].relative_to(self.site).as_posix()

    def run(self, key: str) -> str:
        return f"runs/{self.ids[key]}/index.html"


_SITE: list[StateSite] = []


def state_site(tmp_path_factory: pytest.TempPathFactory) -> StateSite:
    """One store of odd states and its site per session (also used by test_browser.py)."""
    if not _SITE:
        _SITE.append(StateSite(tmp_path_factory.mktemp("state-site")))
    return _SITE[0]


@pytest.fixture(scope="module")
def states(tmp_path_factory: pytest.TempPathFactory) -> StateSite:
    return state_site(tmp_path_factory)


def chart_spec(soup: BeautifulSoup, figure: Any) -> dict[str, Any]:
    chart_id = figure.find(attrs={"data-chart": True})["data-chart"]
    return json.loads(soup.find("script", id=chart_id).string)


def section_charts(soup: BeautifulSoup, heading_id: str) -> list[Any]:
    heading = soup.find("h2", id=heading_id)
    if heading is None:
        return []
    return heading.find_parent("section").find_all("figure", class_="chart-card")


# ---------------------------------------------------------------- final values as bars


def test_single_step_metrics_get_bar_charts_after_the_step_charts(states: StateSite) -> None:
    soup = states.soup(states.experiment("sweep"))
    steps = section_charts(soup, "charts-heading")
    bars = section_charts(soup, "final-heading")
    assert soup.find("h2", id="charts-heading").get_text() == (
        "How the metrics moved during training")
    assert soup.find("h2", id="final-heading").get_text() == "Final values"
    # Step charts come first on the page, the primary metric first among them.
    headings = [h.get("id") for h in soup.find_all("h2")]
    assert headings.index("charts-heading") < headings.index("final-heading")
    assert [f.figcaption.get_text() for f in steps] == ["val_acc", "val_loss"]
    assert [f.figcaption.get_text() for f in bars] == [
        "best_stage by run", "fit_seconds by run", "val_f1 by run"]
    for figure in steps:
        spec = chart_spec(soup, figure)
        assert any(layer["mark"]["type"] == "line" for layer in spec["layer"])
    # val_f1: one bar per run, best (highest) first, the value written on it.
    f1 = chart_spec(soup, bars[2])
    rows = sorted(f1["data"]["values"], key=lambda r: r["rank"])
    assert [r["run"] for r in rows] == ["gbm-lr0.1-d1", "logreg", "gbm-lr0.03-d1",
                                        "gbm-lr0.3-d3"]
    assert [r["shown"] for r in rows] == ["0.978", "0.966", "0.961", "0.955"]
    assert {layer["mark"]["type"] for layer in f1["layer"]} == {"bar", "text"}
    # fit_seconds: lowest first (a time); best_stage: highest first.
    secs = sorted(chart_spec(soup, bars[1])["data"]["values"], key=lambda r: r["rank"])
    assert [r["value"] for r in secs] == [0.02, 0.2, 0.23, 0.74]
    stage = sorted(chart_spec(soup, bars[0])["data"]["values"], key=lambda r: r["rank"])
    assert [r["value"] for r in stage] == [30, 30, 30]
    assert "Lowest first" in bars[1].find(class_="chart-note").get_text()


def test_bar_colours_match_the_line_charts(states: StateSite) -> None:
    soup = states.soup(states.experiment("sweep"))
    domains = []
    for figure in soup.find_all("figure", class_="chart-card"):
        spec = chart_spec(soup, figure)
        if "layer" not in spec or "color" not in spec["layer"][0]["encoding"]:
            continue
        color = spec["layer"][0]["encoding"]["color"]
        if color.get("field") == "run":
            domains.append((color["scale"]["domain"], color["scale"]["scheme"]))
    assert len(domains) == 5
    assert all(d == domains[0] for d in domains), domains


def test_primary_single_step_metric_bar_comes_first(states: StateSite) -> None:
    soup = states.soup(states.experiment("final-only"))
    assert section_charts(soup, "charts-heading") == []
    bars = section_charts(soup, "final-heading")
    assert [f.figcaption.get_text() for f in bars] == [
        "score by run", "accuracy by run", "rmse by run"]
    rmse = sorted(chart_spec(soup, bars[2])["data"]["values"], key=lambda r: r["rank"])
    assert [r["run"] for r in rmse] == ["b", "c", "a"]  # lower is better


# ---------------------------------------------------------------- empty and odd states


def test_experiment_whose_runs_have_no_metrics(states: StateSite) -> None:
    soup = states.soup(states.experiment("no-metrics"))
    lead = soup.find("p", class_="lead").get_text()
    assert lead == ("2 runs, but no metric to rank them by: name one with "
                    "set_experiment(primary_metric=...).") or "no metric to rank them by" in lead
    assert soup.find(id="best-heading") is None
    assert soup.find("figure", class_="chart-card") is None
    assert soup.find(id="charts-heading") is None and soup.find(id="final-heading") is None
    groups = {th.get("data-group") for th in soup.select("[data-runs-table] thead th")}
    assert "metrics" not in groups and "params" in groups
    assert len(soup.select("[data-runs-table] tbody tr")) == 2


def test_run_with_nothing_logged_says_so(states: StateSite) -> None:
    soup = states.soup(states.run("bare"))
    text = " ".join(soup.get_text(" ").split())
    assert "This run logged no metrics." in text
    assert "No params were logged." in text
    assert "This run saved no files." in text
    assert soup.find("figure", class_="chart-card") is None
    assert soup.find(class_="primary-card") is None
    # No empty boxes: every card has words in it beyond its heading.
    for card in soup.select("main .card"):
        heading = card.find(["h2", "h3"])
        rest = card.get_text(" ").replace(heading.get_text() if heading else "", "").strip()
        assert rest, card


def test_all_nan_metric_says_no_finite_values(states: StateSite) -> None:
    run = states.soup(states.run("nan"))
    rows = {tr.th.get_text(" ").split()[0]: tr for tr in run.select("table.metrics-table tbody tr")}
    cells = [td.get_text() for td in rows["loss"].find_all("td")]
    assert cells[0] == "no finite values"
    assert "NaN" not in " ".join(cells)
    assert run.find("figure", class_="chart-card") is None
    exp = states.soup(states.experiment("odd"))
    # The runs table: words, not NaN, in the all-NaN cells; they sort last.
    table_text = exp.select_one("[data-runs-table] tbody").get_text(" ")
    assert "NaN" not in table_text
    assert "no finite values" in table_text
    # ghost is NaN in every run: no chart, and the page says why.
    captions = [f.figcaption.get_text() for f in exp.find_all("figure", class_="chart-card")]
    assert not any("ghost" in c for c in captions)
    assert "No chart for ghost" in exp.get_text(" ")


def test_long_run_name_wraps_in_headings_and_ends_in_ellipsis_in_tables(
        states: StateSite) -> None:
    run = states.soup(states.run("long"))
    assert "long-name" in run.h1["class"]
    exp = states.soup(states.experiment("odd"))
    link = next(a for a in exp.select("[data-runs-table] tbody th a.run-name")
                if a.get_text() == LONG_NAME)
    assert link["title"] == LONG_NAME
    css = (states.site / "assets/style.css").read_text()
    rule = re.search(r"\.runs-table tbody th \.run-name \{([^}]*)\}", css).group(1)
    assert "text-overflow: ellipsis" in rule and "white-space: nowrap" in rule


def test_big_tables_get_fixed_layout(states: StateSite) -> None:
    wide = states.soup(states.experiment("wide"))
    assert "fixed-layout" in wide.select_one("[data-runs-table] table")["class"]
    small = states.soup(states.experiment("sweep"))
    assert not small.select_one("[data-runs-table] table").get("class")


# ---------------------------------------------------------------- index and compare


def test_index_latest_runs_started_reads_as_a_date(states: StateSite) -> None:
    soup = states.soup("index.html")
    table = soup.find(id="latest-heading").find_parent("section").find("table")
    headers = [th.get_text() for th in table.thead.find_all("th")]
    started = headers.index("Started")
    for tr in table.tbody.find_all("tr"):
        cell = tr.find_all(["th", "td"])[started]
        assert "num" not in (cell.get("class") or [])
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC",
                            " ".join(cell.get_text(" ").split())), cell.get_text()
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z",
                            cell.find("time")["datetime"])


def test_compare_page_explains_how_to_pick_runs(states: StateSite) -> None:
    soup = states.soup("compare/index.html")
    help_box = soup.find(id="compare-help")
    text = " ".join(help_box.get_text(" ").split())
    assert "tick the box" in text and "Compare selected" in text
    links = {a.get_text(): a["href"] for a in help_box.select(".compare-experiments a")}
    assert set(links) == {"sweep", "final-only", "no-metrics", "odd", "wide"}
    for href in links.values():
        assert (states.site / "compare" / href).resolve().is_file()
    assert "2 runs" in help_box.get_text()


def test_best_card_says_no_finite_values(states: StateSite) -> None:
    soup = states.soup(states.experiment("odd"))
    facts = {dt.get_text(): dd.get_text() for dt, dd in
             zip(soup.select(".best-card dt"), soup.select(".best-card dd"), strict=True)}
    assert facts["ghost"] == "no finite values"


def test_step_chart_names_runs_with_a_single_value(states: StateSite) -> None:
    soup = states.soup(states.experiment("sweep"))
    val_acc = section_charts(soup, "charts-heading")[0]
    assert val_acc.find(class_="chart-note").get_text() == (
        "logreg has one value only (no line to draw): see the table.")
