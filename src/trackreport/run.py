"""ActiveRun: a run being logged by this process (context manager + logging methods).

The module-level functions in ``fluent`` find the active run and call these
methods, so ``run.log_param(...)`` and ``trackreport.log_param(...)`` share
one code path.
"""

from __future__ import annotations

import itertools
import math
import os
import time
import warnings
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from . import artifacts, events
from .errors import InvalidValueError, ParamChangedError, TrackreportError
from .keys import MAX_STEP, check_key, check_step, check_text, metric_value
from .records import FAILED, FINISHED, KILLED, RUNNING
from .store import Store
from .writer import LARGE_BUFFER, EventFile, wake_flusher


class ActiveRun:
    """A run this process is logging to. Use it as a context manager.

    Leaving a ``with`` block normally ends the run FINISHED; an exception ends
    it FAILED (KeyboardInterrupt: KILLED; ``sys.exit(0)``: FINISHED). Logging
    through the object after the run ended still writes (the status stays as
    it ended).
    """

    _borrowed = False  # True in a forked child for a run its parent is logging

    def __init__(self, store: Store, run_id: str, name: str, experiment: str,
                 file: EventFile, parent_run_id: str | None = None) -> None:
        self.store = store
        self.id = run_id
        self.name = name
        self.experiment = experiment
        self.parent_run_id = parent_run_id
        self._file = file
        self._queue = file.queue
        self._params: dict[str, Any] = {}
        self._next_step: dict[str, int] = {}
        self._metric_keys: set[str] = set()
        self.status = RUNNING
        self._on_end: list[Any] = []
        self._pid = os.getpid()  # a forked child never ends its parent's run

    def __repr__(self) -> str:
        return f"<ActiveRun {self.id} {self.name!r} {self.status}>"

    @property
    def run_id(self) -> str:
        """The run's id (same as ``id``; MLflow's ``run.info.run_id``)."""
        return self.id

    # context manager -----------------------------------------------------------
    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        status, error = outcome(exc_type, exc)
        self.end(status, error)

    # params ----------------------------------------------------------------------
    def log_param(self, key: str, value: Any) -> None:
        """Log one param; logging it again with a different value raises ParamChangedError."""
        self.log_params({key: value})

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Log several params at once (all are checked before anything is written)."""
        if not isinstance(params, Mapping):
            raise TypeError(f"log_params needs a mapping, got {type(params).__name__}")
        clean: dict[str, Any] = {}
        wire: dict[str, Any] = {}
        encoded: list[str] = []
        for key, value in params.items():
            check_key(key, "param key")
            try:
                stored, wire[key], as_text = events.param_value(value)
            except events.UnstorableValueError as exc:
                raise InvalidValueError(f"param {key!r} {exc}") from None
            if as_text:
                encoded.append(key)
            old = self._params.get(key, _MISSING)
            if old is _MISSING:
                old = clean.get(key, _MISSING)
            if old is not _MISSING and not _same(old, stored):
                raise ParamChangedError(
                    f"param {key!r} was already logged as {old!r}; it cannot change to "
                    f"{stored!r} (params are fixed per run; use a metric or a tag)"
                )
            clean[key] = stored
        new = {k: v for k, v in clean.items() if k not in self._params}
        if new:
            self._params.update(new)
            event = {"type": events.PARAMS, "time": time.time(),
                     "params": {k: wire[k] for k in new}}
            if encoded := [k for k in encoded if k in new]:
                event["encoded"] = encoded
            self._file.add(event)

    # metrics -----------------------------------------------------------------------
    def log_metric(self, key: str, value: Any, step: int | None = None) -> None:
        """Log one metric value; ``step`` defaults to the next step of that key."""
        if key not in self._metric_keys:
            check_key(key, "metric key")
            self._metric_keys.add(key)
        if type(value) is not float:
            value = metric_value(value, key)
        nxt = self._next_step
        if step is None:
            step = nxt.get(key, 0)
            if step > MAX_STEP:
                _no_next_step(key)
        elif type(step) is not int or not 0 <= step <= MAX_STEP:
            step = check_step(step, key)
        if step >= nxt.get(key, 0):
            nxt[key] = step + 1
        queue = self._queue
        queue.append((time.time(), step, key, value))
        if len(queue) > LARGE_BUFFER:
            wake_flusher()

    def log_metrics(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        """Log several metric values (checked first); one event per distinct step."""
        if not isinstance(metrics, Mapping):
            raise TypeError(f"log_metrics needs a mapping, got {type(metrics).__name__}")
        values: dict[str, float] = {}
        for key, value in metrics.items():
            if key not in self._metric_keys:
                check_key(key, "metric key")
            values[key] = value if type(value) is float else metric_value(value, key)
        if step is not None and (type(step) is not int or not 0 <= step <= MAX_STEP):
            step = check_step(step, next(iter(values), "?"))
        now = time.time()
        nxt = self._next_step
        if step is None:
            for key in values:
                if nxt.get(key, 0) > MAX_STEP:
                    _no_next_step(key)
        by_step: dict[int, dict[str, float]] = {}
        for key, value in values.items():
            s = nxt.get(key, 0) if step is None else step
            by_step.setdefault(s, {})[key] = value
            if s >= nxt.get(key, 0):
                nxt[key] = s + 1
        self._metric_keys.update(values)
        for s, vals in by_step.items():
            self._file.add({"type": events.METRICS, "time": now, "step": s, "values": vals})

    # tags and notes --------------------------------------------------------------------
    def set_tag(self, key: str, value: Any) -> None:
        """Set one tag (values are stored as strings; the last one wins)."""
        self.set_tags({key: value})

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        """Set several tags at once."""
        if not isinstance(tags, Mapping):
            raise TypeError(f"set_tags needs a mapping, got {type(tags).__name__}")
        clean = {check_key(k, "tag key"): check_text(v if isinstance(v, str) else _tag_text(k, v),
                                                     f"tag {k!r}")
                 for k, v in tags.items()}
        if clean:
            self._file.add({"type": events.TAGS, "time": time.time(), "tags": clean})

    def rename(self, name: str) -> None:
        """Give the run a new name (a ``run.rename`` event; readers show the latest)."""
        if not isinstance(name, str):
            raise TypeError(f"run name must be a str, got {type(name).__name__}")
        check_key(name, "run name")
        self.name = name
        self._file.add({"type": events.RUN_RENAME, "time": time.time(), "name": name})

    def note(self, markdown: str) -> None:
        """Add a markdown note, shown (sanitized) on the run's page."""
        if not isinstance(markdown, str):
            raise TypeError(f"note needs a str of markdown, got {type(markdown).__name__}")
        check_text(markdown, "note")
        self._file.add({"type": events.NOTE, "time": time.time(), "markdown": markdown})

    # artifacts -----------------------------------------------------------------------
    def log_artifact(self, local_path: str | os.PathLike[str],
                     artifact_path: str | None = None) -> None:
        """Copy a local file into the run (under ``artifact_path`` when given)."""
        self._file.add(artifacts.copy_file(self.store, self.id, local_path, artifact_path))

    def log_artifacts(self, local_dir: str | os.PathLike[str],
                      artifact_path: str | None = None) -> None:
        """Copy a local folder's files into the run; symlinks leading outside it are skipped."""
        for event in artifacts.copy_folder(self.store, self.id, local_dir, artifact_path):
            self._file.add(event)

    def log_text(self, text: str, artifact_file: str) -> None:
        """Save text as an artifact file."""
        data = artifacts.text_bytes(text, artifact_file)
        self._file.add(artifacts.put_bytes(self.store, self.id, data, artifact_file))

    def log_dict(self, dictionary: Any, artifact_file: str) -> None:
        """Save a dict as JSON (or YAML for .yaml/.yml) as an artifact file."""
        data = artifacts.dict_bytes(dictionary, artifact_file)
        self._file.add(artifacts.put_bytes(self.store, self.id, data, artifact_file))

    def log_figure(self, figure: Any, artifact_file: str) -> None:
        """Save a matplotlib figure (savefig) or an altair chart (Vega-Lite spec) as an artifact."""
        from .keys import check_artifact_path

        check_artifact_path(artifact_file, "artifact file")
        data, kind = artifacts.figure_bytes(figure, artifact_file)
        self._file.add(artifacts.put_bytes(self.store, self.id, data, artifact_file, kind))

    def log_image(self, image: Any, key: str, step: int | None = None) -> None:
        """Save an image under ``key`` at ``step`` (default: the key's next step).

        The site shows the images of one key with a step slider. Takes a path,
        a PIL image, a matplotlib figure or a numpy array.
        """
        check_key(key, "image key")
        counter = image_counter(key)
        nxt = self._next_step
        step = nxt.get(counter, 0) if step is None else check_step(step, key)
        if step > MAX_STEP:
            _no_next_step(key)
        data, ext = artifacts.image_bytes(image)
        # Never replace an image: another process (a forked worker, a resumed run)
        # may have written this step already; then this one gets a suffix.
        stem = f"images/{artifacts.image_folder(key)}/step-{step:06d}"
        names = itertools.chain([f"{stem}.{ext}"],
                                (f"{stem}-{n}.{ext}" for n in itertools.count(2)))
        event = artifacts.put_new_bytes(self.store, self.id, data, names)
        event["image"] = {"key": key, "step": step}
        nxt[counter] = max(nxt.get(counter, 0), step + 1)
        self._file.add(event)

    # models --------------------------------------------------------------------------
    def log_model(self, model: Any, path: str = "model", input_example: Any = None,
                  flavor: str | None = None) -> Any:
        """Save ``model`` under the run's ``<path>/`` with ``model.json``; returns a ModelInfo.

        Flavors: ``sklearn`` (skops where it round-trips, joblib otherwise),
        ``pickle`` (any picklable object), ``files`` (a folder you wrote).
        ``input_example`` (DataFrame, array, list or mapping) gives the signature.
        """
        from .models import ModelInfo, save_model

        evts = save_model(self.store, self.id, model, path, input_example, flavor)
        for event in evts:
            self._file.add(event)
        info = evts[-1]
        return ModelInfo(f"runs:/{self.id}/{info['path']}", self.id, info["path"],
                         info["flavor"], info["format"])

    # lifecycle -------------------------------------------------------------------------
    def flush(self) -> None:
        """Write everything logged so far to disk now."""
        self._file.flush()

    def end(self, status: str = FINISHED, error: str | None = None) -> None:
        """End the run with ``status`` (FINISHED, FAILED or KILLED) and flush.

        In a forked child, a run inherited from the parent is only flushed and
        left: the parent ends it.
        """
        if self.status != RUNNING:
            return
        if status not in (FINISHED, FAILED, KILLED):
            raise TrackreportError(f"status must be FINISHED, FAILED or KILLED, got {status!r}")
        if self._borrowed or self._pid != os.getpid():
            # (the pid check holds even when a signal arrives before the fork hooks ran)
            for callback in self._on_end:
                callback(self)
            self._file.flush()
            return
        if error is not None and error not in _OWN_ERRORS:
            from .redact import redact_text  # the site is published: no secret in an error

            error = redact_text(error if isinstance(error, str) else repr(error))
        self.status = status
        self._file.add({"type": events.RUN_END, "time": time.time(), "status": status,
                        "error": error})
        for callback in self._on_end:
            callback(self)
        if not self._file.close():
            warnings.warn(f"run {self.id}: some events could not be written yet; "
                          "they are retried at exit", stacklevel=2)


def _no_next_step(key: str) -> None:
    raise InvalidValueError(
        f"metric {key!r} was logged at step 2**63 - 1: there is no next step; pass step=")


_MISSING = object()
_OWN_ERRORS = ("SIGTERM", "KeyboardInterrupt")  # trackreport's words: nothing to scrub


def image_counter(key: str) -> str:
    """The ``_next_step`` entry of an image key (no metric key contains NUL)."""
    return f"\x00image:{key}"


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return (type(a) is type(b) and a == b) or (
        isinstance(a, (int, float)) and isinstance(b, (int, float))
        and not isinstance(a, bool) and not isinstance(b, bool) and a == b)


def _tag_text(key: str, value: Any) -> str:
    if isinstance(value, (dict, list, tuple)):
        try:
            return events.encode({"v": value})[5:-2].decode("utf-8")
        except TypeError as exc:  # orjson.JSONEncodeError
            raise InvalidValueError(f"tag {key!r} cannot be stored as text: {exc}") from None
    return str(value)


def outcome(exc_type: type[BaseException] | None,
            exc: BaseException | None) -> tuple[str, str | None]:
    """The (status, error) a run ends with after ``exc`` (None: normal end)."""
    if exc_type is None:
        return FINISHED, None
    if issubclass(exc_type, KeyboardInterrupt):
        return KILLED, "KeyboardInterrupt"
    if issubclass(exc_type, SystemExit):
        code = getattr(exc, "code", None)
        if code is None or code == 0:
            return FINISHED, None
        error = f"SystemExit: {code}"
    else:
        message = str(exc) if exc is not None else ""
        error = f"{exc_type.__name__}: {message}" if message else exc_type.__name__
    # The site is published: no URL credential or token in the message (lazy: only
    # a failed run pays for the import).
    from .redact import redact_text

    return FAILED, redact_text(error)


_ADJECTIVES = ("amber", "bold", "brisk", "calm", "clever", "crisp", "eager", "fair", "gentle",
               "glad", "keen", "lucid", "merry", "nimble", "quiet", "rapid", "sharp", "steady",
               "sunny", "swift", "tidy", "vivid", "warm", "wise")
_NOUNS = ("badger", "cedar", "comet", "falcon", "fern", "finch", "harbor", "heron", "lark",
          "maple", "meadow", "otter", "panda", "pine", "quartz", "raven", "river", "sparrow",
          "spruce", "tiger", "willow", "wren", "yak", "zebra")


def random_name() -> str:
    """A readable default run name such as ``swift-otter-42``."""
    a, b, c = os.urandom(3)
    return f"{_ADJECTIVES[a % len(_ADJECTIVES)]}-{_NOUNS[b % len(_NOUNS)]}-{c % 100}"


def source_name(path: Path) -> str:
    """Artifact path under which a captured entry-point source file is stored."""
    return f"source/{path.name}"
