"""The site's JavaScript in Debian's chromium, pages opened from file:// under the
site's Content Security Policy: charts, the runs table, the compare page.

These tests fail (never skip) when /usr/bin/chromium is missing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from browser_helpers import (
    CSP,
    HOSTILE,
    SHOTS,
    STATIC,
    Watch,
    page,
    script_json,
    write_fixture_site,
)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def fixture_site(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_fixture_site(tmp_path_factory.mktemp("fixture-site"))


@pytest.fixture
def open_page(browser: Any) -> Any:
    contexts = []

    def opener(path: Path | str, query: str = "", color_scheme: str = "light") -> tuple[Any, Watch]:
        context = browser.new_context(
            viewport={"width": 1100, "height": 900}, color_scheme=color_scheme
        )
        contexts.append(context)
        pg = context.new_page()
        watch = Watch().attach(pg)
        url = path if isinstance(path, str) else path.resolve().as_uri()
        pg.goto(url + query)
        return pg, watch

    yield opener
    for context in contexts:
        context.close()


def body_run_names(pg: Any) -> list[str]:
    return pg.eval_on_selector_all(
        "[data-runs-table] tbody tr:not([hidden]) th[scope=row] a",
        "els => els.map(e => e.textContent)",
    )


def column_values(pg: Any, header: str) -> list[str]:
    index = pg.eval_on_selector_all(
        "[data-runs-table] thead th",
        "(ths, h) => ths.findIndex(th => th.textContent.replace(/[\u2195\u25b2\u25bc]/g, '').trim() === h)",
        header,
    )
    assert index >= 0, header
    return pg.eval_on_selector_all(
        "[data-runs-table] tbody tr",
        "(trs, i) => trs.map(tr => tr.cells[i].textContent.trim())",
        index,
    )


def click_header(pg: Any, header: str) -> None:
    pg.locator("[data-runs-table] thead th button.sort-button", has_text=header).first.click()


def aria_sorts(pg: Any) -> dict[str, str]:
    return pg.eval_on_selector_all(
        "[data-runs-table] thead th[aria-sort]",
        "ths => Object.fromEntries(ths.map(th => [th.textContent.replace(/[\u2195\u25b2\u25bc]/g, '').trim(), th.getAttribute('aria-sort')]))",
    )


def wait_charts(pg: Any, count: int) -> None:
    pg.wait_for_function(
        "n => document.querySelectorAll('[data-chart-state=drawn], [data-compare-chart] svg').length >= n",
        arg=count,
        timeout=15000,
    )


# ---------------------------------------------------------------- charts


def test_charts_draw_under_csp_from_file(open_page: Any, fixture_site: dict[str, Path]) -> None:
    pg, watch = open_page(fixture_site["experiment"])
    wait_charts(pg, 2)
    states = pg.eval_on_selector_all(
        "[data-chart]", "els => els.map(e => e.getAttribute('data-chart-state'))"
    )
    assert states == ["drawn", "drawn"]
    # One line per run with values (4 of 5), drawn as SVG paths.
    lines = pg.locator("[data-chart=chart-val_acc] svg g.mark-line path")
    assert lines.count() == 4
    assert pg.locator("[data-chart=chart-parallel] svg g.mark-line path").count() == 4
    # The legend and axis titles are SVG text: a hostile name is text, not an element.
    legend = pg.eval_on_selector("[data-chart=chart-val_acc] svg", "svg => svg.textContent")
    assert HOSTILE in legend
    assert pg.locator("img").count() == 0
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.locator("figure.chart-card").first.screenshot(path=str(SHOTS / "fixture-chart.png"))
    watch.assert_clean()


def test_chart_tooltip_names_the_run(open_page: Any, fixture_site: dict[str, Path]) -> None:
    pg, watch = open_page(fixture_site["experiment"])
    wait_charts(pg, 2)
    box = pg.locator("[data-chart=chart-val_acc] svg.marks").bounding_box()
    assert box is not None
    tooltip = pg.locator("#vg-tooltip-element.visible")
    for fraction in (0.5, 0.3, 0.7, 0.9):
        pg.mouse.move(box["x"] + box["width"] * fraction, box["y"] + box["height"] * 0.3)
        pg.wait_for_timeout(150)
        if tooltip.count():
            break
    text = tooltip.inner_text()
    assert "Run" in text and "Step" in text and "val_acc" in text
    assert "undefined" not in text
    assert tooltip.locator("img").count() == 0
    watch.assert_clean()


def test_chart_legend_toggles_runs_and_wheel_zooms(
    open_page: Any, fixture_site: dict[str, Path]
) -> None:
    pg, watch = open_page(fixture_site["experiment"])
    wait_charts(pg, 2)
    opacities = (
        "() => Array.from(document.querySelectorAll("
        "'[data-chart=chart-val_acc] g.mark-line path')).map(p => p.getAttribute('opacity'))"
    )
    assert pg.evaluate(opacities) == ["1", "1", "1", "1"]
    pg.locator("[data-chart=chart-val_acc] .role-legend-label text", has_text="run-1").first.click()
    pg.wait_for_timeout(200)
    assert sorted(pg.evaluate(opacities)) == ["0.12", "0.12", "0.12", "1"]
    labels = "[data-chart=chart-val_acc] .role-axis-label text"
    before = pg.locator(labels).all_text_contents()
    box = pg.locator("[data-chart=chart-val_acc] svg.marks").bounding_box()
    assert box is not None
    pg.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 3)
    pg.mouse.wheel(0, -400)
    pg.wait_for_timeout(200)
    assert pg.locator(labels).all_text_contents() != before
    watch.assert_clean()


def test_chart_error_shows_message_and_page_survives(open_page: Any, tmp_path: Path) -> None:
    from trackreport.site.assets import write_assets

    write_assets(tmp_path / "assets")
    (tmp_path / "assets/charts.js").write_bytes((STATIC / "charts.js").read_bytes())
    body = (
        '<figure class="chart-card"><div class="chart" data-chart="bad"></div>'
        '<script type="application/json" id="bad">{"mark": "nope", "data": 3}</script></figure>'
        '<figure class="chart-card"><div class="chart" data-chart="torn"></div>'
        '<script type="application/json" id="torn">{"mark": </script></figure>'
        '<figure class="chart-card"><div class="chart" data-chart="absent"></div></figure>'
        '<figure class="chart-card"><div class="chart" data-chart="good"></div>'
        '<script type="application/json" id="good">'
        + script_json(
            {
                "data": {"values": [{"a": 1, "b": 2}, {"a": 2, "b": 3}]},
                "mark": "line",
                "encoding": {
                    "x": {"field": "a", "type": "quantitative"},
                    "y": {"field": "b", "type": "quantitative"},
                },
                "width": "container",
            }
        )
        + "</script></figure>"
    )
    path = tmp_path / "errors.html"
    path.write_text(page("errors", body, ["vendor/vega-bundle.js", "charts.js"], 0))
    pg, watch = open_page(path)
    pg.wait_for_function(
        "() => document.querySelectorAll('[data-chart-state=error]').length === 3"
        " && document.querySelectorAll('[data-chart-state=drawn]').length === 1",
        timeout=15000,
    )
    messages = pg.locator(".chart-error").all_inner_texts()
    assert len(messages) == 3
    assert all(m.startswith("This chart could not be drawn") for m in messages)
    assert watch.errors == [] and watch.dialogs == []


def test_charts_follow_dark_mode(open_page: Any, fixture_site: dict[str, Path]) -> None:
    fills = {}
    for scheme in ("light", "dark"):
        pg, watch = open_page(fixture_site["experiment"], color_scheme=scheme)
        wait_charts(pg, 2)
        fills[scheme] = pg.eval_on_selector(
            "[data-chart=chart-val_acc] svg .role-axis-label text", "t => t.getAttribute('fill')"
        )
        if scheme == "dark":
            SHOTS.mkdir(parents=True, exist_ok=True)
            pg.locator("figure.chart-card").first.screenshot(
                path=str(SHOTS / "fixture-chart-dark.png")
            )
        watch.assert_clean()
    assert fills["light"] != fills["dark"]


def test_chart_resizes_with_container(open_page: Any, fixture_site: dict[str, Path]) -> None:
    pg, watch = open_page(fixture_site["experiment"])
    wait_charts(pg, 2)

    def svg_width() -> float:
        return pg.eval_on_selector(
            "[data-chart=chart-val_acc] svg", "s => s.getBoundingClientRect().width"
        )

    wide = svg_width()
    pg.eval_on_selector("[data-chart=chart-val_acc]", "el => { el.style.width = '420px'; }")
    pg.wait_for_function(
        "() => document.querySelector('[data-chart=chart-val_acc] svg').getBoundingClientRect().width < 460",
        timeout=5000,
    )
    assert svg_width() < wide
    watch.assert_clean()


def test_bundle_sets_only_vega_embed(open_page: Any, tmp_path: Path) -> None:
    from trackreport.site.assets import write_assets

    write_assets(tmp_path / "assets")
    blank = tmp_path / "blank.html"
    blank.write_text(page("blank", "<p>x</p>", [], 0))
    bundled = tmp_path / "bundled.html"
    bundled.write_text(page("bundled", "<p>x</p>", ["vendor/vega-bundle.js"], 0))
    pg, _ = open_page(blank)
    before = set(pg.evaluate("Object.getOwnPropertyNames(window)"))
    pg, watch = open_page(bundled)
    after = set(pg.evaluate("Object.getOwnPropertyNames(window)"))
    assert after - before == {"vegaEmbed"}
    assert pg.evaluate("typeof window.vegaEmbed") == "function"
    watch.assert_clean()


# ---------------------------------------------------------------- runs table


def test_sort_numbers_both_ways_empty_last(open_page: Any, fixture_site: dict[str, Path]) -> None:
    pg, watch = open_page(fixture_site["experiment"])
    pg.wait_for_selector("[data-runs-table] .tr-filter")
    click_header(pg, "val_acc")
    assert column_values(pg, "val_acc") == ["0.66", "0.74", "0.81", "0.9", ""]
    assert aria_sorts(pg) == {"val_acc": "ascending"}
    click_header(pg, "val_acc")
    assert column_values(pg, "val_acc") == ["0.9", "0.81", "0.74", "0.66", ""]
    assert aria_sorts(pg) == {"val_acc": "descending"}
    click_header(pg, "lr")  # numbers, not text: 0.01 < 0.1 < 0.2 < 0.3 < 1.0
    assert column_values(pg, "lr") == ["0.01", "0.1", "0.2", "0.3", "1.0"]
    assert aria_sorts(pg) == {"lr": "ascending"}
    watch.assert_clean()


def test_sort_text_naturally(open_page: Any, fixture_site: dict[str, Path]) -> None:
    pg, watch = open_page(fixture_site["experiment"])
    pg.wait_for_selector("[data-runs-table] .tr-filter")
    click_header(pg, "Run")
    names = [n for n in body_run_names(pg) if n.startswith("run-")]
    assert names == ["run-1", "run-2", "run-3", "run-10"]
    click_header(pg, "Run")
    names = [n for n in body_run_names(pg) if n.startswith("run-")]
    assert names == ["run-10", "run-3", "run-2", "run-1"]
    assert aria_sorts(pg) == {"Run": "descending"}
    watch.assert_clean()


def test_sort_by_keyboard(open_page: Any, fixture_site: dict[str, Path]) -> None:
    pg, watch = open_page(fixture_site["experiment"])
    pg.wait_for_selector("[data-runs-table] .tr-filter")
    button = pg.locator("[data-runs-table] thead th button.sort-button", has_text="val_acc").first
    button.focus()
    assert pg.evaluate("document.activeElement.classList.contains('sort-button')")
    pg.keyboard.press("Enter")
    assert aria_sorts(pg) == {"val_acc": "ascending"}
    pg.keyboard.press("Space")
    assert aria_sorts(pg) == {"val_acc": "descending"}
    # Tab reaches the header buttons (they are real buttons).
    assert pg.evaluate("document.activeElement.tagName") == "BUTTON"
    watch.assert_clean()


def test_filter(open_page: Any, fixture_site: dict[str, Path]) -> None:
    pg, watch = open_page(fixture_site["experiment"])
    box = pg.locator("[data-runs-table] .tr-filter")
    box.fill("RUN-1")
    pg.wait_for_function(
        "() => document.querySelector('[data-runs-table] .tr-count').textContent.startsWith('2 of')"
    )
    assert sorted(body_run_names(pg)) == ["run-1", "run-10"]
    assert pg.locator("[data-runs-table] .tr-count").inner_text() == "2 of 5 runs"
    box.fill("<b>")  # a param value, matched as text
    pg.wait_for_function(
        "() => document.querySelector('[data-runs-table] .tr-count').textContent.startsWith('1 of')"
    )
    assert body_run_names(pg) == [HOSTILE]
    box.fill("")
    pg.wait_for_function(
        "() => document.querySelector('[data-runs-table] .tr-count').textContent === '5 runs'"
    )
    watch.assert_clean()


def test_column_groups_hide_and_show(open_page: Any, fixture_site: dict[str, Path]) -> None:
    pg, watch = open_page(fixture_site["experiment"])
    toggles = pg.locator("[data-runs-table] .tr-group-toggle")
    labels = pg.locator("[data-runs-table] .tr-groups label").all_inner_texts()
    assert [t.strip() for t in labels] == ["Params", "Metrics", "Min/Max", "Tags"]
    assert toggles.count() == 4
    lr = pg.locator("[data-runs-table] thead th", has_text="lr").first
    minmax = pg.locator("[data-runs-table] thead th", has_text="val_acc min").first
    assert lr.is_visible() and not minmax.is_visible()
    pg.locator("[data-group-toggle=params]").uncheck()
    assert not lr.is_visible()
    assert pg.locator("[data-runs-table] tbody td[data-group=params]:visible").count() == 0
    pg.locator("[data-group-toggle=metrics-minmax]").check()
    assert minmax.is_visible()
    assert pg.locator("[data-runs-table] tbody td[data-group=metrics-minmax]:visible").count() == 5
    pg.locator("[data-group-toggle=params]").check()
    assert lr.is_visible()
    watch.assert_clean()


def test_select_two_runs_and_compare(open_page: Any, fixture_site: dict[str, Path]) -> None:
    pg, watch = open_page(fixture_site["experiment"])
    button = pg.locator("[data-runs-table] .tr-compare")
    assert button.is_disabled()
    assert button.inner_text() == "Compare selected (0)"
    pg.locator("input.run-select[value=r01]").check()
    assert button.is_disabled()
    pg.locator("input.run-select[value=r04]").check()
    assert button.inner_text() == "Compare selected (2)"
    assert button.is_enabled()
    with pg.expect_navigation():
        button.click()
    assert pg.url.endswith("compare/index.html?runs=r01,r04")
    pg.wait_for_selector("#compare[data-state=ready]")
    header = pg.locator("#compare .cmp-runs li")
    assert header.count() == 2
    names = pg.locator("#compare .cmp-run-name").all_inner_texts()
    assert names == ["run-2", HOSTILE]
    hrefs = pg.eval_on_selector_all(
        "#compare .cmp-run-name", "as => as.map(a => a.getAttribute('href'))"
    )
    assert hrefs == ["../runs/r01/index.html", "../runs/r04/index.html"]
    # Params: lr and model differ, seed is equal and hidden while "Only differences" is on.
    switch = pg.locator("#only-differences")
    assert switch.is_checked()
    visible = pg.locator("#compare table.cmp-params tbody tr:visible th").all_inner_texts()
    assert visible == ["lr", "model"]
    assert pg.locator("#compare table.cmp-params tr.differs").count() == 2
    assert HOSTILE.replace("img src=x onerror=alert(1)", "b>x</b") not in pg.content()
    switch.uncheck()
    visible = pg.locator("#compare table.cmp-params tbody tr:visible th").all_inner_texts()
    assert visible == ["lr", "model", "seed"]
    # Metrics: the best last value is starred.
    best = pg.locator("#compare table.cmp-metrics td.best").all_inner_texts()
    assert len(best) == 1 and best[0].startswith("\u2605 0.81")
    # One overlaid chart with both runs.
    wait_charts(pg, 1)
    pg.wait_for_function(
        "() => document.querySelectorAll('#compare [data-compare-chart] svg g.mark-line path').length === 2",
        timeout=15000,
    )
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SHOTS / "fixture-compare.png"), full_page=True)
    assert pg.locator("img").count() == 0
    watch.assert_clean()


def test_compare_unknown_and_missing_runs(open_page: Any, fixture_site: dict[str, Path]) -> None:
    pg, watch = open_page(fixture_site["compare"], "?runs=nope,r03,%3Cscript%3E,__proto__")
    pg.wait_for_selector("#compare[data-state=ready]")
    missing = pg.locator("#compare .cmp-not-found li").all_inner_texts()
    assert missing == ["nope", "<script>", "__proto__"]
    assert pg.locator("#compare .cmp-run-name").all_inner_texts() == ["run-1"]
    watch.assert_clean()

    pg, watch = open_page(fixture_site["compare"])
    pg.wait_for_selector("#compare[data-state=empty]")
    text = pg.locator("#compare").inner_text()
    assert "Pick runs to compare" in text and "Compare selected" in text
    watch.assert_clean()


def test_large_table_sorts_and_filters(open_page: Any, tmp_path: Path) -> None:
    n_rows, n_cols = 400, 200
    head = ['<th data-group="run" data-type="text" scope="col">Run</th>']
    head += [
        f'<th data-group="{"params" if c < 100 else "metrics"}" data-type="number" scope="col">c{c}</th>'
        for c in range(n_cols)
    ]
    rows = []
    for r in range(n_rows):
        cells = "".join(
            f'<td data-group="{"params" if c < 100 else "metrics"}" data-sort="{(r * 7919 + c * 31) % 1000}">'
            f"{(r * 7919 + c * 31) % 1000}</td>"
            for c in range(n_cols)
        )
        rows.append(
            f'<tr data-run-id="id{r}"><th scope="row"><input type="checkbox" class="run-select" '
            f'value="id{r}" aria-label="Select run-{r}"> <a href="#">run-{r}</a></th>{cells}</tr>'
        )
    body = (
        '<div class="runs-table" data-runs-table data-compare-url="compare/index.html">'
        '<div class="table-tools"></div><div class="table-scroll"><table><thead><tr>'
        + "".join(head)
        + "</tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></div></div>"
    )
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets/table.js").write_bytes((STATIC / "table.js").read_bytes())
    path = tmp_path / "big.html"
    path.write_text(page("big", body, ["table.js"], 0))
    pg, watch = open_page(path)
    pg.wait_for_selector("[data-runs-table] .tr-filter")
    # Speed is measured in benchmarks, not here: this checks that a 400 x 200
    # table sorts and filters correctly.
    pg.evaluate(
        """() => {
          const buttons = document.querySelectorAll('[data-runs-table] thead .sort-button');
          buttons[150].click(); buttons[150].click(); buttons[0].click();
        }"""
    )
    order = pg.eval_on_selector_all(
        "[data-runs-table] tbody tr th a", "as => as.slice(0, 3).map(a => a.textContent)"
    )
    assert order == ["run-0", "run-1", "run-2"]
    pg.locator("[data-runs-table] .tr-filter").fill("run-39")
    pg.wait_for_function(
        "() => document.querySelector('[data-runs-table] .tr-count').textContent === '11 of 400 runs'"
    )
    watch.assert_clean()


def test_fixture_page_has_the_site_csp(fixture_site: dict[str, Path]) -> None:
    # The fixture pages are only useful if they run under the real policy.
    for path in fixture_site.values():
        assert CSP in path.read_text(encoding="utf-8")


# ---------------------------------------------------------------- a real built site

STORE_SCRIPT = r"""
import math, sys
import trackreport as tr

tr.set_store(sys.argv[1])
tr.set_experiment("wine", primary_metric="val_acc", goal="max",
                  description="Which **learning rate** works? <script>alert(5)</script>")
names = ["run-2", "run-10", "run-1", "<img src=x onerror=alert(1)>", "run-3"]
for i, name in enumerate(names):
    with tr.start_run(name=name, capture=False, tags={"stage": "<script>alert(2)</script>" if i == 3 else "candidate"}):
        tr.log_param("lr", [0.1, 0.01, 1.0, 0.3, 0.2][i])
        tr.log_param("model", ["gb", "gb", "rf", "<b>x</b>", "gb"][i])
        tr.log_param("seed", 1)
        if i == 3:
            tr.log_param("<i>odd key</i>", "\"quoted\" </script>")
            tr.note("Hello <img src=x onerror=alert(4)> **bold**")
        if i == 2:
            tr.log_metric("always_nan", float("nan"), step=0)
            tr.log_metric("always_nan", float("nan"), step=1)
        if i != 4:
            for step in range(300):
                tr.log_metric("val_acc", 1 - 0.6 * math.exp(-step / (30 + 15 * i)), step=step)
                tr.log_metric("loss", math.exp(-step / (40 + 10 * i)), step=step)
tr.set_experiment("</script><script>alert(3)</script>", primary_metric="loss", goal="min")
with tr.start_run(name="lonely", capture=False):
    tr.log_metric("loss", 1.0, step=0)
"""

NAMES = ["run-2", "run-10", "run-1", HOSTILE, "run-3"]


@pytest.fixture(scope="module")
def real_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import os
    import subprocess
    import sys

    from trackreport.site.build import build_site

    root = tmp_path_factory.mktemp("real-site")
    store = root / "store"
    env = dict(os.environ, TRACKREPORT_CAPTURE="0", PYTHONPATH=str(STATIC.parents[3]))
    subprocess.run([sys.executable, "-c", STORE_SCRIPT, str(store)], check=True, env=env)
    build_site(store, root / "site")
    return root / "site"


def experiment_page(site: Path) -> Path:
    pages = [p for p in (site / "experiments").glob("*/index.html") if "wine" in p.parent.name]
    assert len(pages) == 1, pages
    return pages[0]


def header_index(pg: Any, label: str) -> int:
    index = pg.eval_on_selector_all(
        "[data-runs-table] thead th",
        "(ths, h) => ths.findIndex(th => th.textContent.replace(/[\u2195\u25b2\u25bc]/g, '').trim() === h)",
        label,
    )
    assert index >= 0, label
    return index


def click_exact(pg: Any, label: str) -> None:
    pg.locator("[data-runs-table] thead th").nth(header_index(pg, label)).locator(
        "button.sort-button"
    ).click()


def draw_every_chart(pg: Any) -> None:
    """Scroll through the page so every lazily drawn chart is drawn."""
    height = pg.evaluate("() => document.documentElement.scrollHeight")
    for y in range(0, height + 900, 600):
        pg.evaluate("y => window.scrollTo(0, y)", y)
        pg.wait_for_timeout(30)
    pg.wait_for_function(
        "() => Array.from(document.querySelectorAll('[data-chart]')).every("
        "el => ['drawn', 'error'].includes(el.getAttribute('data-chart-state')))",
        timeout=20000,
    )


def test_site_every_page_clean(open_page: Any, real_site: Path) -> None:
    pages = sorted(real_site.rglob("*.html"))
    assert len(pages) >= 8
    drawn = 0
    for path in pages:
        pg, watch = open_page(path)
        pg.wait_for_load_state("load")
        draw_every_chart(pg)
        states = pg.eval_on_selector_all(
            "[data-chart]", "els => els.map(e => e.getAttribute('data-chart-state'))"
        )
        assert "error" not in states, (path, pg.locator(".chart-error").all_inner_texts())
        for chart in pg.locator("[data-chart]").all():
            marks = "svg g.mark-line path, svg g.mark-symbol path, svg g.mark-rect path"
            assert chart.locator(marks).count() > 0
        drawn += len(states)
        # Hostile names and notes are text: nothing the store holds became an element.
        assert pg.locator("img[onerror], img[src=x], script:not([src]):not([type])").count() == 0
        watch.assert_clean()
    assert drawn >= 6


def test_site_sort_filter_groups(open_page: Any, real_site: Path) -> None:
    pg, watch = open_page(experiment_page(real_site))
    pg.wait_for_selector("[data-runs-table] .tr-filter")

    def column(label: str) -> list[str]:
        return column_values(pg, label)

    click_exact(pg, "val_acc")
    values = column("val_acc")
    assert values[-1] == ""  # run-3 logged no val_acc: last either way
    numbers = [float(v.split()[0]) for v in values[:-1]]
    assert numbers == sorted(numbers)
    assert aria_sorts(pg) == {"val_acc": "ascending"}
    click_exact(pg, "val_acc")
    values = column("val_acc")
    assert values[-1] == ""
    numbers = [float(v.replace("\u2605", "").split()[0]) for v in values[:-1]]
    assert numbers == sorted(numbers, reverse=True)
    assert aria_sorts(pg) == {"val_acc": "descending"}

    click_exact(pg, "Run")
    assert [n for n in body_run_names(pg) if n.startswith("run-")] == [
        "run-1",
        "run-2",
        "run-3",
        "run-10",
    ]
    assert aria_sorts(pg) == {"Run": "ascending"}
    click_exact(pg, "Run")
    assert [n for n in body_run_names(pg) if n.startswith("run-")] == [
        "run-10",
        "run-3",
        "run-2",
        "run-1",
    ]

    click_exact(pg, "lr")
    assert [float(v) for v in column("lr")] == [0.01, 0.1, 0.2, 0.3, 1.0]

    # A param only one run has: empties last both ways.
    for _ in range(2):
        click_exact(pg, "<i>odd key</i>")
        assert column("<i>odd key</i>")[0] == '"quoted" </script>'
        assert column("<i>odd key</i>")[1:] == [""] * 4

    pg.locator("[data-runs-table] .tr-filter").fill("run-1")
    pg.wait_for_function(
        "() => document.querySelector('[data-runs-table] .tr-count').textContent === '2 of 5 runs'"
    )
    assert sorted(body_run_names(pg)) == ["run-1", "run-10"]
    pg.locator("[data-runs-table] .tr-filter").fill("")
    pg.wait_for_function(
        "() => document.querySelector('[data-runs-table] .tr-count').textContent === '5 runs'"
    )

    lr = pg.locator("[data-runs-table] thead th").nth(header_index(pg, "lr"))
    low = pg.locator("[data-runs-table] thead th").nth(header_index(pg, "val_acc (min)"))
    assert lr.is_visible() and not low.is_visible()
    pg.locator("[data-group-toggle=params]").uncheck()
    assert not lr.is_visible()
    assert pg.locator("[data-runs-table] tbody td[data-group=params]:visible").count() == 0
    pg.locator("[data-group-toggle=metrics-minmax]").check()
    assert low.is_visible()
    # Keyboard: the header is a button; Enter sorts.
    pg.locator("[data-runs-table] thead th").nth(header_index(pg, "loss")).locator("button").focus()
    pg.keyboard.press("Enter")
    assert aria_sorts(pg) == {"loss": "ascending"}
    watch.assert_clean()


def test_site_select_two_runs_and_compare(open_page: Any, real_site: Path) -> None:
    pg, watch = open_page(experiment_page(real_site))
    pg.wait_for_selector("[data-runs-table] .tr-compare")
    ids = pg.eval_on_selector_all(
        "[data-runs-table] tbody tr",
        "trs => Object.fromEntries(trs.map(tr => [tr.querySelector('th a').textContent, tr.dataset.runId]))",
    )
    assert set(ids) == set(NAMES)
    pg.locator(f"input.run-select[value='{ids['run-2']}']").check()
    pg.locator(f"input.run-select[value='{ids[HOSTILE]}']").check()
    button = pg.locator("[data-runs-table] .tr-compare")
    assert button.inner_text() == "Compare selected (2)"
    with pg.expect_navigation():
        button.click()
    assert "compare/index.html?runs=" in pg.url
    pg.wait_for_selector("#compare[data-state=ready]")
    assert sorted(pg.locator("#compare .cmp-run-name").all_inner_texts()) == sorted(
        ["run-2", HOSTILE]
    )
    for link in pg.locator("#compare .cmp-run-name").all():
        href = link.get_attribute("href")
        assert href and href.startswith("../runs/")
        assert (pg_path(pg).parent / href).resolve().is_file()
    assert pg.locator("#only-differences").is_checked()
    visible = pg.locator("#compare table.cmp-params tbody tr:visible th").all_inner_texts()
    assert visible == ["<i>odd key</i>", "lr", "model"]
    pg.locator("#only-differences").uncheck()
    visible = pg.locator("#compare table.cmp-params tbody tr:visible th").all_inner_texts()
    assert visible == ["<i>odd key</i>", "lr", "model", "seed"]
    pg.locator("#only-differences").check()
    stars = pg.locator("#compare table.cmp-metrics td.best").count()
    assert stars == 2  # val_acc and loss
    pg.wait_for_function(
        "() => document.querySelectorAll('#compare [data-compare-chart]').length === 2 &&"
        " Array.from(document.querySelectorAll('#compare [data-compare-chart]')).every("
        "  el => el.querySelectorAll('svg g.mark-line path').length === 2)",
        timeout=20000,
    )
    # The compare charts flatten one row per run in the browser: the
    # nearest-point tooltip, legend toggling and zoom work as on other pages.
    chart = pg.locator("#compare [data-compare-chart]").first
    chart.scroll_into_view_if_needed()
    box = chart.locator("svg.marks").bounding_box()
    assert box is not None
    tooltip = pg.locator("#vg-tooltip-element.visible")
    for fraction in (0.5, 0.3, 0.7, 0.9, 0.1):
        pg.mouse.move(box["x"] + box["width"] * fraction, box["y"] + box["height"] * 0.4)
        pg.wait_for_timeout(150)
        if tooltip.count():
            break
    text = tooltip.inner_text()
    assert "Run" in text and "Step" in text and "undefined" not in text
    assert "run-2" in text or HOSTILE in text
    opacities = "el => Array.from(el.querySelectorAll('g.mark-line path')).map(p => p.getAttribute('opacity'))"
    assert chart.evaluate(opacities) == ["1", "1"]
    chart.locator(".role-legend-label text", has_text="run-2").first.click()
    pg.wait_for_timeout(200)
    assert sorted(chart.evaluate(opacities)) == ["0.12", "1"]
    labels = chart.locator(".role-axis-label text")
    before = labels.all_text_contents()
    pg.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 3)
    pg.mouse.wheel(0, -400)
    pg.wait_for_timeout(200)
    assert labels.all_text_contents() != before
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SHOTS / "site-compare-two-runs.png"), full_page=True)
    watch.assert_clean()

    # Unknown ids are listed as not found; no ids explain how to pick runs.
    compare = real_site / "compare/index.html"
    pg, watch = open_page(compare, f"?runs=nope,{ids['run-1']}")
    pg.wait_for_selector("#compare[data-state=ready]")
    assert pg.locator("#compare .cmp-not-found li").all_inner_texts() == ["nope"]
    assert pg.locator("#compare .cmp-run-name").all_inner_texts() == ["run-1"]
    watch.assert_clean()
    pg, watch = open_page(compare)
    pg.wait_for_selector("#compare[data-state=empty]", state="attached")
    # The page's own help says how to pick runs, once (the script adds no second copy).
    assert "Compare selected" in pg.locator("#compare-help").inner_text()
    assert pg.locator("#compare-help .compare-experiments a").count() >= 1
    assert pg.locator("#compare").inner_text().strip() == ""
    watch.assert_clean()


def test_site_chart_screenshot(open_page: Any, real_site: Path) -> None:
    pg, watch = open_page(experiment_page(real_site))
    draw_every_chart(pg)
    SHOTS.mkdir(parents=True, exist_ok=True)
    card = pg.locator("figure.chart-card").first
    card.scroll_into_view_if_needed()
    card.screenshot(path=str(SHOTS / "site-chart.png"))
    legend = pg.eval_on_selector("[data-chart] svg", "svg => svg.textContent")
    assert HOSTILE in legend
    watch.assert_clean()


def pg_path(pg: Any) -> Path:
    from urllib.parse import unquote, urlparse

    return Path(unquote(urlparse(pg.url).path))


# ---------------------------------------------------------------- odd states, built site


@pytest.fixture(scope="module")
def states_site(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from test_site_states import state_site

    return state_site(tmp_path_factory)


def open_sized(browser: Any, path: Path, width: int, height: int, scheme: str = "light") -> Any:
    context = browser.new_context(viewport={"width": width, "height": height},
                                  color_scheme=scheme)
    pg = context.new_page()
    watch = Watch().attach(pg)
    pg.goto(path.resolve().as_uri())
    return context, pg, watch


def test_every_chart_drawn_without_scrolling(browser: Any, states_site: Any) -> None:
    # A phone-sized window: most charts are far below the first screen.
    context, pg, watch = open_sized(browser, states_site.site / states_site.experiment("sweep"),
                                    390, 600)
    try:
        height = pg.evaluate("() => document.documentElement.scrollHeight")
        last = pg.evaluate(
            "() => { const f = document.querySelectorAll('figure.chart-card');"
            " return f[f.length - 1].getBoundingClientRect().top; }")
        assert last > 600 + 1200 + 200, (last, height)  # beyond the observer's margin
        cards = pg.locator("figure.chart-card")
        assert cards.count() == 6  # 2 over steps, 3 final values, params
        pg.wait_for_function(
            "() => Array.from(document.querySelectorAll('figure.chart-card')).every("
            "  f => f.querySelectorAll('svg g.role-mark > *').length > 0)",
            timeout=5000,
        )
        assert pg.evaluate("() => window.scrollY") == 0
        for i in range(cards.count()):
            assert cards.nth(i).locator("svg g.role-mark > *").count() > 0
        # The bars are drawn, one per run, with their values written on them.
        bars = pg.locator("figure.chart-card", has_text="val_f1 by run")
        assert bars.locator("svg g.mark-rect path").count() == 4
        assert "0.978" in (bars.locator("svg").text_content() or "")
        watch.assert_clean()
    finally:
        context.close()


def test_run_names_stay_on_one_line(browser: Any, states_site: Any) -> None:
    from test_site_states import LONG_NAME

    for width in (1280, 390):
        for name in ("sweep", "odd"):
            context, pg, watch = open_sized(
                browser, states_site.site / states_site.experiment(name), width, 800)
            try:
                pg.wait_for_selector("[data-runs-table] .tr-filter")
                links = pg.eval_on_selector_all(
                    "[data-runs-table] tbody th a.run-name",
                    "as => as.map(a => ({name: a.textContent, lines: a.getClientRects().length,"
                    " height: a.getBoundingClientRect().height,"
                    " line: parseFloat(getComputedStyle(a).lineHeight) ||"
                    "  1.5 * parseFloat(getComputedStyle(a).fontSize),"
                    " cut: a.scrollWidth > a.clientWidth, title: a.title,"
                    " th: a.closest('th').getBoundingClientRect().width}))",
                )
                assert links
                for link in links:
                    assert link["lines"] == 1, link
                    assert link["height"] < 1.5 * link["line"], (width, link)
                    assert link["th"] <= 18 * 16 + 1, link
                    if link["name"] == LONG_NAME:
                        assert link["cut"] and link["title"] == LONG_NAME
                    elif name == "sweep":
                        assert not link["cut"], (width, link)
                watch.assert_clean()
            finally:
                context.close()


def test_big_table_has_fixed_layout(browser: Any, states_site: Any) -> None:
    context, pg, watch = open_sized(browser, states_site.site / states_site.experiment("wide"),
                                    1280, 800)
    try:
        pg.wait_for_selector("[data-runs-table] .tr-filter")
        layout = pg.eval_on_selector("[data-runs-table] table",
                                     "t => getComputedStyle(t).tableLayout")
        assert layout == "fixed"
        info = pg.eval_on_selector(
            "[data-runs-table] .table-scroll",
            "s => ({scroll: s.scrollWidth, client: s.clientWidth})")
        assert info["scroll"] > info["client"]  # 60 params: the card scrolls sideways
        widths = pg.eval_on_selector_all(
            "[data-runs-table] thead th[data-group=params]",
            "ths => ths.map(th => Math.round(th.getBoundingClientRect().width))")
        assert len(set(widths)) == 1 and 100 <= widths[0] <= 160, widths
        # Names are still one line and sorting still works.
        click_exact(pg, "p59")
        click_exact(pg, "p59")
        assert body_run_names(pg) == ["wide-1", "wide-0"]
        watch.assert_clean()
    finally:
        context.close()


def test_index_columns_align_with_their_headers(browser: Any, states_site: Any) -> None:
    context, pg, watch = open_sized(browser, states_site.site / "index.html", 1280, 900)
    try:
        table = pg.locator("#latest-heading").locator("xpath=..").locator("table")
        aligns = table.evaluate(
            "t => Array.from(t.tHead.rows[0].cells).map((th, i) => [th.textContent,"
            " getComputedStyle(th).textAlign,"
            " Array.from(t.tBodies[0].rows).map(r => getComputedStyle(r.cells[i]).textAlign)])")
        for header, head_align, cell_aligns in aligns:
            assert set(cell_aligns) == {head_align}, (header, head_align, cell_aligns)
        assert dict((h, a) for h, a, _ in aligns)["Started"] in ("left", "start")
        watch.assert_clean()
    finally:
        context.close()


def test_odd_state_pages_are_clean(browser: Any, states_site: Any) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    pages = {
        "no-metrics": states_site.experiment("no-metrics"),
        "odd": states_site.experiment("odd"),
        "bare-run": states_site.run("bare"),
        "nan-run": states_site.run("nan"),
        "long-run": states_site.run("long"),
    }
    for label, rel in pages.items():
        for width in (1280, 390):
            context, pg, watch = open_sized(browser, states_site.site / rel, width, 900)
            try:
                pg.wait_for_load_state("load")
                pg.wait_for_function(
                    "() => Array.from(document.querySelectorAll('[data-chart]')).every("
                    "el => el.getAttribute('data-chart-state') === 'drawn')",
                    timeout=10000,
                )
                # Nothing sticks out of the page sideways (long names wrap or are cut).
                overflow = pg.evaluate(
                    "() => document.documentElement.scrollWidth - window.innerWidth")
                assert overflow <= 0, (label, width, overflow)
                pg.screenshot(path=str(SHOTS / f"state-{label}-{width}.png"), full_page=True)
                watch.assert_clean()
            finally:
                context.close()


def test_compare_draws_single_values_as_bars(browser: Any, states_site: Any) -> None:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup((states_site.site / states_site.experiment("sweep")).read_text("utf-8"),
                         "html.parser")
    ids = [tr["data-run-id"] for tr in soup.select("[data-runs-table] tbody tr")][:3]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        pg = context.new_page()
        watch = Watch().attach(pg)
        pg.goto((states_site.site / "compare/index.html").resolve().as_uri()
                + "?runs=" + ",".join(ids))
        pg.wait_for_selector("#compare[data-state=ready]")
        captions = pg.locator("#compare figure.chart-card figcaption").all_inner_texts()
        # Lines for metrics over steps, then grouped bars for those logged once per run:
        # the Charts section is never empty.
        assert captions == ["val_acc", "val_loss", "best_stage", "fit_seconds", "val_f1"]
        assert pg.locator("#compare .cmp-bars figure.chart-card").count() == 3
        note = pg.locator("#compare .cmp-note").all_inner_texts()
        assert any("logged once per run: one bar per run" in n for n in note), note
        assert pg.locator("#compare-help").is_hidden()
        # The single values are still compared in the metrics table.
        assert "val_f1" in pg.locator("#compare table.cmp-metrics").inner_text()
        watch.assert_clean()
    finally:
        context.close()


def test_compare_on_a_phone_keeps_values_on_one_line(browser: Any, states_site: Any) -> None:
    from bs4 import BeautifulSoup

    from test_site_states import LONG_NAME

    soup = BeautifulSoup((states_site.site / states_site.experiment("odd")).read_text("utf-8"),
                         "html.parser")
    ids = [tr["data-run-id"] for tr in soup.select("[data-runs-table] tbody tr")]
    context = browser.new_context(viewport={"width": 390, "height": 800})
    try:
        pg = context.new_page()
        watch = Watch().attach(pg)
        pg.goto((states_site.site / "compare/index.html").resolve().as_uri()
                + "?runs=" + ",".join(ids))
        pg.wait_for_selector("#compare[data-state=ready]")
        # Every text in a value cell (the value, its min - max range) is one line.
        cells = pg.eval_on_selector_all(
            "#compare table.cmp-metrics td.num",
            "tds => tds.flatMap(td => Array.from(td.querySelectorAll('*')).concat([td]))"
            ".flatMap(e => Array.from(e.childNodes).filter(n => n.nodeType === 3 &&"
            " n.textContent.trim())).map(n => { const r = document.createRange();"
            " r.selectNodeContents(n); const tops = new Set(Array.from(r.getClientRects())"
            ".map(x => Math.round(x.top))); return [n.textContent, tops.size]; })")
        assert cells and all(lines == 1 for _, lines in cells), cells
        name = pg.locator("#compare .cmp-run-name", has_text="long-").first
        assert name.get_attribute("title") == LONG_NAME
        assert pg.evaluate("() => document.documentElement.scrollWidth") <= 390
        watch.assert_clean()
    finally:
        context.close()
