"""The GitHub Action (action.yml) runs as GitHub would run it: its shell lines, parsed from the file,
with the inputs, outputs, step summary and `if: always()` of a composite action, against the bundled
targets. The `uses:` steps (setup-python, upload-artifact) are GitHub's, and the install step is
the package install the tests already run on; everything that decides is here."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
ACTION = yaml.safe_load((ROOT / "action.yml").read_text())
EXPRESSION = re.compile(r"\$\{\{\s*([^}]+?)\s*\}\}")


@dataclass
class ActionRun:
    steps: dict[str, int | None] = field(default_factory=dict)  # step name -> exit code (None: skipped)
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)
    summary: str = ""
    log: str = ""

    @property
    def failed(self) -> bool:
        return any(code not in (None, 0) for code in self.steps.values())


def _evaluate(text: str, inputs: dict[str, str], outputs: dict[str, dict[str, str]]) -> str:
    def value(match: re.Match[str]) -> str:
        expression = match.group(1)
        if expression.startswith("inputs."):
            return inputs[expression.removeprefix("inputs.")]
        if expression == "github.action_path":
            return str(ROOT)
        step, _, name = expression.removeprefix("steps.").partition(".outputs.")
        if expression.startswith("steps.") and name:
            return outputs.get(step, {}).get(name, "")
        raise AssertionError(f"the test cannot evaluate ${{{{ {expression} }}}}")

    return EXPRESSION.sub(value, str(text))


def run_action(tmp_path: Path, **given: str) -> ActionRun:
    declared = ACTION["inputs"]
    unknown = set(given) - {name.replace("-", "_") for name in declared}
    assert not unknown, unknown
    inputs = {name: given.get(name.replace("-", "_"), spec.get("default", "")) for name, spec in declared.items()}
    result = ActionRun()
    path = str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"]
    for number, step in enumerate(ACTION["runs"]["steps"]):
        name = step.get("id") or step.get("name") or step["uses"]
        if "uses" in step or step.get("id") == "install":
            result.steps[name] = 0 if "uses" in step else None
            continue
        if result.failed and step.get("if") != "always()":
            result.steps[name] = None
            continue
        output = tmp_path / f"output-{number}"
        output.touch()
        environment = {k: v for k, v in os.environ.items() if not k.startswith(("CONFORMANCE_", "GITHUB_"))}
        environment.update(
            PATH=path,
            GITHUB_OUTPUT=str(output),
            GITHUB_STEP_SUMMARY=str(tmp_path / "summary.md"),
            **{key: _evaluate(value, inputs, result.outputs) for key, value in step.get("env", {}).items()},
        )
        assert "${{" not in step["run"], f"{name}: expressions belong in env:, not in the shell lines"
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
            env=environment,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=600,
        )
        result.steps[name] = done.returncode
        result.log += done.stdout + done.stderr
        pairs = [line.split("=", 1) for line in output.read_text().splitlines() if "=" in line]
        result.outputs[step.get("id", name)] = dict(pairs)
    summary = tmp_path / "summary.md"
    result.summary = summary.read_text() if summary.exists() else ""
    return result


def test_the_action_is_composite_and_its_steps_are_what_github_runs():
    assert ACTION["runs"]["using"] == "composite"
    uses = [step["uses"] for step in ACTION["runs"]["steps"] if "uses" in step]
    assert uses == ["actions/setup-python@v5", "actions/upload-artifact@v4"]
    for step in ACTION["runs"]["steps"]:
        assert step.get("if", "always()") == "always()"
        if "run" in step:
            assert step["shell"] == "bash"
    assert set(ACTION["outputs"]) == {"exit-code", "report"}


def test_a_replay_of_the_reference_passes_every_gate(tmp_path):
    baseline = str(ROOT / "targets" / "reference.baseline.json")
    run = run_action(tmp_path, target="reference", mode="replay", baseline=baseline, fail_on="must,should,regression")
    assert not run.failed, run.log
    assert run.outputs["run"] == {"exit-code": "0", "report": "conformance-report/report.json"}
    assert run.summary.startswith("# Conformance of `reference`")
    assert "gate passed" in run.log
    assert (tmp_path / "conformance-report" / "report.html").is_file()


@pytest.mark.parametrize(
    ("fail_on", "fails", "says"),
    [
        ("must", True, "MUST-level conformance failures"),
        ("should", True, "SHOULD-level failures"),
        ("regression", False, "gate passed"),
        ("none", False, ""),
        ("must, regression", True, "MUST-level conformance failures"),
    ],
)
def test_what_fails_the_job_is_the_fail_on_input(tmp_path, fail_on, fails, says):
    baseline = str(ROOT / "targets" / "litellm.baseline.json")
    run = run_action(tmp_path, target="litellm", baseline=baseline, fail_on=fail_on)
    assert run.outputs["run"]["exit-code"] == "1"  # a verdict about the target: the run step passes
    assert run.steps["run"] == 0
    assert (run.steps["judge"] != 0) is fails, run.log
    assert says in run.log
    assert "# Conformance of `litellm`" in run.summary  # the summary is written whatever fails


def test_a_run_that_reached_no_verdict_fails_at_once_and_still_summarises(tmp_path):
    run = run_action(tmp_path, target="no-such-target")
    assert run.steps["run"] == 2
    assert "the run ended with exit code 2 (not a conformance verdict)" in run.log
    assert run.steps["Step summary"] == 0
    assert run.steps["judge"] is None
    assert run.summary == ""


@pytest.mark.parametrize(
    ("fail_on", "says"),
    [("regression", "fail-on regression needs the baseline input"), ("typo", "unknown fail-on value 'typo'")],
)
def test_a_fail_on_the_action_cannot_judge_is_refused(tmp_path, fail_on, says):
    run = run_action(tmp_path, target="reference", fail_on=fail_on)
    assert run.steps["judge"] == 2
    assert says in run.log


def test_inputs_become_options(tmp_path):
    run = run_action(tmp_path, target="reference", trials="9", mode="replay")
    # the replay has five trials recorded: asking for nine is a cassette problem, so the option was passed
    assert run.steps["run"] == 2
    assert "no recording of exchange" in (tmp_path / "conformance-report" / "report.md").read_text()
