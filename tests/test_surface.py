"""The catalogue of the API surface: derived from the OpenAPI document, every parameter classified, the
official clients' parameters all in it, and a run's coverage measured from its report."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conformance.registry import CHECKS, load_all
from conformance.surface import derive, judged, sdks
from conformance.surface.catalogue import endpoint_of, load, locate
from conformance.surface.coverage import OBJECT_CHECKS, coverage, share

ROOT = Path(__file__).resolve().parents[1]
load_all()


def _document(**extra: Any) -> dict[str, Any]:
    """A small OpenAPI document with what the real one uses: allOf, unions told apart by a tag, maps, a
    cycle, a timestamp, and a component that comes back in the events."""
    schemas = {
        "Base": {"type": "object", "properties": {"temperature": {"type": "number", "minimum": 0, "maximum": 2}}},
        "Request": {
            "allOf": [
                {"$ref": "#/components/schemas/Base"},
                {
                    "type": "object",
                    "required": ["messages"],
                    "properties": {
                        "messages": {"type": "array", "items": {"$ref": "#/components/schemas/Message"}},
                        "metadata": {"type": ["object", "null"], "additionalProperties": {"type": "string"}},
                        "node": {"$ref": "#/components/schemas/Node"},
                        **extra,
                    },
                },
            ]
        },
        "Message": {
            "oneOf": [
                {"$ref": "#/components/schemas/User"},
                {
                    "type": "object",
                    "properties": {"role": {"type": "string", "enum": ["tool"]}, "tool_call_id": {"type": "string"}},
                },
            ],
            "discriminator": {"propertyName": "role"},
        },
        "User": {
            "type": "object",
            "properties": {
                "role": {"type": "string", "enum": ["user"]},
                "content": {
                    "anyOf": [{"type": "string"}, {"type": "array", "items": {"$ref": "#/components/schemas/Part"}}]
                },
            },
        },
        "Part": {
            "oneOf": [
                {"type": "object", "properties": {"type": {"const": "text"}, "text": {"type": "string"}}},
                {"type": "object", "properties": {"type": {"const": "image_url"}, "image_url": {"type": "object"}}},
            ]
        },
        "Node": {"type": "object", "properties": {"child": {"$ref": "#/components/schemas/Node"}}},
        "Answer": {
            "type": "object",
            "properties": {
                "created": {"type": "integer", "description": "The Unix timestamp (in seconds) of creation."},
                **{f"f{n}": {"type": "string"} for n in range(12)},
            },
        },
        "Event": {
            "type": "object",
            "properties": {"type": {"const": "done"}, "response": {"$ref": "#/components/schemas/Answer"}},
        },
    }
    body = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Request"}}}}
    answers = {
        "application/json": {"schema": {"$ref": "#/components/schemas/Answer"}},
        "text/event-stream": {"schema": {"$ref": "#/components/schemas/Event"}},
    }
    # only chat completions has bodies here: an endpoint's body met again elsewhere would be named, not repeated
    chat = {"requestBody": body, "responses": {"200": {"content": answers}}}
    other = {"responses": {"200": {"description": "OK"}}}
    paths = {
        route: {method.lower(): chat if route == "/chat/completions" else other} for method, route in derive.COVERED
    }
    return {"openapi": "3.1.0", "info": {"version": "9.9"}, "paths": paths, "components": {"schemas": schemas}}


def _members(document: dict[str, Any], side: str = "request") -> dict[str, dict[str, Any]]:
    endpoints = derive.derive(document)
    return {member["path"]: member for member in endpoints["POST /chat/completions"][side]}


def test_the_document_is_read_into_members_with_their_types_bounds_and_variants():
    members = _members(_document())
    assert members["temperature"]["bounds"] == {"maximum": 2, "minimum": 0}
    assert members["messages"]["required"] is True
    assert members["metadata"]["nullable"] is True
    assert members["metadata{}"]["types"] == ["string"]
    assert "messages[]<role=user>.content[]<type=image_url>.image_url" in members
    assert members["messages[]<role=user>.content"]["types"] == ["array", "string"]
    assert "messages[]<role=tool>.tool_call_id" in members
    assert members["node.child"]["recursive"] is True
    assert "node.child.child" not in members
    answer = _members(_document(), "response")
    assert answer["created"]["unit"] == "unix-seconds"
    assert "unit" not in answer["f0"]
    # the answer an event carries is written once, and named where it comes again
    assert _members(_document(), "stream")["response"]["same_as"] == "POST /chat/completions response:"


def test_a_parameter_the_document_gains_is_a_member_and_unclassified():
    gained = _members(_document(reasoning_effort={"type": "string", "enum": ["low", "high"]}))
    assert gained["reasoning_effort"]["enum"] == ["low", "high"]
    assert derive.top("messages[]<role=user>.content") == "messages"


def test_the_shipped_catalogue_is_pinned_and_whole():
    catalogue = load()
    assert catalogue.spec["repository"] == "openai/openai-openapi"
    assert len(catalogue.spec["commit"]) == 40
    assert catalogue.endpoints == [f"{method} {route}" for method, route in derive.COVERED]
    chat = catalogue.members["POST /chat/completions", "response"]
    assert chat["created"]["unit"] == "unix-seconds"
    assert chat["choices[].finish_reason"]["enum"][:3] == ["stop", "length", "tool_calls"]
    assert len(catalogue.parameters("POST /chat/completions")) >= 35


@pytest.mark.skipif(
    not Path(os.environ.get("CONFORMANCE_OPENAPI", "/nonexistent")).is_file(),
    reason="CONFORMANCE_OPENAPI names no copy of openai-openapi's openapi.json",
)
def test_the_shipped_catalogue_is_the_derivation_of_the_pinned_document():
    raw = Path(os.environ["CONFORMANCE_OPENAPI"]).read_bytes()
    shipped = json.loads((ROOT / "schemas" / "surface.json").read_text())
    derived = json.loads(derive.dumps(derive.catalogue(raw, shipped["spec"]["commit"])))
    assert derived == shipped


def test_every_parameter_of_every_endpoint_is_classified_and_nothing_else():
    catalogue = load()
    assert set(judged.PARAMETERS) == set(catalogue.endpoints)
    for endpoint in catalogue.endpoints:
        assert sorted(judged.PARAMETERS[endpoint]) == sorted(catalogue.parameters(endpoint)), endpoint


def test_the_classification_names_only_real_checks():
    named = {check for endpoint, table in judged.PARAMETERS.items() for name in table
             for check in judged.checks_of(endpoint, name)}  # fmt: skip
    assert sorted((named | OBJECT_CHECKS | judged.PER_PARAMETER) - set(CHECKS)) == []


def test_the_sweep_sends_what_only_it_judges_and_what_a_check_measures_the_effect_of():
    sent = judged.swept("POST /chat/completions")
    assert {"frequency_penalty", "logit_bias", "verbosity", "user"} <= set(sent)
    assert "temperature" not in sent  # judged by rows of its own, invalid values included
    assert judged.checks_of("POST /chat/completions", "logit_bias") == ("parameters.logit_bias_selects_the_token",)
    assert judged.why_unjudged("POST /chat/completions", "logit_bias") is None


def test_the_python_client_declares_no_parameter_the_catalogue_lacks():
    catalogue = load()
    for endpoint in sdks.PYTHON_PARAMS:
        unknown = sorted(sdks.python_params(endpoint) - set(catalogue.parameters(endpoint)))
        assert unknown == [], f"openai-python {sdks.python_version()} declares {unknown} for {endpoint}: re-derive"


def test_the_typescript_client_declares_no_parameter_the_catalogue_lacks():
    if sdks.node_version() is None:
        if os.environ.get("CONFORMANCE_REQUIRE_NODE"):
            pytest.fail("js/node_modules/openai is not installed (npm ci --prefix js)")
        pytest.skip("js/node_modules/openai is not installed (npm ci --prefix js)")
    catalogue = load()
    for endpoint in sdks.TYPESCRIPT_PARAMS:
        declared = sdks.node_params(endpoint)
        assert declared, endpoint
        unknown = sorted(declared - set(catalogue.parameters(endpoint)))
        assert unknown == [], f"npm openai {sdks.node_version()} declares {unknown} for {endpoint}: re-derive"


def test_interfaces_are_read_from_declaration_files():
    text = "export interface A extends B {\n    x?: number;\n    y: string;\n    /** doc */\n    z?: C | null;\n}\n"
    assert sdks.interface_members(text, "A") == {"x", "y", "z"}
    assert sdks.interface_members(text, "Missing") == set()


def test_bodies_land_on_their_members():
    found, unknown = locate(
        "POST /chat/completions",
        "request",
        {
            "model": "m",
            "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}],
            "logit_bias": {"50256": -100},
            "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "x": 1}}}],
            "vendor_knob": 1,
        },
    )
    paths = {path for _, _, path in found}
    assert "messages[]<role=user>.content[]<type=image_url>.image_url.url" in paths
    assert "logit_bias{}" in paths
    assert {path for _, _, path in unknown} == {"vendor_knob"}  # a JSON Schema under parameters is free-form
    assert endpoint_of("GET", "/models/some-model") == "GET /models/{model}"
    assert endpoint_of("POST", "/completions") == "POST /completions"
    assert endpoint_of("POST", "/audio/speech") is None


def _exchange(method: str, path: str, body: Any = None, answer: Any = None, events: list[Any] | None = None):
    headers = [["content-type", "text/event-stream" if events is not None else "application/json"]]
    text = "".join(f"data: {json.dumps(e)}\n\n" for e in events) if events is not None else json.dumps(answer)
    return {
        "request": {"method": method, "url": f"<BASE_URL>{path}", "body": body, "body_encoding": "json"},
        "response": {"status": 200, "headers": headers, "body": text, "body_encoding": "text"},
    }


def _result(check_id: str, status: str, *evidence: str) -> dict[str, Any]:
    return {"id": check_id, "status": status, "evidence": list(evidence), "message": f"{check_id} said so"}


def test_coverage_counts_what_was_sent_seen_and_judged():
    message = {"role": "assistant", "content": "hi"}
    choices = [{"index": 0, "message": message, "finish_reason": "stop"}]
    chat = {"id": "c", "object": "chat.completion", "created": 1, "model": "m", "vendor_timing": 3, "choices": choices}
    chunk = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m", "choices": []}
    report = {
        "exchanges": {
            "a": _exchange("POST", "/chat/completions", {"model": "m", "messages": [], "user": "u1"}, chat),
            "b": _exchange(
                "POST",
                "/chat/completions",
                {"model": "m", "messages": [], "stream": True},
                events=[chunk, {"error": {"message": "late"}}],
            ),
            "c": _exchange("POST", "/chat/completions", {"model": "m", "messages": [], "temperature": 7}, chat),
            "d": _exchange("GET", "/responses/resp_1", None, {"id": "resp_1", "object": "response", "output": []}),
        },
        "checks": [
            _result("chat-completions.basic_request_succeeds", "pass", "a"),
            _result("chat-completions.response_is_schema_valid", "fail", "a"),
            _result("streaming.chunks_are_schema_valid", "pass", "b"),
            _result("sampling.out_of_range_temperature_is_refused", "fail", "c"),
            _result("sampling.temperature_is_accepted", "skipped"),
            _result("sampling.top_p_is_accepted", "unsupported"),
        ],
    }
    result = coverage(report)
    assert result["spec"]["commit"] == load().spec["commit"]
    chat_coverage = result["endpoints"]["POST /chat/completions"]
    params = chat_coverage["parameters"]
    assert params["sent"] == 5  # model, messages, user, stream, temperature
    why = {item["parameter"]: item["why"] for item in params["not_judged"]}
    assert "messages" not in why
    assert "temperature" not in why
    assert why["user"].startswith("sent, but no check judges it")
    assert why["frequency_penalty"] == "its checks were not run"
    assert why["top_p"].startswith("unsupported in this run (sampling.top_p_is_accepted")
    assert "stream" not in why
    assert why["n"] == "its checks were not run"
    assert why["audio"].startswith("not sent (audio: no covered row")
    fields = chat_coverage["fields"]
    assert fields["seen"] > 10
    assert fields["judged"] == fields["seen"]
    assert chat_coverage["undocumented_fields"] == ["response:vendor_timing"]  # the error event is no chunk
    # GET /responses/{id} answers a response object: its fields are the response object's
    retrieved = result["endpoints"]["GET /responses/{response_id}"]
    assert retrieved["fields"]["seen"] == 3
    assert retrieved["fields"]["judged"] == 0
    answer = load().members["POST /responses", "response"]
    assert retrieved["fields"]["total"] == sum(1 for path, m in answer.items() if path and "same_as" not in m)


def test_the_reference_report_carries_its_coverage():
    report = json.loads((ROOT / "reports" / "reference-openai" / "report.json").read_text())
    measured = coverage(report)["endpoints"]
    assert measured["POST /moderations"]["parameters"]["judged"] == 2
    assert measured["POST /chat/completions"]["parameters"]["judged"] >= 18


def test_the_derive_command_refuses_a_file_that_is_no_document(tmp_path: Path):
    bad = tmp_path / "openapi.json"
    bad.write_text("{}")
    done = subprocess.run(
        [sys.executable, "-m", "conformance.surface.derive", str(bad), "--commit", "0" * 40],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert "Traceback" not in done.stderr


def test_reports_and_comparisons_show_the_coverage():
    from conformance.render.compare import compare_markdown
    from conformance.render.markdown import render_markdown

    report = json.loads((ROOT / "reports" / "vllm" / "report.json").read_text())
    page = render_markdown(report)
    assert "## Coverage of OpenAI's API surface (openai/openai-openapi f85dbe2" in page
    assert "| `GET /models` | none | none | 7/8 (88 %) | 7/8 (88 %) |" in page
    assert "`response:choices[].message.reasoning`" in page  # vLLM's thinking field: not in OpenAI's document
    older = {key: value for key, value in report.items() if key != "coverage"}
    compared = compare_markdown([report, older])
    assert "Coverage of the API surface" in compared
    chat = report["coverage"]["endpoints"]["POST /chat/completions"]
    cell = f"params {share(chat['parameters'], 'judged')}, fields {share(chat['fields'], 'judged')}"
    assert f"| `POST /chat/completions` | {cell} | {cell} |" in compared  # measured from the older one's evidence


def test_a_parameter_the_sweep_sent_without_a_verdict_says_why():
    body = {"model": "m", "messages": [], "verbosity": "low"}
    report = {
        "exchanges": {"parameters/verbosity/valid-0": _exchange("POST", "/chat/completions", body, {"choices": []})},
        "checks": [_result("parameters.valid_values_are_accepted", "blocked", "parameters/verbosity/valid-0")],
    }
    why = {item["parameter"]: item["why"] for item in coverage(report)["endpoints"]["POST /chat/completions"]
           ["parameters"]["not_judged"]}  # fmt: skip
    assert why["verbosity"].startswith("blocked in this run (parameters.valid_values_are_accepted")
    assert why["web_search_options"].startswith("not sent (OpenAI-hosted feature")
