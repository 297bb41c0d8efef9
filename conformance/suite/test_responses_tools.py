"""Feature row `responses-tools`."""

from conformance.suite import row_test

test_responses_tools = row_test("responses-tools")
