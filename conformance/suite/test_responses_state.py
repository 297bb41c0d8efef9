"""Feature row `responses-state`."""

from conformance.suite import row_test

test_responses_state = row_test("responses-state")
