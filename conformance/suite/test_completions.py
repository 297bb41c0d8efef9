"""Feature row `completions`."""

from conformance.suite import row_test

test_completions = row_test("completions")
