"""Markdown and JSON made safe for pages: the only place that creates ``Markup``.

User markdown (experiment descriptions, notes, ``.md`` artifacts) is rendered
with ``markdown`` and then cleaned with ``nh3``: raw HTML does not survive,
links keep only the http, https and mailto schemes (and in-page anchors) and
get ``rel="noopener noreferrer"``. JSON for ``<script type="application/json">``
blocks is encoded once, with ``<``, ``>``, ``&``, U+2028 and U+2029 escaped.

Text shown on a page never carries explicit bidirectional controls
(embeddings, overrides, isolates: U+202A-U+202E, U+2066-U+2069): they reorder
what a reader sees, so a tag written ``"\u202eevil"`` would read "live". Each
is shown as U+FFFD instead (``visible_text``), in templates' output, markdown
and page JSON; the data files keep every character.
"""

from __future__ import annotations

import json
import math
import re
import threading
from typing import Any

import orjson
from markupsafe import Markup

from ..display import BIDI_CONTROLS

_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4",
    "h5", "h6", "hr", "i", "li", "ol", "p", "pre", "s", "strong", "sub", "sup",
    "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul", "dl", "dt", "dd", "kbd",
}
_ATTRIBUTES = {
    "a": {"href", "title"},
    "th": {"align"},
    "td": {"align"},
    "abbr": {"title"},
    "ol": {"start"},
}
_SCHEMES = {"http", "https", "mailto"}
_EXTENSIONS = ["extra", "sane_lists"]


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    # Links from user text are absolute http(s)/mailto or in-page anchors only:
    # a relative link would point at a file the site does not have.
    if tag == "a" and attribute == "href":
        lower = value.strip().lower()
        if lower.startswith(("http://", "https://", "mailto:", "#")):
            return value
        return None
    return value


def clean_html(fragment: str) -> str:
    """``fragment`` cleaned by nh3 with the site's allowlist (a plain string)."""
    import nh3

    return nh3.clean(
        fragment,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes=_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
        attribute_filter=_filter_attribute,
    )


_BIDI = re.compile(f"[{BIDI_CONTROLS}]")
_BIDI_TABLE = dict.fromkeys(map(ord, BIDI_CONTROLS), "\ufffd")
_BIDI_UTF8 = re.compile(b"|".join(re.escape(ch.encode()) for ch in BIDI_CONTROLS))
# the same as JSON escapes (the ASCII-only path), after an even run of backslashes
_BIDI_ESCAPED = re.compile(rb"(?<!\\)((?:\\\\)*)\\u(?:"
                           + b"|".join(f"{ord(ch):04x}".encode() for ch in BIDI_CONTROLS)
                           + b")", re.IGNORECASE)


def visible_text(value: Any) -> Any:
    """``value`` with each bidirectional control shown as U+FFFD; the same class (``str``
    or ``Markup``); other values as they are. The themes' jinja2 ``finalize``."""
    if isinstance(value, str) and not value.isascii() and _BIDI.search(value):
        return value.translate(_BIDI_TABLE)
    return value


def _visible_json(data: bytes) -> bytes:
    if _BIDI_UTF8.search(data):
        data = _BIDI_UTF8.sub("\ufffd".encode(), data)
    if b"\\u20" in data and _BIDI_ESCAPED.search(data):
        data = _BIDI_ESCAPED.sub(rb"\1\\ufffd", data)
    return data


def render_markdown(text: str) -> Markup:
    """Markdown as sanitized HTML, ready to put in a page.

    Raw HTML in the source is escaped (shown as text), never passed through;
    images are dropped (the site makes no request to another host).
    """
    md = _markdown()
    md.reset()
    return Markup(visible_text(clean_html(md.convert(text))))  # noqa: S704 - cleaned by nh3


_LOCAL = threading.local()


def _markdown() -> Any:
    """This thread's converter (made once: loading the extensions costs more than a note)."""
    md = getattr(_LOCAL, "markdown", None)
    if md is None:
        import markdown

        md = _LOCAL.markdown = markdown.Markdown(
            extensions=[*_EXTENSIONS, _escape_html_extension()], output_format="html")
    return md


def _escape_html_extension() -> Any:
    """A markdown extension that treats raw HTML as text (markdown then escapes it)."""
    from markdown.extensions import Extension

    class EscapeHtml(Extension):
        def extendMarkdown(self, md: Any) -> None:  # markdown's API name
            md.preprocessors.deregister("html_block")
            md.inlinePatterns.deregister("html")

    return EscapeHtml()


def first_paragraph(text: str, limit: int = 240) -> str:
    """The first non-empty paragraph of markdown ``text`` as plain text (for cards)."""
    import re
    from html import unescape

    for block in text.strip().split("\n\n"):
        rendered = str(render_markdown(block))
        inline = re.sub(r"</?(?:a|strong|em|b|i|code|del|s|sub|sup|abbr|kbd)\b[^>]*>", "",
                        rendered)
        plain = " ".join(unescape(re.sub(r"<[^>]*>", " ", inline)).split())
        if plain:
            return plain if len(plain) <= limit else plain[: limit - 1].rstrip() + "…"
    return ""


def to_json_value(value: Any) -> Any:
    """``value`` with non-finite floats replaced by ``None`` (strict JSON)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): to_json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json_value(v) for v in value]
    if hasattr(value, "tolist"):  # numpy arrays and numbers, as orjson writes them
        return to_json_value(value.tolist())
    return value


# orjson writes NaN and +-inf as null (strict JSON, as ``to_json_value`` does),
# numpy numbers and arrays as numbers; dates and dataclasses go to ``str`` as
# with the stdlib encoder's ``default=str``.
_ORJSON_OPTIONS = (
    orjson.OPT_SORT_KEYS
    | orjson.OPT_NON_STR_KEYS
    | orjson.OPT_SERIALIZE_NUMPY
    | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
)
_LINE_SEPARATORS = ((b"\xe2\x80\xa8", b"\\u2028"), (b"\xe2\x80\xa9", b"\\u2029"))
_HTML_SPECIALS = ((b"<", b"\\u003c"), (b">", b"\\u003e"), (b"&", b"\\u0026"))


def json_bytes(obj: Any) -> bytes:
    """Deterministic strict JSON as UTF-8 (sorted keys, compact, NaN as null), unescaped."""
    try:
        return orjson.dumps(obj, option=_ORJSON_OPTIONS, default=str)
    except TypeError:  # orjson.JSONEncodeError: ints beyond 64 bits, lone surrogates, ...
        # The general, slow path; ASCII-only, so a lone surrogate becomes an escape.
        return json.dumps(to_json_value(obj), sort_keys=True, separators=(",", ":"),
                          ensure_ascii=True, allow_nan=False, default=str).encode("ascii")


def _escape(data: bytes, pairs: tuple[tuple[bytes, bytes], ...]) -> bytes:
    for raw, escaped in pairs:
        if raw in data:
            data = data.replace(raw, escaped)
    return data


def json_text(obj: Any) -> str:
    """Deterministic strict JSON for a page's script: sorted keys, compact, NaN as null,
    U+2028/9 escaped, bidirectional controls shown as U+FFFD."""
    return _escape(_visible_json(json_bytes(obj)), _LINE_SEPARATORS).decode("utf-8")


def json_script(obj: Any) -> Markup:
    """JSON for the body of a ``<script type="application/json">`` element (encoded once).

    ``<``, ``>``, ``&``, U+2028 and U+2029 become ``\\u003c`` and the like: the
    element cannot be closed early and ``JSON.parse`` reads the same value
    (but for bidirectional controls, shown as U+FFFD).
    """
    data = _escape(_escape(_visible_json(json_bytes(obj)), _LINE_SEPARATORS), _HTML_SPECIALS)
    return Markup(data.decode("utf-8"))  # noqa: S704 - escaped just here
