"""Feature row `responses-reasoning`."""

from conformance.suite import row_test

test_responses_reasoning = row_test("responses-reasoning")
