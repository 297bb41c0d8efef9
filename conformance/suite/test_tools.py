"""Feature row `tools`."""

from conformance.suite import row_test

test_tools = row_test("tools")
