"""Rates over trials: the Wilson interval, the verdict against a threshold, and the gate's arithmetic
at the edges (0/N, N/N, N = 1, thresholds 0 and 1)."""

from __future__ import annotations

import math

import pytest
from helpers import context

from conformance.baseline import describe, gate, read_baseline, write_baseline
from conformance.errors import ConfigError
from conformance.rates import Rate, dropped, wilson
from conformance.registry import Check, check
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
        (0, 1, 0.8, "fail"),  # the interval of 0/1 ends at 0.79
        (0, 1, 0.5, "inconclusive"),
        (5, 5, 1.0, "pass"),
        (4, 5, 1.0, "fail"),  # a threshold of 1 means every trial
        (0, 5, 0.0, "pass"),  # a threshold of 0 cannot be missed
        (0, 1, 0.0, "pass"),
        (4, 5, 0.8, "pass"),
        (3, 5, 0.8, "inconclusive"),
        (2, 5, 0.8, "fail"),
        (1, 5, 0.5, "inconclusive"),
        (0, 5, 0.5, "fail"),
        (12, 15, 0.8, "pass"),
        (10, 15, 0.8, "inconclusive"),
        (8, 15, 0.8, "fail"),
    ],
)
def test_the_verdict_against_a_threshold(k, n, threshold, verdict):
    assert Rate(k, n, threshold).verdict == verdict


@pytest.mark.parametrize(
    ("before", "after", "drop"),
    [
        ((5, 5), (0, 5), True),
        ((5, 5), (1, 5), False),  # 1/5 reaches 0.62, above 5/5's lower end, 0.57
        ((5, 5), (2, 5), False),
        ((0, 5), (0, 5), False),
        ((5, 5), (5, 5), False),
        ((15, 15), (3, 15), True),
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
        (("pass", (4, 5)), ("fail", (2, 5)), True),  # pass -> fail, though within chance of 4/5
        (("inconclusive", (3, 5)), ("fail", (2, 5)), False),  # neither pass -> fail nor beyond chance
        (("pass", (15, 15)), ("fail", (3, 15)), True),
        (("pass", (5, 5)), ("inconclusive", (0, 5)), True),  # beyond chance, whatever the threshold says
        (("fail", (0, 5)), ("pass", (5, 5)), False),
        (("pass", (5, 5)), ("skipped", None), True),  # no longer judged: as for any check
    ]
    for before, after, regression in cases:
        result = _gate({"tools.auto_choice_calls_a_tool": before}, {"tools.auto_choice_calls_a_tool": after})
        assert bool(result.regressions) is regression, (before, after, describe(result))
    improved = _gate({"x.m": ("fail", (0, 5))}, {"x.m": ("pass", (5, 5))})
    assert [str(c) for c in improved.improvements] == ["check x.m: fail -> pass (0/5 -> 5/5)"]
    dropped_ = _gate({"x.m": ("pass", (15, 15))}, {"x.m": ("fail", (3, 15))})
    assert "lies below the baseline's 80%-100%" in str(dropped_.regressions[0])
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
