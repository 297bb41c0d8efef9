"""Feature row `responses`."""

from conformance.suite import row_test

test_responses = row_test("responses")
