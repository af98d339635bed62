"""The module-level tracking API (MLflow's fluent shape): an active-run stack.

Every logging function finds the active run and calls the matching
``ActiveRun`` method. Unclosed runs are ended at interpreter exit (FINISHED,
or FAILED/KILLED after an uncaught exception), and on SIGTERM (KILLED).

A forked child (``os.fork``, multiprocessing's fork start method) keeps
logging into the runs it inherited, through its own events files; it never
ends them (its exit, SIGTERM or leaving a ``with`` block only flushes). Its
events are flushed by its own timer, at its interpreter exit, by
multiprocessing's exit handlers (which run before ``os._exit``) and on SIGTERM.
"""

from __future__ import annotations

import atexit
import os
import signal
import sys
import threading
import time
import warnings
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import env, events, signal_guard, writer
from .errors import InvalidValueError, NoActiveRunError, RunNotFoundError, TrackreportError
from .keys import check_key, check_text
from .reader import read_run
from .records import KILLED, RUNNING, Run
from .run import ActiveRun, image_counter, outcome, random_name, source_name
from .storage import is_url
from .store import (
    EXPERIMENTS,
    Store,
    absolute_location,
    check_location,
    check_run_id,
    new_run_id,
    new_writer_id,
)
from .writer import EventFile, flush_all

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

_stack: list[ActiveRun] = []
_store_path: str | None = None
_storage_options: dict[str, Any] | None = None
_experiment = "Default"
_experiment_settings: dict[str, dict[str, Any]] = {}
_written_settings: dict[tuple[str, str], dict[str, Any]] = {}
_stores: dict[str, Store] = {}
_experiment_files: dict[str, EventFile] = {}
_run_files: dict[tuple[str, str], EventFile] = {}  # this process's file of each run
_runs: weakref.WeakSet[ActiveRun] = weakref.WeakSet()  # every run object of this process
_writer: list[str] = []  # [writer id of this process]
_uncaught: list[tuple[type[BaseException], BaseException]] = []
_lock = threading.RLock()


# store and experiment --------------------------------------------------------------
def set_store(path: str | os.PathLike[str],
              storage_options: Mapping[str, Any] | None = None) -> None:
    """Use the store at ``path`` (created on the first run) for the runs that follow.

    ``path`` is a folder or a URL such as ``s3://bucket/prefix`` (``pip install
    'trackreport[s3]'``); ``storage_options`` go to fsspec (e.g. ``endpoint_url``,
    ``key``, ``secret``; by default the usual AWS environment variables apply).
    """
    global _store_path, _storage_options
    _store_path = check_location(path)
    _storage_options = dict(storage_options) if storage_options else None


def get_store() -> Store:
    """The store in use: set_store(), else ``$TRACKREPORT_STORE`` (with
    ``$TRACKREPORT_STORAGE_OPTIONS`` for a URL), else ``./trackruns``."""
    path = absolute_location(_store_path or env.store_path())
    store = _stores.get(path)
    if store is None:
        options = _storage_options if _store_path is not None else (
            env.storage_options() if is_url(path) else None)
        store = _stores[path] = Store(path, storage_options=options)
    return store


def set_experiment(name: str, description: str | None = None,
                   primary_metric: str | None = None, goal: str | None = None,
                   tie_breaker: str | None = None,
                   metrics: Mapping[str, Mapping[str, Any]] | None = None) -> None:
    """Log the following runs into experiment ``name`` and, optionally, describe it.

    Args:
        name: the experiment's name.
        description: markdown shown on the experiment's page.
        primary_metric: the metric that ranks runs ("best run").
        goal: ``"min"`` or ``"max"``: which direction of ``primary_metric`` is better
            (default: the metric's ``metrics=`` entry, else a guess from its name).
        tie_breaker: a metric that decides between runs tied on ``primary_metric``.
        metrics: per metric key, any of ``label`` and ``description`` (words for
            readers), ``goal`` (``"min"``/``"max"``) and ``format``
            (``"number"``/``"percent"``).
    """
    global _experiment
    check_key(name, "experiment name")
    if goal is not None and goal not in ("min", "max"):
        raise ValueError(f"goal must be 'min' or 'max', got {goal!r}")
    if primary_metric is not None:
        check_key(primary_metric, "primary_metric")
    if tie_breaker is not None:
        check_key(tie_breaker, "tie_breaker")
    if description is not None and not isinstance(description, str):
        raise TypeError(f"description must be a str, got {type(description).__name__}")
    if description is not None:
        check_text(description, f"description of experiment {name!r}")
    specs = _check_metric_specs(metrics) if metrics is not None else None
    settings = _experiment_settings.setdefault(name, {})
    for field, value in (("description", description), ("primary_metric", primary_metric),
                         ("goal", goal), ("tie_breaker", tie_breaker), ("metrics", specs)):
        if value is not None:
            settings[field] = value
    _experiment = name
    store = get_store()
    if settings and store.exists():  # an existing store learns of it now (no stray stores)
        _write_experiment_settings(store, name)


_SPEC_FIELDS = {"label": None, "description": None, "goal": ("min", "max"),
                "format": ("number", "percent")}


def _check_metric_specs(metrics: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, str]]:
    """``metrics=`` of set_experiment, checked: {key: {field: str}}."""
    if not isinstance(metrics, Mapping):
        raise TypeError(f"metrics must be a dict of metric key -> dict, got "
                        f"{type(metrics).__name__}")
    out: dict[str, dict[str, str]] = {}
    for key, spec in metrics.items():
        check_key(key, "metrics key")
        if not isinstance(spec, Mapping):
            raise TypeError(f"metrics[{key!r}] must be a dict, got {type(spec).__name__}")
        clean: dict[str, str] = {}
        for field, value in spec.items():
            if field not in _SPEC_FIELDS:
                raise ValueError(f"metrics[{key!r}]: unknown field {field!r} (known: "
                                 f"{', '.join(_SPEC_FIELDS)})")
            allowed = _SPEC_FIELDS[field]
            if not isinstance(value, str) or (allowed is not None and value not in allowed):
                wanted = " or ".join(repr(a) for a in allowed) if allowed else "a str"
                raise ValueError(f"metrics[{key!r}][{field!r}] must be {wanted}, got {value!r}")
            clean[field] = value
        out[key] = clean
    return out


def _writer_id() -> str:
    pid = os.getpid()
    if not _writer or not _writer[0].startswith(f"{pid}-"):
        _writer[:] = [new_writer_id()]
    return _writer[0]


def _write_experiment_settings(store: Store, name: str) -> None:
    settings = _experiment_settings.get(name)
    if not settings or _written_settings.get((str(store.root), name)) == settings:
        return
    key = str(store.root)
    file = _experiment_files.get(key)
    if file is None or file.closed:
        file = _experiment_files[key] = EventFile(store.storage, EXPERIMENTS, _writer_id())
    file.add({"type": events.EXPERIMENT, "time": time.time(), "name": name, **settings})
    file.flush()
    _written_settings[(key, name)] = dict(settings)


# runs ------------------------------------------------------------------------------
def start_run(run_id: str | None = None, name: str | None = None,
              tags: Mapping[str, Any] | None = None, *, experiment: str | None = None,
              nested: bool = False, parent_run_id: str | None = None,
              capture: bool | None = None, description: str | None = None,
              run_name: str | None = None) -> ActiveRun:
    """Start a new run, or resume run ``run_id`` (possibly started by another process).

    Args:
        run_id: resume this existing run instead of starting a new one.
        name: the run's name (default: a readable random name). ``run_name`` is an alias.
        tags: tags to set at the start.
        experiment: the experiment (default: the one set by set_experiment, else "Default").
        nested: start a child of the active run instead of refusing.
        parent_run_id: the parent run's id (default: the active run when nested).
        capture: capture source, git, user, host, packages (default: on unless
            ``$TRACKREPORT_CAPTURE=0``).
        description: a markdown note for the run.

    Returns the ActiveRun, a context manager. Writes ``run.start`` (or
    ``run.resume``) to the run's own events file of this process.
    """
    name = name if name is not None else run_name
    with _lock:
        if _stack and not nested:
            raise TrackreportError(
                f"run {_stack[-1].id} ({_stack[-1].name!r}) is already active; end it first "
                "or pass nested=True"
            )
        if name is not None:
            check_key(name, "run name")
        if tags is not None and not isinstance(tags, Mapping):
            raise TypeError(f"tags must be a mapping, got {type(tags).__name__}")
        for key, value in (tags or {}).items():
            check_key(key, "tag key")
            if isinstance(value, str):
                check_text(value, f"tag {key!r}")
        if description is not None:
            if not isinstance(description, str):
                raise TypeError(f"description must be a str, got {type(description).__name__}")
            check_text(description, "description")
        if nested and parent_run_id is None and _stack:
            parent_run_id = _stack[-1].id
        if parent_run_id is not None:
            _check_parent_run_id(parent_run_id)
        if run_id is not None:
            check_run_id(run_id)
        env.check_flush_seconds()
        store = get_store()
        store.ensure()
        if run_id is not None:
            run = _resume(store, run_id)
        else:
            exp = experiment if experiment is not None else _experiment
            check_key(exp, "experiment name")
            _write_experiment_settings(store, exp)
            run = _new_run(store, exp, name or random_name(), parent_run_id, capture)
        run.flush()  # the run is visible to readers (and survives a crash) from its start
        _stack.append(run)
        _runs.add(run)
        run._on_end.append(_pop)
        _install_signal_handler()
    if tags:
        run.set_tags(tags)
    if description:
        run.note(description)
    return run


def _check_parent_run_id(parent_run_id: object) -> None:
    if not isinstance(parent_run_id, str):
        raise TypeError("parent_run_id must be a run id (a str), got "
                        f"{type(parent_run_id).__name__} {parent_run_id!r}")
    try:
        check_run_id(parent_run_id)
    except RunNotFoundError:
        raise InvalidValueError(f"parent_run_id {parent_run_id!r} is not a valid run id") from None


def _new_run(store: Store, experiment: str, name: str, parent_run_id: str | None,
             capture: bool | None) -> ActiveRun:
    run_id = new_run_id()
    file = _run_file(store, run_id)
    run = ActiveRun(store, run_id, name, experiment, file, parent_run_id)
    context: dict[str, Any] = {}
    source_event = None
    started = time.time()
    if capture if capture is not None else env.capture_enabled():
        from .context import capture_context, entry_point_source

        context = capture_context()
        source = entry_point_source()
        if source is not None:
            from . import artifacts

            try:
                source_event = artifacts.copy_file(store, run_id, source, "source")
                context["source"] = source_name(Path(source))
            except (OSError, TrackreportError) as exc:
                warnings.warn(f"could not copy the entry point {source.name}: {exc}",
                              stacklevel=3)
    if source_event is not None:
        source_event["time"] = max(source_event["time"], started)
    file.add({"type": events.RUN_START, "time": started, "run_id": run_id,
              "experiment": experiment, "name": name, "parent_run_id": parent_run_id,
              "context": context})
    if source_event is not None:
        file.add(source_event)
    return run


def _resume(store: Store, run_id: str) -> ActiveRun:
    check_run_id(run_id)
    if any(r.id == run_id for r in _stack):
        raise TrackreportError(f"run {run_id} is already active in this process")
    flush_all()
    record = read_run(store, run_id)
    file = _run_file(store, run_id)
    run = ActiveRun(store, run_id, record.name, record.experiment, file, record.parent_run_id)
    run._params.update(record.params)
    for key, series in record.metrics.items():
        if series.steps:
            run._next_step[key] = max(series.steps) + 1
        run._metric_keys.add(key)
    for artifact in record.artifacts:  # images continue after the other processes' steps
        image = artifact.image or {}
        key, step = image.get("key"), image.get("step")
        if isinstance(key, str) and type(step) is int and step >= 0:
            counter = image_counter(key)
            run._next_step[counter] = max(run._next_step.get(counter, 0), step + 1)
    file.add({"type": events.RUN_RESUME, "time": time.time(), "run_id": run_id})
    return run


def _run_file(store: Store, run_id: str) -> EventFile:
    """This process's events file of a run: one per process, reused when it resumes."""
    key = (str(store.root), run_id)
    file = _run_files.get(key)
    if file is None:
        file = _run_files[key] = EventFile(store.storage, store.run_dir(run_id), _writer_id())
    else:
        file.reopen()
    return file


def _pop(run: ActiveRun) -> None:
    with _lock:
        if run in _stack:
            _stack.remove(run)


def end_run(status: str = "FINISHED") -> None:
    """End the active run (FINISHED unless told otherwise) and flush it to disk."""
    if _stack:
        _stack[-1].end(status)


def active_run() -> ActiveRun | None:
    """The innermost active run of this process, or None."""
    return _stack[-1] if _stack else None


def _run() -> ActiveRun:
    if not _stack:
        raise NoActiveRunError("no active run: call trackreport.start_run() first")
    return _stack[-1]


# logging: thin wrappers over ActiveRun -------------------------------------------------
def log_param(key: str, value: Any) -> None:
    """Log a param of the active run."""
    _run().log_params({key: value})


def log_params(params: Mapping[str, Any]) -> None:
    """Log params of the active run."""
    _run().log_params(params)


def log_metric(key: str, value: Any, step: int | None = None) -> None:
    """Log a metric value of the active run (``step`` defaults to the key's next step)."""
    (_stack[-1] if _stack else _run()).log_metric(key, value, step)


def log_metrics(metrics: Mapping[str, Any], step: int | None = None) -> None:
    """Log several metric values of the active run."""
    _run().log_metrics(metrics, step)


def set_tag(key: str, value: Any) -> None:
    """Set a tag of the active run."""
    _run().set_tags({key: value})


def set_tags(tags: Mapping[str, Any]) -> None:
    """Set tags of the active run."""
    _run().set_tags(tags)


def note(markdown: str) -> None:
    """Add a markdown note to the active run."""
    _run().note(markdown)


def log_artifact(local_path: str | os.PathLike[str], artifact_path: str | None = None) -> None:
    """Copy a file into the active run's artifacts."""
    _run().log_artifact(local_path, artifact_path)


def log_artifacts(local_dir: str | os.PathLike[str], artifact_path: str | None = None) -> None:
    """Copy a folder into the active run's artifacts."""
    _run().log_artifacts(local_dir, artifact_path)


def log_text(text: str, artifact_file: str) -> None:
    """Save text as an artifact of the active run."""
    _run().log_text(text, artifact_file)


def log_dict(dictionary: Any, artifact_file: str) -> None:
    """Save a dict as JSON/YAML artifact of the active run."""
    _run().log_dict(dictionary, artifact_file)


def log_figure(figure: Any, artifact_file: str) -> None:
    """Save a matplotlib figure or altair chart as an artifact of the active run."""
    _run().log_figure(figure, artifact_file)


def log_image(image: Any, key: str, step: int | None = None) -> None:
    """Save an image (path, PIL, matplotlib figure, numpy array) under ``key`` at ``step``."""
    _run().log_image(image, key, step)


# models and the registry -----------------------------------------------------------------
def log_model(model: Any, path: str = "model", input_example: Any = None,
              flavor: str | None = None) -> Any:
    """Save a model with the active run (see ``ActiveRun.log_model``); returns a ModelInfo."""
    return _run().log_model(model, path, input_example=input_example, flavor=flavor)


def load_model(model_uri: str, *, trusted: list[str] | None = None,
               store: str | os.PathLike[str] | None = None) -> Any:
    """Load a model from ``runs:/<run_id>/<path>``, ``models:/name@alias``, ``models:/name/3``
    or ``models:/name/latest``.

    skops models: types from scikit-learn, numpy and scipy are trusted; any
    other type must be named in ``trusted`` (else UntrustedModelError naming
    them). joblib and pickle models: loading runs code stored in the file, so
    load only models from a store you trust. The ``files`` flavor returns the
    folder's ``pathlib.Path``. Raises ModelNotFoundError for an unknown run,
    model, version or alias.
    """
    from . import models, registry

    st = _read_store(store)
    if isinstance(model_uri, str) and model_uri.startswith("models:/"):
        version = registry.resolve_models_uri(st, model_uri)
        run_id, path = version.run_id, version.path
    else:
        run_id, path = models.parse_runs_uri(model_uri)
    return models.load_from_run(st, run_id, path, trusted)


def _registry_store(store: str | os.PathLike[str] | None) -> Store:
    flush_all()
    return Store(os.path.abspath(store)) if store is not None else get_store()


def register_model(model_uri: str, name: str, tags: Mapping[str, Any] | None = None,
                   description: str | None = None, *,
                   store: str | os.PathLike[str] | None = None) -> Any:
    """Register the model at ``runs:/<run_id>/<path>`` as the next version of ``name``.

    Returns the new ModelVersion; its number is the one every reader sees.
    """
    from . import models, registry

    st = _registry_store(store)
    run_id, path = models.parse_runs_uri(model_uri)
    return registry.register_model(st, run_id, path, name, tags, description)


def set_model_alias(name: str, alias: str, version: int | str, *,
                    store: str | os.PathLike[str] | None = None) -> None:
    """Point ``alias`` (e.g. ``champion``) of model ``name`` at ``version``."""
    from . import registry

    registry.set_model_alias(_registry_store(store), name, alias, version)


def delete_model_alias(name: str, alias: str, *,
                       store: str | os.PathLike[str] | None = None) -> None:
    """Remove ``alias`` from model ``name``."""
    from . import registry

    registry.delete_model_alias(_registry_store(store), name, alias)


def set_model_tag(name: str, key: str, value: Any, *,
                  store: str | os.PathLike[str] | None = None) -> None:
    """Set a tag on the registered model ``name``."""
    from . import registry

    registry.set_model_tag(_registry_store(store), name, key, value)


def set_registered_model_description(name: str, description: str, *,
                                     store: str | os.PathLike[str] | None = None) -> None:
    """Set the markdown description of the registered model ``name``."""
    from . import registry

    registry.set_description(_registry_store(store), name, description)


def get_model_version(name: str, version: int | str, *,
                      store: str | os.PathLike[str] | None = None) -> Any:
    """The ModelVersion ``version`` (a number or 'latest') of model ``name``."""
    from . import registry

    return registry.get_model_version(_read_store(store), name, version)


def list_models(*, store: str | os.PathLike[str] | None = None) -> list[Any]:
    """One RegisteredModel per registered name, sorted by name."""
    from . import registry

    return registry.list_models(_read_store(store))


# reading ---------------------------------------------------------------------------------
def _read_store(store: str | os.PathLike[str] | None) -> Store:
    flush_all()  # this process's own recent events are part of what it reads
    s = Store(absolute_location(store)) if store is not None else get_store()
    s.check_format()
    return s


def get_run(run_id: str, store: str | os.PathLike[str] | None = None) -> Run:
    """The Run record of ``run_id`` (RunNotFoundError when missing)."""
    return read_run(_read_store(store), run_id)


def load_runs(experiment: str | None = None, filter: str | None = None, *,
              store: str | os.PathLike[str] | None = None,
              metric_stats: tuple[str, ...] = ()) -> pd.DataFrame:
    """One row per run as a pandas DataFrame (see DESIGN.md section 1 for the columns).

    Args:
        experiment: only this experiment (None: every experiment).
        filter: MLflow search syntax plus OR, NOT and parentheses.
        store: the store folder (default: the store in use).
        metric_stats: add ``metrics_min.<key>`` and/or ``metrics_max.<key>`` columns
            for ``"min"``/``"max"``.
    """
    from .frames import runs_frame

    return runs_frame(_read_store(store), experiment=experiment, filter=filter,
                      metric_stats=metric_stats)


def load_metrics(run_ids: list[str] | None = None, keys: list[str] | None = None,
                 experiment: str | None = None, *,
                 store: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """One row per logged metric value: ``run_id, key, step, value, time``."""
    from .frames import metrics_frame

    return metrics_frame(_read_store(store), run_ids=run_ids, keys=keys, experiment=experiment)


# process exit, uncaught exceptions, SIGTERM --------------------------------------------
def _excepthook(exc_type: type[BaseException], exc: BaseException, tb: Any) -> None:
    _uncaught.append((exc_type, exc))
    _previous_excepthook(exc_type, exc, tb)


_previous_excepthook = sys.excepthook
sys.excepthook = _excepthook


def _end_all(status: str | None = None, error: str | None = None) -> None:
    """End this process's active runs (a forked child only flushes the ones it inherited)."""
    for run in list(reversed(_stack)):
        if status is None:
            st, err = outcome(*_uncaught[-1]) if _uncaught else ("FINISHED", None)
        else:
            st, err = status, error
        try:
            run.end(st, err)
        except Exception as exc:  # pragma: no cover - never fail at exit
            warnings.warn(f"could not end run {run.id}: {exc!r}", stacklevel=1)


def _at_exit() -> None:
    _end_all()


atexit.register(_at_exit)

_signal_installed = False


def _on_sigint(signum: int, frame: Any) -> None:
    if writer.defer_signal(lambda: _on_sigint(signum, None)):
        return
    signal.default_int_handler(signum, frame)


def _on_sigterm(signum: int, frame: Any) -> None:
    signal_guard.handler_started()
    if writer.defer_signal(lambda: _on_sigterm(signum, None)):
        return
    _end_all(KILLED, "SIGTERM")
    flush_all()  # also what was logged through kept handles of ended runs
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)


def _install_signal_handler() -> None:
    global _signal_installed
    if _signal_installed or threading.current_thread() is not threading.main_thread():
        return
    _signal_installed = True
    try:
        if signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
            signal.signal(signal.SIGTERM, _on_sigterm)
        if signal.getsignal(signal.SIGTERM) is _on_sigterm:
            signal_guard.install(_on_sigterm)
        if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            signal.signal(signal.SIGINT, _on_sigint)
    except (ValueError, OSError):  # pragma: no cover - not the main interpreter
        pass


# fork ----------------------------------------------------------------------------------
class _ForkToken:
    """Keeps multiprocessing's after-fork registration of this module alive."""


_mp_token = _ForkToken()
_mp_registered: list[bool] = []


def _before_fork() -> None:
    mp_util = sys.modules.get("multiprocessing.util")
    if mp_util is not None and not _mp_registered:
        _mp_registered.append(True)
        try:
            mp_util.register_after_fork(_mp_token, _mp_after_fork)
        except Exception as exc:  # pragma: no cover - the timer and SIGTERM still flush
            warnings.warn(f"trackreport cannot flush at multiprocessing exits: {exc!r}",
                          stacklevel=2)
    # SIGTERM/SIGINT wait (pending in the kernel) until the child is ready: a
    # signal that reached a child before Python's own after-fork reset would be
    # dropped there, and a Pool worker that terminate() stopped that early would
    # wait forever. The parent gets its signals as soon as the fork returns.
    _fork_state.mask = _block_signals()
    _lock.acquire()  # no other thread of the parent holds it while the process forks


def _after_fork_in_parent() -> None:
    _lock.release()
    _restore_signals()


_fork_state = threading.local()  # the signal mask of the thread that forks


def _block_signals() -> Any:
    if not hasattr(signal, "pthread_sigmask"):  # pragma: no cover - not POSIX
        return None
    return signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})


def _restore_signals() -> None:
    mask = getattr(_fork_state, "mask", None)
    _fork_state.mask = None
    if mask is not None:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)


def _mp_after_fork(token: object) -> None:
    """In a multiprocessing child: flush in its exit handlers, which run before ``os._exit``."""
    from multiprocessing import util

    util.Finalize(None, flush_all, exitpriority=0)


def _after_fork_in_child() -> None:
    """A forked child logs to its own files, never to its parent's, and never ends their runs."""
    try:
        _forget_parent_files()
        signal_guard.after_fork_in_child()
    finally:
        _restore_signals()  # a SIGTERM sent meanwhile is delivered now, to our handler


def _forget_parent_files() -> None:
    global _signal_installed, _lock
    _lock = threading.RLock()  # the parent's is held (by _before_fork)
    _writer.clear()
    _experiment_files.clear()
    _run_files.clear()
    _uncaught.clear()
    _signal_installed = False
    for run in list(_runs):  # first: a signal may arrive while the files are made
        if run.status == RUNNING:
            run._borrowed = True
    for run in list(_runs):
        file = _run_file(run.store, run.id)
        run._file = file
        run._queue = file.queue


if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=_before_fork, after_in_parent=_after_fork_in_parent,
                        after_in_child=_after_fork_in_child)
