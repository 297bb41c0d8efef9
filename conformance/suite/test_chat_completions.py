"""Feature row `chat-completions`: one test per registered check."""

import pytest

from conformance.registry import Check, checks_of


@pytest.mark.parametrize("check", checks_of("chat-completions"), ids=lambda check: check.id)
def test_chat_completions(check: Check, conformance_check) -> None:
    conformance_check(check)
