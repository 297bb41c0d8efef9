"""The claims ``conformance migrate`` judges about one captured request, beyond the form of its answers.

Each claim reads what the app asked for (its own tools, its response_format, its n, stop, token
limit, stream options) and judges the candidate's answers to it. Where a claim is the one a
conformance run makes with its own probe, it has that check's id, so a dialect's documented
deviation applies to it the same way. What the model chooses (whether non-strict arguments match
their schema) is a rate over the trials; the rest is protocol.

The claims about tools are in ``claims_tools``, about response_format in ``claims_format``, the
comparisons with the captured original in ``compare``; this module holds what they share and the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from conformance.checks._every import CHAT_FORM, CHUNK_FORM
from conformance.checks._expect import shown
from conformance.checks.stream_form import read_chunks
from conformance.checks.streaming import judge_usage_chunk
from conformance.context import CheckContext
from conformance.exchange import Exchange
from conformance.migrate.answers import STATUS_CLAIM, Answer, read
from conformance.registry import Check, load_all
from conformance.verdicts import Blocked, CheckFailed, Kind, Level, NotApplicable

Body = dict[str, Any]


@dataclass
class TrafficContext(CheckContext):
    """A check's context for one captured request: the request as sent to the candidate, the
    candidate's answers to it (one per trial, the source's exchanges) and the original answer."""

    body: Body = field(default_factory=dict)
    original: Exchange | None = None
    # a comparison of what the model chose passes at this share of trials doing what the original did
    agreement: float = 0.5
    probes: bool = False

    @property
    def candidate(self) -> list[Exchange]:
        return sorted(self.source.every_exchange().values(), key=lambda e: e.id)


@dataclass(frozen=True)
class Claim:
    check: Check
    applies: Callable[[str, str, Body], bool]
    # a comparison with the original answer (a difference, not a failure of the protocol)
    comparison: bool = False


CLAIMS: list[Claim] = []


def claim(
    check_id: str,
    level: Level = Level.MUST,
    *,
    source: str,
    applies: Callable[[Body], bool],
    kind: Kind = Kind.PROTOCOL,
    threshold: float | None = None,
    comparison: bool = False,
    chat_only: bool = True,
    endpoint: str | None = None,
) -> Callable[[Callable[[TrafficContext], Any]], Callable[[TrafficContext], Any]]:
    """Register a claim; one with the id of a run's check takes that check's level, kind and source. It applies to
    chat completions (``chat_only``), to every request, or to POST requests to ``endpoint`` alone."""

    def register(func: Callable[[TrafficContext], Any]) -> Callable[[TrafficContext], Any]:
        known = load_all().get(check_id)  # the run's checks, registered first
        text = " ".join((func.__doc__ or check_id).split("\n\n")[0].split())
        found = Check(
            check_id,
            check_id.split(".", 1)[0],
            known.level if known else level,
            known.source if known else source,
            (),
            func,  # type: ignore[arg-type]
            text,
            kind=known.kind if known else kind,
            threshold=known.threshold if known else threshold,
        )

        def applies_to(method: str, path: str, body: Body) -> bool:
            if endpoint is not None:
                return method == "POST" and path.split("?", 1)[0] == endpoint and applies(body)
            chat = method == "POST" and path.split("?", 1)[0] == "/chat/completions"
            return (chat or not chat_only) and applies(body)

        CLAIMS.append(Claim(found, applies_to, comparison))
        return func

    return register


def readable(ctx: TrafficContext) -> list[tuple[Exchange, Answer]]:
    """The candidate's answers that can be read; none readable blocks the claim (the first reason)."""
    found, blocked = [], None
    for exchange in ctx.candidate:
        try:
            found.append((exchange, read(ctx, exchange)))
        except Blocked as exc:
            blocked = blocked or exc
    if not found:
        if blocked is not None:
            raise blocked
        raise NotApplicable("no answer to judge")
    return found


def fail_any(ctx: TrafficContext, judge: Callable[[Exchange, Answer], str | None], what: str) -> str:
    """A protocol claim: every readable trial must hold; the failure says how many did not."""
    answers = readable(ctx)
    failures = [(exchange, problem) for exchange, answer in answers if (problem := judge(exchange, answer))]
    if failures:
        shown_ = "; ".join(f"{exchange.id}: {problem}" for exchange, problem in failures[:2])
        raise CheckFailed(
            f"{len(failures)} of {len(answers)} answers: {shown_}", details={"failing": [e.id for e, _ in failures]}
        )
    return f"{what} in {len(answers)} of {len(answers)} answers"


@claim(
    "chat-completions.n_is_honoured",
    source="openai-chat-create",
    applies=lambda b: isinstance(b.get("n"), int) and b["n"] > 1,
)
def n_is_honoured(ctx: TrafficContext) -> str:
    """An answer to a request with n above 1 has n choices."""
    wanted = ctx.body["n"]
    return fail_any(
        ctx,
        lambda e, a: None if len(a.choices) == wanted else f"{len(a.choices)} choices, n was {wanted}",
        f"{wanted} choices",
    )


def _stops(body: Body) -> list[str]:
    stop = body.get("stop")
    return (
        [stop] if isinstance(stop, str) else [s for s in stop if isinstance(s, str)] if isinstance(stop, list) else []
    )


@claim("sampling.stop_is_honoured", source="openai-chat-create", applies=lambda b: bool(_stops(b)))
def stop_is_honoured(ctx: TrafficContext) -> str:
    """No answer to a request with stop sequences contains one of them."""
    stops = _stops(ctx.body)

    def judge(exchange: Exchange, answer: Answer) -> str | None:
        for c, choice in enumerate(answer.choices):
            found = [s for s in stops if s and s in (choice.content or "")]
            if found:
                return f"choices[{c}] contains the stop sequence {found[0]!r}: {shown(choice.content or '', 100)}"
        return None

    return fail_any(ctx, judge, "no stop sequence in the text")


def _limit_claim(param: str) -> Callable[[TrafficContext], str]:
    def judge_limit(ctx: TrafficContext) -> str:
        limit = ctx.body[param]

        def judge(exchange: Exchange, answer: Answer) -> str | None:
            used = (answer.usage or {}).get("completion_tokens")
            if not isinstance(used, int):
                return None
            return (
                f"usage.completion_tokens is {used}, over {param} {limit}"
                if used > limit * max(len(answer.choices), 1)
                else None
            )

        return fail_any(ctx, judge, f"the answer stays within {param}")

    judge_limit.__doc__ = f"No answer uses more completion tokens (by its usage) than the request's {param} allows."
    return judge_limit


for _param, _id in (
    ("max_tokens", "sampling.max_tokens_is_honoured"),
    ("max_completion_tokens", "sampling.max_completion_tokens_is_honoured"),
):
    claim(_id, source="openai-chat-create", applies=lambda b, p=_param: isinstance(b.get(p), int))(_limit_claim(_param))


@claim(
    "streaming.usage_chunk_when_asked",
    source="openai-streaming",
    applies=lambda b: (
        b.get("stream") is True
        and isinstance(b.get("stream_options"), dict)
        and b["stream_options"].get("include_usage") is True
    ),
)
def usage_chunk_when_asked(ctx: TrafficContext) -> str:
    """A stream asked for with stream_options.include_usage ends with one chunk that has empty choices and the
    usage (integer counts that add up), and no usage before it."""

    def judge(exchange: Exchange, answer: Answer) -> str | None:
        try:
            judge_usage_chunk(exchange, read_chunks(exchange, answered_by=STATUS_CLAIM))
        except CheckFailed as failure:
            return failure.message
        return None

    return fail_any(ctx, judge, "the usage chunk is as asked")


@claim(
    "sampling.logprobs_are_returned_when_asked",
    source="openai-chat-create",
    applies=lambda b: b.get("logprobs") is True,
)
def logprobs_are_returned_when_asked(ctx: TrafficContext) -> str:
    """Every choice of an answer to a request with logprobs true carries logprobs."""
    return fail_any(
        ctx,
        lambda e, a: None if all(c.has_logprobs for c in a.choices) else "a choice has logprobs null",
        "logprobs are returned",
    )


@claim("streaming.delivered_incrementally", source="openai-streaming", applies=lambda b: b.get("stream") is True)
def delivered_incrementally(ctx: TrafficContext) -> str:
    """A stream's events arrive over time, not in one piece at the end (by the arrival times the exchange kept)."""

    def judge(exchange: Exchange, answer: Answer) -> str | None:
        events = [event for event in exchange.stream.events if event.data not in (None, "[DONE]")]
        if len(events) >= 3 and events[-1].t <= events[0].t:
            return f"all {len(events)} events arrived in one piece: the answer was buffered, not streamed"
        return None

    return fail_any(ctx, judge, "the events arrived over time")


@claim(
    "model-selection.answers_as_the_requested_model",
    source="openai-chat-object",
    applies=lambda b: isinstance(b.get("model"), str),
)
def answers_as_the_requested_model(ctx: TrafficContext) -> str:
    """Every answer names the model the request was sent to (or a dated snapshot of it) in model."""
    from conformance.checks.model_selection import echoes

    wanted = ctx.body["model"]

    def judge(exchange: Exchange, answer: Answer) -> str | None:
        if not isinstance(answer.model, str):
            # an answer without a model string breaks its form: the form check reports it
            raise Blocked(
                CHUNK_FORM if answer.streamed else CHAT_FORM, f"{exchange.describe()}: model is {answer.model!r}"
            )
        return None if echoes(wanted, answer.model) else f"asked for {wanted!r}, answered as {shown(answer.model, 60)}"

    return fail_any(ctx, judge, f"the answer names {wanted}")
