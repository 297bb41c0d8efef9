"""Row ``responses-parameters``: every /responses parameter that no other row judges, sent one at a time on
a plain request at realistic valid values and at one invalid value (``conformance.checks._sweep``), and the
settings a response echoes echoed as sent."""

from __future__ import annotations

from typing import Any

from conformance.checks import _sweep
from conformance.checks._expect import brief, unsupported_if_refused
from conformance.checks._responses import BASIC, BASIC_CHECK, offered, output_text, response_body, responses_request
from conformance.context import CheckContext
from conformance.dialects import Dialect
from conformance.exchange import Request
from conformance.profiles import Target
from conformance.registry import check, probe
from conformance.verdicts import CheckFailed, Level, NotApplicable, Note

PREFIX = "responses-parameters"
ENDPOINT = "POST /responses"
NEVER_BREAK = "responses-parameters.documented_parameters_never_break_the_server"
INVALID = "responses-parameters.invalid_values_are_refused_with_400"
# the check of the fields every response carries (these settings among them)
EVERY_FIELD = "responses.response_has_every_open_responses_field"
# settings the Response object carries as they were sent (service_tier says the tier that served it, and the
# deprecated user, prompt_cache_retention and prompt_cache_options may come back normalised)
ECHOED = ("background", "max_tool_calls", "top_logprobs", "truncation", "prompt_cache_key", "safety_identifier")


def _baseline(target: Target, exchange_id: str, purpose: str) -> Request | None:
    return responses_request(target, exchange_id, purpose, "Say hello.")


def _plan(target: Target, dialect: Dialect) -> list[Request]:
    return _sweep.plan(PREFIX, ENDPOINT, _baseline, target, dialect)


def _sent(ctx: CheckContext) -> list[_sweep.Sent]:
    offered(ctx)
    return _sweep.sent(ctx, PREFIX, ENDPOINT, _baseline, (BASIC, BASIC_CHECK))


@check("responses-parameters", Level.MUST, source="openai-parameters", needs=(BASIC,), extra=_plan)
def documented_parameters_never_break_the_server(ctx: CheckContext) -> Note:
    """Every documented /responses parameter no other row judges, at realistic and invalid values, is answered
    with HTTP 200 and a response or refused with a 4xx: never a 5xx, a dropped connection or a malformed 200."""
    return _sweep.never_broken(_sent(ctx), ENDPOINT)


@check("responses-parameters", Level.SHOULD, source="openai-parameters", needs=(BASIC,), extra=_plan)
def valid_values_are_accepted(ctx: CheckContext) -> Note:
    """Each of those parameters at realistic valid values (edges of its range, each value of a short enum) is
    answered (HTTP 200), as OpenAI answers it, unless the dialect says it may be refused."""
    return _sweep.accepted(_sent(ctx), ctx.dialect, ENDPOINT, NEVER_BREAK)


@check("responses-parameters", Level.SHOULD, source="openai-parameters", needs=(BASIC,), extra=_plan)
def settings_are_echoed_as_sent(ctx: CheckContext) -> Note:
    """A response made with background, max_tool_calls, top_logprobs, truncation, prompt_cache_key or
    safety_identifier that carries the setting carries the value sent: the parameter was read, not dropped."""
    return _sweep.echoed(_sent(ctx), ctx.dialect, ENDPOINT, ECHOED, NEVER_BREAK, EVERY_FIELD)


@check("responses-parameters", Level.MUST, source="openai-parameters", needs=(BASIC,), extra=_plan)
def invalid_values_are_refused_with_400(ctx: CheckContext) -> Note:
    """Each of those parameters at a value outside its documented type, values or bounds is refused with HTTP
    400 (the SDKs raise BadRequestError), never answered (200) or refused with another status."""
    return _sweep.invalid_refused(_sent(ctx), ctx.dialect, ENDPOINT, NEVER_BREAK)


@check("responses-parameters", Level.SHOULD, source="openai-parameters", needs=(BASIC,), extra=_plan)
def refusals_name_the_parameter(ctx: CheckContext) -> Note:
    """Each refusal of an invalid value names the parameter, in error.param or in the message."""
    return _sweep.refusals_named(_sent(ctx), ctx.dialect, ENDPOINT, NEVER_BREAK, INVALID)


LOGPROBS = "responses-parameters/top-logprobs"
TOP_LOGPROBS = 2
INCLUDED = "message.output_text.logprobs"


@probe(LOGPROBS)
def top_logprobs(target: Target) -> Request | None:
    return responses_request(
        target,
        LOGPROBS,
        f"include {INCLUDED} with top_logprobs {TOP_LOGPROBS}",
        "Name a colour.",
        include=[INCLUDED],
        top_logprobs=TOP_LOGPROBS,
    )


@check("responses-parameters", Level.MUST, source="openai-responses-logprobs", needs=(LOGPROBS,))
def logprobs_come_when_included(ctx: CheckContext) -> str | None:
    """include ["message.output_text.logprobs"] with top_logprobs 2 gives each output_text part its logprobs, per
    token a token, its logprob, its bytes and one or two alternatives, or is refused as not supported (as OpenAI
    refuses them for reasoning models); they are not accepted and ignored."""
    offered(ctx)
    exchange = ctx.exchange(LOGPROBS)
    unsupported_if_refused(exchange, "logprobs")  # OpenAI's reasoning models: "logprobs are not supported ..."
    body = response_body(exchange, answered_by="responses-parameters.valid_values_are_accepted")
    if not output_text(exchange, body).strip():
        raise NotApplicable(f"{exchange.describe()}: the answer has no text to give log probabilities for")
    problems, tokens = [], 0
    for index, item in enumerate(body["output"]):
        for number, part in enumerate(item.get("content") or [] if item.get("type") == "message" else []):
            if not isinstance(part, dict) or part.get("type") != "output_text" or not part.get("text"):
                continue
            where = f"$.output[{index}].content[{number}].logprobs"
            logprobs = part.get("logprobs")
            if not isinstance(logprobs, list) or not logprobs:
                problems.append(f"{where} is {brief(logprobs, 40)}: the logprobs included are not there")
                continue
            tokens += len(logprobs)
            problems += _entry_problems(where, logprobs)[:1]
    if problems:
        raise CheckFailed(f"{exchange.describe()}: " + "; ".join(problems[:3]))
    return f"{tokens} tokens with their logprobs and alternatives"


def _entry_problems(where: str, logprobs: list[Any]) -> list[str]:
    problems = []
    for position, entry in enumerate(logprobs):
        here = f"{where}[{position}]"
        if not isinstance(entry, dict) or not _token_entry(entry):
            problems.append(f"{here} is not a token with its logprob and bytes: {brief(entry, 80)}")
            continue
        alternatives = entry.get("top_logprobs")
        if not isinstance(alternatives, list) or not 1 <= len(alternatives) <= TOP_LOGPROBS:
            count = len(alternatives) if isinstance(alternatives, list) else brief(alternatives, 30)
            problems.append(f"{here}.top_logprobs holds {count}, expected 1 to {TOP_LOGPROBS} with top_logprobs 2")
        elif not all(isinstance(alternative, dict) and _token_entry(alternative) for alternative in alternatives):
            problems.append(f"{here}.top_logprobs holds entries without token, logprob and bytes")
    return problems


def _token_entry(entry: dict[str, Any]) -> bool:
    logprob = entry.get("logprob")
    return (
        isinstance(entry.get("token"), str)
        and isinstance(logprob, int | float)
        and not isinstance(logprob, bool)
        and isinstance(entry.get("bytes"), list)
    )
