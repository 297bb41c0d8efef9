"""Feature row `responses-structured-output`."""

from conformance.suite import row_test

test_responses_structured_output = row_test("responses-structured-output")
