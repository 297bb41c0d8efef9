"""The reference server behind a hostile front (``hostile_front``): every misbehaviour a target can
aim at the suite itself ends in a verdict, bounded in time, memory and disk, without a traceback,
without blaming the suite, and without the key anywhere.
"""

from __future__ import annotations

import base64
import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hostile_bodies import INJECTION
from hostile_front import ECHOES, HostileFront

from conformance.reference import ReferenceConfig, ReferenceServer
from conformance.report import report_problems

pytestmark = pytest.mark.e2e

KEY = "sk-planted-Zq8xW3vB7nK2pL9tR4yCm1"
TIMEOUT = 1.5
DEADLINE = 2.0


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    server = ReferenceServer(ReferenceConfig(api_keys=frozenset({KEY}), flavour="openai", base_path="/v1"))
    yield server.start()
    server.stop()


def profile(tmp_path: Path, base_url: str, **limits: float) -> Path:
    values = {
        "timeout": TIMEOUT,
        "deadline": DEADLINE,
        "max_body_bytes": 1024 * 1024,
        "requests_per_minute": 6000,
        # the memory bound below is for a run of every row at five trials (a check drawing more keeps more answers)
        "max_trials": 5,
        **limits,
    }
    path = tmp_path / "hostile.toml"
    path.write_text(
        f'name = "hostile"\nbase_url = "{base_url}"\napi_key_env = "HOSTILE_KEY"\ndialect = "openai"\n'
        "image_url = ''\n"
        '[models]\nchat = "Llama-3.3-70B-Instruct"\nvision = "Llama-4-Scout-17B-16E-Instruct-FP8"\n'
        'moderation = "omni-moderation-latest"\n[limits]\n' + "".join(f"{k} = {v}\n" for k, v in values.items())
    )
    return path


def record(cli, tmp_path: Path, base_url: str, **limits: float):
    cassettes = tmp_path / "cassettes"
    run = cli(
        "run",
        "--target",
        str(profile(tmp_path, base_url, **limits)),
        "--mode",
        "record",
        "--cassette-dir",
        str(cassettes),
        env={"HOSTILE_KEY": KEY},
        timeout=240,
        rss=True,
    )
    return run, cassettes / "hostile"


def replay(cli, tmp_path: Path):
    return cli(
        "run",
        "--target",
        str(tmp_path / "hostile.toml"),
        "--mode",
        "replay",
        "--cassette-dir",
        str(tmp_path / "cassettes"),
        timeout=120,
    )


def encodings(key: str) -> dict[str, str]:
    """The key in every form a server could echo it, each cut to the part that names the key alone."""
    forms = {
        "exact": key,
        "upper": key.upper(),
        "lower": key.lower(),
        "hex": key.encode().hex(),
        "json escapes": "".join(f"\\u{ord(ch):04x}" for ch in key),
        "percent": "".join(f"%{ord(ch):02X}" for ch in key),
        "html": "".join(f"&#x{ord(ch):x};" for ch in key[::2]),
    }
    for prefix in ("", "Bearer ", "k:", "x", "xy"):
        for name, encode in (("base64", base64.b64encode), ("base64url", base64.urlsafe_b64encode)):
            text = encode((prefix + key).encode()).decode()
            skip = -(-len(prefix) // 3) * 4
            forms[f"{name} of {prefix!r}+key"] = text[skip : skip + 20]
    return forms


def leaks(key: str, folders: list[Path], texts: dict[str, str]) -> list[str]:
    found = []
    forms = encodings(key)
    for folder in folders:
        for path in folder.rglob("*") if folder.exists() else []:
            name = path.name.lower()
            found += [f"{form} in the name {path}" for form, value in forms.items() if value.lower() in name]
            if path.is_file():
                data = path.read_bytes().decode("utf-8", "replace")
                found += [f"{form} in {path}" for form, value in forms.items() if value in data]
    for where, text in texts.items():
        found += [f"{form} in {where}" for form, value in forms.items() if value in text]
    return found


def test_a_planted_key_is_found_nowhere_whatever_the_target_echoes(cli, tmp_path, upstream):
    with HostileFront(upstream, set(ECHOES)) as front:
        run, cassettes = record(cli, tmp_path, front.base_url)
    assert run.code == 1, run.stdout + run.stderr  # the echoed model id is listed but cannot be retrieved
    assert "Traceback" not in run.stdout + run.stderr
    again = replay(cli, tmp_path)
    assert again.verdicts() == run.verdicts()
    found = leaks(
        KEY,
        [run.report_dir, again.report_dir, cassettes],
        {"stdout": run.stdout + again.stdout, "stderr": run.stderr + again.stderr},
    )
    assert not found, found
    # the echoes did arrive and were replaced
    assert "<API_KEY>" in (cassettes / "models" / "list.yaml").read_text()
    assert any("<API_KEY>" in path.name or "API_KEY" in path.name for path in cassettes.rglob("*.yaml"))


def _stream_requests(method: str, path: str, body: bytes) -> bool:
    return b'"stream":true' in body


# streams whose headers or body come too slowly for the run's timeouts and deadline
CUT_BY_THE_TIMEOUTS = {"trickle-headers", "endless-headers", "trickle-body"}


@pytest.mark.parametrize(
    ("behaviour", "where"),
    [
        ("trickle-headers", _stream_requests),
        ("endless-headers", _stream_requests),
        ("trickle-body", _stream_requests),
        ("huge-body", None),
        ("gzip-bomb", None),
        ("deep-json", None),
        ("wrong-types", None),
        ("nel-in-text", None),
        ("markdown-injection", None),
        # issue 30: text no UTF-8 holds, floods of tiny events, stacked codings, header floods, and JSON
        # nested just under the parse limit everywhere (every check, both clients and the renderings meet it)
        ("lone-surrogate", None),
        ("invalid-utf8", None),
        ("event-flood", _stream_requests),
        ("stacked-encodings", _stream_requests),
        ("many-headers", _stream_requests),
        ("nested-just-under", None),
        ("deep-json-text", None),
        ("deep-events", _stream_requests),
    ],
)
def test_a_hostile_answer_is_a_verdict_in_bounded_time_memory_and_disk(cli, tmp_path, upstream, behaviour, where):
    with HostileFront(upstream, {behaviour}, where or (lambda *_: True)) as front:
        run, cassettes = record(cli, tmp_path, front.base_url)
    output = run.stdout + run.stderr
    if behaviour in CUT_BY_THE_TIMEOUTS:
        # answers the run's timeouts cut are the transport row's finding (SHOULD), and block the checks that
        # needed them (issue 32: a slow server's cut answers were charged to those checks as MUST failures)
        assert run.code in (0, 1), output
        transport = next(c for c in run.report["checks"] if c["id"] == "transport.answers_come_in_time")
        assert transport["status"] == "fail", transport["message"]
        assert "not answered in time" in transport["message"]
    else:
        assert run.code == 1, output  # MUST failures found: neither the suite's fault (4) nor nothing judged
    assert "Traceback" not in output
    assert "INTERNALERROR" not in output
    assert run.report["summary"]["error"] == 0, [c["message"] for c in run.report["checks"] if c["status"] == "error"]
    slow = {
        exchange_id: exchange["elapsed"]
        for exchange_id, exchange in run.report["exchanges"].items()
        if exchange["elapsed"] > 2 * TIMEOUT + 0.5
    }
    assert not slow, slow
    assert report_problems(run.report) == []
    assert run.max_rss_mb is not None
    # the defaults keep a run of every row at five trials (about 450 exchanges) under 300 MB whatever the target
    # sends
    # (measured, issue 30: 216 to 290 MB, the event flood the most)
    assert run.max_rss_mb < 300
    size = sum(path.stat().st_size for path in cassettes.rglob("*") if path.is_file())
    assert size < 10 * 1024**2
    # the cassettes give back the bytes they were given: the replay judges the same, and ends the same
    again = replay(cli, tmp_path)
    assert again.verdicts() == run.verdicts()
    assert again.code == run.code, again.stdout + again.stderr
    if behaviour == "markdown-injection":
        markdown = (run.report_dir / "report.md").read_text()
        assert INJECTION.split()[0] in markdown  # it is shown ...
        outside_code = re.sub(r"(`+)(?:(?!\1).)+?\1", "", markdown)
        for markup in ("<img", "<script", "](https://evil", "**bold**"):
            assert markup not in outside_code  # ... but only as code


def test_a_run_ends_at_its_time_bound_with_the_report_of_what_it_judged(cli, tmp_path, upstream):
    with HostileFront(upstream, {"trickle-body"}, _stream_requests) as front:
        started = time.monotonic()
        run, _ = record(cli, tmp_path, front.base_url, deadline=30, timeout=20, run_timeout=4)
        seconds = time.monotonic() - started
    assert run.code == 5, run.stdout + run.stderr
    assert seconds < 15
    report = run.report
    assert report_problems(report) == []
    assert report["run"]["complete"] is False
    assert report["run"]["exit_code"] == 5
    assert any("time bound of 4 s" in problem for problem in report["run"]["problems"])
    assert report["summary"]["pass"] > 0  # what was judged before the bound is kept


@pytest.mark.parametrize(
    ("signal_number", "code", "extra", "under_way", "behaviour"),
    [
        # a second and a half into the run the prefetched streams trickle on every connection, and a
        # check that needs a new request may wait for one to free up: the signal must end that too
        (signal.SIGINT, 130, [], "Models (row", "trickle-body"),
        (signal.SIGTERM, 143, [], "Models (row", "trickle-body"),
        # under xdist the controller makes the planned exchanges first, and the workers follow its stop
        (signal.SIGINT, 130, ["--", "-n", "2"], "workers", "trickle-body"),
        # issue 30: whatever is being parsed (the first SIGTERM waited four minutes behind a flood)
        (signal.SIGTERM, 143, [], "Streaming (row", "event-flood"),
    ],
    ids=["SIGINT", "SIGTERM", "SIGINT under xdist", "SIGTERM in an event flood"],
)
def test_a_signal_stops_the_run_within_2_s_with_a_report(
    tmp_path, upstream, signal_number, code, extra, under_way, behaviour
):
    report_dir = tmp_path / "report"
    with HostileFront(upstream, {behaviour}, _stream_requests) as front:
        path = profile(tmp_path, front.base_url, deadline=60, timeout=30)
        command = ["run", "--target", str(path), "--report-dir", str(report_dir), *extra]
        process = subprocess.Popen(
            [sys.executable, "-m", "conformance", *command],
            cwd=tmp_path,
            env={"HOSTILE_KEY": KEY, "PATH": "/usr/bin:/bin", "PYTHONUNBUFFERED": "1"},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert process.stdout is not None
        for line in process.stdout:  # the run is under way once it reaches that row
            if under_way in line:
                break
        time.sleep(1.5 if not extra else 3)
        sent = time.monotonic()
        process.send_signal(signal_number)
        rest, _ = process.communicate(timeout=30)
        seconds = time.monotonic() - sent
    assert process.returncode == code, rest
    assert seconds < 2, rest
    assert "Traceback" not in rest
    report = json.loads((report_dir / "report.json").read_text())
    assert report_problems(report) == []
    assert report["run"]["complete"] is False
    assert report["run"]["exit_code"] == code
    assert report["summary"]["checks"] > 0
    assert report["summary"]["error"] == 0
    # nothing the stop cut short is judged: the trickled streams are not failures
    if behaviour == "trickle-body":
        assert report["summary"]["fail"] <= 1, [c["message"] for c in report["checks"] if c["status"] == "fail"]


def test_retries_never_take_a_run_past_the_dry_runs_bound(cli, tmp_path, upstream):
    """Issue 30: retries took a live run to 541 requests against a dry-run bound of 224."""
    rows = ["--", "-k", "test_models or test_chat_completions or test_sampling"]
    with HostileFront(upstream, {"drops-often"}) as front:
        path = profile(tmp_path, front.base_url)
        planned = cli("run", "--target", str(path), "--dry-run", *rows)
        assert planned.code == 0, planned.stdout + planned.stderr
        bound = int(re.search(r"at most (\d+) requests:", planned.stdout).group(1))  # type: ignore[union-attr]
        run = cli(
            "run",
            "--target",
            str(path),
            "--mode",
            "record",
            "--cassette-dir",
            str(tmp_path / "c"),
            *rows,
            env={"HOSTILE_KEY": KEY},
            timeout=240,
        )
    assert "Traceback" not in run.stdout + run.stderr
    sent = run.report["run"]["requests_sent"]
    # three connections in four are closed before an answer: unbounded, the SDKs' two retries of each
    # request would take the run to nearly three times its planned requests
    assert sent <= bound, (sent, bound)
