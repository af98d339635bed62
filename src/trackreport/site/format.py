"""The site's name for :mod:`trackreport.display` (one formatter for the CLI and the site)."""

from ..display import (
    ago,
    date,
    date_time,
    duration,
    integer,
    is_number,
    iso,
    metric,
    number,
    param,
    plain_number,
    plural,
    relative,
    signed,
    size,
    span,
    utc,
    value,
)

__all__ = ["ago", "date", "date_time", "duration", "integer", "is_number", "iso", "metric",
           "number", "param", "plain_number", "plural", "relative", "signed", "size",
           "span", "utc", "value"]
