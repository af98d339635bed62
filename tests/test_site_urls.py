"""Slugs and relative URLs."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trackreport.errors import RunNotFoundError
from trackreport.site.urls import (
    SlugRegistry,
    file_segment,
    relative,
    root_of,
    run_slug,
    slugify,
)

SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


def test_clean_names_stay() -> None:
    assert slugify("wine") == "wine"
    assert slugify("wine-gb-2") == "wine-gb-2"


def test_other_names_get_a_stable_hash() -> None:
    assert re.fullmatch(r"wine-quality-[0-9a-f]{6}", slugify("Wine Quality"))
    assert slugify("Wine Quality") == slugify("Wine Quality")
    assert slugify("Wine") != slugify("wine")
    assert slugify("a/b") != slugify("a-b") != slugify("a b")
    assert re.fullmatch(r"[0-9a-f]{6}", slugify("数据"))
    assert slugify("../etc") != slugify("etc")
    assert slugify("index") != "index"


def test_run_ids() -> None:
    """Run folders are the run id exactly as `trackreport runs` prints it."""
    assert run_slug("20261126T064012Z-3f9a2c1b") == "20261126T064012Z-3f9a2c1b"
    assert run_slug("My_Run") == "My_Run"
    with pytest.raises(RunNotFoundError):
        run_slug("../etc")


@given(st.text(min_size=1, max_size=80))
def test_slugs_are_safe(name: str) -> None:
    slug = slugify(name)
    assert SLUG.match(slug) and len(slug) <= 70
    assert slug == slugify(name)


@given(st.lists(st.text(min_size=1, max_size=12), min_size=2, max_size=30, unique=True))
def test_registry_never_maps_two_names_to_one_slug(names: list[str]) -> None:
    registry = SlugRegistry()
    slugs = [registry(n) for n in sorted(names)]
    assert len(set(slugs)) == len(slugs)


@given(st.text(min_size=1, max_size=40).filter(lambda s: s not in (".", "..")))
def test_file_segments_are_safe(name: str) -> None:
    seg = file_segment(name)
    assert re.fullmatch(r"[a-z0-9][a-z0-9._-]*", seg), seg
    assert seg not in (".", "..")


def test_file_segments_keep_case_apart() -> None:
    assert file_segment("roc.png") == "roc.png"
    assert file_segment("ROC.png") != "roc.png" and file_segment("ROC.png").endswith(".png")


def test_relative_urls() -> None:
    assert relative("index.html", "index.html") == "index.html"
    assert relative("index.html", "runs/x/index.html") == "../../index.html"
    assert relative("runs/x/index.html", "compare/index.html") == "../runs/x/index.html"
    assert relative("assets/style.css", "experiments/a/index.html") == "../../assets/style.css"
    assert relative("runs/x/files/a b.txt", "runs/x/index.html") == "files/a%20b.txt"
    assert root_of("index.html") == "" and root_of("runs/x/index.html") == "../../"
