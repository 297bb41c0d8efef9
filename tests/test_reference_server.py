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
        # api.openai.com: an unknown chat model is a 404 with param null
        ({"model": "nope"}, 404, None),
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
    # the Llama API serves neither legacy completions nor embeddings: the Llama flavour has no such routes
    for path in ("/completions", "/embeddings"):
        refused = api.post(path, json={"model": "Llama-3.3-70B-Instruct", "prompt": "x", "input": "x"})
        assert (refused.status_code, refused.json()["error"]["code"]) == (404, "not_found")
    response = api.delete("/models")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "strict": True,
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string", "enum": ["Paris"]}},
            "required": ["city"],
            "additionalProperties": False,
        },
    },
}


def test_tool_choice_decides_the_calls_and_the_finish_reason(api):
    ask = [{"role": "user", "content": "What is the weather in Paris?"}]
    auto = chat(api, messages=ask, tools=[WEATHER]).json()["choices"][0]
    assert auto["finish_reason"] == "tool_calls"
    assert json.loads(auto["message"]["tool_calls"][0]["function"]["arguments"]) == {"city": "Paris"}
    named = chat(
        api, messages=ask, tools=[WEATHER], tool_choice={"type": "function", "function": {"name": "get_weather"}}
    ).json()["choices"][0]
    assert named["finish_reason"] == "stop"
    assert named["message"]["content"] is None
    none = chat(api, messages=ask, tools=[WEATHER], tool_choice="none").json()["choices"][0]
    assert "tool_calls" not in none["message"]
    assert none["finish_reason"] == "stop"
    unrelated = chat(api, messages=[{"role": "user", "content": "Hello"}], tools=[WEATHER]).json()["choices"][0]
    assert "tool_calls" not in unrelated["message"]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"tool_choice": "required"}, "tool_choice"),
        ({"tools": [WEATHER], "tool_choice": {"type": "function", "function": {"name": "nope"}}}, "tool_choice"),
        ({"messages": [{"role": "tool", "tool_call_id": "call_x", "content": "21"}]}, "messages[0].tool_call_id"),
        (
            {"response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "nonsense"}}}},
            "response_format",
        ),
        (
            {
                "response_format": {
                    "type": "json_schema",
                    "json_schema": {
                        "name": "x",
                        "strict": True,
                        "schema": {"type": "object", "properties": {"a": {"type": "string"}}},
                    },
                }
            },
            "response_format",
        ),
        ({"response_format": {"type": "yaml"}}, "response_format.type"),
    ],
)
def test_inconsistent_tool_and_format_requests_are_refused(api, body, param):
    response = chat(api, **body)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == param


def test_json_answers_follow_the_requested_format(api):
    schema = {
        "type": "object",
        "properties": {
            "city": {"type": "string", "enum": ["Rome"]},
            "tags": {"type": "array", "items": {"type": "boolean"}},
        },
        "required": ["city", "tags"],
        "additionalProperties": False,
    }
    answer = chat(
        api,
        max_tokens=100,
        response_format={"type": "json_schema", "json_schema": {"name": "c", "schema": schema, "strict": True}},
    )
    assert json.loads(answer.json()["choices"][0]["message"]["content"]) == {"city": "Rome", "tags": [True]}
    plain = chat(api, max_tokens=100, response_format={"type": "json_object"}).json()
    assert json.loads(plain["choices"][0]["message"]["content"])["answer"].startswith("You said:")


def test_streamed_tool_calls_come_in_pieces(api):
    response = chat(
        api, stream=True, tools=[WEATHER], tool_choice="required", messages=[{"role": "user", "content": "weather?"}]
    )
    chunks = [json.loads(b.removeprefix("data: ")) for b in response.text.split("\n\n") if b and b != "data: [DONE]"]
    parts = [c["choices"][0]["delta"]["tool_calls"][0] for c in chunks if c["choices"][0]["delta"].get("tool_calls")]
    assert parts[0]["id"]
    assert parts[0]["function"]["name"] == "get_weather"
    assert all("id" not in part for part in parts[1:])
    assert json.loads("".join(p["function"].get("arguments", "") for p in parts)) == {"city": "Paris"}
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"


def test_images_are_described_by_colour(api):
    from conformance import images

    messages = [
        {
            "role": "user",
            "content": [{"type": "text", "text": "colour?"}, images.image_part(images.data_url("png", "blue"))],
        }
    ]
    body = chat(api, model="Llama-4-Scout-17B-16E-Instruct-FP8", messages=messages).json()
    assert body["choices"][0]["message"]["content"] == "I see 1 image: blue."


def test_the_reference_speaks_the_llama_dialect_categories():
    from conformance.dialects import load_dialect
    from conformance.reference.catalog import HAZARD_CATEGORIES

    assert tuple(load_dialect("llama-api").moderation_categories) == HAZARD_CATEGORIES
