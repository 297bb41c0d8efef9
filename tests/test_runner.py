"""The runner keeps harness errors, environment errors and skips apart from conformance verdicts."""

from __future__ import annotations

from helpers import context, make_exchange, model_list

from conformance.registry import Check
from conformance.runner import run_check
from conformance.verdicts import CheckFailed, ErrorCause, Level, NotApplicable, Status, Unsupported


def fake_check(func, *, row="models", live_only=False) -> Check:
    return Check(f"{row}.{func.__name__}", row, Level.MUST, "openai-models", ("models/list",), func, "claim", live_only)


LISTING = make_exchange("models/list", body=model_list("model-chat"))


def test_a_crash_in_a_check_is_a_harness_error_naming_the_line():
    def crashes(ctx):
        ctx.exchange("models/list")
        return {}["missing"]

    result = run_check(fake_check(crashes), context([LISTING]))
    assert result.status == Status.ERROR
    assert result.error_cause == ErrorCause.HARNESS
    assert "KeyError" in result.message
    assert "test_runner.py" in result.message
    assert result.exchanges == ["models/list"]


def test_outcomes_map_to_statuses():
    def unsupported(ctx):
        raise Unsupported("the target says it does not do this")

    def not_applicable(ctx):
        raise NotApplicable("nothing configured")

    def fails(ctx):
        raise CheckFailed("wrong", details={"a": 1})

    assert run_check(fake_check(unsupported), context([])).status == Status.UNSUPPORTED
    assert run_check(fake_check(not_applicable), context([])).status == Status.SKIPPED
    failed = run_check(fake_check(fails), context([]))
    assert (failed.status, failed.message, failed.details) == (Status.FAIL, "wrong", {"a": 1})


def test_an_unreachable_target_is_an_environment_error():
    from conformance.exchange import TransportFailure

    down = make_exchange("models/list", status=None, failure=TransportFailure("connect", "cannot connect: refused"))

    def reads(ctx):
        ctx.exchange("models/list")

    result = run_check(fake_check(reads), context([down]))
    assert (result.status, result.error_cause) == (Status.ERROR, ErrorCause.ENVIRONMENT)


def test_a_missing_recording_is_a_cassette_error():
    def reads(ctx):
        ctx.exchange("models/list")

    result = run_check(fake_check(reads), context([]))
    assert (result.status, result.error_cause) == (Status.ERROR, ErrorCause.CASSETTE)


def test_declared_unsupported_rows_send_nothing():
    def reads(ctx):
        ctx.exchange("models/list")

    ctx = context([LISTING], capabilities={"unsupported": ["models"]})
    result = run_check(fake_check(reads), ctx)
    assert result.status == Status.UNSUPPORTED
    assert "declares the models row unsupported" in result.message
    assert ctx.source.requested == []


def test_live_only_checks_are_skipped_in_replay_and_say_why():
    def timing(ctx):
        return None

    assert run_check(fake_check(timing, live_only=True), context([], mode="live")).status == Status.PASS
    replayed = run_check(fake_check(timing, live_only=True), context([], mode="replay"))
    assert replayed.status == Status.SKIPPED
    assert replayed.message.startswith("live only")
