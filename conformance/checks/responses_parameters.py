"""Row ``responses-parameters``: every /responses parameter that no other row judges, sent one at a time on
a plain request at realistic valid values and at one invalid value (``conformance.checks._sweep``), and the
settings a response echoes echoed as sent."""

from __future__ import annotations

from conformance.checks import _sweep
from conformance.checks._responses import BASIC, BASIC_CHECK, offered, responses_request
from conformance.context import CheckContext
from conformance.dialects import Dialect
from conformance.exchange import Request
from conformance.profiles import Target
from conformance.registry import check
from conformance.verdicts import Level, Note

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
