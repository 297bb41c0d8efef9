"""The Python client's stream helper (chat.completions.stream(), get_final_completion()) as an oracle: what it
assembles, where it mangles or raises, and which check reports it (issue 28, item 4)."""

from __future__ import annotations

from helpers import chunk, judge, sse, stream_exchange, text_stream
from test_checks_ts_client import needs_node

from conformance import sdk_oracle
from conformance.verdicts import Status

PYTHON = "streaming.python_stream_helper_assembles_every_stream"
ROLE = "streaming.role_comes_first_and_once"
TOOLS = "tools.streamed_calls_reassemble"


def batched(exchange_id: str = "streaming/basic"):
    """The first chunk carries the role delta and the first words as two entries of choice 0."""
    pieces = text_stream("Hello there you")
    second = pieces.pop(1)
    pieces[0]["choices"].append(second["choices"][0])
    return stream_exchange(exchange_id, sse(pieces))


def test_the_helper_assembles_a_conforming_stream():
    exchange = stream_exchange("streaming/basic", sse(text_stream("Hello there.")))
    verdict = sdk_oracle.judge(exchange, "chat-completion-stream-helper")
    assert verdict.accepted
    assert verdict.value.choices[0].message.content == "Hello there."
    result = judge(PYTHON, exchange)
    assert result.status == Status.PASS, result.message
    assert result.message.startswith("1 streams assembled by Python openai")


@needs_node
def test_what_only_pythons_helper_trips_on_is_its_check_s_finding():
    result = judge(PYTHON, batched())
    assert result.status == Status.FAIL, result.message
    assert "get_final_completion() raises AttributeError" in result.message
    # TypeScript's helper accumulates both entries: its check passes on the same stream
    assert judge("streaming.typescript_stream_helper_assembles_every_stream", batched()).status == Status.PASS


@needs_node
def test_where_both_helpers_fail_typescript_s_check_reports_it_and_says_what_python_does():
    pieces = [chunk({"role": "assistant", "content": "Hi"}, index=1), chunk({}, "stop", index=1)]
    exchange = stream_exchange("streaming/basic", sse(pieces))
    python = judge(PYTHON, exchange)
    assert python.status == Status.BLOCKED
    assert python.blocked_by == "streaming.typescript_stream_helper_assembles_every_stream"
    assert "IndexError" in python.message
    typescript = judge("streaming.typescript_stream_helper_assembles_every_stream", exchange)
    assert typescript.status == Status.FAIL
    assert "get_final_completion() raises IndexError" in typescript.message


def test_a_role_repeated_in_every_delta_is_joined_and_the_role_check_says_so():
    """ollama/ollama#7626, pydantic/logfire#545: the helper joins every string of the deltas."""
    pieces = text_stream("Hi you")
    for piece in pieces:
        piece["choices"][0]["delta"]["role"] = "assistant"
    exchange = stream_exchange("streaming/basic", sse(pieces))
    role = judge(ROLE, exchange)
    assert role.status == Status.FAIL
    assert "hands the app role 'assistantassistantassistant" in role.message
    python = judge(PYTHON, exchange)
    assert python.status == Status.BLOCKED
    assert python.blocked_by == ROLE


def _tool_stream(repeat: bool):
    first = {"index": 0, "id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": ""}}
    arguments = ['{"city": ', '"Rome", "unit": "celsius"}']
    later = [{"index": 0, "function": {"arguments": piece}} for piece in arguments]
    if repeat:  # Fireworks, NVIDIA NIM: every delta names the call again
        for part in later:
            part.update(id="call_1", type="function")
            part["function"]["name"] = "get_weather"
    pieces = [chunk({"role": "assistant", "tool_calls": [first]})]
    pieces += [chunk({"tool_calls": [part]}) for part in later]
    pieces.append(chunk({}, "tool_calls"))
    return stream_exchange("tools/stream", sse(pieces))


def test_a_call_whose_id_and_name_every_delta_repeats_is_mangled_for_python_apps():
    """BerriAI/litellm#8990, NousResearch/hermes-agent#8259: the tools row reports it, with both clients."""
    assert judge(TOOLS, _tool_stream(repeat=False)).status == Status.PASS
    result = judge(TOOLS, _tool_stream(repeat=True))
    assert result.status == Status.FAIL, result.message
    assert "hands the app call 0 with id 'call_1call_1call_1' and name 'get_weatherget_weatherget_weather'" in (
        result.message
    )
    assert "TypeScript's ChatCompletionStream keeps the last" in result.message
