"""`trackreport summary`: golden Markdown of a small fixed store, baselines, escaping, images."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from summary_fixtures import HOSTILE, make_fixed_store
from trackreport.cli import cli
from trackreport.store import Store
from trackreport.summary import Images, SummaryError, make_summary, md

GOLDEN = Path(__file__).parent / "golden" / "summary.md"


@pytest.fixture()
def fixed(tmp_path: Path) -> Path:
    return make_fixed_store(tmp_path / "store")


def test_golden_markdown(fixed: Path) -> None:
    text = make_summary(Store(fixed))
    if os.environ.get("TRACKREPORT_UPDATE_GOLDEN"):
        GOLDEN.write_text(text, "utf-8")
    assert text == GOLDEN.read_text("utf-8")


def test_hostile_name_is_inert_markdown(fixed: Path) -> None:
    text = make_summary(Store(fixed))
    escaped = md(HOSTILE)
    assert escaped in text
    assert "<script>" not in text and "</td>" not in text and "](javascript" not in text
    assert "\\@octocat" in text and " @octocat" not in text
    # every table row keeps its column count: the name's "|" does not open a cell
    for line in text.splitlines():
        if line.startswith("| ") and "wine" not in line.split("|")[1]:
            assert line.replace("\\|", "").count("|") in (7, 6, 4, 3), line


def test_md_escaping_rules() -> None:
    assert md("a & b <i>") == "a &amp; b &lt;i&gt;"
    assert md("x|y") == "x\\|y"
    assert md("line\nbreak\r\ttab") == "line break  tab"
    assert md("*[_`#!") == "\\*\\[\\_\\`\\#\\!"
    assert md("数据 ok") == "数据 ok"
    assert md("\u202eevil \u2067x\u2069 \u200f") == "\ufffdevil \ufffdx\ufffd \u200f"


def test_baseline_by_id_name_and_tag(fixed: Path) -> None:
    by_name = make_summary(Store(fixed), experiment="wine", baseline="gb-lr0.1")
    assert "Baseline: **gb\\-lr0\\.1** (\\-\\-baseline\\: the newest run of this name)" in by_name
    by_id = make_summary(Store(fixed), experiment="wine", baseline="20260901T000000Z-00000001")
    assert "Baseline: **baseline** (\\-\\-baseline\\: this run id)" in by_id
    by_tag = make_summary(Store(fixed), experiment="wine", baseline="candidate")
    assert "the newest run tagged candidate\\=true" in by_tag
    # the baseline's own row carries no difference; others differ from it
    row = next(line for line in by_tag.splitlines() if line.startswith("| baseline"))
    assert "🔴 worse" in row and "(baseline" not in row


def test_unknown_baseline_and_experiment_are_errors(fixed: Path) -> None:
    with pytest.raises(SummaryError, match="--baseline: 'nope'"):
        make_summary(Store(fixed), baseline="nope")
    with pytest.raises(SummaryError, match="--experiment: no experiment 'nope'"):
        make_summary(Store(fixed), experiment="nope")
    result = CliRunner().invoke(cli, ["summary", "--store", str(fixed), "--baseline", "nope"])
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and "Error: --baseline: 'nope'" in result.output


def test_default_baseline_is_the_first_run_and_says_so(fixed: Path) -> None:
    text = make_summary(Store(fixed), experiment="taxi")
    assert ("Baseline: **taxi\\-first** (the first run\\; tag a run baseline\\=true or pass "
            "\\-\\-baseline to choose)") in text
    # numbers and marks are ours: not escaped
    assert "| taxi\\-second (best) | running | 4.2<br>-0.3 (-6.67 %) 🟢 better |" in text
    assert "| taxi\\-first (baseline) | finished | 4.5 |" in text


def test_limit_keeps_the_baseline(fixed: Path) -> None:
    text = make_summary(Store(fixed), experiment="wine", limit=1)
    rows = [line for line in text.splitlines() if line.startswith("| ") and "Status" not in line]
    assert [r.split(" | ")[0] for r in rows[-2:]] == ["| crashed", "| baseline (baseline)"]
    assert "The newest 1 run of 4, and the baseline." in text


@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_images_written_and_linked_relative_to_the_markdown(fixed: Path, tmp_path: Path,
                                                            fmt: str) -> None:
    out = tmp_path / "report" / "summary.md"
    out.parent.mkdir()
    result = CliRunner().invoke(cli, ["summary", "--store", str(fixed), "--images",
                                      str(tmp_path / "report" / "img"), "--image-format", fmt,
                                      "--output", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text("utf-8")
    links = [line for line in text.splitlines() if line.startswith("![")]
    assert len(links) == 2
    for link in links:
        target = link[link.index("](") + 2:-1]
        assert target.startswith("img/") and target.endswith("." + fmt)
        data = (out.parent / target).read_bytes()
        assert data.startswith(b"\x89PNG") if fmt == "png" else b"<svg" in data[:200]


def test_images_url_prefix_and_site_links(fixed: Path, tmp_path: Path) -> None:
    images = Images(tmp_path / "img", "https://example.org/site/summary/")
    text = make_summary(Store(fixed), experiment="taxi", images=images,
                        site_url="https://example.org/site")
    assert "](https://example.org/site/summary/taxi-val-rmse-" in text
    assert "[taxi\\-first](https://example.org/site/runs/20260901T000400Z-00000005/)" in text
    assert [p.name[:13] for p in (tmp_path / "img").iterdir()] == ["taxi-val-rmse"]


def test_bad_options_are_one_line(fixed: Path) -> None:
    runner = CliRunner()
    for args, words in ((["--images-url", "https://x/"], "--images-url needs --images"),
                        (["--images", "i", "--images-url", "ftp://x"], "not an http(s) URL"),
                        (["--site-url", "javascript:alert(1)"], "not an http(s) URL"),
                        (["--limit", "0"], "not a positive number")):
        result = runner.invoke(cli, ["summary", "--store", str(fixed), *args])
        assert result.exit_code != 0 and words in result.output, (args, result.output)
        assert result.output.count("\n") == 1


def test_summary_command_in_a_subprocess_prints_markdown(fixed: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "trackreport", "summary", "--store", str(fixed)],
                         capture_output=True, text=True, check=True, encoding="utf-8")
    assert out.stdout == GOLDEN.read_text("utf-8")
    assert out.stderr == ""
