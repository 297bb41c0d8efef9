"""Tool definitions at the edges of the document (issue 28, item 3): without parameters, with a loose schema,
with a dashed name; each answered on tool_choice "auto" as the strict ones are."""

from __future__ import annotations

from helpers import chat_completion, chat_exchange, error_body, judge

from conformance.checks.tool_definitions import FORMS
from conformance.verdicts import Status

CHECK = "tools.every_tool_definition_form_is_answered"


def forms(**replaced):
    found = {name: chat_exchange(f"tools/definition/{name}", chat_completion("Sunny.")) for name in FORMS}
    found.update(replaced)
    return [chat_exchange("tools/required", chat_completion(None)), *found.values()]


def test_every_form_answered_passes():
    assert judge(CHECK, *forms()).message == "3 tool definitions, all as claimed"


def test_a_form_refused_or_broken_fails_naming_it():
    refused = chat_exchange("tools/definition/no-parameters", error_body("Field required"), status=422)
    result = judge(CHECK, *forms(**{"no-parameters": refused}))
    assert result.status == Status.FAIL
    assert "a tool whose definition leaves out parameters was refused (HTTP 422" in result.message
    broken = chat_exchange("tools/definition/dashed-name", error_body("KeyError"), status=500)
    assert "was broken (HTTP 500" in judge(CHECK, *forms(**{"dashed-name": broken})).message


def test_a_target_that_answers_no_tools_at_all_is_the_strict_check_s():
    exchanges = forms()
    exchanges[0] = chat_exchange("tools/required", error_body("tools are not supported"), status=400)
    result = judge(CHECK, *exchanges)
    assert result.status == Status.BLOCKED
    assert result.blocked_by == "tools.required_choice_gives_valid_calls"
