"""Feature row `models`: one test per registered check."""

import pytest

from conformance.registry import Check, checks_of


@pytest.mark.parametrize("check", checks_of("models"), ids=lambda check: check.id)
def test_models(check: Check, conformance_check) -> None:
    conformance_check(check)
