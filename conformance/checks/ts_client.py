"""What only the TypeScript client needs: its stream helper, and parse() with a zod schema.

The form of every answer is judged by both clients already (``_expect.expect_valid`` and the stream
form checks): these checks judge what Node apps do beyond reading the answer. ``ChatCompletionStream``
(``client.chat.completions.stream(...)``, ``finalChatCompletion()``) assembles a stream into one chat
completion and throws where a stream lacks what it needs to assemble. Where the helper throws for a reason
another check owns (no role, no finish_reason, a streamed tool call without its type or name), that check
reports it, saying what the helper throws, and this one leaves the stream alone. Where it fails, the message
says what Python's helper makes of the same stream (``python_client`` judges that helper on its own).

Without node these checks are skipped ("node not found"), and the run says so once.
"""

from __future__ import annotations

from collections.abc import Iterable

from conformance import sdk_oracle, ts_oracle
from conformance.checks._every import CHAT_FORM, kind_of
from conformance.checks._expect import shown
from conformance.checks._python_helper import python_says
from conformance.checks._stream_helpers import BASIC, owner_of, streams_to_assemble
from conformance.checks.stream_form import choices_of, chunks, joined_content
from conformance.checks.structured_output import Forecast, content_of_parse_probe
from conformance.context import CheckContext
from conformance.exchange import Exchange
from conformance.registry import check
from conformance.verdicts import Blocked, CheckFailed, Level, NotApplicable

PARSE_OWNER = "structured-output.sdk_parse_returns_the_model"


def _not_run(verdict: ts_oracle.TsVerdict) -> NotApplicable:
    return NotApplicable(f"{verdict.detail}: the TypeScript client was not run")


@check("streaming", Level.MUST, source="openai-node-helpers", needs=(BASIC,), runs_last=True)
def typescript_stream_helper_assembles_every_stream(ctx: CheckContext) -> str | None:
    """The TypeScript client's stream helper (ChatCompletionStream, finalChatCompletion()) assembles every stream
    whose chunks are well-formed into a chat completion, with the text the deltas carry."""
    judged_streams = streams_to_assemble(ctx)
    judged, owned = 0, []
    failures: list[tuple[Exchange, str]] = []
    for exchange in judged_streams:
        verdict = ts_oracle.judge(exchange, "chat-completion-stream")
        if not verdict.ran:
            raise _not_run(verdict)
        helper = verdict.helper
        if helper is None:
            failures.append((exchange, f"{exchange.describe()}: {verdict.summary()}"))
            continue
        if not helper.accepted:
            owner = owner_of(exchange, helper.detail)
            if owner is not None:
                owned.append(owner)
                continue
            failures.append(
                (
                    exchange,
                    f"{exchange.describe()}: TypeScript openai {ts_oracle.version()} ChatCompletionStream throws "
                    f"{helper.raised}: {helper.detail}",
                )
            )
            continue
        judged += 1
        final = helper.data.get("final") or {}
        if not final.get("first_choice"):
            indexes = sorted({str(choice.get("index")) for found in chunks(exchange) for choice in choices_of(found)})
            failures.append(
                (
                    exchange,
                    f"{exchange.describe()}: finalChatCompletion().choices[0] holds no message: the stream numbers "
                    f"its choices {', '.join(indexes)}, and the helper puts each at its index",
                )
            )
            continue
        joined = joined_content(chunks(exchange))
        content = final.get("content")
        if content != joined and not (not joined and content in (None, "")):
            failures.append(
                (
                    exchange,
                    f"{exchange.describe()}: finalChatCompletion() holds {shown(final.get('content'), 60)}, the "
                    f"deltas join to {shown(joined, 60)}",
                )
            )
    if failures:
        shown_failures = "; ".join(said for _, said in failures[:3])
        more = f"; and {len(failures) - 3} more" if len(failures) > 3 else ""
        raise CheckFailed(
            f"{len(failures)} of {len(judged_streams)} streams: {shown_failures}{more}; of the first, "
            f"{python_says(failures[0][0])}",
            details={"failing": [exchange.id for exchange, _ in failures]},
        )
    if not judged:
        raise Blocked(owned[0], "the helper throws on every stream for a reason that check reports")
    return f"{judged} streams assembled by TypeScript openai {ts_oracle.version()}"


@check("structured-output", Level.MUST, source="openai-node-helpers", needs=("structured-output/sdk-parse",))
def typescript_parse_returns_the_object(ctx: CheckContext) -> str | None:
    """client.chat.completions.parse with zodResponseFormat (the zod twin of the pydantic model) gets back the
    parsed object."""
    exchange = ctx.exchange("structured-output/sdk-parse")
    content_of_parse_probe(ctx, exchange)
    verdict = ts_oracle.judge(exchange, "parse")
    if not verdict.ran:
        raise _not_run(verdict)
    if verdict.accepted:
        return f"parsed {verdict.data.get('value')!r}"
    if not ts_oracle.judge(exchange, "chat-completion").accepted:
        raise Blocked(CHAT_FORM, f"{exchange.describe()}: the TypeScript client cannot read the chat completion itself")
    python = sdk_oracle.parse_structured(exchange, Forecast)
    if not python.accepted:
        raise Blocked(PARSE_OWNER, f"neither client parses it: {verdict.summary()}")
    raise CheckFailed(f"{exchange.describe()}: Python's parse() reads it; {verdict.summary()}")


_KINDS: dict[str, ts_oracle.Kind] = {
    "chat-completion": "chat-completion",
    "stream": "chat-completion-stream",
    "model-list": "model-list",
    "model": "model",
    "moderation": "moderation",
    "embedding": "embedding",
    "completion": "completion",
    "completion-stream": "completion-stream",
    "error": "error",
    "response": "response",
    "response-stream": "response-stream",
}


def replay_pairs(exchanges: Iterable[Exchange]) -> list[tuple[Exchange, ts_oracle.Kind]]:
    """What the TypeScript client will be asked about these recordings: each answer as its kind (the
    form checks read every one), and the parse() probe's through parse()."""
    pairs: list[tuple[Exchange, ts_oracle.Kind]] = []
    for exchange in exchanges:
        kind = kind_of(exchange)
        if kind is not None:
            pairs.append((exchange, _KINDS[kind]))
        if exchange.id == "structured-output/sdk-parse":
            pairs.append((exchange, "parse"))
    return pairs
