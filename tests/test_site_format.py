"""Numbers, sizes, durations and dates in words."""

from __future__ import annotations

import math

from trackreport.site import format as fmt


def test_numbers() -> None:
    assert fmt.number(0.98123) == "0.9812"
    assert fmt.number(1234567) == "1,234,567"
    assert fmt.number(12345.678) == "12,346"
    assert fmt.number(3.0) == "3"
    assert fmt.number(-0.5) == "-0.5"
    assert fmt.number(1.5e-7) == "1.5e-7"
    assert fmt.number(math.nan) == "NaN"
    assert fmt.number(math.inf) == "∞"
    assert fmt.number(None) == ""
    assert fmt.number(0.0) == "0"


def test_plain_numbers_for_sorting() -> None:
    assert fmt.plain_number(0.1) == "0.1"
    assert fmt.plain_number(3) == "3"
    assert fmt.plain_number(math.nan) == ""
    assert fmt.plain_number("x") == ""
    assert fmt.plain_number(math.inf) == "Infinity"


def test_durations() -> None:
    assert fmt.duration(0.42) == "0.4 s"
    assert fmt.duration(0.004) == "under 0.1 s" and fmt.duration(0.05) == "0.1 s"
    assert fmt.duration(0) == "0 s"
    assert fmt.duration(12.4) == "12 s"
    assert fmt.duration(252) == "4 min 12 s"
    assert fmt.duration(7500) == "2 h 5 min"
    assert fmt.duration(86400 + 3600) == "1 day 1 h"
    assert fmt.duration(None) == ""


def test_sizes() -> None:
    assert fmt.size(1) == "1 byte"
    assert fmt.size(999) == "999 bytes"
    assert fmt.size(1234) == "1.23 KB"
    assert fmt.size(12_345_678) == "12.3 MB"


def test_dates_are_utc_and_relative_to_a_given_now() -> None:
    t = 1_795_000_000.0
    assert fmt.date_time(t).endswith(" UTC")
    assert fmt.iso(t).endswith("Z") and "T" in fmt.iso(t)
    assert fmt.ago(t, t + 30) == "just now"
    assert fmt.ago(t, t + 3 * 86400 + 5) == "3 days ago"
    assert fmt.ago(t, t + 3600) == "1 hour ago"
    assert fmt.ago(t, None) == ""


def test_params() -> None:
    assert fmt.param(0.1) == "0.1"
    assert fmt.param([1, "a"]) == '[1, "a"]'
    assert fmt.param(True) == "True"
    assert fmt.param(None) == "None"
