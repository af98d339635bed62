"""Read a store back: merge a run's event files into a Run record.

Standard library (plus orjson) only. A run's files are merged by (time, file,
line). A torn last line (a crash mid-write) is skipped with a warning, a
corrupt line elsewhere is skipped and counted, unknown event types are
ignored (forward compatibility).
"""

from __future__ import annotations

import gc
import heapq
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from itertools import chain, compress, islice, repeat
from operator import eq, itemgetter, not_
from typing import Any

import orjson

from . import events, shapes
from .errors import RunNotFoundError, StoreReadError
from .fetching import fetch_event_files
from .records import (
    FINISHED,
    RUNNING,
    ArtifactRecord,
    Experiment,
    MetricSeries,
    NoteRecord,
    ReadProblems,
    Run,
)
from .store import Store, check_run_id, is_run_id

KNOWN_RUN_EVENTS = frozenset({
    events.OPEN, events.RUN_START, events.RUN_RESUME, events.RUN_END, events.PARAMS,
    events.METRICS, events.TAGS, events.ARTIFACT, events.MODEL, events.NOTE, events.DATASET,
    events.RUN_RENAME,
})


class ReadWarning(UserWarning):
    """Something in the store was skipped while reading (torn or corrupt line, ...)."""


@dataclass
class FileReport:
    """What reading one events file found."""

    path: str
    lines: int = 0
    torn_last_line: bool = False
    corrupt_lines: list[int] = field(default_factory=list)
    reasons: dict[int, str] = field(default_factory=dict)  # corrupt line number -> why
    unreadable: str | None = None  # why the file could not be read (check only)
    unknown_events: dict[str, int] = field(default_factory=dict)


def parse_lines(data: bytes, path: str, report: FileReport | None = None, *,
                check_shapes: bool = False) -> list[dict[str, Any]]:
    """Parse an events file's bytes into event dicts, skipping lines that are not JSON objects.

    The line numbers of skipped lines go to ``report.corrupt_lines`` (the reason to
    ``report.reasons``). With ``check_shapes`` (``trackreport check``), lines
    without a string ``type`` or whose known fields have the wrong types
    (``shapes.event_problem``) are skipped and reported too; otherwise
    ``fold_run`` skips and counts those, with the same checks.
    Fast path: the whole file as one JSON array; on any error, line by line.
    """
    report = report or FileReport(path)
    if not data:
        return []
    end = data.rfind(b"\n") + 1
    if end < len(data):
        report.torn_last_line = True
        warnings.warn(f"{path}: skipped a torn last line (a writer stopped mid-write?)",
                      ReadWarning, stacklevel=3)
    body = data[:end]
    torn = 1 if end < len(data) else 0
    report.lines = torn
    if not body:
        return []
    numbers: list[int] | None = None  # line numbers of parsed; None: 1, 2, 3, ...
    try:
        parsed = orjson.loads(b"[" + body[:-1].replace(b"\n", b",") + b"]")
        if set(map(type, parsed)) != {dict}:  # a line without a type: see check_shapes
            raise ValueError("not every line is an object")
        report.lines += len(parsed)
    except (orjson.JSONDecodeError, ValueError):
        parsed = []
        numbers = []
        lines = body[:-1].split(b"\n")
        report.lines += len(lines)
        for number, line in enumerate(lines, start=1):
            try:
                event = orjson.loads(line)
            except orjson.JSONDecodeError:
                event = None
            if type(event) is dict:
                parsed.append(event)
                numbers.append(number)
            else:
                report.corrupt_lines.append(number)
                report.reasons[number] = "not a JSON object"
    bad = shapes.bad_events(parsed) if check_shapes else None
    if bad:
        skip = set()
        for index, reason in bad:
            number = numbers[index] if numbers is not None else index + 1
            report.corrupt_lines.append(number)
            report.reasons[number] = reason
            skip.add(index)
        report.corrupt_lines.sort()
        parsed = [e for i, e in enumerate(parsed) if i not in skip]
    if report.corrupt_lines:
        first = report.corrupt_lines[0]
        warnings.warn(f"{path}: skipped {len(report.corrupt_lines)} corrupt line(s) (line "
                      f"{first}: {report.reasons.get(first, 'corrupt')})",
                      ReadWarning, stacklevel=3)
    return parsed


_get_time = itemgetter("time")
_NUMBER_TYPES = frozenset({float, int})
_VALUE_TYPES = frozenset({float, int, str})
_get_type = itemgetter("type")
_get_step = itemgetter("step")
_get_values = itemgetter("values")


@contextmanager
def no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while reading.

    Reading makes millions of small, long-lived, acyclic objects: the collector
    would walk them again and again (more than half the time of a read).
    """
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def _time(event: dict[str, Any]) -> float:
    t = event.get("time")
    ok = type(t) in _NUMBER_TYPES and 0 <= t < shapes.MAX_TIME  # type: ignore[operator]
    return t if ok else 0.0  # type: ignore[return-value]


def read_file(store: Store, path: str) -> bytes:
    """The bytes of one store file; StoreReadError (naming it) when it cannot be read."""
    try:
        return store.storage.read_bytes(path)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise StoreReadError(f"cannot read {store.root / path}: "
                             f"{exc.strerror or type(exc).__name__}") from None


def read_event_files(store: Store, paths: Iterable[str],
                     reports: list[FileReport] | None = None,
                     ) -> tuple[list[dict[str, Any]], list[int] | None]:
    """Events of several files merged by (time, file, line), and each one's file index.

    The file indices are None when every event comes from the first file.
    ``open`` lines (stamped at a file's first flush) carry no data and are left out.
    """
    files: list[list[dict[str, Any]]] = []
    for path, data in fetch_event_files(store, list(paths)):
        report = FileReport(path)
        parsed = parse_lines(data, path, report)
        if parsed and parsed[0].get("type") == events.OPEN:  # a file's first line
            if shapes.event_problem(parsed[0]):  # counted as fold_run counts the others
                report.corrupt_lines.append(1)
            parsed = parsed[1:]
        files.append(parsed)
        if reports is not None:
            reports.append(report)
    if len(files) == 1:
        only = files[0]
        try:
            times = list(map(_get_time, only))
            in_order = sorted(times) == times  # the usual case (linear on sorted data)
        except (KeyError, TypeError):  # a missing or non-numeric time
            in_order = False
        if in_order and (not times or isinstance(times[0], (int, float))):
            return only, None
    merged = [(_time(e), index, line, e)
              for index, file in enumerate(files) for line, e in enumerate(file)]
    merged.sort(key=lambda item: (item[0], item[1], item[2]))
    return [item[3] for item in merged], [item[1] for item in merged]


def read_run(store: Store, run_id: str, *, metrics: bool = True,
             reports: list[FileReport] | None = None) -> Run:
    """Everything about one run, merged from all its writers' files.

    Raises RunNotFoundError when the store has no such run.
    """
    check_run_id(run_id)
    paths = store.run_event_files(run_id)
    if not paths:
        raise RunNotFoundError(f"no run {run_id!r} in the store at {store.root}")
    own_reports: list[FileReport] = [] if reports is None else reports
    with no_gc():
        run = fold_large_run(store, run_id, paths, own_reports, metrics=metrics)
        if run is None:
            merged, files = read_event_files(store, paths, own_reports)
            run = fold_run(run_id, merged, files, metrics=metrics)
            # Freed while the collector is off: it never walks the parsed events.
            del merged, files
    parent = run.parent_run_id
    if parent is not None and not store.run_event_files(parent):
        _problem(run, f"run {run_id}: parent run {parent} is not in the store; "
                      "the link is dropped")
        run.parent_run_id = None
    for report in own_reports:
        run.problems.torn_lines += int(report.torn_last_line)
        run.problems.corrupt_lines += len(report.corrupt_lines)
        run.problems.unknown_events += sum(report.unknown_events.values())
    return run


LARGE_RUN_BYTES = 32 << 20
"""A run whose events files hold more bytes than this is folded chunk by chunk."""
CHUNK_BYTES = 4 << 20
"""Bytes of lines parsed at a time when folding a large run (about 20,000 events)."""
CHUNK_EVENTS = 1 << 15
"""Merged events folded at a time when a large run has several files."""


class _OutOfOrder(Exception):
    """An events file whose times are not in order: the run is merged the usual way."""


def fold_large_run(store: Store, run_id: str, paths: list[str], reports: list[FileReport], *,
                   metrics: bool = True) -> Run | None:
    """Fold a large run chunk by chunk, holding only one chunk of event dicts at a time.

    The same Run as ``fold_run`` of ``read_event_files``, which it stands in for
    when the run's files hold more than ``LARGE_RUN_BYTES``. Each file's events
    are parsed ``CHUNK_BYTES`` at a time and several files are merged as
    streams, which needs each file's events in time order (as writers write
    them). None when the run is small or a file is out of order: the caller
    merges the usual way.
    """
    total = 0
    for path in paths:
        try:
            total += store.storage.size(path)
        except (OSError, ValueError):
            continue
    if total <= LARGE_RUN_BYTES:
        return None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        file_reports: list[FileReport] = []
        streams = []
        for path in paths:
            report = FileReport(path)
            try:
                data = read_file(store, path)
            except FileNotFoundError:
                continue
            streams.append(_ordered(_file_chunks(data, path, report), len(streams)))
            file_reports.append(report)
        folder = RunFold(run_id, metrics=metrics)
        try:
            if len(streams) == 1:
                for chunk in streams[0]:
                    folder.add([item[3] for item in chunk])
            else:
                merged = heapq.merge(*(chain.from_iterable(stream) for stream in streams))
                while True:
                    batch = list(islice(merged, CHUNK_EVENTS))
                    if not batch:
                        break
                    folder.add([item[3] for item in batch], [item[1] for item in batch])
            run = folder.finish()
        except _OutOfOrder:
            return None
    reports.extend(file_reports)
    for found in caught:
        warnings.warn_explicit(found.message, found.category, found.filename, found.lineno)
    return run


def _ordered(chunks: Iterator[list[dict[str, Any]]], index: int,
             ) -> Iterator[list[tuple[float, int, int, dict[str, Any]]]]:
    """Chunks of (time, file index, line, event); _OutOfOrder when times go back."""
    line = 0
    last = 0.0
    for chunk in chunks:
        times = list(map(_time, chunk))
        if not times:
            continue
        if times[0] < last or sorted(times) != times:
            raise _OutOfOrder
        last = times[-1]
        yield list(zip(times, repeat(index), range(line, line + len(chunk)), chunk))
        line += len(chunk)


def _file_chunks(data: bytes, path: str, report: FileReport) -> Iterator[list[dict[str, Any]]]:
    """``parse_lines`` of a whole events file (its ``open`` line left out), in chunks.

    ``report`` ends up as ``read_event_files`` leaves it; the warnings are the same.
    """
    end = data.rfind(b"\n") + 1
    if end < len(data):
        report.torn_last_line = True
        report.lines += 1
        warnings.warn(f"{path}: skipped a torn last line (a writer stopped mid-write?)",
                      ReadWarning, stacklevel=3)
    position = 0
    offset = 0  # lines before this chunk
    corrupt: list[int] = []  # what parse_lines of the whole file finds
    first = True
    while position < end:
        stop = data.rfind(b"\n", position, min(position + CHUNK_BYTES, end)) + 1
        if stop <= position:  # one line longer than a chunk
            stop = data.find(b"\n", position) + 1
        part = FileReport(path)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ReadWarning)
            parsed = parse_lines(data[position:stop], path, part)
        for number in part.corrupt_lines:
            corrupt.append(offset + number)
            report.reasons[offset + number] = part.reasons[number]
        offset += part.lines
        position = stop
        if first and parsed:
            first = False
            if parsed[0].get("type") == events.OPEN:  # a file's first line
                if shapes.event_problem(parsed[0]):  # counted as fold_run counts the others
                    report.corrupt_lines.append(1)
                parsed = parsed[1:]
        yield parsed
    report.lines += offset
    report.corrupt_lines[:0] = corrupt
    if corrupt:
        warnings.warn(f"{path}: skipped {len(corrupt)} corrupt line(s) (line {corrupt[0]}: "
                      f"{report.reasons.get(corrupt[0], 'corrupt')})", ReadWarning, stacklevel=3)


def fold_run(run_id: str, merged: list[dict[str, Any]], files: list[int] | None = None, *,
             metrics: bool = True) -> Run:
    """Fold merged events (and their file indices, None: all from one file) into a Run."""
    folder = RunFold(run_id, metrics=metrics)
    folder.add(merged, files)
    return folder.finish()


class RunFold:
    """Folds a run's merged events into a Run, one chunk at a time.

    ``add`` takes consecutive chunks of the merged events (in merged order), so a
    long run is folded without every event dict in memory at once; the result
    is the same as folding all the events at once.
    """

    def __init__(self, run_id: str, *, metrics: bool = True) -> None:
        self.run = Run(run_id=run_id, name=run_id, experiment="Default", status=RUNNING,
                       start_time=None, end_time=None)
        self.metrics = metrics
        self.open_files: dict[int, bool] = {}
        self.last_end: dict[str, Any] | None = None
        self.start_event: dict[str, Any] | None = None
        self.series: dict[str, tuple[list[int], list[float], list[float]]] = {}
        self.artifacts: dict[str, ArtifactRecord] = {}
        self.metric_problems = ReadProblems()
        self.skipped: list[str] = []
        self.last_event: dict[str, Any] | None = None
        self.renamed: str | None = None

    def add(self, merged: list[dict[str, Any]], files: list[int] | None = None) -> None:
        """Fold the next chunk of merged events (``files``: their file indices, or None)."""
        if not merged:
            return
        run = self.run
        run_id = run.run_id
        metrics_type = events.METRICS
        try:
            is_metric = list(map(partial(eq, metrics_type), map(_get_type, merged)))
        except KeyError:  # an event without a type (unknown: ignored below)
            is_metric = [event.get("type") == metrics_type for event in merged]
        if self.metrics:
            chunk = _fold_metrics(list(compress(merged, is_metric)), self.metric_problems)
            for key, (steps, values, times_) in chunk.items():
                found = self.series.get(key)
                if found is None:  # lists of this chunk's own (no other key shares them)
                    self.series[key] = (steps, values, times_)
                else:
                    found[0].extend(steps)
                    found[1].extend(values)
                    found[2].extend(times_)
        skipped = self.skipped
        artifacts = self.artifacts
        open_files = self.open_files
        for position in compress(range(len(merged)), map(not_, is_metric)):
            event = merged[position]
            problem = shapes.event_problem(event)
            if problem:
                skipped.append(problem)
                continue
            kind = event["type"]
            t = event["time"]
            index = files[position] if files is not None else 0
            if kind == events.PARAMS:
                params = event.get("params") or {}
                encoded = event.get("encoded")
                if isinstance(encoded, list) and isinstance(params, dict):  # NaN, +-inf, big ints
                    params = {k: events.param_from_json(v) if k in encoded else v
                              for k, v in params.items()}
                for key, value in params.items():
                    if key in run.params and _differs(run.params[key], value):
                        msg = (f"run {run_id}: param {key!r} was logged as {run.params[key]!r} "
                               f"and as {value!r}; the first value wins")
                        run.problems.messages.append(msg)
                        warnings.warn(msg, ReadWarning, stacklevel=3)
                        continue
                    run.params.setdefault(key, value)
            elif kind == events.TAGS:
                for key, value in (event.get("tags") or {}).items():
                    run.tags[key] = value if isinstance(value, str) else str(value)
            elif kind == events.NOTE:
                if isinstance(event.get("markdown"), str):
                    run.notes.append(NoteRecord(event["markdown"], t or 0.0))
            elif kind == events.ARTIFACT:
                path = event.get("path")
                if isinstance(path, str):
                    artifacts[path] = ArtifactRecord(
                        path=path, size=int(event.get("size") or 0),
                        sha256=str(event.get("sha256") or ""),
                        media_type=str(event.get("media_type") or "application/octet-stream"),
                        time=t or 0.0,
                        image=event["image"] if isinstance(event.get("image"), dict) else None)
            elif kind == events.MODEL:
                run.models.append({k: v for k, v in event.items() if k != "type"})
            elif kind == events.DATASET:
                run.datasets.append({k: v for k, v in event.items() if k != "type"})
            elif kind == events.RUN_START:
                if run.start_time is None or (t is not None and t < run.start_time):
                    run.start_time = t
                    run.name = str(event.get("name") or run_id)
                    run.experiment = str(event.get("experiment") or "Default")
                    run.parent_run_id = event.get("parent_run_id")
                    context = event.get("context")
                    run.context = context if isinstance(context, dict) else {}
                    self.start_event = event
                    origin = event.get("imported_from")
                    run.imported_from = origin if isinstance(origin, dict) else None
                open_files[index] = True
            elif kind == events.RUN_RESUME:
                open_files[index] = True
            elif kind == events.RUN_RENAME:
                self.renamed = event["name"]  # events are in time order: the last rename wins
            elif kind == events.RUN_END:
                if event.get("imported"):  # an imported status closes the run in every file
                    for other in open_files:
                        open_files[other] = False
                open_files[index] = False
                self.last_end = event
            elif kind != events.OPEN:
                run.problems.unknown_events += 1
        self.last_event = merged[-1]

    def finish(self) -> Run:
        """The folded Run."""
        run = self.run
        run_id = run.run_id
        problems = self.metric_problems
        run.problems.corrupt_lines += problems.corrupt_lines
        skipped = run.problems.skipped
        skipped.extend(problems.skipped)
        skipped.extend(self.skipped)
        if self.start_event is not None:
            _check_start(run, self.start_event)
        if self.renamed is not None:
            run.name = self.renamed
        if skipped:
            run.problems.corrupt_lines += len(self.skipped)
            warnings.warn(f"run {run_id}: skipped {len(skipped)} malformed event(s) "
                          f"({skipped[0]})", ReadWarning, stacklevel=3)
        run.artifacts = sorted(self.artifacts.values(), key=lambda a: a.path)
        if self.last_event is not None:  # merged is in time order; a bad time sorts as 0
            run.last_event_time = _time(self.last_event) or None
        last_end = self.last_end
        if any(self.open_files.values()) or last_end is None:
            run.status = RUNNING
            run.end_time = None
        else:
            run.status = str(last_end.get("status") or FINISHED)
            run.end_time = last_end.get("time")
            run.error = last_end.get("error")
        series = self.series
        for key in sorted(series):
            steps, values, times_ = series[key]
            if sorted(steps) == steps:
                run.metrics[key] = MetricSeries(key, steps, values, times_)
            else:  # stable: values logged at one step keep their merged order
                idx = sorted(range(len(steps)), key=steps.__getitem__)
                run.metrics[key] = MetricSeries(key, [steps[i] for i in idx],
                                                [values[i] for i in idx],
                                                [times_[i] for i in idx])
        return run


def _differs(a: Any, b: Any) -> bool:
    return a != b and not (a != a and b != b)  # NaN equals NaN here


def _problem(run: Run, message: str) -> None:
    """Record (and warn about) something the reader dropped from a run."""
    run.problems.messages.append(message)
    warnings.warn(message, ReadWarning, stacklevel=3)


def _check_start(run: Run, event: dict[str, Any]) -> None:
    """Drop a malformed parent link and wrongly typed context fields of the run's start."""
    parent = run.parent_run_id
    if parent is not None:
        if not is_run_id(parent) or parent == run.run_id:
            shown = repr(parent) if len(repr(parent)) <= 60 else repr(parent)[:57] + "..."
            _problem(run, f"run {run.run_id}: parent_run_id {shown} is not a valid run id; "
                          "the link is dropped")
            run.parent_run_id = None
    if event.get("context") is not None and not isinstance(event.get("context"), dict):
        _problem(run, f"run {run.run_id}: the captured context is not an object; ignored")
    run.context, dropped = shapes.clean_context(run.context)
    for phrase in dropped:
        _problem(run, f"run {run.run_id}: captured context field {phrase}; ignored")


def _fold_metrics(mevents: list[dict[str, Any]], problems: ReadProblems,
                  ) -> dict[str, tuple[list[int], list[float], list[float]]]:
    """Metric events (in merged order) to per-key (steps, values, times) lists.

    The usual shapes (every event logs the same keys; values are floats) are
    handled with list comprehensions; anything else takes the checked loop.
    """
    if not mevents:
        return {}
    try:
        steps = list(map(_get_step, mevents))
        valuess = list(map(_get_values, mevents))
        times = list(map(_get_time, mevents))
    except KeyError:
        return _fold_metrics_checked(mevents, problems)
    # C-level checks (set(map(...))) rather than Python loops: this is the hot path;
    # anything odd takes the checked loop, which skips what shapes.event_problem rejects
    if (set(map(type, steps)) != {int} or set(map(type, valuess)) != {dict}
            or min(steps) < 0 or max(steps) > shapes.MAX_STEP
            or not set(map(type, times)) <= _NUMBER_TYPES
            or min(times) < 0 or max(times) >= shapes.MAX_TIME):
        return _fold_metrics_checked(mevents, problems)
    lengths = set(map(len, valuess))
    all_keys = set().union(*valuess)
    if len(lengths) == 1 and len(all_keys) == lengths.pop():  # every event logs the same keys
        positions_of = dict.fromkeys(valuess[0])
    else:  # events of several shapes: each key gathers the events that logged it
        positions: dict[str, list[int]] = {}
        for index, shape in enumerate(valuess):
            for key in shape:
                found = positions.get(key)
                if found is None:
                    positions[key] = [index]
                else:
                    found.append(index)
        positions_of = positions  # type: ignore[assignment]
    out = {}
    for key, where in positions_of.items():
        if where is None:
            values = list(map(itemgetter(key), valuess))  # C-level: twice a list comprehension
            key_steps, key_times = (steps, times) if len(positions_of) == 1 else (
                steps[:], times[:])
        else:
            values = [valuess[i][key] for i in where]
            key_steps = [steps[i] for i in where]
            key_times = [times[i] for i in where]
        value_types = set(map(type, values))
        if value_types != {float}:
            if not value_types <= _VALUE_TYPES:  # bool, list, ...
                return _fold_metrics_checked(mevents, problems)
            try:
                values = [x if type(x) is float else events.metric_from_json(x) for x in values]
            except (KeyError, TypeError, ValueError):
                return _fold_metrics_checked(mevents, problems)
        out[key] = (key_steps, values, key_times)
    return out


def _fold_metrics_checked(mevents: list[dict[str, Any]], problems: ReadProblems,
                          ) -> dict[str, tuple[list[int], list[float], list[float]]]:
    """The same as _fold_metrics, event by event, skipping and counting bad ones."""
    series: dict[str, tuple[list[int], list[float], list[float]]] = {}
    skipped: list[str] = []
    for event in mevents:
        problem = shapes.event_problem(event)
        if problem:
            skipped.append(problem)
            continue
        step = event["step"]
        t = event["time"]
        for key, value in event["values"].items():
            value = value if type(value) is float else events.metric_from_json(value)
            entry = series.get(key)
            if entry is None:
                entry = series[key] = ([], [], [])
            entry[0].append(step)
            entry[1].append(value)
            entry[2].append(t)
    problems.corrupt_lines += len(skipped)
    problems.skipped.extend(skipped)
    return series


def iter_runs(store: Store, *, metrics: bool = True,
              experiment: str | None = None) -> Iterator[Run]:
    """Every run of the store (optionally of one experiment), one at a time."""
    for run_id in store.run_ids():
        try:
            run = read_run(store, run_id, metrics=metrics)
        except RunNotFoundError:
            continue
        if experiment is None or run.experiment == experiment:
            yield run


def read_experiments(store: Store) -> dict[str, Experiment]:
    """Experiment settings by name, as last set (per field) by ``set_experiment``."""
    out: dict[str, Experiment] = {}
    for event in read_event_files(store, store.experiment_event_files())[0]:
        if event.get("type") != events.EXPERIMENT:
            continue
        name = event.get("name")
        if not isinstance(name, str):
            continue
        exp = out.setdefault(name, Experiment(name))
        if isinstance(event.get("description"), str):
            exp.description = event["description"]
        if isinstance(event.get("primary_metric"), str):
            exp.primary_metric = event["primary_metric"]
        if event.get("goal") in ("min", "max"):
            exp.goal = event["goal"]
        if isinstance(event.get("tie_breaker"), str):
            exp.tie_breaker = event["tie_breaker"]
        if isinstance(event.get("metrics"), dict):
            exp.metrics = {str(k): dict(v) for k, v in event["metrics"].items()
                           if isinstance(v, dict)}
        if isinstance(event.get("tags"), dict):
            exp.tags.update({str(k): str(v) for k, v in event["tags"].items()})
        t = _time(event)
        if t and (exp.created is None or t < exp.created):
            exp.created = t
    return out


def file_report(store: Store, path: str) -> tuple[FileReport, list[dict[str, Any]]]:
    """Read one events file and say what is wrong with it (for ``trackreport check``)."""
    report = FileReport(path)
    try:
        data = read_file(store, path)
    except FileNotFoundError:  # removed since it was listed
        return report, []
    except StoreReadError as exc:
        report.unreadable = str(exc)
        return report, []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ReadWarning)
        parsed = parse_lines(data, path, report, check_shapes=True)
    known = KNOWN_RUN_EVENTS | {events.EXPERIMENT}
    for event in parsed:
        kind = event["type"]
        if kind not in known and not kind.startswith("registry."):
            report.unknown_events[kind] = report.unknown_events.get(kind, 0) + 1
    return report, parsed


