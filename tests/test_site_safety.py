"""Whole-site invariants: links resolve, no other host, no inline script, hostile text stays text."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from bs4 import BeautifulSoup

from site_fixtures import SVG_XSS, XSS, Built, shared_build

BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return shared_build(tmp_path_factory)


@pytest.fixture(scope="session")
def soups(built: Built) -> dict[str, BeautifulSoup]:
    return {p.relative_to(built.site).as_posix(): BeautifulSoup(p.read_text("utf-8"),
                                                                "html.parser")
            for p in built.pages()}


def test_every_local_href_and_src_resolves(built: Built, soups) -> None:
    checked = 0
    for rel, soup in soups.items():
        for tag in soup.find_all(href=True) + soup.find_all(src=True):
            for attr in ("href", "src"):
                url = tag.get(attr)
                if url is None or url.startswith(("data:", "#", "https://", "http://",
                                                  "mailto:")):
                    continue
                parts = urlsplit(url)
                assert not parts.scheme and not parts.netloc, (rel, url)
                target = (built.site / rel).parent / unquote(parts.path)
                assert target.resolve().is_file(), (rel, url)
                assert built.site.resolve() in target.resolve().parents
                checked += 1
    assert checked > 100


def test_no_request_to_another_host(soups) -> None:
    for rel, soup in soups.items():
        for tag in soup.find_all(True):
            for attr, value in tag.attrs.items():
                values = value if isinstance(value, list) else [value]
                for v in values:
                    if re.match(r"\s*(https?:)?//", v or "", re.I):
                        # only user links (notes, markdown) and forge links, as <a>
                        assert tag.name == "a" and attr == "href", (rel, tag.name, attr, v)
                        assert tag.get("rel") == ["noopener", "noreferrer"], (rel, v)


def test_no_inline_script(soups) -> None:
    for rel, soup in soups.items():
        for script in soup.find_all("script"):
            if script.has_attr("src"):
                assert not script.string, rel
            else:
                assert script.get("type") == "application/json", rel
                json.loads(script.string)
        for tag in soup.find_all(True):
            for attr in tag.attrs:
                assert not attr.lower().startswith("on"), (rel, tag.name, attr)
            for attr in ("href", "src", "action", "formaction"):
                value = str(tag.get(attr, ""))
                assert not value.strip().lower().startswith(("javascript:", "vbscript:")), rel


def test_hostile_names_stay_text(built: Built, soups) -> None:
    seen_xss = seen_svg = 0
    for rel, soup in soups.items():
        # no element that the hostile strings would create
        assert not soup.select('img[src="x"]'), rel
        assert not [s for s in soup.find_all("svg") if s.has_attr("onload")], rel
        text = soup.get_text()
        seen_xss += XSS in text
        seen_svg += SVG_XSS in text
        for frame in soup.find_all("iframe"):
            assert frame.has_attr("sandbox") and "allow" not in " ".join(frame["sandbox"])
            assert not frame.has_attr("src")
    assert seen_xss >= 3 and seen_svg >= 3
    raw = (built.site / "index.html").read_text()
    assert "</script><img" not in raw and "<svg onload" not in raw


def test_json_in_script_blocks_is_escaped(built: Built) -> None:
    for page in built.pages():
        raw = page.read_text("utf-8")
        for body in re.findall(r'<script type="application/json" id="[^"]+">(.*?)</script>',
                               raw, re.S):
            assert "<" not in body and ">" not in body and "&" not in body, page
            assert "\u2028" not in body and "\u2029" not in body
            json.loads(body)
    compare = (built.site / "compare/index.html").read_text()
    assert "\\u003c/script\\u003e\\u003cimg" in compare


def test_notes_are_sanitized(built: Built, soups) -> None:
    soup = soups[built.run_page("artifacts")]
    note = soup.select_one("article.note .markdown")
    assert note.select_one("strong").string == "Why"
    links = note.select("a")
    assert [a.get("href") for a in links] == ["https://example.org/docs", None]
    assert "<script>alert(2)</script>" in note.get_text()
    assert not note.select("script, img")


def test_data_scripts_are_plain_assignments(built: Built) -> None:
    for path in built.site.joinpath("runs").glob("*/data.js"):
        text = path.read_text("utf-8")
        assert re.fullmatch(r'\(window\.trackreportRuns = window\.trackreportRuns \|\| \{\}\)'
                            r'\["[0-9A-Za-z_-]+"\] = \{.*\};\n', text, re.S), path
        assert "\u2028" not in text and "\u2029" not in text


def test_folder_names_are_clean_and_distinct(built: Built) -> None:
    for folder in ("experiments", "runs"):
        names = [p.name for p in (built.site / folder).iterdir()]
        assert len({n.lower() for n in names}) == len(names)
        for name in names:
            pattern = r"[a-z0-9]+(-[a-z0-9]+)*" if folder == "experiments" \
                else r"[0-9A-Za-z][0-9A-Za-z_-]*"  # runs: the run id exactly
            assert re.fullmatch(pattern, name), name
    for path in built.site.rglob("*"):
        rel = path.relative_to(built.site).as_posix()
        assert rel.isascii(), rel
        assert not any(part in ("..", ".") for part in Path(rel).parts)


def test_bidirectional_controls_never_reorder_a_page(store: Path, tmp_path: Path) -> None:
    import trackreport as tr
    from trackreport.site.build import build_site

    rlo, rli, pdi = "\u202e", "\u2067", "\u2069"
    tr.set_experiment(f"exp {rlo}cba", description=f"Why: {rlo}evil, then **{rli}bold{pdi}**",
                      primary_metric=f"acc{rlo}", goal="max")
    with tr.start_run(name=f"run {rlo}evil"):
        tr.log_params({f"p{rlo}": f"v{rlo}1", "plain": "ü"})
        tr.set_tag("t", f"{rlo}evil")
        tr.log_metric(f"acc{rlo}", 0.5, step=0)
        tr.log_metric(f"acc{rlo}", 0.7, step=1)
        tr.note(f"note {rlo}evil")
        tr.log_text(f"code {rlo}evil\n", f"files/{rlo}a.txt")
    with tr.start_run(name=f"big {rlo}evil"):  # a 70-bit int: JSON by the ASCII-only path
        tr.log_params({f"p{rlo}": 2**70})
        tr.log_metric(f"acc{rlo}", 0.6, step=0)
    site = tmp_path / "site"
    build_site(store, site)
    shown = sorted([*site.rglob("*.html"), *site.glob("runs/*/data.js")])
    assert len(shown) == 8
    for path in shown:
        text = path.read_text("utf-8")
        assert not any(ch in text for ch in BIDI), path
        assert "\\u202e" not in text.lower() and "\\u2067" not in text.lower(), path
    pages = "".join(p.read_text("utf-8") for p in shown)
    for seen in ("run \ufffdevil", "exp \ufffdcba", "note \ufffdevil", "\ufffdevil",
                 "code \ufffdevil", "\ufffdbold\ufffd", "big \ufffdevil"):
        assert seen in pages, seen
    # the data files keep what was logged, every character
    assert f"run {rlo}evil" in (site / "data" / "runs.csv").read_text("utf-8")
    assert f"{rlo}evil" in (site / "data" / "runs.json").read_text("utf-8")
    assert f"run {rlo}evil" in next(site.glob("experiments/*/runs.csv")).read_text("utf-8")
    copied = next(site.glob("runs/*/files/files/*.txt"))
    assert copied.read_text("utf-8") == f"code {rlo}evil\n"
