"""Whatever a user pastes or points at, the answer is one line and a distinct exit code, before a
request is sent: never a traceback, never the key, never a run that goes green by accident."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest

from conformance.runconfig import key_problem

KEY_ENV = {"--api-key-env": "CONFORMANCE_TEST_KEY"}
# never contacted: every case fails before the first request
NOWHERE = "http://127.0.0.1:9/v1"


def one_line(run) -> str:
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, run.stdout + run.stderr
    assert "Traceback" not in run.stdout + run.stderr
    assert lines[0].startswith("conformance: error: ")
    return lines[0]


def live(*extra: str) -> list[str]:
    return ["run", "--base-url", NOWHERE, "--model", "m", "--api-key-env", "K", *extra]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (live("--timeout", "inf"), "a timeout is more than 0 and at most 3600 seconds"),
        (live("--timeout", "1e10"), "a timeout is more than 0 and at most 3600 seconds"),
        (live("--timeout", "nan"), "a timeout is more than 0 and at most 3600 seconds"),
        (live("--timeout", "0"), "a timeout is more than 0 and at most 3600 seconds"),
        (live("--timeout", "-1"), "a timeout is more than 0 and at most 3600 seconds"),
        (live("--timeout", "soon"), "'soon' is not a number of seconds"),
        (live("--deadline", "0"), "a timeout is more than 0 and at most 3600 seconds"),
        (live("--deadline", "nan"), "a timeout is more than 0 and at most 3600 seconds"),
        (live("--run-timeout", "-5"), "a run timeout is more than 0 and at most 86400 seconds"),
        (live("--run-timeout", "inf"), "a run timeout is more than 0 and at most 86400 seconds"),
        (live("--run-timeout", "later"), "'later' is not a number of seconds"),
        (live("--trials", "0"), "'0': trials are a whole number from 1 to 50"),
        (live("--trials", "51"), "'51': trials are a whole number from 1 to 50"),
        (live("--trials", "many"), "'many': trials are a whole number from 1 to 50"),
        (live("--rpm", "0"), "'0': a whole number from 1 to 1000000 is needed"),
        (live("--tpm", "lots"), "'lots': a whole number from 1 to 10000000000 is needed"),
        (live("--concurrency", "65"), "'65': a whole number from 1 to 64 is needed"),
        (["run", "--base-url", "http://exa mple.com/v1", "--model", "m"], "it holds a space (U+0020 SPACE)"),
        (["run", "--base-url", "http://[::1/v1", "--model", "m"], "malformed base URL 'http://[::1/v1': Invalid IPv6"),
        (["run", "--base-url", "http://[::zz]/v1", "--model", "m"], "malformed base URL 'http://[::zz]/v1': '::zz'"),
        (["run", "--base-url", "http://-bad-.example/v1", "--model", "m"], "is not a valid host name"),
        (["run", "--base-url", "http://host:99999/v1", "--model", "m"], "malformed base URL 'http://host:99999/v1'"),
        (["run", "--base-url", NOWHERE, "--model", "a\nb"], "models.chat: the model id 'a\\nb' holds a control"),
        (["run", "--base-url", NOWHERE, "--model", "m", "--vision-model", "x y"], "models.vision: the model id 'x y'"),
        (["serve-reference", "--port", "99999"], "a port is from 0 to 65535"),
        (["serve-reference", "--latency", "1e9"], "at most 3600 seconds"),
    ],
)
def test_bad_options_exit_2_with_one_line(cli, args, expected):
    run = cli(*args, env={"K": "sk-0123456789abcdef"})
    assert run.code == 2, run.stdout + run.stderr
    assert expected in one_line(run)


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("sk-abc\u200bdef0123456789", "a non-ASCII character (U+200B ZERO WIDTH SPACE) at position 7 of 20"),
        ("sk-abc…def0123456789", "a non-ASCII character (U+2026 HORIZONTAL ELLIPSIS) at position 7"),
        ("sk-abc\ndef0123456789", "a line break or tab at position 7"),
        ("sk-abc def0123456789", "a space at position 7"),
        ("sk-abc\x07def0123456789", "a control character at position 7"),
    ],
)
def test_a_key_that_cannot_be_sent_is_refused_without_showing_it(cli, key, expected):
    run = cli(*live(), env={"K": key})
    assert run.code == 2, run.stdout + run.stderr
    line = one_line(run)
    assert f"the key in K has {expected}" in line
    for part in key.split():
        assert part[3:9] not in run.stdout + run.stderr
    assert key_problem("sk-0123456789abcdef") is None


@pytest.mark.parametrize(
    ("limits", "expected"),
    [
        ("timeout = inf", "limits.timeout: Input should be"),
        ("deadline = nan", "limits.deadline: Input should be"),
        ("max_retry_wait = 1e12", "limits.max_retry_wait: Input should be less than or equal to 3600"),
        ("run_timeout = -5", "limits.run_timeout: Input should be greater than 0"),
        ("trials = 0", "limits.trials: Input should be greater than or equal to 1"),
    ],
)
def test_unbounded_limits_in_a_profile_are_refused(cli, tmp_path, limits, expected):
    profile = tmp_path / "p.toml"
    profile.write_text(f'base_url = "{NOWHERE}"\napi_key_env = "K"\n[models]\nchat = "m"\n[limits]\n{limits}\n')
    run = cli("run", "--target", str(profile), env={"K": "sk-0123456789abcdef"})
    assert run.code == 2, run.stdout + run.stderr
    assert expected in one_line(run)


def _unwritable() -> Path:
    try:
        Path(tempfile.mkdtemp(dir="/sys")).rmdir()
    except OSError:
        return Path("/sys/conformance-report")
    pytest.skip("/sys is writable here")


@pytest.mark.parametrize(
    ("where", "extra", "expected"),
    [
        (lambda tmp: tmp / "a-file", [], "the report folder {path} is not a directory"),
        (lambda tmp: tmp / "a-file" / "below", [], "is under {tmp}/a-file, which is not a directory"),
        (lambda tmp: _unwritable(), [], "the report folder {path} is not writable"),
        (lambda tmp: tmp / "a-file", ["--dry-run"], "the report folder {path} is not a directory"),
    ],
    ids=["a file", "under a file", "unwritable", "dry run into a file"],
)
def test_an_unusable_report_folder_is_refused_before_anything_is_sent(cli, tmp_path, where, extra, expected):
    (tmp_path / "a-file").write_text("x")
    path = where(tmp_path)
    run = cli(*live("--report-dir", str(path), *extra), env={"K": "sk-0123456789abcdef"})
    assert run.code == 2, run.stdout + run.stderr
    assert expected.format(path=path, tmp=tmp_path) in one_line(run)


def test_an_unusable_cassette_folder_is_refused_before_a_recording_starts(cli, tmp_path):
    (tmp_path / "a-file").write_text("x")
    run = cli(*live("--mode", "record", "--cassette-dir", str(tmp_path / "a-file")), env={"K": "sk-0123456789abcdef"})
    assert run.code == 2, run.stdout + run.stderr
    assert "the cassette folder" in one_line(run)
    assert "not a directory" in one_line(run)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"checks": "x"}', "'checks' is not an object"),
        ('{"checks": {"a": "great"}, "rows": {}}', "checks.a has the unknown status 'great'"),
        ("[1, 2]", "it is not a JSON object"),
        ("[" * 10_000 + "]" * 10_000, "nested deeper than 128 levels"),
        (b"\xff\xfe", "cannot read the baseline"),
    ],
)
def test_a_broken_baseline_is_one_line_and_exit_2(cli, tmp_path, content, expected):
    baseline = tmp_path / "baseline.json"
    baseline.write_bytes(content if isinstance(content, bytes) else content.encode())
    run = cli("gate", "--baseline", str(baseline), str(Path(__file__).parents[1] / "reports/reference/report.json"))
    assert run.code == 2, run.stdout + run.stderr
    assert expected in one_line(run)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("[" * 10_000 + "]" * 10_000, "nested deeper than 128 levels"),
        (b"\xff\xfe", "cannot read the report"),
        ('{"report_version": "1.1"}', "is not a conformance report"),
    ],
)
@pytest.mark.parametrize("command", ["render", "baseline", "compare"])
def test_a_broken_report_is_one_line_and_exit_2(cli, tmp_path, content, expected, command):
    report = tmp_path / "report.json"
    report.write_bytes(content if isinstance(content, bytes) else content.encode())
    args = ["baseline", "write", str(report)] if command == "baseline" else [command, str(report)]
    run = cli(*args)
    assert run.code == 2, run.stdout + run.stderr
    assert expected in one_line(run)


def test_a_cassette_set_with_an_alias_bomb_is_refused(cli, tmp_path):
    folder = tmp_path / "cassettes" / "bomb" / "models"
    folder.mkdir(parents=True)
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]" for n in range(1, 9)]
    (folder / "list.yaml").write_text("\n".join(lines) + "\n")
    run = cli(
        "run", "--name", "bomb", "--model", "m", "--mode", "replay", "--cassette-dir", str(tmp_path / "cassettes")
    )
    assert run.code == 2, run.stdout + run.stderr
    assert "uses YAML anchors or aliases" in one_line(run)


def test_a_target_from_the_command_line_replays_from_its_recordings(cli, tmp_path, reference_server):
    base_url, key = reference_server
    cassettes = tmp_path / "cassettes"
    common = ["--name", "mine", "--cassette-dir", str(cassettes)]
    recorded = cli(
        "run",
        "--base-url",
        base_url,
        "--api-key-env",
        "MY_KEY",
        "--model",
        "Llama-3.3-70B-Instruct",
        "--vision-model",
        "Llama-4-Scout-17B-16E-Instruct-FP8",
        "--dialect",
        "llama-api",
        "--mode",
        "record",
        *common,
        env={"MY_KEY": key},
        timeout=240,
    )
    assert recorded.code in (0, 1), recorded.stdout + recorded.stderr
    info = (cassettes / "mine" / "cassette-set.yaml").read_text()
    assert "Llama-4-Scout-17B-16E-Instruct-FP8" in info
    assert key not in info
    # no profile, no base URL: the recordings say what the target was
    replayed = cli("run", *common, timeout=120)
    assert replayed.code == recorded.code, replayed.stdout + replayed.stderr
    assert replayed.verdicts() == recorded.verdicts()
    assert replayed.report["target"]["dialect"] == "llama-api"
    missing = cli("run", "--name", "never-recorded", "--cassette-dir", str(cassettes))
    assert missing.code == 2
    assert "target 'never-recorded' has no base URL" in one_line(missing)


def test_a_base_url_beside_the_api_exits_3_with_a_hint(cli, reference_server):
    base_url, key = reference_server
    beside = base_url.removesuffix("/compat/v1")
    run = cli("run", "--base-url", beside, "--api-key-env", "K", "--model", "Llama-3.3-70B-Instruct", env={"K": key})
    assert run.code == 3, run.stdout + run.stderr
    problems = run.report["run"]["problems"]
    assert any("answered 404 to" in p and "usually served under /v1" in p for p in problems), problems
    assert run.report["summary"]["fail"] == 0


def test_a_run_that_judges_nothing_never_exits_0(cli, tmp_path):
    from conformance.registry import load_all
    from conformance.rows import ROW_IDS

    profile = tmp_path / "nothing.toml"
    profile.write_text(
        f'base_url = "{NOWHERE}"\napi_key_env = "K"\n[models]\nchat = "m"\n[capabilities]\n'
        f"unsupported = {json.dumps(list(ROW_IDS))}\n"
    )
    run = cli("run", "--target", str(profile), env={"K": "sk-0123456789abcdef"})
    assert run.code == 2, run.stdout + run.stderr
    assert run.report["run"]["exit_code"] == 2
    assert run.report["run"]["requests_sent"] == 0
    wanted = f"no check reached a verdict ({len(load_all())} unsupported)"
    assert any(wanted in p for p in run.report["run"]["problems"])
