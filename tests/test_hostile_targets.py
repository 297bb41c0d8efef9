"""Hostile targets do not break the suite: each misbehaviour becomes a failed check with a clear
message within bounded time, and the other checks of the run still get their verdicts."""

from __future__ import annotations

from pathlib import Path

import pytest
from hostile import HostileServer

pytestmark = pytest.mark.e2e

# the form of every answer is judged by the checks that own it (they run last); the request checks
# judge the status, which a server answering 200 to everything gets right
CHECKS = (
    "models.list_succeeds",
    "chat-completions.response_is_schema_valid",
    "streaming.events_are_single_data_lines",
    "errors-400.missing_model_is_refused",
)


def profile(tmp_path: Path, base_url: str) -> Path:
    path = tmp_path / "hostile.toml"
    path.write_text(
        f'base_url = "{base_url}"\napi_key_env = "HOSTILE_KEY"\n[models]\nchat = "m"\n'
        "[limits]\ntimeout = 0.5\ndeadline = 1.5\nmax_body_bytes = 1048576\nconcurrency = 8\n"
    )
    return path


@pytest.mark.parametrize(
    ("behaviour", "expected"),
    [
        ("huge", "body exceeded 1048576 bytes"),
        ("invalid-utf8", "not valid UTF-8"),
        ("not-json", "expected Content-Type application/json, got text/html"),
    ],
)
def test_a_hostile_target_gets_clear_failures_and_the_run_goes_on(cli, tmp_path, behaviour, expected):
    with HostileServer(behaviour) as server:
        run = cli(
            "run",
            "--target",
            str(profile(tmp_path, server.base_url)),
            "--",
            "-k",
            " or ".join(CHECKS),
            env={"HOSTILE_KEY": "sk-hostile-0123456789"},
            timeout=60,
        )
    assert run.code == 1, run.stdout + run.stderr
    assert run.seconds < 30
    verdicts = {check["id"]: check for check in run.report["checks"]}
    assert set(CHECKS) <= set(verdicts)
    assert verdicts["models.list_succeeds"]["status"] == "fail"
    assert verdicts["errors-400.missing_model_is_refused"]["status"] == "fail"
    # the form checks report what they could judge; nothing is an error of the suite
    assert all(check["status"] in ("fail", "skipped") for check in verdicts.values()), verdicts
    assert any(expected in check["message"] for check in verdicts.values()), [c["message"] for c in verdicts.values()]
    assert "Traceback" not in run.stdout + run.stderr


@pytest.mark.parametrize(
    ("behaviour", "expected"),
    [
        ("hang", "no response headers within 0.5 s"),
        ("drop-mid-stream", "connection broke after"),
        ("drop-mid-body", "connection broke after 14 bytes"),
        ("endless", "still arriving after 1.5 s"),
        ("close", "connection failed before a response"),
    ],
)
def test_a_target_that_answers_nothing_completely_stops_the_run_with_exit_3(cli, tmp_path, behaviour, expected):
    """Hangs, resets and endless answers on every request are the network's verdict, not the
    checks': the run stops after the first two requests and says why, without a MUST failure. Its
    recording replays offline with the same verdict (issue 30: it replayed nothing, exit 2)."""
    cassettes = ["--mode", "record", "--cassette-dir", str(tmp_path / "cassettes")]
    with HostileServer(behaviour) as server:
        run = cli(
            "run",
            "--target",
            str(profile(tmp_path, server.base_url)),
            *cassettes,
            env={"HOSTILE_KEY": "sk-hostile-0123456789"},
            timeout=60,
        )
    cassettes[1] = "replay"
    again = cli("run", "--target", str(tmp_path / "hostile.toml"), *cassettes, timeout=60)
    assert again.code == 3, again.stdout + again.stderr
    assert again.verdicts() == run.verdicts()
    assert again.report["run"]["problems"] == run.report["run"]["problems"]
    assert run.code == 3, run.stdout + run.stderr
    assert run.seconds < 30
    problems = run.report["run"]["problems"]
    assert any("answered neither of the first two requests" in p and expected in p for p in problems), problems
    assert run.report["summary"]["fail"] == 0
    assert run.report["run"]["exit_code"] == 3
    assert "Traceback" not in run.stdout + run.stderr
