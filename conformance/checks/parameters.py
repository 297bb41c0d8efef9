"""Row ``parameters``: every chat parameter that no other row judges, sent one at a time on a plain
request at realistic valid values and at one invalid value (``conformance.checks._sweep``)."""

from __future__ import annotations

from conformance.checks import _sweep
from conformance.checks._requests import chat_request, user
from conformance.context import CheckContext
from conformance.dialects import Dialect
from conformance.exchange import Request
from conformance.profiles import Target
from conformance.registry import check
from conformance.verdicts import Level, Note

PREFIX = "parameters"
ENDPOINT = "POST /chat/completions"
BASIC = "chat-completions/basic"
NEVER_BREAK = "parameters.documented_parameters_never_break_the_server"
INVALID = "parameters.invalid_values_are_refused_with_400"


def _baseline(target: Target, exchange_id: str, purpose: str) -> Request | None:
    return chat_request(target, exchange_id, purpose, user("Say hello."))


def _plan(target: Target, dialect: Dialect) -> list[Request]:
    return _sweep.plan(PREFIX, ENDPOINT, _baseline, target, dialect)


def _sent(ctx: CheckContext) -> list[_sweep.Sent]:
    return _sweep.sent(ctx, PREFIX, ENDPOINT, _baseline, (BASIC, "chat-completions.basic_request_succeeds"))


@check("parameters", Level.MUST, source="openai-parameters", needs=(BASIC,), extra=_plan)
def documented_parameters_never_break_the_server(ctx: CheckContext) -> Note:
    """Every documented chat parameter no other row judges, at realistic and invalid values, is answered with
    HTTP 200 and a chat completion or refused with a 4xx: never a 5xx, a dropped connection or a malformed 200."""
    return _sweep.never_broken(_sent(ctx), ENDPOINT)


@check("parameters", Level.SHOULD, source="openai-parameters", needs=(BASIC,), extra=_plan)
def valid_values_are_accepted(ctx: CheckContext) -> Note:
    """Each of those parameters at realistic valid values (edges of its range, each value of a short enum) is
    answered (HTTP 200), as OpenAI answers it, unless the dialect says it may be refused."""
    return _sweep.accepted(_sent(ctx), ctx.dialect, ENDPOINT, NEVER_BREAK)


@check("parameters", Level.MUST, source="openai-parameters", needs=(BASIC,), extra=_plan)
def invalid_values_are_refused_with_400(ctx: CheckContext) -> Note:
    """Each of those parameters at a value outside its documented type, values or bounds is refused with HTTP
    400 (the SDK raises BadRequestError), never answered (200) or refused with another status."""
    return _sweep.invalid_refused(_sent(ctx), ctx.dialect, ENDPOINT, NEVER_BREAK)


@check("parameters", Level.SHOULD, source="openai-parameters", needs=(BASIC,), extra=_plan)
def refusals_name_the_parameter(ctx: CheckContext) -> Note:
    """Each refusal of an invalid value names the parameter, in error.param or in the message."""
    return _sweep.refusals_named(_sent(ctx), ctx.dialect, ENDPOINT, NEVER_BREAK, INVALID)
