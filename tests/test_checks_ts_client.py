"""The TypeScript client as an oracle: what it reads, what it throws, the checks only it needs, and a
run without node."""

from __future__ import annotations

import json
import os
import shutil
import stat
import sys
from pathlib import Path

import pytest
from helpers import (
    chat_completion,
    chat_exchange,
    chunk,
    error_body,
    judge,
    make_exchange,
    model,
    model_list,
    sse,
    stream_exchange,
    text_stream,
)

from conformance import sdk_oracle, ts_oracle
from conformance.checks.structured_output import Forecast
from conformance.verdicts import Status

ROOT = Path(__file__).resolve().parents[1]
NODE = shutil.which("node")
needs_node = pytest.mark.skipif(
    NODE is None and not os.environ.get("CONFORMANCE_REQUIRE_NODE"), reason="no node on this machine"
)
HELPER = "streaming.typescript_stream_helper_assembles_every_stream"
PARSE = "structured-output.typescript_parse_returns_the_object"


def test_the_bundle_is_built_from_the_pinned_release():
    package = json.loads((ROOT / "js" / "package.json").read_text())
    lock = json.loads((ROOT / "js" / "package-lock.json").read_text())
    assert package["dependencies"]["openai"] == ts_oracle.BUNDLED_SDK
    assert lock["packages"]["node_modules/openai"]["version"] == ts_oracle.BUNDLED_SDK
    assert ts_oracle.BUNDLE.is_file()
    assert ts_oracle.BUNDLE.stat().st_size > 100_000


@needs_node
def test_node_runs_the_pinned_release():
    assert ts_oracle.unavailable() is None
    assert ts_oracle.version() == ts_oracle.BUNDLED_SDK


@needs_node
def test_the_zod_schema_is_the_pydantic_one():
    """parse() asks both clients for the same strict schema: the zod twin is the pydantic model."""
    python = sdk_oracle.request_body(
        lambda client: client.chat.completions.parse(model="m", messages=[], response_format=Forecast)
    )["response_format"]["json_schema"]
    typescript = ts_oracle.describe()["parse_format"]["json_schema"]
    assert typescript["strict"] is python["strict"] is True

    def plain(schema: dict) -> dict:
        schema = {key: value for key, value in schema.items() if key not in ("$schema", "title", "description")}
        if "properties" in schema:
            schema["properties"] = {name: plain(value) for name, value in schema["properties"].items()}
        return schema

    assert plain(typescript["schema"]) == plain(python["schema"])


GOOD = {
    "model": make_exchange("m", body=model("m")),
    "model-list": make_exchange("l", body=model_list("a", "b")),
    "chat-completion": chat_exchange("c"),
    "error": make_exchange("e", status=404, body=error_body()),
}


@needs_node
@pytest.mark.parametrize("kind", sorted(GOOD))
def test_both_clients_read_good_answers(kind):
    verdict = ts_oracle.judge(GOOD[kind], kind)
    assert verdict.ran, verdict.summary()
    assert verdict.accepted, verdict.summary()
    assert sdk_oracle.judge(GOOD[kind], kind).accepted


@needs_node
@pytest.mark.parametrize(
    ("status", "name"),
    [
        (400, "BadRequestError"),
        (401, "AuthenticationError"),
        (403, "PermissionDeniedError"),
        (404, "NotFoundError"),
        (429, "RateLimitError"),
        (500, "InternalServerError"),
    ],
)
def test_error_answers_map_to_the_clients_classes(status, name):
    exchange = make_exchange(f"e{status}", status=status, body=error_body())
    verdict = ts_oracle.judge(exchange, "error")
    assert verdict.accepted, verdict.summary()
    assert verdict.raised == name
    assert verdict.data["status"] == status
    assert sdk_oracle.judge(exchange, "error").raised == name


@needs_node
def test_what_a_node_app_cannot_read_is_rejected():
    prose = make_exchange(
        "p", method="POST", path="/chat/completions", raw=b"Hello", headers=[("content-type", "text/plain")]
    )
    assert not ts_oracle.judge(prose, "chat-completion").accepted
    no_message = make_exchange("n", status=404, body={"detail": "Not Found"})
    verdict = ts_oracle.judge(no_message, "error")
    assert not verdict.accepted
    assert verdict.raised == "NotFoundError"
    success = make_exchange("s", body=model("m"))
    assert ts_oracle.judge(success, "error").detail.startswith("raises no error")


@needs_node
def test_the_stream_helper_assembles_a_stream_and_throws_where_it_cannot():
    clean = ts_oracle.judge(stream_exchange("s", sse(text_stream("Hello there."))), "chat-completion-stream")
    assert clean.accepted
    assert clean.helper is not None
    assert clean.helper.accepted
    assert clean.helper.data["final"]["content"] == "Hello there."
    unfinished = [chunk({"role": "assistant", "content": "Hi"})]
    cut = ts_oracle.judge(stream_exchange("u", sse(unfinished)), "chat-completion-stream")
    assert cut.accepted  # the iterator reads it
    assert cut.helper is not None
    assert "missing finish_reason" in cut.helper.detail


def _tool_stream(exchange_id: str, **call: object) -> object:
    first = {"index": 0, "id": "call_1", "function": {"name": "get_weather", "arguments": ""}, **call}
    pieces = [
        chunk({"role": "assistant", "tool_calls": [first]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"city": "Rome"}'}}]}),
        chunk({}, "tool_calls"),
    ]
    return stream_exchange(exchange_id, sse(pieces))


@needs_node
def test_the_helper_check_fails_on_what_only_the_typescript_client_trips_on():
    """A tool call streamed without its type: the chunk schema allows it and the Python SDK reads it,
    the helper throws. In tools/stream the tools row owns that (and says what the helper throws)."""
    result = judge(HELPER, _tool_stream("streaming/basic"))
    assert result.status == Status.FAIL, result.message
    assert "ChatCompletionStream throws" in result.message
    # and what Python's stream helper makes of the same stream (it reads it)
    assert "Python openai" in result.message
    assert "get_final_completion() hands the app role 'assistant'" in result.message
    assert judge(HELPER, _tool_stream("streaming/basic", type="function")).status == Status.PASS
    owned = judge(HELPER, _tool_stream("tools/stream"))
    assert owned.status == Status.BLOCKED
    assert owned.blocked_by == "tools.streamed_calls_reassemble"


@needs_node
def test_the_helper_check_leaves_what_other_checks_own_to_them():
    unfinished = stream_exchange("streaming/basic", sse([chunk({"role": "assistant", "content": "Hi"})]))
    result = judge(HELPER, unfinished)
    assert result.status == Status.BLOCKED
    assert result.blocked_by == "streaming.one_finish_reason_per_choice"
    bad_chunk = stream_exchange("streaming/basic", sse([{"not": "a chunk"}]))
    assert judge(HELPER, bad_chunk).status == Status.BLOCKED


def _parse_answer(content: str) -> object:
    return chat_exchange("structured-output/sdk-parse", chat_completion(content))


@needs_node
def test_the_parse_check_names_the_client_that_throws():
    assert judge(PARSE, _parse_answer('{"city": "Rome", "sunny": true}')).status == Status.PASS
    lax = judge(PARSE, _parse_answer('{"city": "Rome", "sunny": "true"}'))
    assert lax.status == Status.FAIL
    assert "Python's parse() reads it" in lax.message
    assert "ZodError" in lax.message
    neither = judge(PARSE, _parse_answer('{"city": "Madrid", "sunny": true}'))
    assert neither.status == Status.BLOCKED
    assert neither.blocked_by == "structured-output.sdk_parse_returns_the_model"


@needs_node
def test_the_form_checks_fail_on_what_only_one_client_cannot_read():
    """A chat completion the schema and the Python SDK accept but a Node app cannot read does not exist
    for these kinds (the TypeScript client reads any JSON); a disagreement the other way is named."""
    odd = chat_exchange("c", {**chat_completion(), "created": "yesterday"})
    result = judge("chat-completions.response_is_schema_valid", odd)
    assert result.status == Status.FAIL
    assert "TypeScript openai" in result.message
    assert "Python openai" in result.message
    assert result.details["oracles"]["typescript_sdk"] == "accept"


def _fake_node(tmp_path: Path, body: str) -> str:
    script = tmp_path / "node"
    script.write_text(f"#!{sys.executable}\n{body}\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script)


def test_a_node_that_never_answers_is_given_up_on(tmp_path, monkeypatch):
    monkeypatch.setenv("CONFORMANCE_NODE", _fake_node(tmp_path, "import time\ntime.sleep(60)"))
    monkeypatch.setattr(ts_oracle, "START_DEADLINE", 0.5)
    node = ts_oracle._Node()
    with pytest.raises(ts_oracle.OracleUnavailable, match="did not answer in time"):
        node.ask({"kind": "describe"})
    with pytest.raises(ts_oracle.OracleUnavailable):  # and not asked again
        node.ask({"kind": "describe"})


def test_a_node_older_than_18_is_not_used(tmp_path, monkeypatch):
    answer = (
        "import sys, json\nline = sys.stdin.readline()\n"
        'print(json.dumps({"id": json.loads(line)["id"], "node": "16.20.0"}), flush=True)'
    )
    monkeypatch.setenv("CONFORMANCE_NODE", _fake_node(tmp_path, answer))
    with pytest.raises(ts_oracle.OracleUnavailable, match=r"node 16\.20\.0 is older than 18"):
        ts_oracle._Node().ask({"kind": "describe"})


def test_a_run_without_node_says_so_once_and_skips_only_what_needs_it(cli, tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python").symlink_to(sys.executable)
    run = cli("run", "--target", "reference", env={"PATH": str(bin_dir)})
    assert run.code == 0, run.stdout + run.stderr
    assert run.stdout.count("TypeScript client: not run (node not found)") == 1
    skipped = {c["id"]: c for c in run.report["checks"] if c["status"] == "skipped"}
    # the reference's chat model does not think: the reasoning row's checks are skipped for that, node or not;
    # the Llama API's dialect lists the penalties and logit_bias as unsupported, so what they change is not measured
    for_node = {check_id for check_id, c in skipped.items() if "node" in c["message"]}
    assert for_node == {HELPER, PARSE}
    assert all(skipped[check_id]["message"].startswith("node not found") for check_id in for_node)
    others = {check_id: c for check_id, c in skipped.items() if check_id not in for_node}
    assert {c["row"] for c in others.values()} == {"reasoning", "parameters", "model-selection"}
    assert all("as unsupported" in c["message"] for c in others.values() if c["row"] == "parameters")
    # the Llama API has no embedding model: nothing is configured for the chat request to one
    assert [i for i, c in others.items() if c["row"] == "model-selection"] == [
        "model-selection.embedding_model_does_not_chat"
    ]
    assert run.report["suite"]["typescript_sdk"] is None
    assert run.report["run"]["typescript_client"] == "node not found"
    assert {row["clients"]["typescript"] for row in run.report["rows"]} == {"not run"}
    assert "TypeScript openai not run (node not found)" in (run.report_dir / "report.md").read_text()


@needs_node
def test_a_run_with_node_stamps_both_clients(cli):
    run = cli("run", "--target", "reference")
    assert run.code == 0
    assert run.report["suite"]["typescript_sdk"] == ts_oracle.BUNDLED_SDK
    assert run.report["run"]["typescript_client"] == "ran"
    judged = [row for row in run.report["rows"] if row["status"] != "unsupported"]
    assert {row["clients"]["typescript"] for row in judged} == {"works"}
    assert {row["clients"]["typescript"] for row in run.report["rows"] if row not in judged} == {"not judged"}
    junit = (run.report_dir / "junit.xml").read_text()
    assert f'name="typescript_sdk" value="{ts_oracle.BUNDLED_SDK}"' in junit


@needs_node
def test_a_stream_that_numbers_its_only_choice_1_breaks_the_helper_only():
    """spring-projects/spring-ai#6221: the Python SDK reads chunk.choices[0] by position, the helper
    puts the choice at index 1 and throws; the streaming checks of the text read what Python reads."""
    pieces = [
        chunk({"role": "assistant", "content": "Hi"}, index=1),
        chunk({"content": " there"}, index=1),
        chunk({}, "stop", index=1),
    ]
    exchange = stream_exchange("streaming/basic", sse(pieces))
    assert sdk_oracle.judge(exchange, "chat-completion-stream").accepted
    result = judge(HELPER, exchange)
    assert result.status == Status.FAIL
    assert "ChatCompletionStream throws" in result.message


@needs_node
def test_answers_queued_ahead_are_the_answers_asked_for(tmp_path):
    """A replay hands node every recording first; a check that asks for the last one gets it at once
    (ahead of the queue), and every answer is the one a direct question gets."""
    exchanges = [chat_exchange(f"c{n}", chat_completion(f"answer {n}")) for n in range(40)]
    exchanges.append(make_exchange("bad", method="POST", path="/chat/completions", raw=b"<html>"))
    direct = {e.id: ts_oracle._judge(e, "chat-completion") for e in exchanges}
    ts_oracle.queue_ahead([(e, "chat-completion") for e in exchanges])
    for exchange in reversed(exchanges):
        queued = ts_oracle.judge(exchange, "chat-completion")
        assert (queued.accepted, queued.raised, queued.detail) == (
            direct[exchange.id].accepted,
            direct[exchange.id].raised,
            direct[exchange.id].detail,
        )
    assert not ts_oracle.judge(exchanges[-1], "chat-completion").accepted
