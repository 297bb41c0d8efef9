"""Feature row `errors-not-found`."""

from conformance.suite import row_test

test_errors_not_found = row_test("errors-not-found")
