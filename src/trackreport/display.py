"""Numbers, sizes, durations and dates as a person reads them.

The one place values are formatted for people: the command line (``runs``,
``show``), the site, the compare page's data and the Markdown summary all call
:func:`value` for a metric value (and :func:`param` for a param, shown as
logged), so one number reads the same everywhere. Machine outputs (CSV and
JSON exports) keep raw values. Standard library only, so the core may import
it; ``trackreport.site.format`` re-exports it for the site.

Pure functions, independent of locale, time zone and clock: the caller passes
the reference time ("now") so that a build is deterministic.
"""

from __future__ import annotations

import datetime as _dt
import math
from typing import Any

_UTC = _dt.timezone.utc

BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
"""Unicode's explicit bidirectional embeddings, overrides and isolates. They reorder the
text a reader sees (``"\\u202eevil"`` reads "live"), so text made for people (pages, the
Markdown summary) shows each as U+FFFD; data files keep them."""


def is_number(value: Any) -> bool:
    """True for ints and floats (not bools)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def number(value: Any, digits: int = 4) -> str:
    """A number with about ``digits`` significant digits and thousands separators.

    ``0.98123`` -> ``0.9812``, ``1234567`` -> ``1,234,567``, ``12345.678`` ->
    ``12,346``, ``1.5e-07`` -> ``1.5e-07``; NaN and infinities in words.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if not is_number(value):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    if value == 0:
        return "0"
    value = float(f"{value:.12g}")  # 13.749999999999998 (float noise) reads as 13.75
    magnitude = abs(value)
    if magnitude >= 1e15 or magnitude < 1e-4:
        return _strip_exp(f"{value:.{digits - 1}e}")
    exponent = math.floor(math.log10(magnitude))
    decimals = max(0, digits - 1 - exponent)
    text = f"{value:,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _strip_exp(text: str) -> str:
    mantissa, _, exp = text.partition("e")
    if "." in mantissa:
        mantissa = mantissa.rstrip("0").rstrip(".")
    sign = "-" if exp.startswith("-") else ""
    return f"{mantissa}e{sign}{exp.lstrip('+-').lstrip('0') or '0'}"


def plain_number(value: Any) -> str:
    """A number for a ``data-sort`` attribute: full precision, no separators; "" if missing."""
    if not is_number(value):
        return ""
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return ""
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return repr(float(value))


def integer(value: int) -> str:
    """An integer with thousands separators."""
    return f"{value:,}"


def size(nbytes: int | None) -> str:
    """A file size in words: ``512 bytes``, ``1.2 KB``, ``3.4 MB`` (powers of 1000)."""
    if nbytes is None:
        return ""
    if nbytes < 1000:
        return "1 byte" if nbytes == 1 else f"{nbytes} bytes"
    value = float(nbytes)
    for unit in ("KB", "MB", "GB", "TB"):
        value /= 1000.0
        if value < 999.5 or unit == "TB":
            return f"{number(value, 3)} {unit}"
    return f"{nbytes} bytes"  # pragma: no cover


def duration(seconds: float | None) -> str:
    """A duration in words: ``under 0.1 s``, ``0.4 s``, ``12 s``, ``4 min 12 s``,
    ``2 h 5 min``, ``3 days 4 h``."""
    if seconds is None or not math.isfinite(seconds):
        return ""
    if 0 < seconds < 0.05:  # it would round to "0 s", as if nothing ran
        return "under 0.1 s"
    if seconds < 10:
        return f"{number(round(seconds, 1), 2)} s"
    total = round(seconds)
    if total < 60:
        return f"{total} s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    unit = "day" if days == 1 else "days"
    return f"{days} {unit} {hours} h" if hours else f"{days} {unit}"


def utc(timestamp: float | None) -> _dt.datetime | None:
    """Unix seconds as an aware UTC datetime (None stays None)."""
    if timestamp is None or not math.isfinite(timestamp):
        return None
    return _dt.datetime.fromtimestamp(timestamp, tz=_UTC)


def date_time(timestamp: float | None) -> str:
    """``2026-11-26 14:03 UTC``."""
    moment = utc(timestamp)
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else ""


def date(timestamp: float | None) -> str:
    """``2026-11-26``."""
    moment = utc(timestamp)
    return moment.strftime("%Y-%m-%d") if moment else ""


def iso(timestamp: float | None) -> str:
    """ISO 8601 in UTC with microseconds: ``2026-11-26T14:03:12.345678Z``; "" if missing."""
    moment = utc(timestamp)
    if moment is None:
        return ""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def span(seconds: float) -> str:
    """A time span in round words: ``less than a minute``, ``5 minutes``, ``2 days``."""
    if seconds < 60:
        return "less than a minute"
    for limit, unit_seconds, unit in ((3600, 60, "minute"), (86400, 3600, "hour"),
                                      (86400 * 30, 86400, "day"), (86400 * 365, 86400 * 30, "month"),
                                      (math.inf, 86400 * 365, "year")):
        if seconds < limit:
            return plural(int(seconds // unit_seconds), unit)
    return ""  # pragma: no cover


def ago(timestamp: float | None, now: float | None) -> str:
    """How long before ``now`` (never the wall clock): ``just now``, ``5 minutes ago``, ``3 days ago``."""
    if timestamp is None or now is None:
        return ""
    delta = now - timestamp
    if delta < 0:
        return "in the future"
    if delta < 60:
        return "just now"
    for limit, unit_seconds, unit in (
        (3600, 60, "minute"),
        (86400, 3600, "hour"),
        (86400 * 30, 86400, "day"),
        (86400 * 365, 86400 * 30, "month"),
        (math.inf, 86400 * 365, "year"),
    ):
        if delta < limit:
            count = int(delta // unit_seconds)
            return f"{count} {unit}{'' if count == 1 else 's'} ago"
    return ""  # pragma: no cover


def param(value: Any) -> str:
    """A param value as text: numbers as logged (full precision), lists and dicts as JSON."""
    if value is None:
        return "None"
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return repr(value)
    if isinstance(value, (int, str)):
        return str(value)
    import json

    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def plural(count: int, word: str, words: str | None = None) -> str:
    """``1 run``, ``12 runs`` (with thousands separators)."""
    return f"{count:,} {word if count == 1 else (words or word + 's')}"


def value(x: Any, percent: bool = False) -> str:
    """A logged value for a person, the same in every table, sentence and command.

    Numbers as :func:`number` (4 significant digits, thousands separators, no
    padding zeros: ``0.9812``, ``0.91``, ``12,346``); a metric the experiment
    declares a percentage (``percent=True``) with 3: ``98.1 %``, ``91 %``; NaN
    and infinities in words; lists and dicts as JSON; ``None`` as "".
    """
    if isinstance(x, (list, dict)):
        return param(x)
    if percent and is_number(x) and math.isfinite(x):
        return f"{number(x * 100, 3)}\u00a0%"  # no line break before the %
    return number(x)


def relative(diff: float, base: float) -> str:
    """``diff`` as a percentage of ``base``, unsigned: ``13.8 %``."""
    return f"{number(abs(diff) / abs(base) * 100, 3)} %"


def metric(x: float | None, percent: bool = False) -> str:
    """A metric value in sentences and cards: :func:`value`."""
    return value(x, percent)


def signed(value: float, percent: bool = False) -> str:
    """A difference with its sign, as :func:`value` writes numbers: ``+0.11``, ``-0.02``,
    ``+2.1 points`` for percentages."""
    sign = "+" if value > 0 else "-" if value < 0 else "±"
    text = number(abs(value) * 100, 2) if percent else number(abs(value), 3)
    return f"{sign}{text} points" if percent else f"{sign}{text}"
