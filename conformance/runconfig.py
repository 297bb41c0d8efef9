"""Turning command-line options and the environment into one validated run configuration.

The CLI and the pytest plugin both call ``resolve``, so a mistake is caught before pytest starts,
and reported as one line with exit code 2.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, cast

from conformance.cassettes import CassetteSet
from conformance.dialects import Dialect, load_dialect
from conformance.errors import ConfigError
from conformance.profiles import (
    MAX_TRIALS,
    Target,
    build_target,
    default_search_path,
    find_profile,
    load_profile,
    normalise_base_url,
)
from conformance.resources import bundled_cassettes_dir
from conformance.rows import ROW_IDS

Mode = Literal["live", "record", "replay"]
MODES: tuple[Mode, ...] = ("live", "record", "replay")
DEFAULT_TARGET = "reference"


@dataclass(frozen=True)
class RunOptions:
    target: str | None = None
    name: str | None = None
    base_url: str | None = None
    api_key_env: str | None = None
    model: str | None = None
    vision_model: str | None = None
    moderation_model: str | None = None
    embedding_model: str | None = None
    completion_model: str | None = None
    text_model: str | None = None
    dialect: str | None = None
    mode: str | None = None
    report_dir: str | None = None
    cassette_dir: str | None = None
    timeout: float | None = None
    # seconds one request may take, whole (limits.deadline), and the whole run (limits.run_timeout)
    deadline: float | None = None
    run_timeout: float | None = None
    # how many times each model check's probe is sent (default: the profile's limits.trials; in a
    # replay, what the recording made)
    trials: int | None = None
    # the most trials a model check draws when its first ones leave it undecided (limits.max_trials)
    max_trials: int | None = None
    # the target's limits as the user declares them (over the profile's): requests and tokens a
    # minute, requests at a time
    rpm: int | None = None
    tpm: int | None = None
    concurrency: int | None = None
    allow_rate_limit_probe: bool | None = None
    # plan a live run (requests and tokens) and send nothing; needs no key
    dry_run: bool | None = None


@dataclass(frozen=True)
class RunConfig:
    target: Target
    dialect: Dialect
    mode: Mode
    # the key, in live and record mode; never written anywhere
    api_key: str | None
    # the folder of this target's cassettes (read in replay, written in record)
    cassette_dir: Path
    report_dir: Path
    # start the suite's reference server for this run (its base URL is known only then)
    start_builtin: bool
    dry_run: bool = False
    # the exchange whose answer showed whether the chat model thinks (conformance.thinking); None when the
    # profile declares it, or nothing was asked
    noticed_from: str | None = None

    @property
    def live(self) -> bool:
        return self.mode != "replay"


def resolve(options: RunOptions, env: Mapping[str, str] | None = None, cwd: Path | None = None) -> RunConfig:
    env = os.environ if env is None else env
    cwd = cwd or Path.cwd()
    base_url = options.base_url or env.get("CONFORMANCE_BASE_URL") or None
    if base_url is not None:
        try:
            base_url = normalise_base_url(base_url)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None

    target_name = options.target or env.get("CONFORMANCE_TARGET")
    if target_name:
        data = load_profile(find_profile(target_name, _search_path(cwd)))
    elif base_url is not None:
        data = {"name": "custom", "dialect": "openai"}
    elif options.name:
        # a target once given on the command line, known by its name: its recordings describe it
        root = Path(options.cassette_dir) if options.cassette_dir else None
        data = _recorded_profile(options.name, _cassette_dir(options.name, root, cwd, writing=False))
    else:
        data = load_profile(find_profile(DEFAULT_TARGET, _search_path(cwd)))

    overrides: dict[str, object] = {
        "name": options.name,
        "base_url": base_url,
        "api_key_env": options.api_key_env,
        "dialect": options.dialect,
        "models": {
            "chat": options.model,
            "vision": options.vision_model,
            "moderation": options.moderation_model,
            "embedding": options.embedding_model,
            "completion": options.completion_model,
            "text_only": options.text_model,
        },
        "limits": {
            "timeout": options.timeout,
            "deadline": options.deadline,
            "run_timeout": options.run_timeout,
            "trials": options.trials,
            "max_trials": options.max_trials,
            "requests_per_minute": options.rpm,
            "tokens_per_minute": options.tpm,
            "concurrency": options.concurrency,
        },
        "rate_limit": {"probe": True if options.allow_rate_limit_probe else None},
    }
    target = build_target(data, overrides)
    dialect = load_dialect(target.dialect)
    unserved = [row for row in ROW_IDS if row in dialect.unserved_rows and row not in target.capabilities.unsupported]
    if unserved:
        # the dialect documents these endpoints as not served: nothing is sent to them
        unsupported = (*target.capabilities.unsupported, *unserved)
        capabilities = target.capabilities.model_copy(update={"unsupported": unsupported})
        target = target.model_copy(update={"capabilities": capabilities})

    cassette_root = Path(options.cassette_dir) if options.cassette_dir else None
    mode_text = options.mode or env.get("CONFORMANCE_MODE") or None
    if mode_text is not None and mode_text not in MODES:
        raise ConfigError(f"unknown mode {mode_text!r} (modes: {', '.join(MODES)})")
    cassette_dir = _cassette_dir(target.name, cassette_root, cwd, writing=mode_text == "record")
    if options.dry_run:
        # a dry run plans what a live run would send, whatever the mode
        mode_text = "live"
    if mode_text is None:
        mode_text = "replay" if CassetteSet.exists(cassette_dir) and base_url is None else "live"
    mode = cast("Mode", mode_text)
    if mode == "replay" and not CassetteSet.exists(cassette_dir):
        raise ConfigError(
            f"no cassettes for target {target.name!r} in {cassette_dir}; run it live (--mode live) "
            "or record them (--mode record)"
        )
    if mode == "replay":
        recorded = _recorded_trials(cassette_dir)
        update = {} if options.trials is not None or recorded is None else {"trials": recorded}
        # a set recorded before a check could draw more trials made its first ones only
        if options.max_trials is None:
            update["max_trials"] = _recorded_max_trials(cassette_dir) or update.get("trials", target.limits.trials)
        target = target.model_copy(update={"limits": target.limits.model_copy(update=update)})

    start_builtin = mode != "replay" and target.builtin_server is not None and base_url is None
    if mode != "replay" and not start_builtin and target.base_url is None and not options.dry_run:
        raise ConfigError(f"target {target.name!r} has no base URL; give one with --base-url")
    if target.models.chat is None and target.models.embedding is None:
        # an embeddings server alone is a target too: the rows that ask a chat model do not apply to it
        raise ConfigError(f"target {target.name!r} configures no chat model; give one with --model")

    api_key = None
    if mode != "replay" and target.auth.kind == "key" and not options.dry_run:
        # the reference server started for this run gets a fresh key; nobody needs to know it
        api_key = "sk-reference-" + secrets.token_hex(16) if start_builtin else _api_key(target, env)
    elif mode == "replay" and target.api_key_env:
        # nothing is sent, but the key, when set, is looked for in what the replay reads and shows
        api_key = env.get(target.api_key_env) or None

    report_dir = Path(options.report_dir) if options.report_dir else cwd / "reports" / target.name
    check_output_dir(report_dir, "the report folder")
    if mode == "record" and not options.dry_run:
        check_output_dir(cassette_dir, "the cassette folder")
    return RunConfig(
        target=target,
        dialect=dialect,
        mode=mode,
        api_key=api_key,
        cassette_dir=cassette_dir,
        report_dir=report_dir,
        start_builtin=start_builtin and not options.dry_run,
        dry_run=bool(options.dry_run),
    )


def _recorded_profile(name: str, cassette_dir: Path) -> dict[str, object]:
    """The profile a cassette set was recorded with (models, dialect, limits...), or a bare one."""
    info = CassetteSet.read_info(cassette_dir)
    profile = info.get("profile")
    data: dict[str, object] = dict(profile) if isinstance(profile, dict) else {"dialect": info.get("dialect", "openai")}
    data.update(name=name, origin="command line")
    return data


def _recorded_trials(cassette_dir: Path) -> int | None:
    """How many trials the recording made (a replay makes as many), if the set says. A set recorded
    before trials existed keeps limits without them: it made one of each."""
    profile = CassetteSet.read_info(cassette_dir).get("profile")
    limits = profile.get("limits") if isinstance(profile, dict) else None
    trials = limits.get("trials", 1) if isinstance(limits, dict) else None
    return trials if isinstance(trials, int) and not isinstance(trials, bool) and 1 <= trials <= MAX_TRIALS else None


def _recorded_max_trials(cassette_dir: Path) -> int | None:
    """The most trials a check could draw in the recording (a replay draws what it drew), if the set says."""
    profile = CassetteSet.read_info(cassette_dir).get("profile")
    limits = profile.get("limits") if isinstance(profile, dict) else None
    bound = limits.get("max_trials") if isinstance(limits, dict) else None
    return bound if isinstance(bound, int) and not isinstance(bound, bool) and 1 <= bound <= MAX_TRIALS else None


def _search_path(cwd: Path) -> list[Path]:
    local = cwd / "targets"
    return [local, *[path for path in default_search_path() if path.resolve() != local.resolve()]]


def _cassette_dir(name: str, root: Path | None, cwd: Path, *, writing: bool) -> Path:
    if root is not None:
        return root / name
    local = cwd / "cassettes" / name
    if writing or CassetteSet.exists(local):
        return local
    return bundled_cassettes_dir() / name


def _api_key(target: Target, env: Mapping[str, str]) -> str:
    variable = target.api_key_env
    if not variable:
        raise ConfigError(f"target {target.name!r} names no API key variable; give one with --api-key-env VAR")
    value = env.get(variable, "").strip()
    if not value:
        raise ConfigError(f"environment variable {variable} is not set; it must hold the API key for {target.name!r}")
    problem = key_problem(value)
    if problem:
        raise ConfigError(f"the key in {variable} {problem}")
    return value


def key_problem(key: str) -> str | None:
    """Why ``key`` cannot go into an HTTP header as it is, or None. It never repeats the key: it
    names the position and the kind of the first character that does not belong."""
    for position, ch in enumerate(key, start=1):
        if "!" <= ch <= "~":
            continue
        if ch.isspace() and ch.isascii():
            kind = "a space" if ch == " " else "a line break or tab"
        elif ord(ch) < 32 or ord(ch) == 127:
            kind = "a control character"
        else:
            import unicodedata

            name = unicodedata.name(ch, "")
            kind = f"a non-ASCII character (U+{ord(ch):04X}{' ' + name if name else ''})"
        return (
            f"has {kind} at position {position} of {len(key)}; a key is printable ASCII without spaces "
            "(was it pasted from a web page or a file with line breaks?)"
        )
    return None


def check_output_dir(path: Path, what: str) -> None:
    """Fail now, with one line, if the run could not write into ``path`` at its end."""
    existing = path
    while not existing.exists():
        if existing.is_symlink():  # a dangling link
            raise ConfigError(f"{what} {path}: {existing} is a broken symbolic link")
        if existing.parent == existing:
            break
        existing = existing.parent
    if not existing.is_dir():
        where = "is" if existing == path else f"is under {existing}, which is"
        raise ConfigError(f"{what} {path} {where} not a directory")
    try:
        probe = tempfile.mkdtemp(prefix=".conformance-write-test-", dir=existing)
        Path(probe).rmdir()
    except OSError as exc:
        raise ConfigError(f"{what} {path} is not writable: {exc.strerror or exc}") from None
