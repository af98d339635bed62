"""The buffered writer: one event it cannot encode never costs the others."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

import trackreport as tr
from proc_helpers import strict_lines
from trackreport.storage import LocalStorage
from trackreport.writer import EventFile, WriteWarning


def test_a_bad_event_in_a_batch_is_left_out_and_the_rest_written(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    file = EventFile(storage, "runs/x", "w1")
    file.add({"type": "params", "time": 1.0, "params": {"lr": 0.1}})
    for step in range(1000):
        file.queue.append((2.0 + step, step, "loss", float(step)))
    file.queue.append((3000.0, 2**64, "loss", 1.0))  # a step beyond 64 bits
    file.add({"type": "tags", "time": 3001.0, "tags": {"origin": "f\udcff"}})
    for step in range(1000, 2000):
        file.queue.append((4000.0 + step, step, "loss", float(step)))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert file.close()
    messages = [str(w.message) for w in caught if issubclass(w.category, WriteWarning)]
    assert len(messages) == 1  # one warning, naming the first bad event
    assert "metrics 'loss'" in messages[0]
    lines = strict_lines(tmp_path / "runs/x/events-w1.jsonl")
    assert lines[0]["type"] == "open"
    assert lines[1]["params"] == {"lr": 0.1}
    steps = [e["step"] for e in lines if e["type"] == "metrics"]
    assert steps == list(range(2000))
    assert not any(e["type"] == "tags" for e in lines)


def test_bad_events_get_past_the_checks_only_by_hand(store: Path) -> None:
    """Through the API the same values fail at the call (test_bad_input): here a run's queue
    is fed directly, as a future logging call that forgot a check would."""
    with tr.start_run() as run:
        tr.log_param("lr", 0.1)
        run._file.add({"type": "note", "time": 1.0, "markdown": "\udcff"})
        tr.log_metric("m", 1.0)
        with pytest.warns(WriteWarning, match="note"):
            run.flush()
    got = tr.get_run(run.id)
    assert got.params == {"lr": 0.1} and got.metrics["m"].values == [1.0]
    assert got.status == "FINISHED"
