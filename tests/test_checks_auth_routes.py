"""A wrong key on every route a key guards, not only a plain chat request (issue 28, item 3): the model list
and a model, moderations, and a streamed chat request, whose refusal must come before any stream."""

from __future__ import annotations

from helpers import chat_completion, chat_exchange, error_body, judge, make_exchange, model_list, sse, stream_exchange

from conformance.verdicts import Status

CHECK = "errors-auth.every_route_refuses_a_wrong_key"
ROUTES = {
    "errors-auth/elsewhere/models": ("GET", "/models"),
    "errors-auth/elsewhere/model": ("GET", "/models/m"),
    "errors-auth/elsewhere/moderations": ("POST", "/moderations"),
    "errors-auth/elsewhere/stream": ("POST", "/chat/completions"),
}


def refused(exchange_id: str, status: int = 401):
    method, path = ROUTES.get(exchange_id, ("POST", "/chat/completions"))
    body = error_body("Incorrect API key provided.", code="invalid_api_key")
    return make_exchange(exchange_id, method=method, path=path, status=status, body=body, auth="wrong-key")


def every_route(**replaced):
    exchanges = {exchange_id: refused(exchange_id) for exchange_id in [*ROUTES, "errors-auth/wrong-key"]}
    exchanges.update(replaced)
    return list(exchanges.values())


def test_every_route_that_refuses_a_wrong_key_with_401_passes():
    result = judge(CHECK, *every_route())
    assert result.status == Status.PASS, result.message
    assert result.message == "4 routes, all as claimed"


def test_a_public_model_list_fails_naming_the_route():
    listed = make_exchange("errors-auth/elsewhere/models", body=model_list("m"), auth="wrong-key")
    result = judge(CHECK, *every_route(**{"errors-auth/elsewhere/models": listed}))
    assert result.status == Status.FAIL
    assert result.message.startswith("1 of 4 routes: GET /models: ")
    assert "was answered (HTTP 200) instead of refused with 401: anyone can list the models" in result.message


def test_a_refusal_sent_inside_a_stream_is_not_a_refusal():
    event = {"error": {"message": "Incorrect API key provided.", "type": "invalid_request_error"}}
    streamed = stream_exchange("errors-auth/elsewhere/stream", sse([event]), auth="wrong-key")
    result = judge(CHECK, *every_route(**{"errors-auth/elsewhere/stream": streamed}))
    assert result.status == Status.FAIL
    assert "the stream opened before the key was checked" in result.message
    moderations = "errors-auth/elsewhere/moderations"
    forbidden = judge(CHECK, *every_route(**{moderations: refused(moderations, 403)}))
    assert forbidden.status == Status.FAIL


def test_a_target_that_checks_no_key_at_all_is_the_chat_check_s_finding():
    answered = chat_exchange("errors-auth/wrong-key", chat_completion(), auth="wrong-key")
    result = judge(CHECK, *every_route(**{"errors-auth/wrong-key": answered}))
    assert result.status == Status.BLOCKED
    assert result.blocked_by == "errors-auth.wrong_key_is_refused_with_401"


def test_routes_refused_as_chat_refuses_with_another_status_are_the_chat_check_s():
    """LiteLLM without a database refuses a wrong key with 400 "No connected db." on chat and the model list alike."""
    as_chat = {exchange_id: refused(exchange_id, 400) for exchange_id in [*ROUTES, "errors-auth/wrong-key"]}
    exchanges = every_route(**as_chat)
    result = judge(CHECK, *exchanges)
    assert result.status == Status.BLOCKED
    assert "as chat does, with 400" in result.message
    listed = make_exchange("errors-auth/elsewhere/models", body=model_list("m"), auth="wrong-key")
    public = judge(CHECK, *every_route(**{**as_chat, "errors-auth/elsewhere/models": listed}))
    assert public.status == Status.FAIL
    assert public.message.startswith("1 of 4 routes: GET /models: ")
