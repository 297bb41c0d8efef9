"""Row ``responses-reasoning``: the reasoning events of every Responses stream of the run. Each names a reasoning
item added before it (at its output_index), a part is added before its deltas (both SDKs' stream helpers need
one), the deltas join to the done text and to the final response's item; OpenAI's ``response.reasoning_text.*``
and ``response.reasoning_summary_*`` events, or the Open Responses names of the raw ones, ``response.reasoning.*``.
Their form (the fields of each event) is the stream form check's.
"""

from __future__ import annotations

from conformance.checks._every import RESPONSE_EVENTS, every, judge_each
from conformance.checks._expect import shown
from conformance.checks._responses import Event, events_of, final_response, offered, reasoning_items, response_body
from conformance.checks.responses_reasoning import BASIC, ITEMS, STREAM
from conformance.context import CheckContext
from conformance.exchange import Exchange
from conformance.registry import check
from conformance.verdicts import Blocked, CheckFailed, Level, NotApplicable

# the raw reasoning events by OpenAI's name and by the Open Responses specification's
RAW_DELTAS = ("response.reasoning_text.delta", "response.reasoning.delta")
RAW_DONES = ("response.reasoning_text.done", "response.reasoning.done")


def _reasoning_events_formed(ctx: CheckContext, events: list[Event]) -> bool:
    """Every reasoning event has the fields this check reads, of their types (their schema requires them)."""
    for event in events:
        if not event.type.startswith("response.reasoning"):
            continue
        index = "summary_index" if "summary" in event.type else "content_index"
        text = "delta" if event.type.endswith(".delta") else ("text" if event.type.endswith(".done") else None)
        wanted = [("item_id", str), ("output_index", int), (index, int)] + ([(text, str)] if text else [])
        if not all(isinstance(event.data.get(name), kind) for name, kind in wanted):
            return False
    return True


def _item_ids(events: list[Event]) -> dict[str, int]:
    """The reasoning items the stream added, by id, with their output_index."""
    found = {}
    for event in events:
        item = event.data.get("item")
        if event.type == "response.output_item.added" and isinstance(item, dict) and item.get("type") == "reasoning":
            found[str(item.get("id"))] = event.data.get("output_index")
    return found


def judge_reasoning_events(exchange: Exchange, events: list[Event]) -> int:
    """The reasoning events of one stream: each names a reasoning item added before it (at its output_index), its
    deltas join to its done text, a raw reasoning part is added before its deltas (both SDKs' helpers need it),
    and the done texts are the final item's. Returns how many reasoning events there were."""
    added, joined, parts, counted = _item_ids(events), {}, set(), 0
    for event in events:
        kind, data = event.type, event.data
        if not (
            kind.startswith("response.reasoning")
            or (kind.startswith("response.content_part") and data.get("item_id") in added)
        ):
            continue
        counted += 1
        item_id = str(data.get("item_id"))
        if item_id not in added or data.get("output_index") != added[item_id]:
            raise CheckFailed(
                f"{exchange.describe()}: event {event.number} ({kind}) names item {item_id!r} at output_index "
                f"{data.get('output_index')!r}, which no earlier output_item.added opened as a reasoning item"
            )
        index = data.get("summary_index", data.get("content_index"))
        key = (item_id, "summary" if "summary" in kind else "content", index)
        if kind == "response.content_part.added" or kind == "response.reasoning_summary_part.added":
            parts.add(key)
        elif kind in RAW_DELTAS or kind == "response.reasoning_summary_text.delta":
            if key not in parts:
                raise CheckFailed(
                    f"{exchange.describe()}: event {event.number} ({kind}) comes before any part was added at "
                    f"{key[1]} index {index}: TypeScript's stream helper throws 'missing content at index {index}'"
                )
            joined[key] = joined.get(key, "") + str(data.get("delta", ""))
        elif (kind in RAW_DONES or kind == "response.reasoning_summary_text.done") and joined.get(key, "") != data.get(
            "text"
        ):
            raise CheckFailed(
                f"{exchange.describe()}: event {event.number} ({kind}) has text {shown(str(data.get('text')), 60)}, "
                f"but its deltas join to {shown(joined.get(key, ''), 60)}"
            )
    ended = final_response(exchange, events)
    if ended.get("status") == "failed":
        return counted  # a stream that broke off keeps no items to compare with
    final = {str(item.get("id")): item for item in reasoning_items(ended)}
    for (item_id, where, index), text in joined.items():
        parts_of = final.get(item_id, {}).get(where)
        done = (
            parts_of[index].get("text")
            if isinstance(parts_of, list)
            and isinstance(index, int)
            and index < len(parts_of)
            and isinstance(parts_of[index], dict)
            else None
        )
        if done != text:
            raise CheckFailed(
                f"{exchange.describe()}: the {where} {index} of reasoning item {item_id!r} streams as "
                f"{shown(text, 60)}, but the final response has {shown(str(done), 60)}"
            )
    return counted


@check("responses-reasoning", Level.MUST, source="openai-responses-reasoning", needs=(STREAM, BASIC), runs_last=True)
def reasoning_events_are_consistent(ctx: CheckContext) -> str | None:
    """Streamed, each reasoning event names a reasoning item added before it, a part is added before its deltas,
    the deltas join to the done text and to the final response's item, in every Responses stream of the run."""
    offered(ctx, judged_over_every_answer=True)
    if ctx.probes:
        plain = response_body(ctx.exchange(BASIC), answered_by=ITEMS)
        exchange = ctx.exchange(STREAM)
        events = events_of(exchange, answered_by="responses-streaming.streamed_request_completes")
        if reasoning_items(plain) and not _item_ids(events):
            raise CheckFailed(
                f"{exchange.describe()}: the stream adds no reasoning item, while the same request without streaming "
                f"returns {len(reasoning_items(plain))}: a streaming app never sees the thinking"
            )
    streams = []
    for stream in every(ctx, "response-stream"):
        try:
            streams.append((stream, events_of(stream)))
        except (Blocked, CheckFailed):
            continue
    # a stream whose reasoning events are not of their form (no content_index, ...) is the form check's
    formed = [(e, found) for e, found in streams if _reasoning_events_formed(ctx, found)]
    if streams and not formed:
        raise Blocked(RESPONSE_EVENTS, "no stream's reasoning events are of their schema")
    counts: dict[str, int] = {}

    by_id = {exchange.id: found for exchange, found in formed}

    def judge(stream: Exchange) -> None:
        counts[stream.id] = judge_reasoning_events(stream, by_id[stream.id])

    said = judge_each([e for e, _ in formed], judge, noun="streams", empty="the run got no Responses stream")
    if not sum(counts.values()):
        raise NotApplicable("no stream carries reasoning events")
    return f"{said}; {sum(counts.values())} reasoning events"
