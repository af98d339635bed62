"""CSV cells that a spreadsheet opens as text, never as a formula (OWASP's rule).

A cell starting with ``=``, ``+``, ``@``, a tab or a carriage return, or with
``-`` when it is not a number, gets a leading ``'``: Excel, LibreOffice and
Google Sheets then show it as text instead of running it
(``=cmd|' /C calc'!A0``). Numbers such as ``-0.5`` and ``-Infinity`` stay as
they are.
"""

from __future__ import annotations

_TRIGGERS = ("=", "+", "@", "\t", "\r")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def formula_safe(text: str) -> str:
    """``text`` with a leading ``'`` when a spreadsheet would read it as a formula."""
    if text.startswith(_TRIGGERS) or (text.startswith("-") and not _is_number(text)):
        return "'" + text
    return text
