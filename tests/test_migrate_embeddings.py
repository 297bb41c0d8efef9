"""A retrieval-augmented app (embeddings and chat) captured and migrated: its embeddings are judged by the claims a
run makes, its vectors compared with the original's by shape and, where the model is the same, by value; a
candidate that ignores encoding_format base64 fails the gate, a clean one passes it."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.reference.catalog import EMBEDDING_MODEL
from tests.migration_helpers import App, capture_sample_app, edit_original, migrate, noted


@pytest.fixture(scope="module")
def rag(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    found = capture_sample_app(
        tmp_path_factory.mktemp("rag"), script="sample_rag_app.py", extra=("--embedding-model", EMBEDDING_MODEL)
    )
    yield found
    found.server.stop()


def _to(app: App, base_url: str, report: str) -> tuple[int, dict, str]:
    return migrate(
        app, "--to", "reference-openai", "--base-url", base_url, "--mode", "live", "--trials", "2", report=report
    )


def test_a_clean_candidate_passes_the_gate_with_the_original_vectors(rag: App) -> None:
    code, data, output = _to(rag, rag.base_url, "clean")
    assert code == 0, output
    features = {feature["id"] for feature in data["features"]}
    assert {"embeddings", "embeddings_base64", "chat"} <= features
    embeddings = [entry for entry in data["requests"] if "embeddings" in entry["id"]]
    assert len(embeddings) == 2
    for entry in embeddings:
        found = {f["id"]: f["status"] for f in entry["findings"]}
        assert found["embeddings.response_is_schema_valid"] == "pass"
        assert found["embeddings.base64_is_the_float_vector"] == "pass"
        assert found["embeddings.strings_are_embedded_one_per_input"] == "pass"
        assert found["original.embeds_in_the_same_shape"] == "pass"
        assert found["original.embeds_the_same_vectors"] == "pass"
    assert noted(data) == set()


def test_a_candidate_that_ignores_base64_fails_the_gate_where_the_node_client_is_hurt(rag: App) -> None:
    code, data, output = _to(rag, rag.faulty("embeddings-base64-ignored"), "base64")
    assert code == 1, output
    failing = {(found[1], found[2]) for found in noted(data) if found[2] != "blocked"}
    assert failing == {("embeddings.base64_is_the_float_vector", "fail")}
    entry = next(e for e in data["requests"] if "embeddings" in e["id"])
    blocked = [f for f in entry["findings"] if f["status"] == "blocked"]
    assert {f["id"] for f in blocked} == {"original.embeds_in_the_same_shape", "original.embeds_the_same_vectors"}
    assert {f["blocked_by"] for f in blocked} == {"embeddings.base64_is_the_float_vector"}
    finding = next(f for f in entry["findings"] if f["id"] == "embeddings.base64_is_the_float_vector")
    assert "encoding_format base64 was ignored" in finding["message"]
    assert "Python's embeddings.create() hands the app the vector" in finding["message"]


def test_vectors_of_another_length_are_a_difference_in_shape(rag: App, tmp_path: Path) -> None:
    code, data, output = _to(rag, rag.faulty("embeddings-dimensions-ignored"), "same")
    assert code == 0, output  # nothing in the app's traffic asks for dimensions
    code, data, output = _to(rag, rag.faulty("embeddings-nondeterministic"), "moved")
    assert code == 1, output
    assert ("original.embeds_the_same_vectors", "fail") in {(f[1], f[2]) for f in noted(data)}


def test_vectors_of_another_length_than_the_original_are_a_difference_in_shape(tmp_path: Path) -> None:
    app = capture_sample_app(tmp_path, script="sample_rag_app.py", extra=("--embedding-model", EMBEDDING_MODEL))
    try:
        query = next(path.stem for path in sorted(app.traffic.glob("*embeddings*.yaml")))

        def halved(body: bytes) -> bytes:
            answer = json.loads(body)
            for item in answer["data"]:
                raw = base64.b64decode(item["embedding"])
                item["embedding"] = base64.b64encode(raw[: len(raw) // 2]).decode()
            return json.dumps(answer).encode()

        edit_original(app.traffic, query, halved)
        code, data, output = _to(app, app.base_url, "shape")
    finally:
        app.server.stop()
    assert code == 0, output  # a SHOULD: the app re-indexes, or keeps the original's model
    entry = next(e for e in data["requests"] if e["id"] == query)
    finding = next(f for f in entry["findings"] if f["id"] == "original.embeds_in_the_same_shape")
    assert finding["status"] == "fail"
    assert "the original's had 128: an index built on the original's cannot hold them" in finding["message"]
