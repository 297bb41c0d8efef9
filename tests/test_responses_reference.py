"""The reference server's Responses API, read by the official Python client: objects, streams, tools,
structured output, images, stored state, errors; and none of it in the Llama API flavour."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import openai
import pytest

from conformance import images
from conformance.reference import ReferenceConfig, ReferenceServer

MODEL = "Llama-3.3-70B-Instruct"
VISION = "Llama-4-Scout-17B-16E-Instruct-FP8"
WEATHER = {
    "type": "function",
    "name": "get_weather",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string", "enum": ["Paris", "Rome"]}},
        "required": ["city"],
        "additionalProperties": False,
    },
    "strict": True,
}


@pytest.fixture(scope="module")
def client() -> Iterator[openai.OpenAI]:
    key = f"sk-responses-{secrets.token_hex(8)}"
    config = ReferenceConfig(api_keys=frozenset({key}), flavour="openai", base_path="/v1", stream_delay=0)
    with ReferenceServer(config) as server:
        yield openai.OpenAI(api_key=key, base_url=server.base_url, max_retries=0, timeout=10)


def test_a_response_echoes_its_settings_and_counts_its_tokens(client):
    response = client.responses.create(
        model=MODEL, input="one two three", instructions="Be brief.", temperature=0.5, top_p=0.9, metadata={"a": "b"}
    )
    assert response.status == "completed"
    assert response.output_text.startswith("You said: one two three (")  # two words sampled at temperature 0.5
    assert (response.temperature, response.top_p, response.instructions, response.metadata) == (
        0.5,
        0.9,
        "Be brief.",
        {"a": "b"},
    )
    usage = response.usage
    assert usage is not None
    assert usage.total_tokens == usage.input_tokens + usage.output_tokens


def test_max_output_tokens_cuts_the_answer_and_says_so(client):
    response = client.responses.create(model=MODEL, input="word " * 40, max_output_tokens=16)
    assert response.status == "incomplete"
    assert response.incomplete_details is not None
    assert response.incomplete_details.reason == "max_output_tokens"
    assert response.usage is not None
    assert response.usage.output_tokens == 16
    with pytest.raises(openai.BadRequestError) as refused:
        client.responses.create(model=MODEL, input="hi", max_output_tokens=15)
    assert refused.value.body["param"] == "max_output_tokens"


def test_a_stream_is_the_lifecycle_in_order_and_assembles(client):
    with client.responses.stream(model=MODEL, input="Count to five") as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_response()
    assert kinds[:4] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
    ]
    assert kinds[-4:] == [
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert final.output_text == "You said: Count to five"


def test_function_calls_round_trip_by_call_id(client):
    called = client.responses.create(model=MODEL, input="What is the weather in Paris?", tools=[WEATHER])
    call = called.output[0]
    assert call.type == "function_call"
    assert call.name == "get_weather"
    assert call.call_id
    answered = client.responses.create(
        model=MODEL,
        tools=[WEATHER],
        input=[
            {"role": "user", "content": "What is the weather in Paris?"},
            {"type": "function_call", "call_id": call.call_id, "name": call.name, "arguments": call.arguments},
            {"type": "function_call_output", "call_id": call.call_id, "output": "sunny"},
        ],
    )
    assert answered.output_text == "The tool returned: sunny"
    with pytest.raises(openai.BadRequestError):
        client.responses.create(
            model=MODEL, input=[{"type": "function_call_output", "call_id": "call_never_made", "output": "x"}]
        )
    none = client.responses.create(model=MODEL, input="weather in Paris?", tools=[WEATHER], tool_choice="none")
    assert [item.type for item in none.output] == ["message"]


def test_json_schema_output_is_an_instance(client):
    schema = {
        "type": "object",
        "properties": {"n": {"type": "integer"}},
        "required": ["n"],
        "additionalProperties": False,
    }
    response = client.responses.create(
        model=MODEL, input="JSON please", text={"format": {"type": "json_schema", "name": "n", "schema": schema}}
    )
    assert response.output_text == '{"n": 0}'


def test_images_are_seen_and_bad_ones_refused(client):
    def ask(url: str):
        content = [{"type": "input_text", "text": "colour?"}, {"type": "input_image", "image_url": url}]
        return client.responses.create(model=VISION, input=[{"role": "user", "content": content}])

    assert "red" in ask(images.data_url("png")).output_text
    with pytest.raises(openai.BadRequestError):
        ask(images.corrupt_data_url())


def test_stored_responses_continue_and_are_retrieved_and_unstored_ones_are_not(client):
    first = client.responses.create(model=MODEL, input="Remember 7.")
    follow = client.responses.create(model=MODEL, input="What number?", previous_response_id=first.id)
    alone = client.responses.create(model=MODEL, input="What number?")
    assert follow.previous_response_id == first.id
    assert follow.usage.input_tokens > alone.usage.input_tokens
    assert client.responses.retrieve(first.id).output_text == first.output_text
    unstored = client.responses.create(model=MODEL, input="Forget it.", store=False)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(unstored.id)
    with pytest.raises(openai.BadRequestError) as refused:
        client.responses.create(model=MODEL, input="x", previous_response_id="resp_never")
    assert refused.value.body["param"] == "previous_response_id"


def test_errors_name_their_param_and_keys_are_enforced(client):
    with pytest.raises(openai.BadRequestError) as refused:
        client.responses.create(model=MODEL, input="x", temperature=5)
    assert refused.value.body["param"] == "temperature"
    with pytest.raises(openai.NotFoundError):
        client.responses.create(model="no-such-model", input="x")
    wrong = openai.OpenAI(api_key="sk-wrong", base_url=str(client.base_url), max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        wrong.responses.create(model=MODEL, input="x")


def test_the_llama_flavour_serves_no_responses_api():
    key = "sk-llama-flavour"
    with ReferenceServer(ReferenceConfig(api_keys=frozenset({key}))) as server:
        llama = openai.OpenAI(api_key=key, base_url=server.base_url, max_retries=0)
        with pytest.raises(openai.NotFoundError) as missing:
            llama.responses.create(model=MODEL, input="x")
    assert "Unknown route" in missing.value.body["message"]


def test_a_target_without_responses_is_sent_one_responses_request_and_its_rows_are_unsupported(cli):
    run = cli("run", "--target", "reference", "--mode", "live")
    assert run.code == 0, run.stdout + run.stderr
    sent = [exchange_id for exchange_id in run.report["exchanges"] if exchange_id.startswith("responses")]
    assert sent == ["responses/basic"]
    rows = {row["id"]: row["status"] for row in run.report["rows"] if row["id"].startswith("responses")}
    assert set(rows.values()) == {"unsupported"}
    assert len(rows) == 9
