"""The reference server's sampling, and its mode that behaves like a hosted model (--model-noise)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import httpx2
import pytest

from conformance.reference import ReferenceConfig, ReferenceServer

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
TIME = {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}}}
TRIES = 300


def _client(**config) -> Iterator[httpx2.Client]:
    key = f"sk-noise-{secrets.token_hex(8)}"
    with (
        ReferenceServer(ReferenceConfig(api_keys=frozenset({key}), **config)) as server,
        httpx2.Client(base_url=server.base_url, headers={"authorization": f"Bearer {key}"}, timeout=5) as client,
    ):
        yield client


@pytest.fixture(scope="module")
def plain() -> Iterator[httpx2.Client]:
    yield from _client()


@pytest.fixture(scope="module")
def noisy() -> Iterator[httpx2.Client]:
    yield from _client(model_noise=0.2, noise_seed=14)


def answer(client: httpx2.Client, path: str = "/chat/completions", **body) -> dict:
    payload = {"model": "Llama-3.3-70B-Instruct", "messages": [{"role": "user", "content": "Invent a word."}]}
    payload.update(body)
    response = client.post(path, json=payload)
    assert response.status_code == 200, response.text
    return response.json()["choices"][0]


def text(client: httpx2.Client, **body) -> str:
    return answer(client, **body)["message"]["content"]


def test_temperature_samples_seed_repeats_and_a_narrow_top_p_is_greedy(plain):
    greedy = text(plain, temperature=0)
    assert greedy == "You said: Invent a word."
    assert {text(plain) for _ in range(5)} == {greedy}  # no temperature: the greedy answer
    sampled = {text(plain, temperature=1) for _ in range(10)}
    assert len(sampled) >= 8
    assert all(s.startswith(greedy + " (") for s in sampled)
    assert len({text(plain, temperature=1, seed=7) for _ in range(5)}) == 1
    assert text(plain, temperature=1, seed=7) != text(plain, temperature=1, seed=8)
    assert {text(plain, temperature=1, top_p=0.01) for _ in range(5)} == {greedy}


def test_noise_rewords_at_temperature_0_and_even_with_a_seed(noisy):
    answers = [text(noisy, temperature=0) for _ in range(TRIES)]
    reworded = sum(a != "You said: Invent a word." for a in answers) / TRIES
    assert 0.12 < reworded < 0.28  # P = 0.2; three sigma is 0.07
    assert all(a.endswith("You said: Invent a word.") for a in answers)
    seeded = {text(noisy, temperature=1, seed=7) for _ in range(40)}
    assert 2 <= len(seeded) <= 4  # best effort: the seed's answer, reworded now and then


def test_noise_makes_auto_tool_calls_a_rate_and_adds_parallel_calls(noisy):
    asked = [{"role": "user", "content": "What is the weather in Paris?"}]
    calls = [
        [
            c["function"]["name"]
            for c in answer(noisy, messages=asked, tools=[WEATHER, TIME]).get("message", {}).get("tool_calls") or []
        ]
        for _ in range(TRIES)
    ]
    called = sum("get_weather" in names for names in calls) / TRIES
    assert 0.83 < called < 0.97  # 1 - P/2 = 0.9
    assert any(names == ["get_weather", "get_time"] for names in calls)  # parallel, some of the time
    both = [{"role": "user", "content": "What is the weather, and the time?"}]
    chosen = [
        len(answer(noisy, messages=both, tools=[WEATHER, TIME], tool_choice="required")["message"]["tool_calls"])
        for _ in range(100)
    ]
    assert 1 in chosen
    assert chosen.count(2) > 70
    # what the protocol forces stays forced
    named = {"type": "function", "function": {"name": "get_time"}}
    for _ in range(30):
        forced = answer(noisy, messages=asked, tools=[WEATHER, TIME], tool_choice=named)["message"]["tool_calls"]
        assert [c["function"]["name"] for c in forced] == ["get_time"]
        assert (
            answer(noisy, messages=asked, tools=[WEATHER, TIME], tool_choice="none")["message"].get("tool_calls")
            is None
        )


def test_every_fault_still_works_with_noise(noisy):
    base = str(noisy.base_url).removesuffix("/").removesuffix("/compat/v1")
    asked = [{"role": "user", "content": "What is the weather in Paris?"}]
    with httpx2.Client(base_url=f"{base}/faults/n-ignored/compat/v1", headers=noisy.headers, timeout=5) as fault:
        response = fault.post("/chat/completions", json={"model": "Llama-3.3-70B-Instruct", "messages": asked, "n": 2})
        assert len(response.json()["choices"]) == 1
    with httpx2.Client(
        base_url=f"{base}/faults/auto-rarely-calls/compat/v1", headers=noisy.headers, timeout=5
    ) as fault:
        called = sum(
            bool(answer(fault, messages=asked, tools=[WEATHER])["message"].get("tool_calls")) for _ in range(200)
        )
        assert 20 < called < 65  # 20 % of 200, with room for chance (the draws are seeded)


def test_the_noise_is_a_probability():
    with pytest.raises(ValueError, match="probability"):
        ReferenceConfig(api_keys=frozenset({"k"}), model_noise=1.5)
