"""Bodies that are not what the endpoint expects (issue 28, item 3): refused with a 4xx, never answered or a 5xx,
and with 400 where they were sent as JSON; a body that is not JSON at all, mishandled on chat too, is the malformed
JSON check's finding."""

from __future__ import annotations

from helpers import chat_completion, chat_exchange, error_body, judge, make_exchange

from conformance.checks.errors_400_bodies import BODIES
from conformance.verdicts import Status

REFUSED = "errors-400.bodies_that_are_not_a_request_are_refused"
STATUS = "errors-400.bodies_that_are_not_a_request_get_400"


def answer(name: str, status: int = 400, body=None):
    path = "/moderations" if name.startswith("moderations") else "/chat/completions"
    value = body if body is not None else error_body("We could not parse the JSON body of your request.")
    return make_exchange(f"errors-400/body/{name}", method="POST", path=path, status=status, body=value)


def every_body(**replaced):
    found = {body.name: answer(body.name) for body in BODIES}
    found.update(replaced)
    return [chat_exchange("errors-400/malformed-json", error_body("bad"), status=400), *found.values()]


def test_every_body_refused_with_400_passes_both():
    assert judge(REFUSED, *every_body()).status == Status.PASS
    assert judge(STATUS, *every_body()).status == Status.PASS


def test_an_answer_or_a_5xx_fails_naming_the_body():
    broken = judge(REFUSED, *every_body(**{"chat-array": answer("chat-array", 500)}))
    assert broken.status == Status.FAIL
    assert "a JSON array instead of the request object was broken (HTTP 500" in broken.message
    answered = answer("moderations-no-input", 200, {"id": "modr-1", "model": "m", "results": []})
    result = judge(REFUSED, *every_body(**{"moderations-no-input": answered}))
    assert "a moderation body without input was answered (HTTP 200" in result.message


def test_another_4xx_is_a_should_finding_and_a_form_body_may_get_415():
    result = judge(STATUS, *every_body(**{"chat-null": answer("chat-null", 422)}))
    assert (result.status, result.level) == (Status.FAIL, "SHOULD")
    assert "the JSON value null as the body was refused with 422, not 400" in result.message
    assert judge(STATUS, *every_body(**{"chat-form": answer("chat-form", 415)})).status == Status.PASS
    assert judge(REFUSED, *every_body(**{"chat-form": answer("chat-form", 415)})).status == Status.PASS


def test_an_unreadable_body_mishandled_on_chat_too_is_the_malformed_json_check_s():
    exchanges = every_body(**{"chat-empty": answer("chat-empty", 500)})
    assert judge(REFUSED, *exchanges).status == Status.FAIL
    exchanges[0] = chat_exchange("errors-400/malformed-json", error_body("syntax error"), status=500)
    assert judge(REFUSED, *exchanges).status == Status.PASS
    answered = chat_exchange("errors-400/malformed-json", chat_completion())
    exchanges[0] = answered
    assert judge(REFUSED, *exchanges).status == Status.PASS
