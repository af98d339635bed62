"""Shared fixtures: every test gets its own store and a clean active-run stack."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import trackreport as tr
from s3_helpers import moto_endpoint, reset_fluent, s3_store  # noqa: F401 - fixtures for the object store tests


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh store folder set as the store in use (capture off for speed)."""
    path = tmp_path / "store"
    monkeypatch.setenv("TRACKREPORT_CAPTURE", "0")
    tr.set_store(path)
    yield path
    reset_fluent()


@pytest.fixture(scope="module")
def browser() -> Any:
    """Debian's chromium driven by playwright (browser tests fail, never skip, without it)."""
    from playwright.sync_api import sync_playwright

    from browser_helpers import launch

    with sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()
