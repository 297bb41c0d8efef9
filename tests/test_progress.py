"""What a run shows while it goes: a live display with an ETA on a terminal (run under a pty), a
plain line per row elsewhere, and pytest's own letters and paths only when asked for."""

from __future__ import annotations

import os
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conformance.progress import duration

ROOT = Path(__file__).resolve().parents[1]
ANSI = re.compile(rb"\x1b\[")
# pytest's own progress: a file path, or a line of result letters
PYTEST_PROGRESS = re.compile(r"suite/test_\w+\.py|site-packages|^[.xsFE]{3,}", re.MULTILINE)


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONFORMANCE_", "FORCE_COLOR", "NO_COLOR"))}
    env.update({"COLUMNS": "160", "LINES": "40", "TERM": "xterm-256color", "TMPDIR": str(tmp_path)})
    return env


def run_in_pty(args: list[str], cwd: Path, env: dict[str, str], timeout: float = 240) -> tuple[int, bytes]:
    """Run the command with a pseudo-terminal as its standard output and error; all it wrote."""
    main, secondary = os.openpty()
    process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=secondary, stderr=secondary, cwd=cwd, env=env)
    os.close(secondary)
    output = bytearray()
    ends = time.monotonic() + timeout
    try:
        while time.monotonic() < ends:
            ready, _, _ = select.select([main], [], [], 0.5)
            if ready:
                try:
                    data = os.read(main, 65536)
                except OSError:  # the other side closed: the process is gone
                    break
                if not data:
                    break
                output += data
            elif process.poll() is not None:
                break
    finally:
        os.close(main)
        if process.poll() is None:
            process.kill()
    return process.wait(timeout=30), bytes(output)


@pytest.mark.e2e
def test_a_terminal_shows_one_live_display_with_an_eta_then_the_summary(tmp_path):
    command = [sys.executable, "-m", "conformance", "run", "--mode", "live", "--trials", "1"]
    code, output = run_in_pty([*command, "--report-dir", str(tmp_path / "report")], tmp_path, _env(tmp_path))
    text = output.decode("utf-8", errors="replace")
    assert code == 0, text[-2000:]
    # redrawn in place (carriage return and erase line), not printed line after line
    assert b"\r\x1b[2K" in output
    assert re.search(r"\d+/≤\d+ requests", text)
    assert "ETA " in text
    assert re.search(r"\(row \d+/27\)", text)
    # taken down at the end, leaving a line of what was sent, then the summary table
    assert re.search(r"\d+ requests in \d+ s, 0 retried after a 429, 0 failures", text)
    assert "exit 0: no MUST-level failure" in text
    assert not PYTEST_PROGRESS.search(text), text[:2000]


@pytest.mark.e2e
def test_a_log_gets_a_plain_line_per_row_without_ansi_or_pytest_paths(cli):
    run = cli("run", "--mode", "live", "--trials", "1")
    assert run.code == 0, run.stdout + run.stderr
    output = run.stdout + run.stderr
    assert not ANSI.search(output.encode())
    assert not PYTEST_PROGRESS.search(output), output[:2000]
    lines = [line for line in run.stderr.splitlines() if "(row " in line]
    # one line per row, in the table's order, each once
    assert [line.split(" (row ")[0] for line in lines][:2] == ["Models", "Chat completions"]
    assert len(lines) == len({line.split(" (row ")[0] for line in lines}) == 27
    assert all(re.search(r"\d+/≤\d+ requests · \d+ failures? so far", line) for line in lines)
    assert "exit 0: no MUST-level failure" in run.stdout


@pytest.mark.e2e
@pytest.mark.parametrize("ask", [["--pytest-output"], ["--", "-v"]])
def test_pytest_output_is_shown_when_asked_for(cli, ask):
    run = cli("run", *ask)  # a replay: quick
    assert run.code == 0, run.stdout + run.stderr
    assert "suite/test_models.py" in run.stdout
    assert "conformance" in run.stdout.split("suite/test_models.py")[-1]  # the summary still follows


def test_durations_read_as_people_say_them():
    assert [duration(s) for s in (0.4, 42, 65, 3600 + 125)] == ["0 s", "42 s", "1 min 05 s", "1 h 02 min"]
