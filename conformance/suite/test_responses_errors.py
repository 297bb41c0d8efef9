"""Feature row `responses-errors`."""

from conformance.suite import row_test

test_responses_errors = row_test("responses-errors")
