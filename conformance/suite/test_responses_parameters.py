"""Feature row `responses-parameters`."""

from conformance.suite import row_test

test_responses_parameters = row_test("responses-parameters")
