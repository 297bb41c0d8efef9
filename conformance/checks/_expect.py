"""Small helpers the checks share: each either returns what the check needs or ends it with a
clear outcome. Messages name the request, what was expected, what came back, and where."""

from __future__ import annotations

import json
import re
from typing import Any

from conformance import sdk_oracle
from conformance.context import CheckContext
from conformance.exchange import Exchange, Response
from conformance.verdicts import CheckFailed, NotApplicable, Unsupported

MAX_SHOWN = 300


def shown(data: bytes | str, limit: int = MAX_SHOWN) -> str:
    """A short, printable excerpt of a body for a message."""
    text = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data
    text = " ".join(text.split())
    if not text:
        return "(empty body)"
    return repr(text if len(text) <= limit else text[:limit] + "…")


def response_of(exchange: Exchange) -> Response:
    """The response, or a failure saying why there is none (timeout, broken connection)."""
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


def expect_status(exchange: Exchange, *expected: int) -> Response:
    response = complete_response_of(exchange)
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


def succeeded(exchange: Exchange, prerequisite: str) -> Any:
    """The JSON body of a successful exchange; otherwise the check does not apply, because
    ``prerequisite`` (the check that judges the exchange itself) already reports the problem."""
    response = exchange.response
    body = exchange.json_body
    if response is None or exchange.failure is not None or response.status != 200 or not body.ok:
        status = "no response" if response is None else f"HTTP {response.status}"
        raise NotApplicable(f"{exchange.describe()} did not succeed ({status}); {prerequisite} reports it")
    return body.value


def expect_valid(
    ctx: CheckContext, exchange: Exchange, value: Any, schema: str, sdk_kind: sdk_oracle.Kind
) -> str | None:
    """Judge ``value`` with both oracles: the dialect's JSON Schema and the openai SDK (strict).

    Passes only when both accept it; a failure says which oracle rejected it, so a disagreement
    between them is visible in the report. Where the dialect documents its own shape for this
    object, the SDK (which knows OpenAI's types only) is consulted but cannot fail it; the returned
    note says what it made of the object."""
    issues = ctx.schemas.validate(schema, value)
    verdict = sdk_oracle.judge(exchange, sdk_kind)
    details = {
        "oracles": {
            "json_schema": "reject" if issues else "accept",
            "openai_sdk": "accept" if verdict.accepted else "reject",
        },
        "schema": f"{ctx.schemas.dialect}/{schema}",
        "schema_issues": [str(issue) for issue in issues],
        "sdk": verdict.summary(),
    }
    own_shape = schema in ctx.schemas.overlaid
    if not issues and (verdict.accepted or own_shape):
        if verdict.accepted:
            return None
        return f"the {ctx.schemas.dialect} dialect documents its own {schema} shape; {verdict.summary()}"
    where = f"{exchange.describe()}: the {schema} object"
    if issues:
        shown_issues = "; ".join(str(issue) for issue in issues[:3])
        more = f" (and {len(issues) - 3} more)" if len(issues) > 3 else ""
        message = f"{where} violates the {ctx.schemas.dialect}/{schema} schema: {shown_issues}{more}"
        if verdict.accepted:
            message += f"; the oracles disagree: {verdict.summary()}"
        elif not own_shape:
            message += f"; {verdict.summary()}"
    else:
        message = f"{where}: {verdict.summary()}; the oracles disagree: the JSON Schema accepts it"
    raise CheckFailed(message, details=details)


def expect_chat_completion(ctx: CheckContext, exchange: Exchange, *, text: bool = True) -> dict[str, Any]:
    """A successful, schema-valid chat completion; with ``text``, its first choice is assistant text."""
    body = expect_json(exchange, 200)
    expect_valid(ctx, exchange, body, "chat-completion", "chat-completion")
    message = body["choices"][0]["message"]
    if text and not isinstance(message.get("content"), str):
        raise CheckFailed(
            f"{exchange.describe()}: $.choices[0].message.content is {message.get('content')!r}, "
            "expected the answer as a string"
        )
    return body


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
    wanted = " or ".join(map(str, expected))
    if response.status < 300:
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
