"""The suite's pytest modules: one per feature row, each parametrised over the row's checks.

They are run by ``conformance run`` (or ``pytest -p conformance.plugin --pyargs conformance.suite``);
the plugin supplies the ``conformance_check`` fixture that judges one check.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from conformance.registry import Check, checks_of


def row_test(row: str) -> Callable[..., None]:
    """The test function of a row: one parametrised case per registered check, named by check id."""

    @pytest.mark.parametrize("check", checks_of(row), ids=lambda check: check.id)
    def test_row(check: Check, conformance_check: Callable[[Check], None]) -> None:
        conformance_check(check)

    test_row.__name__ = f"test_{row.replace('-', '_')}"
    return test_row
