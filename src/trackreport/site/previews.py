"""Artifacts on the run page: the file tree, copies in the site, and previews.

Files are read through the store's storage, which never follows a symbolic
link out of the store (such an artifact is listed, not copied, with a warning).
Only files whose extension is known to be inert (images but SVG, tables, text,
JSON, markdown, array and model files, PDF, archives: ``INERT_EXTENSIONS``)
keep their name in the site; every other file, HTML, SVG, XML and scripts
included, is stored with an added ``.txt`` suffix, so a browser never renders
it as a document of the site's origin or from ``file://``. HTML is previewed
only in a sandboxed ``<iframe srcdoc>`` and SVG only as an ``<img>`` with a
``data:`` URI. Full Vega specs (not Vega-Lite) are shown as code, not drawn.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import posixpath
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..records import ArtifactRecord
from ..storage import UnsafePathError, UnsafePathWarning
from ..store import Store
from . import format as fmt
from .notes import json_script, render_markdown
from .pages import Artifact, Chart, Preview
from .urls import file_segment, short_hash

VEGALITE = "application/vnd.vegalite.v5+json"
COPY_LIMIT = 50_000_000
"""Files larger than this are listed with their size but not copied into the site."""
IMAGE_LIMIT = 5_000_000
SVG_LIMIT = 500_000
HTML_LIMIT = 300_000
MARKDOWN_LIMIT = 200_000
CHART_LIMIT = 2_000_000
TEXT_BYTES = 32_000
TEXT_LINES = 60
SOURCE_BYTES = 200_000
SOURCE_LINES = 2_000
TABLE_ROWS = 20
TABLE_COLUMNS = 30

INERT_EXTENSIONS = frozenset({
    # images a browser only draws (not SVG, which is a document with script)
    "png", "jpg", "jpeg", "gif", "webp", "avif", "bmp", "ico",
    # tables, text, data
    "csv", "tsv", "txt", "log", "json", "jsonl", "md", "yaml", "yml",
    # Python source (the captured script): shown as text or downloaded, never run
    "py",
    "parquet", "npy", "npz", "arrow", "feather",
    # models
    "pkl", "joblib", "skops", "pt", "pth", "onnx", "safetensors", "h5", "ckpt",
    # PDF opens in the browser's own viewer, apart from the site's pages
    "pdf",
    # archives
    "zip", "gz", "tar",
})
"""Extensions of files copied into the site under their own name; others get ``.txt``."""
RENAMED_SUFFIX = ".txt"

_IMAGES = {"image/png", "image/jpeg", "image/gif", "image/webp", "image/avif", "image/bmp"}
_IMAGE_EXT = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".avif", ".bmp")
_DANGEROUS_EXT = (
    ".html", ".htm", ".xhtml", ".xht", ".shtml", ".svg", ".svgz", ".xml", ".xsl", ".xslt",
    ".mht", ".mhtml", ".js", ".mjs", ".wasm",
)
_DANGEROUS_TYPES = (
    "text/html", "application/xhtml+xml", "image/svg+xml", "application/xml", "text/xml",
    "text/xsl", "text/javascript", "application/javascript", "application/wasm",
)
_TEXT_TYPES = {
    "application/json", "application/jsonl", "application/yaml", "application/toml",
    "application/x-yaml", "application/x-ipynb+json", "application/x-sh",
    "application/x-python-code", "application/sql",
}
_TEXT_EXT = (
    ".txt", ".log", ".json", ".jsonl", ".ndjson", ".yaml", ".yml", ".toml", ".ini", ".cfg",
    ".conf", ".py", ".r", ".sh", ".sql", ".js", ".ts", ".c", ".h", ".cpp", ".java", ".go",
    ".rs", ".rb", ".jl", ".scala", ".kt", ".ipynb", ".md", ".rst", ".tex", ".env.example",
)


@dataclass
class ArtifactFile:
    """Where one artifact lives in the store and in the site."""

    record: ArtifactRecord
    store_path: str
    site_path: str
    """Path relative to the site root ('' when the file is not copied)."""
    download_name: str
    dangerous: bool


def is_dangerous(path: str, media_type: str) -> bool:
    """True for files a browser could render as a document with script (HTML, SVG, XML...)."""
    lower = path.lower()
    kind = media_type.lower().split(";")[0].strip()
    return (lower.endswith(_DANGEROUS_EXT) or kind in _DANGEROUS_TYPES
            or kind.endswith("+xml"))


def is_image(path: str, media_type: str) -> bool:
    """True for a raster image a browser draws (PNG, JPEG, GIF, WebP, AVIF, BMP; not SVG)."""
    kind = media_type.lower().split(";")[0].strip()
    return kind in _IMAGES or path.lower().endswith(_IMAGE_EXT)


def extension(path: str) -> str:
    """The lowercased extension of the last segment of ``path`` ('' when none)."""
    name = posixpath.basename(path)
    stem, dot, ext = name.rpartition(".")
    return ext.lower() if dot and stem else ""


def keeps_name(path: str, media_type: str) -> bool:
    """True when the artifact is copied under its own name (an inert extension and type)."""
    return extension(path) in INERT_EXTENSIONS and not is_dangerous(path, media_type)


def site_path_of(run_dir: str, artifact_path: str, media_type: str) -> tuple[str, str, bool]:
    """(site path, download name, dangerous) of an artifact of the run at ``run_dir``.

    A file that does not keep its name (see :func:`keeps_name`) gets ``.txt``
    added. Names that collide with another artifact's are made distinct by
    :func:`site_paths`.
    """
    segments = [file_segment(s) for s in artifact_path.split("/")]
    dangerous = is_dangerous(artifact_path, media_type)
    name = posixpath.basename(artifact_path)
    if not keeps_name(artifact_path, media_type):
        segments[-1] += RENAMED_SUFFIX
        name += RENAMED_SUFFIX
    return posixpath.join(run_dir, "files", *segments), name, dangerous


def _disambiguated(site_path: str, artifact_path: str) -> str:
    """``site_path`` with a hash of the artifact path before its last extension."""
    folder, name = posixpath.split(site_path)
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        stem, ext = name, ""
    tag = short_hash(artifact_path, 12)
    return posixpath.join(folder, f"{stem}-{tag}.{ext}" if ext else f"{stem}-{tag}")


def site_paths(run_dir: str, records: Iterable[ArtifactRecord]
               ) -> dict[str, tuple[str, str, bool]]:
    """:func:`site_path_of` for every artifact of a run, with distinct site paths.

    When two artifacts would land on one site path (``report.html`` becomes
    ``report.html.txt``, next to a logged ``report.html.txt``), or a file on a
    folder of another, the file whose name was kept as logged keeps the path
    and the others get a hash of their artifact path added. The result depends
    on the set of paths only, not on their order; comparisons ignore case.
    """
    by_path = {r.path: r for r in records}
    planned = {p: site_path_of(run_dir, p, by_path[p].media_type) for p in sorted(by_path)}
    for _ in range(3):
        folders = {posixpath.dirname(site).lower()
                   for site, _, _ in planned.values()}
        folders = {f for folder in folders for f in _prefixes(folder)}
        owners: dict[str, list[str]] = {}
        for path, (site, _, _) in planned.items():
            owners.setdefault(site.lower(), []).append(path)
        clashes = False
        for site_lower, paths in owners.items():
            on_folder = site_lower in folders
            if len(paths) == 1 and not on_folder:
                continue
            clashes = True
            kept = sorted(paths, key=lambda p: (not _as_logged(planned[p][0], p), p))
            losers = paths if on_folder else kept[1:]
            for path in losers:
                site, name, dangerous = planned[path]
                planned[path] = (_disambiguated(site, path), name, dangerous)
        if not clashes:
            break
    return planned


def _prefixes(folder: str) -> list[str]:
    parts = folder.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]


def _as_logged(site_path: str, artifact_path: str) -> bool:
    return posixpath.basename(site_path) == posixpath.basename(artifact_path)


class ArtifactBuilder:
    """Copies a run's artifacts into the site and makes their tree with previews."""

    def __init__(self, store: Store, run_id: str, run_dir: str, page_path: str,
                 write: Callable[[str, bytes], None],
                 relative: Callable[[str, str], str],
                 chart_ids: Callable[[], str]) -> None:
        self.store = store
        self.run_id = run_id
        self.run_dir = run_dir
        self.page_path = page_path
        self.write = write
        self.relative = relative
        self.chart_ids = chart_ids
        self._paths: dict[str, tuple[str, str, bool]] = {}

    def plan(self, records: Iterable[ArtifactRecord]) -> None:
        """Choose the site paths of all the run's artifacts at once (distinct, stable)."""
        self._paths = site_paths(self.run_dir, records)

    # reading -----------------------------------------------------------------
    def _read(self, record: ArtifactRecord, limit: int | None = None) -> bytes | None:
        try:
            return self.store.storage.read_bytes(
                self.store.artifact_path(self.run_id, record.path), limit)
        except (OSError, ValueError):
            return None

    def copy(self, record: ArtifactRecord) -> tuple[str, str, bool, str]:
        """Copy one artifact into the site: (relative URL or '', download name, dangerous, note)."""
        site_path, name, dangerous = self._paths.get(record.path) or site_path_of(
            self.run_dir, record.path, record.media_type)
        if record.size > COPY_LIMIT:
            return "", name, dangerous, (
                f"Too large to include in the site ({fmt.size(record.size)}); "
                "it stays in the store.")
        rel = self.store.artifact_path(self.run_id, record.path)
        try:
            data: bytes | None = self.store.storage.read_bytes(rel)
        except UnsafePathError:
            warnings.warn(f"skipped {rel}: a symbolic link leading outside the store",
                          UnsafePathWarning, stacklevel=2)
            return "", name, dangerous, ("Not included: in the store it is a link to a "
                                         "file outside the store.")
        except (OSError, ValueError):
            data = None
        if data is None:
            return "", name, dangerous, "Missing from the store (or not a regular file)."
        self.write(site_path, data)
        note = ""
        if dangerous:
            note = "Saved with a .txt ending: the site never opens HTML, SVG or XML files."
        elif name.endswith(RENAMED_SUFFIX) and not record.path.endswith(RENAMED_SUFFIX):
            note = "Saved with a .txt ending: the site keeps only known file types as they are."
        return self.relative(site_path, self.page_path), name, dangerous, note

    # tree --------------------------------------------------------------------
    def tree(self, records: list[ArtifactRecord], skip: set[str] | None = None) -> list[Artifact]:
        """Folder and file rows, depth-first, folders before files, each level sorted."""
        self.plan(records)
        root: dict = {}
        for record in records:
            if skip and record.path in skip:
                continue
            node = root
            parts = record.path.split("/")
            for part in parts[:-1]:
                node = node.setdefault(("d", part), {})
            node[("f", parts[-1])] = record
        out: list[Artifact] = []

        def walk(node: dict, depth: int, prefix: str) -> None:
            for kind, name in sorted(node, key=lambda k: (k[0] != "d", k[1])):
                child = node[(kind, name)]
                path = f"{prefix}{name}"
                if kind == "d":
                    out.append(Artifact(path=path, name=name, depth=depth, is_dir=True,
                                        size="", media_type="", url="", download_name="",
                                        preview=None, note=""))
                    walk(child, depth + 1, path + "/")
                else:
                    out.append(self.entry(child, depth))

        walk(root, 0, "")
        return out

    def entry(self, record: ArtifactRecord, depth: int = 0, source: bool = False) -> Artifact:
        """One file row: copied into the site, with its preview."""
        url, name, dangerous, note = self.copy(record)
        preview = None
        if url or record.size <= COPY_LIMIT:
            preview = self.preview(record, url, dangerous, source=source)
        return Artifact(path=record.path, name=posixpath.basename(record.path), depth=depth,
                        is_dir=False, size=fmt.size(record.size), media_type=record.media_type,
                        url=url, download_name=name, preview=preview, note=note)

    # previews ----------------------------------------------------------------
    def preview(self, record: ArtifactRecord, url: str, dangerous: bool,
                source: bool = False) -> Preview | None:
        """The preview of one artifact, or None when it has none."""
        kind = record.media_type.lower().split(";")[0].strip()
        lower = record.path.lower()
        if kind == VEGALITE or lower.endswith((".vl.json", ".vega-lite.json")):
            return self._chart(record)
        if kind in ("text/html", "application/xhtml+xml") or lower.endswith(
                (".html", ".htm", ".xhtml")):
            return self._html(record)
        if kind == "image/svg+xml" or lower.endswith(".svg"):
            return self._svg(record)
        if dangerous:  # XML, scripts: shown as escaped text, never run
            return self._text(record, TEXT_BYTES, TEXT_LINES)
        if is_image(record.path, record.media_type):
            if not url:
                return None
            if record.size > IMAGE_LIMIT:
                return Preview(kind="none", note="Large image: download it to see it.")
            return Preview(kind="image", src=url)
        if kind in ("text/csv", "text/tab-separated-values") or lower.endswith((".csv", ".tsv")):
            return self._table(record, "\t" if (lower.endswith(".tsv") or "tab" in kind) else ",")
        if kind == "text/markdown" or lower.endswith((".md", ".markdown")):
            return self._markdown(record)
        if kind.startswith("text/") or kind in _TEXT_TYPES or lower.endswith(_TEXT_EXT):
            if source:
                return self._text(record, SOURCE_BYTES, SOURCE_LINES)
            return self._text(record, TEXT_BYTES, TEXT_LINES, pretty_json=kind == "application/json")
        return None

    def _decode(self, data: bytes) -> str | None:
        if b"\x00" in data[:8000]:
            return None
        return data.decode("utf-8", errors="replace")

    def _text(self, record: ArtifactRecord, limit: int, lines: int,
              pretty_json: bool = False) -> Preview | None:
        data = self._read(record, limit)
        if data is None:
            return None
        text = self._decode(data)
        if text is None:
            return Preview(kind="none", note="Binary file: download it to open it.")
        truncated = record.size > len(data)
        if pretty_json and not truncated:
            try:
                text = json.dumps(json.loads(text), indent=2, ensure_ascii=False,
                                  sort_keys=False)
            except ValueError:
                pass
        if truncated and "\n" in text:
            text = text[: text.rfind("\n")]
        split = text.split("\n")
        if len(split) > lines:
            split = split[:lines]
            truncated = True
        return Preview(kind="text", text="\n".join(split).rstrip("\n"), truncated=truncated)

    def _table(self, record: ArtifactRecord, delimiter: str) -> Preview | None:
        data = self._read(record, TEXT_BYTES)
        if data is None:
            return None
        text = self._decode(data)
        if text is None:
            return None
        truncated = record.size > len(data)
        if truncated and "\n" in text:
            text = text[: text.rfind("\n")]
        try:
            rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
        except csv.Error:
            return self._text(record, TEXT_BYTES, TEXT_LINES)
        rows = [r for r in rows if r]
        if not rows:
            return Preview(kind="none", note="Empty table.")
        header, body = rows[0][:TABLE_COLUMNS], [r[:TABLE_COLUMNS] for r in rows[1:]]
        if len(body) > TABLE_ROWS:
            body = body[:TABLE_ROWS]
            truncated = True
        if any(len(r) > TABLE_COLUMNS for r in rows):
            truncated = True
        width = max(len(header), *(len(r) for r in body)) if body else len(header)
        header = header + [""] * (width - len(header))
        body = [r + [""] * (width - len(r)) for r in body]
        return Preview(kind="table", header=header, rows=body, truncated=truncated)

    def _markdown(self, record: ArtifactRecord) -> Preview | None:
        if record.size > MARKDOWN_LIMIT:
            return self._text(record, TEXT_BYTES, TEXT_LINES)
        data = self._read(record, MARKDOWN_LIMIT)
        if data is None:
            return None
        return Preview(kind="markdown", html=render_markdown(data.decode("utf-8", "replace")))

    def _html(self, record: ArtifactRecord) -> Preview | None:
        if record.size > HTML_LIMIT:
            return Preview(kind="none", note="Large HTML file: download it (as .txt) to read it.")
        data = self._read(record, HTML_LIMIT)
        if data is None:
            return None
        return Preview(kind="html", text=data.decode("utf-8", "replace"))

    def _svg(self, record: ArtifactRecord) -> Preview | None:
        if record.size > SVG_LIMIT:
            return Preview(kind="none", note="Large SVG file: download it (as .txt) to see it.")
        data = self._read(record, SVG_LIMIT)
        if data is None:
            return None
        encoded = base64.b64encode(data).decode("ascii")
        return Preview(kind="svg", src=f"data:image/svg+xml;base64,{encoded}")

    def _chart(self, record: ArtifactRecord) -> Preview | None:
        if record.size > CHART_LIMIT:
            return Preview(kind="none", note="Large chart: download its spec to open it.")
        data = self._read(record, CHART_LIMIT)
        if data is None:
            return None
        try:
            spec = json.loads(data)
        except ValueError:
            return Preview(kind="none", note="This chart spec is not valid JSON.")
        if not isinstance(spec, dict):
            return Preview(kind="none", note="This chart spec is not a JSON object.")
        from . import charts

        if not charts.is_vegalite(spec):  # full Vega: data URLs, images, signals; not drawn
            text = json.dumps(spec, indent=2, ensure_ascii=False)
            lines = text.split("\n")
            return Preview(kind="text", text="\n".join(lines[:TEXT_LINES]),
                           truncated=len(lines) > TEXT_LINES,
                           note="A Vega chart spec (not Vega-Lite): shown as code, not drawn.")
        clean = charts.vegalite_artifact(spec)
        title = posixpath.basename(record.path)
        chart = Chart(id=self.chart_ids(), title=title, spec=json_script(clean))
        return Preview(kind="chart", chart=chart)
