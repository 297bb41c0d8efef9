"""Rates over trials: the Wilson interval, the exact decision interval, the verdict against a threshold with
its family-wise bound, when a check draws more trials, and the gate's arithmetic at the edges (0/N, N/N,
N = 1, thresholds 0 and 1)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace

import pytest
from helpers import chat_exchange, context, trial_exchanges

from conformance.baseline import describe, gate, read_baseline, write_baseline
from conformance.errors import ConfigError
from conformance.exchange import Exchange
from conformance.profiles import MAX_TRIALS
from conformance.rates import (
    DECISION_ALPHA,
    FAMILY,
    FAMILY_ALPHA,
    LOOKS,
    Rate,
    dropped,
    exact_interval,
    wilson,
)
from conformance.registry import Check, check, load_all
from conformance.runner import run_check
from conformance.verdicts import Kind, Level, Measured, Status


@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    [
        (0, 1, 0.0, 0.7935),
        (1, 1, 0.2065, 1.0),
        (0, 5, 0.0, 0.4345),
        (5, 5, 0.5655, 1.0),
        (2, 5, 0.1176, 0.7693),
        (3, 5, 0.2307, 0.8824),
        (15, 15, 0.7961, 1.0),
        (8, 15, 0.3012, 0.7519),
        (50, 100, 0.4038, 0.5962),
    ],
)
def test_the_wilson_interval(k, n, low, high):
    got = wilson(k, n)
    assert got == pytest.approx((low, high), abs=1e-4)
    assert 0.0 <= got[0] <= k / n <= got[1] <= 1.0


def test_the_interval_is_exact_at_the_edges_and_refuses_nonsense():
    for n in range(1, 60):
        assert wilson(0, n)[0] == 0.0
        assert wilson(n, n)[1] == 1.0
        # symmetric: k of n is the mirror of n - k of n
        for k in range(n + 1):
            low, _ = wilson(k, n)
            mirror = wilson(n - k, n)
            assert math.isclose(low, 1 - mirror[1], abs_tol=1e-12)
    for k, n in ((0, 0), (-1, 5), (6, 5)):
        with pytest.raises(ValueError):
            wilson(k, n)
    with pytest.raises(ValueError):
        Rate(1, 2, 1.5)


@pytest.mark.parametrize(
    ("k", "n", "threshold", "verdict"),
    [
        (1, 1, 0.8, "pass"),
        (0, 1, 0.8, "inconclusive"),  # one trial says nothing beyond chance
        (5, 5, 1.0, "pass"),
        (4, 5, 1.0, "fail"),  # a threshold of 1 means every trial
        (0, 5, 0.0, "pass"),  # a threshold of 0 cannot be missed
        (0, 1, 0.0, "pass"),
        (4, 5, 0.8, "pass"),
        (2, 5, 0.8, "inconclusive"),  # below the 95 % interval, not beyond 1 % family-wise
        (0, 5, 0.8, "inconclusive"),  # 0.2 ** 5 = 0.032 %: just short of the 0.021 % a decision needs
        (0, 5, 0.5, "inconclusive"),
        (12, 15, 0.8, "pass"),
        (8, 15, 0.8, "inconclusive"),
        (5, 15, 0.8, "fail"),
        (0, 20, 0.5, "fail"),
        (3, 20, 0.5, "inconclusive"),
        (12, 60, 0.8, "fail"),  # auto tool calls fallen to 20 %: three probes, 20 trials each
        (36, 60, 0.8, "inconclusive"),
    ],
)
def test_the_verdict_against_a_threshold(k, n, threshold, verdict):
    assert Rate(k, n, threshold).verdict == verdict


@pytest.mark.parametrize("threshold", [0.5, 0.8, 0.9, 0.95, 1.0])
def test_a_failure_is_beyond_chance_at_the_decision_level_whatever_the_trials(threshold):
    """The family-wise bound holds exactly, not by a normal approximation: a model check whose true rate
    is its threshold fails with probability at most DECISION_ALPHA, at every number of trials a run can draw
    (up to three probes of MAX_TRIALS each), so a run of FAMILY checks deciding LOOKS times each fails any of
    them by chance with probability at most FAMILY_ALPHA."""
    assert math.isclose(DECISION_ALPHA * FAMILY * LOOKS, FAMILY_ALPHA)
    for n in range(1, 3 * MAX_TRIALS + 1):
        chance = sum(
            math.comb(n, k) * threshold**k * (1 - threshold) ** (n - k)
            for k in range(n + 1)
            if Rate(k, n, threshold).verdict == "fail"
        )
        assert chance <= DECISION_ALPHA * (1 + 1e-9), (n, chance)


def test_the_catalogue_stays_within_the_family_the_bound_is_written_for():
    model_checks = [c for c in load_all().values() if c.kind == Kind.MODEL]
    assert 0 < len(model_checks) <= FAMILY, f"{len(model_checks)} model checks: raise rates.FAMILY (and the README)"


def test_the_exact_interval_holds_the_rate_and_the_decision():
    for n in (1, 5, 20, 60):
        for k in range(n + 1):
            low, high = exact_interval(k, n)
            assert 0.0 <= low <= k / n <= high <= 1.0
            for threshold in (0.5, 0.8):
                assert (Rate(k, n, threshold).verdict == "fail") == (high < threshold or math.isclose(high, threshold))
    assert exact_interval(0, 5)[1] == pytest.approx(1 - DECISION_ALPHA ** (1 / 5), abs=1e-9)
    assert exact_interval(5, 5)[0] == pytest.approx(DECISION_ALPHA ** (1 / 5), abs=1e-9)


def test_a_rate_is_settled_when_its_interval_clears_the_threshold_or_it_fails():
    assert not Rate(5, 5, 0.8).settled  # 5 of 5 reaches down to 57 %: draw more
    assert Rate(5, 5, 0.5).settled
    assert Rate(20, 20, 0.8).settled  # 84 %-100 %
    assert not Rate(19, 20, 0.8).settled
    assert Rate(12, 60, 0.8).settled  # a failure
    assert not Rate(2, 5, 0.8).settled


@pytest.mark.parametrize(
    ("before", "after", "drop"),
    [
        ((5, 5), (0, 5), False),  # five trials each: not beyond chance at the decision level
        ((20, 20), (0, 20), True),
        ((20, 20), (4, 20), True),
        ((20, 20), (5, 20), False),
        ((20, 20), (10, 20), False),
        ((0, 5), (0, 5), False),
        ((5, 5), (5, 5), False),
        ((60, 60), (12, 60), True),
        ((47, 60), (12, 60), True),  # from an inconclusive baseline too: the counts say it
        ((15, 15), (12, 15), False),
        ((1, 1), (0, 1), False),  # one trial each: nothing is beyond chance
        ((0, 5), (5, 5), False),  # a rise is never a drop
    ],
)
def test_a_drop_beyond_chance(before, after, drop):
    assert dropped(Rate(*before, 0.8), Rate(*after, 0.8)) is drop


def _report(statuses: dict[str, tuple[str, tuple[int, int] | None]], target: str = "t") -> dict:
    checks = []
    for check_id, (status, counts) in statuses.items():
        rate = Rate(counts[0], counts[1], 0.8).as_dict() if counts else None
        checks.append({"id": check_id, "status": status, "kind": "model" if counts else "protocol", "rate": rate})
    return {
        "suite": {"version": "0.1.0"},
        "target": {"name": target, "dialect": "openai"},
        "run": {"mode": "live", "started_at": "2026-12-01T00:00:00Z", "complete": True},
        "rows": [{"id": "tools", "status": "supported"}],
        "checks": checks,
    }


def _gate(before: dict, after: dict, **kwargs):
    return gate(write_baseline(_report(before, **kwargs)), _report(after))


def test_the_gate_fails_a_model_check_only_on_pass_to_fail_or_a_drop_beyond_chance():
    cases = [
        # (before, after, regression?)
        (("pass", (5, 5)), ("inconclusive", (3, 5)), False),
        (("inconclusive", (3, 5)), ("pass", (5, 5)), False),
        (("pass", (5, 5)), ("pass", (4, 5)), False),
        (("pass", (20, 20)), ("fail", (5, 15)), True),  # pass -> fail
        (("inconclusive", (3, 5)), ("fail", (5, 15)), False),  # neither pass -> fail nor beyond chance
        (("pass", (15, 15)), ("fail", (3, 15)), True),
        (("inconclusive", (47, 60)), ("fail", (12, 60)), True),  # a drop beyond chance, from inconclusive too
        (("pass", (5, 5)), ("inconclusive", (0, 5)), False),  # five trials: not beyond chance at 1 % family-wise
        (("pass", (20, 20)), ("inconclusive", (4, 20)), True),  # beyond chance, whatever the threshold says
        (("fail", (0, 20)), ("pass", (5, 5)), False),
        (("pass", (5, 5)), ("skipped", None), False),  # not judged this time: listed, never a regression
        (("pass", (5, 5)), ("blocked", None), False),
        (("blocked", None), ("fail", (0, 20)), False),
    ]
    for before, after, regression in cases:
        result = _gate({"tools.auto_choice_calls_a_tool": before}, {"tools.auto_choice_calls_a_tool": after})
        assert bool(result.regressions) is regression, (before, after, describe(result))
    improved = _gate({"x.m": ("fail", (0, 20))}, {"x.m": ("pass", (5, 5))})
    assert [str(c) for c in improved.improvements] == ["check x.m: fail -> pass (0/20 -> 5/5)"]
    dropped_ = _gate({"x.m": ("pass", (20, 20))}, {"x.m": ("fail", (3, 20))})
    assert "lies below the baseline's 65%-100%" in str(dropped_.regressions[0])
    within = _gate({"x.m": ("pass", (5, 5))}, {"x.m": ("inconclusive", (3, 5))})
    assert [str(c) for c in within.changed] == ["check x.m: pass -> inconclusive (5/5 -> 3/5: within chance)"]


def test_protocol_checks_gate_as_before_and_a_baseline_of_another_target_gates_a_migration():
    result = _gate({"a.p": ("pass", None), "b.p": ("fail", None)}, {"a.p": ("fail", None), "b.p": ("pass", None)})
    assert [c.id for c in result.regressions] == ["a.p"]
    assert [c.id for c in result.improvements] == ["b.p"]
    # the current vendor's own rates gate the candidate
    migration = gate(
        write_baseline(_report({"x.m": ("pass", (14, 15))}, target="vendor-a")),
        _report({"x.m": ("pass", (13, 15))}, target="b"),
    )
    assert migration.passed
    assert "the baseline is for target 'vendor-a'" in migration.notes[0]


def test_a_baseline_keeps_the_counts_and_is_checked_when_read(tmp_path):
    import json

    baseline = write_baseline(_report({"x.m": ("pass", (4, 5)), "a.p": ("pass", None)}))
    assert baseline["rates"] == {"x.m": {"successes": 4, "trials": 5, "threshold": 0.8}}
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps(baseline))
    assert read_baseline(path)["rates"]["x.m"]["trials"] == 5
    baseline["rates"]["x.m"] = {"successes": 6, "trials": 5, "threshold": 0.8}
    path.write_text(json.dumps(baseline))
    with pytest.raises(ConfigError, match=r"rates\.x\.m is not a count"):
        read_baseline(path)
    # a baseline written before rates existed still gates (by status)
    del baseline["rates"]
    path.write_text(json.dumps(baseline))
    assert gate(read_baseline(path), _report({"x.m": ("inconclusive", (3, 5)), "a.p": ("pass", None)})).passed


def test_a_model_check_is_should_with_a_threshold_and_reads_its_probes_over_trials():
    def register(**options):
        return check("tools", source="openai-function-calling", needs=("tools/auto",), **options)(lambda ctx: None)

    with pytest.raises(ValueError, match="SHOULD and declares a threshold"):
        register(level=Level.MUST, kind=Kind.MODEL, threshold=0.8)
    with pytest.raises(ValueError, match="SHOULD and declares a threshold"):
        register(level=Level.SHOULD, kind=Kind.MODEL)
    with pytest.raises(ValueError, match="has no threshold"):
        register(level=Level.SHOULD, threshold=0.5)
    with pytest.raises(ValueError, match="trials of probes the check does not need"):
        register(level=Level.MUST, trials=("tools/none",))


def _model_check(func) -> Check:
    return Check(
        "tools.m", "tools", Level.SHOULD, "openai-function-calling", (), func, "claim", kind=Kind.MODEL, threshold=0.8
    )


def test_the_runner_turns_counts_into_a_verdict_and_refuses_a_model_check_without_one():
    result = run_check(_model_check(lambda ctx: Measured(3, 5, "did it", ["t2 did not", "t4 did not"])), context([]))
    assert result.status == Status.INCONCLUSIVE
    assert result.message.startswith("did it in 3 of 5 trials (60%; 95 % interval 23%–88%), threshold 80%")
    assert "Trials that did not: t2 did not; t4 did not" in result.message
    assert result.rate == {
        "successes": 3,
        "trials": 5,
        "rate": 0.6,
        "interval": [0.2307, 0.8824],
        "confidence": 0.95,
        "threshold": 0.8,
    }
    assert result.as_dict()["kind"] == "model"
    none_judged = run_check(_model_check(lambda ctx: Measured(0, 0, "did it")), context([]))
    assert none_judged.status == Status.SKIPPED
    wrong = run_check(_model_check(lambda ctx: "a plain pass"), context([]))
    assert (wrong.status, wrong.error_cause) == (Status.ERROR, "harness")


def _auto_trials(count: int, called: Callable[[int], bool]) -> list[Exchange]:
    def answer(number: int) -> Exchange:
        call = [{"id": "c", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}]
        message = {"role": "assistant", "content": None if called(number) else "sunny", "tool_calls": None}
        if called(number):
            message["tool_calls"] = call
        return chat_exchange("tools/auto", {"choices": [{"index": 0, "message": message}]})

    return trial_exchanges(answer(1), count, answer)


def _counting_check() -> Check:
    def count(ctx) -> Measured:
        trials = ctx.trials("tools/auto")
        called = sum(bool(e.json_body.value["choices"][0]["message"]["tool_calls"]) for e in trials)
        return Measured(called, len(trials), "called the tool")

    return Check(
        "tools.m",
        "tools",
        Level.SHOULD,
        "openai-function-calling",
        ("tools/auto",),
        count,
        "claim",
        kind=Kind.MODEL,
        threshold=0.8,
        trial_needs=("tools/auto",),
    )


def test_a_model_check_left_undecided_draws_up_to_max_trials_and_one_decided_does_not():
    # 5 of 5 reaches down to 57 %, below 80 %: it draws up to 20, and passes on them
    ctx = context(_auto_trials(20, lambda n: True), limits={"trials": 5, "max_trials": 20})
    result = run_check(_counting_check(), ctx)
    assert (result.status, result.rate["trials"]) == (Status.PASS, 20), result.message
    assert "its first 5 trials left the 95 % interval straddling the threshold" in result.message
    assert len(ctx.source.requested) == 25  # the first five once more, from the store, then fifteen more
    # none called in the first five: not yet beyond chance, so it draws more, and fails on them
    ctx = context(_auto_trials(20, lambda n: n > 17), limits={"trials": 5, "max_trials": 20})
    failed = run_check(_counting_check(), ctx)
    assert (failed.status, failed.rate["successes"], failed.rate["trials"]) == (Status.FAIL, 3, 20), failed.message
    # a threshold its five trials clear: settled, nothing more drawn
    settled = replace(_counting_check(), threshold=0.5)
    ctx = context(_auto_trials(5, lambda n: True), limits={"trials": 5, "max_trials": 20})
    assert run_check(settled, ctx).rate["trials"] == 5
    assert len(ctx.source.requested) == 5
    # no trials to spare (limits.max_trials at limits.trials): it decides on what it has
    ctx = context(_auto_trials(5, lambda n: True), limits={"trials": 5, "max_trials": 5})
    assert run_check(_counting_check(), ctx).rate["trials"] == 5


def test_a_row_that_dropped_is_a_regression_only_where_a_check_of_it_regressed():
    def report(check_status: str, row_status: str) -> dict:
        made = _report({"tools.p": (check_status, None)})
        made["checks"][0]["row"] = "tools"
        made["rows"] = [{"id": "tools", "status": row_status}]
        return made

    # a check no longer judged (blocked) takes the row from supported to untested: listed, not a regression
    unjudged = gate(write_baseline(report("pass", "supported")), report("blocked", "untested"))
    assert unjudged.passed
    assert [str(c) for c in unjudged.changed] == [
        "check tools.p: pass -> blocked",
        "row tools: supported -> untested (no check of the row regressed)",
    ]
    failed = gate(write_baseline(report("pass", "supported")), report("fail", "unsupported"))
    assert [str(c) for c in failed.regressions] == [
        "check tools.p: pass -> fail",
        "row tools: supported -> unsupported",
    ]
