"""JSON Schemas of the response objects, one set per dialect, compiled once per process.

``schemas/openai/<name>.json`` are the baseline (JSON Schema 2020-12). A dialect that differs
ships ``schemas/<dialect>/<name>.patch.json``, an RFC 7386 merge patch applied to the schema of
its parent dialect, or a whole ``<name>.json`` of its own. Every schema is re-identified under its
dialect's namespace, so relative ``$ref``s resolve within the same dialect.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from conformance.dialects import Dialect
from conformance.errors import ConfigError
from conformance.resources import schemas_dir

ID_BASE = "https://openai-conformance.invalid/schemas"
MAX_ISSUES = 8


@dataclass(frozen=True)
class SchemaIssue:
    path: str  # JSON path of the offending value, e.g. $.choices[0].message.role
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge recursively, null deletes a key, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"schema file {path} is unreadable: {exc}") from exc


def overlaid_names(lineage: tuple[str, ...], directory: Path) -> frozenset[str]:
    """The schemas a dialect changes from the baseline (its own files or patches)."""
    return frozenset(
        path.name.removesuffix(".patch.json").removesuffix(".json")
        for dialect in lineage[1:]
        if (directory / dialect).is_dir()
        for path in (directory / dialect).glob("*.json")
    )


def dialect_documents(lineage: tuple[str, ...], directory: Path) -> dict[str, dict[str, Any]]:
    """The schemas of a dialect, by name, with every overlay of its lineage applied."""
    documents: dict[str, dict[str, Any]] = {}
    for dialect in lineage:
        folder = directory / dialect
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.json")):
            if path.name.endswith(".patch.json"):
                name = path.name.removesuffix(".patch.json")
                if name not in documents:
                    raise ConfigError(f"schema patch {path} has no {name}.json to apply to")
                documents[name] = merge_patch(documents[name], _read_json(path))
            else:
                documents[path.stem] = _read_json(path)
    return documents


class SchemaSet:
    def __init__(
        self, dialect: str, documents: dict[str, dict[str, Any]], digest: str, overlaid: frozenset[str] = frozenset()
    ) -> None:
        self.dialect = dialect
        self.digest = digest
        # schemas where the dialect differs from OpenAI's: the SDK's types cannot judge these
        self.overlaid = overlaid
        self.documents: dict[str, dict[str, Any]] = {}
        for name, document in documents.items():
            self.documents[name] = {**document, "$id": f"{ID_BASE}/{dialect}/{name}.json"}
        registry: Registry[Any] = Registry().with_resources(
            (doc["$id"], Resource.from_contents(doc)) for doc in self.documents.values()
        )
        self._validators: dict[str, Draft202012Validator] = {}
        # the schemas ship with the suite and are checked against the metaschema by its tests (that
        # check is a twentieth of a replay's time, and the same for every run of one version)
        for name, document in self.documents.items():
            self._validators[name] = Draft202012Validator(document, registry=registry)

    def names(self) -> list[str]:
        return sorted(self._validators)

    def validate(self, name: str, instance: Any) -> list[SchemaIssue]:
        validator = self._validators[name]
        errors = sorted(validator.iter_errors(instance), key=lambda e: (list(map(str, e.absolute_path)), e.message))
        return [SchemaIssue(error.json_path, _short(error.message)) for error in errors[:MAX_ISSUES]]


def _short(message: str, limit: int = 160) -> str:
    message = " ".join(message.split())
    return message if len(message) <= limit else message[: limit - 1] + "…"


def digest_of(directory: Path) -> str:
    hasher = hashlib.sha256()
    for path in sorted(directory.rglob("*.json")):
        hasher.update(path.relative_to(directory).as_posix().encode())
        hasher.update(path.read_bytes())
    return hasher.hexdigest()[:12]


def schema_set(dialect: Dialect, directory: Path | None = None) -> SchemaSet:
    return _schema_set(dialect.name, dialect.lineage, directory or schemas_dir())


@cache
def _schema_set(name: str, lineage: tuple[str, ...], directory: Path) -> SchemaSet:
    return SchemaSet(
        name, dialect_documents(lineage, directory), digest_of(directory), overlaid_names(lineage, directory)
    )
