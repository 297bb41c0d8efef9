"""The dry-run plan: what a live run sends, bounded before anything is sent."""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path

import pytest

from conformance.budget import TEMPLATE_TOKENS_PER_MESSAGE, TEMPLATE_TOKENS_PER_REQUEST, token_bound
from conformance.cassettes import CassetteSet
from conformance.dialects import load_dialect
from conformance.exchange import Request
from conformance.plan import make_plan, render, time_bound
from conformance.registry import CHECKS, load_all
from conformance.runconfig import RunOptions, resolve

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def reference():
    return resolve(RunOptions(target="reference", mode="live"), cwd=ROOT)


def chat(body):
    return Request("x", "POST", "/chat/completions", "test", json=body)


def test_a_chat_request_is_bounded_by_its_bytes_and_its_cap(reference):
    body = {"model": "m", "messages": [{"role": "user", "content": "héllo"}], "max_tokens": 16, "n": 2}
    prompt, completion, images = token_bound(chat(body))
    assert prompt == TEMPLATE_TOKENS_PER_REQUEST + TEMPLATE_TOKENS_PER_MESSAGE + len("héllo".encode())
    assert completion == 32  # n choices of up to 16 tokens
    assert images == 0


def test_tools_schemas_and_images_count(reference):
    tools = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}
    body = {
        "model": "m",
        "messages": [{"role": "user", "content": [{"type": "text", "text": "look"}, image, image]}],
        "tools": tools,
        "max_completion_tokens": 5,
    }
    prompt, completion, images = token_bound(chat(body))
    assert images == 2
    assert completion == 5
    assert prompt > len(str(tools)) // 2


def test_an_uncapped_request_is_flagged_and_refused_shapes_cost_their_bytes(reference):
    _, completion, _ = token_bound(chat({"model": "m", "messages": [], "max_tokens": -1}))
    assert completion is None
    prompt, completion, _ = token_bound(chat({"model": "m", "messages": "hi", "max_tokens": 4}))
    assert completion == 4
    assert prompt > TEMPLATE_TOKENS_PER_REQUEST
    assert token_bound(Request("m", "GET", "/models", "list")) == (0, 0, 0)
    moderation = Request("m", "POST", "/moderations", "x", json={"model": "g", "input": ["ab", "cd"]})
    assert token_bound(moderation) == (5, 0, 0)


def test_every_check_that_sends_requests_itself_declares_them():
    for check in load_all().values():
        source = inspect.getsource(check.func)
        if re.search(r"ctx\.fetch(_many)?\(", source) or "_retrieved(ctx)" in source:
            assert check.extra is not None, f"{check.id} sends requests itself but declares no extra="


def test_the_plan_bounds_a_live_run_of_the_reference(reference, cli, tmp_path):
    """Every exchange a live run makes is in the plan (or is a stand-in's real counterpart), and the
    tokens the server reports stay under the bound."""
    plan = make_plan(load_all().values(), reference.target, reference.dialect)
    run = cli("run", "--mode", "record", "--cassette-dir", str(tmp_path / "cassettes"))
    assert run.code == 0, run.stderr
    made = CassetteSet.load(tmp_path / "cassettes" / "reference")
    planned = {request.id for request in plan.requests}
    stand_ins = re.compile(r"(models/retrieve|model-selection/chat)/.+")
    unplanned = sorted(i for i in made.ids() if i not in planned and not stand_ins.fullmatch(i))
    assert not unplanned
    assert run.report["run"]["requests_sent"] <= len(plan.requests)
    used = 0
    for exchange_id in made.ids():
        body = made.get(exchange_id).json_body
        usage = body.value.get("usage") if body.ok and isinstance(body.value, dict) else None
        used += usage["total_tokens"] if isinstance(usage, dict) else 0
    assert 0 < used <= plan.prompt_tokens + plan.completion_tokens


def test_dry_run_sends_nothing_and_needs_no_key(cli):
    # nothing listens on port 9, and the key variable is unset: a dry run needs neither
    run = cli("run", "--base-url", "http://127.0.0.1:9/v1", "--model", "m", "--api-key-env", "NO_SUCH_KEY", "--dry-run")
    assert run.code == 0, run.stderr
    assert run.stdout.startswith("plan for target custom at http://127.0.0.1:9/v1: ")
    assert re.search(r"^  total +\d+ ", run.stdout, re.MULTILINE)
    assert "nothing sent" in run.stdout
    assert not (run.report_dir / "report.json").exists()
    # the plan, for CI to read
    plan = json.loads((run.report_dir / "plan.json").read_text())
    assert f"plan: {run.report_dir / 'plan.json'}" in run.stdout
    assert plan["requests"] == sum(row["requests"] for row in plan["rows"]) > 0
    assert plan["tokens_max"] == plan["prompt_tokens_max"] + plan["completion_tokens_max"]


def test_dry_run_follows_the_selection(cli):
    whole = cli("run", "--target", "openai", "--dry-run")
    tools = cli("run", "--target", "openai", "--dry-run", "--", "-k", "tools")
    assert whole.code == tools.code == 0, whole.stderr + tools.stderr
    assert "  tools " in tools.stdout
    assert "  streaming " not in tools.stdout
    total = [int(re.search(r"^  total +(\d+)", r.stdout, re.MULTILINE).group(1)) for r in (whole, tools)]
    assert 0 < total[1] < total[0]
    nothing = cli("run", "--target", "openai", "--dry-run", "--", "-k", "no_such_check")
    assert nothing.code == 2
    assert "no check matched the selection" in nothing.stderr


def test_the_plan_counts_every_trial_of_the_model_checks_and_those_they_may_draw():
    from conformance.trials import MARK

    one = resolve(RunOptions(target="llama-api", dry_run=True, trials=1, max_trials=1), cwd=ROOT)
    five = resolve(RunOptions(target="llama-api", dry_run=True, max_trials=5), cwd=ROOT)
    twenty = resolve(RunOptions(target="llama-api", dry_run=True), cwd=ROOT)
    assert (twenty.target.limits.trials, twenty.target.limits.max_trials) == (5, 20)
    single, many, bound = (make_plan(load_all().values(), c.target, c.dialect) for c in (one, five, twenty))
    assert single.trial_requests == 0
    # each request a model check reads over trials is planned four more times, under its trial ids
    assert len(many.requests) - len(single.requests) == many.trial_requests == 4 * 24
    assert all(MARK in r.id for r in many.requests if r.id not in {s.id for s in single.requests})
    assert many.as_dict()["trials"] == 5
    assert many.more_trial_requests == 0
    # and fifteen more when the first five leave the check undecided: the dry run's bound says so
    assert bound.more_trial_requests == 15 * 24
    assert len(bound.requests) == len(many.requests) + 15 * 24
    assert bound.as_dict()["max_trials"] == 20
    assert "(up to 20 when they leave it undecided)" in render(bound, None)
    assert f"{15 * 24} of them only if a check's first 5 leave it undecided" in render(bound, None)


def test_the_deadline_and_the_run_bound_come_from_the_command_line_and_the_default_bound_is_kept_short():
    """Issue 30: no option set the 120 s deadline, and the default bound of a full run was almost two hours."""
    config = resolve(RunOptions(target="llama-api", dry_run=True, deadline=7, run_timeout=90), cwd=ROOT)
    assert (config.target.limits.deadline, config.target.limits.run_timeout) == (7, 90)
    default = resolve(RunOptions(target="llama-api", dry_run=True), cwd=ROOT).target
    assert time_bound(len(make_plan(CHECKS.values(), default, load_dialect("llama-api")).requests), default) == 45 * 60
