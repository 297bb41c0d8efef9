"""The reference server keeps the documented Llama API compat contract: keys, limits, usage, errors."""

from __future__ import annotations

import base64
import json

import httpx2
import pytest

BASE64_PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 16).decode()


@pytest.fixture
def api(reference_server):
    base_url, key = reference_server
    with httpx2.Client(base_url=base_url, headers={"authorization": f"Bearer {key}"}, timeout=5) as client:
        yield client


def chat(api, **body):
    payload = {"model": "Llama-3.3-70B-Instruct", "messages": [{"role": "user", "content": "one two three four"}]}
    payload.update(body)
    return api.post("/chat/completions", json=payload)


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "missing_api_key"),
        ({"authorization": "Bearer wrong"}, "invalid_api_key"),
        ({"authorization": "Token abc"}, "invalid_api_key"),
    ],
)
def test_every_endpoint_enforces_the_bearer_key(reference_server, headers, code):
    base_url, _ = reference_server
    response = httpx2.get(f"{base_url}/models", headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == code


def test_max_tokens_cuts_the_answer_and_usage_adds_up(api):
    full = chat(api).json()
    cut = chat(api, max_tokens=3).json()
    assert full["choices"][0]["message"]["content"] == "You said: one two three four"
    assert full["choices"][0]["finish_reason"] == "stop"
    assert cut["choices"][0]["message"]["content"] == "You said: one"
    assert cut["choices"][0]["finish_reason"] == "length"
    for body in (full, cut):
        usage = body["usage"]
        assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert cut["usage"]["completion_tokens"] == 3
    assert chat(api, max_completion_tokens=2).json()["usage"]["completion_tokens"] == 2


def test_stop_and_n_are_honoured(api):
    body = chat(api, stop=["three"], n=2).json()
    assert [choice["index"] for choice in body["choices"]] == [0, 1]
    assert all("three" not in choice["message"]["content"] for choice in body["choices"])


def test_the_stream_is_framed_as_server_sent_events(api):
    response = chat(api, stream=True, stream_options={"include_usage": True})
    assert response.headers["content-type"].startswith("text/event-stream")
    events = [block for block in response.text.split("\n\n") if block]
    assert events[-1] == "data: [DONE]"
    chunks = [json.loads(block.removeprefix("data: ")) for block in events[:-1]]
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"]["total_tokens"] > 0
    assert len({chunk["id"] for chunk in chunks}) == 1
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert text == "You said: one two three four"


@pytest.mark.parametrize(
    ("body", "status", "param"),
    [
        ({"model": "nope"}, 404, "model"),
        ({"model": None}, 400, "model"),
        ({"messages": []}, 400, "messages"),
        ({"messages": "hi"}, 400, "messages"),
        ({"messages": [{"role": "wizard", "content": "x"}]}, 400, "messages[0].role"),
        ({"temperature": 3}, 400, "temperature"),
        ({"top_p": 1.5}, 400, "top_p"),
        ({"max_tokens": 0}, 400, "max_tokens"),
        ({"stream_options": {"include_usage": True}}, 400, "stream_options"),
        (
            {
                "messages": [
                    {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://x/a.png"}}]}
                ]
            },
            400,
            "messages[0].content[0]",
        ),
    ],
)
def test_invalid_requests_get_the_error_envelope(api, body, status, param):
    response = chat(api, **body)
    assert response.status_code == status
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["param"] == param


def image(url):
    return {"type": "image_url", "image_url": {"url": url}}


@pytest.mark.parametrize(
    ("parts", "status"),
    [
        ([image(f"data:image/png;base64,{BASE64_PNG}")], 200),
        ([image("https://example.com/cat.jpg")], 200),
        ([image(f"data:image/png;base64,{BASE64_PNG}")] * 9, 200),
        ([image(f"data:image/png;base64,{BASE64_PNG}")] * 10, 400),
        ([image("data:image/png;base64,!!!not-base64")], 400),
        ([image(f"data:image/webp;base64,{BASE64_PNG}")], 400),
        ([image(f"data:image/jpeg;base64,{BASE64_PNG}")], 400),
    ],
)
def test_images_follow_the_documented_limits(api, parts, status):
    messages = [{"role": "user", "content": [{"type": "text", "text": "what is this?"}, *parts]}]
    response = chat(api, model="Llama-4-Scout-17B-16E-Instruct-FP8", messages=messages)
    assert response.status_code == status, response.text


def test_moderation_uses_llama_categories_without_scores(api):
    body = api.post("/moderations", json={"input": ["how to make a bomb", "hello"]}).json()
    assert body["model"] == "Llama-Guard"
    first, second = body["results"]
    assert first["flagged"]
    assert first["categories"]["indiscriminate-weapons"]
    assert not second["flagged"]
    assert not any(second["categories"].values())
    assert "category_scores" not in first
    assert "category_applied_input_types" not in first
    parts = [{"type": "text", "text": "hi"}, image(f"data:image/png;base64,{BASE64_PNG}")]
    assert len(api.post("/moderations", json={"input": parts}).json()["results"]) == 1


def test_unknown_routes_and_methods_get_the_envelope(api):
    assert api.get("/nope").json()["error"]["code"] == "not_found"
    response = api.delete("/models")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
