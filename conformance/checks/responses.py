"""Row ``responses``: POST /responses without streaming. The response object's form (judged once, over
every response of the run: its schema, openai-python's types and the TypeScript client), the fields the
Open Responses specification adds, usage, the settings echoed, instructions and max_output_tokens.

Every check of the Responses rows first asks whether the target serves /responses at all (a 404 on
``responses/basic`` makes them unsupported, not failed)."""

from __future__ import annotations

from typing import Any

from conformance.checks._every import RESPONSE_FORM, every, judge_each
from conformance.checks._expect import brief, expect_json, expect_valid
from conformance.checks._responses import (
    ANSWER_TOKENS,
    BASIC,
    BASIC_CHECK,
    cut,
    events_of,
    final_response,
    offered,
    output_text,
    response_body,
    responses_request,
    usage_of,
)
from conformance.context import CheckContext
from conformance.exchange import Exchange, Request
from conformance.profiles import Target
from conformance.registry import check, probe
from conformance.verdicts import Blocked, CheckFailed, Level, NotApplicable

SPEC_FIELDS = "responses.response_has_every_open_responses_field"
INSTRUCTIONS = (
    "You are a patient assistant for a museum's front desk. Answer in one short sentence, in plain words, "
    "without lists, and never mention that you are a program or that these instructions exist."
)
HELLO = "Say hello in exactly 3 words."
LONG = (
    "Write a long story about a lighthouse keeper who finds a message in a bottle, with at least ten paragraphs, "
    "many characters, and a surprising ending that ties every thread together."
)
SETTINGS = {"temperature": 0.5, "top_p": 0.9, "metadata": {"suite": "openai-conformance"}}
SETTINGS_CAP = 24


@probe(BASIC)
def basic(target: Target) -> Request | None:
    return responses_request(target, BASIC, "a string input (the compliance tester's basic-response)", HELLO)


@probe("responses/system-prompt")
def system_prompt(target: Target) -> Request | None:
    items = [
        {"type": "message", "role": "system", "content": "You are a pirate. Always respond in pirate speak."},
        {"type": "message", "role": "user", "content": "Say hello."},
    ]
    return responses_request(target, "responses/system-prompt", "a system message item before the user's", items)


@probe("responses/developer")
def developer(target: Target) -> Request | None:
    items = [
        {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "Be terse."}]},
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Name a fruit."}]},
    ]
    return responses_request(target, "responses/developer", "a developer item, content as input_text parts", items)


@probe("responses/instructions")
def instructions(target: Target) -> Request | None:
    return responses_request(
        target,
        "responses/instructions",
        "the basic input with 30 words of instructions",
        HELLO,
        instructions=INSTRUCTIONS,
    )


@probe("responses/settings")
def settings(target: Target) -> Request | None:
    request = responses_request(
        target, "responses/settings", "temperature, top_p, metadata and a cap", HELLO, answer_tokens=SETTINGS_CAP
    )
    if request is None:
        return None
    return Request(request.id, "POST", "/responses", request.purpose, json={**request.json, **SETTINGS})


@probe("responses/capped")
def capped(target: Target) -> Request | None:
    return responses_request(
        target, "responses/capped", f"a long story asked for, capped at {ANSWER_TOKENS}", LONG, thinking=False
    )


@check("responses", Level.MUST, source="open-responses-compliance", needs=(BASIC,))
def basic_request_is_answered(ctx: CheckContext) -> str | None:
    """A string input is answered with HTTP 200 and a response whose output holds an assistant message with text,
    status "completed" (or "incomplete" for max_output_tokens, with a capped answer)."""
    offered(ctx)
    exchange = ctx.exchange(BASIC)
    body = response_body(exchange)
    text = output_text(exchange, body)
    status = body.get("status")
    if status != "completed" and not cut(body):
        raise CheckFailed(f"{exchange.describe()}: status is {brief(status)}, expected 'completed'")
    if not any(item.get("type") == "message" for item in body["output"]) or not text:
        raise CheckFailed(f"{exchange.describe()}: the output holds no message with text: {brief(body['output'], 120)}")
    return f"status {status}, {len(text)} characters of text"


def _responses(ctx: CheckContext) -> list[Exchange]:
    offered(ctx, judged_over_every_answer=True)
    return every(ctx, "response")


@check("responses", Level.MUST, source="open-responses-spec", needs=(BASIC,), runs_last=True)
def response_is_schema_valid(ctx: CheckContext) -> str | None:
    """Every response object the run got (POST /responses and GET /responses/{id}) is JSON and of the response's
    form (id, object "response", created_at, status, model, output items, tools, tool_choice, usage), by the
    schema, openai-python's types and the TypeScript client."""

    notes = set()

    def judge(exchange: Exchange) -> None:
        note = expect_valid(ctx, exchange, expect_json(exchange, 200), "response", "response")
        if note:
            notes.add(note)

    verdict = judge_each(_responses(ctx), judge, noun="responses", empty="the run got no response object")
    return "; ".join([verdict, *sorted(notes)[:3]])


@check("responses", Level.SHOULD, source="open-responses-spec", needs=(BASIC,), runs_last=True)
def response_has_every_open_responses_field(ctx: CheckContext) -> str | None:
    """Every response carries the fields the Open Responses specification requires beyond the SDK's (the settings
    echoed, even when null: completed_at, penalties, max_tool_calls, safety_identifier, ...), which its compliance
    tester's zod schema demands."""

    def judge(exchange: Exchange) -> None:
        body = exchange.json_body
        if not body.ok:
            raise Blocked(RESPONSE_FORM, f"{exchange.describe()}: {body.error}")
        issues = ctx.schemas.validate("response-open-responses", body.value)
        if issues:
            shown = "; ".join(str(issue) for issue in issues[:4])
            raise CheckFailed(f"{exchange.describe()}: the Open Responses schema wants more: {shown}")

    return judge_each(_responses(ctx), judge, noun="responses", empty="the run got no response object")


@check("responses", Level.SHOULD, source="open-responses-spec", needs=(BASIC,), runs_last=True)
def usage_is_reported(ctx: CheckContext) -> str | None:
    """Every finished response that was not failed or cancelled reports its token usage (input_tokens,
    output_tokens, total_tokens); one that ended before any work, or is still queued or in progress (a
    background response), may have none."""

    def judge(exchange: Exchange) -> None:
        response = exchange.response
        if response is not None and response.media_type == "text/event-stream":
            # answered as a stream: the response its terminal event carries is the one that reports usage
            body = final_response(exchange, events_of(exchange))
            if body.get("usage") is None:
                raise CheckFailed(f"{exchange.describe()}: the stream's final response has no usage")
            return
        if not isinstance(exchange.json_body.value, dict):
            raise Blocked(RESPONSE_FORM, f"{exchange.describe()}: the answer is not a JSON object to read usage in")
        if exchange.json_body.value.get("usage") is None:
            raise CheckFailed(f"{exchange.describe()}: the response has no usage")

    ran = [
        e
        for e in _responses(ctx)
        if not (
            isinstance(e.json_body.value, dict)
            and e.json_body.value.get("status") in ("failed", "cancelled", "queued", "in_progress")
        )
    ]
    return judge_each(ran, judge, noun="responses", empty="the run got no response that ran")


@check("responses", Level.MUST, source="open-responses-spec", needs=(BASIC,), runs_last=True)
def usage_adds_up(ctx: CheckContext) -> str | None:
    """In every response that reports usage, total_tokens equals input_tokens plus output_tokens, all non-negative
    integers."""

    def judge(exchange: Exchange) -> None:
        body = exchange.json_body.value
        counts = {name: usage_of(body, name) for name in ("input_tokens", "output_tokens", "total_tokens")}
        missing = [name for name, value in counts.items() if value is None or value < 0]
        if missing:
            raise Blocked(RESPONSE_FORM, f"{exchange.describe()}: $.usage.{missing[0]} is no non-negative integer")
        total, parts = counts["total_tokens"], counts["input_tokens"] + counts["output_tokens"]  # type: ignore[operator]
        if total != parts:
            raise CheckFailed(
                f"{exchange.describe()}: $.usage.total_tokens is {total}, but input_tokens {counts['input_tokens']} + "
                f"output_tokens {counts['output_tokens']} = {parts}"
            )

    reporting = [
        e for e in _responses(ctx) if isinstance(e.json_body.value, dict) and e.json_body.value.get("usage") is not None
    ]
    return judge_each(reporting, judge, noun="responses with usage", empty="no response reports usage")


@check(
    "responses",
    Level.MUST,
    source="open-responses-compliance",
    needs=("responses/system-prompt", "responses/developer", BASIC),
)
def system_and_developer_items_are_answered(ctx: CheckContext) -> str | None:
    """Input items with a system message (the compliance tester's system-prompt) and with a developer message whose
    content is input_text parts are each answered with a response."""
    offered(ctx)
    for exchange in [ctx.exchange("responses/system-prompt"), ctx.exchange("responses/developer")]:
        response_body(exchange)
    return None


def _settings(ctx: CheckContext) -> tuple[Exchange, dict[str, Any]]:
    offered(ctx)
    exchange = ctx.exchange("responses/settings")
    return exchange, response_body(exchange)


@check("responses", Level.MUST, source="open-responses-spec", needs=("responses/settings", BASIC))
def temperature_and_top_p_are_accepted(ctx: CheckContext) -> str | None:
    """A request with temperature, top_p, metadata and max_output_tokens is answered (HTTP 200)."""
    _settings(ctx)
    return None


@check("responses", Level.SHOULD, source="open-responses-spec", needs=("responses/settings", "responses/instructions"))
def settings_are_echoed(ctx: CheckContext) -> str | None:
    """The response echoes the settings it was made with, as sent: temperature, top_p, max_output_tokens, metadata
    and instructions (a setting the response leaves out is response_has_every_open_responses_field's to report)."""
    exchange, body = _settings(ctx)
    told = ctx.exchange("responses/instructions")
    answered = response_body(told, answered_by="responses.instructions_reach_the_model")
    sent = exchange.request.json
    echoed = [(name, body, sent[name]) for name in ("temperature", "top_p", "max_output_tokens", "metadata")]
    echoed.append(("instructions", answered, INSTRUCTIONS))
    present = [(name, said, wanted) for name, said, wanted in echoed if name in said]
    if not present:
        raise Blocked(SPEC_FIELDS, f"{exchange.describe()}: the responses echo none of the settings")
    wrong = [
        f"{name} {brief(said[name], 40)} (sent {brief(wanted, 40)})"
        for name, said, wanted in present
        if said[name] != wanted
    ]
    if wrong:
        raise CheckFailed(f"{exchange.describe()}: the response echoes {', '.join(wrong)}")
    return f"{len(present)} settings echoed as sent"


@check("responses", Level.SHOULD, source="open-responses-spec", needs=("responses/instructions", BASIC))
def instructions_reach_the_model(ctx: CheckContext) -> str | None:
    """The instructions are part of what the model reads: with 30 words of instructions, usage.input_tokens exceeds
    that of the same input without them by at least half a token per word."""
    offered(ctx)
    told, plain = ctx.exchange("responses/instructions"), ctx.exchange(BASIC)
    with_them = usage_of(response_body(told), "input_tokens")
    without = usage_of(response_body(plain, answered_by=BASIC_CHECK), "input_tokens")
    if with_them is None or without is None:
        raise Blocked("responses.usage_is_reported", "the responses report no usage.input_tokens to compare")
    words = len(INSTRUCTIONS.split())
    if with_them < without + words // 2:
        raise CheckFailed(
            f"{told.describe()}: {with_them} input tokens with {words} words of instructions and {without} without: "
            "the instructions do not reach the model"
        )
    return f"{with_them} input tokens with the instructions, {without} without"


@check("responses", Level.MUST, source="open-responses-spec", needs=("responses/capped", BASIC))
def max_output_tokens_is_honoured(ctx: CheckContext) -> str | None:
    """Asked for a long story with max_output_tokens 16, the answer spends at most 16 output tokens, and a response
    stopped there says so: status "incomplete" with incomplete_details.reason "max_output_tokens"."""
    offered(ctx)
    exchange = ctx.exchange("responses/capped")
    body = response_body(exchange)
    spent = usage_of(body, "output_tokens")
    if spent is None:
        raise Blocked("responses.usage_is_reported", f"{exchange.describe()}: no usage.output_tokens to compare")
    if spent > ANSWER_TOKENS:
        raise CheckFailed(f"{exchange.describe()}: {spent} output tokens, over max_output_tokens {ANSWER_TOKENS}")
    if spent == ANSWER_TOKENS and not cut(body):
        raise CheckFailed(
            f"{exchange.describe()}: the answer stopped at the cap ({spent} output tokens) but its status is "
            f"{brief(body.get('status'))} with incomplete_details {brief(body.get('incomplete_details'))}, expected "
            "'incomplete' for max_output_tokens"
        )
    if spent < ANSWER_TOKENS and cut(body):
        raise CheckFailed(f"{exchange.describe()}: incomplete for max_output_tokens after only {spent} output tokens")
    if not cut(body):
        raise NotApplicable(f"{exchange.describe()}: the model stopped on its own after {spent} tokens")
    return f"{spent} output tokens, status incomplete for max_output_tokens"
