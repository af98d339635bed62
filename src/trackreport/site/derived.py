"""Things every build makes the same way, kept between builds on this machine.

The chart bundle (vl-convert: seconds), the chart skeleton (altair's import and
schema: about a second) and the compiled templates depend only on installed
package versions and trackreport's own code, never on a store. They are kept
under ``<cache>/site/`` (``$TRACKREPORT_CACHE``, else ``~/.cache/trackreport``),
named by a digest of what they are made from, so any later build on the machine,
of any store into any folder, reuses them. A missing, torn or unwritable cache
only means making them again: the site is the same bytes either way.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..env import cache_dir

_FORMAT = "1"
_CHECK = b"\n#trackreport-derived "  # followed by the sha256 of the text before it


def folder() -> Path:
    """Where the derived files of this machine live (not created here)."""
    return Path(cache_dir()) / "site"


def source_digest(path: str | os.PathLike[str]) -> str:
    """The sha256 of a source file's bytes (a key part: edited code makes new files)."""
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return secrets.token_hex(16)  # unreadable: never matches, always made afresh


def package_version(name: str) -> str:
    """The installed version of distribution ``name`` ("" when it is not installed)."""
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return ""


def remembered(name: str, key: list[Any], make: Callable[[], str]) -> str:
    """The text ``make()`` returns, from this machine's cache when it has it for ``key``.

    ``key`` lists everything the text depends on (versions, source digests);
    ``name`` only makes the cache folder readable. The text is checked against
    its stored digest before use, and written atomically after ``make``.
    """
    digest = hashlib.sha256(repr([_FORMAT, name, *key]).encode("utf-8")).hexdigest()[:32]
    path = folder() / f"{name}-{digest}.txt"
    try:
        data = path.read_bytes()
    except OSError:
        data = b""
    text, sep, check = data.rpartition(_CHECK)
    if sep and check.decode("ascii", "replace") == hashlib.sha256(text).hexdigest():
        return text.decode("utf-8")
    made = make()
    data = made.encode("utf-8")
    _store(path, data + _CHECK + hashlib.sha256(data).hexdigest().encode("ascii"))
    return made


def _store(path: Path, data: bytes) -> None:
    """Write ``data`` at ``path`` whole or not at all (errors are ignored: it is a cache)."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "xb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except OSError:
        try:
            tmp.unlink()
        except OSError:
            pass


CODE_FORMAT = "2"
"""Part of each cached template's header: bump it when the environment's options that shape
compiled code change (2: ``finalize``), so that code compiled before is not used."""


def template_cache() -> Any:
    """A jinja2 bytecode cache in this machine's cache (None when it cannot be made).

    Like jinja2's own file cache, but it never unpickles: a file holds one
    header line (Python's bytecode magic, jinja2's version, ``CODE_FORMAT``,
    the template source's checksum) and the marshalled code, as a ``.pyc`` file does.
    """
    import importlib.util
    import marshal

    import jinja2

    where = folder() / "templates"
    try:
        where.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    if not os.access(where, os.W_OK):
        return None
    magic = importlib.util.MAGIC_NUMBER.hex()

    class TemplateCache(jinja2.BytecodeCache):
        def _header(self, bucket: Any) -> bytes:
            return (f"{magic} {jinja2.__version__} {CODE_FORMAT} {bucket.checksum}\n"
                    .encode("ascii"))

        def load_bytecode(self, bucket: Any) -> None:
            try:
                data = (where / f"{bucket.key}.code").read_bytes()
            except OSError:
                return
            header = self._header(bucket)
            if not data.startswith(header):
                return
            try:
                bucket.code = marshal.loads(data[len(header):])  # noqa: S302 - as a .pyc
            except (EOFError, ValueError, TypeError):
                bucket.reset()

        def dump_bytecode(self, bucket: Any) -> None:
            _store(where / f"{bucket.key}.code", self._header(bucket) + marshal.dumps(bucket.code))

    return TemplateCache()
