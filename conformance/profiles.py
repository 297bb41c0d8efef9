"""Target profiles: what the suite needs to know about an endpoint, as data.

A profile is a TOML file under ``targets/`` (or given by path). It names the environment variable
that holds the key, never the key itself. Command-line options override any field, and a run
without a profile builds one from the options alone.
"""

from __future__ import annotations

import ipaddress
import re
import tomllib
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from conformance.errors import ConfigError
from conformance.resources import bundled_targets_dir
from conformance.rows import ROW_IDS

MODEL_ROLES = ("chat", "vision", "tools", "structured_output", "moderation", "reasoning", "embedding", "completion")
# the image of OpenAI's vision guide
DEFAULT_IMAGE_URL = (
    "https://upload.wikimedia.org/wikipedia/commons/thumb/d/dd/Gfp-wisconsin-madison-the-nature-boardwalk.jpg/"
    "2560px-Gfp-wisconsin-madison-the-nature-boardwalk.jpg"
)


# an HTTP header name (RFC 9110 token)
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
# the longest a timeout, deadline or wait may be: a bound, so that every run ends
MAX_SECONDS = 3600.0


class Auth(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # the header that carries the key, and the scheme word before it ("" sends the bare key)
    header: str = "Authorization"
    scheme: str = "Bearer"
    # "none": the target takes no key at all
    kind: Literal["key", "none"] = "key"

    @field_validator("header")
    @classmethod
    def _header_name(cls, value: str) -> str:
        if not _TOKEN.match(value):
            raise ValueError(f"{value!r} is not an HTTP header name")
        return value

    @field_validator("scheme")
    @classmethod
    def _scheme_word(cls, value: str) -> str:
        if value and not _TOKEN.match(value):
            raise ValueError(f"{value!r} is not an authentication scheme word (e.g. Bearer)")
        return value


class Models(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    chat: str | None = None
    vision: str | None = None
    tools: str | None = None
    structured_output: str | None = None
    moderation: str | None = None
    # the model the reasoning rows ask (default: the chat model), a model that thinks before it answers
    reasoning: str | None = None
    # a model that cannot see images (the image row checks that it refuses them)
    text_only: str | None = None
    # the model the embeddings row asks (POST /embeddings); none: the row is not applicable
    embedding: str | None = None
    # the length of that model's vectors, as its documentation states it (text-embedding-3-small: 1536)
    embedding_dimensions: int | None = Field(default=None, ge=1, le=65536)
    # the model the completions row asks (POST /completions; default: the chat model)
    completion: str | None = None
    # listed models that do not answer chat requests (embeddings, speech, ...): model-selection skips them
    not_chat: tuple[str, ...] = ()
    # the models model-selection sends a chat request to, when the list holds many kinds of model
    # (default: every listed model but the moderation and not_chat ones, up to the dialect's cap)
    selection: tuple[str, ...] | None = None
    # a model this key may not use: errors-auth expects 403 for it
    forbidden: str | None = None

    @field_validator(
        "chat",
        "vision",
        "tools",
        "structured_output",
        "moderation",
        "reasoning",
        "text_only",
        "forbidden",
        "embedding",
        "completion",
    )
    @classmethod
    def _model_id(cls, value: str | None) -> str | None:
        if value is not None:
            _check_model_id(value)
        return value

    @field_validator("not_chat", "selection")
    @classmethod
    def _model_ids(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        for model in value or ():
            _check_model_id(model)
        return value

    def for_role(self, role: str) -> str | None:
        """The model for a role; tools, structured output, reasoning and completion fall back to the chat model."""
        value = getattr(self, role)
        if value is None and role in ("tools", "structured_output", "reasoning", "completion"):
            return self.chat
        return value

    def configured(self) -> dict[str, str]:
        return {role: value for role in MODEL_ROLES if (value := self.for_role(role)) is not None}


def _check_model_id(value: str) -> None:
    """A model id goes into URLs and bodies: it must be one printable token."""
    if not value or len(value) > 256:
        raise ValueError(f"a model id has 1 to 256 characters, not {len(value)}")
    bad = next((ch for ch in value if ch.isspace() or not ch.isprintable()), None)
    if bad is not None:
        raise ValueError(f"the model id {value!r} holds {_describe_char(bad)}")


MAX_TRIALS = 50


class Limits(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # the requests a minute the target allows, spent in bursts within any sliding minute; None: no
    # cap but the concurrency, until the target announces one or answers 429
    requests_per_minute: int | None = Field(default=None, ge=1)
    # the target's token budget per minute; each request counts its upper bound (conformance.budget)
    tokens_per_minute: int | None = Field(default=None, ge=1)
    concurrency: int = Field(default=4, ge=1, le=64)
    # a 429 the suite did not ask for is retried (after Retry-After) this many times, never judged
    retries: int = Field(default=4, ge=0, le=20)
    # the longest single wait for a retry; a target asking for more gets its 429 judged
    max_retry_wait: float = Field(default=65.0, ge=0, le=MAX_SECONDS, allow_inf_nan=False)
    # seconds to wait for a connection, and between two reads of a response
    timeout: float = Field(default=30.0, gt=0, le=MAX_SECONDS, allow_inf_nan=False)
    # seconds one request may take from its first byte sent to the last byte of the answer, headers
    # included, however slowly the target trickles them (bounds endless and dripping answers)
    deadline: float = Field(default=120.0, gt=0, le=MAX_SECONDS, allow_inf_nan=False)
    # seconds the whole run may take; then it ends with a report of what it judged (exit 5). By
    # default, long enough for every planned request to take its whole deadline
    run_timeout: float | None = Field(default=None, gt=0, le=24 * MAX_SECONDS, allow_inf_nan=False)
    # the largest body one answer may have, compressed or decoded; a larger one is a verdict
    # ("too large") and only its first bytes, size and digest are kept
    max_body_bytes: int = Field(default=4 * 1024 * 1024, ge=1024, le=1024**3)
    # the most body bytes a run keeps in all (memory and cassettes); past it, answers are kept as
    # their first bytes, size and digest, and judged too large
    max_run_bytes: int = Field(default=5 * 1024 * 1024, ge=1024 * 1024, le=16 * 1024**3)
    # how many times each model check's probe is sent: its verdict is a rate over these trials
    trials: int = Field(default=5, ge=1, le=MAX_TRIALS)
    # the most trials a model check may draw before it decides: one whose first ``trials`` leave its
    # 95 % interval straddling its threshold draws up to this many (conformance.rates: settled)
    max_trials: int = Field(default=20, ge=1, le=MAX_TRIALS)

    @property
    def trial_bound(self) -> int:
        """The most trials a model check draws (``trials`` when it is the larger)."""
        return max(self.trials, self.max_trials)

    # the most tokens a model may think before its answer: when the target thinks (``reasoning.thinks``,
    # declared or noticed from its first answer), every answer cap of the suite's requests grows by this
    max_reasoning_tokens: int = Field(default=1024, ge=0, le=65536)


class RateLimit(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # provoke a 429 on purpose (opt in: it spends up to ``budget`` requests on chat completions, as many on
    # /responses where the target serves it, and may wait ``max_wait``)
    probe: bool = False
    # the model the burst goes to (default: the chat model); a model with a low limit keeps it cheap
    model: str | None = None
    budget: int = Field(default=20, ge=2, le=500)
    # the longest the suite waits for the window to pass before checking recovery
    max_wait: float = Field(default=65.0, ge=0, le=MAX_SECONDS, allow_inf_nan=False)


# the fields servers return a reasoning model's thinking in, beside the answer
REASONING_FIELDS = ("reasoning_content", "reasoning", "reasoning_details", "thinking", "thinking_blocks")


class Reasoning(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # whether the chat model thinks before it answers; unset, the run notices it from its first answer
    thinks: bool | None = None
    # the message field the target returns thinking in (default: the dialect's; OpenAI returns none)
    field: Literal["reasoning_content", "reasoning", "reasoning_details", "thinking", "thinking_blocks"] | None = None


class Capabilities(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # feature rows the target declares it does not support: their checks report "unsupported"
    unsupported: tuple[str, ...] = ()
    # the Responses API keeps what it answered (store, previous_response_id, GET /responses/{id}); a
    # target that keeps nothing declares false, and those checks report "unsupported", not failures
    stores_responses: bool = True

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
    reasoning: Reasoning = Reasoning()
    # extra body fields that make the target fail in the middle of a stream (test servers only):
    # the streaming row then checks that the failure arrives as a data: {"error": ...} event
    mid_stream_error: dict[str, Any] | None = None
    # where the profile came from (a file path, or "command line")
    origin: str = "command line"

    @property
    def thinking_allowance(self) -> int:
        """The tokens every answer cap of the suite's requests grows by: the declared bound on thinking when
        the target thinks, else none."""
        return self.limits.max_reasoning_tokens if self.reasoning.thinks else 0

    def allowance_for(self, model: str | None) -> int:
        """The allowance for thinking of a request to ``model``: the run's, or, for the model the profile names
        for the reasoning rows (a model that thinks), always the declared bound."""
        if model is not None and model == self.models.reasoning:
            return self.limits.max_reasoning_tokens
        return self.thinking_allowance

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
    """Check a base URL and drop its trailing slash; raise ValueError with a one-line reason that
    names the URL."""
    text = value.strip()
    bad = next((ch for ch in text if ch.isspace() or not ch.isprintable()), None)
    if bad is not None:
        raise ValueError(f"malformed base URL {text!r}: it holds {_describe_char(bad)}")
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise ValueError(f"malformed base URL {text!r}: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"malformed base URL {text!r}: expected http(s)://host[:port]/path")
    if parts.username or parts.password:
        raise ValueError("the base URL must not carry credentials; put the key in the key variable")
    if parts.query or parts.fragment:
        raise ValueError(f"malformed base URL {text!r}: no query string or fragment allowed")
    problem = _host_problem(parts.hostname, bracketed="[" in parts.netloc)
    if problem:
        raise ValueError(f"malformed base URL {text!r}: {problem}")
    return text.rstrip("/")


_LABEL = re.compile(r"^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$")


def _host_problem(host: str, *, bracketed: bool) -> str | None:
    """Why ``host`` is not a host name or an IP address, or None."""
    if bracketed:
        try:
            ipaddress.IPv6Address(host.split("%", 1)[0])
        except ValueError:
            return f"{host!r} is not an IPv6 address"
        return None
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return f"{host!r} is not a valid host name"
    labels = ascii_host.rstrip(".").split(".")
    if len(ascii_host) > 253 or not all(_LABEL.match(label) for label in labels):
        return f"{host!r} is not a valid host name"
    return None


def _describe_char(ch: str) -> str:
    import unicodedata

    name = unicodedata.name(ch, "")
    kind = "a space" if ch == " " else ("a control character" if ord(ch) < 32 or ord(ch) == 127 else "a character")
    return f"{kind} (U+{ord(ch):04X}{' ' + name if name else ''})"


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
