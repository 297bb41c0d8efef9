"""Parsed cassette sets are kept between runs, keyed by what the files hold, and never trusted blindly."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from conformance import cassette_cache, cassette_format, cassettes
from conformance.cassettes import CassetteSet
from conformance.errors import ReplayError

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("CONFORMANCE_CACHE_DIR", str(folder))
    cassettes._LOADED.clear()
    return folder / "cassettes"


@pytest.fixture
def parses(monkeypatch) -> list[str]:
    """Every YAML text parsed from now on."""
    parsed: list[str] = []
    load = cassette_format.load_yaml

    def counted(text: str):  # type: ignore[no-untyped-def]
        parsed.append(text)
        return load(text)

    monkeypatch.setattr(cassettes, "load_yaml", counted)
    return parsed


def _copy_of_reference(tmp_path: Path) -> Path:
    folder = tmp_path / "cassettes"
    shutil.copytree(ROOT / "cassettes" / "reference", folder)
    return folder


def _summary(cassette_set: CassetteSet) -> dict[str, object]:
    return {exchange_id: cassette_set.get(exchange_id) for exchange_id in sorted(cassette_set.ids())}


def test_a_set_read_again_is_not_parsed_again_and_is_the_same(tmp_path, cache, parses):
    folder = _copy_of_reference(tmp_path)
    first = CassetteSet.load(folder)
    files = len(list(folder.rglob("*.yaml")))
    assert len(parses) == files
    cassettes._LOADED.clear()  # a new process
    second = CassetteSet.load(folder)
    assert len(parses) == files  # nothing parsed
    assert _summary(second) == _summary(first)
    assert second.info == first.info
    assert len(list(cache.glob("*.json"))) == 1


def test_a_changed_added_or_removed_file_is_parsed_afresh(tmp_path, cache, parses):
    folder = _copy_of_reference(tmp_path)
    CassetteSet.load(folder)
    some = sorted(path for path in folder.rglob("*.yaml") if path.name != "cassette-set.yaml")[0]
    text = some.read_text()
    some.write_text(text.replace("purpose: ", "purpose: changed ", 1))
    cassettes._LOADED.clear()
    parsed = len(parses)
    changed = CassetteSet.load(folder)
    assert len(parses) > parsed
    assert any("changed" in (changed.get(i).purpose or "") for i in changed.ids())  # type: ignore[union-attr]
    some.unlink()
    cassettes._LOADED.clear()
    parsed = len(parses)
    assert len(CassetteSet.load(folder).ids()) == len(changed.ids()) - 1
    assert len(parses) > parsed


def test_a_broken_cache_entry_is_no_cache(tmp_path, cache, parses):
    folder = _copy_of_reference(tmp_path)
    expected = _summary(CassetteSet.load(folder))
    for entry in cache.glob("*.json"):
        entry.write_text('{"files": {"not": "these"}}')
    cassettes._LOADED.clear()
    parsed = len(parses)
    assert _summary(CassetteSet.load(folder)) == expected
    assert len(parses) > parsed
    for entry in cache.glob("*.json"):
        entry.write_text("{ not json")
    cassettes._LOADED.clear()
    assert _summary(CassetteSet.load(folder)) == expected


def test_no_cache_when_disabled_or_unwritable(tmp_path, monkeypatch, parses):
    folder = _copy_of_reference(tmp_path)
    monkeypatch.setenv("CONFORMANCE_CACHE_DIR", "")
    cassettes._LOADED.clear()
    CassetteSet.load(folder)
    cassettes._LOADED.clear()
    parsed = len(parses)
    CassetteSet.load(folder)
    assert len(parses) == 2 * parsed
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache folder would be")
    monkeypatch.setenv("CONFORMANCE_CACHE_DIR", str(blocked))
    cassettes._LOADED.clear()
    assert CassetteSet.load(folder).ids()  # read, parsed, not cached, and no error


def test_data_json_would_change_are_not_cached(cache):
    texts = {"a.yaml": "when: 2026-12-01\n"}  # YAML reads a date, which JSON has not
    parsed = {"a.yaml": cassette_format.load_yaml(texts["a.yaml"])}
    cassette_cache.store(texts, parsed)
    assert cassette_cache.lookup(texts) is None
    texts = {"b.yaml": "1: one\n"}  # a number as a key comes back from JSON as a string
    cassette_cache.store(texts, {"b.yaml": cassette_format.load_yaml(texts["b.yaml"])})
    assert cassette_cache.lookup(texts) is None
    texts = {"c.yaml": "plain: text\n"}
    cassette_cache.store(texts, {"c.yaml": {"plain": "text"}})
    assert cassette_cache.lookup(texts) == {"c.yaml": {"plain": "text"}}


def test_an_unreadable_cassette_is_still_named_with_a_cache(tmp_path, cache):
    folder = _copy_of_reference(tmp_path)
    CassetteSet.load(folder)
    broken = sorted(path for path in folder.rglob("*.yaml") if path.name != "cassette-set.yaml")[0]
    broken.write_text("request: [unclosed\n")
    cassettes._LOADED.clear()
    with pytest.raises(ReplayError, match=f"cassette {broken} is unreadable"):
        CassetteSet.load(folder)


def test_the_cache_keeps_the_most_recently_used_sets(cache, monkeypatch):
    monkeypatch.setattr(cassette_cache, "KEEP", 3)
    sets = [{f"{n}.yaml": f"n: {n}\n"} for n in range(5)]
    for number, texts in enumerate(sets):
        cassette_cache.store(texts, {f"{number}.yaml": {"n": number}})
        entry = cache / f"{cassette_cache._key(texts)}.json"
        os.utime(entry, (1000 + number, 1000 + number))  # written in this order
    assert len(list(cache.iterdir())) == 3
    assert cassette_cache.lookup(sets[0]) is None
    assert cassette_cache.lookup(sets[4]) == {"4.yaml": {"n": 4}}
    seal, _, text = next(iter(cache.glob("*.json"))).read_text().partition("\n")
    assert len(seal) == 64
    assert json.loads(text)["files"]


def test_an_edited_entry_is_rebuilt_not_believed(tmp_path, cache, parses):
    """Issue 30: editing an entry changed a replay's verdicts while the cassettes did not."""
    folder = _copy_of_reference(tmp_path)
    expected = _summary(CassetteSet.load(folder))
    (entry,) = cache.glob("*.json")
    seal, _, text = entry.read_text().partition("\n")
    tampered = text.replace('"status": 200', '"status": 500')
    assert tampered != text
    for forged in (seal, "0" * 64, ""):
        entry.write_text(f"{forged}\n{tampered}" if forged else tampered)
        cassettes._LOADED.clear()
        parsed = len(parses)
        assert _summary(CassetteSet.load(folder)) == expected
        assert len(parses) > parsed  # parsed afresh
    # a secret others can read is no secret: no cache is believed until it is the owner's alone
    secret = cache.parent / cassette_cache.SECRET
    assert secret.stat().st_mode & 0o777 == 0o600
    secret.chmod(0o644)
    cassettes._LOADED.clear()
    parsed = len(parses)
    CassetteSet.load(folder)
    assert len(parses) > parsed
