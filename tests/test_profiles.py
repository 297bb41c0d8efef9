"""Target profiles and the run configuration: good profiles load, every mistake is one clear line."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.errors import ConfigError
from conformance.profiles import build_target, find_profile, known_targets, load_profile
from conformance.runconfig import RunOptions, resolve

ROOT = Path(__file__).resolve().parents[1]


def write(tmp_path: Path, name: str, text: str) -> Path:
    folder = tmp_path / "targets"
    folder.mkdir(exist_ok=True)
    path = folder / f"{name}.toml"
    path.write_text(text)
    return path


GOOD = """
description = "a vendor"
base_url = "https://api.example.test/compat/v1/"
api_key_env = "VENDOR_KEY"
dialect = "llama-api"
[models]
chat = "m-chat"
vision = "m-vision"
[limits]
requests_per_minute = 10
[capabilities]
unsupported = ["moderation"]
"""


def test_every_bundled_profile_is_valid():
    names = known_targets([ROOT / "targets"])
    assert "reference" in names
    for name in names:
        target = build_target(load_profile(find_profile(name, [ROOT / "targets"])))
        assert target.name == name


def test_a_profile_loads_with_defaults_and_fallbacks(tmp_path):
    target = build_target(load_profile(write(tmp_path, "vendor", GOOD)))
    assert target.name == "vendor"
    assert target.base_url == "https://api.example.test/compat/v1"
    assert target.models.for_role("tools") == "m-chat"
    assert target.models.configured()["structured_output"] == "m-chat"
    assert target.limits.requests_per_minute == 10
    assert target.limits.timeout == 30.0
    assert target.capabilities.unsupported == ("moderation",)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('base_ur = "https://x.test"', "base_ur: unknown key"),
        ('base_url = "ftp://x.test"', "malformed base URL 'ftp://x.test'"),
        ('base_url = "https://user:pw@x.test/v1"', "must not carry credentials"),
        ('base_url = "https://x.test/v1?key=1"', "no query string"),
        ("[limits]\nconcurrency = 0", "limits.concurrency"),
        ('[capabilities]\nunsupported = ["teleport"]', "unknown feature rows ['teleport']"),
        ('dialect = "openai"\n[models]\nchat = 3', "models.chat"),
        ("this is = not toml =", "not valid TOML"),
    ],
)
def test_a_bad_profile_is_one_clear_line(tmp_path, text, expected):
    path = write(tmp_path, "bad", text)
    with pytest.raises(ConfigError) as caught:
        build_target(load_profile(path))
    message = str(caught.value)
    assert expected in message
    assert "\n" not in message


def test_unknown_target_lists_the_known_ones(tmp_path):
    write(tmp_path, "alpha", GOOD)
    with pytest.raises(ConfigError, match=r"unknown target 'nope' \(known targets: alpha\)"):
        find_profile("nope", [tmp_path / "targets"])


def options(**values) -> RunOptions:
    return RunOptions(**values)


def test_no_arguments_replays_the_reference_target():
    config = resolve(options(), env={}, cwd=ROOT)
    assert config.target.name == "reference"
    assert config.mode == "replay"
    assert config.api_key is None
    assert config.cassette_dir == ROOT / "cassettes" / "reference"
    assert config.report_dir == ROOT / "reports" / "reference"


def test_live_reference_starts_the_builtin_server_with_a_fresh_key():
    first = resolve(options(mode="live"), env={}, cwd=ROOT)
    second = resolve(options(mode="live"), env={}, cwd=ROOT)
    assert first.start_builtin
    assert first.api_key
    assert first.api_key.startswith("sk-reference-")
    assert first.api_key != second.api_key


def test_an_ad_hoc_target_runs_live_and_needs_its_key(tmp_path):
    env = {"MY_KEY": "sk-abcdefghijkl"}
    config = resolve(
        options(base_url="http://127.0.0.1:9/v1", api_key_env="MY_KEY", model="m", dialect="openai"),
        env=env,
        cwd=tmp_path,
    )
    assert (config.target.name, config.mode, config.api_key) == ("custom", "live", "sk-abcdefghijkl")
    assert config.report_dir == tmp_path / "reports" / "custom"
    with pytest.raises(ConfigError, match="environment variable MY_KEY is not set"):
        resolve(options(base_url="http://127.0.0.1:9/v1", api_key_env="MY_KEY", model="m"), env={}, cwd=tmp_path)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"base_url": "not a url", "model": "m"}, "malformed base URL"),
        ({"base_url": "http://127.0.0.1:9/v1", "model": "m"}, "names no API key variable"),
        ({"base_url": "http://127.0.0.1:9/v1", "api_key_env": "K"}, "configures no chat model"),
        ({"target": "nope"}, "unknown target 'nope'"),
        ({"target": "reference", "dialect": "klingon"}, "unknown dialect 'klingon'"),
        ({"mode": "sometimes"}, "unknown mode 'sometimes'"),
        ({"target": "reference", "mode": "replay", "cassette_dir": "/nonexistent"}, "no cassettes for target"),
    ],
)
def test_configuration_mistakes(values, expected, tmp_path):
    with pytest.raises(ConfigError, match=expected):
        resolve(options(**values), env={"K": "sk-0123456789"}, cwd=ROOT)


def test_command_line_overrides_the_profile(tmp_path):
    write(tmp_path, "vendor", GOOD)
    config = resolve(
        options(target="vendor", model="other", base_url="https://gw.test/v1", timeout=5),
        env={"VENDOR_KEY": "sk-0123456789"},
        cwd=tmp_path,
    )
    assert config.target.models.chat == "other"
    assert config.target.models.vision == "m-vision"
    assert config.target.base_url == "https://gw.test/v1"
    assert config.target.limits.timeout == 5
    assert config.mode == "live"


def test_the_environment_chooses_target_and_mode(tmp_path):
    write(tmp_path, "vendor", GOOD)
    config = resolve(options(), env={"CONFORMANCE_TARGET": "vendor", "VENDOR_KEY": "sk-0123456789"}, cwd=tmp_path)
    assert config.target.name == "vendor"
    assert config.mode == "live"


def test_an_embeddings_server_is_a_target_without_a_chat_model(tmp_path):
    config = resolve(
        options(base_url="http://127.0.0.1:9/v1", api_key_env="K", embedding_model="e-small"),
        env={"K": "sk-0123456789"},
        cwd=tmp_path,
    )
    assert (config.target.models.chat, config.target.models.embedding) == (None, "e-small")
    assert config.target.models.configured() == {"embedding": "e-small"}


def test_the_completion_model_is_the_chat_model_unless_named(tmp_path):
    base = {"base_url": "http://127.0.0.1:9/v1", "api_key_env": "K", "model": "chat-1"}
    config = resolve(options(**base), env={"K": "sk-0123456789"}, cwd=tmp_path)
    assert config.target.models.for_role("completion") == "chat-1"
    named = resolve(options(**base, completion_model="instruct-1"), env={"K": "sk-0123456789"}, cwd=tmp_path)
    assert named.target.models.for_role("completion") == "instruct-1"


def test_the_rows_a_dialect_does_not_serve_are_unsupported_for_its_targets(tmp_path):
    write(tmp_path, "vendor", GOOD)
    config = resolve(options(target="vendor"), env={"VENDOR_KEY": "sk-0123456789"}, cwd=tmp_path)
    assert {"embeddings", "completions"} <= config.dialect.unserved_rows
    assert config.target.capabilities.unsupported == ("moderation", "embeddings", "completions")
    openai = resolve(options(target="vendor", dialect="openai"), env={"VENDOR_KEY": "sk-0123456789"}, cwd=tmp_path)
    assert openai.target.capabilities.unsupported == ("moderation",)


def test_a_dialect_naming_an_unknown_row_is_one_clear_line(tmp_path):
    from conformance.dialects import load_dialect

    (tmp_path / "odd.toml").write_text('name = "odd"\ntitle = "odd"\nextends = "openai"\nunserved_rows = ["fax"]\n')
    (tmp_path / "openai.toml").write_text((ROOT / "dialects" / "openai.toml").read_text())
    with pytest.raises(ConfigError, match=r"unserved_rows names unknown rows \['fax'\]"):
        load_dialect("odd", tmp_path)
