"""Property: any value given to any logging call either fails at the call, naming its key,
or reads back equal; and nothing else logged in the run is lost (issue 6, "values").

The strings include lone surrogates (file names decoded with surrogateescape), control
characters and names of 255 bytes and more; the numbers include ints beyond 64 bits,
10**400, NaN and infinities; params and dicts nest them.
"""

from __future__ import annotations

import json
import math
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import trackreport as tr
from trackreport.keys import check_artifact_path

ODD = ["\udcff", "\ud800", "\udc80", "\x00", "\n", "\x7f", "\u2028", "\x85", " ", "/", "..",
       "<", "数", "é", "\U0001f600"]
wild_text = st.lists(st.one_of(st.characters(), st.sampled_from(ODD)), max_size=12).map("".join)
long_names = st.sampled_from([
    "a" * 250, "a" * 251, "b" * 255, "b" * 256, "é" * 127 + "x", "é" * 128, "数" * 85, "数" * 86,
])
keys = st.one_of(wild_text, long_names, st.sampled_from(["lr", "loss", "a/b", "x y"]))
names = st.one_of(wild_text, long_names,
                  st.builds(lambda a, b: f"{a}/{b}", wild_text, long_names),
                  st.sampled_from(["conflict", "conflict/a.txt", "notes.txt", "d/e.json"]))
numbers = st.one_of(
    st.integers(-(2**70), 2**70),
    st.sampled_from([2**63, 2**64 - 1, 2**64, -(2**63) - 1, 10**30, 10**400, -(10**400)]),
    st.floats(allow_nan=True, allow_infinity=True),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, wild_text)
values = st.recursive(scalars, lambda children: st.lists(children, max_size=3)
                      | st.dictionaries(wild_text, children, max_size=3), max_leaves=6)
steps = st.one_of(st.none(), st.integers(0, 100), st.sampled_from([-1, 2**63 - 1, 2**63, 2**64]))
calls = st.lists(st.one_of(
    st.tuples(st.just("param"), keys, values),
    st.tuples(st.just("params"), st.dictionaries(keys, values, min_size=1, max_size=3)),
    st.tuples(st.just("metric"), keys, numbers, steps),
    st.tuples(st.just("metrics"), st.dictionaries(keys, numbers, min_size=1, max_size=3), steps),
    st.tuples(st.just("tag"), keys, wild_text),
    st.tuples(st.just("tags"), st.dictionaries(keys, wild_text, min_size=1, max_size=3)),
    st.tuples(st.just("note"), wild_text),
    st.tuples(st.just("text"), wild_text, names),
    st.tuples(st.just("dict"), st.dictionaries(wild_text, values, max_size=3), names),
    st.tuples(st.just("artifact"), names),
), max_size=12)

ALLOWED = (tr.TrackreportError, TypeError, ValueError)


def _same(a: Any, b: Any) -> bool:
    """Deep equality in which NaN equals NaN (and ints and floats are told apart)."""
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def _names(message: str, *names: str) -> bool:
    """The error message names one of ``names`` (long ones may be cut)."""
    for name in names:
        if repr(name) in message or repr(name[:40])[:-1] in message:
            return True
    return False


def _json_value(value: Any) -> Any:
    """``value`` as the store gives it back (dict keys become strings, as in JSON)."""
    if isinstance(value, list):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {(k if isinstance(k, str) else json.dumps(k)): _json_value(v)
                for k, v in value.items()}
    return value


class Expected:
    def __init__(self) -> None:
        self.params: dict[str, Any] = {}
        self.metrics: dict[str, list[tuple[int, float]]] = {}
        self.next_step: dict[str, int] = {}
        self.tags: dict[str, str] = {}
        self.notes: list[str] = []
        self.texts: dict[str, bytes] = {}

    def metric(self, key: str, value: float, step: int | None) -> None:
        s = self.next_step.get(key, 0) if step is None else step
        self.next_step[key] = max(self.next_step.get(key, 0), s + 1)
        self.metrics.setdefault(key, []).append((s, float(value)))


def _do(call: tuple, exp: Expected, src: Path) -> None:
    """Make one call; on success, record what must read back."""
    kind = call[0]
    if kind in ("param", "params"):
        params = {call[1]: call[2]} if kind == "param" else call[1]
        if any(k in exp.params for k in params if isinstance(k, str)):
            return  # re-logging is the change rule's business (test_bad_input)
        try:
            tr.log_params(params) if kind == "params" else tr.log_param(call[1], call[2])
        except ALLOWED as exc:
            assert _names(str(exc), *params), (str(exc), list(params))
            return
        exp.params.update({k: _json_value(v) for k, v in params.items()})
    elif kind in ("metric", "metrics"):
        metrics = {call[1]: call[2]} if kind == "metric" else call[1]
        step = call[3] if kind == "metric" else call[2]
        try:
            tr.log_metric(call[1], call[2], step) if kind == "metric" \
                else tr.log_metrics(metrics, step)
        except ALLOWED as exc:
            assert _names(str(exc), *metrics), (str(exc), list(metrics))
            return
        for key, value in metrics.items():
            exp.metric(key, value, step)
    elif kind in ("tag", "tags"):
        tags = {call[1]: call[2]} if kind == "tag" else call[1]
        try:
            tr.set_tag(call[1], call[2]) if kind == "tag" else tr.set_tags(tags)
        except ALLOWED as exc:
            assert _names(str(exc), *tags), (str(exc), list(tags))
            return
        exp.tags.update(tags)
    elif kind == "note":
        try:
            tr.note(call[1])
        except ALLOWED as exc:
            assert "note" in str(exc)
            return
        exp.notes.append(call[1])
    else:
        name = call[-1]
        try:
            rel = check_artifact_path(name)
        except ALLOWED:
            rel = None
        try:
            if kind == "text":
                tr.log_text(call[1], name)
                data = call[1].encode("utf-8")
            elif kind == "dict":
                tr.log_dict(call[1], name)
                data = None
            else:
                tr.log_artifact(src, artifact_path=name)
                data = src.read_bytes()
                rel = f"{rel}/{src.name}" if name else src.name  # "": no folder
        except ALLOWED as exc:
            assert _names(str(exc), name, *([rel] if rel else [])), (str(exc), name)
            return
        assert rel is not None
        exp.texts[rel] = data  # type: ignore[assignment]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(calls)
def test_every_value_fails_at_the_call_or_reads_back(sequence) -> None:
    root = Path(tempfile.mkdtemp(prefix="tr-bad-"))
    src = root / "local.bin"
    src.write_bytes(b"\x00local")
    try:
        tr.set_store(root / "store")
        exp = Expected()
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no write warning, no dropped event
            with tr.start_run(capture=False) as run:
                tr.log_param("anchor", 1)
                tr.log_metric("anchor", 0.5, step=0)
                tr.set_tag("anchor", "yes")
                exp.params["anchor"], exp.tags["anchor"] = 1, "yes"
                exp.metric("anchor", 0.5, 0)
                for call in sequence:
                    _do(call, exp, src)
                tr.log_metric("anchor", 1.5, step=1)
                exp.metric("anchor", 1.5, 1)
            got = tr.get_run(run.id, store=root / "store")
        assert got.status == "FINISHED"
        assert _same(got.params, exp.params)
        assert got.tags == exp.tags
        assert [n.markdown for n in got.notes] == exp.notes
        assert set(got.metrics) == set(exp.metrics)
        for key, pairs in exp.metrics.items():
            pairs = sorted(pairs, key=lambda p: p[0])
            assert got.metrics[key].steps == [p[0] for p in pairs]
            assert all(map(_same, got.metrics[key].values, [p[1] for p in pairs]))
        artifacts = {a.path for a in got.artifacts}
        assert artifacts == set(exp.texts)
        folder = root / "store" / "runs" / run.id / "artifacts"
        for rel, data in exp.texts.items():
            if data is not None:
                assert (folder / rel).read_bytes() == data
        for path in (root / "store").rglob("events-*.jsonl"):
            for line in path.read_text("utf-8").split("\n")[:-1]:
                json.loads(line, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
    finally:
        tr.set_store("./trackruns")
        shutil.rmtree(root, ignore_errors=True)
