"""Malformed messages (issue 28, item 3): refused with a 4xx and never a 5xx; tool turns out of order refused as
OpenAI refuses them (a SHOULD); refusals with 400, not another 4xx."""

from __future__ import annotations

from helpers import chat_completion, chat_exchange, error_body, judge

from conformance.checks.errors_400_messages import MALFORMED
from conformance.verdicts import Status

REFUSED = "errors-400.malformed_messages_are_refused"
ORDER = "errors-400.tool_turns_out_of_order_are_refused"
STATUS = "errors-400.malformed_messages_get_400"


def answer(name: str, status: int = 400):
    exchange_id = f"errors-400/message/{name}"
    if status == 200:
        return chat_exchange(exchange_id, chat_completion("It is sunny."))
    return chat_exchange(exchange_id, error_body("Missing required parameter: 'messages[0].role'."), status=status)


def every_message(**replaced):
    found = {item.name: answer(item.name) for item in MALFORMED}
    found.update(replaced)
    return list(found.values())


def test_every_malformed_message_refused_with_400_passes_all_three():
    for check_id in (REFUSED, ORDER, STATUS):
        result = judge(check_id, *every_message())
        assert result.status == Status.PASS, (check_id, result.message)


def test_a_malformed_message_answered_or_breaking_the_server_fails():
    answered = judge(REFUSED, *every_message(**{"no-role": answer("no-role", 200)}))
    assert (answered.status, answered.level) == (Status.FAIL, "MUST")
    assert "a message without a role answered (HTTP 200" in answered.message
    broken = judge(REFUSED, *every_message(**{"tool-without-call-id": answer("tool-without-call-id", 500)}))
    assert "a tool result without tool_call_id broke the server (HTTP 500" in broken.message


def test_tool_turns_out_of_order_answered_are_a_should_finding_and_a_5xx_the_must_s():
    lenient = every_message(**{"tool-answers-no-call": answer("tool-answers-no-call", 200)})
    assert judge(REFUSED, *lenient).status == Status.PASS
    result = judge(ORDER, *lenient)
    assert (result.status, result.level) == (Status.FAIL, "SHOULD")
    assert "a tool result that answers no earlier tool call was answered (HTTP 200)" in result.message
    broken = every_message(**{"calls-without-results": answer("calls-without-results", 500)})
    assert judge(REFUSED, *broken).status == Status.FAIL
    assert judge(ORDER, *broken).status == Status.PASS


def test_another_4xx_is_the_status_check_s_finding_only():
    exchanges = every_message(**{"user-without-content": answer("user-without-content", 422)})
    assert judge(REFUSED, *exchanges).status == Status.PASS
    result = judge(STATUS, *exchanges)
    assert (result.status, result.level) == (Status.FAIL, "SHOULD")
    assert "a user message without content was refused with 422, not 400" in result.message
