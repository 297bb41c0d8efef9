"""Row ``chat-completions``: every message form OpenAI's document allows for every role, not only the plain string.

The document lets ``content`` be a string or an array of text parts for the system, developer, user, assistant and
tool roles (``messages[]<role=…>.content[]`` in the catalogue); apps and agents send the array form as a matter of
course (opencode, the Vercel AI SDK), and servers refuse it (sglang-project/sglang#37845 for system and assistant,
lemonade-sdk/lemonade#629, qualcomm/GenieX#683) or mangle it on the way to the model
(Mintplex-Labs/anything-llm#6422 turns a system message's parts into "[object Object]"). Each form is sent beside
its twin, the same conversation with the same text as strings: the form must be answered, and its text must reach
the model, which the prompt tokens show (the same text costs the same tokens, give or take the separator a server
puts between parts). A ``name`` on the assistant and developer messages is a form too, answered as its twin without
it (xAI refuses a name on any role but the user's: "Only messages of role 'user' can have a name.",
BerriAI/litellm#9720). Image, audio and file parts are the image row's or not sent (no model here hears or reads
them); the deprecated ``function`` role is not sent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from conformance.checks._every import judge_each, maybe_exchange
from conformance.checks._expect import error_message, not_rate_limited, shown, succeeded
from conformance.checks._requests import chat_request
from conformance.checks._tool_calls import TOOLS
from conformance.context import CheckContext
from conformance.exchange import Exchange, Request
from conformance.profiles import Target
from conformance.registry import check, probe
from conformance.verdicts import Blocked, CheckFailed, Level, NotApplicable

SYSTEM = (
    "You are a concise assistant for a weather service. Answer in one short sentence, in plain English, "
    "without lists, headings or emoji, and never repeat the question back to the user."
)
QUESTION = "What is the weather usually like in Paris in spring?"
EARLIER = "Mild, with showers and cool mornings."
FOLLOW_UP = "And in summer?"
CALL_ID = "call_shape_1"
RESULT = '{"temperature": 21, "sky": "clear"}'
# the prompt tokens of a form may differ from its twin's by the separators a server puts between parts
SLACK_PER_PART = 2
# a role message dropped before the model costs at least this many fewer prompt tokens than it kept does: half
# SYSTEM's words (any tokenizer spends at least a token a word), more than a default system prompt a template puts
# in its place (SmolLM2's, 15 tokens) takes back
DROPPED_ROLE_MARGIN = len(SYSTEM.split()) // 2


def parts(text: str, pieces: int = 1) -> list[dict[str, str]]:
    """``text`` as text parts that join (with nothing between them) to the same text, split at spaces."""
    if pieces == 1:
        return [{"type": "text", "text": text}]
    cut = text.index(" ", len(text) // 2)
    return [{"type": "text", "text": text[:cut]}, {"type": "text", "text": text[cut:]}]


def _conversation(first: str = "system", **content: Any) -> list[dict[str, Any]]:
    return [
        {"role": first, "content": content.get(first, SYSTEM)},
        {"role": "user", "content": content.get("user", QUESTION)},
        {"role": "assistant", "content": content.get("assistant", EARLIER)},
        {"role": "user", "content": FOLLOW_UP},
    ]


def _tool_turn(result: Any) -> list[dict[str, Any]]:
    call = {
        "id": CALL_ID,
        "type": "function",
        "function": {"name": "get_weather", "arguments": '{"city": "Paris", "unit": "celsius"}'},
    }
    return [
        {"role": "user", "content": "What is the weather in Paris right now?"},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": CALL_ID, "content": result},
    ]


@dataclass(frozen=True)
class Shape:
    name: str
    # the catalogue's member the form exercises
    member: str
    what: str
    messages: Callable[[], list[dict[str, Any]]]
    # the twin's name, and how many parts the form splits its text into
    twin: str
    pieces: int
    role: str = "chat"
    # whether it is answered is another check's claim (user parts: accepts_text_content_parts)
    answered_elsewhere: bool = False
    # the same text as its twin: a name is more than the twin says, and may cost tokens of its own
    same_text: bool = True


TWINS: dict[str, tuple[str, Callable[[], list[dict[str, Any]]], str]] = {
    "strings": ("the conversation with every content a string", _conversation, "chat"),
    "developer-strings": (
        "the conversation led by a developer message, as strings",
        lambda: _conversation("developer"),
        "chat",
    ),
    "tool-string": ("a tool result as a string after an assistant tool call", lambda: _tool_turn(RESULT), "tools"),
}
SHAPES = (
    Shape(
        "system-parts",
        "messages[]<role=system>.content[]",
        "a system message as two text parts",
        lambda: _conversation(system=parts(SYSTEM, 2)),
        "strings",
        2,
    ),
    Shape(
        "developer-parts",
        "messages[]<role=developer>.content[]",
        "a developer message as two text parts",
        lambda: _conversation("developer", developer=parts(SYSTEM, 2)),
        "developer-strings",
        2,
    ),
    Shape(
        "user-parts",
        "messages[]<role=user>.content[]<type=text>",
        "a user message as two text parts",
        lambda: _conversation(user=parts(QUESTION, 2)),
        "strings",
        2,
        answered_elsewhere=True,
    ),
    Shape(
        "assistant-parts",
        "messages[]<role=assistant>.content[]<type=text>",
        "an earlier assistant message as a text part",
        lambda: _conversation(assistant=parts(EARLIER)),
        "strings",
        1,
    ),
    Shape(
        "tool-parts",
        "messages[]<role=tool>.content[]",
        "a tool result as a text part",
        lambda: _tool_turn(parts(RESULT)),
        "tool-string",
        1,
        "tools",
    ),
)


def _named(role: str, name: str) -> Callable[[], list[dict[str, Any]]]:
    def messages() -> list[dict[str, Any]]:
        conversation = _conversation("developer" if role == "developer" else "system")
        for message in conversation:
            if message["role"] == role:
                message["name"] = name
                break
        return conversation

    return messages


NAMED = (
    Shape(
        "assistant-named",
        "messages[]<role=assistant>.name",
        "an earlier assistant message with a name",
        _named("assistant", "forecaster"),
        "strings",
        0,
        same_text=False,
    ),
    Shape(
        "developer-named",
        "messages[]<role=developer>.name",
        "a developer message with a name",
        _named("developer", "ops"),
        "developer-strings",
        0,
        same_text=False,
    ),
)
SHAPES = (*SHAPES, *NAMED)
# system and user names: chat-completions.accepts_named_messages' probe; refused there, a name is that check's defect
NAMED_ELSEWHERE = "chat-completions/named-messages"
# what the catalogue allows that no form here sends, and why
NOT_SENT = {
    "messages[]<role=user>.content[]<type=image_url>": "the image row's (image-understanding)",
    "messages[]<role=user>.content[]<type=input_audio>": "no model here hears audio",
    "messages[]<role=user>.content[]<type=file>": "no model here reads files",
    "messages[]<role=assistant>.content[]<type=refusal>": "a refusal sent back is not a form apps send",
    "messages[]<role=function>": "deprecated: tools replace functions",
}


def _probe_id(name: str) -> str:
    return f"chat-completions/shape/{name}"


def _request(target: Target, name: str, what: str, messages: list[dict[str, Any]], role: str) -> Request | None:
    tools = {"tools": TOOLS} if role == "tools" else {}
    return chat_request(target, _probe_id(name), what, messages, role=role, answer_tokens=8, **tools)


for _name, (_what, _messages, _role) in TWINS.items():
    probe(_probe_id(_name))(lambda target, n=_name, w=_what, m=_messages, r=_role: _request(target, n, w, m(), r))
for _shape in SHAPES:
    probe(_probe_id(_shape.name))(lambda target, s=_shape: _request(target, s.name, s.what, s.messages(), s.role))

NEEDS = (*(_probe_id(name) for name in [*TWINS, *(shape.name for shape in SHAPES)]), NAMED_ELSEWHERE)
TWIN_OWNERS = {
    "strings": "chat-completions.accepts_multi_turn_history",
    "developer-strings": "chat-completions.accepts_developer_role",
    "tool-string": "tools.tool_results_round_trip",
}


def _sent(ctx: CheckContext) -> list[tuple[Shape, Exchange, Exchange]]:
    """Each form with its twin, where both were sent."""
    found = []
    for shape in SHAPES:
        try:
            found.append((shape, ctx.exchange(_probe_id(shape.name)), ctx.exchange(_probe_id(shape.twin))))
        except NotApplicable:
            continue
    if not found:
        raise NotApplicable("no message form applies to this target (no chat model)")
    return found


def _answered(exchange: Exchange) -> bool:
    return exchange.response is not None and exchange.failure is None and exchange.response.status == 200


@check("chat-completions", Level.MUST, source="openai-chat-create", needs=NEEDS)
def every_message_form_is_answered(ctx: CheckContext) -> str | None:
    """Every role's content as an array of text parts (system, developer, assistant, tool; the user's is
    accepts_text_content_parts'), and a name on the assistant and developer messages (the system's and user's are
    accepts_message_names'), which the document allows, are answered as their twin without them is: never refused,
    never a 5xx."""
    sent = _sent(ctx)
    names = maybe_exchange(ctx, NAMED_ELSEWHERE)
    if names is not None and not _answered(names):
        # a server that refuses every name: accepts_message_names' defect, not each form's
        sent = [(shape, form, twin) for shape, form, twin in sent if shape.same_text]
    twins_refused = [(shape, twin) for shape, _, twin in sent if not _answered(twin)]
    judged = [(shape, form) for shape, form, twin in sent if _answered(twin) and not shape.answered_elsewhere]
    if not judged and not twins_refused:
        raise Blocked("chat-completions.accepts_message_names", f"{names.describe() if names else ''}: names refused")
    if not judged:
        shape, twin = twins_refused[0]
        not_rate_limited(twin, 200)
        raise Blocked(TWIN_OWNERS[shape.twin], f"{twin.describe()}: even the string forms were not answered")
    by_id = {form.id: shape for shape, form in judged}

    def judge(form: Exchange) -> None:
        shape = by_id[form.id]
        if _answered(form):
            return
        not_rate_limited(form, 200)
        response = form.response
        if response is None:
            raise CheckFailed(
                f"{form.describe()}: {shape.what} got no answer ({form.failure.message if form.failure else ''})"
            )
        broken = "broken" if response.status >= 500 else "refused"
        raise CheckFailed(
            f"{form.describe()}: {shape.what} was {broken} (HTTP {response.status}: "
            f"{shown(error_message(form) or '', 100)}), its twin with strings answered; the document allows "
            f"{shape.member}"
        )

    return judge_each([form for _, form in judged], judge, noun="message forms", empty="no message form was sent")


def _prompt_tokens(exchange: Exchange) -> int | None:
    body = exchange.json_body
    usage = body.value.get("usage") if body.ok and isinstance(body.value, dict) else None
    tokens = usage.get("prompt_tokens") if isinstance(usage, dict) else None
    return tokens if isinstance(tokens, int) and not isinstance(tokens, bool) else None


@check("chat-completions", Level.SHOULD, source="openai-chat-create", needs=NEEDS)
def text_parts_reach_the_model(ctx: CheckContext) -> str | None:
    """The text of every form in parts reaches the model as the same text in a string does: their prompt tokens
    match, give or take a separator between parts."""
    sent = [
        (shape, form, twin)
        for shape, form, twin in _sent(ctx)
        if shape.same_text and _answered(form) and _answered(twin)
    ]
    if not sent:
        raise Blocked("chat-completions.every_message_form_is_answered", "no form was answered beside its twin")
    counted = {}
    for shape, form, twin in sent:
        succeeded(form, "chat-completions.every_message_form_is_answered")
        tokens = (_prompt_tokens(form), _prompt_tokens(twin))
        if None in tokens:
            raise Blocked("chat-completions.usage_is_reported", f"{form.describe()} reports no usage.prompt_tokens")
        counted[form.id] = (shape, tokens)

    def judge(form: Exchange) -> None:
        shape, (in_parts, in_strings) = counted[form.id]
        if abs(in_parts - in_strings) > SLACK_PER_PART * shape.pieces:
            raise CheckFailed(
                f"{form.describe()}: {shape.what} counted {in_parts} prompt tokens, the same text as a string "
                f"{in_strings}: the parts do not reach the model as their text (dropped, or sent as something else)"
            )

    return judge_each([form for _, form, _ in sent], judge, noun="message forms", empty="no form was answered")


@check(
    "chat-completions",
    Level.SHOULD,
    source="openai-chat-create",
    needs=(_probe_id("strings"), _probe_id("developer-strings")),
)
def developer_message_reaches_the_model(ctx: CheckContext) -> str | None:
    """A developer message reaches the model as a system message with the same words does: the conversation it
    leads counts about as many prompt tokens as the one the system message leads (a chat template that renders only
    system, user and assistant drops it, answered and never read)."""
    led_by_system, led_by_developer = ctx.exchange(_probe_id("strings")), ctx.exchange(_probe_id("developer-strings"))
    succeeded(led_by_system, TWIN_OWNERS["strings"])
    succeeded(led_by_developer, TWIN_OWNERS["developer-strings"])
    system, developer = _prompt_tokens(led_by_system), _prompt_tokens(led_by_developer)
    if system is None or developer is None:
        silent = led_by_system if system is None else led_by_developer
        raise Blocked("chat-completions.usage_is_reported", f"{silent.describe()} reports no usage.prompt_tokens")
    if developer <= system - DROPPED_ROLE_MARGIN:
        raise CheckFailed(
            f"{led_by_developer.describe()}: the conversation led by a developer message counted {developer} prompt "
            f"tokens where the same conversation led by a system message of the same {len(SYSTEM.split())} words "
            f"counted {system}: the developer message does not reach the model",
            details={"prompt_tokens": {"system": system, "developer": developer}},
        )
    return f"{developer} prompt tokens led by the developer message, {system} by the system message"
