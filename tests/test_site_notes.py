"""Markdown sanitizing and JSON for script blocks."""

from __future__ import annotations

import json

from markupsafe import Markup

from trackreport.site.notes import first_paragraph, json_script, json_text, render_markdown


def test_markdown_renders() -> None:
    html = render_markdown("**bold** and `code <b>` and [x](https://a.example/)\n\n| a |\n|---|\n| 1 |")
    assert isinstance(html, Markup)
    assert "<strong>bold</strong>" in html
    assert "<code>code &lt;b&gt;</code>" in html
    assert '<a href="https://a.example/" rel="noopener noreferrer">x</a>' in html
    assert "<table>" in html


def test_raw_html_and_scripts_do_not_survive() -> None:
    html = render_markdown('<script>alert(1)</script> <img src=x onerror=alert(1)>\n\n'
                           '<div onclick="x()">block</div>\n\n<iframe src="https://e.example">')
    assert "<script" not in html and "<img" not in html and "<div" not in html
    assert "<iframe" not in html and "onerror" not in html.replace("onerror=alert", "")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_only_safe_link_schemes() -> None:
    for bad in ("javascript:alert(1)", "JAVASCRIPT:alert(1)", "data:text/html,<b>",
                "vbscript:x", "//evil.example/x", "file:///etc/passwd", "relative/page.html"):
        html = render_markdown(f"[x]({bad})")
        assert "href" not in html, bad
    assert 'href="mailto:a@b.example"' in render_markdown("[m](mailto:a@b.example)")
    assert 'href="#part"' in render_markdown("[p](#part)")


def test_no_images_from_other_hosts() -> None:
    html = render_markdown("![tracker](https://evil.example/pixel.png)")
    assert "<img" not in html and "evil" not in html


def test_json_script_escapes_once() -> None:
    obj = {"name": "</script><img src=x>&\u2028\u2029", "n": float("nan"), "i": float("inf")}
    text = str(json_script(obj))
    for ch in "<>&\u2028\u2029":
        assert ch not in text
    assert json.loads(text) == {"name": "</script><img src=x>&\u2028\u2029", "n": None,
                                "i": None}
    assert json_text({"b": 1, "a": 2}) == '{"a":2,"b":1}'


def test_json_text_shapes() -> None:
    import numpy as np

    # Sorted keys at every depth, compact, non-finite as null, numpy as numbers.
    obj = {"z": {"b": [1, (2, 3)], "a": np.float64(0.5)}, "y": np.array([1.0, np.nan]),
           "x": np.int64(7), "w": -float("inf"), 3: "int key"}
    assert json_text(obj) == ('{"3":"int key","w":null,"x":7,"y":[1.0,null],'
                              '"z":{"a":0.5,"b":[1,[2,3]]}}')
    # Past orjson's limits (a 70-bit int, a lone surrogate): still strict JSON.
    assert json.loads(json_text({"big": 2**70})) == {"big": 2**70}
    text = str(json_script({"s": "\ud800</script>", "n": float("nan")}))
    assert "<" not in text and json.loads(text) == {"n": None, "s": "\ud800</script>"}
    # U+2028/9 stay escaped in a plain .js file; < and > need not be.
    assert json_text({"k": "\u2028</a>\u2029"}) == '{"k":"\\u2028</a>\\u2029"}'


def test_first_paragraph() -> None:
    assert first_paragraph("# Title\n\nBody") == "Title"
    assert first_paragraph("Predict **wine** [quality](https://x.example).\n\nMore") == \
        "Predict wine quality."
    assert first_paragraph("") == ""
    assert first_paragraph("x" * 500).endswith("…")


BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


def test_bidirectional_controls_are_shown_not_obeyed() -> None:
    from trackreport.site.notes import visible_text

    # "\u202eevil" would read "live": each control becomes U+FFFD, in str and in Markup
    assert visible_text("\u202eevil") == "\ufffdevil"
    assert visible_text(BIDI + "x") == "\ufffd" * 9 + "x"
    marked = visible_text(Markup("<b>\u2067a\u2069</b>"))
    assert isinstance(marked, Markup) and marked == Markup("<b>\ufffda\ufffd</b>")
    # marks that only steer neutral characters stay, as do other values
    assert visible_text("abc \u200f\u200e ü") == "abc \u200f\u200e ü"
    assert visible_text(3) == 3 and visible_text(None) is None
    assert "\ufffdevil" in render_markdown("**tag** \u202eevil")
    for obj in ({"k\u202e": "a\u2066b"}, {"k\u202e": "a\u2066b", "big": 2**70}):  # both paths
        for text in (str(json_script(obj)), json_text(obj)):
            assert not any(ch in text for ch in BIDI)
            assert "\\u202e" not in text.lower() and "\\u2066" not in text.lower()
            assert json.loads(text)["k\ufffd"] == "a\ufffdb"
    # a user's own backslash before "u202e" is text, and stays text
    for obj in ({"s": "\\u202e"}, {"s": "\\u202e", "big": 2**70}):
        assert json.loads(json_text(obj))["s"] == "\\u202e"
        assert json.loads(str(json_script(obj)))["s"] == "\\u202e"
