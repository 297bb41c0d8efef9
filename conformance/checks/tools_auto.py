"""Row ``tools``, where the model chooses: tool_choice "auto" and parallel calls, over trials.

Whether "auto" calls a tool the question mentions, and whether a question for both tools gets both,
is model behaviour: a rate over the run's trials against a threshold (the K2 Vendor Verifier's
calibration on the official API accepts a tool-call F1 of 80 % and more). The form of the calls the
model did make is protocol: every call of every trial is judged, and the result says how many trials
made calls.
"""

from __future__ import annotations

from conformance.checks._expect import Starved, unsupported_if_refused
from conformance.checks._tool_calls import (
    ASK,
    ASK_BOTH,
    REQUIRED_OWNER,
    TOOLS,
    calls_of,
    check_call,
    ignored,
    name_of,
    names,
    tools_request,
)
from conformance.checks._trials import measure
from conformance.context import CheckContext
from conformance.exchange import Exchange, Request
from conformance.profiles import Target
from conformance.registry import check, probe
from conformance.verdicts import Blocked, CheckFailed, Kind, Level, Measured, NotApplicable

# three questions that need the weather tool, so that the rate is not one prompt's
AUTO_QUESTIONS = {
    "tools/auto": ASK,
    "tools/auto-rome": "I land in Rome tonight. What is the weather like there right now?",
    "tools/auto-oslo": "Should I take an umbrella in Oslo today? Check the weather.",
}
AUTO = tuple(AUTO_QUESTIONS)
VALID_OWNER = "tools.auto_choice_calls_are_valid"
PARALLEL_OWNER = "tools.parallel_calls_have_distinct_ids"


def _auto_probe(exchange_id: str, question: str) -> None:
    @probe(exchange_id)
    def build(target: Target) -> Request | None:
        return tools_request(
            target, exchange_id, 'two tools, tool_choice "auto"', question, tools=TOOLS, tool_choice="auto"
        )


for _id, _question in AUTO_QUESTIONS.items():
    _auto_probe(_id, _question)


@probe("tools/parallel")
def parallel(target: Target) -> Request | None:
    return tools_request(
        target,
        "tools/parallel",
        "a question for both tools, parallel_tool_calls true",
        ASK_BOTH,
        tools=TOOLS,
        tool_choice="required",
        parallel_tool_calls=True,
    )


def _auto_trials(ctx: CheckContext) -> list[Exchange]:
    return [exchange for probe_id in AUTO for exchange in ctx.trials(probe_id)]


@check("tools", Level.MUST, source="openai-function-calling", needs=AUTO, trials=True)
def auto_choice_calls_are_valid(ctx: CheckContext) -> str | None:
    """With tool_choice "auto", any tool calls are well formed and the answer then finishes with "tool_calls"."""
    exchanges = _auto_trials(ctx)
    judged = 0
    starved: list[Starved] = []
    for exchange in exchanges:
        try:
            calls, finish = calls_of(ctx, exchange)
        except Starved as left_out:
            starved.append(left_out)
            continue
        except NotApplicable:
            continue  # cut at the token cap: its calls may be unfinished
        if not calls:
            continue
        judged += 1
        for index, call in enumerate(calls):
            check_call(exchange, call, names(TOOLS), f"{exchange.id}: $.choices[0].message.tool_calls[{index}]")
        if finish != "tool_calls":
            raise CheckFailed(
                f'{exchange.describe()}: the answer calls tools but finish_reason is {finish!r}, expected "tool_calls"'
            )
    if not judged and starved:
        raise starved[0]
    if not judged:
        raise NotApplicable(
            f"no trial of {len(exchanges)} called a tool (model behaviour; tools.auto_choice_calls_a_tool "
            "measures it), so no call could be judged"
        )
    return f"the calls of {judged} of {len(exchanges)} trials are well formed"


@check("tools", Level.SHOULD, source="k2-vendor-verifier", needs=AUTO, kind=Kind.MODEL, threshold=0.8)
def auto_choice_calls_a_tool(ctx: CheckContext) -> Measured:
    """Asked about the weather with a weather tool and tool_choice "auto", the model calls it (in 80 % of trials)."""

    def judge(exchange: Exchange) -> str | None:
        calls, _ = calls_of(ctx, exchange, answered_by=VALID_OWNER)
        if "get_weather" in [name_of(call) for call in calls]:
            return None
        return "answered in text" if not calls else f"called {[name_of(call) for call in calls]}, not get_weather"

    return measure("called get_weather", [(e.id, e) for e in _auto_trials(ctx)], judge)


@check(
    "tools",
    Level.MUST,
    source="openai-function-calling",
    needs=("tools/parallel", "tools/required"),
    trials=("tools/parallel",),
)
def parallel_calls_have_distinct_ids(ctx: CheckContext) -> str | None:
    """Parallel tool calls are each well formed and have distinct ids."""
    exchanges = ctx.trials("tools/parallel")
    unsupported_if_refused(exchanges[0], "parallel_tool_calls")
    several = judged = 0
    starved: list[Starved] = []
    for exchange in exchanges:
        try:
            calls, _ = calls_of(ctx, exchange)
        except Starved as left_out:
            starved.append(left_out)
            continue
        except NotApplicable:
            continue  # cut at the token cap: its calls may be unfinished
        judged += 1
        if not calls:
            if ignored(ctx, "required"):
                raise Blocked(REQUIRED_OWNER, 'tool_choice "required" gives no call on tools/required either')
            raise CheckFailed(f'{exchange.describe()}: tool_choice "required" but the answer has no tool_calls')
        for index, call in enumerate(calls):
            check_call(exchange, call, names(TOOLS), f"{exchange.id}: $.choices[0].message.tool_calls[{index}]")
        ids = [call["id"] for call in calls]
        if len(set(ids)) != len(ids):
            raise CheckFailed(f"{exchange.describe()}: the tool calls share ids: {ids}")
        several += len(calls) > 1
    if not judged and starved:
        raise starved[0]
    if not judged:
        raise NotApplicable(
            f"every one of {len(exchanges)} trials was cut at the token cap before its calls were complete"
        )
    return f"{judged} trials judged, {several} with several calls, each with ids of its own"


@check(
    "tools", Level.SHOULD, source="openai-function-calling", needs=("tools/parallel",), kind=Kind.MODEL, threshold=0.8
)
def parallel_request_gets_several_calls(ctx: CheckContext) -> Measured:
    """Asked to use both tools with parallel_tool_calls, the model calls both (in 80 % of trials)."""

    def judge(exchange: Exchange) -> str | None:
        calls, _ = calls_of(ctx, exchange, answered_by=PARALLEL_OWNER)
        called = {name for name in map(name_of, calls) if isinstance(name, str)}
        if called >= names(TOOLS):
            return None
        return "made no tool call" if not calls else f"called only {sorted(called)}"

    return measure("called both tools", [(e.id, e) for e in ctx.trials("tools/parallel")], judge)
