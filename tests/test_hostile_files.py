"""Issue 30: what the suite writes and reads back is sealed. Links planted among its files are never
followed, a target's lone surrogate round-trips, a full disk is the environment's exit with its true
cause, and a replay believes neither a cassette holding a secret nor an edited cache entry (the
cache's own tests: ``test_cassette_cache.py``)."""

from __future__ import annotations

import errno
import json
import os
import shutil
import textwrap
from pathlib import Path

import pytest
from helpers import make_exchange

from conformance import files
from conformance.cassettes import CassetteSet, CassetteWriter, write_set_info
from conformance.errors import ReplayError
from conformance.report import read_report, write_report

ROOT = Path(__file__).resolve().parents[1]
KEY = "sk-conformance-SECRET-planted0123456789"


@pytest.fixture
def decoy(tmp_path: Path) -> Path:
    path = tmp_path / "elsewhere" / "decoy.txt"
    path.parent.mkdir()
    path.write_text("the runner's own file")
    return path


def _untouched(decoy: Path) -> bool:
    return decoy.read_text() == "the runner's own file" and sorted(p.name for p in decoy.parent.iterdir()) == [
        "decoy.txt"
    ]


def test_a_planted_link_is_replaced_never_written_through(tmp_path, decoy):
    reports = tmp_path / "reports" / "target"
    reports.mkdir(parents=True)
    for name in ("report.json", "report.json.tmp", "report.md", ".report.json.tmp"):
        (reports / name).symlink_to(decoy)
    report = json.loads((ROOT / "reports" / "reference" / "report.json").read_text())
    write_report(report, reports)
    assert _untouched(decoy)
    assert not (reports / "report.json").is_symlink()
    assert read_report(reports / "report.json")["target"] == report["target"]
    # a cassette set and its description likewise
    cassettes = tmp_path / "cassettes" / "target"
    (cassettes / "models").mkdir(parents=True)
    (cassettes / "cassette-set.yaml").symlink_to(decoy)
    (cassettes / "models" / "list.yaml").symlink_to(decoy)
    (cassettes / "models" / "list.yaml.tmp").symlink_to(decoy)
    writer = CassetteWriter(cassettes)
    writer.write(make_exchange("models/list", method="GET", path="/models", body={"data": []}))
    write_set_info(cassettes, _info())
    assert _untouched(decoy)
    assert all(path.is_symlink() for path in tmp_path.rglob("*.tmp"))  # the planted ones alone are left


def test_a_linked_folder_is_refused_in_one_line_naming_it(tmp_path, decoy):
    cassettes = tmp_path / "cassettes" / "target"
    cassettes.mkdir(parents=True)
    (cassettes / "models").symlink_to(decoy.parent, target_is_directory=True)
    writer = CassetteWriter(cassettes)
    with pytest.raises(files.UnsafePath) as caught:
        writer.write(make_exchange("models/list", method="GET", path="/models", body={"data": []}))
    assert "models is a symbolic link, not a folder" in str(caught.value)
    assert str(decoy.parent) not in str(caught.value)  # named, not followed
    assert _untouched(decoy)
    # the set folder itself, linked: neither written nor read
    linked = tmp_path / "cassettes" / "linked"
    linked.symlink_to(decoy.parent, target_is_directory=True)
    with pytest.raises(files.UnsafePath):
        CassetteWriter(linked).write(make_exchange("x", method="GET", path="/models", body={}))
    with pytest.raises(ReplayError, match="is a symbolic link"):
        CassetteSet.load(linked)
    assert _untouched(decoy)


def test_a_linked_cassette_or_folder_is_not_read(tmp_path, decoy):
    folder = tmp_path / "cassettes"
    shutil.copytree(ROOT / "cassettes" / "reference", folder)
    (decoy.parent / "list.yaml").write_text("secret: planted text that must not be quoted\n")
    (folder / "models" / "list.yaml").unlink()
    (folder / "models" / "list.yaml").symlink_to(decoy.parent / "list.yaml")
    with pytest.raises(ReplayError) as caught:
        CassetteSet.load(folder)
    assert "list.yaml is a symbolic link" in str(caught.value)
    assert "planted" not in str(caught.value)
    (folder / "models" / "list.yaml").unlink()
    (folder / "more").symlink_to(decoy.parent, target_is_directory=True)
    with pytest.raises(ReplayError, match="more is a symbolic link"):
        CassetteSet.load(folder)


def test_the_command_line_refuses_a_linked_cassette_with_exit_2(cli, tmp_path, decoy):
    folder = tmp_path / "cassettes" / "reference"
    shutil.copytree(ROOT / "cassettes" / "reference", folder)
    (folder / "models" / "list.yaml").unlink()
    (folder / "models" / "list.yaml").symlink_to(decoy)
    run = cli("run", "--target", "reference", "--mode", "replay", "--cassette-dir", str(tmp_path / "cassettes"))
    assert run.code == 2, run.stdout + run.stderr
    assert "is a symbolic link" in run.stdout + run.stderr
    assert "Traceback" not in run.stdout + run.stderr
    assert "runner's own" not in run.stdout + run.stderr


def test_a_lone_surrogate_round_trips_through_cassettes_and_reports(tmp_path):
    body = '{"id": "chatcmpl-1\\ud800", "object": "chat.completion", "x\\udc80": "\\udfff"}'
    exchange = make_exchange("models/retrieve/odd\ud800", method="GET", path="/models/odd\ud800", raw=body.encode())
    writer = CassetteWriter(tmp_path / "cassettes" / "t")
    writer.write(exchange)
    loaded = CassetteSet.load(tmp_path / "cassettes" / "t")
    (back,) = [loaded.get(exchange_id) for exchange_id in loaded.ids()]
    assert back is not None
    assert back.response is not None
    assert back.response.body == body.encode()
    assert back.json_body.value["id"] == "chatcmpl-1\ud800"
    # a verdict quoting it is written as the JSON escape, which reads back as the same string
    report = json.loads((ROOT / "reports" / "reference" / "report.json").read_text())
    report["checks"][0]["message"] = "the id is chatcmpl-1\ud800"
    path = write_report(report, tmp_path / "report")
    assert json.loads(path.read_text(encoding="utf-8"))["checks"][0]["message"] == "the id is chatcmpl-1\ud800"
    for name in ("report.md", "report.html", "junit.xml"):
        (path.parent / name).read_text(encoding="utf-8")  # valid UTF-8


_FULL_DISK = textwrap.dedent(
    """
    import errno, itertools, os
    _real, _count = os.fdopen, itertools.count()
    class _Full:
        def __init__(self, file): self.file = file
        def __enter__(self): return self
        def __exit__(self, *exc): self.file.close()
        def write(self, data): raise OSError(errno.ENOSPC, "No space left on device")
    def _fdopen(fd, mode="r", *args, **kwargs):
        file = _real(fd, mode, *args, **kwargs)
        return _Full(file) if "w" in mode and next(_count) >= int(os.environ["WRITES_BEFORE_FULL"]) else file
    os.fdopen = _fdopen
    """
)


def test_a_full_disk_is_the_environments_exit_with_its_cause_and_no_temporary_files(cli, tmp_path):
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(_FULL_DISK)
    cassettes = tmp_path / "cassettes"
    run = cli(
        "run",
        "--target",
        "reference",
        "--mode",
        "record",
        "--cassette-dir",
        str(cassettes),
        "--",
        "-k",
        "test_models or test_chat_completions",
        env={"PYTHONPATH": str(hook), "WRITES_BEFORE_FULL": "12"},
        timeout=240,
    )
    output = run.stdout + run.stderr
    assert run.code == 3, output
    assert "no space left on the device" in output
    assert "Traceback" not in output
    assert not [path for path in tmp_path.rglob("*") if path.name.endswith(".tmp")]
    written = list(cassettes.rglob("*.yaml"))
    assert len(written) == 12
    CassetteSet.load(cassettes / "reference")  # what was written is whole


def test_a_replay_refuses_a_cassette_holding_the_key_or_a_credential(cli, tmp_path):
    folder = tmp_path / "cassettes" / "reference"
    shutil.copytree(ROOT / "cassettes" / "reference", folder)
    listed = folder / "models" / "list.yaml"
    text = listed.read_text()
    listed.write_text(text.replace("purpose: list the models", f"purpose: list the models {KEY.upper()}"))
    args = ("run", "--target", "reference", "--mode", "replay", "--cassette-dir", str(tmp_path / "cassettes"))
    run = cli(*args, env={"REFERENCE_API_KEY": KEY})
    assert run.code == 2, run.stdout + run.stderr
    assert "holds the key of this run" in run.stdout + run.stderr
    assert KEY.lower() not in (run.stdout + run.stderr).lower()
    assert not run.report_dir.exists()
    listed.write_text(
        text.replace("    accept: application/json", "    accept: application/json\n    x-api-key: " + KEY)
    )
    run = cli(*args)
    assert run.code == 2, run.stdout + run.stderr
    assert "holds a credential in a request header" in run.stdout + run.stderr
    assert KEY not in run.stdout + run.stderr


def _info():  # type: ignore[no-untyped-def]
    from conformance.cassettes import new_set_info

    return new_set_info("target", "openai", "2026-12-07T00:00:00Z", "http://127.0.0.1:1/v1")


def test_files_refuse_a_path_outside_their_root(tmp_path):
    with pytest.raises(files.UnsafePath):
        files.write_text(tmp_path / "a" / ".." / ".." / "x", "no", root=tmp_path / "a")
    with pytest.raises(files.UnsafePath):
        files.write_text(Path("/etc/x"), "no", root=tmp_path)
    assert files.environment_failure(OSError(errno.ENOSPC, "full"), tmp_path) is not None
    assert files.environment_failure(OSError(errno.EACCES, "denied"), tmp_path) is None
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(files.UnsafePath, match="regular files"):
        files.read_bytes(tmp_path / "fifo", tmp_path, 10)


@pytest.mark.parametrize(
    "text",
    [
        "[" + ",".join(["[]"] * 150_000) + "]\n",
        "".join(f"k{n}: {{a: [], b: {{}}}}\n" for n in range(20_000)),
        "- " + "\n- ".join(["{}"] * 120_000) + "\n",
    ],
    ids=["flow lists", "small mappings", "block sequence"],
)
def test_a_cassette_costs_a_small_multiple_of_its_size_whatever_its_shape(text):
    """Issue 30: 1.9 MB of YAML without aliases cost 415 MB to load, and 19 MB ended in a MemoryError."""
    import tracemalloc

    from conformance.cassette_format import load_yaml

    tracemalloc.start()
    try:
        load_yaml(text)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 40 * len(text), (peak, len(text))
