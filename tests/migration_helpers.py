"""What the migration tests share: the sample app captured through the proxy against the reference
server, and ``conformance migrate`` run in this process."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance import cli
from conformance.capture import CaptureProxy
from conformance.cassette_format import dump_exchange, exchange_from_dict, load_yaml
from conformance.exchange import Chunk
from conformance.reference import ReferenceConfig, ReferenceServer

ROOT = Path(__file__).resolve().parents[1]
KEY = "sk-migration-test-key-0123456789abcdef"
MODEL = "Llama-3.3-70B-Instruct"


@dataclass
class App:
    server: ReferenceServer
    base_url: str
    traffic: Path
    work: Path

    def faulty(self, fault: str) -> str:
        return self.base_url.replace("/v1", f"/faults/{fault}/v1")


def capture_sample_app(
    work: Path, model: str = MODEL, *, script: str = "sample_app.py", extra: tuple[str, ...] = ()
) -> App:
    server = ReferenceServer(ReferenceConfig(api_keys=frozenset({KEY}), flavour="openai", base_path="/v1"))
    base_url = server.start()
    proxy = CaptureProxy(base_url, work / "traffic", timeout=30)
    url = proxy.start()
    env = {**os.environ, "OPENAI_BASE_URL": url, "OPENAI_API_KEY": KEY}
    try:
        subprocess.run(
            [sys.executable, str(ROOT / "examples" / script), "--model", model, *extra],
            env=env,
            check=True,
            capture_output=True,
            timeout=120,
        )
    finally:
        proxy.stop()
    return App(server, base_url, work / "traffic", work)


def migrate(app: App, *args: str, report: str = "report") -> tuple[int, dict[str, Any], str]:
    """Run ``conformance migrate`` here (in ``app.work``), with the key in REFERENCE_API_KEY."""
    out = io.StringIO()
    before = Path.cwd()
    os.environ["REFERENCE_API_KEY"] = KEY
    os.chdir(app.work)
    try:
        with contextlib.redirect_stdout(out):
            code = cli.main(["migrate", "--traffic", str(app.traffic), "--report-dir", report, *args])
        path = app.work / report / "migration.json"
        data = json.loads(path.read_text()) if path.exists() and code in (0, 1) else {}
    finally:
        os.chdir(before)
    return code, data, out.getvalue()


def noted(data: dict[str, Any]) -> set[tuple[str, str, str]]:
    """(request, check, status) of every finding that is not a pass (or not applicable)."""
    return {
        (entry["id"], found["id"], found["status"])
        for entry in data["requests"]
        for found in entry["findings"]
        if found["status"] not in ("pass", "skipped")
    }


# what differs between two answers of the same deterministic server to the same request
_VOLATILE = re.compile(
    rb'("(?:id|created|system_fingerprint|tool_call_id)": ?)(?:"[^"]*"|\d+)|(chatcmpl|call|req)[_-][0-9a-f]{16,}'
)


def _masked(body: bytes) -> bytes:
    """Volatile values replaced by their type and the order they first appear in: a fault that turns a
    number into a string, changes an id from one chunk to the next, or writes a time in milliseconds (a number
    keeps its count of digits), still shows."""
    seen: dict[bytes, int] = {}

    def mask(match: re.Match[bytes]) -> bytes:
        value = match.group(0) if match.group(1) is None else match.group(0)[len(match.group(1)) :]
        number = seen.setdefault(value, len(seen) + 1)
        kind = b"s" if value.startswith(b'"') or match.group(1) is None else b"n%d." % len(value)
        return (match.group(1) or b"") + b"<%s%d>" % (kind, number)

    return _VOLATILE.sub(mask, body)


def answers(data: dict[str, Any]) -> dict[str, Any]:
    """The candidate's answers as a fault could change them: status, content type, body (ids and
    times masked), how many pieces it came in and how many attempts it took."""
    found = {}
    for exchange_id, exchange in data["exchanges"].items():
        if exchange_id.startswith("original/"):
            continue
        response = exchange["response"]
        if response is None:
            found[exchange_id] = exchange["failure"]["kind"]
            continue
        headers = {name.lower(): value for name, value in response["headers"]}
        body = _masked(response["body"].encode())
        found[exchange_id] = (
            response["status"],
            headers.get("content-type"),
            body,
            response["chunks"] > 1,
            len(exchange["earlier"]),
        )
    return found


def edit_original(traffic: Path, name: str, edit: Any) -> None:
    """Rewrite the original answer of one captured request (``edit`` maps its body to the new one)."""
    path = traffic / f"{name}.yaml"
    exchange = exchange_from_dict(load_yaml(path.read_text()))
    response = exchange.response
    assert response is not None
    body = edit(response.body)
    changed = exchange.__class__(
        **{
            **exchange.__dict__,
            "response": response.__class__(
                **{**{k: v for k, v in response.__dict__.items() if k != "body"}, "chunks": (Chunk(0.01, body),)}
            ),
        }
    )
    path.write_text(dump_exchange(changed))
