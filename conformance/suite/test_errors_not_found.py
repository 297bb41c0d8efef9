"""Feature row `errors-not-found`: one test per registered check."""

import pytest

from conformance.registry import Check, checks_of


@pytest.mark.parametrize("check", checks_of("errors-not-found"), ids=lambda check: check.id)
def test_errors_not_found(check: Check, conformance_check) -> None:
    conformance_check(check)
