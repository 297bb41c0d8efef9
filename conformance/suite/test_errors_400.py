"""Feature row `errors-400`."""

from conformance.suite import row_test

test_errors_400 = row_test("errors-400")
