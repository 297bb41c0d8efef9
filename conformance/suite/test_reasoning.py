"""Feature row `reasoning`."""

from conformance.suite import row_test

test_reasoning = row_test("reasoning")
