"""Before first use of an object store: its endpoint answers and its bucket exists.

s3fs reports an endpoint that does not answer as a missing bucket, after
long retries; this checks the endpoint first (a short timeout, a few tries),
so either problem is one line naming the endpoint or the bucket.
"""

from __future__ import annotations

import os
import socket
import time
import urllib.parse
from collections.abc import Mapping
from typing import Any

from .errors import StoreUnavailableError

CONNECT_TRIES = 3
CONNECT_TIMEOUT = 2.0


def endpoint(protocol: str, options: Mapping[str, Any]) -> str | None:
    """The S3 endpoint URL in use (storage options, else the AWS environment)."""
    if protocol not in ("s3", "s3a"):
        return None
    client = options.get("client_kwargs") or {}
    return (options.get("endpoint_url") or client.get("endpoint_url")
            or os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL"))


_PROXIES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")


def _default_endpoint(fs: Any) -> str | None:
    """The endpoint the S3 client resolved by itself (AWS's, for the region, or an AWS
    profile's), found without a request; None behind a proxy, which a direct check of
    the endpoint would not go through."""
    if any(os.environ.get(name) for name in _PROXIES):
        return None
    try:
        fs.connect()
        return str(fs.s3.meta.endpoint_url) or None
    except Exception:  # no client to ask: s3fs's own errors follow
        return None


def _check_endpoint(url: str) -> None:
    parts = urllib.parse.urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    for attempt in range(CONNECT_TRIES):
        try:
            socket.create_connection((parts.hostname, port), CONNECT_TIMEOUT).close()
            return
        except OSError as exc:
            if attempt == CONNECT_TRIES - 1:
                raise StoreUnavailableError(
                    f"the object store endpoint {url} does not answer "
                    f"({exc.strerror or exc}, {CONNECT_TRIES} tries)") from None
            time.sleep(0.5 * (attempt + 1))


def check(fs: Any, protocol: str, options: Mapping[str, Any], base: str, url: str) -> None:
    """Raise StoreUnavailableError (one line) when the endpoint or the bucket is missing, or
    the bucket cannot be read (no credentials, access denied).

    ``base`` is the store's path without the protocol (``bucket/prefix``).
    """
    if protocol not in ("s3", "s3a"):
        return
    where = endpoint(protocol, options) or _default_endpoint(fs)
    if where:
        _check_endpoint(where)
    bucket = base.split("/", 1)[0]
    try:
        if fs.exists(bucket):
            return
        fs.info(bucket)  # exists() says False for any error; this says which one
    except FileNotFoundError:
        pass
    except Exception as exc:
        raise StoreUnavailableError(_unreachable(bucket, url, exc)) from None
    else:
        return
    raise StoreUnavailableError(
        f"bucket {bucket!r} does not exist (store {url}); create it first")


def _unreachable(bucket: str, url: str, exc: Exception) -> str:
    if type(exc).__name__ == "NoCredentialsError":
        return (f"no credentials for store {url}: set AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY (or AWS_PROFILE), or the key and secret storage options")
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"cannot reach bucket {bucket!r} of store {url}: {text[:300]}"
