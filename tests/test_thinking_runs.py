"""Thinking is not failing: a whole run against the reference server thinking 400 tokens before every answer
(in either field spelling, the cap covering thinking and answer) gets no MUST or SHOULD failure that the same
server without thinking does not get, and leaves no more checks unjudged; its replay notices the thinking from
the same recording and gives the same verdicts. Without the allowance for thinking, the starved answers block
the checks that read them, and one SHOULD check says why."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import Cli, Run

from conformance.reference import ReferenceConfig, ReferenceServer

JUDGED = ("pass", "fail", "deviation")
PROFILE = """name = "{name}"
dialect = "openai"
base_url = "{base_url}"
api_key_env = "THINKING_TEST_KEY"
mid_stream_error = {{ metadata = {{ reference_fault = "mid-stream-error" }} }}

[models]
chat = "Llama-3.3-70B-Instruct"
vision = "Llama-4-Scout-17B-16E-Instruct-FP8"
moderation = "omni-moderation-latest"
text_only = "Llama-3.3-8B-Instruct"
forbidden = "Llama-Restricted-Preview"

[limits]
concurrency = 4
timeout = 10
max_reasoning_tokens = {allowance}
"""


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[str, dict[str, str]]]:
    key = f"sk-thinking-{secrets.token_hex(8)}"
    made = {
        "plain": ReferenceConfig(api_keys=frozenset({key}), flavour="openai", base_path="/v1"),
        "thinker": ReferenceConfig(api_keys=frozenset({key}), flavour="openai", base_path="/v1", thinking=400),
        "thinker-reasoning": ReferenceConfig(
            api_keys=frozenset({key}), flavour="openai", base_path="/v1", thinking=400, reasoning_field="reasoning"
        ),
    }
    running = {name: ReferenceServer(config) for name, config in made.items()}
    urls = {name: server.start() for name, server in running.items()}
    yield key, urls
    for server in running.values():
        server.stop()


def _run(
    cli: Cli, tmp_path: Path, key: str, name: str, base_url: str, *, allowance: int = 1024, mode: str = "record"
) -> Run:
    profile = tmp_path / f"{name}-{allowance}.toml"
    profile.write_text(PROFILE.format(name=name, base_url=base_url, allowance=allowance))
    cassettes = tmp_path / f"cassettes-{name}-{allowance}"
    return cli(
        "run",
        "--target",
        str(profile),
        "--mode",
        mode,
        "--cassette-dir",
        str(cassettes),
        env={"THINKING_TEST_KEY": key},
        timeout=300,
    )


def _unjudged_or_failing(thinker: dict[str, str], plain: dict[str, str]) -> tuple[list[str], list[str]]:
    failing = [c for c, status in thinker.items() if status == "fail" and plain.get(c) != "fail"]
    unjudged = [c for c, status in thinker.items() if status not in JUDGED and plain.get(c) in JUDGED]
    return failing, unjudged


@pytest.mark.parametrize("thinker", ["thinker", "thinker-reasoning"])
def test_a_server_that_thinks_400_tokens_is_judged_as_truly_as_one_that_does_not(cli, tmp_path, servers, thinker):
    key, urls = servers
    plain = _run(cli, tmp_path, key, "plain", urls["plain"])
    thinking = _run(cli, tmp_path, key, thinker, urls[thinker])
    assert plain.code == 0, plain.stdout
    assert thinking.code == 0, thinking.stdout
    failing, unjudged = _unjudged_or_failing(thinking.verdicts(), plain.verdicts())
    assert failing == []
    assert unjudged == []  # the target allows 2
    assert thinking.report["run"]["thinking"] == {
        "thinks": True,
        "how": "noticed from reasoning/basic",
        "allowance": 1024,
        "max_reasoning_tokens": 1024,
    }
    field = next(c for c in thinking.report["checks"] if c["id"] == "reasoning.thinking_comes_in_one_field")
    assert field["details"] == {"field": "reasoning" if thinker.endswith("reasoning") else "reasoning_content"}
    replayed = _run(cli, tmp_path, key, thinker, urls[thinker], mode="replay")
    assert replayed.code == 0, replayed.stdout + replayed.stderr
    assert replayed.verdicts() == thinking.verdicts()
    assert replayed.report["run"]["thinking"] == thinking.report["run"]["thinking"]


def test_without_an_allowance_starved_answers_block_their_checks_and_one_check_says_why(cli, tmp_path, servers):
    key, urls = servers
    starved = _run(cli, tmp_path, key, "thinker", urls["thinker"], allowance=0)
    verdicts = starved.verdicts()
    failing = sorted(c for c, status in verdicts.items() if status == "fail")
    assert failing == [
        "reasoning.answers_leave_room_after_thinking",
        "responses-reasoning.answers_leave_room_after_thinking",
    ]
    blocked = [c for c in starved.report["checks"] if c["status"] == "blocked"]
    assert len(blocked) >= 20
    assert {c["blocked_by"] for c in blocked} >= {
        "reasoning.answers_leave_room_after_thinking",
        "responses-reasoning.answers_leave_room_after_thinking",
    }
    assert starved.code == 0  # a SHOULD finding: the model thinks more than the run allowed
