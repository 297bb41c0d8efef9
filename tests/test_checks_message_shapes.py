"""Every message form the document allows for every role (issue 28, item 3): the forms come from the catalogue,
each is answered as its twin with strings is, and its text reaches the model (the prompt tokens match)."""

from __future__ import annotations

import re

from helpers import chat_completion, chat_exchange, error_body, judge

from conformance.checks.message_shapes import NOT_SENT, SHAPES, TWINS, parts
from conformance.surface import catalogue
from conformance.verdicts import Status

ANSWERED = "chat-completions.every_message_form_is_answered"
REACHED = "chat-completions.text_parts_reach_the_model"
USAGE = {"prompt_tokens": 60, "completion_tokens": 3, "total_tokens": 63}


def answer(name: str, prompt_tokens: int = 60, status: int = 200):
    exchange_id = f"chat-completions/shape/{name}"
    if status != 200:
        return chat_exchange(exchange_id, error_body("Invalid type for 'messages[0].content'"), status=status)
    usage = {**USAGE, "prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens + 3}
    return chat_exchange(exchange_id, chat_completion("Mild.", usage=usage))


def every_form(**replaced):
    found = {name: answer(name) for name in [*TWINS, *(shape.name for shape in SHAPES)]}
    found["named"] = chat_exchange("chat-completions/named-messages", chat_completion("Hi."))
    found.update(replaced)
    return list(found.values())


def test_the_forms_cover_every_role_s_content_array_in_the_catalogue():
    """A role or a content part the document gains fails here until a form sends it or it is said why not."""
    members = catalogue.load().members["POST /chat/completions", "request"]
    arrays = {
        path.removesuffix(".type")
        for path in members
        if re.fullmatch(r"messages\[\]<role=[a-z]+>\.content\[\](<type=[a-z_]+>)?", path)
    }
    roles = {path for path in members if re.fullmatch(r"messages\[\]<role=[a-z]+>", path)}
    covered = {shape.member for shape in SHAPES} | set(NOT_SENT)
    assert {path for path in arrays if path not in covered and f"{path}<type=text>" not in covered} == set()
    sent_roles = {re.match(r"messages\[\]<role=[a-z]+>", member).group(0) for member in covered}
    assert roles - sent_roles == set()


def test_parts_join_to_the_same_text():
    text = "You are a concise assistant for a weather service."
    assert "".join(part["text"] for part in parts(text, 2)) == text
    assert len(parts(text, 2)) == 2


def test_every_form_answered_with_the_same_prompt_tokens_passes():
    assert judge(ANSWERED, *every_form()).status == Status.PASS
    reached = judge(REACHED, *every_form())
    assert reached.status == Status.PASS, reached.message
    assert reached.message == "5 message forms, all as claimed"


def test_a_refused_form_fails_naming_what_the_document_allows():
    result = judge(ANSWERED, *every_form(**{"system-parts": answer("system-parts", status=400)}))
    assert result.status == Status.FAIL
    assert "a system message as two text parts was refused (HTTP 400" in result.message
    assert "the document allows messages[]<role=system>.content[]" in result.message
    broken = judge(ANSWERED, *every_form(**{"tool-parts": answer("tool-parts", status=500)}))
    assert "a tool result as a text part was broken (HTTP 500" in broken.message
    # the user's parts are accepts_text_content_parts' claim
    assert judge(ANSWERED, *every_form(**{"user-parts": answer("user-parts", status=400)})).status == Status.PASS


def test_a_form_whose_twin_is_refused_is_left_to_the_twin_s_check():
    refused = {name: answer(name, status=400) for name in TWINS}
    result = judge(ANSWERED, *every_form(**refused))
    assert result.status == Status.BLOCKED
    assert result.blocked_by == "chat-completions.accepts_multi_turn_history"


def test_parts_that_do_not_reach_the_model_as_their_text_fail():
    stringified = answer("system-parts", prompt_tokens=40)
    result = judge(REACHED, *every_form(**{"system-parts": stringified}))
    assert (result.status, result.level) == (Status.FAIL, "SHOULD")
    assert "counted 40 prompt tokens, the same text as a string 60" in result.message
    # a separator between two parts is no finding
    joined = answer("system-parts", prompt_tokens=62)
    assert judge(REACHED, *every_form(**{"system-parts": joined})).status == Status.PASS
    silent = chat_exchange("chat-completions/shape/strings", chat_completion("Mild.", usage=None))
    blocked = judge(REACHED, *every_form(strings=silent))
    assert blocked.status == Status.BLOCKED
    assert blocked.blocked_by == "chat-completions.usage_is_reported"


def test_a_name_refused_on_the_assistant_alone_fails_and_names_refused_everywhere_are_another_check_s():
    refused = {"assistant-named": answer("assistant-named", status=400)}
    result = judge(ANSWERED, *every_form(**refused))
    assert result.status == Status.FAIL
    assert "an earlier assistant message with a name was refused (HTTP 400" in result.message
    assert "the document allows messages[]<role=assistant>.name" in result.message
    everywhere = chat_exchange("chat-completions/named-messages", error_body("name is unsupported"), status=400)
    assert judge(ANSWERED, *every_form(**refused, named=everywhere)).status == Status.PASS
    # a name may cost tokens: the prompt tokens of a named form are not compared
    costly = {"developer-named": answer("developer-named", prompt_tokens=90)}
    assert judge(REACHED, *every_form(**costly)).status == Status.PASS


DEVELOPER = "chat-completions.developer_message_reaches_the_model"


def test_a_developer_message_dropped_before_the_model_fails():
    """A template that renders only system, user and assistant drops the developer message: answered, never read."""
    kept = judge(DEVELOPER, *every_form(**{"developer-strings": answer("developer-strings", prompt_tokens=62)}))
    assert kept.status == Status.PASS, kept.message
    assert kept.message == "62 prompt tokens led by the developer message, 60 by the system message"
    dropped = answer("developer-strings", prompt_tokens=22)
    result = judge(DEVELOPER, *every_form(**{"developer-strings": dropped}))
    assert (result.status, result.level) == (Status.FAIL, "SHOULD")
    assert "counted 22 prompt tokens" in result.message
    assert "led by a system message of the same 31 words counted 60:" in result.message
    assert result.message.endswith("the developer message does not reach the model")
    # dropped, with a template's default system prompt of 15 tokens in its place: still 23 fewer
    defaulted = answer("developer-strings", prompt_tokens=60 - 38 + 15)
    assert judge(DEVELOPER, *every_form(**{"developer-strings": defaulted})).status == Status.FAIL
    # a developer message rendered with more around it (a header of its own) reaches the model
    headed = answer("developer-strings", prompt_tokens=90)
    assert judge(DEVELOPER, *every_form(**{"developer-strings": headed})).status == Status.PASS


def test_a_developer_message_refused_or_uncounted_is_another_check_s():
    refused = judge(DEVELOPER, *every_form(**{"developer-strings": answer("developer-strings", status=400)}))
    assert (refused.status, refused.blocked_by) == (Status.BLOCKED, "chat-completions.accepts_developer_role")
    silent = chat_exchange("chat-completions/shape/developer-strings", chat_completion("Mild.", usage=None))
    blocked = judge(DEVELOPER, *every_form(**{"developer-strings": silent}))
    assert (blocked.status, blocked.blocked_by) == (Status.BLOCKED, "chat-completions.usage_is_reported")
