"""The opt-in rate-limit bursts (``--allow-rate-limit-probe`` or ``[rate_limit] probe = true``): tiny requests
to the profile's rate-limit model, sent back to back until one is limited or the budget runs out.

Both bursts and the chat recovery are made once per run, in one order, by whichever check asks first (also
under xdist, where the exchanges are shared): chat completions until a 429, the wait for its Retry-After
(the profile's max_wait at most; a replay does not wait), the recovery request, then POST /responses where
the target serves it. So the recovery never races the other burst for the same window.
"""

from __future__ import annotations

import email.utils
import time
from dataclasses import dataclass, field

from conformance import gates
from conformance.checks._limits import RECOVERY, limited, past_the_limit
from conformance.checks._requests import chat_request
from conformance.checks._responses import ANSWER_TOKENS, BASIC, responses_request
from conformance.context import CheckContext
from conformance.dialects import Dialect
from conformance.exchange import Exchange, Request
from conformance.profiles import Target
from conformance.verdicts import CheckFailed

HELLO = [{"role": "user", "content": "Hi."}]
RESPONSES_ROW = "responses-errors"


def retry_after(exchange: Exchange) -> float | None:
    """Seconds to wait from Retry-After (seconds or an HTTP date) or retry-after-ms; None when absent."""
    response = exchange.response
    if response is None:
        return None
    milliseconds = response.header("retry-after-ms")
    if milliseconds is not None:
        try:
            return max(float(milliseconds) / 1000, 0.0)
        except ValueError:
            raise CheckFailed(f"{exchange.describe()}: retry-after-ms {milliseconds!r} is not a number") from None
    value = response.header("retry-after")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        raise CheckFailed(
            f"{exchange.describe()}: Retry-After {value!r} is neither a number of seconds nor an HTTP date"
        ) from None
    return max(when.timestamp() - time.time(), 0.0)


def _unpaced(request: Request | None) -> Request | None:
    if request is None:
        return None
    return Request(request.id, request.method, request.path, request.purpose, json=request.json, paced=False)


def chat_burst_request(target: Target, number: int) -> Request | None:
    """Request ``number`` of the chat burst (0: the recovery after the wait)."""
    exchange_id = RECOVERY if number == 0 else f"errors-rate-limit/burst/{number:03d}"
    purpose = "the first request after the wait" if number == 0 else f"request {number} of a burst to provoke a 429"
    model = target.rate_limit.model or target.models.chat
    return _unpaced(chat_request(target, exchange_id, purpose, HELLO, model=model, answer_tokens=1, thinking=False))


def responses_burst_request(target: Target, number: int) -> Request | None:
    """Request ``number`` of the burst on POST /responses."""
    model = target.rate_limit.model or target.models.chat
    exchange_id = f"responses-errors/burst/{number:03d}"
    purpose = f"request {number} of a burst on /responses to provoke a 429"
    return _unpaced(
        responses_request(target, exchange_id, purpose, "Hi.", model=model, answer_tokens=ANSWER_TOKENS, thinking=False)
    )


def chat_plan(target: Target, dialect: Dialect) -> list[Request]:
    if not target.rate_limit.probe:
        return []
    requests = [chat_burst_request(target, n) for n in [*range(1, target.rate_limit.budget + 1), 0]]
    return [request for request in requests if request is not None]


def responses_plan(target: Target, dialect: Dialect) -> list[Request]:
    if not target.rate_limit.probe or RESPONSES_ROW in target.capabilities.unsupported:
        return []
    requests = [responses_burst_request(target, n) for n in range(1, target.rate_limit.budget + 1)]
    return [request for request in requests if request is not None]


@dataclass(frozen=True)
class Bursts:
    # the chat burst, up to and with the first answer that says it was limited
    chat: tuple[Exchange, ...]
    # the chat burst's first answer that says it was limited (a 429, or what came instead, see past_the_limit),
    # and how many requests it took (None: the budget ran out first)
    chat_limited: Exchange | None
    chat_number: int
    # the chat recovery, sent after the wait (None when the burst was never limited)
    recovery: Exchange | None
    waited: float | None
    # the burst on POST /responses, up to and with the first answer that says it was limited (or that
    # refuses the request for another reason)
    responses: tuple[Exchange, ...]
    # the answers of either burst past the limit the target announced that were not a 429 (see past_the_limit)
    past: dict[str, str] = field(default_factory=dict)


def _serves_responses(ctx: CheckContext) -> bool:
    """The run's gate said the target serves POST /responses (and the profile does not rule the row out)."""
    if RESPONSES_ROW in ctx.target.capabilities.unsupported:
        return False
    found = [e for e in ctx.every_exchange() if e.id == BASIC]
    return bool(found) and gates.missing(found[0]) is None


def made(ctx: CheckContext) -> Bursts:
    """Both bursts and the recovery, in their order (see the module's docstring); opt-in callers only. The
    exchanges are not counted as the caller's evidence: each check cites those it reads."""
    before = list(ctx.used)
    try:
        return _make(ctx)
    finally:
        ctx.used[:] = before


def _make(ctx: CheckContext) -> Bursts:
    settings = ctx.target.rate_limit
    chat: list[Exchange] = []
    chat_limited, number = None, 0
    for number in range(1, settings.budget + 1):
        request = chat_burst_request(ctx.target, number)
        if request is None:
            break
        exchange = ctx.fetch(request)
        chat.append(exchange)
        if limited(exchange, past_the_limit(chat)):
            chat_limited = exchange
            break
    recovery, waited = None, None
    if chat_limited is not None:
        try:
            wait = retry_after(chat_limited)
        except CheckFailed:
            wait = None  # a Retry-After that does not parse: every_429_is_well_formed says so
        waited = min(wait if wait is not None else settings.max_wait, settings.max_wait)
        recovery_request = chat_burst_request(ctx.target, 0)
        assert recovery_request is not None
        # the wait comes once a run, before the recovery is made: each check that reads the bursts comes here
        if ctx.mode != "replay" and not any(e.id == recovery_request.id for e in ctx.every_exchange()):
            ctx.pause(waited)
        recovery = ctx.fetch(recovery_request)
    answered: list[Exchange] = []
    if _serves_responses(ctx):
        for n in range(1, settings.budget + 1):
            request = responses_burst_request(ctx.target, n)
            if request is None:
                break
            answered.append(ctx.fetch(request))
            response = answered[-1].response
            if limited(answered[-1], past_the_limit(answered)) or (response is not None and response.status >= 400):
                break  # limited, or refused for another reason: more of the same would prove nothing
    past = {**past_the_limit([*chat, *([recovery] if recovery else [])]), **past_the_limit(answered)}
    return Bursts(tuple(chat), chat_limited, number, recovery, waited, tuple(answered), past)
