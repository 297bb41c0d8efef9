"""Live runs that stay within the target's limits and send each request once: against a reference
server that enforces a per-key limit, and under pytest-xdist."""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from datetime import datetime
from pathlib import Path

import pytest
from helpers import Cli, Run

from conformance.reference import ReferenceConfig, ReferenceServer

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.e2e


def statuses(run) -> dict[str, str]:
    assert run.code in (0, 1), run.stdout + run.stderr
    return run.verdicts()


def profile(tmp_path: Path, rpm: int) -> Path:
    """The reference profile declaring ``rpm`` requests a minute, without the rate-limit burst (its
    unpaced requests would meet the key's limit, whose 429s are judged as they are)."""
    text = (ROOT / "targets" / "reference.toml").read_text()
    text = text.replace("[limits]\n", f"[limits]\nrequests_per_minute = {rpm}\n")
    text = re.sub(r"(?m)^probe = true$", "probe = false", text)
    path = tmp_path / f"reference-{rpm}.toml"
    path.write_text(text)
    return path


def run_against(cli: Cli, tmp_path: Path, rpm: int, config: ReferenceConfig) -> Run:
    key = next(iter(config.api_keys))
    with ReferenceServer(config) as server:
        return cli(
            "run",
            "--target",
            str(profile(tmp_path, rpm)),
            "--base-url",
            server.base_url,
            env={"REFERENCE_API_KEY": key},
            timeout=300,
        )


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> Run:
    """A plain live run against an unlimited reference server."""
    tmp_path = tmp_path_factory.mktemp("clean")
    return run_against(Cli(tmp_path), tmp_path, 6000, ReferenceConfig(api_keys=frozenset({"sk-clean"})))


def limited_run(cli: Cli, tmp_path: Path, clean: Run, *, declared_rpm: int, style: str) -> dict:
    """A run against a server allowing each key 20 requests a second, announced in ``style``; its
    verdicts must be the clean run's. Returns the report's ``run``."""
    config = ReferenceConfig(api_keys=frozenset({"sk-limited"}), key_limit=(20, 1.0), key_limit_style=style)
    limited = run_against(cli, tmp_path, declared_rpm, config)
    assert statuses(limited) == statuses(clean)
    return limited.report


def test_a_declared_limit_that_matches_the_target_meets_no_429(cli, tmp_path, clean):
    # 20 a second, announced the Llama API way (limit and remaining, no reset time), declared as 1200 a minute
    run = limited_run(cli, tmp_path, clean, declared_rpm=1200, style="llama")["run"]
    assert run["retries_after_429"] == 0
    assert run["requests_sent"] == run["exchanges_made"] == clean.report["run"]["requests_sent"]
    # the declared rate spaces the starts: about 108 of them at 20 a second, 4 threads waiting
    assert run["waited_for_limits"] > 2


def test_an_undeclared_limit_costs_retries_not_verdicts(cli, tmp_path, clean):
    # the profile claims 6000 a minute; the server allows 20 a second and says nothing but 429
    report = limited_run(cli, tmp_path, clean, declared_rpm=6000, style="silent")
    run = report["run"]
    assert run["retries_after_429"] > 0
    # a retried request is sent again, but judged once
    assert run["requests_sent"] == run["exchanges_made"] + run["retries_after_429"]
    assert run["exchanges_made"] == clean.report["run"]["exchanges_made"]
    # none of the suite's own 429s is judged: the run met none
    judged = [c for c in report["checks"] if c["id"] == "errors-rate-limit.every_429_is_well_formed"]
    assert judged[0]["status"] == "skipped"
    assert judged[0]["message"] == "the run met no 429"


def test_xdist_shares_the_exchanges_of_a_live_run(cli, tmp_path):
    alone = cli("run", "--mode", "live")
    shared_tmp = tmp_path / "tmp"
    shared_tmp.mkdir()
    parallel = cli("run", "--mode", "live", "--", "-n", "2", env={"TMPDIR": str(shared_tmp)})
    assert statuses(parallel) == statuses(alone)
    run = parallel.report["run"]
    assert run["requests_sent"] == run["exchanges_made"] == alone.report["run"]["requests_sent"]
    assert parallel.report["run"]["complete"] is True
    # the report cites the same exchanges, whichever process made them
    assert set(parallel.report["exchanges"]) == set(alone.report["exchanges"])
    assert "2 pytest-xdist workers" in parallel.stderr
    # the folder the processes shared is gone
    assert not list(shared_tmp.glob("conformance-shared-*"))
    # the burst, which exhausts a model's limit, starts after every other check's exchanges ended
    evidence = parallel.report["exchanges"]
    burst = [e for exchange_id, e in evidence.items() if exchange_id.startswith("errors-rate-limit/")]
    others = [e for exchange_id, e in evidence.items() if not exchange_id.startswith("errors-rate-limit/")]
    assert burst
    first_burst = min(datetime.fromisoformat(e["started_at"]).timestamp() for e in burst)
    last_other = max(datetime.fromisoformat(e["started_at"]).timestamp() + e["elapsed"] for e in others)
    assert first_burst >= last_other - 0.002


def test_xdist_records_what_a_single_process_replays(cli, tmp_path):
    cassettes = tmp_path / "cassettes"
    recorded = cli("run", "--mode", "record", "--cassette-dir", str(cassettes), "--", "-n", "2")
    replayed = cli("run", "--cassette-dir", str(cassettes))
    replayed_in_parallel = cli("run", "--cassette-dir", str(cassettes), "--", "-n", "2")
    assert statuses(recorded) == statuses(replayed) == statuses(replayed_in_parallel)
    assert replayed.code == 0, replayed.stdout
    assert recorded.report["run"]["requests_sent"] == recorded.report["run"]["exchanges_made"]
    assert replayed.report["run"]["complete"]
    assert replayed_in_parallel.report["run"]["complete"]


def test_a_replay_imports_neither_hypothesis_nor_the_server():
    """Replays judge recorded requests: nothing is generated and no server is started."""
    code = (
        "import sys, pytest\n"
        "from conformance.cli import main\n"
        "code = main(['run', '--report-dir', sys.argv[1]])\n"
        "loaded = [m for m in ('hypothesis', 'uvicorn', 'starlette') if m in sys.modules]\n"
        "print(code, loaded)\n"
    )
    with tempfile.TemporaryDirectory() as report_dir:
        done = subprocess.run(
            [sys.executable, "-c", code, report_dir], capture_output=True, text=True, timeout=120, cwd=ROOT
        )
    assert done.stdout.strip().splitlines()[-1] == "0 []", done.stdout + done.stderr
