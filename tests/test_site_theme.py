"""Themes: resolution, override order, the documented page contexts."""

from __future__ import annotations

import shutil
from dataclasses import fields
from pathlib import Path

import pytest

import trackreport as tr
from site_fixtures import Built, shared_build
from trackreport.errors import BuildError
from trackreport.site import pages
from trackreport.site.build import build_site
from trackreport.site.themes import (
    default_theme_dir,
    get_template,
    make_environment,
    resolve_theme,
    static_files,
)


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return shared_build(tmp_path_factory)


def test_default_theme_is_found_from_the_checkout() -> None:
    # Tests run from a checkout (an editable install): the top-level themes/default.
    # tests/test_wheel.py proves an installed wheel finds its packaged copy.
    default = default_theme_dir()
    assert default == Path(__file__).resolve().parents[1] / "themes" / "default"
    for name in ("base.html", "index.html", "experiment.html", "run.html", "compare.html",
                 "_partials.html"):
        assert (default / "templates" / name).is_file()
    assert (default / "static" / "style.css").is_file()


def test_unknown_theme(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match="one of: default"):
        resolve_theme("nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(BuildError, match="neither"):
        resolve_theme(tmp_path / "empty")


def _user_theme(root: Path) -> Path:
    theme = root / "mytheme"
    (theme / "templates").mkdir(parents=True)
    (theme / "static").mkdir()
    (theme / "templates" / "base.html").write_text(
        '{% extends "default:base.html" %}\n'
        '{% block footer %}<p class="custom-footer">Acme ML team</p>{% endblock footer %}\n')
    (theme / "static" / "extra.css").write_text("body{}\n")
    (theme / "static" / "style.css").write_text("/* mine */\n")
    return theme


def test_user_templates_come_first(tmp_path: Path) -> None:
    theme = resolve_theme(_user_theme(tmp_path))
    assert theme.template_dirs == (tmp_path / "mytheme" / "templates",
                                   default_theme_dir() / "templates")
    env = make_environment(theme)
    assert Path(get_template(env, "base.html").filename) == \
        tmp_path / "mytheme" / "templates" / "base.html"
    assert Path(get_template(env, "run.html").filename) == \
        default_theme_dir() / "templates" / "run.html"
    assert Path(get_template(env, "default:base.html").filename) == \
        default_theme_dir() / "templates" / "base.html"
    statics = dict(static_files(theme))
    assert statics["style.css"] == tmp_path / "mytheme" / "static" / "style.css"
    assert statics["extra.css"] == tmp_path / "mytheme" / "static" / "extra.css"
    assert list(statics) == sorted(statics)
    with pytest.raises(BuildError, match="searched"):
        get_template(env, "missing.html")


def test_environment_is_strict_and_escaping() -> None:
    import jinja2

    env = make_environment(resolve_theme())
    assert env.autoescape is True and env.undefined is jinja2.StrictUndefined
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ page.nope }}").render(page=object())
    assert env.from_string("{{ x }}").render(x="<b>") == "&lt;b&gt;"


def test_build_with_a_one_block_override(built: Built, tmp_path: Path) -> None:
    out = tmp_path / "site"
    build_site(built.store, out, theme=_user_theme(tmp_path))
    index = (out / "index.html").read_text()
    assert '<p class="custom-footer">Acme ML team</p>' in index
    assert "Store last updated" not in index
    assert "experiment-card" in index  # the rest is the default theme
    assert (out / "assets" / "style.css").read_text() == "/* mine */\n"
    assert (out / "assets" / "extra.css").is_file()


def test_every_context_field_has_help() -> None:
    classes = set(pages.CONTEXTS.values()) | {
        pages.Link, pages.Fact, pages.Chart, pages.Sparkline, pages.BestRun, pages.Cell,
        pages.Column, pages.Row, pages.RunsTable, pages.RunLine, pages.ExperimentCard,
        pages.MetricRow, pages.Preview, pages.Artifact, pages.Note, pages.KeyValue,
        pages.RunModel, pages.ModelFile, pages.ModelVersionRow, pages.ModelCard}
    for cls in classes:
        for f in fields(cls):
            assert f.metadata.get("help"), f"{cls.__name__}.{f.name} has no help"
    assert set(pages.CONTEXTS) == {"index.html", "experiment.html", "run.html", "compare.html",
                                   "models.html", "model.html"}


def test_rendered_context_is_the_documented_one(built: Built, tmp_path: Path) -> None:
    theme = tmp_path / "dump"
    (theme / "templates").mkdir(parents=True)
    for name in pages.CONTEXTS:
        (theme / "templates" / name).write_text(
            "{{ page.__class__.__name__ }}\n"
            "{% for f in page.__dataclass_fields__ %}{{ f }}\n{% endfor %}")
    store = tmp_path / "store"
    shutil.copytree(built.store, store)
    tr.set_store(store)
    with tr.start_run(name="with-model", capture=False) as run:
        tr.log_model({"a": 1}, "model")
    tr.register_model(f"runs:/{run.id}/model", "m")
    out = tmp_path / "site"
    build_site(store, out, theme=theme)
    seen = set()
    for page in out.rglob("*.html"):
        cls_name, *keys = page.read_text().split()
        cls = getattr(pages, cls_name)
        assert cls in pages.CONTEXTS.values()
        assert keys == list(pages.documented(cls)), page
        seen.add(cls)
    assert seen == set(pages.CONTEXTS.values())
