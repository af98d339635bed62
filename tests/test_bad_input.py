"""Bad input fails at the call with a message naming the key and problem; nothing is written."""

from __future__ import annotations

import json
import math
import os
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


# values that pass a naive check but cannot be encoded (issue 6, "values") ------------------

SURROGATE = "f\udcffile"  # os.listdir of a non-UTF-8 name, with surrogateescape


def _lossless_run(store: Path, bad_call) -> tuple[tr.Run, str]:
    """Log lr and 2,000 steps around ``bad_call`` (which must raise); all of them read back.

    Returns the run and the error message.
    """
    with tr.start_run() as run:
        tr.log_param("lr", 0.1)
        for step in range(1000):
            tr.log_metric("loss", 1.0 / (step + 1), step=step)
        with pytest.raises((tr.TrackreportError, TypeError, ValueError)) as info:
            bad_call()
        for step in range(1000, 2000):
            tr.log_metric("loss", 1.0 / (step + 1), step=step)
    got = tr.get_run(run.id)
    assert got.params == {"lr": 0.1}
    assert got.metrics["loss"].steps == list(range(2000))
    assert got.status == "FINISHED"
    message = str(info.value)
    assert "\n" not in message
    return got, message


@pytest.mark.parametrize(("call", "named"), [
    (lambda: tr.set_tag("origin", SURROGATE), "'origin'"),
    (lambda: tr.set_tags({"ok": "v", "origin": SURROGATE}), "'origin'"),
    (lambda: tr.log_metric(SURROGATE, 1.0), repr(SURROGATE)),
    (lambda: tr.log_metrics({"ok": 1.0, SURROGATE: 1.0}), repr(SURROGATE)),
    (lambda: tr.log_param(SURROGATE, 1), repr(SURROGATE)),
    (lambda: tr.log_param("files", [SURROGATE]), "'files'"),
    (lambda: tr.log_params({"cfg": {"nested": {SURROGATE: 1}}}), "'cfg'"),
    (lambda: tr.note(f"see {SURROGATE}"), "note"),
    (lambda: tr.log_metric("loss", 1.0, step=2**64), "'loss'"),
    (lambda: tr.log_metrics({"loss": 1.0}, step=2**63), "'loss'"),
    (lambda: tr.log_text(SURROGATE, "t.txt"), "'t.txt'"),
    (lambda: tr.log_text("x", SURROGATE), repr(SURROGATE)),
    (lambda: tr.log_dict({"a": [SURROGATE]}, "d.json"), "'d.json'"),
    (lambda: tr.log_dict({"a": SURROGATE}, "d.yaml"), "'d.yaml'"),
    (lambda: tr.log_metric("huge", 10**400), "'huge'"),
    (lambda: tr.log_metrics({"huge": 10**400}), "'huge'"),
    (lambda: tr.log_param("keys", {(1, 2): 3}), "'keys'"),
    (lambda: tr.log_dict({(1, 2): 3}, "tuple.json"), "'tuple.json'"),
    (lambda: tr.set_tag("t", {(1, 2): 3}), "'t'"),
])
def test_unencodable_values_fail_at_the_call_and_lose_nothing(store: Path, call,
                                                              named: str) -> None:
    _, message = _lossless_run(store, call)
    assert named in message


def test_non_utf8_file_name_in_a_logged_folder(store: Path, tmp_path: Path) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "good.txt").write_text("x")
    try:
        with open(os.path.join(os.fsencode(folder), b"bad-\xff.txt"), "wb") as fh:
            fh.write(b"y")
    except OSError:
        pytest.skip("this file system refuses non-UTF-8 names")
    got, message = _lossless_run(store, lambda: tr.log_artifacts(folder))
    assert "bad-\\udcff.txt" in message
    assert got.artifacts == []  # nothing of the folder is half-copied


def test_nesting_past_the_encoder_depth(store: Path) -> None:
    deep: list = []
    for _ in range(300):
        deep = [deep]
    _, message = _lossless_run(store, lambda: tr.log_param("deep", deep))
    assert "'deep' is nested too deeply" in message
    _, message = _lossless_run(store, lambda: tr.log_dict({"a": deep}, "deep.json"))
    assert "'deep.json'" in message


def test_big_ints_as_params_are_stored_exactly(store: Path) -> None:
    big = {"seed": 10**30, "neg": -(2**64), "edge": 2**64 - 1, "nested": [2**70, {"x": 3**50}]}
    with tr.start_run() as run:
        tr.log_params(big)
        tr.log_param("seed", 10**30)  # the same value again is not a change
        with pytest.raises(tr.ParamChangedError, match="'seed'"):
            tr.log_param("seed", 10**30 + 1)
        tr.log_dict({"seed": 10**30}, "cfg.json")
    assert tr.get_run(run.id).params == big
    row = tr.load_runs().iloc[0]
    assert row["params.seed"] == 10**30 and type(row["params.seed"]) is int
    assert row["params.nested"] == [2**70, {"x": 3**50}]
    text = (store / "runs" / run.id / "artifacts" / "cfg.json").read_text()
    assert "1000000000000000000000000000000" in text


def test_non_finite_params_read_back_as_floats(store: Path) -> None:
    with tr.start_run() as run:
        tr.log_params({"nan": float("nan"), "inf": math.inf, "ninf": -math.inf,
                       "text": "NaN", "text_inf": "Infinity", "list": [1.0, math.nan]})
        tr.log_param("nan", float("nan"))  # NaN again is the same value
    params = tr.get_run(run.id).params
    assert math.isnan(params["nan"]) and params["inf"] == math.inf
    assert params["ninf"] == -math.inf
    assert params["text"] == "NaN" and params["text_inf"] == "Infinity"  # strings stay strings
    assert params["list"][0] == 1.0 and math.isnan(params["list"][1])
    lines = [json.loads(line) for path in (store / "runs" / run.id).glob("events-*.jsonl")
             for line in path.read_text().splitlines()]
    event = next(e for e in lines if e["type"] == "params")
    assert event["params"]["nan"] == "NaN" and event["params"]["ninf"] == "-Infinity"
    assert sorted(event["encoded"]) == ["inf", "list", "nan", "ninf"]
    row = tr.load_runs().iloc[0]
    assert math.isnan(row["params.nan"]) and row["params.text"] == "NaN"


def test_big_int_and_nan_params_in_the_cli(store: Path) -> None:
    from click.testing import CliRunner

    from trackreport.cli import cli

    with tr.start_run() as run:
        tr.log_params({"seed": 10**30, "nan": math.nan, "nested": [2**70, math.nan]})
    runner = CliRunner()
    result = runner.invoke(cli, ["runs", "--store", str(store), "--format", "json"])
    assert result.exit_code == 0, result.output
    row = json.loads(result.output)[0]
    assert row["params.seed"] == 10**30 and row["params.nested"] == [2**70, "NaN"]
    result = runner.invoke(cli, ["show", run.id, "--store", str(store)])
    assert result.exit_code == 0, result.output
    assert "1000000000000000000000000000000" in result.output and "NaN" in result.output


def test_surrogates_given_to_start_run_and_set_experiment(store: Path) -> None:
    with pytest.raises(tr.InvalidValueError, match="tag 'origin'"):
        tr.start_run(tags={"origin": SURROGATE})
    with pytest.raises(tr.InvalidValueError, match="description"):
        tr.start_run(description=SURROGATE)
    assert tr.active_run() is None
    assert not (store / "runs").exists() or not list((store / "runs").iterdir())
    with pytest.raises(tr.InvalidValueError, match="description of experiment 'e'"):
        tr.set_experiment("e", description=SURROGATE)


def test_no_default_step_after_the_last_step(store: Path) -> None:
    import trackreport as tr
    from trackreport.errors import InvalidValueError

    with tr.start_run() as run:
        run.log_metric("m", 1.0, step=2**63 - 1)
        run.log_metrics({"n": 1.0}, step=2**63 - 1)
        with pytest.raises(InvalidValueError, match=r"'m'.*no next step"):
            run.log_metric("m", 2.0)
        with pytest.raises(InvalidValueError, match=r"'n'.*no next step"):
            run.log_metrics({"k": 1.0, "n": 2.0})
        run.log_metric("k", 3.0)  # the refused call logged nothing
    got = tr.get_run(run.id)
    assert got.metrics["m"].steps == [2**63 - 1] and got.metrics["k"].steps == [0]
    assert got.problems.corrupt_lines == 0 and got.problems.skipped == []
