"""Copy files, folders, text, dicts and figures into a run's artifacts."""

from __future__ import annotations

import hashlib
import io
import json
import mimetypes
import os
import re
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from . import events
from .errors import ArtifactError
from .keys import check_artifact_path
from .storage import PathConflictError
from .store import Store

VEGALITE_MEDIA_TYPE = "application/vnd.vegalite.v5+json"

_EXTRA_TYPES = {
    ".md": "text/markdown",
    ".markdown": "text/markdown",
    ".jsonl": "application/jsonl",
    ".ndjson": "application/jsonl",
    ".yaml": "application/yaml",
    ".yml": "application/yaml",
    ".toml": "application/toml",
    ".csv": "text/csv",
    ".tsv": "text/tab-separated-values",
    ".log": "text/plain",
    ".py": "text/x-python",
    ".ipynb": "application/x-ipynb+json",
    ".parquet": "application/vnd.apache.parquet",
    ".svg": "image/svg+xml",
    ".webp": "image/webp",
}


class ArtifactWarning(UserWarning):
    """Something in a logged folder was skipped (a symlink leading outside it, ...)."""


def media_type(path: str) -> str:
    """The media type of an artifact path, by its name."""
    lower = path.lower()
    if lower.endswith((".vl.json", ".vega-lite.json", ".vegalite.json")):
        return VEGALITE_MEDIA_TYPE
    suffix = os.path.splitext(lower)[1]
    if suffix in _EXTRA_TYPES:
        return _EXTRA_TYPES[suffix]
    guessed, _ = mimetypes.guess_type(lower, strict=False)
    return guessed or "application/octet-stream"


def _event(path: str, size: int, sha256: str, kind: str | None = None) -> dict[str, Any]:
    return {
        "type": events.ARTIFACT,
        "time": time.time(),
        "path": path,
        "size": size,
        "sha256": sha256,
        "media_type": kind or media_type(path),
    }


def _join(artifact_path: str | None, name: str) -> str:
    base = check_artifact_path(artifact_path) if artifact_path else ""
    return check_artifact_path(f"{base}/{name}" if base else name)


def copy_file(store: Store, run_id: str, local: str | os.PathLike[str],
              artifact_path: str | None = None) -> dict[str, Any]:
    """Copy one local file into the run; returns its artifact event."""
    src = Path(local)
    if not src.is_file():
        raise ArtifactError(f"artifact {str(local)!r} is not a file")
    rel = _join(artifact_path, src.name)
    with _clash(store, run_id):
        size, digest = store.storage.put_file(src, store.artifact_path(run_id, rel))
    return _event(rel, size, digest)


class _clash:
    """Turn a file/folder clash in the store into an ArtifactError naming both artifacts."""

    def __init__(self, store: Store, run_id: str) -> None:
        self.prefix = store.artifact_path(run_id, "")

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: object) -> None:
        if isinstance(exc, PathConflictError):
            rel, other = (p.removeprefix(self.prefix) for p in (exc.rel, exc.other))
            raise ArtifactError(
                f"artifact {rel!r} clashes with artifact {other!r}: one name cannot be "
                "both a file and a folder"
            ) from None


def copy_folder(store: Store, run_id: str, local: str | os.PathLike[str],
                artifact_path: str | None = None) -> list[dict[str, Any]]:
    """Copy a folder's files into the run; symlinks leading outside it are skipped."""
    root = Path(local)
    if not root.is_dir():
        raise ArtifactError(f"artifact folder {str(local)!r} is not a folder")
    real_root = root.resolve()
    real_store = store.root.resolve()
    base = check_artifact_path(artifact_path) if artifact_path else ""
    plan: list[tuple[Path, str]] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        here = Path(dirpath)
        # the store itself (``log_artifacts(".")`` with ./trackruns) is never copied into itself
        dirnames[:] = sorted(d for d in dirnames if _resolved(here / d) != real_store)
        for name in [*sorted(filenames), *[d for d in dirnames if (here / d).is_symlink()]]:
            path = here / name
            try:
                real = path.resolve(strict=path.is_symlink())
            except (OSError, RuntimeError) as exc:  # a symlink loop or a dangling link
                warnings.warn(f"skipped {path}: a symlink that cannot be followed ({exc})",
                              ArtifactWarning, stacklevel=3)
                continue
            if path.is_symlink() and real != real_root and real_root not in real.parents:
                warnings.warn(f"skipped {path}: a symlink leading outside {root}",
                              ArtifactWarning, stacklevel=3)
                continue
            if not real.is_file():
                continue
            rel = path.relative_to(root).as_posix()
            plan.append((path, check_artifact_path(f"{base}/{rel}" if base else rel)))
    out = []
    with _clash(store, run_id):
        for path, rel in plan:
            size, digest = store.storage.put_file(path, store.artifact_path(run_id, rel))
            out.append(_event(rel, size, digest))
    return out


def _resolved(path: Path) -> Path | None:
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # a symlink loop
        return None


def put_bytes(store: Store, run_id: str, data: bytes, artifact_file: str,
              kind: str | None = None) -> dict[str, Any]:
    """Write bytes as an artifact; returns its artifact event."""
    rel = check_artifact_path(artifact_file, "artifact file")
    with _clash(store, run_id):
        size, digest = store.storage.put_bytes(store.artifact_path(run_id, rel), data)
    return _event(rel, size, digest, kind)


def put_new_bytes(store: Store, run_id: str, data: bytes, names: Iterator[str],
                  kind: str | None = None) -> dict[str, Any]:
    """Write bytes as an artifact under the first of ``names`` that does not exist yet."""
    for name in names:
        rel = check_artifact_path(name, "artifact file")
        try:
            with _clash(store, run_id):
                size, digest = store.storage.put_bytes(store.artifact_path(run_id, rel), data,
                                                       new=True)
        except FileExistsError:
            continue
        return _event(rel, size, digest, kind)
    raise ArtifactError("no free artifact name")  # pragma: no cover - names are endless


def text_bytes(text: str, artifact_file: str = "text") -> bytes:
    """UTF-8 bytes of a text artifact (TypeError for non-strings)."""
    if not isinstance(text, str):
        raise TypeError(f"log_text needs a str, got {type(text).__name__}")
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ArtifactError(
            f"text for {artifact_file!r} contains a lone surrogate at position {exc.start} "
            "(not valid UTF-8)"
        ) from None


def dict_bytes(data: Any, artifact_file: str) -> bytes:
    """A dict serialised as JSON, or YAML when the file name ends .yaml/.yml."""
    lower = artifact_file.lower()
    if lower.endswith((".yaml", ".yml")):
        try:
            import yaml
        except ImportError:
            raise ArtifactError(
                f"{artifact_file!r}: writing YAML needs PyYAML (pip install pyyaml); "
                "or use a .json file name"
            ) from None
        try:
            return yaml.safe_dump(events.jsonable(data), sort_keys=False).encode("utf-8")
        except events.UnstorableValueError as exc:
            raise ArtifactError(f"dict for {artifact_file!r} {exc}") from None
    try:
        plain = events.jsonable(data)
    except events.UnstorableValueError as exc:
        if "64-bit" not in str(exc):
            raise ArtifactError(f"dict for {artifact_file!r} {exc}") from None
        plain = data  # integers beyond 64 bits: Python's json writes them exactly
    try:
        return json.dumps(plain, default=events.json_default, indent=2, ensure_ascii=False,
                          allow_nan=True).encode("utf-8") + b"\n"
    except UnicodeEncodeError:
        raise ArtifactError(
            f"dict for {artifact_file!r} contains a lone surrogate (not valid UTF-8)"
        ) from None
    except RecursionError:
        raise ArtifactError(f"dict for {artifact_file!r} is nested too deeply") from None
    except (TypeError, ValueError) as exc:
        raise ArtifactError(f"dict for {artifact_file!r} cannot be stored as JSON: {exc}") from None


def figure_bytes(figure: Any, artifact_file: str) -> tuple[bytes, str | None]:
    """Render a matplotlib figure or an altair chart for ``artifact_file``.

    matplotlib figures are saved with ``savefig`` in the format the file name
    says. altair charts are saved as their Vega-Lite spec (``.json``), or
    rendered through vl-convert for ``.png``/``.svg``.
    """
    lower = artifact_file.lower()
    ext = os.path.splitext(lower)[1].lstrip(".")
    if hasattr(figure, "savefig"):
        canvas = getattr(figure, "canvas", None)
        supported = canvas.get_supported_filetypes() if canvas is not None else {}
        if supported and (ext or "png") not in supported:
            raise ArtifactError(
                f"{artifact_file!r}: matplotlib cannot save .{ext}; use one of "
                + ", ".join("." + k for k in sorted(supported))
            )
        buf = io.BytesIO()
        figure.savefig(buf, format=ext or "png", bbox_inches="tight")
        return buf.getvalue(), None
    if hasattr(figure, "to_dict") and type(figure).__module__.startswith("altair"):
        spec = figure.to_dict()
        if ext in ("png", "svg"):
            import vl_convert as vlc

            if ext == "png":
                return vlc.vegalite_to_png(spec), None
            return vlc.vegalite_to_svg(spec).encode("utf-8"), None
        if ext != "json":
            raise ArtifactError(
                f"{artifact_file!r}: an altair chart is saved as .json (its Vega-Lite spec), "
                ".png or .svg"
            )
        data = json.dumps(spec, indent=1, sort_keys=True).encode("utf-8")
        return data, VEGALITE_MEDIA_TYPE
    raise TypeError(
        f"log_figure takes a matplotlib figure or an altair chart, got {type(figure).__name__}"
    )


_CLEAN_FOLDER = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_HASHED_FOLDER = re.compile(r".*-[0-9a-f]{8}")
_UNSAFE = re.compile(r"[^a-z0-9_-]+")


def image_folder(key: str) -> str:
    """The folder of an image key under ``images/``: distinct keys, distinct folders.

    A clean key (lowercase ASCII letters, digits, ``_``, ``-``) is its own
    folder name; any other key gets a readable slug plus ``-`` and 8 hex
    digits of its SHA-256, so ``val/sample``, ``val_sample`` and ``Val_Sample``
    never share a folder (also on case-insensitive file systems). A clean key
    that itself ends like a hash suffix is hashed too, so the mapping is
    one-to-one. The same key gives the same folder in every process.
    """
    if _CLEAN_FOLDER.fullmatch(key) and not _HASHED_FOLDER.fullmatch(key):
        return key
    slug = _UNSAFE.sub("_", key.lower()).strip("_-")[:48].rstrip("_-") or "image"
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{slug}-{digest}"


def image_bytes(image: Any) -> tuple[bytes, str]:
    """PNG (or the file's own) bytes of an image and its file extension.

    Takes a path, a PIL image, a matplotlib figure, or a numpy array (H x W,
    H x W x 3 or H x W x 4; floats are taken as 0..1, integers as 0..255).
    """
    if isinstance(image, (str, os.PathLike)):
        path = Path(image)
        if not path.is_file():
            raise ArtifactError(f"image {str(image)!r} is not a file")
        return path.read_bytes(), path.suffix.lstrip(".").lower() or "png"
    if hasattr(image, "savefig"):
        buf = io.BytesIO()
        image.savefig(buf, format="png", bbox_inches="tight")
        return buf.getvalue(), "png"
    if hasattr(image, "save") and hasattr(image, "mode"):  # PIL
        buf = io.BytesIO()
        image.save(buf, format="PNG")
        return buf.getvalue(), "png"
    if hasattr(image, "shape") and hasattr(image, "dtype"):
        import numpy as np

        arr = np.asarray(image)
        if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (1, 3, 4)):
            raise ArtifactError(f"image array has shape {arr.shape}; expected HxW, HxWx3 or HxWx4")
        if arr.ndim == 3 and arr.shape[2] == 1:
            arr = arr[:, :, 0]
        if arr.dtype.kind == "f":
            arr = (np.clip(np.nan_to_num(arr), 0.0, 1.0) * 255).round().astype(np.uint8)
        elif arr.dtype != np.uint8:
            arr = np.clip(arr, 0, 255).astype(np.uint8)
        try:
            from PIL import Image
        except ImportError:
            from matplotlib import image as mpimg

            buf = io.BytesIO()
            mpimg.imsave(buf, arr, format="png", cmap="gray" if arr.ndim == 2 else None)
            return buf.getvalue(), "png"
        buf = io.BytesIO()
        Image.fromarray(arr).save(buf, format="PNG")
        return buf.getvalue(), "png"
    raise TypeError(
        "log_image takes a path, a PIL image, a matplotlib figure or a numpy array, "
        f"got {type(image).__name__}"
    )

