"""Small helpers the checks share: each either returns what the check needs or ends it with a
clear outcome. Messages name the request, what was expected, what came back, and where."""

from __future__ import annotations

import json
import re
from typing import Any

from conformance import client_differences, sdk_oracle, thinking, ts_oracle
from conformance.checks._every import (
    CHAT_FORM,
    CHAT_TEXT,
    IN_TIME,
    RATE_LIMITS,
    STARVED,
    THINKING_IN_CONTENT,
    kind_of,
    rate_limited,
)
from conformance.context import CheckContext
from conformance.exchange import Exchange, Response
from conformance.verdicts import Blocked, CheckFailed, NotApplicable, Unsupported

MAX_SHOWN = 300


class Starved(Blocked):
    """The answer cannot be judged: the model's thinking spent the whole cap before a word of it was
    written (the run's allowance for thinking was too small); a check over trials leaves such a trial out."""

    def __init__(self, reason: str, by: str = STARVED) -> None:
        super().__init__(by, reason)


def expect_written(exchange: Exchange, message: Any, finish_reason: Any, usage: Any = None) -> None:
    """The answer was written apart from any thinking: its content holds no thinking marks (else the check is
    blocked by the reasoning row's check of them), and the thinking did not spend the whole cap (else
    ``Starved``)."""
    content = message.get("content") if isinstance(message, dict) else None
    mark = thinking.marker_in(content)
    if mark is not None:
        raise Blocked(THINKING_IN_CONTENT, f"{exchange.describe()}: the content holds the thinking mark {mark!r}")
    if thinking.starved(message, finish_reason, usage):
        spent = thinking.reasoning_tokens(usage)
        raise Starved(
            f"{exchange.describe()}: the thinking spent the whole cap"
            + (f" ({spent} reasoning tokens)" if spent is not None else "")
            + " before a word of the answer"
        )


def brief(value: Any, limit: int = 60) -> str:
    """A value as Python shows it, cut to ``limit`` characters, for a message."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def shown(data: bytes | str, limit: int = MAX_SHOWN) -> str:
    """A short, printable excerpt of a body for a message."""
    text = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data
    text = " ".join(text.split())
    if not text:
        return "(empty body)"
    return repr(text if len(text) <= limit else text[:limit] + "…")


def response_of(exchange: Exchange) -> Response:
    """The response, or a failure saying why there is none (a broken connection); an answer that did not come in
    time is the transport row's finding, and blocks the check that needs it."""
    if exchange.timed_out():
        assert exchange.failure is not None
        raise Blocked(IN_TIME, f"{exchange.describe()} was not answered in time: {exchange.failure.message}")
    if exchange.response is None:
        reason = exchange.failure.message if exchange.failure else "no response"
        raise CheckFailed(f"{exchange.describe()}: no response: {reason}")
    return exchange.response


def complete_response_of(exchange: Exchange) -> Response:
    response = response_of(exchange)
    if exchange.failure is not None:
        raise CheckFailed(
            f"{exchange.describe()}: HTTP {response.status} but the body was cut short: {exchange.failure.message}"
        )
    return response


def not_rate_limited(exchange: Exchange, *expected: int) -> None:
    """A rate limit (however the target signals it) is judged in errors-rate-limit, not here."""
    response = exchange.response
    signal = rate_limited(exchange) if response is not None and response.status not in expected else None
    if signal is not None:
        raise Blocked(RATE_LIMITS, f"{exchange.describe()} was rate limited ({signal}) after the suite's retries")


def expect_status(exchange: Exchange, *expected: int, answered_by: str | None = None) -> Response:
    """A complete response with one of ``expected``; with ``answered_by`` (the check that owns the
    request's claim to be answered), anything else blocks the check instead of failing it."""
    if answered_by is not None and (
        exchange.response is None or exchange.failure is not None or exchange.response.status not in expected
    ):
        not_rate_limited(exchange, *expected)
        status = "no response" if exchange.response is None else f"HTTP {exchange.response.status}"
        raise Blocked(answered_by, f"{exchange.describe()} was not answered as the claim needs ({status})")
    response = complete_response_of(exchange)
    not_rate_limited(exchange, *expected)
    if response.status not in expected:
        wanted = " or ".join(str(status) for status in expected)
        location = response.header("location")
        where = f" (redirect to {location})" if location and 300 <= response.status < 400 else ""
        raise CheckFailed(
            f"{exchange.describe()}: expected HTTP {wanted}, got {response.status}{where}; body {shown(response.body)}"
        )
    return response


def expect_json(exchange: Exchange, *statuses: int) -> Any:
    """The JSON body of a response with one of ``statuses`` and Content-Type application/json."""
    response = expect_status(exchange, *statuses)
    if response.media_type != "application/json":
        raise CheckFailed(
            f"{exchange.describe()}: expected Content-Type application/json, got "
            f"{response.header('content-type') or 'no Content-Type'}; body {shown(response.body)}"
        )
    body = exchange.json_body
    if not body.ok:
        raise CheckFailed(f"{exchange.describe()}: {body.error}; body {shown(response.body)}")
    return body.value


def expect_answered(exchange: Exchange) -> None:
    """The request was answered with 200; otherwise the check fails, saying what the request was for and the
    target's reason (a refusal of a request the check sent is that check's finding)."""
    try:
        expect_status(exchange, 200)
    except CheckFailed as failure:
        message = error_message(exchange) or ""
        said = f"{exchange.purpose}: {failure.message}" + (f" ({brief(message, 80)})" if message else "")
        raise CheckFailed(said) from None


def succeeded(exchange: Exchange, prerequisite: str) -> Any:
    """The JSON body of a successful exchange; otherwise the check is blocked, because
    ``prerequisite`` (the check that judges the exchange itself) reports the problem."""
    response = exchange.response
    body = exchange.json_body
    if response is None or exchange.failure is not None or response.status != 200 or not body.ok:
        not_rate_limited(exchange, 200)
        status = "no response" if response is None else f"HTTP {response.status}"
        if response is not None and response.status == 200 and exchange.failure is None:
            status = body.error or "not JSON"
        raise Blocked(prerequisite, f"{exchange.describe()} did not succeed ({status})")
    return body.value


def expect_valid(
    ctx: CheckContext, exchange: Exchange, value: Any, schema: str, sdk_kind: sdk_oracle.Kind
) -> str | None:
    """Judge ``value`` with every oracle: the dialect's JSON Schema, the Python SDK (strict) and the
    TypeScript SDK (what a Node app reads first from it).

    Passes only when all of them accept it; a failure says which rejected it and which did not, so a
    disagreement is visible in the report. Where the dialect documents its own shape for this
    object, the SDKs (which know OpenAI's types only) are consulted but cannot fail it; the returned
    note says what they made of the object. A TypeScript client that could not be run (no node)
    fails nothing, and the details say so."""
    differ = client_differences.note(exchange, sdk_kind)
    issues = ctx.schemas.validate(schema, value)
    verdict = sdk_oracle.judge(exchange, sdk_kind)
    typescript = ts_oracle.judge(exchange, sdk_kind)
    ts_rejects = typescript.ran and not typescript.accepted
    details = {
        "oracles": {
            "json_schema": "reject" if issues else "accept",
            "openai_sdk": "accept" if verdict.accepted else "reject",
            "openai_sdk_strict": "reject"
            if verdict.strict is not None and not verdict.strict.accepted
            else ("accept" if verdict.accepted else "not asked"),
            "typescript_sdk": ("reject" if ts_rejects else "accept") if typescript.ran else "not run",
        },
        "schema": f"{ctx.schemas.dialect}/{schema}",
        "schema_issues": [str(issue) for issue in issues],
        "sdk": verdict.summary(),
        "typescript_sdk": typescript.summary(),
    }
    own_shape = schema in ctx.schemas.overlaid
    # a field the SDK's types promise and the answer lacks: the app's client reads the answer, but an app reading
    # that field gets an AttributeError; the strict client says which (a finding about the answer, not the client)
    strict_rejects = bool(verdict.second_opinion())
    if not issues and ((verdict.accepted and not ts_rejects and not strict_rejects) or own_shape):
        if verdict.accepted and not ts_rejects:
            return verdict.summary() if strict_rejects else None
        said = clients(verdict, typescript, differ)
        return f"the {ctx.schemas.dialect} dialect documents its own {schema} shape; {said}"
    where = f"{exchange.describe()}: the {schema} object"
    if issues:
        shown_issues = "; ".join(str(issue) for issue in issues[:3])
        more = f" (and {len(issues) - 3} more)" if len(issues) > 3 else ""
        message = f"{where} violates the {ctx.schemas.dialect}/{schema} schema: {shown_issues}{more}"
        if verdict.accepted or (typescript.ran and typescript.accepted):
            message += f"; the oracles disagree: {clients(verdict, typescript, differ)}"
        elif not own_shape:
            message += f"; {clients(verdict, typescript, differ)}"
    else:
        message = f"{where}: {clients(verdict, typescript, differ)}; the oracles disagree: the JSON Schema accepts it"
    raise CheckFailed(message, details=details)


def clients(
    python: sdk_oracle.SdkVerdict,
    typescript: ts_oracle.TsVerdict,
    differ: list[client_differences.ClientDifference] | None = None,
) -> str:
    """What each official client makes of an answer, in one phrase ("Python reads it; TypeScript throws: ..."); where
    they hand the app different things (``differ``), what each hands it."""
    if not typescript.ran:
        return python.summary()
    if differ:
        said = "; ".join(difference.said() for difference in differ)
        return f"{python.summary()}; {typescript.summary()}; the clients differ: {said}"
    if python.accepted and typescript.accepted:
        return f"both clients read it ({python.summary()}; {typescript.summary()})"
    return f"{python.summary()}; {typescript.summary()}"


# the values of finish_reason the chat completion's form allows
FINISH_REASONS = ("stop", "length", "tool_calls", "content_filter", "function_call")


def finish_reason_of(exchange: Exchange, choice: dict[str, Any]) -> Any:
    """A choice's finish_reason, for a claim about which one it is; a value outside the enum is the
    chat completion's form, which blocks the claim (chat-completions.response_is_schema_valid)."""
    reason = choice.get("finish_reason")
    if reason not in FINISH_REASONS:
        raise Blocked(CHAT_FORM, f"{exchange.describe()}: finish_reason is {brief(reason, 40)}, not one OpenAI sends")
    return reason


def expect_chat_completion(
    ctx: CheckContext, exchange: Exchange, *, text: bool = True, answered_by: str | None = None
) -> dict[str, Any]:
    """The answer to a chat request, read as far as a check about that request needs it.

    The request must have been answered (HTTP 200, whole): otherwise the check fails, since that is
    its claim. The answer must be a JSON object whose choices hold messages (and, with ``text``, the
    first choice's content a string): otherwise the check is *blocked*, because the form of every
    chat completion is judged once, by chat-completions.response_is_schema_valid (and the text by
    chat-completions.message_is_assistant_text), not by every check that reads one. Where another
    check owns the request's claim to be answered (``answered_by``), a refusal blocks this one too."""
    expect_status(exchange, 200, answered_by=answered_by)
    body = exchange.json_body
    if not body.ok:
        raise Blocked(CHAT_FORM, f"{exchange.describe()}: {body.error}")
    value = body.value
    choices = value.get("choices") if isinstance(value, dict) else None
    readable = (
        isinstance(choices, list)
        and choices
        and all(isinstance(choice, dict) and isinstance(choice.get("message"), dict) for choice in choices)
    )
    if not readable:
        raise Blocked(CHAT_FORM, f"{exchange.describe()}: the answer has no choices with a message to read")
    assert isinstance(value, dict)
    if text:
        message = choices[0]["message"]
        expect_written(exchange, message, choices[0].get("finish_reason"), value.get("usage"))
        if not isinstance(message.get("content"), str):
            raise Blocked(
                CHAT_TEXT, f"{exchange.describe()}: $.choices[0].message.content is {brief(message.get('content'))}"
            )
    return value


_UNSUPPORTED = re.compile(
    r"not (yet )?supported|unsupported|not implemented|not available|unrecogni[sz]ed|unknown (parameter|field|argument)"
    r"|extra (inputs|fields) (are )?not permitted|not allowed",
    re.IGNORECASE,
)


def error_message(exchange: Exchange) -> str | None:
    """The message of an error response in whatever shape it came."""
    body = exchange.json_body
    if body.ok:
        value = body.value
        if isinstance(value, dict):
            error = value.get("error", value)
            if isinstance(error, dict):
                for key in ("message", "detail", "msg", "title"):
                    if isinstance(error.get(key), str):
                        return error[key]
                return json.dumps(error)[:300]
            if isinstance(error, str):
                return error
    if exchange.response is not None:
        return exchange.response.body.decode("utf-8", errors="replace")[:300]
    return None


def unsupported_if_refused(exchange: Exchange, what: str) -> None:
    """Raise Unsupported when the target clearly says it does not support ``what``: a 400, 404,
    405, 422 or 501 whose message says so (or 501 on its own)."""
    response = exchange.response
    if response is None or response.status not in (400, 404, 405, 422, 501):
        return
    message = error_message(exchange) or ""
    if response.status == 501 or _UNSUPPORTED.search(message):
        raise Unsupported(f"{exchange.describe()}: {what} refused with HTTP {response.status}: {shown(message, 200)}")


def expect_refusal(exchange: Exchange, expected: tuple[int, ...], what: str, *, answered: str = "") -> Response:
    """A refusal of ``what`` with one of the ``expected`` statuses; ``answered`` says what a success
    would mean for user code."""
    response = response_of(exchange)
    if response.status in expected:
        return response
    not_rate_limited(exchange, *expected)
    wanted = " or ".join(map(str, expected))
    if response.status < 300:
        # an answer no form check reads (it should not exist): what the two clients make of it is this check's
        client_differences.note_answer(exchange, kind_of(exchange))
        raise CheckFailed(
            f"{exchange.describe()}: {what} was answered (HTTP {response.status}) instead of refused with {wanted}"
            + (f": {answered}" if answered else "")
        )
    raised = sdk_oracle.judge(exchange, "error").raised
    raise CheckFailed(
        f"{exchange.describe()}: {what} was refused with HTTP {response.status}, expected {wanted} (the SDK raises "
        f"{raised}); message {shown(error_message(exchange) or '', 120)}"
    )


def expect_error_envelope(ctx: CheckContext, exchange: Exchange, prerequisite: str) -> str | None:
    """An error answer is JSON in the envelope {"error": {message, type, param, code}}, judged by both
    oracles; not applicable when the request was not refused at all."""
    response = response_of(exchange)
    if response.status < 400:
        raise NotApplicable(f"{exchange.describe()} was not refused (HTTP {response.status}); {prerequisite} says so")
    client_differences.note(exchange, "error")
    body = expect_json(exchange, response.status)
    return expect_valid(ctx, exchange, body, "error", "error") or sdk_oracle.judge(exchange, "error").summary()


def expect_envelopes(ctx: CheckContext, probe_ids: tuple[str, ...]) -> str:
    """Every refusal among these probes' exchanges is in the error envelope (probes that do not apply
    to the target, and requests that were not refused, are left out)."""
    judged = 0
    for probe_id in probe_ids:
        try:
            exchange = ctx.exchange(probe_id)
        except NotApplicable:
            continue
        if exchange.response is not None and exchange.response.status >= 400:
            expect_error_envelope(ctx, exchange, "the check of its status")
            judged += 1
    if not judged:
        raise NotApplicable("none of these requests was refused; the checks of their status say so")
    return f"{judged} refusals in the envelope"
