"""The pytest plugin's command-line options (``--conformance-*``), and the run options they make."""

from __future__ import annotations

import pytest

from conformance.runconfig import RunOptions

_OPTIONS = {
    "target": "target profile: a name under targets/ or a path to a .toml file",
    "name": "name of the target (cassette and report folders) when no profile is used",
    "base-url": "base URL of the API, e.g. https://api.llama.com/compat/v1",
    "api-key-env": "environment variable that holds the API key",
    "model": "chat model id",
    "vision-model": "vision model id",
    "moderation-model": "moderation model id",
    "embedding-model": "embedding model id (the embeddings row)",
    "completion-model": "model for legacy /completions (default: the chat model)",
    "text-model": "a model that cannot see images",
    "dialect": "dialect the target claims: openai or llama-api",
    "mode": "live, record or replay (default: replay when cassettes exist, else live)",
    "report-dir": "where report.json goes (default: reports/<target>)",
    "cassette-dir": "root folder of cassette sets (default: ./cassettes, then the bundled ones)",
}


def add_options(parser: pytest.Parser) -> None:
    """The --conformance-* options of a pytest run of the suite (what ``conformance run`` passes on)."""
    group = parser.getgroup("conformance", "conformance suite for OpenAI-compatible APIs")
    for name, text in _OPTIONS.items():
        group.addoption(f"--conformance-{name}", dest=f"conformance_{name.replace('-', '_')}", default=None, help=text)
    group.addoption(
        "--conformance-timeout",
        dest="conformance_timeout",
        type=float,
        default=None,
        help="seconds to wait for a connection and between reads of a response",
    )
    for name, text in (
        ("deadline", "seconds one request may take from its first byte sent to the last received"),
        ("run-timeout", "seconds the whole run may take; then it ends with the report of what it judged"),
    ):
        group.addoption(
            f"--conformance-{name}", dest=f"conformance_{name.replace('-', '_')}", type=float, default=None, help=text
        )
    group.addoption(
        "--conformance-trials",
        dest="conformance_trials",
        type=int,
        default=None,
        help="how many times each model check's probe is sent (its verdict is a rate over them)",
    )
    group.addoption(
        "--conformance-max-trials",
        dest="conformance_max_trials",
        type=int,
        default=None,
        help="the most trials a model check draws when its first ones leave it undecided",
    )
    for name, text in (
        ("rpm", "requests a minute the target allows (a budget spent in bursts within the minute)"),
        ("tpm", "tokens a minute the target allows"),
        ("concurrency", "requests at a time"),
    ):
        group.addoption(f"--conformance-{name}", dest=f"conformance_{name}", type=int, default=None, help=text)
    group.addoption(
        "--conformance-quiet",
        dest="conformance_quiet",
        action="store_true",
        default=False,
        help="no per-test letters or file paths: the suite's own progress and summary only",
    )
    group.addoption(
        "--conformance-dry-run",
        dest="conformance_dry_run",
        action="store_true",
        default=None,
        help="plan a live run (requests and tokens per row) and send nothing",
    )
    group.addoption(
        "--conformance-allow-rate-limit-probe",
        dest="conformance_allow_rate_limit_probe",
        action="store_true",
        default=None,
        help="provoke a 429 on purpose (spends up to the profile's rate_limit.budget requests per endpoint)",
    )


def run_options(config: pytest.Config) -> RunOptions:
    """The run's options, as the pytest options gave them."""
    return RunOptions(
        **{field_name: config.getoption(f"conformance_{field_name}") for field_name in RunOptions.__dataclass_fields__}
    )
