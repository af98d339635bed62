"""Models saved with a run: flavors, ``model.json``, and loading them back.

A model is a folder of a run's artifacts (``<path>/``) holding the model file
and ``model.json``: flavor, storage format, library versions, the Python
version, an input signature and example, and the files with sizes and hashes.
``model.json`` is written last, so its presence means the files are complete.

Flavors:

- ``sklearn``: scikit-learn estimators (and objects following its API), saved
  with skops when skops can save and load them back, with joblib otherwise
  (the format is recorded in ``model.json``);
- ``pickle``: any picklable Python object;
- ``files``: a folder of files the user already wrote.

Loading a joblib or pickle file runs code from that file: load only models
from stores you trust. skops files are loaded with skops' trusted-types check.
The heavy libraries (skops, joblib, numpy, scikit-learn) are imported only
inside the functions that need them.
"""

from __future__ import annotations

import io
import os
import pickle
import platform
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from . import artifacts, events
from .errors import (
    ModelFlavorError,
    ModelNotFoundError,
    RunNotFoundError,
    UntrustedModelError,
)
from .keys import check_artifact_path
from .store import Store, check_run_id

FLAVORS = ("sklearn", "pickle", "files")
MODEL_JSON = "model.json"
EXAMPLE_ROWS = 5
TRUSTED_MODULES = ("sklearn", "numpy", "scipy")
"""skops types from these top-level modules are trusted by default when loading."""

_DISTRIBUTIONS = {"sklearn": "scikit-learn", "skops": "skops", "numpy": "numpy",
                  "scipy": "scipy", "joblib": "joblib", "xgboost": "xgboost",
                  "lightgbm": "lightgbm", "catboost": "catboost"}


@dataclass
class ModelInfo:
    """What ``log_model`` saved: ``model_uri`` loads it back (``runs:/<run_id>/<path>``)."""

    model_uri: str
    run_id: str
    artifact_path: str
    flavor: str
    format: str


# saving ------------------------------------------------------------------------------
def guess_flavor(model: Any) -> str:
    """The flavor ``log_model`` uses for ``model`` when none is given."""
    if isinstance(model, (str, os.PathLike)) and Path(model).is_dir():
        return "files"
    module = type(model).__module__.split(".")[0]
    if module == "sklearn" or (hasattr(model, "get_params") and hasattr(model, "fit")):
        return "sklearn"
    return "pickle"


def save_model(store: Store, run_id: str, model: Any, path: str = "model",
               input_example: Any = None, flavor: str | None = None, *,
               formats: tuple[str, ...] = ("skops", "joblib")) -> list[dict[str, Any]]:
    """Save ``model`` under the run's ``<path>/``; returns the events to log (artifacts, model).

    ``formats``: the storage formats a scikit-learn model may take, tried in order
    (``skops``, ``joblib``, ``pickle``).

    Raises:
        ModelFlavorError: unknown flavor, or an object no flavor can save.
        InvalidKeyError: ``path`` escapes the run folder.
    """
    path = check_artifact_path(path, "model path")
    if flavor is None:
        flavor = guess_flavor(model)
    if flavor not in FLAVORS:
        raise ModelFlavorError(f"unknown model flavor {flavor!r}; flavors are: "
                               + ", ".join(FLAVORS))
    signature, example = describe_input(input_example)
    out: list[dict[str, Any]] = []
    libraries: dict[str, str] = {}
    info: dict[str, Any] = {}
    if flavor == "files":
        folder = Path(model) if isinstance(model, (str, os.PathLike)) else None
        if folder is None or not folder.is_dir():
            raise ModelFlavorError(f"flavor 'files' needs a folder path, got "
                                   f"{type(model).__name__} {str(model)[:60]!r}")
        out += artifacts.copy_folder(store, run_id, folder, path)
        fmt = "files"
    else:
        data, fmt, info = _serialize(model, flavor, formats)
        name = {"skops": "model.skops", "joblib": "model.joblib", "pickle": "model.pkl"}[fmt]
        out.append(artifacts.put_bytes(store, run_id, data, f"{path}/{name}",
                                       "application/octet-stream"))
        libraries = _libraries(model, fmt)
        info["model_file"] = name
        info["model_class"] = f"{type(model).__module__}.{type(model).__qualname__}"
    files = [{"path": e["path"][len(path) + 1:], "size": e["size"], "sha256": e["sha256"]}
             for e in out]
    meta = {
        "flavor": flavor, "format": fmt, **info,
        "libraries": libraries,
        "python_version": platform.python_version(),
        "signature": signature, "input_example": example,
        "files": files, "run_id": run_id, "artifact_path": path,
        "saved": time.time(),
    }
    data = orjson.dumps(events.jsonable(meta), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
    out.append(artifacts.put_bytes(store, run_id, data + b"\n", f"{path}/{MODEL_JSON}"))
    model_event = {"type": events.MODEL, "time": time.time(), "path": path, "flavor": flavor,
                   "format": fmt, "signature": signature,
                   "model_class": info.get("model_class"),
                   "size": sum(f["size"] for f in files)}
    out.append(model_event)
    return out


def _serialize(model: Any, flavor: str, formats: tuple[str, ...] = ("skops", "joblib")
               ) -> tuple[bytes, str, dict[str, Any]]:
    """(bytes, format, extra model.json fields) of a model of flavor sklearn or pickle."""
    if flavor == "sklearn":
        sio = None
        if "skops" in formats:
            try:
                import skops.io as sio
            except ImportError:
                sio = None
        refused = ""
        if sio is not None:
            try:
                data = sio.dumps(model)
                untrusted = sio.get_untrusted_types(data=data)
                sio.loads(data, trusted=untrusted)  # it must load back
            except Exception as exc:  # skops refuses some types: fall back to joblib
                refused = f"{type(exc).__name__}: {exc}"[:300]
            else:
                return data, "skops", {"untrusted_types": sorted(untrusted)}
        if "joblib" not in formats:
            return _pickle(model, {"skops_refused": refused} if sio is not None else {})
        import joblib

        buf = io.BytesIO()
        try:
            joblib.dump(model, buf)
        except Exception as exc:
            raise _no_flavor(model, exc) from None
        info = {"skops_refused": refused} if sio is not None else {}
        return buf.getvalue(), "joblib", info
    return _pickle(model, {})


def _pickle(model: Any, info: dict[str, Any]) -> tuple[bytes, str, dict[str, Any]]:
    try:
        return pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL), "pickle", info
    except Exception as exc:
        raise _no_flavor(model, exc) from None


def _no_flavor(model: Any, exc: Exception) -> ModelFlavorError:
    return ModelFlavorError(
        f"cannot save a {type(model).__module__}.{type(model).__qualname__} as a model "
        f"({type(exc).__name__}: {exc}); flavors are: sklearn (scikit-learn API), pickle "
        "(any picklable object), files (a folder you wrote: flavor='files')")


def _libraries(model: Any, fmt: str) -> dict[str, str]:
    import importlib.metadata  # 50 ms: not on the `import trackreport` path

    wanted = [type(model).__module__.split(".")[0], "numpy"]
    if fmt in ("skops", "joblib"):
        wanted += ["sklearn", "scipy", fmt]
    out = {}
    for module in wanted:
        dist = _DISTRIBUTIONS.get(module, module)
        try:
            out[dist] = importlib.metadata.version(dist)
        except (importlib.metadata.PackageNotFoundError, ValueError):
            continue
    return dict(sorted(out.items()))


def describe_input(example: Any) -> tuple[dict[str, Any] | None, Any]:
    """(signature, stored example) of an input example (DataFrame, array, list or mapping)."""
    if example is None:
        return None, None
    kind = type(example)
    if kind.__module__.split(".")[0] == "pandas" and hasattr(example, "dtypes"):
        head = example.head(EXAMPLE_ROWS)
        columns = [{"name": str(c), "dtype": str(d)} for c, d in example.dtypes.items()]
        return ({"type": "dataframe", "columns": columns},
                {"columns": [str(c) for c in head.columns],
                 "data": events.jsonable(head.to_numpy(dtype=object).tolist())})
    import numpy as np

    if isinstance(example, Mapping):
        columns = [{"name": str(k), "dtype": str(np.asarray(v).dtype)}
                   for k, v in example.items()]
        return {"type": "dataframe", "columns": columns}, events.jsonable(
            {str(k): np.asarray(v)[:EXAMPLE_ROWS].tolist() for k, v in example.items()})
    if isinstance(example, (Sequence, np.ndarray)) and not isinstance(example, (str, bytes)):
        array = np.asarray(example)
        shape = [-1, *array.shape[1:]] if array.ndim else []
        return ({"type": "array", "shape": shape, "dtype": str(array.dtype)},
                events.jsonable(array[:EXAMPLE_ROWS].tolist() if array.ndim else array.item()))
    raise TypeError(f"input_example must be a DataFrame, array, list or mapping, got "
                    f"{kind.__name__}")


# loading -----------------------------------------------------------------------------
def parse_runs_uri(uri: str) -> tuple[str, str]:
    """(run_id, path) of ``runs:/<run_id>/<path>``; ModelNotFoundError when malformed."""
    if not isinstance(uri, str) or not uri.startswith("runs:/"):
        raise ModelNotFoundError(f"{uri!r} is not a runs:/<run_id>/<path> URI")
    run_id, _, path = uri[len("runs:/"):].strip("/").partition("/")
    try:
        check_run_id(run_id)
    except RunNotFoundError:
        raise ModelNotFoundError(f"{uri!r}: {run_id!r} is not a valid run id") from None
    try:
        path = check_artifact_path(path or "model", "model path")
    except ValueError as exc:
        raise ModelNotFoundError(f"{uri!r}: {exc}") from None
    return run_id, path


def imported_run_id(store: Store, run_id: str) -> str:
    """``run_id``, or the run imported from another tracker's run of that id (MLflow's)."""
    if store.storage.exists(store.run_dir(run_id)):
        return run_id
    from .reader import iter_runs

    for run in iter_runs(store, metrics=False):
        if run.imported_from and run.imported_from.get("run_id") == run_id:
            return run.run_id
    return run_id


def read_model_json(store: Store, run_id: str, path: str) -> dict[str, Any]:
    """The ``model.json`` of the model at ``runs:/<run_id>/<path>`` (never loads the model)."""
    if not store.storage.exists(store.run_dir(run_id)):
        raise ModelNotFoundError(f"no run {run_id!r} in the store at {store.root}")
    try:
        data = store.storage.read_bytes(store.artifact_path(run_id, f"{path}/{MODEL_JSON}"))
    except (FileNotFoundError, NotADirectoryError):
        raise ModelNotFoundError(
            f"run {run_id} has no model at {path!r} (no {path}/{MODEL_JSON})") from None
    meta = orjson.loads(data)
    if not isinstance(meta, dict):
        raise ModelNotFoundError(f"run {run_id}: {path}/{MODEL_JSON} is not a JSON object")
    return meta


def load_from_run(store: Store, run_id: str, path: str,
                  trusted: Sequence[str] | None = None) -> Any:
    """Load the model saved at ``runs:/<run_id>/<path>`` (see ``load_model``).

    ``run_id`` may be the id of an imported MLflow run.
    """
    run_id = imported_run_id(store, run_id)
    meta = read_model_json(store, run_id, path)
    folder = store.artifact_path(run_id, path)
    fmt = meta.get("format")
    if fmt == "files" or meta.get("flavor") == "files":
        return store.storage.local_path(folder)
    name = meta.get("model_file")
    if fmt not in ("skops", "joblib", "pickle") or not isinstance(name, str) or "/" in name:
        raise ModelNotFoundError(f"run {run_id}: {path}/{MODEL_JSON} names an unknown format "
                                 f"{fmt!r}; this trackreport reads skops, joblib, pickle, files")
    try:
        data = store.storage.read_bytes(f"{folder}/{name}")
    except FileNotFoundError:
        raise ModelNotFoundError(f"run {run_id}: model file {path}/{name} is missing") from None
    if fmt == "skops":
        return _load_skops(data, trusted, f"runs:/{run_id}/{path}")
    if fmt == "joblib":
        import joblib

        return joblib.load(io.BytesIO(data))  # runs code from the file: trusted stores only
    return pickle.loads(data)  # noqa: S301 - documented: loading a pickle runs its code


def _load_skops(data: bytes, trusted: Sequence[str] | None, uri: str) -> Any:
    try:
        import skops.io as sio
    except ImportError:
        raise UntrustedModelError(f"{uri} was saved with skops: pip install "
                                  "'trackreport[skops]' to load it") from None
    untrusted = sio.get_untrusted_types(data=data)
    allowed = set(trusted or ())
    missing = [t for t in untrusted
               if t not in allowed and t.split(".")[0] not in TRUSTED_MODULES]
    if missing:
        raise UntrustedModelError(
            f"{uri} holds types that are not trusted: {', '.join(sorted(missing))}; "
            f"if you trust this model, pass trusted={sorted(missing)!r}")
    return sio.loads(data, trusted=list(untrusted))
