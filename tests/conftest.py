"""Fixtures for the project's own tests: running the CLI in a subprocess, and reference servers."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import Cli

from conformance.reference import ReferenceConfig, ReferenceServer

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    """Run ``python -m conformance`` in a clean working directory; its reports go under tmp_path."""
    return Cli(tmp_path)


@pytest.fixture
def reference_server() -> Iterator[tuple[str, str]]:
    """A reference server on 127.0.0.1 with a distinctive key; yields (base URL, key)."""
    key = f"sk-conformance-SECRET-{secrets.token_hex(12)}"
    with ReferenceServer(ReferenceConfig(api_keys=frozenset({key}))) as server:
        yield server.base_url, key
