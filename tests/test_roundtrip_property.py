"""Property-based round trip: random call sequences read back exactly (NaN and infinities too)."""

from __future__ import annotations

import json
import math
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import trackreport as tr

keys = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"),
                           blacklist_characters="\x85\u2028\u2029"),
    min_size=1, max_size=20,
).filter(lambda k: k == k.strip() and not k.startswith("/") and ".." not in k.split("/"))
floats = st.floats(allow_nan=True, allow_infinity=True, width=64)
param_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=6,
)
calls = st.lists(
    st.one_of(
        st.tuples(st.just("metric"), keys, floats, st.none() | st.integers(0, 50)),
        st.tuples(st.just("metrics"), st.dictionaries(keys, floats, min_size=1, max_size=4),
                  st.none() | st.integers(0, 50)),
        st.tuples(st.just("param"), keys, param_values),
        st.tuples(st.just("tag"), keys, st.text(max_size=40)),
        st.tuples(st.just("note"), st.text(max_size=60)),
    ),
    max_size=40,
)


def _same_float(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(calls)
def test_random_call_sequences_round_trip(sequence) -> None:
    root = Path(tempfile.mkdtemp(prefix="tr-prop-"))
    try:
        tr.set_store(root)
        expected_metrics: dict[str, list[tuple[int, float]]] = {}
        next_step: dict[str, int] = {}
        params: dict = {}
        tags: dict = {}
        notes: list[str] = []
        with tr.start_run(capture=False) as run:
            for call in sequence:
                kind = call[0]
                if kind == "metric":
                    _, key, value, step = call
                    tr.log_metric(key, value, step)
                    s = next_step.get(key, 0) if step is None else step
                    next_step[key] = max(next_step.get(key, 0), s + 1)
                    expected_metrics.setdefault(key, []).append((s, value))
                elif kind == "metrics":
                    _, values, step = call
                    tr.log_metrics(values, step)
                    for key, value in values.items():
                        s = next_step.get(key, 0) if step is None else step
                        next_step[key] = max(next_step.get(key, 0), s + 1)
                        expected_metrics.setdefault(key, []).append((s, value))
                elif kind == "param":
                    _, key, value = call
                    if key in params:
                        continue
                    tr.log_param(key, value)
                    params[key] = value
                elif kind == "tag":
                    _, key, value = call
                    tr.set_tag(key, value)
                    tags[key] = value
                else:
                    tr.note(call[1])
                    notes.append(call[1])
        got = tr.get_run(run.id, store=root)
        assert got.params == json.loads(json.dumps(params))
        assert got.tags == tags
        assert [n.markdown for n in got.notes] == notes
        assert set(got.metrics) == set(expected_metrics)
        for key, pairs in expected_metrics.items():
            pairs = sorted(pairs, key=lambda p: p[0])  # stable: logging order within a step
            series = got.metrics[key]
            assert series.steps == [p[0] for p in pairs]
            assert all(_same_float(a, b) for a, (_, b) in zip(series.values, pairs, strict=True))
        for path in root.rglob("events-*.jsonl"):
            for line in path.read_text("utf-8").split("\n")[:-1]:
                json.loads(line, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
    finally:
        tr.set_store("./trackruns")
        shutil.rmtree(root, ignore_errors=True)
