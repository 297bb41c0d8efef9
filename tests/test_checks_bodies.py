"""Bodies that are not what the endpoint expects (issue 28, item 3): refused with a 4xx, never answered or a 5xx,
and with 400 where they were sent as JSON; a body that is not JSON at all, mishandled on chat too, is the malformed
JSON check's finding."""

from __future__ import annotations

from helpers import chat_completion, chat_exchange, error_body, judge, make_exchange

from conformance.checks.errors_400_bodies import BODIES
from conformance.verdicts import Status

REFUSED = "errors-400.bodies_that_are_not_a_request_are_refused"
STATUS = "errors-400.bodies_that_are_not_a_request_get_400"


BY_NAME = {body.name: body for body in BODIES}


def answer(name: str, status: int = 400, body=None):
    value = body if body is not None else error_body("We could not parse the JSON body of your request.")
    sent = BY_NAME[name]
    return make_exchange(sent.id, method="POST", path=sent.path, status=status, body=value)


def served(status: int = 200):
    body = {"id": "resp_1", "object": "response", "status": "completed", "output": []}
    if status != 200:
        body = error_body("Unknown route POST /v1/responses.")
    return make_exchange("responses/basic", method="POST", path="/responses", status=status, body=body)


def every_body(gate=None, **replaced):
    found = {body.name: answer(body.name) for body in BODIES}
    found.update(replaced)
    chat = chat_exchange("errors-400/malformed-json", error_body("bad"), status=400)
    return [chat, gate or served(), *found.values()]


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


def test_the_responses_bodies_are_judged_where_the_endpoint_is_served_only():
    broken = every_body(array=answer("array", 500))
    result = judge(REFUSED, *broken)
    assert "POST /responses: a JSON array instead of the Responses request was broken (HTTP 500" in result.message
    absent = every_body(served(404), array=answer("array", 404), null=answer("null", 404))
    assert judge(REFUSED, *absent).message == "6 bodies, all as claimed"
    assert judge(STATUS, *absent).status == Status.PASS
