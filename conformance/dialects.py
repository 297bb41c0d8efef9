"""Dialects: what a target claims to speak.

``openai`` is the baseline: OpenAI's documented (and observed) behaviour. Another dialect extends
it with its *documented* deviations, each keyed by the check id it turns from a failure into a
``deviation``, with the reason and the source that documents it. Dialects are TOML files under
``dialects/``; schemas that differ live under ``schemas/<dialect>/`` as merge patches.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from conformance.errors import ConfigError
from conformance.profiles import REASONING_FIELDS
from conformance.resources import dialects_dir
from conformance.rows import ROW_IDS
from conformance.sources import SOURCES


class Deviation(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    reason: str
    source: str


class DialectFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    title: str
    extends: str | None = None
    url: str | None = None
    limits: dict[str, int] = Field(default_factory=dict)
    # the statuses a situation is answered with, e.g. unknown_model = [404]
    statuses: dict[str, list[int]] = Field(default_factory=dict)
    # an image type (a key of conformance.images.MEDIA_TYPES) the dialect does not accept
    image_type_refused: str | None = None
    # the moderation categories the dialect names
    moderation_categories: list[str] | None = None
    # response headers the dialect documents on chat completions (rate limits)
    rate_limit_headers: list[str] | None = None
    # OpenAI parameters the dialect does not support, each with a value to send: the target may
    # ignore or refuse them, and the errors-400 row records which
    unsupported_parameters: dict[str, Any] = Field(default_factory=dict)
    # documented OpenAI parameters the dialect says may be ignored or refused with 400: the parameter
    # sweep reports either as documented, and an invalid value of one answered as a documented deviation
    ignored_or_refused_parameters: list[str] = Field(default_factory=list)
    # the message field a reasoning model's thinking comes back in (OpenAI's chat API returns none)
    reasoning_field: str | None = None
    # feature rows whose endpoint the dialect documents it does not serve: unsupported for every target of it
    unserved_rows: list[str] = Field(default_factory=list)
    deviations: dict[str, Deviation] = Field(default_factory=dict)


class Dialect(BaseModel):
    """A dialect with its ancestry resolved: limits and deviations include the inherited ones."""

    model_config = ConfigDict(frozen=True)

    name: str
    title: str
    url: str | None
    lineage: tuple[str, ...]  # from the baseline to this dialect, e.g. ("openai", "llama-api")
    limits: dict[str, int]
    statuses: dict[str, tuple[int, ...]]
    image_type_refused: str | None
    moderation_categories: tuple[str, ...]
    rate_limit_headers: tuple[str, ...]
    unsupported_parameters: dict[str, Any]
    deviations: dict[str, Deviation]
    reasoning_field: str | None = None
    ignored_or_refused_parameters: frozenset[str] = frozenset()
    unserved_rows: frozenset[str] = frozenset()

    def status_for(self, situation: str) -> tuple[int, ...]:
        if situation not in self.statuses:
            raise KeyError(f"dialect {self.name!r} names no status for {situation!r}")
        return self.statuses[situation]

    def deviation_for(self, check_id: str) -> Deviation | None:
        return self.deviations.get(check_id)


def available_dialects(directory: Path | None = None) -> list[str]:
    return sorted(path.stem for path in (directory or dialects_dir()).glob("*.toml"))


def _read(name: str, directory: Path) -> DialectFile:
    path = directory / f"{name}.toml"
    if not path.is_file():
        known = ", ".join(available_dialects(directory)) or "none"
        raise ConfigError(f"unknown dialect {name!r} (known dialects: {known})")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        parsed = DialectFile.model_validate(data)
    except (tomllib.TOMLDecodeError, ValidationError) as exc:
        first = str(exc).splitlines()
        raise ConfigError(f"dialect file {path} is invalid: {' '.join(first[:3])}") from exc
    if parsed.name != name:
        raise ConfigError(f"dialect file {path} declares name {parsed.name!r}, expected {name!r}")
    if parsed.reasoning_field is not None and parsed.reasoning_field not in REASONING_FIELDS:
        raise ConfigError(f"dialect {name!r}: reasoning_field must be one of {', '.join(REASONING_FIELDS)}")
    unknown_rows = sorted(set(parsed.unserved_rows) - set(ROW_IDS))
    if unknown_rows:
        raise ConfigError(f"dialect {name!r}: unserved_rows names unknown rows {unknown_rows}")
    for check_id, deviation in parsed.deviations.items():
        if deviation.source not in SOURCES:
            raise ConfigError(f"dialect {name!r}: deviation {check_id!r} cites unknown source {deviation.source!r}")
    return parsed


@cache
def load_dialect(name: str, directory: Path | None = None) -> Dialect:
    directory = directory or dialects_dir()
    chain: list[DialectFile] = []
    current: str | None = name
    while current is not None:
        if any(item.name == current for item in chain):
            raise ConfigError(f"dialect {name!r} extends itself through {current!r}")
        chain.append(_read(current, directory))
        current = chain[-1].extends
    chain.reverse()
    limits: dict[str, int] = {}
    statuses: dict[str, tuple[int, ...]] = {}
    deviations: dict[str, Deviation] = {}
    image_type_refused: str | None = None
    categories: tuple[str, ...] = ()
    headers: tuple[str, ...] = ()
    unsupported: dict[str, Any] = {}
    ignorable: set[str] = set()
    unserved: set[str] = set()
    reasoning_field: str | None = None
    for item in chain:
        ignorable.update(item.ignored_or_refused_parameters)
        unserved.update(item.unserved_rows)
        reasoning_field = item.reasoning_field or reasoning_field
        headers = tuple(item.rate_limit_headers) if item.rate_limit_headers is not None else headers
        unsupported.update(item.unsupported_parameters)
        image_type_refused = item.image_type_refused or image_type_refused
        categories = tuple(item.moderation_categories) if item.moderation_categories is not None else categories
        limits.update(item.limits)
        statuses.update({key: tuple(value) for key, value in item.statuses.items()})
        deviations.update(item.deviations)
    top = chain[-1]
    return Dialect(
        name=top.name,
        title=top.title,
        url=top.url,
        lineage=tuple(item.name for item in chain),
        limits=limits,
        statuses=statuses,
        image_type_refused=image_type_refused,
        moderation_categories=categories,
        rate_limit_headers=headers,
        unsupported_parameters=unsupported,
        deviations=deviations,
        reasoning_field=reasoning_field,
        ignored_or_refused_parameters=frozenset(ignorable),
        unserved_rows=frozenset(unserved),
    )
