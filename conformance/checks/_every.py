"""One defect, one verdict: the form of each kind of answer is judged once, over every exchange of
that kind the run made, by the check that owns it; every other check reads answers only as far as
its claim needs, and is *blocked* (naming the owner) where it cannot.

The owners (the form checks) and the kinds they judge:

==========================  ==================================================================
kind                        owner
==========================  ==================================================================
chat completion             ``chat-completions.response_is_schema_valid`` (and the message's
                            role and text: ``chat-completions.message_is_assistant_text``)
stream                      ``streaming.events_are_single_data_lines``, ``stream_ends_with_done``,
                            ``chunks_are_schema_valid`` and the other stream-form checks
model list, model           ``models.list_is_schema_valid``, ``models.retrieve_is_schema_valid``
moderation                  ``moderation.response_is_schema_valid``
embedding list              ``embeddings.response_is_schema_valid`` (the vectors' encoding:
                            ``embeddings.base64_is_the_float_vector``)
text completion             ``completions.response_is_schema_valid`` (POST /completions)
text completion stream      ``completions.streams_are_framed_and_valid``
response (Responses API)    ``responses.response_is_schema_valid`` (POST /responses and GET
                            /responses/{id}, and the response in a stream's response.* events)
response stream             ``responses-streaming.events_are_typed_json`` and the other event
                            checks of ``responses_streaming``
error answer (4xx, 5xx)     ``errors-400.refusals_use_the_error_envelope``
rate limit                  ``errors-rate-limit.rate_limits_are_signalled_with_429``
thinking in the content     ``reasoning.thinking_is_not_in_content``
an answer starved by        ``reasoning.answers_leave_room_after_thinking`` (the cap the run
thinking                    gave it was spent on thinking before a word of the answer)
==========================  ==================================================================
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Literal

from conformance.checks._limits import limit_signals
from conformance.context import CheckContext
from conformance.exchange import Exchange
from conformance.registry import PROBES
from conformance.verdicts import CheckFailed, NotApplicable

CHAT_FORM = "chat-completions.response_is_schema_valid"
CHAT_TEXT = "chat-completions.message_is_assistant_text"
STREAM_FRAMING = "streaming.events_are_single_data_lines"
STREAM_DONE = "streaming.stream_ends_with_done"
CHUNK_FORM = "streaming.chunks_are_schema_valid"
MODEL_LIST_FORM = "models.list_is_schema_valid"
MODEL_FORM = "models.retrieve_is_schema_valid"
MODERATION_FORM = "moderation.response_is_schema_valid"
EMBEDDING_FORM = "embeddings.response_is_schema_valid"
COMPLETION_FORM = "completions.response_is_schema_valid"
COMPLETION_STREAM_FORM = "completions.streams_are_framed_and_valid"
ERROR_FORM = "errors-400.refusals_use_the_error_envelope"
RESPONSE_FORM = "responses.response_is_schema_valid"
# whether the target answered in time (a request it left without an answer blocks the checks that read it)
IN_TIME = "transport.answers_come_in_time"
RESPONSE_EVENTS = "responses-streaming.events_are_typed_json"
RATE_LIMITS = "errors-rate-limit.rate_limits_are_signalled_with_429"
# an answer whose thinking leaked into its content, and one whose thinking spent the whole cap (the run's
# allowance for thinking was too small): the reasoning row reports them, the checks that read them are blocked
THINKING_IN_CONTENT = "reasoning.thinking_is_not_in_content"
STARVED = "reasoning.answers_leave_room_after_thinking"
RESPONSES_THINKING_IN_TEXT = "responses-reasoning.thinking_is_apart_from_the_answer"
RESPONSES_STARVED = "responses-reasoning.answers_leave_room_after_thinking"

Kind = Literal[
    "chat-completion",
    "stream",
    "model-list",
    "model",
    "moderation",
    "embedding",
    "completion",
    "completion-stream",
    "error",
    "response",
    "response-stream",
]


def path_of(exchange: Exchange) -> str:
    url = exchange.request.url
    return url.split(">", 1)[-1] if url.startswith("<") else url


def kind_of(exchange: Exchange) -> Kind | None:
    """What the exchange's answer is meant to be, if it came back whole."""
    response = exchange.response
    if response is None or exchange.failure is not None:
        return None
    if response.status >= 400:
        return "error"
    if response.status != 200:
        return None
    method, path = exchange.request.method, path_of(exchange).split("?", 1)[0]
    body = exchange.request.json
    if method == "POST" and path == "/chat/completions":
        return "stream" if isinstance(body, dict) and body.get("stream") is True else "chat-completion"
    if method == "GET" and path == "/models":
        return "model-list"
    if method == "GET" and path.startswith("/models/"):
        return "model"
    if method == "POST" and path == "/moderations":
        return "moderation"
    if method == "POST" and path == "/embeddings":
        return "embedding"
    if method == "POST" and path == "/completions":
        return "completion-stream" if isinstance(body, dict) and body.get("stream") is True else "completion"
    if method == "POST" and path == "/responses":
        return "response-stream" if isinstance(body, dict) and body.get("stream") is True else "response"
    if method == "GET" and path.startswith("/responses/") and path.count("/") == 2:
        return "response"
    return None


# the parameter sweep's requests (rows parameters and responses-parameters): "<row>/<parameter>/<valid|invalid>-n"
SWEPT = ("parameters/", "responses-parameters/")


def swept(exchange: Exchange) -> bool:
    """A request of the parameter sweep: a penalty of 2, a bias of -100 and the like are meant to change what the
    model says, so claims about what models say by default do not read their answers (forms still do)."""
    return exchange.id.startswith(SWEPT)


def refused_on_purpose(exchange: Exchange) -> bool:
    """The request was one the target should refuse (a refusal probe, an invalid value of the parameter sweep):
    an answer other than an error has no form to judge, since accepting it is the defect its own check reports."""
    probe = PROBES.get(exchange.id)
    return (probe is not None and probe.refusal) or (swept(exchange) and "/invalid-" in exchange.id)


def every(ctx: CheckContext, kind: Kind, *, with_swept: bool = True) -> list[Exchange]:
    """Every exchange of the run whose answer is of ``kind``, each cited as evidence. Answers to
    requests that should have been refused are judged only as errors; ``with_swept=False`` leaves out the
    parameter sweep's (for claims about what a model says unprompted); the rate-limit bursts' limited answers
    are the rate-limit checks' alone (``_limits.limit_signals``)."""
    everything = ctx.every_exchange()
    limited = limit_signals(everything)
    found = sorted(
        (
            e
            for e in everything
            if kind_of(e) == kind
            and e.id not in limited
            and not e.timed_out()  # not answered in time: the transport row's, and no answer to judge
            and (kind == "error" or not refused_on_purpose(e))
            and (with_swept or not swept(e))
        ),
        key=lambda e: e.id,
    )
    for exchange in found:
        ctx.cite(exchange)
    return found


def maybe_exchange(ctx: CheckContext, probe_id: str) -> Exchange | None:
    """The probe's exchange, or None where the probe does not apply to the target."""
    try:
        return ctx.exchange(probe_id)
    except NotApplicable:
        return None


def applicable(ctx: CheckContext, probe_ids: Iterable[str]) -> list[Exchange]:
    """The exchanges of those probes that apply to the target, in order."""
    return [exchange for probe_id in probe_ids if (exchange := maybe_exchange(ctx, probe_id)) is not None]


def rate_limited(exchange: Exchange) -> str | None:
    """How the exchange says the rate was limited, or None (see ``Exchange.rate_limited``)."""
    return exchange.rate_limited()


def judge_each(exchanges: Iterable[Exchange], judge: Callable[[Exchange], None], *, noun: str, empty: str) -> str:
    """Judge every exchange (``noun`` names them: "chat completions"); a failure lists every one that
    failed, the first three with their message."""
    judged = list(exchanges)
    if not judged:
        raise NotApplicable(empty)
    failures: list[tuple[Exchange, CheckFailed]] = []
    for exchange in judged:
        try:
            judge(exchange)
        except CheckFailed as failure:
            failures.append((exchange, failure))
    if failures:
        shown = "; ".join(failure.message for _, failure in failures[:3])
        more = f"; and {len(failures) - 3} more" if len(failures) > 3 else ""
        raise CheckFailed(
            f"{len(failures)} of {len(judged)} {noun}: {shown}{more}",
            details={**failures[0][1].details, "failing": [exchange.id for exchange, _ in failures]},
        )
    return f"{len(judged)} {noun}, all as claimed"
