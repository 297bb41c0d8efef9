"""The options of ``conformance capture`` and ``conformance migrate`` (imported by the command line's
grammar, so it imports nothing heavy)."""

from __future__ import annotations

import argparse
from typing import Any

from conformance.runconfig import MODES

# a comparison of what the model chose passes when this share of trials does what the original did
AGREEMENT = 0.5


def add_parsers(commands: Any, trials: Any, timeout: Any, count: Any, port: Any) -> None:
    capture = commands.add_parser(
        "capture",
        help="record an application's traffic through a local proxy",
        description="Forward every request to the upstream unchanged (streams as they arrive) and keep each "
        "exchange, redacted, as a cassette. Point the app's base_url at the URL it prints.",
    )
    capture._sub = "capture"
    capture.add_argument(
        "--upstream", required=True, metavar="URL", help="the API the app uses, e.g. https://api.openai.com/v1"
    )
    capture.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    capture.add_argument("--port", type=port, default=8090, help="port (default 8090; 0 picks a free one)")
    capture.add_argument(
        "--out", default="traffic", metavar="DIR", help="where the captured exchanges go (default traffic/)"
    )
    capture.add_argument(
        "--timeout",
        type=timeout,
        default=120.0,
        metavar="SECONDS",
        help="longest wait between two reads of the upstream",
    )
    capture.add_argument("--max-requests", type=count(1, 1_000_000), metavar="N", help="stop after N exchanges")

    migrate = commands.add_parser(
        "migrate",
        help="replay captured traffic against a candidate and judge every answer",
        description="Send each captured request to the candidate (models mapped, once per trial), judge the answers "
        "with the suite's oracles and against the captured original, and write migration.json, .md, .html and JUnit.",
    )
    migrate._sub = "migrate"
    migrate.add_argument(
        "--traffic",
        required=True,
        metavar="DIR|FILE",
        help="a capture folder, a cassette set or a JSONL file of request bodies",
    )
    migrate.add_argument(
        "--to", required=True, metavar="TARGET", help="the candidate: a profile name or path, as run's --target"
    )
    migrate.add_argument(
        "--map-model",
        action="append",
        default=[],
        metavar="OLD=NEW",
        type=_mapping,
        help="send model NEW where the app asked for OLD (repeatable)",
    )
    migrate.add_argument("--base-url", help="the candidate's base URL (over the profile's)")
    migrate.add_argument("--api-key-env", metavar="VAR", help="environment variable holding the candidate's key")
    migrate.add_argument("--dialect", help="the dialect the candidate claims: openai or llama-api")
    migrate.add_argument(
        "--mode", choices=MODES, help="live, record or replay (default: replay when recorded, else live)"
    )
    migrate.add_argument(
        "--trials", type=trials, metavar="N", help="send each request N times (default: the profile's limits.trials)"
    )
    migrate.add_argument(
        "--timeout", type=timeout, metavar="SECONDS", help="connect timeout and the longest wait between reads"
    )
    migrate.add_argument("--concurrency", type=count(1, 64), metavar="N", help="requests at a time")
    migrate.add_argument("--rpm", type=count(1, 1_000_000), metavar="N", help="requests a minute the candidate allows")
    migrate.add_argument(
        "--agreement",
        type=_share,
        default=AGREEMENT,
        metavar="P",
        help="share of trials that must do what the original did (default 0.5)",
    )
    migrate.add_argument(
        "--conformance",
        metavar="REPORT",
        help="a conformance report.json of the candidate: is each feature the app uses supported there",
    )
    migrate.add_argument(
        "--fail-on",
        choices=("must", "should", "difference"),
        default="must",
        help="exit 1 on MUST failures (default), also SHOULD ones, or also differences",
    )
    migrate.add_argument(
        "--report-dir", metavar="DIR", help="where the report goes (default reports/migrations/<traffic>-to-<target>)"
    )
    migrate.add_argument(
        "--cassette-dir",
        metavar="DIR",
        help="root of the candidate's recordings (default cassettes/migrations/<traffic>)",
    )


def _mapping(text: str) -> tuple[str, str]:
    old, sep, new = text.partition("=")
    if not sep or not old.strip() or not new.strip():
        raise argparse.ArgumentTypeError(f"{text!r} is not OLD=NEW, e.g. gpt-4o=Llama-3.3-70B-Instruct")
    return old.strip(), new.strip()


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 < value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text!r}: a share is a number above 0 and at most 1")
    return value
