"""A real HTTP S3 endpoint for tests: moto's ThreadedMotoServer on 127.0.0.1, a free port.

``moto_endpoint`` (one server per test module) sets the usual AWS environment
(endpoint, fake credentials, region) so that this process and its children
reach it; ``s3_store`` gives each test a fresh bucket, a fresh reader cache and
short flush intervals, and returns the store's URL.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

AWS_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true"}


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    """The URL of a moto S3 server for this module; the AWS environment points at it."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    saved = {k: os.environ.get(k) for k in [*AWS_ENV, "AWS_ENDPOINT_URL"]}
    os.environ.update(AWS_ENV, AWS_ENDPOINT_URL=endpoint)
    try:
        yield endpoint
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        server.stop()


_buckets = [0]


def make_bucket(endpoint: str) -> str:
    """A new, empty bucket on the moto server; its name."""
    import boto3

    _buckets[0] += 1
    name = f"bucket-{os.getpid()}-{_buckets[0]}"
    boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=name)
    return name


@pytest.fixture
def s3_store(moto_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """``s3://<new bucket>/store``, set as the store in use; cache in tmp_path, 0.2 s flushes."""
    import trackreport as tr

    url = f"s3://{make_bucket(moto_endpoint)}/store"
    monkeypatch.setenv("TRACKREPORT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("TRACKREPORT_FLUSH_SECONDS", "0.2")
    monkeypatch.setenv("TRACKREPORT_CAPTURE", "0")
    tr.set_store(url)
    yield url
    reset_fluent()


def reset_fluent() -> None:
    """End what a test left running and forget its store and experiment settings."""
    import trackreport as tr
    from trackreport import fluent

    while fluent.active_run() is not None:
        tr.end_run()
    fluent._experiment = "Default"
    fluent._experiment_settings.clear()
    fluent._written_settings.clear()
    fluent._store_path = None
    fluent._storage_options = None
    fluent._stores.clear()


def list_objects(url: str) -> list[str]:
    """Every object key below the store URL, relative to it, sorted (a fresh listing)."""
    import boto3

    bucket, _, prefix = url[len("s3://"):].partition("/")
    client = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
    keys: list[str] = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys += [item["Key"][len(prefix) + 1:] for item in page.get("Contents", [])]
    return sorted(keys)
