"""The catalogue the suite ships (``schemas/surface.json``), and where a body's values sit in it.

``locate`` walks a concrete body (a request the suite sent, an answer or event that came back) along
the catalogue: every value lands on the member whose path describes it, variants chosen by their
tag (``"role": "user"`` lands under ``messages[]<role=user>``), members written once elsewhere
followed to where they are (``same_as``). What has no member is returned apart: fields the document
does not know.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from conformance.resources import schemas_dir
from conformance.surface.derive import top

Place = tuple[str, str, str]  # endpoint, side, member path
_VARIANT = re.compile(r"<([a-z_]+)=([^<>]+)>$")
_PARENT = re.compile(r"(\.[^.\[{<]+|\[\]|\{\}|<[^<>]+>)$")  # a path's last segment
_MAX_DEPTH = 40


@dataclass(frozen=True)
class Catalogue:
    spec: dict[str, Any]
    clients: dict[str, Any]
    members: dict[tuple[str, str], dict[str, dict[str, Any]]]  # (endpoint, side) -> path -> member
    # (endpoint, side) -> container path -> the tag property and the values of its variants
    variants: dict[tuple[str, str], dict[str, tuple[str, frozenset[str]]]]
    # (endpoint, side) -> the paths with members below them; an object member not among them is free-form
    parents: dict[tuple[str, str], frozenset[str]]

    @property
    def endpoints(self) -> list[str]:
        return list(dict.fromkeys(endpoint for endpoint, _ in self.members))

    def sides(self, endpoint: str) -> list[str]:
        return [side for e, side in self.members if e == endpoint]

    def parameters(self, endpoint: str) -> list[str]:
        """The endpoint's top-level parameters: body members, query and path parameters."""
        names: list[str] = []
        for side in ("path", "query", "request"):
            names += [path for path in self.members.get((endpoint, side), {}) if top(path) == path]
        return list(dict.fromkeys(names))


@cache
def load() -> Catalogue:
    data = json.loads((schemas_dir() / "surface.json").read_text())
    members: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
    variants: dict[tuple[str, str], dict[str, tuple[str, frozenset[str]]]] = {}
    parents: dict[tuple[str, str], frozenset[str]] = {}
    for endpoint, sides in data["endpoints"].items():
        for side, listed in sides.items():
            members[endpoint, side] = {member["path"]: member for member in listed}
            tags: dict[str, tuple[str, set[str]]] = {}
            for member in listed:
                if found := _VARIANT.search(member["path"]):
                    container = member["path"][: found.start()]
                    tags.setdefault(container, (found.group(1), set()))[1].add(found.group(2))
            variants[endpoint, side] = {path: (key, frozenset(values)) for path, (key, values) in tags.items()}
            parents[endpoint, side] = frozenset(_PARENT.sub("", member["path"]) for member in listed)
    return Catalogue(data["spec"], data["clients"], members, variants, parents)


def endpoint_of(method: str, path: str) -> str | None:
    """The covered endpoint a request goes to (``GET /models/x`` is ``GET /models/{model}``)."""
    path = path.split("?", 1)[0].rstrip("/") or "/"
    for endpoint in load().endpoints:
        their_method, route = endpoint.split(" ", 1)
        pattern = "^" + re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", re.escape(route)) + "$"
        if their_method == method and re.match(pattern, path):
            return endpoint
    return None


def locate(endpoint: str, side: str, value: Any) -> tuple[set[Place], set[Place]]:
    """The members a body's values land on, and the places of values no member describes."""
    found: set[Place] = set()
    unknown: set[Place] = set()
    _walk(load(), (endpoint, side, ""), value, found, unknown, 0)
    return found, unknown


def _follow(catalogue: Catalogue, place: Place, found: set[Place], unknown: set[Place]) -> Place | None:
    """Record the member at ``place`` and go where it is written out; None where no member is."""
    endpoint, side, path = place
    member = catalogue.members.get((endpoint, side), {}).get(path)
    if member is None:
        if path:
            unknown.add(place)
            return None
        return place
    if path:
        found.add(place)
    if alias := member.get("same_as"):
        where, _, path = alias.partition(":")
        endpoint, side = where.rsplit(" ", 1)
        if path:
            found.add((endpoint, side, path))
    return endpoint, side, path


def _walk(catalogue: Catalogue, place: Place, value: Any, found: set[Place], unknown: set[Place], depth: int) -> None:
    if depth > _MAX_DEPTH or (followed := _follow(catalogue, place, found, unknown)) is None:
        return
    endpoint, side, path = followed
    if path and path not in catalogue.parents.get((endpoint, side), frozenset()):
        return  # free-form: a JSON Schema, arguments, a map the document leaves open
    if isinstance(value, dict):
        tagged = catalogue.variants.get((endpoint, side), {}).get(path)
        if tagged is not None and str(value.get(tagged[0])) in tagged[1]:
            variant = (endpoint, side, f"{path}<{tagged[0]}={value[tagged[0]]}>")
            if (followed := _follow(catalogue, variant, found, unknown)) is None:
                return
            endpoint, side, path = followed
        members = catalogue.members.get((endpoint, side), {})
        for key, item in value.items():
            child = f"{path}.{key}" if path else key
            if child not in members and f"{path}{{}}" in members:
                child = f"{path}{{}}"
            _walk(catalogue, (endpoint, side, child), item, found, unknown, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _walk(catalogue, (endpoint, side, f"{path}[]"), item, found, unknown, depth + 1)
