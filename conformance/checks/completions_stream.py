"""Row ``completions``, its streams: POST /completions with ``stream: true``.

A stream is ``text/event-stream`` whose events each carry one ``text_completion`` object of the same shape as the
answer without streaming (OpenAI's reference: "both the streamed and non-streamed response objects share the same
shape"), all with one ``id``; ``finish_reason`` is null until a choice's last chunk; ``data: [DONE]`` ends it. With
``stream_options.include_usage`` one more chunk comes before ``[DONE]``, with ``usage`` and no choices. The form of
every completions stream is judged here once, over every stream of the row; the claims of each request apart.
"""

from __future__ import annotations

from conformance import client_differences, sdk_oracle, ts_oracle
from conformance.checks._completions import (
    PROMPT,
    chunk_choices,
    completion_request,
    stream_chunks,
    usage_in,
    usage_of,
)
from conformance.checks._every import every, judge_each
from conformance.checks._expect import brief, clients
from conformance.checks.completions import BASIC, USAGE_OWNER
from conformance.checks.stream_form import chunks, done_problem, error_event, framed, is_event_stream
from conformance.context import CheckContext
from conformance.exchange import Exchange, Request
from conformance.profiles import Target
from conformance.registry import check, probe
from conformance.verdicts import Blocked, CheckFailed, Level

STREAM = "completions/stream"
USAGE = "completions/stream-usage"


@probe(STREAM)
def stream(target: Target) -> Request | None:
    body = {"prompt": PROMPT, "max_tokens": 8, "temperature": 0, "stream": True}
    return completion_request(target, STREAM, "a streamed completion", body)


@probe(USAGE)
def stream_usage(target: Target) -> Request | None:
    body = {
        "prompt": PROMPT,
        "max_tokens": 8,
        "temperature": 0,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    return completion_request(target, USAGE, "a streamed completion with stream_options.include_usage", body)


def _framing(exchange: Exchange) -> None:
    if not is_event_stream(exchange):
        response = exchange.response
        media = response.media_type if response is not None else None
        raise CheckFailed(f"{exchange.describe()}: the stream is {media or 'untyped'}, not text/event-stream")
    if not framed(exchange):
        raise CheckFailed(f"{exchange.describe()}: events are not separated by blank lines")
    problem = done_problem(exchange)
    if problem:
        raise CheckFailed(problem)


@check("completions", Level.MUST, source="openai-completions-streaming", needs=(STREAM, USAGE), runs_last=True)
def streams_are_framed_and_valid(ctx: CheckContext) -> str | None:
    """Every /completions stream is text/event-stream, one JSON text_completion object per event (the answer's
    shape, finish_reason null until the last), ending with data: [DONE]; both official clients read it
    (completions.create({stream: true}))."""

    def judge(exchange: Exchange) -> None:
        differ = client_differences.note(exchange, "completion-stream")
        _framing(exchange)
        found = chunks(exchange)
        if not found:
            if any(error_event(event.data) for event in exchange.stream.events):
                return  # an error in place of the stream: the check of that request's claim judges it
            raise CheckFailed(f"{exchange.describe()}: the stream holds no chunk")
        for chunk in found:
            issues = ctx.schemas.validate("text-completion-chunk", chunk.value)
            if issues:
                raise CheckFailed(
                    f"{exchange.describe()}: chunk {chunk.number} violates the text-completion-chunk schema: "
                    + "; ".join(str(issue) for issue in issues[:3]),
                    details={"chunk": chunk.number, "schema_issues": [str(issue) for issue in issues]},
                )
        python, typescript = (
            sdk_oracle.judge(exchange, "completion-stream"),
            ts_oracle.judge(exchange, "completion-stream"),
        )
        if not python.accepted or (typescript.ran and not typescript.accepted):
            raise CheckFailed(
                f"{exchange.describe()}: the schema accepts every chunk but {clients(python, typescript, differ)}"
            )

    return judge_each(every(ctx, "completion-stream"), judge, noun="streams", empty="no completions stream")


@check("completions", Level.MUST, source="openai-completions-streaming", needs=(STREAM,))
def stream_is_one_completion(ctx: CheckContext) -> str | None:
    """A streamed completion is answered with 200; its chunks all carry one id, and the choice ends with a
    finish_reason (stop or length) in its last chunk and none before."""
    exchange = ctx.exchange(STREAM)
    found = stream_chunks(exchange, None)
    ids = {repr(chunk.value.get("id")) for chunk in found}  # whatever type the target sent
    if len(ids) > 1:
        raise CheckFailed(f"{exchange.describe()}: the chunks carry {len(ids)} ids: {brief(sorted(ids), 80)}")
    reasons = [
        (chunk.number, choice.get("finish_reason"))
        for chunk in found
        for choice in chunk_choices(chunk)
        if choice.get("index", 0) == 0
    ]
    given = [(number, reason) for number, reason in reasons if reason is not None]
    if not given:
        raise CheckFailed(f"{exchange.describe()}: no chunk gives the choice a finish_reason")
    if len(given) > 1 or given[0][0] != reasons[-1][0]:
        raise CheckFailed(
            f"{exchange.describe()}: finish_reason comes in chunks {[number for number, _ in given]}, not once in the "
            f"choice's last chunk ({reasons[-1][0]})"
        )
    text = "".join(
        choice["text"] for chunk in found for choice in chunk_choices(chunk) if isinstance(choice.get("text"), str)
    )
    return f"{len(found)} chunks, finish_reason {given[0][1]!r}: {brief(text, 60)}"


@check("completions", Level.MUST, source="openai-completions-streaming", needs=(USAGE, BASIC))
def stream_usage_comes_last(ctx: CheckContext) -> str | None:
    """With stream_options.include_usage, the last chunk before [DONE] has usage (prompt, completion and total
    tokens) and an empty choices list; every other chunk has no usage."""
    exchange = ctx.exchange(USAGE)
    found = stream_chunks(exchange, "completions.stream_is_one_completion")  # its refusal is that check's
    last = found[-1]
    usage = usage_in(last.value.get("usage"))
    if usage is None:
        raise CheckFailed(
            f"{exchange.describe()}: the last chunk has no usage ({brief(last.value.get('usage'), 60)}): "
            "include_usage was ignored"
        )
    if last.value.get("choices") != []:
        raise CheckFailed(
            f"{exchange.describe()}: the usage chunk has choices {brief(last.value.get('choices'), 60)}, not []"
        )
    early = [chunk.number for chunk in found[:-1] if chunk.value.get("usage") is not None]
    if early:
        raise CheckFailed(f"{exchange.describe()}: chunks {early[:5]} carry usage before the last")
    prompt, completion, total = usage
    counted = usage_of(ctx.exchange(BASIC))
    if counted is not None and (counted[2] != counted[0] + counted[1] or counted[0] <= 0):
        raise Blocked(USAGE_OWNER, f"{ctx.exchange(BASIC).describe()}: its usage does not add up either")
    if total != prompt + completion or prompt <= 0:
        raise CheckFailed(f"{exchange.describe()}: the usage chunk counts {prompt} + {completion} = {total} tokens")
    return None


__all__ = ["STREAM", "USAGE"]
