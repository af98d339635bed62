"""The reader: merging writers, torn and corrupt lines, unknown events, status rules."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

import trackreport as tr
from trackreport.reader import ReadWarning, read_run
from trackreport.store import Store


def _write(path: Path, events: list[dict], tail: str = "") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(e) + "\n" for e in events) + tail, "utf-8")


def _store(tmp_path: Path) -> Path:
    root = tmp_path / "s"
    root.mkdir()
    (root / "trackreport-store.json").write_text('{"format":"trackreport-store","version":1}\n')
    return root


RID = "20260101T000000Z-00000001"


def test_merge_two_writers_first_param_wins_last_tag_wins(tmp_path: Path) -> None:
    root = _store(tmp_path)
    run_dir = root / "runs" / RID
    _write(run_dir / "events-a.jsonl", [
        {"type": "open", "format": 1, "writer": "a", "time": 1.0},
        {"type": "run.start", "time": 1.0, "run_id": RID, "experiment": "e", "name": "n",
         "parent_run_id": None, "context": {}},
        {"type": "params", "time": 2.0, "params": {"lr": 0.1}},
        {"type": "tags", "time": 5.0, "tags": {"t": "late"}},
        {"type": "metrics", "time": 2.0, "step": 0, "values": {"m": 1.0}},
        {"type": "run.end", "time": 6.0, "status": "FINISHED", "error": None},
    ])
    _write(run_dir / "events-b.jsonl", [
        {"type": "open", "format": 1, "writer": "b", "time": 3.0},
        {"type": "run.resume", "time": 3.0, "run_id": RID},
        {"type": "params", "time": 3.0, "params": {"lr": 0.2}},
        {"type": "tags", "time": 4.0, "tags": {"t": "early"}},
        {"type": "metrics", "time": 3.0, "step": 1, "values": {"m": "NaN", "k": "-Infinity"}},
        {"type": "run.end", "time": 7.0, "status": "FAILED", "error": "boom"},
    ])
    with pytest.warns(ReadWarning, match="first value wins"):
        run = read_run(Store(root), RID)
    assert run.params == {"lr": 0.1}
    assert run.tags == {"t": "late"}
    assert run.metrics["m"].steps == [0, 1]
    assert run.metrics["k"].values == [float("-inf")]
    assert run.status == "FAILED" and run.error == "boom" and run.end_time == 7.0


def test_running_while_a_writer_has_not_ended(tmp_path: Path) -> None:
    root = _store(tmp_path)
    run_dir = root / "runs" / RID
    _write(run_dir / "events-a.jsonl", [
        {"type": "run.start", "time": 1.0, "run_id": RID, "experiment": "e", "name": "n",
         "context": {}},
        {"type": "run.end", "time": 9.0, "status": "FINISHED", "error": None},
    ])
    _write(run_dir / "events-b.jsonl", [{"type": "run.resume", "time": 3.0, "run_id": RID}])
    run = read_run(Store(root), RID)
    assert run.status == "RUNNING" and run.end_time is None


def test_torn_corrupt_and_unknown(tmp_path: Path) -> None:
    root = _store(tmp_path)
    path = root / "runs" / RID / "events-a.jsonl"
    good = [
        {"type": "run.start", "time": 1.0, "run_id": RID, "experiment": "e", "name": "n",
         "context": {}},
        {"type": "metrics", "time": 2.0, "step": 0, "values": {"m": 1.0}},
    ]
    _write(path, good)
    with path.open("a") as fh:
        fh.write("{not json\n")
        fh.write(json.dumps({"type": "future.thing", "time": 3.0}) + "\n")
        fh.write(json.dumps({"type": "metrics", "time": 4.0, "step": 1, "values": {"m": 2.0}})
                 + "\n")
        fh.write('{"type": "metrics", "ti')
    with pytest.warns(ReadWarning):
        run = read_run(Store(root), RID)
    assert run.metrics["m"].values == [1.0, 2.0]
    assert run.problems.torn_lines == 1
    assert run.problems.corrupt_lines == 1
    assert run.problems.unknown_events == 1


def test_missing_run_and_bad_ids(tmp_path: Path) -> None:
    root = _store(tmp_path)
    with pytest.raises(tr.RunNotFoundError, match="no run"):
        read_run(Store(root), RID)
    with pytest.raises(tr.RunNotFoundError, match="not a valid run id"):
        read_run(Store(root), "../etc")


def test_not_a_store(tmp_path: Path) -> None:
    with pytest.raises(tr.StoreFormatError, match="not a trackreport store"):
        tr.load_runs(store=tmp_path)


def test_committed_v1_store_still_reads() -> None:
    """A store written by format v1 (committed under examples/) must always read."""
    root = Path(__file__).parent.parent / "examples" / "trackruns"
    df = tr.load_runs(store=root)
    assert len(df) >= 6
    assert set(df["status"]) == {"FINISHED"}


def test_odd_but_valid_json_lines_are_counted_not_fatal(tmp_path: Path) -> None:
    root = _store(tmp_path)
    path = root / "runs" / RID / "events-a.jsonl"
    _write(path, [
        {"type": "open", "format": 1, "writer": "a", "time": 1.0},
        {"type": "run.start", "time": 1.0, "run_id": RID, "experiment": "e", "name": "n",
         "context": {}},
        {"no_type": 1, "time": 1.5},
        {"type": "metrics", "step": 0, "values": {"m": 1.0}},  # no time
        {"type": "metrics", "time": 2.0, "step": "x", "values": {"m": 2.0}},  # bad step
        {"type": "metrics", "time": 2.5, "step": 1, "values": {"m": "bad"}},  # bad value
        {"type": "metrics", "time": 3.0, "step": 2, "values": {"m": 3.0, "k": "NaN"}},
        {"type": "run.end", "time": 4.0, "status": "FINISHED", "error": None},
    ])
    with pytest.warns(ReadWarning, match=r"skipped 4 malformed event\(s\) \(time is missing"):
        run = read_run(Store(root), RID)
    # no type, no time, a bad step and a bad value: each line skipped and counted
    assert run.metrics["m"].steps == [2] and run.metrics["m"].values == [3.0]
    assert math.isnan(run.metrics["k"].values[0])
    assert run.problems.corrupt_lines == 4
    assert run.problems.unknown_events == 0
    assert run.status == "FINISHED"


def test_run_rename_last_wins_and_experiment_tags_merge(tmp_path: Path) -> None:
    from trackreport.inspection import check_store
    from trackreport.reader import read_experiments

    root = _store(tmp_path)
    run_dir = root / "runs" / RID
    _write(run_dir / "events-a.jsonl", [
        {"type": "open", "format": 1, "writer": "a", "time": 1.0},
        {"type": "run.start", "time": 1.0, "run_id": RID, "experiment": "e", "name": "first",
         "parent_run_id": None, "context": {}},
        {"type": "run.rename", "time": 3.0, "name": "third"},
        {"type": "run.rename", "time": 4.0, "name": 7},  # malformed: skipped and counted
    ])
    _write(run_dir / "events-b.jsonl", [
        {"type": "open", "format": 1, "writer": "b", "time": 1.5},
        {"type": "run.rename", "time": 2.0, "name": "second"},
    ])
    _write(root / "experiments" / "events-a.jsonl", [
        {"type": "open", "format": 1, "writer": "a", "time": 1.0},
        {"type": "experiment", "time": 5.0, "name": "e", "tags": {"team": "a", "k": "1"}},
        {"type": "experiment", "time": 2.0, "name": "e", "description": "d"},
        {"type": "experiment", "time": 6.0, "name": "e", "tags": {"team": "b"}},
        {"type": "experiment", "time": 7.0, "name": "e", "tags": ["not", "an", "object"]},
    ])
    with pytest.warns(ReadWarning):
        run = read_run(Store(root), RID)
    assert run.name == "third" and run.problems.corrupt_lines == 1
    exp = read_experiments(Store(root))["e"]
    assert exp.tags == {"team": "b", "k": "1"} and exp.description == "d" and exp.created == 2.0
    result = check_store(Store(root))
    assert not any(f.unknown_events for f in result.files)
    assert result.corrupt == 2  # the bad rename and the bad experiment tags


def _long_run(root: Path, steps: int) -> None:
    """A run of two writers (a resumed run), a torn last line and a corrupt line in the middle."""
    run_dir = root / "runs" / RID
    first = [{"type": "open", "format": 1, "writer": "a", "time": 1.0},
             {"type": "run.start", "time": 1.0, "run_id": RID, "experiment": "e", "name": "n",
              "parent_run_id": None, "context": {}},
             {"type": "params", "time": 1.5, "params": {"lr": 0.1}}]
    first += [{"type": "metrics", "time": 2.0 + i, "step": i,
               "values": {"loss": 1.0 / (i + 1), "acc": "NaN" if i == 7 else i / steps}}
              for i in range(steps)]
    first.append({"type": "tags", "time": 2.0 + steps, "tags": {"t": "a"}})
    _write(run_dir / "events-a.jsonl", first[:40], tail="{not json\n")
    with open(run_dir / "events-a.jsonl", "a", encoding="utf-8") as fh:
        fh.write("".join(json.dumps(e) + "\n" for e in first[40:]))
    second = [{"type": "open", "format": 1, "writer": "b", "time": 3.5},
              {"type": "run.resume", "time": 3.5, "run_id": RID},
              {"type": "params", "time": 3.5, "params": {"lr": 0.2}}]
    second += [{"type": "metrics", "time": 4.0 + 2 * i, "step": steps + i,
                "values": {"loss": 0.5, "grad": float(i)}} for i in range(steps // 2)]
    second.append({"type": "run.end", "time": 9e6, "status": "FINISHED", "error": None})
    _write(run_dir / "events-b.jsonl", second, tail='{"type": "metr')


def _read_quietly(root: Path) -> tuple[object, list[str]]:
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run = read_run(Store(root), RID)
    return run, sorted(str(w.message) for w in caught)


@pytest.mark.parametrize("out_of_order", [False, True])
def test_a_large_run_folds_chunk_by_chunk_to_the_same_run(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch,
                                                         out_of_order: bool) -> None:
    import trackreport.reader as reader

    root = _store(tmp_path)
    _long_run(root, 3000)
    if out_of_order:  # a file whose times go back: merged the usual way
        with open(root / "runs" / RID / "events-a.jsonl", "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"type": "metrics", "time": 1.7, "step": 0,
                                 "values": {"late": 1.0}}) + "\n")
    whole, whole_warnings = _read_quietly(root)
    assert whole.problems.torn_lines == 1 and whole.problems.corrupt_lines == 1
    chunked_calls = []
    real = reader.RunFold.add

    def counting(self: object, merged: list, files: list | None = None) -> None:
        chunked_calls.append(len(merged))
        real(self, merged, files)

    monkeypatch.setattr(reader.RunFold, "add", counting)
    monkeypatch.setattr(reader, "LARGE_RUN_BYTES", 1000)
    monkeypatch.setattr(reader, "CHUNK_BYTES", 4096)
    monkeypatch.setattr(reader, "CHUNK_EVENTS", 500)
    chunked, chunked_warnings = _read_quietly(root)
    assert chunked == whole
    assert chunked_warnings == whole_warnings
    if out_of_order:
        assert chunked_calls[-1] > 4000  # the fallback folds everything at once
    else:
        assert len(chunked_calls) > 8 and max(chunked_calls) <= 500


def test_a_large_run_never_holds_all_its_events(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    import gc
    import tracemalloc

    import trackreport.reader as reader

    root = _store(tmp_path)
    steps = 60_000
    lines = [{"type": "open", "format": 1, "writer": "a", "time": 1.0},
             {"type": "run.start", "time": 1.0, "run_id": RID, "experiment": "e", "name": "n",
              "parent_run_id": None, "context": {}}]
    lines += [{"type": "metrics", "time": 2.0 + i, "step": i,
               "values": {f"m{k}": i * 0.5 + k for k in range(5)}} for i in range(steps)]
    _write(root / "runs" / RID / "events-a.jsonl", lines)
    del lines
    gc.collect()

    def peak() -> tuple[int, object]:
        tracemalloc.start()
        try:
            run = read_run(Store(root), RID)
            return tracemalloc.get_traced_memory()[1], run
        finally:
            tracemalloc.stop()

    whole_peak, whole = peak()
    monkeypatch.setattr(reader, "LARGE_RUN_BYTES", 1 << 20)
    monkeypatch.setattr(reader, "CHUNK_BYTES", 1 << 20)
    chunked_peak, chunked = peak()
    assert chunked == whole and len(chunked.metrics["m4"].values) == steps
    # the folded series stay; the event dicts (about 1 kB each) do not pile up
    assert chunked_peak < 0.6 * whole_peak, (chunked_peak, whole_peak)
