"""Fixtures for the project's own tests: running the CLI in a subprocess, and reference servers."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conformance.reference import ReferenceConfig, ReferenceServer

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    seconds: float
    report_dir: Path

    @property
    def report(self) -> dict[str, Any]:
        return json.loads((self.report_dir / "report.json").read_text())

    def verdicts(self) -> dict[str, str]:
        return {check["id"]: check["status"] for check in self.report["checks"]}


class Cli:
    """Runs ``python -m conformance`` in a clean working directory; its reports go under ``tmp_path``."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path

    def __call__(
        self, *args: str, env: dict[str, str] | None = None, timeout: float = 120, cwd: Path | None = None
    ) -> Run:
        report_dir = self.tmp_path / f"report-{secrets.token_hex(3)}"
        full = list(args)
        if args and args[0] == "run" and "--report-dir" not in args:
            full[1:1] = ["--report-dir", str(report_dir)]
        environment = {k: v for k, v in os.environ.items() if not k.startswith("CONFORMANCE_")}
        environment.update(env or {})
        started = time.monotonic()
        completed = subprocess.run(
            [sys.executable, "-m", "conformance", *full],
            cwd=cwd or self.tmp_path,
            env=environment,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        return Run(completed.returncode, completed.stdout, completed.stderr, time.monotonic() - started, report_dir)


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
