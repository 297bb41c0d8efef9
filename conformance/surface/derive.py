"""OpenAI's OpenAPI document read into members: one per path into a request or response body.

A member's path names where in a body it lives: ``.`` between properties, ``[]`` for the items of an
array, ``{}`` for the values of a map, and ``<type=text>`` for one variant of a union told apart by
a property with one value (``messages[]<role=user>.content[]<type=image_url>.image_url.detail``).
Each member carries what the document says of it: JSON types, allowed values, bounds, whether it is
required or deprecated, and its unit where the document states one (Unix timestamps in seconds).

Run as a module to write the catalogue the suite ships from a copy of the document::

    python -m conformance.surface.derive openapi.json --commit <sha> [--out schemas/surface.json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from conformance.surface import sdks

# the endpoints the suite covers, in the order reports list them
COVERED: tuple[tuple[str, str], ...] = (
    ("GET", "/models"),
    ("GET", "/models/{model}"),
    ("POST", "/chat/completions"),
    ("POST", "/moderations"),
    ("POST", "/embeddings"),
    ("POST", "/completions"),
    ("POST", "/responses"),
    ("GET", "/responses/{response_id}"),
)
SPEC_REPOSITORY = "openai/openai-openapi"
MAX_DEPTH = 14  # segments: deep enough for every body of the covered endpoints, and a bound on cycles
_BOUNDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength")
_BOUNDS += ("minItems", "maxItems", "pattern", "format")
_SECONDS = re.compile(r"unix timestamp|unix time|in seconds", re.IGNORECASE)
_DISCRIMINATORS = ("type", "role", "object")


@dataclass
class Member:
    path: str
    types: list[str]
    required: bool = False
    nullable: bool = False
    deprecated: bool = False
    enum: list[Any] | None = None
    bounds: dict[str, Any] = field(default_factory=dict)
    default: Any = None
    unit: str | None = None
    recursive: bool = False
    # a component met before, at this place (``POST /responses response:output[]``): not repeated here
    same_as: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if value not in (None, False, {}, [])}


@dataclass
class _Node:
    """A schema with its references followed and allOf merged: what one path can hold."""

    types: set[str] = field(default_factory=set)
    nullable: bool = False
    deprecated: bool = False
    enum: list[Any] | None = None
    bounds: dict[str, Any] = field(default_factory=dict)
    default: Any = None
    described_seconds: bool = False
    properties: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    required: set[str] = field(default_factory=set)
    items: list[dict[str, Any]] = field(default_factory=list)
    values: list[dict[str, Any]] = field(default_factory=list)
    variants: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    discriminator: str | None = None
    recursive: bool = False


# a component of at least this many members is written out once, and named where it comes again
_ALIASED = 12


class Deriver:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.where = ""  # "<endpoint> <side>" being walked
        self.walked: dict[str, list[str]] = {}  # component -> the places it was written out

    def _alias(self, schemas: list[dict[str, Any]]) -> str | None:
        if len(schemas) != 1 or "$ref" not in schemas[0]:
            return None
        endpoint, side = self.where.rsplit(" ", 1)
        for place in self.walked.get(schemas[0]["$ref"], ()):
            their_endpoint, their_side = place.split(":", 1)[0].rsplit(" ", 1)
            # the same side of any endpoint, or the answer an event carries
            if their_side == side or (side == "stream" and their_side == "response" and their_endpoint == endpoint):
                return place
        return None

    def resolve(self, schema: dict[str, Any], seen: tuple[str, ...]) -> tuple[dict[str, Any], tuple[str, ...], bool]:
        """Follow ``$ref`` chains; says whether a reference is one the path already went through."""
        while "$ref" in schema:
            ref = schema["$ref"]
            if ref in seen:
                return {k: v for k, v in schema.items() if k != "$ref"}, seen, True
            target = self.document
            for part in ref.removeprefix("#/").split("/"):
                target = target[part]
            siblings = {k: v for k, v in schema.items() if k != "$ref"}
            schema, seen = {**target, **siblings}, (*seen, ref)
        return schema, seen, False

    def node(self, schemas: list[dict[str, Any]], seen: tuple[str, ...]) -> tuple[_Node, tuple[str, ...]]:
        node = _Node()
        for schema in schemas:
            seen = self._merge(node, schema, seen)
        return node, seen

    def _merge(self, node: _Node, schema: dict[str, Any], seen: tuple[str, ...]) -> tuple[str, ...]:
        schema, seen, recursive = self.resolve(schema, seen)
        node.recursive |= recursive
        for part in schema.get("allOf", ()):
            seen = self._merge(node, part, seen)
        alternatives = [*schema.get("anyOf", ()), *schema.get("oneOf", ())]
        if alternatives:
            self._union(node, alternatives, schema.get("discriminator", {}).get("propertyName"), seen)
        declared = schema.get("type")
        types = declared if isinstance(declared, list) else [declared] if declared else []
        for name in types:
            if name == "null":
                node.nullable = True
            else:
                node.types.add(name)
        if schema.get("nullable"):
            node.nullable = True
        if "const" in schema:
            node.enum = [schema["const"]]
        if "enum" in schema:
            values = [value for value in schema["enum"] if value is not None]
            node.enum = sorted({*(node.enum or ()), *values}, key=str) if node.enum else values
            node.nullable |= None in schema["enum"]
        node.deprecated |= bool(schema.get("deprecated"))
        node.bounds.update({key: schema[key] for key in _BOUNDS if key in schema})
        if "default" in schema and node.default is None:
            node.default = schema["default"]
        node.described_seconds |= bool(_SECONDS.search(str(schema.get("description", ""))))
        for name, sub in schema.get("properties", {}).items():
            node.properties.setdefault(name, []).append(sub)
            node.types.add("object")
        node.required.update(schema.get("required", ()))
        if "items" in schema:
            node.items.append(schema["items"])
            node.types.add("array")
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict) and extra:
            node.values.append(extra)
            node.types.add("object")
        return seen

    def _union(self, node: _Node, alternatives: list[dict[str, Any]], named: str | None, seen: tuple[str, ...]) -> None:
        flat = self._flatten(alternatives, seen)
        keyed: dict[str, list[dict[str, Any]]] = {}
        plain: list[dict[str, Any]] = []
        key = self._discriminator(flat, named, seen)
        for alternative in flat:
            value = self._tag(alternative, key, seen) if key else None
            if value is None:
                plain.append(alternative)
            else:
                keyed.setdefault(value, []).append(alternative)
        if keyed:
            node.discriminator = key
            node.types.add("object")
            for value, members in keyed.items():
                node.variants.setdefault(value, []).extend(members)
        for alternative in plain:
            self._merge(node, alternative, seen)

    def _flatten(self, alternatives: list[dict[str, Any]], seen: tuple[str, ...]) -> list[dict[str, Any]]:
        """Nested unions opened into one list of alternatives."""
        out: list[dict[str, Any]] = []
        for alternative in alternatives:
            resolved, _, recursive = self.resolve(alternative, seen)
            nested = [*resolved.get("anyOf", ()), *resolved.get("oneOf", ())]
            if nested and not recursive and not resolved.get("properties") and not resolved.get("allOf"):
                out.extend(self._flatten(nested, seen))
            else:
                out.append(alternative)
        return out

    def _tag(self, alternative: dict[str, Any], key: str, seen: tuple[str, ...]) -> str | None:
        probe, _ = self.node([alternative], seen)
        if key not in probe.properties:
            return None
        inner, _ = self.node(probe.properties[key], seen)
        return str(inner.enum[0]) if inner.enum and len(inner.enum) == 1 else None

    def _discriminator(self, flat: list[dict[str, Any]], named: str | None, seen: tuple[str, ...]) -> str | None:
        objects = [alt for alt in flat if "object" in self.node([alt], seen)[0].types]
        if len(objects) < 2:
            return None
        for key in (named, *_DISCRIMINATORS):
            if key and sum(self._tag(alt, key, seen) is not None for alt in objects) >= 2:
                return key
        return None

    def walk(self, schemas: list[dict[str, Any]], path: str, required: bool, seen: tuple[str, ...]) -> list[Member]:
        node, inner = self.node(schemas, seen)
        if (place := self._alias(schemas)) is not None:
            return [Member(path, sorted(node.types) or ["any"], required, node.nullable, same_as=place)]
        members = self._walk(node, path, required, inner)
        if len(schemas) == 1 and "$ref" in schemas[0] and len(members) >= _ALIASED:
            self.walked.setdefault(schemas[0]["$ref"], []).append(f"{self.where}:{path}")
        return members

    def _walk(self, node: _Node, path: str, required: bool, seen: tuple[str, ...]) -> list[Member]:
        members: list[Member] = []
        if path:
            types = sorted(node.types) or ["any"]
            unit = "unix-seconds" if node.described_seconds and types in (["integer"], ["number"]) else None
            bounds = dict(sorted(node.bounds.items()))
            members.append(
                Member(path, types, required, node.nullable, node.deprecated, node.enum, bounds, node.default, unit)
            )
            members[-1].recursive = node.recursive
        if node.recursive or path.count(".") + path.count("[") + path.count("{") >= MAX_DEPTH:
            return members
        for name, subs in sorted(node.properties.items()):
            if node.discriminator and name == node.discriminator and node.variants:
                continue
            members += self.walk(subs, f"{path}.{name}" if path else name, name in node.required, seen)
        if node.items:
            members += self.walk(node.items, f"{path}[]", False, seen)
        if node.values:
            members += self.walk(node.values, f"{path}{{}}", False, seen)
        for value, subs in sorted(node.variants.items()):
            members += self.walk(subs, f"{path}<{node.discriminator}={value}>", False, seen)
        return _merged(members)


def _merged(members: list[Member]) -> list[Member]:
    """One member per path: a path reached through several branches holds the union of them."""
    by_path: dict[str, Member] = {}
    for member in members:
        known = by_path.get(member.path)
        if known is None:
            by_path[member.path] = member
            continue
        known.types = sorted({*known.types, *member.types} - ({"any"} if len(known.types) > 1 else set()))
        known.required = known.required and member.required
        known.nullable |= member.nullable
        if known.enum is not None and member.enum is not None:
            known.enum = sorted({*map(str, known.enum), *map(str, member.enum)})
        elif member.enum is None:
            known.enum = None
    return list(by_path.values())


def _json_schema(content: dict[str, Any], media: str) -> dict[str, Any] | None:
    return content.get(media, {}).get("schema")


def derive(document: dict[str, Any]) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Every covered endpoint's members: request body, query and path parameters, answer, stream events."""
    deriver = Deriver(document)
    endpoints: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for method, route in COVERED:
        operation = document["paths"][route][method.lower()]
        sides: dict[str, list[dict[str, Any]]] = {}
        endpoint = f"{method} {route}"
        for where in ("path", "query"):
            deriver.where = f"{endpoint} {where}"
            params = [p for p in operation.get("parameters", ()) if deriver.resolve(p, ())[0].get("in") == where]
            members: list[Member] = []
            for param in params:
                param = deriver.resolve(param, ())[0]
                members += deriver.walk([param["schema"]], param["name"], bool(param.get("required")), ())
            if members:
                sides[where] = [m.as_dict() for m in members]
        body = operation.get("requestBody", {}).get("content", {})
        deriver.where = f"{endpoint} request"
        if schema := _json_schema(body, "application/json"):
            sides["request"] = [m.as_dict() for m in deriver.walk([schema], "", True, ())]
        answer = operation["responses"]["200"].get("content", {})
        deriver.where = f"{endpoint} response"
        if schema := _json_schema(answer, "application/json"):
            sides["response"] = [m.as_dict() for m in deriver.walk([schema], "", True, ())]
        deriver.where = f"{endpoint} stream"
        if schema := _json_schema(answer, "text/event-stream"):
            sides["stream"] = [m.as_dict() for m in deriver.walk([schema], "", True, ())]
        endpoints[endpoint] = sides
    return endpoints


def top(path: str) -> str:
    """The parameter a member belongs to: its path up to the first ``.``, ``[``, ``{`` or ``<``."""
    return re.split(r"[.\[{<]", path, maxsplit=1)[0]


def parameter_side(sides: dict[str, Any]) -> str:
    return "request" if "request" in sides else "query"


def with_clients(endpoints: dict[str, dict[str, list[dict[str, Any]]]]) -> dict[str, Any]:
    """The parameters each official client declares; those the document lacks become members of their own."""
    clients: dict[str, Any] = {"python": sdks.python_version(), "node": sdks.node_version(), "declared": {}}
    for endpoint, sides in endpoints.items():
        python, node = sdks.python_params(endpoint), sdks.node_params(endpoint)
        if not python and not node:
            continue
        clients["declared"][endpoint] = {"python": sorted(python), "node": sorted(node)}
        members = sides.setdefault(parameter_side(sides), [])
        known = {top(member["path"]) for member in members}
        for name in sorted((python | node) - known):
            only = [client for client, names in (("python", python), ("node", node)) if name in names]
            members.append({"path": name, "types": ["any"], "only_in_clients": only})
    return clients


def catalogue(raw: bytes, commit: str) -> dict[str, Any]:
    document = json.loads(raw)
    endpoints = derive(document)
    return {
        "spec": {
            "repository": SPEC_REPOSITORY,
            "commit": commit,
            "version": document["info"]["version"],
            "sha256": hashlib.sha256(raw).hexdigest(),
        },
        "clients": with_clients(endpoints),
        "endpoints": endpoints,
    }


def dumps(data: dict[str, Any]) -> str:
    """JSON with one member to a line: a diff of two derivations reads member by member."""
    lines = ["{"]
    for n, (key, value) in enumerate(data.items()):
        comma = "," if n < len(data) - 1 else ""
        if key != "endpoints":
            lines.append(f" {json.dumps(key)}: {json.dumps(value, sort_keys=True)}{comma}")
            continue
        lines.append(' "endpoints": {')
        for e, (endpoint, sides) in enumerate(value.items()):
            lines.append(f"  {json.dumps(endpoint)}: {{")
            for s, (side, members) in enumerate(sides.items()):
                lines.append(f"   {json.dumps(side)}: [")
                lines += [f"    {json.dumps(m)}{',' if i < len(members) - 1 else ''}" for i, m in enumerate(members)]
                lines.append(f"   ]{',' if s < len(sides) - 1 else ''}")
            lines.append(f"  }}{',' if e < len(value) - 1 else ''}")
        lines.append(f" }}{comma}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance.surface.derive", description=__doc__.split("\n")[0])
    parser.add_argument("spec", type=Path, help="openapi.json of openai/openai-openapi")
    parser.add_argument("--commit", required=True, help="the commit of openai/openai-openapi the file comes from")
    parser.add_argument("--out", type=Path, help="where to write the catalogue (default: standard output)")
    args = parser.parse_args(argv)
    try:
        raw = args.spec.read_bytes()
        text = dumps(catalogue(raw, args.commit))
    except (OSError, ValueError, KeyError) as exc:
        sys.stderr.write(f"cannot derive the catalogue from {args.spec}: {exc}\n")
        return 2
    if args.out is None:
        sys.stdout.write(text)
    else:
        args.out.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
