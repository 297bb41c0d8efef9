"""Target profiles: what the suite needs to know about an endpoint, as data.

A profile is a TOML file under ``targets/`` (or given by path). It names the environment variable
that holds the key, never the key itself. Command-line options override any field, and a run
without a profile builds one from the options alone.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from conformance.errors import ConfigError
from conformance.resources import bundled_targets_dir
from conformance.rows import ROW_IDS

MODEL_ROLES = ("chat", "vision", "tools", "structured_output", "moderation")
# the image of OpenAI's vision guide
DEFAULT_IMAGE_URL = (
    "https://upload.wikimedia.org/wikipedia/commons/thumb/d/dd/Gfp-wisconsin-madison-the-nature-boardwalk.jpg/"
    "2560px-Gfp-wisconsin-madison-the-nature-boardwalk.jpg"
)


class Auth(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # the header that carries the key, and the scheme word before it ("" sends the bare key)
    header: str = "Authorization"
    scheme: str = "Bearer"
    # "none": the target takes no key at all
    kind: Literal["key", "none"] = "key"


class Models(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    chat: str | None = None
    vision: str | None = None
    tools: str | None = None
    structured_output: str | None = None
    moderation: str | None = None
    # a model that cannot see images (the image row checks that it refuses them)
    text_only: str | None = None
    # listed models that do not answer chat requests (embeddings, speech, ...): model-selection skips them
    not_chat: tuple[str, ...] = ()
    # the models model-selection sends a chat request to, when the list holds many kinds of model
    # (default: every listed model but the moderation and not_chat ones, up to the dialect's cap)
    selection: tuple[str, ...] | None = None
    # a model this key may not use: errors-auth expects 403 for it
    forbidden: str | None = None

    def for_role(self, role: str) -> str | None:
        """The model for a role; tools and structured output fall back to the chat model."""
        value = getattr(self, role)
        if value is None and role in ("tools", "structured_output"):
            return self.chat
        return value

    def configured(self) -> dict[str, str]:
        return {role: value for role in MODEL_ROLES if (value := self.for_role(role)) is not None}


class Limits(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    requests_per_minute: int = Field(default=600, ge=1)
    # the target's token budget per minute; each request counts its upper bound (conformance.budget)
    tokens_per_minute: int | None = Field(default=None, ge=1)
    concurrency: int = Field(default=4, ge=1, le=64)
    # a 429 the suite did not ask for is retried (after Retry-After) this many times, never judged
    retries: int = Field(default=4, ge=0, le=20)
    # the longest single wait for a retry; a target asking for more gets its 429 judged
    max_retry_wait: float = Field(default=65.0, ge=0)
    # seconds to wait for a connection, and between two reads of a response
    timeout: float = Field(default=30.0, gt=0)
    # seconds one response may take from the request to its last byte (bounds endless streams)
    deadline: float = Field(default=120.0, gt=0)
    max_body_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)


class RateLimit(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # provoke a 429 on purpose (opt in: it spends up to ``budget`` requests and may wait ``max_wait``)
    probe: bool = False
    # the model the burst goes to (default: the chat model); a model with a low limit keeps it cheap
    model: str | None = None
    budget: int = Field(default=20, ge=2, le=500)
    # the longest the suite waits for the window to pass before checking recovery
    max_wait: float = Field(default=65.0, ge=0)


class Capabilities(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # feature rows the target declares it does not support: their checks report "unsupported"
    unsupported: tuple[str, ...] = ()

    @field_validator("unsupported")
    @classmethod
    def _known_rows(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [row for row in value if row not in ROW_IDS]
        if unknown:
            raise ValueError(f"unknown feature rows {unknown}; rows are {', '.join(ROW_IDS)}")
        return value


class Target(BaseModel):
    """A resolved target profile."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    description: str = ""
    base_url: str | None = None
    api_key_env: str | None = None
    dialect: str = "openai"
    # which parameter caps the answer length in the suite's own requests
    max_tokens_param: Literal["max_tokens", "max_completion_tokens"] = "max_tokens"
    # a public image the image row sends by URL; "" skips that check (for targets without internet)
    image_url: str = DEFAULT_IMAGE_URL
    # "reference": with no base URL given, live runs start the suite's own reference server
    builtin_server: Literal["reference", "reference-openai"] | None = None
    auth: Auth = Auth()
    models: Models = Models()
    limits: Limits = Limits()
    rate_limit: RateLimit = RateLimit()
    capabilities: Capabilities = Capabilities()
    # extra body fields that make the target fail in the middle of a stream (test servers only):
    # the streaming row then checks that the failure arrives as a data: {"error": ...} event
    mid_stream_error: dict[str, Any] | None = None
    # where the profile came from (a file path, or "command line")
    origin: str = "command line"

    @field_validator("name")
    @classmethod
    def _safe_name(cls, value: str) -> str:
        if not value or not all(ch.isalnum() or ch in "-_." for ch in value) or value.startswith("."):
            raise ValueError(f"target name {value!r} may hold only letters, digits, '-', '_' and '.'")
        return value

    @field_validator("base_url")
    @classmethod
    def _valid_url(cls, value: str | None) -> str | None:
        return None if value is None else normalise_base_url(value)


def normalise_base_url(value: str) -> str:
    """Check a base URL and drop its trailing slash; raise ValueError with a one-line reason."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"malformed base URL {value!r}: expected http(s)://host[:port]/path")
    if parts.username or parts.password:
        raise ValueError("the base URL must not carry credentials; put the key in the key variable")
    if parts.query or parts.fragment:
        raise ValueError(f"malformed base URL {value!r}: no query string or fragment allowed")
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise ValueError(f"malformed base URL {value!r}: {exc}") from exc
    return value.strip().rstrip("/")


def known_targets(search: list[Path] | None = None) -> list[str]:
    names: set[str] = set()
    for directory in search or default_search_path():
        names.update(path.stem for path in directory.glob("*.toml"))
    return sorted(names)


def default_search_path() -> list[Path]:
    local = Path.cwd() / "targets"
    bundled = bundled_targets_dir()
    return [local, bundled] if local.resolve() != bundled.resolve() else [bundled]


def find_profile(name_or_path: str, search: list[Path] | None = None) -> Path:
    candidate = Path(name_or_path)
    if candidate.suffix == ".toml" or "/" in name_or_path:
        if candidate.is_file():
            return candidate
        raise ConfigError(f"target profile {name_or_path} does not exist")
    for directory in search or default_search_path():
        path = directory / f"{name_or_path}.toml"
        if path.is_file():
            return path
    known = ", ".join(known_targets(search)) or "none"
    raise ConfigError(f"unknown target {name_or_path!r} (known targets: {known})")


def _first_error(exc: ValidationError, where: str) -> str:
    error = exc.errors()[0]
    location = ".".join(str(part) for part in error["loc"]) or "profile"
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "unknown key"
    return f"{where}: {location}: {message}"


def load_profile(path: Path) -> dict[str, object]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read target profile {path}: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"target profile {path} is not valid TOML: {exc}") from exc
    data.setdefault("name", path.stem)
    data["origin"] = str(path)
    return data


def build_target(data: dict[str, object], overrides: dict[str, object] | None = None) -> Target:
    """Validate a profile (as read from TOML) with command-line overrides applied on top."""
    merged = _deep_merge(data, overrides or {})
    try:
        return Target.model_validate(merged)
    except ValidationError as exc:
        raise ConfigError(_first_error(exc, str(merged.get("origin", "target profile")))) from exc


def _deep_merge(base: dict[str, object], top: dict[str, object]) -> dict[str, object]:
    merged = dict(base)
    for key, value in top.items():
        if isinstance(value, dict):
            current = merged.get(key)
            nested = _deep_merge(current if isinstance(current, dict) else {}, value)
            if nested:
                merged[key] = nested
        elif value is not None:
            merged[key] = value
    return merged
