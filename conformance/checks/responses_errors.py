"""Row ``responses-errors``: POST /responses refuses what it cannot answer, as the chat endpoints do. A
value out of range and a missing input are 400s naming the parameter; a wrong key is a 401; an unknown
model is refused (400 or 404 with model_not_found, as OpenAI answers it on this endpoint); a streamed
request that is invalid is refused with an HTTP error before any stream; over the rate limit, a 429
(opt-in, the burst of ``_bursts``). (Their envelope is judged with every other error answer of the run, by
errors-400.refusals_use_the_error_envelope, and every 429's with the others by errors-rate-limit.)"""

from __future__ import annotations

from typing import Any

from conformance.checks import _bursts
from conformance.checks._every import ERROR_FORM, RATE_LIMITS
from conformance.checks._expect import error_message, expect_refusal, shown
from conformance.checks._limits import failed_for_the_rate
from conformance.checks._responses import BASIC, offered, responses_request
from conformance.context import CheckContext
from conformance.exchange import AuthMode, Request
from conformance.profiles import Target
from conformance.registry import check, probe
from conformance.verdicts import Blocked, CheckFailed, Level, NotApplicable, Note

UNKNOWN_MODEL = "no-such-model-conformance"
# what OpenAI answers an unknown model with on /responses: 400 model_not_found (and 404 on the chat endpoints)
UNKNOWN_MODEL_STATUSES = (400, 404)


def _refusal_probe(exchange_id: str, purpose: str, *, auth: AuthMode = "key", drop: str = "", **params: Any) -> None:
    @probe(exchange_id, refusal=True)
    def build(target: Target) -> Request | None:
        request = responses_request(target, exchange_id, purpose, "Say hi.", **params)
        if request is None or (auth != "key" and target.auth.kind == "none"):
            return None
        body = {key: value for key, value in request.json.items() if key != drop}
        return Request(request.id, "POST", "/responses", purpose, json=body, auth=auth)


_refusal_probe("responses-errors/temperature-out-of-range", "temperature 5 (the range is 0 to 2)", temperature=5)
_refusal_probe("responses-errors/missing-input", "no input", drop="input")
_refusal_probe("responses-errors/wrong-key", "a key the target never issued", auth="wrong-key")
_refusal_probe("responses-errors/unknown-model", "a model that does not exist", model=UNKNOWN_MODEL)
_refusal_probe("responses-errors/streamed-invalid", "a streamed request with temperature 5", temperature=5, stream=True)


def _param_of(ctx: CheckContext, probe_id: str) -> Any:
    """The exchange and its error.param; an answer without the error envelope blocks the claim (its form is
    errors-400's)."""
    exchange = ctx.exchange(probe_id)
    body = exchange.json_body
    error = body.value.get("error") if body.ok and isinstance(body.value, dict) else None
    if not isinstance(error, dict):
        raise Blocked(ERROR_FORM, f"{exchange.describe()}: the refusal has no error object to read a param from")
    return exchange, error.get("param")


# the invalid requests, the parameter each error must name, and what each is
INVALID = {
    "responses-errors/temperature-out-of-range": ("temperature", "temperature 5"),
    "responses-errors/missing-input": ("input", "a request without input"),
}


def _bad_request(ctx: CheckContext, probe_id: str) -> None:
    offered(ctx)
    expect_refusal(ctx.exchange(probe_id), ctx.dialect.status_for("invalid_request"), INVALID[probe_id][1])


@check(
    "responses-errors",
    Level.MUST,
    source="open-responses-spec",
    needs=("responses-errors/temperature-out-of-range", BASIC),
)
def out_of_range_value_is_refused_with_400(ctx: CheckContext) -> str | None:
    """temperature 5 is refused with 400 (the SDKs raise BadRequestError)."""
    _bad_request(ctx, "responses-errors/temperature-out-of-range")
    return None


@check("responses-errors", Level.MUST, source="open-responses-spec", needs=("responses-errors/missing-input", BASIC))
def missing_input_is_refused_with_400(ctx: CheckContext) -> str | None:
    """A request without input is refused with 400."""
    _bad_request(ctx, "responses-errors/missing-input")
    return None


@check("responses-errors", Level.SHOULD, source="open-responses-spec", needs=(*INVALID, BASIC))
def refusals_name_the_param(ctx: CheckContext) -> str | None:
    """The 400 for temperature 5 names "temperature" in error.param, and the one for a missing input names
    "input", as OpenAI's errors do."""
    offered(ctx)
    wrong, judged = [], 0
    for probe_id, (param, what) in INVALID.items():
        exchange = ctx.exchange(probe_id)
        if exchange.response is None or exchange.response.status < 400:
            continue  # not refused: the check of its status says so
        exchange, named = _param_of(ctx, probe_id)
        judged += 1
        if named != param:
            wrong.append(
                f"{what}: error.param {named!r}, expected {param!r} ({shown(error_message(exchange) or '', 60)})"
            )
    if not judged:
        raise NotApplicable("neither request was refused; the checks of their status say so")
    if wrong:
        raise CheckFailed(f"POST /responses: {'; '.join(wrong)}")
    return None


@check("responses-errors", Level.MUST, source="openai-errors", needs=("responses-errors/wrong-key", BASIC))
def wrong_key_is_401(ctx: CheckContext) -> str | None:
    """A request with a wrong key is refused with 401 (the SDK raises AuthenticationError)."""
    offered(ctx)
    expect_refusal(
        ctx.exchange("responses-errors/wrong-key"),
        ctx.dialect.status_for("unauthenticated"),
        "a request with a wrong key",
        answered="POST /responses does not enforce keys",
    )
    return None


# an id no response of the run has: a server that looks it up before it reads the key answers 404
UNKNOWN_RESPONSE = "resp_conformance_wrong_key_0"


@probe("responses-errors/retrieve-wrong-key", refusal=True)
def retrieve_wrong_key(target: Target) -> Request | None:
    asked = responses_request(target, "responses-errors/retrieve-wrong-key", "", "Say hi.")
    if asked is None or target.auth.kind == "none":
        return None
    purpose = "GET /responses/{id} with a key the target never issued"
    return Request(asked.id, "GET", f"/responses/{UNKNOWN_RESPONSE}", purpose, auth="wrong-key")


@check(
    "responses-errors",
    Level.MUST,
    source="openai-errors",
    needs=("responses-errors/retrieve-wrong-key", "responses-errors/wrong-key", BASIC),
)
def retrieving_with_a_wrong_key_is_401(ctx: CheckContext) -> str | None:
    """GET /responses/{id} with a wrong key is refused with 401 before anything is looked up (not 404 for an id the
    key cannot see, never an answer): what a key guards is guarded on every route of the API."""
    offered(ctx)
    created = ctx.exchange("responses-errors/wrong-key")
    retrieved = ctx.exchange("responses-errors/retrieve-wrong-key")
    if created.response is not None and created.response.status < 400:
        raise Blocked("responses-errors.wrong_key_is_401", "POST /responses enforces no key either")
    expected = ctx.dialect.status_for("unauthenticated")
    status = created.response.status if created.response is not None else None
    if status not in expected and retrieved.response is not None and retrieved.response.status == status:
        raise Blocked("responses-errors.wrong_key_is_401", f"both routes refuse a wrong key with {status}")
    expect_refusal(
        retrieved,
        expected,
        "GET /responses/{id} with a wrong key",
        answered="anyone can read a stored response",
    )
    return None


@check("responses-errors", Level.MUST, source="openai-model-not-found", needs=("responses-errors/unknown-model", BASIC))
def unknown_model_is_refused(ctx: CheckContext) -> str | None:
    """A request for a model that does not exist is refused with 400 or 404, never answered by another model."""
    offered(ctx)
    exchange = ctx.exchange("responses-errors/unknown-model")
    expect_refusal(exchange, UNKNOWN_MODEL_STATUSES, "an unknown model", answered="another model answered it")
    return None


@check(
    "responses-errors",
    Level.MUST,
    source="open-responses-streaming",
    needs=("responses-errors/streamed-invalid", BASIC),
)
def invalid_streamed_request_is_an_http_error(ctx: CheckContext) -> str | None:
    """A streamed request with temperature 5 is refused with an HTTP 400 before any stream begins (the SDKs raise
    BadRequestError), not answered with a stream of events."""
    offered(ctx)
    exchange = ctx.exchange("responses-errors/streamed-invalid")
    expect_refusal(exchange, ctx.dialect.status_for("invalid_request"), "a streamed request with temperature 5")
    return None


@check(
    "responses-errors",
    Level.MUST,
    source="sdk-retries",
    needs=(BASIC,),
    extra=_bursts.responses_plan,
    runs_last=True,
)
def over_the_limit_is_refused_with_429(ctx: CheckContext) -> str | Note | None:
    """A burst of POST /responses over the target's rate limit is refused with HTTP 429, which the SDKs retry
    after Retry-After and then raise as RateLimitError, not answered with HTTP 200 and a failed response,
    which they neither retry nor raise (opt-in)."""
    offered(ctx)
    settings = ctx.target.rate_limit
    if not settings.probe:
        raise NotApplicable(
            f"the rate-limit probe is opt-in: --allow-rate-limit-probe (it spends up to {settings.budget} requests)"
        )
    if _bursts.responses_burst_request(ctx.target, 1) is None:
        raise NotApplicable("no model for the burst")
    bursts = _bursts.made(ctx)
    burst = bursts.responses
    for number, exchange in enumerate(burst, 1):
        ctx.cite(exchange)
        signal = exchange.rate_limited() or bursts.past.get(exchange.id)
        if signal == "HTTP 429":
            return Note(f"429 after {number} requests", {"requests_until_429": number})
        if signal is not None:
            raise Blocked(RATE_LIMITS, f"{exchange.describe()}: the rate limit came as {signal}")
        failed = failed_for_the_rate(exchange)
        if failed is not None:
            raise CheckFailed(
                f"{exchange.describe()}: request {number} of the burst was answered HTTP 200 with a failed "
                f"response ({failed}) instead of refused with 429: the SDKs return it as a success, without "
                "retrying"
            )
        if exchange.response is not None and exchange.response.status >= 400:
            raise NotApplicable(
                f"{exchange.describe()}: request {number} of the burst was refused with HTTP "
                f"{exchange.response.status} ({shown(error_message(exchange) or '', 80)}), not for the rate: "
                "no limit could be provoked"
            )
    raise NotApplicable(f"{len(burst)} requests in a row to /responses got no 429: the limit is above the budget")
