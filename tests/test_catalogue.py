"""The catalogue of checks keeps its own rules: every check is unit-tested, claims are indicative,
and the data that names checks (dialects, sources) names real ones."""

from __future__ import annotations

import re
from pathlib import Path

from conformance.dialects import available_dialects, load_dialect
from conformance.registry import CHECKS, PROBES, load_all
from conformance.rows import ROW_IDS

TESTS = Path(__file__).resolve().parent
load_all()


def test_every_check_is_judged_by_a_unit_test():
    text = "".join(path.read_text() for path in TESTS.glob("test_checks_*.py"))
    untested = sorted(check_id for check_id in CHECKS if check_id not in text)
    assert untested == []


def test_claims_state_behaviour_in_the_indicative():
    for check in CHECKS.values():
        assert not re.search(r"\b(should|must)\b", check.claim, re.IGNORECASE), check.id
        assert check.claim.endswith((".", ")")), check.id


def test_check_ids_are_row_and_function():
    for check_id, check in CHECKS.items():
        row, name = check_id.split(".", 1)
        assert row == check.row
        assert row in ROW_IDS
        assert re.fullmatch(r"[a-z][a-z0-9_]*", name), check_id


def test_every_dialect_deviation_names_a_registered_check():
    for name in available_dialects():
        for check_id in load_dialect(name).deviations:
            assert check_id in CHECKS, f"{name}: {check_id}"


def test_probe_ids_start_with_their_row():
    for probe_id, probe in PROBES.items():
        assert probe_id.startswith(f"{probe.row}/")


def test_every_probe_is_needed_by_a_check():
    needed = {need for check in CHECKS.values() for need in check.needs}
    assert sorted(set(PROBES) - needed) == []
