"""response_format at the edges (issue 28, item 3): the text form answered, a strict schema with $defs and $ref
answered wherever a plain strict schema is, and followed through its references; and GET /responses/{id} refuses a
wrong key as POST /responses does."""

from __future__ import annotations

import json

from helpers import chat_completion, chat_exchange, error_body, judge, make_exchange

from conformance.verdicts import Status

ANSWERED = "structured-output.every_response_format_form_is_answered"
FOLLOWED = "structured-output.schema_definitions_are_followed"
WHOLE = {"city": {"name": "Oslo", "coastal": True}, "return_leg": {"days": 2}}
CITY = {
    "city": "Rome",
    "coastal": False,
    "neighbours": ["Italy"],
    "location": {"hemisphere": "north", "continent": "Europe"},
}


def formats(text=None, definitions=None, strict=None):
    answered = chat_completion(json.dumps(CITY))
    return [
        text or chat_exchange("structured-output/format-text", chat_completion("Hi.")),
        definitions or chat_exchange("structured-output/json-schema-definitions", chat_completion(json.dumps(WHOLE))),
        strict or chat_exchange("structured-output/json-schema-strict", answered),
    ]


def refused(exchange_id: str, status: int = 400):
    return chat_exchange(exchange_id, error_body("'response_format.type' must be 'json_schema'"), status=status)


def test_every_form_answered_and_followed_passes():
    assert judge(ANSWERED, *formats()).status == Status.PASS
    assert judge(FOLLOWED, *formats()).status == Status.PASS
    nullable = {"city": {"name": "Rome", "coastal": False}, "return_leg": None}
    exchange = chat_exchange("structured-output/json-schema-definitions", chat_completion(json.dumps(nullable)))
    assert judge(FOLLOWED, *formats(definitions=exchange)).status == Status.PASS


def test_the_text_form_refused_fails():
    result = judge(ANSWERED, *formats(text=refused("structured-output/format-text")))
    assert (result.status, result.level) == (Status.FAIL, "MUST")
    assert "expected HTTP 200, got 400" in result.message


def test_definitions_refused_beside_a_served_schema_fail_and_block_the_following():
    exchanges = formats(definitions=refused("structured-output/json-schema-definitions"))
    assert judge(ANSWERED, *exchanges).status == Status.FAIL
    blocked = judge(FOLLOWED, *exchanges)
    assert (blocked.status, blocked.blocked_by) == (
        Status.BLOCKED,
        "structured-output.every_response_format_form_is_answered",
    )
    # json_schema not served at all: the strict check's finding, not this row's twice
    unserved = formats(
        definitions=refused("structured-output/json-schema-definitions"),
        strict=refused("structured-output/json-schema-strict"),
    )
    assert judge(ANSWERED, *unserved).status == Status.PASS
    assert judge(FOLLOWED, *unserved).status == Status.SKIPPED


def test_references_not_followed_fail_where_the_answer_breaks_them():
    hollow = {"city": {}, "return_leg": {}}
    exchange = chat_exchange("structured-output/json-schema-definitions", chat_completion(json.dumps(hollow)))
    result = judge(FOLLOWED, *formats(definitions=exchange))
    assert (result.status, result.level) == (Status.FAIL, "MUST")
    assert "does not match the requested schema" in result.message
    # the plain strict schema not followed either: one defect, the strict check's
    prose = chat_exchange("structured-output/json-schema-strict", chat_completion("Hello from the mock."))
    blocked = judge(FOLLOWED, *formats(definitions=exchange, strict=prose))
    assert (blocked.status, blocked.blocked_by) == (Status.BLOCKED, "structured-output.strict_json_schema_is_followed")


RETRIEVE = "responses-errors.retrieving_with_a_wrong_key_is_401"


def responses(created: int, retrieved: int):
    basic = {"id": "resp_1", "object": "response", "status": "completed", "output": []}
    return [
        make_exchange("responses/basic", method="POST", path="/responses", body=basic),
        make_exchange(
            "responses-errors/wrong-key",
            method="POST",
            path="/responses",
            status=created,
            body=error_body("Incorrect API key provided."),
        ),
        make_exchange(
            "responses-errors/retrieve-wrong-key",
            path="/responses/resp_conformance_wrong_key_0",
            status=retrieved,
            body=error_body("Response not found."),
        ),
    ]


def test_retrieving_with_a_wrong_key_is_refused_with_401_before_the_lookup():
    assert judge(RETRIEVE, *responses(401, 401)).status == Status.PASS
    result = judge(RETRIEVE, *responses(401, 404))
    assert result.status == Status.FAIL
    assert "GET /responses/{id} with a wrong key was refused with HTTP 404, expected 401" in result.message
    # both routes refusing with the same wrong status: one defect, the POST check's
    same = judge(RETRIEVE, *responses(400, 400))
    assert (same.status, same.blocked_by) == (Status.BLOCKED, "responses-errors.wrong_key_is_401")
