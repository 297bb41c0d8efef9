"""Feature row `structured-output`."""

from conformance.suite import row_test

test_structured_output = row_test("structured-output")
