"""Feature row `errors-rate-limit`."""

from conformance.suite import row_test

test_errors_rate_limit = row_test("errors-rate-limit")
