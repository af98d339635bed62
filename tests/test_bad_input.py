"""Bad input fails at the call with a message naming the key and problem; nothing is written."""

from __future__ import annotations

from pathlib import Path

import pytest

import trackreport as tr
from helpers import tree_digest

BAD_KEYS = [
    ("", "empty"),
    ("x" * 251, "251 characters"),
    ("a\nb", "control character"),
    ("tab\there", "control character"),
    (" lead", "white space"),
    ("trail ", "white space"),
    ("a/../b", "'..'"),
    ("..", "'..'"),
    ("/abs", "starts with '/'"),
    (3, "must be a string"),
]


@pytest.fixture
def live(store: Path):
    with tr.start_run(name="target") as run:
        tr.log_param("fixed", 1)
        tr.log_metric("m", 1.0)
        run.flush()
        before = tree_digest(store)
        yield run, before


def _unchanged(store: Path, before: dict[str, str], run: tr.ActiveRun) -> None:
    run.flush()
    assert tree_digest(store) == before


@pytest.mark.parametrize(("key", "problem"), BAD_KEYS)
@pytest.mark.parametrize("call", ["param", "params", "metric", "metrics", "tag", "tags"])
def test_bad_keys(store: Path, live, key, problem: str, call: str) -> None:
    run, before = live
    funcs = {
        "param": lambda: tr.log_param(key, 1),
        "params": lambda: tr.log_params({"good": 1, key: 2}),
        "metric": lambda: tr.log_metric(key, 1.0),
        "metrics": lambda: tr.log_metrics({"good": 1.0, key: 2.0}),
        "tag": lambda: tr.set_tag(key, "v"),
        "tags": lambda: tr.set_tags({"good": "v", key: "w"}),
    }
    with pytest.raises(tr.InvalidKeyError) as info:
        funcs[call]()
    assert problem in str(info.value)
    assert isinstance(info.value, (tr.TrackreportError, ValueError))
    _unchanged(store, before, run)


def test_printable_odd_keys_are_allowed(store: Path) -> None:
    with tr.start_run() as run:
        tr.log_metric("val/acc <b>\"'", 1.0)
        tr.log_param("a.b:c=d", "<script>")
    assert "val/acc <b>\"'" in tr.get_run(run.id).metrics


@pytest.mark.parametrize("value", ["0.5", b"1", None, [1.0], {"a": 1}, True, object()])
def test_non_numeric_metric(store: Path, live, value) -> None:
    run, before = live
    with pytest.raises(TypeError, match="'m2' must be a number"):
        tr.log_metric("m2", value)
    with pytest.raises(TypeError, match="'m2' must be a number"):
        tr.log_metrics({"ok": 1.0, "m2": value})
    _unchanged(store, before, run)


@pytest.mark.parametrize(("step", "exc", "text"), [
    (-1, ValueError, "must be >= 0"),
    (1.5, TypeError, "integer"),
    ("3", TypeError, "integer"),
    (True, TypeError, "integer"),
])
def test_bad_steps(store: Path, live, step, exc, text: str) -> None:
    run, before = live
    with pytest.raises(exc, match=text):
        tr.log_metric("m", 1.0, step=step)
    with pytest.raises(exc, match=text):
        tr.log_metrics({"m": 1.0}, step=step)
    _unchanged(store, before, run)


def test_param_changed(store: Path, live) -> None:
    run, before = live
    with pytest.raises(tr.ParamChangedError, match="'fixed' was already logged as 1"):
        tr.log_param("fixed", 2)
    with pytest.raises(tr.ParamChangedError, match="fixed"):
        tr.log_params({"new": 1, "fixed": "1"})
    tr.log_param("fixed", 1)  # same value again is fine and writes nothing new
    tr.log_param("fixed", 1.0)
    _unchanged(store, before, run)


@pytest.mark.parametrize(("path", "text"), [
    ("../escape.txt", "escapes"),
    ("a/../../b.txt", "escapes"),
    ("/etc/passwd", "absolute"),
    ("", "empty"),
    ("C:/x.txt", "absolute"),
])
def test_artifact_paths_escaping_the_run(store: Path, live, tmp_path: Path, path: str,
                                         text: str) -> None:
    run, before = live
    with pytest.raises(tr.InvalidKeyError, match=text):
        tr.log_text("x", path)
    if path:
        src = tmp_path / "f.txt"
        src.write_text("x")
        with pytest.raises(tr.InvalidKeyError, match=text):
            tr.log_artifact(src, artifact_path=path)
    _unchanged(store, before, run)
    assert not (tmp_path / "escape.txt").exists()


def test_missing_artifact_file(store: Path, live, tmp_path: Path) -> None:
    run, before = live
    with pytest.raises(tr.TrackreportError, match="not a file"):
        tr.log_artifact(tmp_path / "missing.png")
    with pytest.raises(tr.TrackreportError, match="not a folder"):
        tr.log_artifacts(tmp_path / "missing")
    _unchanged(store, before, run)


def test_bad_experiment_and_run_names(store: Path) -> None:
    with pytest.raises(tr.InvalidKeyError, match="experiment name"):
        tr.set_experiment("")
    with pytest.raises(ValueError, match="goal"):
        tr.set_experiment("x", goal="up")
    with pytest.raises(tr.InvalidKeyError, match="run name"):
        tr.start_run(name="bad\x00name")
    with pytest.raises(tr.InvalidKeyError, match="tag key"):
        tr.start_run(tags={"": "x"})
    assert tr.active_run() is None
    assert not store.exists() or not (store / "runs").exists()


def test_newer_store_format_is_refused(tmp_path: Path) -> None:
    store = tmp_path / "future"
    store.mkdir()
    (store / "trackreport-store.json").write_text('{"format": "trackreport-store", "version": 2}')
    with pytest.raises(tr.StoreFormatError, match="version 2"):
        tr.load_runs(store=store)
    tr.set_store(store)
    try:
        with pytest.raises(tr.StoreFormatError, match="upgrade trackreport"):
            tr.start_run()
    finally:
        tr.set_store("./trackruns")
